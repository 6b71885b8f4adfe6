"""``notify_period``: the period's e-mails to S1 supervisors, exactly once per (period, recipient, kind,
region) – through SMTP when a server is configured, else as ``.eml`` files in
``outputs/outbox/<YYYY-MM>/`` in the store (:mod:`techreform.store`)."""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.faults import fault_point
from techreform.options import EmailOptions, ReceiptsOptions, SupervisionOptions
from techreform.periods import Period
from techreform.store import exists, read_bytes
from techreform.supervision import delivery_log
from techreform.supervision.content import (
    PREFECTURE,
    PROVINCE,
    Content,
    describe_changes,
    prefecture_contents,
    province_content,
)
from techreform.supervision.emails import compose, sender_of, valid_address
from techreform.supervision.mailer import EmailDeliveryFailed, SmtpConfig, send_smtp, write_eml
from techreform.supervision.sources import division_names, supervisors_in_force
from techreform.warehouse import query

log = logging.getLogger(__name__)


class SupervisionNotRun(RuntimeError):
    """notify_period was called for a period supervise_period has not judged."""


@dataclass(frozen=True)
class Delivery:
    content: Content
    name: str
    email: str


def outbox_dir(settings: Settings, period: Period):
    """``outputs/outbox/<YYYY-MM>/`` in the store (:mod:`techreform.store`)."""
    from techreform.store import store_of

    return store_of(settings).outbox_dir(str(period))


def server_unreachable(exc: OSError) -> bool:
    """True for errors of the connection or the session (no server, TLS, login), after which every
    further message would fail the same way; False for the refusal of one message (e.g. 554 after DATA,
    a refused recipient)."""
    if isinstance(
        exc,
        (
            smtplib.SMTPConnectError,
            smtplib.SMTPServerDisconnected,
            smtplib.SMTPHeloError,
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPNotSupportedError,
        ),
    ):
        return True
    return not isinstance(exc, smtplib.SMTPException)


def report_attachments(settings: Settings, period: Period) -> list[tuple[str, bytes, str, str]]:
    """The period's monthly analysis report (PDF) for the province's e-mail, when it was written (step
    ``monthly_report``); the file as it is when the message is composed."""
    from techreform.report import report_paths

    pdf = report_paths(settings, period)[1]
    if not exists(pdf):
        return []
    return [(f"技改统计监测月报_{period}.pdf", read_bytes(pdf), "application", "pdf")]


def plan_deliveries(engine: Engine, settings: Settings, period: Period) -> tuple[list[Delivery], dict[str, Any]]:
    """Who gets which content this period, from S1 only: the provincial supervisors get the summary;
    each prefecture's supervisors get their prefecture's content when something is flagged (or they
    were e-mailed about this period before, so a correction can say it is all clear now, or the
    deployment asks for all-clear notes). Also returns what could not be addressed."""
    supervision = settings.options_for(SupervisionOptions)
    options = settings.options_for(EmailOptions)
    statistics_role = settings.options_for(ReceiptsOptions).contact_role
    with engine.connect() as conn:
        supervisors = [  # statistics contacts (统计联络员) get the review receipts, not the supervision e-mails
            s
            for s in supervisors_in_force(conn, period)
            if not (statistics_role and statistics_role in str(s.get("role") or ""))
        ]
        names = division_names(conn)
        prefecture_codes = {s["region_code"] for s in supervisors if s["region_code"] != options.province_code}
        contents = prefecture_contents(conn, period, {c: names.get(c, c) for c in prefecture_codes})
        province = province_content(
            conn, period, options.province_code, names.get(options.province_code, options.province_name), contents
        )
        earlier = {(k.recipient, k.kind, k.region_code) for k in delivery_log.keys_of_period(conn, str(period))}
    deliveries: dict[tuple[str, str, str], Delivery] = {}
    invalid: list[str] = []
    for supervisor in supervisors:
        email = (supervisor["email"] or "").strip()
        if not valid_address(email):
            invalid.append(f"{supervisor['region_code']}:{email!r}")
            continue
        region = supervisor["region_code"]
        content = province if region == options.province_code else contents[region]
        if (
            content.kind == PREFECTURE
            and not content.flagged
            and not supervision.all_clear_notes
            and (email, PREFECTURE, region) not in earlier
        ):
            continue
        deliveries.setdefault((email.lower(), content.kind, region), Delivery(content, supervisor["name"] or "", email))
    addressed = {s["region_code"] for s in supervisors if valid_address((s["email"] or "").strip())}
    unaddressed = sorted(code for code, c in contents.items() if c.flagged and code not in addressed)
    return list(deliveries.values()), {"invalid_recipients": invalid, "unaddressed_prefectures": unaddressed}


def notify_period(
    engine: Engine,
    settings: Settings,
    period: Period | str,
    smtp: SmtpConfig | None = None,
    *,
    owner: str | None = None,
) -> dict:
    """Compose the period's e-mails and send them through ``smtp`` (or write them to the outbox when it
    is ``None``), each at most once per content; a changed content goes out once more as a correction
    (更正). With a server, a message only written to the outbox so far is sent (it reached nobody).
    Raises :class:`EmailDeliveryFailed` when anything is left undelivered: messages the server did not
    accept (they stay ``unsent`` and go out on the next run) and messages another live run is sending
    (``in_flight``: not confirmed yet), so that the Airflow task fails and retries. ``owner`` names this
    run in its claims (a random token is added, so each call is its own claimant).

    Returns ``{"sent", "unchanged", "corrections", "unsent", "in_flight", "outbox", "invalid_recipients",
    "unaddressed_prefectures"}``: ``sent`` counts messages delivered this run (written ones included),
    ``in_flight`` those another run was sending at the same time (left to it)."""
    period = Period.parse(period)
    options = settings.options_for(EmailOptions)
    sender, _ = sender_of(smtp, options)
    with engine.connect() as conn:
        if query(conn, "marts/supervision/run_of_period", period=str(period)).first() is None:
            raise SupervisionNotRun(
                f"{period}: supervision has not judged this period yet; run supervise_period "
                f"before notify_period (督办灯色尚未计算)"
            )
    deliveries, problems = plan_deliveries(engine, settings, period)
    outgoing = [
        Outgoing(
            key=delivery_log.Key(str(period), d.email, d.content.kind, d.content.region_code),
            digest=d.content.digest,
            content=d.content.as_json(),
            compose=lambda changes, d=d: compose(
                d.content,
                d.name,
                d.email,
                options,
                sender,
                changes,
                extra_attachments=report_attachments(settings, period) if d.content.kind == PROVINCE else (),
            ),
            describe=describe_changes,
        )
        for d in deliveries
    ]
    result = deliver_messages(engine, settings, period, outgoing, smtp, owner=owner)
    result.update(problems)
    log.info("notification %s: %s", period, result)
    failures = result.pop("failures")
    if failures:
        raise EmailDeliveryFailed(str(period), failures)
    return result


@dataclass(frozen=True)
class Outgoing:
    """One message to deliver exactly once: its log key, the digest and content that decide it, how to
    compose it (``changes`` = the lines of a correction, or ``None`` for the original) and how to say what
    changed from an earlier content."""

    key: delivery_log.Key
    digest: str
    content: dict[str, Any]
    compose: Callable[[list[str] | None], EmailMessage]
    describe: Callable[[dict[str, Any], dict[str, Any]], list[str]]

    def eml_name(self, version: int) -> str:
        safe = re.sub(r"[^A-Za-z0-9._@-]", "_", self.key.recipient)
        return f"{self.key.kind}-{self.key.region_code}-{safe}-v{version}.eml"


def deliver_messages(
    engine: Engine,
    settings: Settings,
    period: Period,
    outgoing: list[Outgoing],
    smtp: SmtpConfig | None,
    *,
    owner: str | None = None,
) -> dict[str, Any]:
    """Deliver each of ``outgoing`` exactly once per content through ``smtp`` (or to the outbox when it
    is ``None``), through the log ``sup_email_log`` (:mod:`.delivery_log`: claims with owner and lease,
    corrections, retries). Returns the counts ``{"sent", "unchanged", "corrections", "unsent",
    "in_flight", "outbox", "failures"}`` (``failures``: ``(recipient, error)`` of what stayed undelivered;
    the caller raises :class:`EmailDeliveryFailed` for them)."""
    options = settings.options_for(EmailOptions)
    _, envelope = sender_of(smtp, options)
    # attempts per message: the connection's retry_limit (+ the first try) when it gives one
    send_attempts = options.send_attempts if smtp is None or smtp.retry_limit is None else smtp.retry_limit + 1
    outbox = outbox_dir(settings, period) if smtp is None else None
    result: dict[str, Any] = {
        "sent": 0,
        "unchanged": 0,
        "corrections": 0,
        "unsent": 0,
        "in_flight": 0,
        "outbox": str(outbox) if outbox else None,
    }
    failures: list[tuple[str, str]] = []
    unreachable: str | None = None
    claimant = delivery_log.Claimant(
        owner=f"{owner or 'notify'}-{secrets.token_hex(6)}", lease_minutes=options.claim_minutes
    )
    statuses = delivery_log.DELIVERED_TO_OUTBOX if outbox is not None else delivery_log.DELIVERED_BY_SMTP
    for item in outgoing:
        key, recipient = item.key, item.key.recipient
        with engine.begin() as conn:
            decision = delivery_log.plan(conn, key, item.digest, statuses)
            if decision.unchanged:
                delivery_log.cancel_unsent(conn, key)
                result["unchanged"] += 1
                continue
            changes = item.describe(decision.previous_content, item.content) if decision.correction else None
            message = item.compose(changes)
            claim = delivery_log.prepare(
                conn,
                decision,
                item.digest,
                str(message["Subject"]),
                item.content,
                claimant,
                resend_written=outbox is None,
            )
        if not claim.won:
            log.warning(
                "e-mail %s to %s (%s %s) is being sent by %s",
                period,
                recipient,
                key.kind,
                key.region_code,
                claim.holder,
            )
            failures.append((recipient, f"in flight, being sent by {claim.holder}"))
            result["in_flight"] += 1
            continue
        fault_point("after_claim")
        message_id = str(message["Message-ID"])
        if outbox is not None:
            path = write_eml(outbox, item.eml_name(decision.version), message)
            with engine.begin() as conn:
                delivery_log.record_attempt(
                    conn, key, decision.version, delivery_log.WRITTEN, message_id=message_id, outbox_path=str(path)
                )
            delivered = True
        elif unreachable is not None:
            # the server could not be reached for an earlier message: do not wait for it again
            delivered = False
            error = f"not attempted, the SMTP server was unreachable: {unreachable}"
            with engine.begin() as conn:
                delivery_log.record_not_attempted(conn, key, decision.version, error)
            failures.append((recipient, error))
            result["unsent"] += 1
        else:
            delivered = False
            error = ""
            server_level = False
            for attempt in range(1, max(send_attempts, 1) + 1):
                try:
                    send_smtp(smtp, message, envelope, [recipient])
                    delivered = True
                    fault_point("after_send")
                except OSError as exc:  # smtplib.SMTPException is an OSError too
                    error = f"{type(exc).__name__}: {exc}"
                    server_level = server_unreachable(exc)
                    log.warning("e-mail %s to %s, attempt %d, not accepted: %s", period, recipient, attempt, error)
                last_attempt = attempt >= send_attempts
                status = (
                    delivery_log.SENT if delivered else (delivery_log.UNSENT if last_attempt else delivery_log.SENDING)
                )  # keep the claim between tries
                with engine.begin() as conn:
                    delivery_log.record_attempt(
                        conn,
                        key,
                        decision.version,
                        status,
                        last_error="" if delivered else error,
                        message_id=message_id if delivered else "",
                    )
                if delivered:
                    break
                if attempt < send_attempts:
                    time.sleep(options.retry_delay_seconds)
            if not delivered:
                failures.append((recipient, error))
                result["unsent"] += 1
                if server_level:
                    unreachable = error
        if delivered:
            log.info(
                "e-mail %s to %s (%s %s) v%d %s",
                period,
                recipient,
                key.kind,
                key.region_code,
                decision.version,
                "written" if outbox is not None else "sent",
            )
            result["sent"] += 1
            result["corrections"] += int(decision.correction)
    result["failures"] = failures
    return result
