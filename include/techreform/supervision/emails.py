"""Composing the e-mails: readable Chinese HTML with the tables, a plain-text part, and the same tables
as an attached spreadsheet. Subjects look like ``【技改督办】2013年6月 兰州市：红灯3个 黄灯5个``; a
correction reads ``【技改督办】【更正】2013年6月 …`` and says what changed.

Safety: every value put in a header loses CR/LF and other control characters (no header injection);
every value put in HTML is escaped with :func:`html.escape` (no markup); addresses come only from S1 and
are validated before they get here."""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from techreform.codes import valid_address
from techreform.labels import reasons_zh
from techreform.numbers import format_number
from techreform.options import EmailOptions
from techreform.periods import REPORTING_TIMEZONE, Period
from techreform.supervision.content import (
    ESCALATED_TABLE,
    INDICATOR_TABLE,
    MISSING_TABLE,
    PREFECTURE,
    PREFECTURE_COUNT_TABLE,
    PROJECT_TABLE,
    Content,
)
from techreform.supervision.spreadsheet import workbook_bytes

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")

LIGHT_COLOURS = {"red": "#C00000", "yellow": "#B8860B", "green": "#2E7D32"}
"""The e-mails' dates are Beijing time (the Date header reads ``+0800``)."""
LAG_KEYS = ("lag_pp",)
"""Columns of a schedule lag (序时进度滞后): never shown negative (a project ahead reads ``0（超前3.2）``)."""


def header_safe(value: Any) -> str:
    """``value`` as one header line: CR, LF and other control characters become a space."""
    return _CONTROL.sub(" ", "" if value is None else str(value)).strip()


def subject_for(content: Content, options: EmailOptions, correction: bool) -> str:
    """``【技改督办】2013年6月 兰州市：红灯3个 黄灯5个`` (``【更正】`` after the prefix for a correction)."""
    label = Period.parse(content.period).label_zh
    c = content.counts
    prefix = options.subject_prefix + ("【更正】" if correction else "")
    if content.kind == PREFECTURE:
        text = f"{prefix}{label} {content.region_name}：红灯{c['red']}个 黄灯{c['yellow']}个"
        if c.get("missing"):
            text += f" 缺报{c['missing']}家"
    else:
        text = f"{prefix}{label} 全省汇总：红灯{c['red']}个 黄灯{c['yellow']}个 升级督办{c['escalated']}个"
    return header_safe(text)


def display(value: Any) -> str:
    """A cell as people read it: ``12,345.6``, ``50``, text as it is, nothing for a missing value."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format_number(value, missing="")
    return str(value)


def lag_text(lag: Any) -> Any:
    """A schedule lag as people read it: the lag when behind (a number), ``0`` when on schedule, and
    ``0（超前3.2）`` when ahead — never a negative 滞后."""
    if lag is None or not isinstance(lag, (int, float)) or isinstance(lag, bool) or not math.isfinite(lag):
        return lag
    if lag > 0:
        return lag
    ahead = round(-lag, 1)
    return f"0（超前{display(ahead)}）" if ahead > 0 else 0


def display_row(row: dict[str, Any]) -> dict[str, Any]:
    """A content row as it is shown: reasons in Chinese only (``序时进度严重滞后；逾期未竣工``) and lags
    never negative; the stored content (and so its digest) is left as it is."""
    shown = dict(row)
    if "reasons" in row:
        shown["reasons_zh"] = reasons_zh(row.get("reasons"))
    for key in LAG_KEYS:
        if key in row:
            shown[key] = lag_text(row[key])
    return shown


def _e(value: Any) -> str:
    """``value`` for HTML: displayed, then escaped (quotes included)."""
    return html.escape(display(value), quote=True)


def html_table(columns: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]]) -> str:
    """An HTML table of ``rows``; every cell escaped."""
    head = "".join(f'<th style="border:1px solid #999;padding:4px;background:#DDEBF7">{_e(h)}</th>' for _, h in columns)
    body = []
    for row in map(display_row, rows):
        cells = []
        for key, _ in columns:
            style = "border:1px solid #999;padding:4px"
            if key == "light_zh":
                style += f";color:{LIGHT_COLOURS.get(row.get('light'), '#000')};font-weight:bold"
            if isinstance(row.get(key), (int, float)) and not isinstance(row.get(key), bool):
                style += ";text-align:right"
            cells.append(f'<td style="{style}">{_e(row.get(key))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table style="border-collapse:collapse;font-size:13px"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def text_table(columns: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]]) -> str:
    lines = ["\t".join(h for _, h in columns)]
    for row in map(display_row, rows):
        lines.append("\t".join(header_safe(display(row.get(k))) for k, _ in columns))
    return "\n".join(lines)


def _sections(content: Content) -> list[tuple[str, Sequence[tuple[str, str]], list[dict[str, Any]]]]:
    """(title, columns, rows) of the tables of a content, in the order they are shown."""
    if content.kind == PREFECTURE:
        return [("督办项目", PROJECT_TABLE, content.projects), ("缺报企业", MISSING_TABLE, content.missing)]
    return [
        ("各市州汇总", PREFECTURE_COUNT_TABLE, content.prefectures),
        ("升级督办", ESCALATED_TABLE, content.escalated),
        ("全省指标", INDICATOR_TABLE, content.indicators),
    ]


def summary_lines(content: Content) -> list[str]:
    c = content.counts
    label = Period.parse(content.period).label_zh
    if content.kind == PREFECTURE:
        lines = [
            f"{label}，{content.region_name}纳入督办的技术改造项目：红灯{c['red']}个、黄灯{c['yellow']}个"
            f"（其中升级至省工信委督办{c['escalated']}个）；企业月报缺报{c['missing']}家。"
        ]
        if not content.flagged:
            lines.append("本月无亮灯项目，无缺报企业。")
        elif content.projects:
            worst = [p for p in content.projects if p["light"] == "red"][:3] or content.projects[:3]
            lines.append(
                "最需关注："
                + "；".join(
                    f"{header_safe(p['project_name']) or p['project_code']}（{p['light_zh']}"
                    f"{'，已升级督办' if p['escalated'] else ''}，{reasons_zh(p.get('reasons'))}）"
                    for p in worst
                )
                + "。"
            )
            lines.append("下表按严重程度排列（红灯、升级督办、滞后程度在前），请督促项目单位整改并及时报送。")
    else:
        lines = [
            f"{label}，全省纳入督办的技术改造项目：红灯{c['red']}个、黄灯{c['yellow']}个；"
            f"升级至省工信委督办{c['escalated']}个；企业月报缺报{c['missing']}家。"
        ]
        if not content.indicators:
            lines.append("全省指标本期尚未计算。")
    return lines


def compose(
    content: Content,
    recipient_name: str,
    recipient_email: str,
    options: EmailOptions,
    sender: str,
    changes: Sequence[str] | None = None,
    now: dt.datetime | None = None,
    extra_attachments: Sequence[tuple[str, bytes, str, str]] = (),
) -> EmailMessage:
    """The e-mail of ``content`` to one recipient; ``changes`` (lines) make it a correction (更正).
    ``extra_attachments``: ``(file name, bytes, maintype, subtype)`` attached after the tables (the
    province's monthly analysis report)."""
    if not valid_address(recipient_email):
        raise ValueError(f"not a valid recipient address: {recipient_email!r}")
    correction = changes is not None
    message = EmailMessage()
    message["Subject"] = subject_for(content, options, correction)
    message["From"] = sender_address(sender, options)
    sender = message["From"].addresses[0].addr_spec
    message["To"] = Address(display_name=header_safe(recipient_name), addr_spec=recipient_email)
    message["Date"] = beijing_date(now)
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "localhost"
    message["Message-ID"] = make_msgid(
        idstring=header_safe(f"{content.period}.{content.kind}.{content.region_code}"), domain=header_safe(domain)
    )
    message["X-Techreform-Period"] = header_safe(content.period)
    message["X-Techreform-Kind"] = header_safe(f"{content.kind}/{content.region_code}")

    sections = _sections(content)
    lines = summary_lines(content)
    text_parts = [f"{header_safe(recipient_name)}：", ""]
    html_parts = [f"<p>{_e(recipient_name)}：</p>"]
    if correction:
        text_parts += (
            ["【更正】本邮件更正此前发送的同期督办通知，变化如下："] + [f"- {change}" for change in changes] + [""]
        )
        html_parts.append(
            '<div style="border:2px solid #C00000;padding:6px;margin:6px 0">'
            "<p><b>【更正】本邮件更正此前发送的同期督办通知，变化如下：</b></p><ul>"
            + "".join(f"<li>{_e(change)}</li>" for change in changes)
            + "</ul></div>"
        )
    text_parts += lines + [""]
    html_parts += [f"<p>{_e(line)}</p>" for line in lines]
    for title, columns, rows in sections:
        if not rows:
            continue
        text_parts += [f"{title}（{len(rows)}）", text_table(columns, rows), ""]
        html_parts += [f"<h3>{_e(title)}（{len(rows)}）</h3>", html_table(columns, rows)]
    attached = [(t, c, [display_row(r) for r in rows]) for t, c, rows in sections if rows]
    footer = ("同样的表格见附件（Excel）。" if attached else "") + "本邮件由技术改造统计监测系统自动发送。"
    text_parts.append(footer)
    html_parts.append(f'<p style="color:#666">{_e(footer)}</p>')
    body_html = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
        "<body style=\"font-family:'Microsoft YaHei',SimSun,sans-serif\">" + "".join(html_parts) + "</body></html>"
    )
    message.set_content("\n".join(text_parts), charset="utf-8")
    message.add_alternative(body_html, subtype="html", charset="utf-8")
    if attached:  # nothing to attach (an all-clear note): no header-only workbook
        message.add_attachment(
            workbook_bytes(attached),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=attachment_name(content),
        )
    for name, data, maintype, subtype in extra_attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=header_safe(name))
    return message


def sender_address(sender: str, options: EmailOptions) -> Address:
    """The From of every e-mail of the pipeline: the address ``sender`` (the SMTP connection's sender, or
    ``email.sender``), shown with ``email.sender_name`` — unless ``sender`` carries its own name
    (``技改监测 <jigai@example.gov.cn>``), which wins."""
    name, addr = parseaddr(header_safe(sender))
    return Address(display_name=header_safe(name or options.sender_name), addr_spec=addr or header_safe(sender))


def sender_of(smtp: Any, options: EmailOptions) -> tuple[str, str]:
    """``(sender, envelope address)``: the SMTP connection's sender, else ``email.sender`` (either may be
    ``Name <address>``); raises ``ValueError`` when the address is not valid."""
    sender = header_safe((getattr(smtp, "sender", None) if smtp is not None else None) or options.sender)
    envelope = parseaddr(sender)[1] or sender
    if not valid_address(envelope):
        raise ValueError(
            f"the sender address {sender!r} is not valid (settings email.sender or the connection's 'from')"
        )
    return sender, envelope


def beijing_date(now: dt.datetime | None = None) -> str:
    """A Date header in Beijing time (``Mon, 01 Jul 2013 09:00:00 +0800``)."""
    return format_datetime((now or dt.datetime.now(dt.UTC)).astimezone(REPORTING_TIMEZONE))


def attachment_name(content: Content) -> str:
    """``技改督办_2013-06_620100.xlsx``."""
    return header_safe(f"技改督办_{content.period}_{content.region_code}.xlsx")
