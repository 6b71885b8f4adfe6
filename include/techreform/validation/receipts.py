"""Review receipts (审核回执) per prefecture and period: an HTML page (readable at 1280 px, printed on A4)
and a spreadsheet, and what the e-mail to the prefecture's statistics contacts says.

For every reporting unit of the prefecture: the rows it must correct (hard rules, 强制性审核 → 需更正)
and the rows it must explain (soft rules not yet explained, 核实性审核 → 需说明), grouped by form (the form
named once, as the heading of its table), with the file, row, unit, rule, the field in Chinese, the values
as received (numbers formatted) and the message; then the counts by rule, and the enterprises that did
not report (缺报, from completeness); what to do and by when (the resubmission deadline,
``receipts.resubmit_days`` after the delivery deadline) and whom to ask (the prefecture's statistics
contacts from S1 and the province's contact of the ``receipts`` options). Rows a later delivery superseded
need nothing any more and are left out. Written to the store (``techreform.store``), ``outputs/receipts/<YYYY-MM>/``:
``receipt_<YYYY-MM>_<prefecture code>.xlsx`` and ``.html`` (rows whose prefecture cannot be told from
their codes go to ``receipt_<YYYY-MM>_unknown``). Every text in the HTML is escaped; spreadsheet cells are
written as strings, never as formulas. Field names come from :mod:`techreform.forms`, labels from
:mod:`techreform.labels`.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from techreform import numbers
from techreform.config import Settings
from techreform.files import remove_partials
from techreform.forms import FORMS
from techreform.labels import SEVERITY_ZH
from techreform.options import ReceiptsOptions, ValidationOptions
from techreform.periods import Period, date_zh
from techreform.store import StorePath, list_files, remove, store_of, write_bytes, write_text
from techreform.warehouse import has_table, read_frame

ITEM_COLUMNS = [  # (key, header, width in the spreadsheet (characters), numeric)
    ("file_name", "文件", 24),
    ("source_row", "行号", 7),
    ("record_key", "统一社会信用代码/项目代码", 26),
    ("unit_name", "单位/项目名称", 24),
    ("rule_id", "审核规则", 10),
    ("field_zh", "字段", 18),
    ("received", "收到的值", 32),
    ("message", "问题说明", 60),
]
MISSING_COLUMNS = [
    ("uscc", "统一社会信用代码", 22),
    ("enterprise_name", "企业名称", 30),
    ("county_name", "县区", 12),
    ("region_code", "行政区划代码", 12),
    ("contact_email", "统计联系人邮箱", 28),
]
RULE_COLUMNS = [
    ("form_title", "报表", 16),
    ("rule_id", "审核规则", 10),
    ("severity_zh", "审核类别", 12),
    ("action", "需处理", 8),
    ("rows", "行数", 8),
]
ACTION_ZH = {"hard": "需更正", "soft": "需说明"}
UNKNOWN = ("unknown", "无法识别所属市州")
_LABEL_SUFFIX = re.compile(r"\s*\([A-Za-z0-9_]+\)$")
_CANONICAL = re.compile(r"\s*\((?:[a-z][a-z0-9_]*)\)")
"""`` (revenue)`` after a Chinese field name in a message: the canonical name people need not read."""
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def format_received(text: Any) -> str:
    """A value as received: a plain number as people read it (``numbers.format_number``: ``2611.4164`` →
    ``2,611.42``, ``1200`` → ``1,200``); anything else stays as it is."""
    value = "" if text is None else str(text).strip()
    return numbers.format_number(value) if _NUMBER.match(value) else value


def field_zh(form: str, names: str | None) -> str:
    """The Chinese header(s) of a failure's field(s) (``revenue`` → ``主营业务收入``), from the form."""
    out = []
    for name in re.split(r"[,;，；\s]+", names or ""):
        if not name:
            continue
        try:
            out.append(FORMS[form].field(name).header_zh)
        except KeyError:
            out.append(name)
    return "、".join(out)


def received_text(received_json: str) -> str:
    """The values as received: Chinese field names, numbers formatted (``主营业务收入：2,611.42``)."""
    try:
        values = json.loads(received_json or "{}")
    except ValueError:
        return received_json or ""
    if not isinstance(values, dict):
        return str(values)
    return "；".join(
        f"{_LABEL_SUFFIX.sub('', str(k))}：{'空' if v in (None, '') else format_received(v)}" for k, v in values.items()
    )


def resubmit_deadline(settings: Settings, period: Period) -> dt.date:
    """The last day to correct and resubmit: the delivery deadline (the first day after the period plus
    ``validation.delivery_deadline_days``) plus ``receipts.resubmit_days``."""
    days = (
        settings.options_for(ValidationOptions).delivery_deadline_days
        + settings.options_for(ReceiptsOptions).resubmit_days
    )
    return period.next.first_day() + dt.timedelta(days=int(days))


def resubmit_deadline_zh(settings: Settings, period: Period) -> str:
    """:func:`resubmit_deadline` as the receipts write it (``2013年8月5日``)."""
    return date_zh(resubmit_deadline(settings, period))


def prefecture_names(conn: Connection) -> dict[str, str]:
    """Prefecture code → name, as the warehouse's divisions hold them (for receipts and their e-mails)."""
    return dict(read_frame(conn, "staging/reference/prefectures").itertuples(index=False, name=None))


@dataclass
class Receipt:
    """The receipt of one prefecture and period, as data (its digest decides exactly-once e-mail)."""

    period: str
    code: str
    name: str
    title: str
    summary: str
    deadline: str
    hard: dict[str, list[list[Any]]] = field(default_factory=dict)
    """Form title → rows of :data:`ITEM_COLUMNS` to correct."""
    soft: dict[str, list[list[Any]]] = field(default_factory=dict)
    by_rule: list[list[Any]] = field(default_factory=list)
    missing: list[list[Any]] = field(default_factory=list)
    contacts: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    on_delivery: bool = False
    """A delivery's receipt (``techreform.delivery``): nothing is loaded yet, the month's run decides."""

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "kind": "receipt",
            "region_code": self.code,
            "region_name": self.name,
            "deadline": self.deadline,
            "counts": self.counts,
            "hard": self.hard,
            "soft": self.soft,
            "missing": self.missing,
        }

    def stem(self, folder: Path) -> Path:
        return folder / f"receipt_{self.period}_{self.code}"


def _items(engine: Engine, period: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return decorate_items(read_frame(conn, "marts/quality/receipt_items", period=period))


def decorate_items(items: pd.DataFrame) -> pd.DataFrame:
    """Receipt items (the columns of ``marts/quality/receipt_items``) as people read them: form titles,
    severities and fields in Chinese, values as received formatted, canonical names out of messages."""
    items = items.copy()
    items["form_title"] = [f"{c} {FORMS[c].title_zh}" for c in items["form"]]
    items["severity_zh"] = items["severity"].map(SEVERITY_ZH)
    items["action"] = items["severity"].map(ACTION_ZH)
    items["received"] = items["received_json"].map(received_text)
    items["field_zh"] = [field_zh(f, n) for f, n in zip(items["form"], items["field"])]
    items["message"] = items["message"].fillna("").map(lambda m: _CANONICAL.sub("", str(m)))
    items["prefecture_code"] = items["prefecture_code"].fillna("").replace("", UNKNOWN[0])
    return items


def _by_form(frame: pd.DataFrame) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for title, part in frame.groupby("form_title", sort=True):
        out[str(title)] = [[_plain(v) for v in row] for row in part[[c for c, *_ in ITEM_COLUMNS]].values.tolist()]
    return out


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if value is None or (isinstance(value, float) and value != value) else value


def statistics_contacts(engine: Engine, settings: Settings, period: Period) -> dict[str, list[dict[str, str]]]:
    """Prefecture code → its statistics contacts (统计联络员): the S1 rows in force whose role names
    ``receipts.contact_role``."""
    role = settings.options_for(ReceiptsOptions).contact_role
    with engine.connect() as conn:
        if not has_table(conn, "dim_supervisor"):
            return {}
        frame = read_frame(conn, "intermediate/supervisors_in_force", period=str(period))
    out: dict[str, list[dict[str, str]]] = {}
    for row in frame.to_dict("records"):
        if role and role in str(row.get("role") or ""):
            out.setdefault(row["region_code"], []).append(
                {"name": str(row.get("name") or ""), "email": str(row.get("email") or "").strip()}
            )
    return out


def receipts_of_period(engine: Engine, settings: Settings, period: Period | str) -> list[Receipt]:
    """The period's receipts, one per prefecture with anything to correct, explain or report."""
    period = Period.parse(period)
    p = str(period)
    items = _items(engine, p)
    with engine.connect() as conn:
        prefectures = prefecture_names(conn)
        missing = read_frame(conn, "marts/quality/missing_reporters_of_period", period=p)
        completeness = read_frame(conn, "marts/quality/completeness_of_period", period=p)
    prefectures[UNKNOWN[0]] = UNKNOWN[1]
    contacts = statistics_contacts(engine, settings, period)
    deadline_zh = resubmit_deadline_zh(settings, period)
    out = []
    for code in sorted(set(items["prefecture_code"]) | set(missing["prefecture_code"].dropna())):
        out.append(
            build_receipt(
                period,
                code,
                prefectures.get(code, code),
                items[items["prefecture_code"] == code],
                contacts.get(code, []),
                deadline_zh,
                missing[missing["prefecture_code"] == code],
                completeness[completeness["prefecture_code"] == code],
            )
        )
    return out


def build_receipt(
    period: Period,
    code: str,
    name: str,
    part: pd.DataFrame,
    contacts: list[dict[str, str]],
    deadline_zh: str,
    absent: pd.DataFrame | None = None,
    rate: pd.DataFrame | None = None,
    title: str | None = None,
    on_delivery: bool = False,
) -> Receipt:
    """The receipt of prefecture ``code`` from its items (:func:`decorate_items`), its missing reporters
    and E1 completeness (both left out of the counts when ``None``: a delivery's receipt, ``on_delivery``).

    A row that breaks a hard rule is only to be corrected: it is quarantined, so its soft rules are not
    asked to be explained (the corrected row is checked again; its receipt asks then)."""
    row = ["form", "file_name", "source_row"]
    to_correct = pd.MultiIndex.from_frame(part.loc[part["severity"] == "hard", row].astype(str))
    part = part[(part["severity"] == "hard") | ~pd.MultiIndex.from_frame(part[row].astype(str)).isin(to_correct)]
    hard = part[part["severity"] == "hard"]
    soft = part[part["severity"] == "soft"]
    counts = {
        "hard": hard[["form", "file_name", "source_row"]].drop_duplicates().shape[0],
        "soft": soft[["form", "file_name", "source_row"]].drop_duplicates().shape[0],
    }
    summary = f"需更正 {counts['hard']} 行，需说明 {counts['soft']} 行"
    if absent is not None:
        counts["missing"] = len(absent)
        summary += f"，缺报企业 {counts['missing']} 家"
    if rate is not None and not rate.empty and rate["expected"].iloc[0]:
        summary += f"，E1 报送率 {int(rate['received'].iloc[0])}/{int(rate['expected'].iloc[0])}"
    by_rule = (
        part.groupby(["form_title", "rule_id", "severity"], as_index=False).size()
        if not part.empty
        else pd.DataFrame(columns=["form_title", "rule_id", "severity", "size"])
    )
    return Receipt(
        period=str(period),
        code=code,
        name=name,
        title=title or f"{period.label_zh} {name}（{code}）技术改造统计审核回执",
        on_delivery=on_delivery,
        summary=summary,
        deadline=deadline_zh,
        hard=_by_form(hard),
        soft=_by_form(soft),
        by_rule=[
            [
                r.form_title,
                r.rule_id,
                SEVERITY_ZH.get(r.severity, r.severity),
                ACTION_ZH.get(r.severity, ""),
                int(r.size),
            ]
            for r in by_rule.itertuples()
        ],
        missing=[]
        if absent is None
        else [[_plain(v) for v in row] for row in absent[[c for c, *_ in MISSING_COLUMNS]].values.tolist()],
        contacts=contacts,
        counts=counts,
    )


def instructions(receipt: Receipt, options: ReceiptsOptions) -> list[str]:
    """What to do, by when, whom to ask: the lines above the tables (and in the e-mail)."""
    lines = []
    if receipt.counts.get("hard"):
        lines.append(
            f"“需更正”的行未通过强制性审核，{'月度汇总时不会入库' if receipt.on_delivery else '未入库'}：请于{receipt.deadline}前更正后重新报送整个文件（同一文件名或新文件均可，以最新报送为准）。"
        )
    if receipt.counts.get("soft"):
        lines.append(
            f"“需说明”的行{'通过了强制性审核，月度汇总时入库并标为待核实' if receipt.on_delivery else '已入库但待核实'}：请于{receipt.deadline}前核实，数据有误的更正重报，数据无误的报送核实说明（所说明的记录：统一社会信用代码，P1为项目代码，Q1另加产品代码，G1为类别和认定编号；报告期、审核规则、核实说明、核实人）。"
        )
    if receipt.counts.get("missing"):
        lines.append(f"“缺报企业”本期未报送企业月报（E1）：请督促其于{receipt.deadline}前补报。")
    who = [f"{c['name']}（{c['email']}）" for c in receipt.contacts if c.get("email")]
    if who:
        lines.append("本市州统计联络员：" + "、".join(who) + "。")
    office = "，".join(x for x in (options.contact_name, options.contact_phone, options.contact_email) if x)
    if office:
        lines.append(f"如有疑问请联系：{office}。")
    return lines


CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 13px; color: #222;
       max-width: 1240px; margin: 0 auto; padding: 0 12px; }
h1 { font-size: 20px; margin: 12px 0 4px; } h2 { font-size: 16px; margin: 18px 0 6px; border-bottom: 2px solid #1F5FA8; }
h3 { font-size: 14px; margin: 10px 0 4px; color: #1F5FA8; }
.summary { font-size: 14px; font-weight: bold; } .todo { background: #FFF8E1; border: 1px solid #E0C070; padding: 6px 12px; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin-bottom: 8px; }
th, td { border: 1px solid #999; padding: 3px 6px; vertical-align: top; overflow-wrap: anywhere; word-break: break-word; }
th { background: #E8EEF7; text-align: left; } td.num { text-align: right; white-space: nowrap; }
thead { display: table-header-group; } tr { page-break-inside: avoid; }
@media print { body { font-size: 9pt; max-width: none; } h2 { page-break-after: avoid; } }
"""


def _colgroup(columns: list[tuple]) -> str:
    total = sum(c[2] for c in columns)
    return "<colgroup>" + "".join(f'<col style="width:{c[2] * 100 / total:.1f}%">' for c in columns) + "</colgroup>"


def _html_table(columns: list[tuple], rows: list[list[Any]], numeric: tuple[int, ...] = ()) -> str:
    if not rows:
        return "<p>无。</p>"
    head = "".join(f"<th>{html.escape(c[1])}</th>" for c in columns)

    def cell(i: int, v: Any) -> str:
        text = "" if v is None else (format_received(v) if i in numeric else str(v))
        return f'<td class="num">{html.escape(text)}</td>' if i in numeric else f"<td>{html.escape(text)}</td>"

    body = "".join("<tr>" + "".join(cell(i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>{_colgroup(columns)}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(receipt: Receipt, options: ReceiptsOptions) -> str:
    parts = [
        f"<h1>{html.escape(receipt.title)}</h1>",
        f'<p class="summary">{html.escape(receipt.summary)}。更正和说明截止日期：{html.escape(receipt.deadline)}。</p>',
        '<div class="todo">' + "".join(f"<p>{html.escape(x)}</p>" for x in instructions(receipt, options)) + "</div>",
    ]
    for heading, groups in (("需更正（强制性审核）", receipt.hard), ("需说明（核实性审核）", receipt.soft)):
        parts.append(f"<h2>{heading}</h2>")
        if not groups:
            parts.append("<p>无。</p>")
        for title, rows in groups.items():
            parts.append(f"<h3>{html.escape(title)}（{len(rows)}条问题）</h3>{_html_table(ITEM_COLUMNS, rows, (1,))}")
    parts.append(f"<h2>按规则汇总</h2>{_html_table(RULE_COLUMNS, receipt.by_rule, (4,))}")
    parts.append(f"<h2>缺报企业（{len(receipt.missing)}家）</h2>{_html_table(MISSING_COLUMNS, receipt.missing)}")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width">'
        f"<title>{html.escape(receipt.title)}</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    )


def _fill_workbook(target: io.BytesIO, receipt: Receipt, options: ReceiptsOptions) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(
        target,
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True},
    )
    title_f = book.add_format({"bold": True, "font_size": 13})
    head_f = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1, "text_wrap": True, "valign": "top"})
    text_f = book.add_format({"text_wrap": True, "valign": "top", "border": 1})
    int_f = book.add_format({"num_format": "#,##0", "valign": "top", "border": 1})

    def sheet(name: str, columns: list[tuple], rows: list[list[Any]], note: str) -> None:
        ws = book.add_worksheet(name[:31])
        ws.write_string(0, 0, f"{receipt.title} — {note}", title_f)
        for col, c in enumerate(columns):
            ws.write_string(1, col, c[1], head_f)
            ws.set_column(col, col, c[2])
        for r, row in enumerate(rows, start=2):
            for col, value in enumerate(row):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    ws.write_number(r, col, value, int_f)
                else:
                    text = "" if value is None else str(value)
                    ws.write_string(r, col, "'" + text if text.startswith(("=", "+", "-", "@")) else text, text_f)
        ws.freeze_panes(2, 0)
        ws.autofilter(1, 0, max(1, len(rows) + 1), len(columns) - 1)

    item_columns = [("form_title", "报表", 16), *ITEM_COLUMNS]
    for heading, groups in (("需更正（强制性审核）", receipt.hard), ("需说明（核实性审核）", receipt.soft)):
        rows = [[title, *row] for title, part in groups.items() for row in part]
        sheet(heading, item_columns, rows, f"截止{receipt.deadline}")
    sheet("按规则汇总", RULE_COLUMNS, receipt.by_rule, receipt.summary)
    sheet("缺报企业", MISSING_COLUMNS, receipt.missing, f"请于{receipt.deadline}前补报")
    notes = book.add_worksheet("说明")
    notes.set_column(0, 0, 120)
    notes.write_string(0, 0, receipt.title, title_f)
    for i, line in enumerate([receipt.summary, *instructions(receipt, options)], start=1):
        notes.write_string(i, 0, line, text_f)
    book.close()


def write_receipts(engine: Engine, settings: Settings, period: Period | str) -> list[StorePath]:
    """Write the period's receipts to the store, one ``.xlsx`` and one ``.html`` per prefecture with
    anything to correct, explain or report; returns the paths written (each file complete or absent;
    earlier receipts of the period no longer needed are removed)."""
    period = Period.parse(period)
    options = settings.options_for(ReceiptsOptions)
    folder = store_of(settings).receipts_dir(str(period))
    remove_partials(folder)
    earlier = set(list_files(folder, "receipt_*"))
    written: list[StorePath] = []
    for receipt in receipts_of_period(engine, settings, period):
        written += write_receipt_files(receipt, folder, options)
    for old in earlier - set(written):  # a prefecture with nothing to report any more
        remove(old)
    return written


def write_receipt_files(receipt: Receipt, folder: StorePath, options: ReceiptsOptions) -> list[StorePath]:
    """Write one receipt's ``.xlsx`` and ``.html`` in ``folder`` (each complete or absent)."""
    stem = receipt.stem(folder)
    workbook = io.BytesIO()
    _fill_workbook(workbook, receipt, options)
    write_bytes(stem.with_suffix(".xlsx"), workbook.getvalue(), fault="during_receipt_write")
    write_text(stem.with_suffix(".html"), render_html(receipt, options))
    return [stem.with_suffix(".xlsx"), stem.with_suffix(".html")]
