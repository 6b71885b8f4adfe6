"""A delivery's receipt (审核回执) and a refused file's receipt, e-mailed exactly once.

**A delivery's receipt** is the receipt of one prefecture, form and period as it stands after the
delivery: every current row of the files the prefecture delivered (rows a later delivery superseded
need nothing any more) that must be corrected (hard rules and cells that do not parse, ``<FORM>-H00``)
or explained (soft rules without an explanation), rendered exactly as the month's receipts
(:func:`techreform.validation.receipts.build_receipt`, the same ``.xlsx`` and ``.html``), with how and
by when to resubmit. Written to ``outputs/receipts/<YYYY-MM>/deliveries/<form>/`` in the store.

It goes to the prefecture's statistics contacts (统计联络员, :func:`~techreform.validation.receipts.
statistics_contacts`) through the e-mail log (:func:`techreform.supervision.notify.deliver_messages`,
kind ``review/<form>``, region = the prefecture): a corrected resubmission changes the receipt, which
goes out once more as a correction naming what changed (:func:`describe_review_changes`: the counts,
then the problems fixed, new and still open); a byte-identical resubmission changes nothing and sends
nothing.

**A refused file** (unreadable, hostile, past a limit: :mod:`techreform.ingest`) gets its own receipt,
once per file content (kind ``refusal/<form>/<sha256 prefix>``), saying why and what to do. The file's
prefecture is read from its name (``E1_620100_2013-06.csv``); a file whose name names none cannot be
answered and is only logged (and in ``etl_file_log``, as before)."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from techreform.codes import valid_address
from techreform.config import Settings
from techreform.forms import Form
from techreform.ingest import parse_rule_id
from techreform.options import DeliveryOptions, EmailOptions, ReceiptsOptions
from techreform.periods import Period
from techreform.reference import prefecture_of
from techreform.store import StorePath, store_of
from techreform.supervision import delivery_log
from techreform.supervision.content import content_digest
from techreform.supervision.emails import beijing_date, header_safe, sender_address, sender_of
from techreform.supervision.notify import Outgoing
from techreform.validation import ValidationResult
from techreform.validation.receipt_emails import compose, describe_changes
from techreform.validation.receipts import (
    Receipt,
    build_receipt,
    decorate_items,
    prefecture_names,
    resubmit_deadline_zh,
    write_receipt_files,
)

log = logging.getLogger(__name__)

ITEM_KEYS = ("form", "period", "prefecture_code", "file_name", "source_row", "record_key", "unit_name")
LISTED = 10
"""At most this many problems are named per line of a correction (the receipt attached lists all)."""


def deliverer_of(file_name: str) -> str:
    """The prefecture that delivered a file, from its name (``E1_620100_2013-06.csv`` → ``620100``), or ''."""
    code = prefecture_of(None, file_name)
    return code if isinstance(code, str) and code and code != "unknown" else ""


def delivery_folder(settings: Settings, form: Form, period: Period) -> StorePath:
    """``outputs/receipts/<YYYY-MM>/deliveries/<form>/``: the delivery receipts of a form and period."""
    return store_of(settings).receipts_dir(str(period)) / "deliveries" / form.code


def review_items(
    form: Form, period: Period, rows: pd.DataFrame, result: ValidationResult, unparsed: pd.DataFrame
) -> pd.DataFrame:
    """The receipt items (the columns of ``marts/quality/receipt_items`` plus ``deliverer``) of a
    check: failures to correct or explain and cells that do not parse, on current rows only."""
    failures = result.failures
    details = result.details.reindex(failures.index)
    items = pd.DataFrame(
        {
            "form": form.code,
            "period": str(period),
            "prefecture_code": details["prefecture_code"],
            "file_name": details["file_name"],
            "file_sha256": failures["file_sha256"],
            "source_row": failures["source_row"].astype(int),
            "record_key": details["record_key"],
            "unit_name": details["unit_name"],
            "rule_id": failures["rule_id"],
            "severity": failures["severity"],
            "field": failures["field"],
            "message": failures["message"],
            "received_json": details["received_json"],
            "explained": failures["explained"].astype(bool),
        }
    )
    items = items[(items["severity"] == "hard") | ~items["explained"]].drop(columns=["explained"])
    if len(unparsed):
        from techreform.validation.outcomes import received_values

        bad = pd.DataFrame(
            {
                "form": form.code,
                "period": str(period),
                "prefecture_code": "",
                "file_name": unparsed["file_name"],
                "file_sha256": unparsed["file_sha256"],
                "source_row": unparsed["source_row"].astype(int),
                "record_key": unparsed["record_key"],
                "unit_name": "",
                "rule_id": parse_rule_id(form),
                "severity": "hard",
                "field": unparsed["fields"],
                "message": [f"{parse_rule_id(form)}（强制性）：{m}" for m in unparsed["messages"]],
                "received_json": [
                    received_values(form, j, f, lambda name: None)
                    for j, f in zip(unparsed["raw_json"], unparsed["fields"])
                ],
            }
        )
        items = pd.concat([items, bad], ignore_index=True)
    current = rows.loc[rows["superseded"] == 0, ["file_sha256", "source_row"]].astype({"source_row": int})
    items = items.merge(current.drop_duplicates(), on=["file_sha256", "source_row"], how="inner")
    items["deliverer"] = items["file_name"].fillna("").astype(str).map(deliverer_of)
    return items.sort_values(["file_name", "source_row", "rule_id"], kind="stable").reset_index(drop=True)


def delivery_receipts(
    engine: Engine,
    settings: Settings,
    form: Form,
    period: Period,
    items: pd.DataFrame,
    deliverers: list[str],
    contacts: dict[str, list[dict[str, str]]],
) -> list[Receipt]:
    """The receipt of each prefecture in ``deliverers`` for ``form`` and ``period`` (files written)."""
    with engine.connect() as conn:
        names = prefecture_names(conn)
    deadline_zh = resubmit_deadline_zh(settings, period)
    folder = delivery_folder(settings, form, period)
    options = settings.options_for(ReceiptsOptions)
    decorated = decorate_items(items) if len(items) else items.assign(form_title="", received="", field_zh="")
    out = []
    for code in sorted(set(deliverers)):
        name = f"{names.get(code, code)}（{form.code} {form.title_zh}）"
        receipt = build_receipt(
            period,
            code,
            name,
            decorated[decorated["deliverer"] == code],
            contacts.get(code, []),
            deadline_zh,
            title=f"{period.label_zh} {names.get(code, code)}（{code}）{form.code} {form.title_zh} 报送审核回执",
            on_delivery=True,
        )
        write_receipt_files(receipt, folder, options)
        out.append(receipt)
    return out


def _problems(content: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    """(action, unit code, rule) → how people read it, of a receipt's content."""
    out = {}
    for action, groups in (("需更正", content.get("hard") or {}), ("需说明", content.get("soft") or {})):
        for rows in groups.values():
            for row in rows:
                # ITEM_COLUMNS: file, row, code, name, rule, field, received, message
                key = (action, str(row[2] or f"第{row[1]}行"), str(row[4]))
                out.setdefault(key, f"{row[2] or ''} {row[3] or ''} {row[4]}（{row[5] or ''}）".strip())
    return out


def describe_review_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed since the last receipt: the counts (:func:`describe_changes`), then the problems
    fixed, new and still open (by unit and rule; at most :data:`LISTED` named per line)."""
    lines = [line for line in describe_changes(old, new) if line != "回执内容有更新"]
    before, after = _problems(old), _problems(new)

    def listed(keys: list[tuple[str, str, str]], source: dict) -> str:
        shown = "；".join(f"{k[0]} {source[k]}" for k in keys[:LISTED])
        return shown + (f" 等{len(keys)}项" if len(keys) > LISTED else "")

    fixed = sorted(set(before) - set(after))
    added = sorted(set(after) - set(before))
    still = sorted(set(before) & set(after))
    if fixed:
        lines.append(f"已更正 {len(fixed)} 项：{listed(fixed, before)}")
    if added:
        lines.append(f"新出现 {len(added)} 项：{listed(added, after)}")
    if still:
        lines.append(f"仍未处理 {len(still)} 项：{listed(still, after)}")
    return lines or ["回执内容有更新"]


def receipt_messages(
    settings: Settings,
    form: Form,
    period: Period,
    receipts: list[Receipt],
    contacts: dict[str, list[dict[str, str]]],
    sender: str,
) -> tuple[list[Outgoing], list[str]]:
    """One message per receipt and statistics contact; and the prefectures with no contact."""
    folder = delivery_folder(settings, form, period)
    outgoing, uncontacted = [], []
    for receipt in receipts:
        people = [p for p in contacts.get(receipt.code, []) if valid_address(p["email"])]
        if not people:
            uncontacted.append(receipt.code)
        content = {**receipt.as_json(), "form": form.code}
        for person in people:
            outgoing.append(
                Outgoing(
                    key=delivery_log.Key(str(period), person["email"], f"review/{form.code}", receipt.code),
                    digest=content_digest(content),
                    content=content,
                    compose=lambda changes, r=receipt, p=person: compose(
                        r, p["name"], p["email"], settings, sender, folder, changes
                    ),
                    describe=describe_review_changes,
                )
            )
    return outgoing, uncontacted


def compose_refusal(
    settings: Settings, content: dict[str, Any], recipient_name: str, recipient_email: str, sender: str
) -> EmailMessage:
    """The e-mail saying a delivered file was refused, why, and what to do by when."""
    options = settings.options_for(ReceiptsOptions)
    period = Period.parse(content["period"])
    message = EmailMessage()
    message["Subject"] = header_safe(
        f"{options.subject_prefix}{period.label_zh} {content['region_name']}：文件未被接收 {content['file']}"
    )
    message["From"] = sender_address(sender, settings.options_for(EmailOptions))
    message["To"] = Address(display_name=header_safe(recipient_name), addr_spec=recipient_email)
    message["Date"] = beijing_date(dt.datetime.now(dt.UTC))
    domain = message["From"].addresses[0].domain or "localhost"
    message["Message-ID"] = make_msgid(
        idstring=header_safe(f"{period}.refusal.{content['region_code']}"), domain=domain
    )
    message["X-Techreform-Period"] = header_safe(str(period))
    message["X-Techreform-Kind"] = header_safe(f"refusal/{content['form']}/{content['region_code']}")
    office = "，".join(x for x in (options.contact_name, options.contact_phone, options.contact_email) if x)
    lines = [
        f"{header_safe(recipient_name)}：",
        "",
        f"{period.label_zh}，{content['region_name']}报送的{content['form']} {content['form_title']}文件"
        f"“{content['file']}”未被接收，文件中的数据均未读取，其他文件不受影响。",
        f"原因：{content['reason']}",
        f"请按报表制度（CSV 或 XLSX，表头完整，不超过规定大小）更正后于{content['deadline']}前重新报送。",
        *([f"如有疑问请联系：{office}。"] if office else []),
        "本邮件由技术改造统计监测系统自动发送。",
    ]
    message.set_content("\n".join(lines) + "\n", charset="utf-8")
    message.add_alternative(
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
        + "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
        + "</body></html>",
        subtype="html",
        charset="utf-8",
    )
    return message


def refusal_messages(
    engine: Engine,
    settings: Settings,
    form: Form,
    period: Period,
    refused: list[tuple[str, str, str]],
    contacts: dict[str, list[dict[str, str]]],
    sender: str,
) -> tuple[list[Outgoing], list[str]]:
    """One message per refused file ``(name, sha256 or '', reason)`` and statistics contact of the
    prefecture its name gives; and the files that cannot be answered (no prefecture, no contact)."""
    with engine.connect() as conn:
        names = prefecture_names(conn)
    deadline_zh = resubmit_deadline_zh(settings, period)
    outgoing, unanswered = [], []
    for file_name, sha, reason in refused:
        code = deliverer_of(file_name)
        people = [p for p in contacts.get(code, []) if valid_address(p["email"])] if code else []
        if not people:
            unanswered.append(file_name)
            log.warning("%s %s: refused file %s has no statistics contact to tell", form.code, period, file_name)
            continue
        content = {
            "period": str(period),
            "kind": "refusal",
            "form": form.code,
            "form_title": form.title_zh,
            "region_code": code,
            "region_name": names.get(code, code),
            "file": file_name,
            "file_sha256": sha,
            "reason": reason,
            "deadline": deadline_zh,
        }
        tag = (sha or hashlib.sha256(file_name.encode("utf-8", "backslashreplace")).hexdigest())[:16]
        for person in people:
            outgoing.append(
                Outgoing(
                    key=delivery_log.Key(str(period), person["email"], f"refusal/{form.code}/{tag}", code),
                    digest=content_digest(content),
                    content=content,
                    compose=lambda changes, c=content, p=person: compose_refusal(
                        settings, c, p["name"], p["email"], sender
                    ),
                    describe=lambda old, new: ["拒收原因有更新"],
                )
            )
    return outgoing, unanswered


def email_enabled(settings: Settings) -> bool:
    return settings.options_for(DeliveryOptions).email and settings.options_for(ReceiptsOptions).email


def sender(smtp: Any, settings: Settings) -> str:
    return sender_of(smtp, settings.options_for(EmailOptions))[0]
