"""E-mailing the review receipts (审核回执) to each prefecture's statistics contacts (统计联络员), exactly
once per content, through the supervision e-mails' log (``sup_email_log``, kind ``receipt``, region = the
prefecture): the same claims (owner, lease), retries, outbox and corrections
(:func:`techreform.supervision.notify.deliver_messages`).

Recipients: the S1 rows in force of the prefecture whose role (职责) names ``receipts.contact_role``
(default 统计联络员). Each gets the receipt's summary, what to do and by when in the body, and the receipt's
``.xlsx`` and ``.html`` attached. A re-run with the same receipt sends nothing; a changed receipt (a
corrected delivery) goes out once more as a correction (【更正】, saying how the counts changed); a
prefecture that was sent a receipt and has nothing left to correct is told so once."""

from __future__ import annotations

import datetime as dt
import html
import logging
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy.engine import Engine

from techreform.codes import valid_address
from techreform.config import Settings
from techreform.options import EmailOptions, ReceiptsOptions
from techreform.periods import Period
from techreform.store import StorePath, exists, read_bytes, store_of
from techreform.supervision import delivery_log
from techreform.supervision.content import content_digest
from techreform.supervision.emails import beijing_date, header_safe, sender_address, sender_of
from techreform.supervision.mailer import EmailDeliveryFailed, SmtpConfig
from techreform.supervision.notify import Outgoing, deliver_messages
from techreform.validation.receipts import (
    Receipt,
    instructions,
    prefecture_names,
    receipts_of_period,
    statistics_contacts,
)

log = logging.getLogger(__name__)

KIND = "receipt"
XLSX = "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COUNT_NAMES = {"hard": ("需更正", "行"), "soft": ("需说明", "行"), "missing": ("缺报企业", "家")}


def subject_for(receipt: Receipt, options: ReceiptsOptions, correction: bool) -> str:
    """``【审核回执】2013年6月 兰州市：需更正3行 需说明5行 缺报2家``."""
    c = receipt.counts
    prefix = options.subject_prefix + ("【更正】" if correction else "")
    label = Period.parse(receipt.period).label_zh
    return header_safe(
        f"{prefix}{label} {receipt.name}：需更正{c.get('hard', 0)}行 需说明{c.get('soft', 0)}行"
        + (f" 缺报{c['missing']}家" if "missing" in c else "")  # a delivery's receipt has no 缺报
    )


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed from an earlier receipt to this one (counts), one line each."""
    lines = []
    for key, (name, unit) in COUNT_NAMES.items():
        before, after = (old.get("counts") or {}).get(key, 0), (new.get("counts") or {}).get(key, 0)
        if before != after:
            lines.append(f"{name}：由{before}{unit}改为{after}{unit}")
    return lines or ["回执内容有更新"]


def compose(
    receipt: Receipt,
    recipient_name: str,
    recipient_email: str,
    settings: Settings,
    sender: str,
    folder: StorePath,
    changes: list[str] | None = None,
) -> EmailMessage:
    """The receipt's e-mail to one statistics contact, with the receipt files attached."""
    options = settings.options_for(ReceiptsOptions)
    message = EmailMessage()
    message["Subject"] = subject_for(receipt, options, changes is not None)
    message["From"] = sender_address(sender, settings.options_for(EmailOptions))
    message["To"] = Address(display_name=header_safe(recipient_name), addr_spec=recipient_email)
    message["Date"] = beijing_date(dt.datetime.now(dt.UTC))
    domain = message["From"].addresses[0].domain or "localhost"
    message["Message-ID"] = make_msgid(idstring=header_safe(f"{receipt.period}.receipt.{receipt.code}"), domain=domain)
    message["X-Techreform-Period"] = header_safe(receipt.period)
    message["X-Techreform-Kind"] = header_safe(f"{KIND}/{receipt.code}")
    lines = [f"{header_safe(recipient_name)}：", ""]
    if changes is not None:
        lines += ["【更正】本邮件更正此前发送的同期审核回执，变化如下：", *[f"- {c}" for c in changes], ""]
    nothing = not any(receipt.counts.get(k) for k in COUNT_NAMES)
    if nothing:
        lines.append(
            f"{Period.parse(receipt.period).label_zh}，{receipt.name}报送的数据已无需更正或说明的行"
            + ("，无缺报企业。" if "missing" in receipt.counts else "。")
        )
    else:
        lines += [
            f"{Period.parse(receipt.period).label_zh}，{receipt.name}的技术改造统计数据审核结果：{receipt.summary}。",
            f"更正和说明截止日期：{receipt.deadline}。",
            *instructions(receipt, options),
            "",
            "明细见附件审核回执（Excel 可筛选；网页版可直接打印）。",
        ]
    lines.append("本邮件由技术改造统计监测系统自动发送。")
    message.set_content("\n".join(lines) + "\n", charset="utf-8")
    message.add_alternative(
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
        "<body style=\"font-family:'Microsoft YaHei',SimSun,sans-serif\">"
        + "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
        + "</body></html>",
        subtype="html",
        charset="utf-8",
    )
    if not nothing:
        stem = receipt.stem(folder)
        for path, (maintype, subtype) in (
            (stem.with_suffix(".xlsx"), XLSX),
            (stem.with_suffix(".html"), ("text", "html")),
        ):
            if exists(path):
                message.add_attachment(
                    read_bytes(path),
                    maintype=maintype,
                    subtype=subtype,
                    filename=f"审核回执_{receipt.period}_{receipt.code}{path.suffix}",
                )
    return message


def send_receipts(
    engine: Engine,
    settings: Settings,
    period: Period | str,
    smtp: SmtpConfig | None = None,
    *,
    owner: str | None = None,
) -> dict[str, Any]:
    """E-mail the period's receipts to the statistics contacts, exactly once per content (through ``smtp``,
    or to the outbox when it is ``None``). Raises :class:`EmailDeliveryFailed` while any is undelivered.
    Returns the delivery counts plus ``invalid_recipients`` and ``uncontacted_prefectures`` (receipts with
    no statistics contact in S1)."""
    period = Period.parse(period)
    options = settings.options_for(ReceiptsOptions)
    if not options.email:
        return {"period": str(period), "skipped": "receipts.email is false"}
    sender, _ = sender_of(smtp, settings.options_for(EmailOptions))
    folder = store_of(settings).receipts_dir(str(period))
    receipts = {r.code: r for r in receipts_of_period(engine, settings, period)}
    contacts = statistics_contacts(engine, settings, period)
    with engine.connect() as conn:
        names = prefecture_names(conn)
        earlier = {
            (k.recipient, k.region_code) for k in delivery_log.keys_of_period(conn, str(period)) if k.kind == KIND
        }
    outgoing: list[Outgoing] = []
    invalid: list[str] = []
    for code, people in sorted(contacts.items()):
        for person in people:
            email = person["email"]
            if not valid_address(email):
                invalid.append(f"{code}:{email!r}")
                continue
            receipt = receipts.get(code)
            if receipt is None:
                if (email, code) not in earlier:
                    continue  # nothing to report, never told: nothing to send
                name = names.get(code, code)
                receipt = Receipt(str(period), code, name, "", "", "", counts={k: 0 for k in COUNT_NAMES})
            content = receipt.as_json()
            outgoing.append(
                Outgoing(
                    key=delivery_log.Key(str(period), email, KIND, code),
                    digest=content_digest(content),
                    content=content,
                    compose=lambda changes, r=receipt, p=person: compose(
                        r, p["name"], p["email"], settings, sender, folder, changes
                    ),
                    describe=describe_changes,
                )
            )
    result = deliver_messages(engine, settings, period, outgoing, smtp, owner=owner)
    failures = result.pop("failures")
    result.update(invalid_recipients=invalid, uncontacted_prefectures=sorted(c for c in receipts if c not in contacts))
    log.info("receipts %s: %s", period, result)
    if failures:
        raise EmailDeliveryFailed(str(period), failures)
    return result
