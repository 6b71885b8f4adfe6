"""The tables of an e-mail as an ``.xlsx`` attachment (one sheet per table).

Text is always written as text (``write_string``), so a name beginning with ``=`` can never become a
formula; numbers stay numbers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import xlsxwriter

INERT_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _inert(text: str) -> str:
    """Prefix a text cell that a spreadsheet could take for a formula with an apostrophe."""
    return "'" + text if text.startswith(INERT_PREFIXES) else text


def workbook_bytes(sheets: Sequence[tuple[str, Sequence[tuple[str, str]], Sequence[dict[str, Any]]]]) -> bytes:
    """An xlsx of ``(sheet name, [(key, header)], rows)`` tables."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    for name, columns, rows in sheets:
        sheet = book.add_worksheet(name[:31])
        for col, (_, header) in enumerate(columns):
            sheet.write_string(0, col, header, bold)
            sheet.set_column(col, col, max(10, min(40, len(header) * 2 + 2)))
        for r, row in enumerate(rows, start=1):
            for col, (key, _) in enumerate(columns):
                value = row.get(key)
                if value is None or value == "":
                    sheet.write_blank(r, col, None)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    sheet.write_number(r, col, value)
                else:
                    sheet.write_string(r, col, _inert(str(value)))
        sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()
