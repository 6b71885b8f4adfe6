"""Explanations (核实说明): the reporting units' answers to soft-rule queries, of every form.

A delivery form ``explanations`` lands under ``landing/explanations/<YYYY-MM>/`` as CSV or XLSX with the
columns (Chinese or canonical headers):

| field | 表头 | |
|---|---|---|
| uscc | 统一社会信用代码 | the enterprise, for a query of E1, A1 or Q1 |
| project_code | 项目代码 | the project, for a query of P1 |
| product_code | 产品代码 | the product (code or Chinese name), for a query of Q1 |
| item_type, item_id | 类别, 认定编号 | the recognised item (type as code or Chinese name), for a query of G1 |
| period | 报告期 | the report period explained (any delivered month spelling; a year for A1) |
| rule_id | 审核规则 | a soft rule of the form's suite, e.g. E1-S01 |
| explanation | 核实说明 | the unit's explanation, not blank |
| confirmed_by | 核实人 | who confirmed it, not blank |

A row names what it explains by the form's own record key (``Form.key`` without its period fields,
read under the form's headers), so an explanation matches a query exactly as a later delivery would
supersede the row. Rows are stored in ``dim_explanation``; a folder's rows are replaced as a whole each
time it is read, so re-reading changes nothing. A soft failure of (record key, period, rule_id) is then
``explained`` when the period is validated again. Rows that cannot match anything (no key, no valid
period — for A1 a month other than its year's December —, a hard or unknown rule id, blank explanation
or confirmer) are skipped and returned as problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from techreform.cells import clean_text, parse_month
from techreform.config import Settings
from techreform.forms import FORMS, PERIOD_FIELDS, Form
from techreform.readers import is_readable, read_delivery, read_delivery_bytes
from techreform.store import is_local, list_files, list_folders, store_of
from techreform.validation import suites
from techreform.warehouse import delete_where, insert_rows, read_frame

FOLDER = "explanations"
HEADERS = {
    "统一社会信用代码": "uscc",
    "项目代码": "project_code",
    "产品代码": "product_code",
    "类别": "item_type",
    "认定编号": "item_id",
    "报告期": "period",
    "审核规则": "rule_id",
    "核实说明": "explanation",
    "核实人": "confirmed_by",
}
COLUMNS = tuple(HEADERS.values())
_RULE = re.compile(r"^([A-Z]\d)-S\d{2}$")
_YEAR = re.compile(r"^\d{4}$")


def soft_rules(form: Form) -> set[str]:
    """The soft rules (核实性审核) of ``form``'s suite: the ones an explanation can answer."""
    if form.code not in suites.SUITE_FILES:
        return set()
    return {rule for rule, spec in suites.rules_of(form).items() if spec.severity == "soft"}


def _record_key(form: Form, record: dict[str, Any]) -> str | None:
    """The form's record key (``Form.record_keys``) of an explanation row, a choice given by its Chinese
    name read as its code; ``None`` when a part is missing."""
    values = {}
    for name in (k for k in form.key if k not in PERIOD_FIELDS):
        text = _text(record.get(name))
        if not text:
            return None
        values[name] = dict(form.field(name).aliases).get(text, text)
    return str(form.record_keys(pd.DataFrame([values])).iloc[0])


def _explained_period(form: Form, value: Any) -> str | None:
    """The period an explanation names: a month, or for a form with a ``year`` (A1) also a bare year
    (its December, the folder the year's report lands in)."""
    text = _text(value)
    if "year" in form.key and text and _YEAR.match(text):
        return f"{text}-12"
    return _month(value)


@dataclass
class ExplanationLoad:
    rows: int = 0
    problems: list[str] = field(default_factory=list)


_text = clean_text


def _month(value: Any) -> str | None:
    """A month as the contract spells it, or ``None`` when it cannot be read."""
    try:
        return parse_month(value)
    except ValueError:
        return None


def read_file(path: Path) -> pd.DataFrame:
    """One delivered explanations file (a path of the store) as a frame of the canonical columns plus
    ``source_row``."""
    if is_local(path):
        table = read_delivery(path)
    else:  # an object store: read by key under the same limits
        from techreform.limits import IngestLimits
        from techreform.readers import UnreadableFile

        limits = IngestLimits()
        size = path.fs.size(path.path)
        if size > limits.max_file_bytes:  # refused from its size, unread
            raise UnreadableFile(f"{path.name}: {size} bytes, more than {limits.max_file_bytes}")
        table = read_delivery_bytes(Path(path.name), path.read_bytes(), limits)
    headers = [HEADERS.get(h.strip(), h.strip()) for h in table.headers]
    records = [dict(zip(headers, cells)) | {"source_row": row} for row, cells in table.rows]
    frame = pd.DataFrame.from_records(records)
    for column in COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    return frame


def load_folder(conn: Connection, folder: Path) -> ExplanationLoad:
    """Replace the explanations of one delivery folder (``landing/explanations/<YYYY-MM>``)."""
    outcome = ExplanationLoad()
    rows: list[dict[str, Any]] = []
    for path in (p for p in list_files(folder) if is_readable(p)):
        for record in read_file(path).to_dict("records"):
            where = f"{path.name} 第{record['source_row']}行"
            rule = (_text(record["rule_id"]) or "").upper()
            explanation, confirmed = _text(record["explanation"]), _text(record["confirmed_by"])
            match = _RULE.match(rule)
            form = FORMS.get(match.group(1)) if match else None
            key = _record_key(form, record) if form else None
            period = _explained_period(form, record["period"]) if form else None
            if form is None or rule not in soft_rules(form):
                outcome.problems.append(f"{where}：审核规则 “{rule}” 不是可核实的核实性审核规则（如 E1-S01）")
            elif not key:
                names = "、".join(form.field(k).header_zh for k in form.key if k not in PERIOD_FIELDS)
                outcome.problems.append(f"{where}：缺少{names}")
            elif not period:
                outcome.problems.append(f"{where}：报告期 “{record['period']}” 无效")
            elif "year" in form.key and not period.endswith("-12"):  # a year's report is its December's
                outcome.problems.append(
                    f"{where}：报告期 “{record['period']}” 不是{form.code}的报告期（应为年份或该年12月）"
                )
            elif not explanation or not confirmed:
                outcome.problems.append(f"{where}：核实说明或核实人为空")
            else:
                rows.append(
                    {
                        "delivery_period": folder.name,
                        "file_name": path.name,
                        "source_row": int(record["source_row"]),
                        "form": form.code,
                        "record_key": key,
                        "period": period,
                        "rule_id": rule,
                        "explanation": explanation,
                        "confirmed_by": confirmed,
                    }
                )
    delete_where(conn, "dim_explanation", delivery_period=folder.name)
    outcome.rows = insert_rows(conn, "dim_explanation", rows)
    return outcome


def sync_explanations(conn: Connection, settings: Settings) -> ExplanationLoad:
    """Read every folder under ``landing/explanations/`` into ``dim_explanation`` (idempotent)."""
    total = ExplanationLoad()
    root = store_of(settings).landing / FOLDER
    for folder in (p for p in list_folders(root) if re.fullmatch(r"\d{4}-\d{2}", p.name)):
        outcome = load_folder(conn, folder)
        total.rows += outcome.rows
        total.problems.extend(outcome.problems)
    return total


def explained_keys(conn: Connection, form_code: str) -> set[tuple[str, str, str]]:
    """``{(record_key, period, rule_id)}`` explained for the form."""
    frame = read_frame(conn, "intermediate/explanations_for_form", form=form_code)
    return set(zip(frame["record_key"], frame["period"], frame["rule_id"]))
