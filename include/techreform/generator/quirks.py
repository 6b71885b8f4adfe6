"""Cells as reporting units write them (填报习惯): harmless quirks that readers must normalise.

Numbers get thousands separators (``1,234.5``), full-width digits and punctuation (``１２３．５``) or
surrounding spaces; nulls are written as empty, ``-`` or ``—``; booleans as 是/否, Y/N or 1/0 (one style
per file); months as ``2013-06``, ``2013-6``, ``2013年6月``, ``201306``, or in XLSX an Excel date cell.
Codes (uscc, region, industry, project code) are always plain text."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from techreform.forms import Field

CODE_FIELDS = frozenset({"uscc", "region_code", "industry_code", "project_code"})
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


def format_amounts(values: np.ndarray, integer: bool = False) -> np.ndarray:
    """Vectorised :func:`number_text`: at most two decimals, no trailing zeros; NaN gives ''."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return np.array([], dtype=object)
    nan = np.isnan(v)
    cents = np.round(np.where(nan, 0.0, np.abs(v)) * 100).astype(np.int64)
    whole = (cents // 100).astype(str)
    frac = cents % 100
    tenths = (frac // 10).astype(str)
    two = np.char.zfill(frac.astype(str), 2)
    text = np.where(
        frac == 0,
        whole,
        np.where(
            frac % 10 == 0, np.char.add(np.char.add(whole, "."), tenths), np.char.add(np.char.add(whole, "."), two)
        ),
    )
    negative = (v < 0) & (cents > 0)
    text = np.where(negative, np.char.add("-", text), text)
    return np.where(nan, "", text).astype(object)


def render_column(
    field: Field,
    values: list[object],
    rng: np.random.Generator,
    quirk_share: float,
    xlsx: bool,
    boolean_style: tuple[str, str],
) -> list[object]:
    """Cells of one column: ``str`` for CSV; for XLSX also numbers (``float``/``int``) and dates, ``None`` = empty.

    Vectorised: only the few quirky and null cells are handled one by one."""
    n = len(values)
    quirk = rng.random(n) < quirk_share
    null_pick = rng.integers(0, 10, n)  # 0..6 empty, 7..8 '-', 9 '—'
    ftype = field.type
    if ftype in ("decimal", "integer"):
        try:
            v = np.array(values, dtype=float)  # None → NaN
        except (TypeError, ValueError):
            v = np.asarray(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"), dtype=float)
        null = np.isnan(v)
        text = format_amounts(v, integer=ftype == "integer")
        if xlsx:
            out = np.array(v.tolist(), dtype=object)
            if ftype == "integer":
                whole = ~null & (v == np.round(v))
                out[whole] = [int(x) for x in v[whole]]
        else:
            out = text
        for i in np.flatnonzero(quirk & ~null):
            out[i] = _quirky_number(text[i], float(v[i]), rng)
    else:
        raw = np.array(values, dtype=object)
        null = pd.isna(raw)
        if ftype == "boolean":
            flags = np.array([bool(int(x)) if not nulls else False for x, nulls in zip(raw, null, strict=True)])
            out = np.where(flags, boolean_style[0], boolean_style[1]).astype(object)
        else:
            out = raw.copy()
            plain = ~null & ~quirk
            if plain.any():
                out[plain] = [str(x) for x in raw[plain]]
            for i in np.flatnonzero(quirk & ~null):
                text = str(raw[i])
                if ftype == "period":
                    if xlsx and rng.random() < 0.5:
                        out[i] = dt.date(int(text[:4]), int(text[5:7]), 1)
                    else:
                        out[i] = month_text(text, int(rng.integers(1, 4)))
                elif field.name not in CODE_FIELDS and field.name != "email":
                    out[i] = f" {text} "
                else:
                    out[i] = text
    for i in np.flatnonzero(null):
        token = "" if null_pick[i] <= 6 else ("-" if null_pick[i] <= 8 else "—")
        out[i] = None if (xlsx and token == "") else token
    return out.tolist()
