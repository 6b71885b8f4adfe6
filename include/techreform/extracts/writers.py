"""Writing a table as Parquet, CSV and XLSX bytes, and the digest of its content.

- **Parquet** (pyarrow) with an explicit schema: codes as ``string`` (leading zeros survive), amounts as
  ``float64``, counts as ``int64``; each field's metadata holds its Chinese and English name and unit,
  the schema's metadata the table's Chinese title and ``{column: Chinese name}`` as JSON.
- **CSV**: UTF-8 with a BOM (spreadsheet programs then read the Chinese), canonical column names.
- **XLSX** (xlsxwriter): a sheet per table, header row (Chinese name over the column name) styled and
  frozen, filters, column widths, number formats with thousands separators.

Formula safety (CSV and XLSX): a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading apostrophe ``'`` (OWASP's advice against CSV injection), so no spreadsheet
runs it; in the workbook it is also written as a string cell with Excel's quote prefix. Numbers stay
numbers (a negative profit is a number, never text). Parquet keeps the text unchanged: it is data for
programs, not for spreadsheets.

The digest (:func:`content_digest`) is of the values, in key order — not of file bytes, which embed
writer versions and times — so a re-run with unchanged content is recognised whatever the writers do."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import numbers
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from techreform.extracts.tables import TableSpec

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ARROW_TYPES = {"string": pa.string(), "float64": pa.float64(), "int64": pa.int64(), "bool": pa.bool_()}
WORKBOOK_TIME = dt.datetime(2000, 1, 1)
"""The creation time written into workbooks, fixed so that the same content gives the same bytes."""


def inert(text: str) -> str:
    """``text`` made harmless for a spreadsheet: prefixed with ``'`` when it begins like a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def arrow_schema(spec: TableSpec) -> pa.Schema:
    fields = [
        pa.field(
            c.name,
            _ARROW_TYPES[c.type],
            nullable=c.name not in spec.key,
            metadata={"name_zh": c.name_zh, "name_en": c.name_en, "unit": c.unit},
        )
        for c in spec.columns
    ]
    return pa.schema(
        fields,
        metadata={
            "table": spec.name,
            "title_zh": spec.title_zh,
            "title_en": spec.title_en,
            "key": ",".join(spec.key),
            "columns_zh": json.dumps({c.name: c.name_zh for c in spec.columns}, ensure_ascii=False),
        },
    )


def arrow_table(spec: TableSpec, frame: pd.DataFrame) -> pa.Table:
    arrays = [
        pa.array(frame[c.name].astype(object).where(frame[c.name].notna(), None).tolist(), type=_ARROW_TYPES[c.type])
        for c in spec.columns
    ]
    return pa.Table.from_arrays(arrays, schema=arrow_schema(spec))


def parquet_bytes(spec: TableSpec, frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(arrow_table(spec, frame), buffer, compression="zstd")
    return buffer.getvalue()


def _csv_cell(value: object, type_: str) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if type_ == "string":
        return inert(str(value))
    if type_ == "bool":
        return 1 if value else 0
    return value


def csv_bytes(spec: TableSpec, frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM; empty for null; booleans as 1/0; text made formula-safe."""
    safe = pd.DataFrame(
        {c.name: [_csv_cell(v, c.type) for v in frame[c.name].astype(object)] for c in spec.columns},
        columns=spec.column_names,
    )
    for c in spec.columns:
        if c.type in ("int64", "bool"):
            safe[c.name] = pd.array(safe[c.name].tolist(), dtype="Int64")
    text = safe.to_csv(index=False, lineterminator="\r\n")
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def xlsx_bytes(tables: Iterable[tuple[TableSpec, pd.DataFrame]], sheet_names: Mapping[str, str] | None = None) -> bytes:
    """One workbook, a sheet per table (named by the table, or ``sheet_names[table]``)."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
        },
    )
    book.set_properties({"title": "企业技术改造统计数据", "author": "techreform", "created": WORKBOOK_TIME})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    formats = {
        "float64": book.add_format({"num_format": "#,##0.00"}),
        "int64": book.add_format({"num_format": "#,##0"}),
        "string": book.add_format({"num_format": "@"}),
        "bool": None,
    }
    quoted = book.add_format({"num_format": "@", "quote_prefix": True})
    for spec, frame in tables:
        sheet = book.add_worksheet((sheet_names or {}).get(spec.name, spec.name)[:31])
        widths = []
        for j, c in enumerate(spec.columns):
            sheet.write_string(0, j, f"{c.name_zh}\n{c.name}", header)
            widths.append(max(_display_width(c.name_zh), len(c.name)) + 2)
        for i, row in enumerate(frame[spec.column_names].astype(object).itertuples(index=False), start=1):
            for j, (c, value) in enumerate(zip(spec.columns, row, strict=True)):
                if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                    continue
                if c.type == "string":
                    text = inert(str(value))
                    sheet.write_string(i, j, text, quoted if text != str(value) else formats["string"])
                    widths[j] = max(widths[j], min(_display_width(text) + 2, 60))
                elif c.type == "bool":
                    sheet.write_boolean(i, j, bool(value))
                else:
                    sheet.write_number(i, j, float(value) if c.type == "float64" else int(value), formats[c.type])
                    widths[j] = max(widths[j], min(len(f"{float(value):,.2f}") + 2, 30))
        for j, width in enumerate(widths):
            sheet.set_column(j, j, width)
        sheet.set_row(0, 32)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(frame), 1), len(spec.columns) - 1)
    book.close()
    return buffer.getvalue()


def canonical_value(value: object) -> object:
    """A value as the digest and the change comparison see it: ``None`` for every null, floats by repr."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


def canonical_rows(spec: TableSpec, frame: pd.DataFrame) -> dict[tuple, tuple]:
    """``{key values: all values}`` of a table (what revisions are compared on)."""
    values = frame[spec.column_names].astype(object).itertuples(index=False, name=None)
    positions = [spec.column_names.index(k) for k in spec.key]
    out = {}
    for row in values:
        clean = tuple(canonical_value(v) for v in row)
        out[tuple(clean[p] for p in positions)] = clean
    return out


def content_digest(spec: TableSpec, frame: pd.DataFrame) -> str:
    """sha256 of the table's columns, types and rows in key order (independent of files and times)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[c.name, c.type] for c in spec.columns]).encode())
    rows = canonical_rows(spec, frame)
    for key in sorted(rows, key=lambda k: json.dumps(k, ensure_ascii=False, default=str)):
        digest.update(b"\n" + json.dumps(rows[key], ensure_ascii=False, default=str).encode("utf-8"))
    return digest.hexdigest()
