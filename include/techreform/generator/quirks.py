"""Cells as reporting units write them (填报习惯): harmless quirks that readers must normalise.

Numbers get thousands separators (``1,234.5``), full-width digits and punctuation (``１２３．５``) or
surrounding spaces; nulls are written as empty, ``-`` or ``—``; booleans as 是/否, Y/N or 1/0 (one style
per file); months as ``2013-06``, ``2013-6``, ``2013年6月``, ``201306``, or in XLSX an Excel date cell.
Codes (uscc, region, industry, project code) are always plain text."""

from __future__ import annotations

import datetime as dt

import numpy as np

from techreform.forms import Field

CODE_FIELDS = frozenset({"uscc", "region_code", "industry_code", "project_code"})
NULL_TOKENS = ("", "-", "—")
_FULL_WIDTH = str.maketrans("0123456789.-,", "０１２３４５６７８９．－，")
BOOLEAN_STYLES = (("是", "否"), ("Y", "N"), ("1", "0"))


def number_text(value: float, integer: bool = False) -> str:
    """Plain text of an amount: at most two decimals, no trailing zeros (``1234.5``, ``-3``)."""
    if integer and float(value).is_integer():
        return str(int(value))
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _quirky_number(text: str, value: float, rng: np.random.Generator) -> str:
    kind = int(rng.integers(0, 3))
    if kind == 0 and abs(value) >= 1000:
        return number_text_with_separators(value)
    if kind == 1:
        return text.translate(_FULL_WIDTH)
    return f" {text} " if rng.random() < 0.5 else f"{text}  "


def number_text_with_separators(value: float) -> str:
    text = f"{value:,.2f}"
    return text.rstrip("0").rstrip(".")


def month_text(period: str, kind: int) -> str:
    """A month in one of the spellings seen in deliveries (0 = canonical)."""
    year, month = period[:4], int(period[5:7])
    return (period, f"{year}-{month}", f"{year}年{month}月", f"{year}{month:02d}")[kind]


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def render_column(field: Field, values: list[object], rng: np.random.Generator, quirk_share: float,
                  xlsx: bool, boolean_style: tuple[str, str]) -> list[object]:
    """Cells of one column: ``str`` for CSV; for XLSX also numbers (``float``/``int``) and dates, ``None`` = empty."""
    n = len(values)
    quirk = rng.random(n) < quirk_share
    null_pick = rng.integers(0, 10, n)  # 0..6 empty, 7..8 '-', 9 '—'
    out: list[object] = [None] * n
    ftype = field.type
    for i, value in enumerate(values):
        if _is_null(value):
            token = "" if null_pick[i] <= 6 else ("-" if null_pick[i] <= 8 else "—")
            out[i] = None if (xlsx and token == "") else token
            continue
        if ftype in ("decimal", "integer"):
            v = float(value)
            if xlsx and not quirk[i]:
                out[i] = int(v) if ftype == "integer" and v.is_integer() else v
                continue
            text = number_text(v, integer=ftype == "integer")
            out[i] = _quirky_number(text, v, rng) if quirk[i] else text
        elif ftype == "period":
            text = str(value)
            if xlsx and quirk[i] and rng.random() < 0.5:
                out[i] = dt.date(int(text[:4]), int(text[5:7]), 1)
            elif quirk[i]:
                out[i] = month_text(text, int(rng.integers(1, 4)))
            else:
                out[i] = text
        elif ftype == "boolean":
            out[i] = boolean_style[0] if int(value) else boolean_style[1]
        else:
            text = str(value)
            if quirk[i] and field.name not in CODE_FIELDS and field.name != "email":
                text = f" {text} "
            out[i] = text
    return out
