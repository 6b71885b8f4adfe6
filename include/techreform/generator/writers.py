"""Delivery files: ``landing/<form>/<YYYY-MM>/<CODE>_<region>_<YYYY-MM>.<csv|xlsx>``.

Each file's format (UTF-8 CSV, UTF-8 with BOM, GB18030 CSV, XLSX), header style (Chinese 表头 or canonical
names), boolean style and whether it carries an unknown extra column (填表人) are drawn from the file's own
random stream, so a file does not change when other files do."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from techreform.forms import form as form_of

from .config import GeneratorConfig
from .names import person_name
from .quirks import BOOLEAN_STYLES, render_column
from .rand import rng_for

EXTRA_COLUMN = "填表人"
_ENCODINGS = {"csv-utf8": "utf-8", "csv-utf8-sig": "utf-8-sig", "csv-gb18030": "gb18030"}
_FIXED_TIME = dt.datetime(2010, 1, 1)


@dataclass(frozen=True)
class WrittenFile:
    form: str
    period: str
    file_name: str
    path: Path
    format: str
    header_style: str
    order: tuple[int, ...]  # frame index labels in the order written (data row k → spreadsheet row k+2)


def file_name(form_code: str, region: str, period: str, fmt: str) -> str:
    return f"{form_code}_{region}_{period}.{'xlsx' if fmt == 'xlsx' else 'csv'}"


def write_file(
    config: GeneratorConfig,
    landing: Path,
    form_code: str,
    period: str,
    region: str,
    rows: pd.DataFrame,
    raw: dict[int, dict[str, str]],
) -> WrittenFile:
    """Write one delivery file of ``rows`` (typed, in the order to write) with ``raw`` cell overrides."""
    form = form_of(form_code)
    rng = rng_for(config.seed, "file", form_code, period, region)
    names = [name for name, _ in config.file_formats]
    weights = np.array([w for _, w in config.file_formats], dtype=float)
    fmt = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    header_style = "canonical" if rng.random() < config.canonical_header_share else "zh"
    extra = rng.random() < config.extra_column_share
    booleans = BOOLEAN_STYLES[int(rng.choice(3, p=[0.6, 0.2, 0.2]))]
    xlsx = fmt == "xlsx"

    header = [f.name if header_style == "canonical" else f.header_zh for f in form.fields]
    columns = []
    index = [int(i) for i in rows.index]
    for f in form.fields:
        cells = render_column(f, rows[f.name].tolist(), rng, config.quirk_share, xlsx, booleans)
        for pos, idx in enumerate(index):
            override = raw.get(idx)
            if override and f.name in override:
                cells[pos] = override[f.name]
        columns.append(cells)
    if extra:
        header.append(EXTRA_COLUMN)
        filler = person_name(rng)
        columns.append([filler] * len(index))

    folder = landing / form.name / period
    folder.mkdir(parents=True, exist_ok=True)
    name = file_name(form_code, region, period, fmt)
    path = folder / name
    if xlsx:
        _write_xlsx(path, header, columns, form.title_zh)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        if index:
            writer.writerows(zip(*columns, strict=True))
        path.write_bytes(buffer.getvalue().encode(_ENCODINGS[fmt]))
    return WrittenFile(form_code, period, name, path, fmt, header_style, tuple(index))


def _write_xlsx(path: Path, header: list[str], columns: list[list[object]], title: str) -> None:
    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False, "in_memory": True},
    )
    book.set_properties({"title": title, "author": "techreform generator", "created": _FIXED_TIME})
    month = book.add_format({"num_format": "yyyy-mm"})
    sheet = book.add_worksheet("Sheet1")
    for c, text in enumerate(header):
        sheet.write_string(0, c, text)
    n = len(columns[0]) if columns else 0
    for r in range(n):
        for c, column in enumerate(columns):
            value = column[r]
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r + 1, c, value)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r + 1, c, dt.datetime(value.year, value.month, value.day), month)
            else:
                sheet.write_number(r + 1, c, value)
    book.close()
