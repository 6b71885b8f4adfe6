"""Alerts to the data engineers (数据工程师告警) when a run fails — above all the quality gate, so that
missing or broken data is chased upstream instead of reaching supervisors.

Recipients: ``TECHREFORM_ALERT_RECIPIENTS`` (comma-separated) or, in the configuration,
``{"alerts": {"recipients": ["etl@example.gov.cn"], "subject_prefix": "【技改告警】"}}``. The message goes
through the project's mailer: the SMTP server of the Airflow connection ``techreform_smtp`` when one is
defined, else an ``.eml`` file in ``<outputs>/alerts/<YYYY-MM>/``. An alert that cannot go out is logged
and never hides the failure it reports."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from techreform.config import Settings
from techreform.options import AlertsOptions, EmailOptions
from techreform.supervision.emails import header_safe, valid_address
from techreform.supervision.mailer import SmtpConfig, send_smtp, write_eml

log = logging.getLogger(__name__)

RECIPIENTS_ENV = "TECHREFORM_ALERT_RECIPIENTS"


@dataclass(frozen=True)
class Alert:
    """What failed: the DAG (or ``techreform run`` for the CLI), the task, the period and why (one line)."""

    dag_id: str
    task_id: str
    period: str
    reason: str
    run_id: str = ""
    log_url: str = ""
    """The failed try's log in the Airflow UI (the task instance's ``log_url``)."""


def alert_recipients(settings: Settings, env: dict[str, str] | None = None) -> list[str]:
    """The engineers to alert: ``TECHREFORM_ALERT_RECIPIENTS`` if set, else ``alerts.recipients``;
    invalid addresses are left out (and logged)."""
    env = os.environ if env is None else env
    configured = env.get(RECIPIENTS_ENV)
    raw = configured.split(",") if configured else list(settings.options_for(AlertsOptions).recipients)
    recipients = []
    for address in (a.strip() for a in raw):
        if valid_address(address):
            recipients.append(address)
        elif address:
            log.warning("alert recipient %r is not a valid address; left out", address)
    return recipients


def compose_alert(alert: Alert, sender: str, recipients: list[str], prefix: str) -> EmailMessage:
    """A plain-text message: subject ``【技改告警】<dag>.<task> <period> 失败: <reason>``, body with each
    fact on its own line."""
    message = EmailMessage()
    message["Subject"] = header_safe(
        f"{prefix}{alert.dag_id}.{alert.task_id} {alert.period} 运行失败 failed: {alert.reason}"
    )[:250]
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message.set_content(
        "技改统计流水线运行失败，未向督办人员发送任何邮件。\n"
        "The techreform pipeline stopped; no supervisor e-mail was sent.\n\n"
        f"DAG: {alert.dag_id}\nTask: {alert.task_id}\nPeriod 报告期: {alert.period}\n"
        f"Run: {alert.run_id or '-'}\nHost: {socket.gethostname()}\nLog 日志: {alert.log_url or '-'}\n\n"
        f"Reason 原因:\n{alert.reason}\n"
    )
    return message


def alerts_dir(settings: Settings, period: str):
    """``outputs/alerts/<YYYY-MM>/`` in the store (:mod:`techreform.store`)."""
    from techreform.store import store_of

    return store_of(settings).alerts_dir(period)


def send_alert(settings: Settings, smtp: SmtpConfig | None, alert: Alert) -> str:
    """Send (or, without a server, write) the alert; returns what happened, one line. Never raises."""
    recipients = alert_recipients(settings)
    if not recipients:
        # the embedded default has no recipients (as it has no SMTP server): the failure itself is reported
        log.info("no alert recipients configured (%s or alerts.recipients): %s", RECIPIENTS_ENV, alert.reason)
        return "not sent: no alert recipients configured"
    options = settings.options_for(EmailOptions)
    sender = header_safe((smtp.sender if smtp and smtp.sender else None) or options.sender)
    prefix = settings.options_for(AlertsOptions).subject_prefix
    message = compose_alert(alert, sender, recipients, prefix)
    try:
        if smtp is None:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
            name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{stamp}-{alert.dag_id}-{alert.task_id}.eml")
            path = write_eml(alerts_dir(settings, alert.period), name, message)
            outcome = f"written: {path}"
        else:
            send_smtp(smtp, message, sender, recipients)
            outcome = f"sent to {', '.join(recipients)}"
    except Exception as exc:  # smtplib errors are OSErrors; an object store's client raises its own
        outcome = f"not sent: {type(exc).__name__}: {exc}"
        log.error(
            "alert for %s %s could not go out: %s; the alert: %s", alert.task_id, alert.period, outcome, alert.reason
        )
        return outcome
    log.info("alert %s.%s %s %s", alert.dag_id, alert.task_id, alert.period, outcome)
    return outcome
