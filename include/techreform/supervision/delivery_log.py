"""Exactly-once delivery (每期每人每类仅发一次): the log ``sup_email_log`` of what was sent to whom for
which period, with a digest of the content.

For each (period, recipient, kind, region) there are versions 1, 2, …: version 1 is the original, later
ones are corrections (更正). :func:`plan` decides, against the latest *delivered* version (sent: the SMTP
server accepted it; written: the ``.eml`` file is in the outbox):

- same digest → nothing to do (unchanged);
- nothing delivered yet → version 1;
- delivered with another digest → the next version, a correction of the delivered one.

A version is claimed – logged ``sending`` and committed – before the attempt, and becomes
``sent``/``written`` only after the server accepted it / the file was in place; a failure leaves it
``unsent`` with the error and the number of attempts, and the next run tries again. A version another run
is sending is left to that run, so two runs of a period at once do not both send it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from techreform.warehouse import execute, insert_rows, query, sql_text

SENT, WRITTEN, UNSENT, CANCELLED, SENDING = "sent", "written", "unsent", "cancelled", "sending"
LOG_COLUMNS = ["period", "recipient", "kind", "region_code", "version", "digest", "correction_of", "subject",
               "content_json", "status", "attempts", "last_error", "message_id", "outbox_path", "updated_at"]


@dataclass(frozen=True)
class Key:
    period: str
    recipient: str
    kind: str
    region_code: str

    def params(self) -> dict[str, str]:
        return {"period": self.period, "recipient": self.recipient, "kind": self.kind,
                "region_code": self.region_code}


@dataclass(frozen=True)
class Plan:
    """What to do for one key: nothing (``unchanged``), or deliver ``version`` (a correction of
    ``previous`` when that is given)."""

    key: Key
    unchanged: bool
    version: int = 0
    previous_digest: str | None = None
    previous_content: dict[str, Any] | None = None

    @property
    def correction(self) -> bool:
        return self.previous_digest is not None


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def delivered(conn: Connection, key: Key) -> dict[str, Any] | None:
    row = query(conn, "supervision/email_log_delivered", **key.params()).first()
    return dict(row._mapping) if row else None


def plan(conn: Connection, key: Key, digest: str) -> Plan:
    """Decide for ``key`` and a content of ``digest`` (see the module doc)."""
    last = delivered(conn, key)
    if last is not None and last["digest"] == digest:
        return Plan(key, unchanged=True, version=last["version"])
    if last is None:
        return Plan(key, unchanged=False, version=1)
    return Plan(key, unchanged=False, version=last["version"] + 1, previous_digest=last["digest"],
                previous_content=json.loads(last["content_json"]))


def cancel_unsent(conn: Connection, key: Key) -> None:
    """An unsent version whose content need not go out any more (the delivered one is current)."""
    execute(conn, "supervision/email_log_cancel", {**key.params(), "updated_at": now_utc()})


def prepare(conn: Connection, decision: Plan, digest: str, subject: str, content: dict[str, Any],
            claim_minutes: float = 30.0) -> bool:
    """Claim ``decision.version`` for sending: log it ``sending`` with its content before any attempt.
    Returns False when another run holds it (claimed less than ``claim_minutes`` ago): that run sends it.
    A claim older than that is a run that died mid-way; it is taken over (the message may then go out
    twice, if the dead run's server had accepted it: the one case exactly-once cannot rule out)."""
    now = dt.datetime.now(dt.UTC)
    params = {**decision.key.params(), "version": decision.version, "digest": digest,
              "correction_of": decision.previous_digest, "subject": subject,
              "content_json": json.dumps(content, ensure_ascii=False, sort_keys=True),
              "updated_at": now.isoformat(timespec="seconds"),
              "stale_before": (now - dt.timedelta(minutes=claim_minutes)).isoformat(timespec="seconds")}
    existing = query(conn, "supervision/email_log_version", **decision.key.params(), version=decision.version).first()
    if existing is None:
        row = {k: v for k, v in params.items() if k != "stale_before"}
        try:
            with conn.begin_nested():
                insert_rows(conn, "sup_email_log", [{**row, "status": SENDING, "attempts": 0, "last_error": "",
                                                     "message_id": "", "outbox_path": None}], LOG_COLUMNS)
        except sa.exc.IntegrityError:  # another run inserted it first
            return False
        return True
    statement = sa.text(sql_text("supervision/email_log_prepare", conn.dialect.name))
    return conn.execute(statement, params).rowcount == 1


def record_attempt(conn: Connection, key: Key, version: int, status: str, *, last_error: str = "",
                   message_id: str = "", outbox_path: str | None = None) -> None:
    """The outcome of one attempt (``sent``/``written``, or ``unsent`` with ``last_error``)."""
    execute(conn, "supervision/email_log_attempt", {
        **key.params(), "version": version, "status": status, "last_error": last_error[:2000],
        "message_id": message_id, "outbox_path": outbox_path, "updated_at": now_utc()})


def record_not_attempted(conn: Connection, key: Key, version: int, reason: str) -> None:
    """A version left ``unsent`` without an attempt (``attempts`` unchanged), with the reason."""
    execute(conn, "supervision/email_log_not_attempted", {
        **key.params(), "version": version, "last_error": reason[:2000], "updated_at": now_utc()})


def keys_of_period(conn: Connection, period: str) -> list[Key]:
    return [Key(period, r, k, g) for r, k, g in query(conn, "supervision/email_log_keys", period=period)]
