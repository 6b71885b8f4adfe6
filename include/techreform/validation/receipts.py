"""Review receipts (审核回执) per prefecture and period: a spreadsheet and an HTML page.

For every reporting unit of the prefecture: the rows it must correct (hard rules, 强制性审核 → 需更正)
and the rows it must explain (soft rules not yet explained, 核实性审核 → 需说明), by rule, with the
file, row, field, message and the values as received; then the counts by rule, and the enterprises
that did not report (缺报, from completeness). Rows a later delivery superseded need nothing any more
and are left out. Written to the store (``techreform.store``), ``outputs/receipts/<YYYY-MM>/``:
``receipt_<YYYY-MM>_<prefecture code>.xlsx`` and ``.html`` (rows whose prefecture cannot be told from
their codes go to ``receipt_<YYYY-MM>_unknown``). Every text in the HTML is escaped; spreadsheet cells
are written as strings, never as formulas.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.files import remove_partials
from techreform.forms import FORMS
from techreform.labels import SEVERITY_ZH
from techreform.periods import Period
from techreform.store import StorePath, list_files, remove, store_of, write_bytes, write_text
from techreform.warehouse import read_frame

ITEM_COLUMNS = [
    ("form_title", "报表"),
    ("file_name", "文件"),
    ("source_row", "行号"),
    ("record_key", "统一社会信用代码/项目代码"),
    ("unit_name", "单位/项目名称"),
    ("rule_id", "审核规则"),
    ("severity_zh", "审核类别"),
    ("action", "需处理"),
    ("field", "字段"),
    ("received", "收到的值"),
    ("message", "问题说明"),
]
MISSING_COLUMNS = [
    ("uscc", "统一社会信用代码"),
    ("enterprise_name", "企业名称"),
    ("county_name", "县区"),
    ("region_code", "行政区划代码"),
    ("contact_email", "统计联系人邮箱"),
]
ACTION_ZH = {"hard": "需更正", "soft": "需说明"}
UNKNOWN = ("unknown", "无法识别所属市州")


def _received_text(received_json: str) -> str:
    try:
        values = json.loads(received_json or "{}")
    except ValueError:
        return received_json or ""
    return "；".join(f"{k}={'空' if v in (None, '') else v}" for k, v in values.items())


def _items(engine: Engine, period: str) -> pd.DataFrame:
    with engine.connect() as conn:
        items = read_frame(conn, "marts/quality/receipt_items", period=period)
    items["form_title"] = [f"{c} {FORMS[c].title_zh}" for c in items["form"]]
    items["severity_zh"] = items["severity"].map(SEVERITY_ZH)
    items["action"] = items["severity"].map(ACTION_ZH)
    items["received"] = items["received_json"].map(_received_text)
    items["prefecture_code"] = items["prefecture_code"].fillna("").replace("", UNKNOWN[0])
    return items


def _by_rule(items: pd.DataFrame) -> pd.DataFrame:
    if items.empty:
        return pd.DataFrame(columns=["审核规则", "审核类别", "需处理", "行数"])
    counts = items.groupby(["rule_id", "severity"], as_index=False).size()
    return pd.DataFrame(
        {
            "审核规则": counts["rule_id"],
            "审核类别": counts["severity"].map(SEVERITY_ZH),
            "需处理": counts["severity"].map(ACTION_ZH),
            "行数": counts["size"],
        }
    )


def _write_xlsx(path: StorePath, title: str, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> None:
    """The workbook built in memory, then written to the store complete or absent."""
    buffer = io.BytesIO()
    _fill_workbook(buffer, title, sheets)
    write_bytes(path, buffer.getvalue(), fault="during_receipt_write")


def _fill_workbook(path: Path | io.BytesIO, title: str, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> None:
    import xlsxwriter

    target = path if isinstance(path, io.BytesIO) else str(path)
    workbook = xlsxwriter.Workbook(target, {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True})
    bold = workbook.add_format({"bold": True})
    for name, headers, rows in sheets:
        sheet = workbook.add_worksheet(name)
        sheet.write_string(0, 0, title, bold)
        for col, header in enumerate(headers):
            sheet.write_string(1, col, header, bold)
        for r, row in enumerate(rows, start=2):
            for col, value in enumerate(row):
                value = value.item() if hasattr(value, "item") else value
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
                    sheet.write_number(r, col, value)
                else:
                    sheet.write_string(r, col, "" if value is None else str(value))
        sheet.set_column(0, max(len(headers) - 1, 0), 18)
    workbook.close()


def _html_table(headers: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p>无。</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _write_html(
    path: StorePath, title: str, sections: list[tuple[str, list[str], list[list[Any]]]], summary: str
) -> None:
    parts = [f"<h2>{html.escape(name)}</h2>{_html_table(headers, rows)}" for name, headers, rows in sections]
    write_text(
        path,
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}"
        "td,th{border:1px solid #999;padding:2px 6px;font-size:13px}th{background:#eee}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(summary)}</p>{''.join(parts)}</body></html>\n",
    )


def write_receipts(engine: Engine, settings: Settings, period: Period | str) -> list[StorePath]:
    """Write the period's receipts, one ``.xlsx`` and one ``.html`` per prefecture with anything to
    correct, explain or report; returns the paths written (each file replaced atomically; earlier receipts of the period no longer needed are removed)."""
    period = Period.parse(period)
    p = str(period)
    items = _items(engine, p)
    with engine.connect() as conn:
        prefectures = dict(read_frame(conn, "staging/reference/prefectures").itertuples(index=False, name=None))
        missing = read_frame(conn, "marts/quality/missing_reporters_of_period", period=p)
        completeness = read_frame(conn, "marts/quality/completeness_of_period", period=p)
    prefectures[UNKNOWN[0]] = UNKNOWN[1]
    folder = store_of(settings).receipts_dir(p)
    remove_partials(folder)
    earlier = set(list_files(folder, "receipt_*"))
    written: list[Path] = []
    codes = sorted(set(items["prefecture_code"]) | set(missing["prefecture_code"].dropna()))
    item_headers = [h for _, h in ITEM_COLUMNS]
    missing_headers = [h for _, h in MISSING_COLUMNS]
    for code in codes:
        name = prefectures.get(code, code)
        part = items[items["prefecture_code"] == code]
        hard = part[part["severity"] == "hard"]
        soft = part[part["severity"] == "soft"]
        absent = missing[missing["prefecture_code"] == code]
        rate = completeness[completeness["prefecture_code"] == code]
        title = f"{period.label_zh} {name}（{code}）技术改造统计审核回执"
        summary = (
            f"需更正 {hard[['form', 'file_name', 'source_row']].drop_duplicates().shape[0]} 行，"
            f"需说明 {soft[['form', 'file_name', 'source_row']].drop_duplicates().shape[0]} 行，"
            f"缺报企业 {len(absent)} 家"
        )
        if not rate.empty and rate["expected"].iloc[0]:
            summary += f"，E1 报送率 {rate['received'].iloc[0]}/{rate['expected'].iloc[0]}"
        by_rule = _by_rule(part)
        sections = [
            ("需更正（强制性审核）", item_headers, hard[[c for c, _ in ITEM_COLUMNS]].values.tolist()),
            ("需说明（核实性审核）", item_headers, soft[[c for c, _ in ITEM_COLUMNS]].values.tolist()),
            ("按规则汇总", list(by_rule.columns), by_rule.values.tolist()),
            ("缺报企业", missing_headers, absent[[c for c, _ in MISSING_COLUMNS]].values.tolist()),
        ]
        stem = folder / f"receipt_{p}_{code}"
        _write_xlsx(stem.with_suffix(".xlsx"), title, [(s[0][:31], s[1], s[2]) for s in sections])
        _write_html(stem.with_suffix(".html"), title, sections, summary)
        written += [stem.with_suffix(".xlsx"), stem.with_suffix(".html")]
    for old in earlier - set(written):  # a prefecture with nothing to report any more
        remove(old)
    return written
