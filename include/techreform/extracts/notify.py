"""The e-mail to the statistics bureau (统计局) naming a new revision and its manifest digest.

Recipients: ``extracts.bureau_email`` when configured, else the S1 supervisors in force whose role names
``extracts.bureau_role`` (default 统计局); none: no e-mail. Sent through the project's mailer
(:mod:`techreform.supervision.mailer`): the SMTP server when one is configured, else an ``.eml`` file
in ``<outputs>/outbox/extracts/<YYYY-MM>/``. Exactly once per (period, revision, recipient): each
message is claimed in ``ext_email_log`` before it is sent and marked ``sent``/``written`` after; a
later run sends only what is not marked so (a message refused by the server stays ``unsent`` and the
run fails, so that Airflow retries)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.extracts.options import ExtractOptions
from techreform.store import store_of
from techreform.supervision.emails import beijing_date
from techreform.supervision.mailer import EmailDeliveryFailed, SmtpConfig, send_smtp, write_eml
from techreform.warehouse import execute, read_frame


def recipients(engine: Engine, options: ExtractOptions, period: str) -> list[str]:
    if options.bureau_email:
        return sorted(set(options.bureau_email))
    with engine.connect() as conn:
        frame = read_frame(
            conn, "marts/extracts/bureau_recipients", period=period, role_pattern=f"%{options.bureau_role}%"
        )
    return sorted(set(frame["email"]))


def compose(manifest: dict[str, Any], manifest_sha256: str, sender: str, recipient: str) -> EmailMessage:
    period, revision = manifest["period"], manifest["revision"]
    message = EmailMessage()
    message["Subject"] = f"企业技术改造统计数据 {period} 第{revision}版 (r{revision}) 已交付"
    message["From"] = formataddr(("企业技术改造监测", sender))
    message["To"] = recipient
    message["Date"] = beijing_date()
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] if "@" in sender else "localhost")
    lines = [
        "统计局：",
        "",
        f"报告期 {period} 的技术改造统计数据第 {revision} 版已交付。",
        f"位置 (location): {manifest['location']}",
        f"manifest.json sha256: {manifest_sha256}",
        f"生成时间 (created): {manifest['created_at']}，程序版本 {manifest['pipeline_version']}",
        "",
        "各表行数 (rows per table):",
    ]
    lines += [f"  {name}: {info['rows']}" for name, info in manifest["tables"].items()]
    since = manifest["changes"]["since_revision"]
    if since:
        lines += ["", f"与第 {since} 版相比的变化 (changes since r{since}):"]
        for name, change in manifest["changes"]["tables"].items():
            if change["added"] or change["removed"] or change["changed"]:
                lines.append(f"  {name}: +{change['added']} -{change['removed']} ~{change['changed']}")
    message.set_content("\n".join(lines) + "\n")
    return message


def notify_bureau(
    engine: Engine,
    settings: Settings,
    options: ExtractOptions,
    manifest: dict[str, Any],
    manifest_sha256: str,
    smtp: SmtpConfig | None,
) -> dict[str, Any]:
    """Send (or write) the revision's e-mail to every recipient that has not had it yet."""
    period, revision = manifest["period"], int(manifest["revision"])
    sender = (smtp.sender if smtp and smtp.sender else None) or options.sender
    done, failures = [], []
    for recipient in recipients(engine, options, period):
        with engine.connect() as conn:
            log = read_frame(conn, "ops/extracts/email_log_of", period=period, revision=revision, recipient=recipient)
        if len(log) and log.iloc[0]["status"] in ("sent", "written"):
            continue
        message = compose(manifest, manifest_sha256, sender, recipient)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        params = {
            "period": period,
            "revision": revision,
            "recipient": recipient,
            "manifest_sha256": manifest_sha256,
            "message_id": message["Message-ID"],
            "updated_at": now,
        }
        if not len(log):
            with engine.begin() as conn:
                execute(conn, "ops/extracts/email_log_claim", params)
        status, error, path = "unsent", "", None
        try:
            if smtp is None:
                folder = store_of(settings).extracts_outbox_dir(period)
                path = str(write_eml(folder, f"r{revision}_{recipient}.eml", message))
                status = "written"
            else:
                send_smtp(smtp, message, sender, [recipient])
                status = "sent"
        except Exception as exc:  # noqa: BLE001 - recorded, then raised as one error for all recipients
            error = str(exc)
            failures.append((recipient, error))
        with engine.begin() as conn:
            execute(
                conn,
                "ops/extracts/email_log_update",
                {**params, "status": status, "last_error": error, "outbox_path": path},
            )
        if status != "unsent":
            done.append(recipient)
    if failures:
        raise EmailDeliveryFailed(period, failures)
    return {"notified": done}
