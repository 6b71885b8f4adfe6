"""Exactly-once delivery (每期每人每类仅发一次): the log ``sup_email_log`` of what was sent to whom for
which period, with a digest of the content.

For each (period, recipient, kind, region) there are versions 1, 2, …: version 1 is the original, later
ones are corrections (更正). :func:`plan` decides, against the latest *delivered* version (sent: the SMTP
server accepted it; written: the ``.eml`` file is in the outbox):

- same digest → nothing to do (unchanged);
- nothing delivered yet → version 1;
- delivered with another digest → the next version, a correction of the delivered one.

What counts as delivered depends on where this run sends: to the outbox, ``sent`` and ``written`` both
do; through an SMTP server only ``sent`` does — an ``.eml`` written to the outbox reached nobody, so a
later run with a server configured sends it (the same version, logged ``sent``).

A version is claimed – logged ``sending`` with its owner (:class:`Claimant`: a random token of the run,
host, pid) and a lease, and committed – before the attempt, and becomes ``sent``/``written`` only after
the server accepted it / the file was in place; a failure leaves it ``unsent`` with the error and the
number of attempts, and the next run tries again. A version another *live* run is sending is left to
that run (so two runs of a period at once do not both send it); a claim whose owner is gone — same host
and its pid no longer alive, or its lease expired — is taken over at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from techreform.warehouse import execute, insert_rows, query, sql_text

SENT, WRITTEN, UNSENT, CANCELLED, SENDING = "sent", "written", "unsent", "cancelled", "sending"
DELIVERED_TO_OUTBOX = (SENT, WRITTEN)
DELIVERED_BY_SMTP = (SENT,)
LOG_COLUMNS = [
    "period",
    "recipient",
    "kind",
    "region_code",
    "version",
    "digest",
    "correction_of",
    "subject",
    "content_json",
    "status",
    "attempts",
    "last_error",
    "message_id",
    "outbox_path",
    "updated_at",
    "claim_owner",
    "claim_host",
    "claim_pid",
    "claim_until",
]


def pid_alive(pid: int) -> bool:
    """Whether a process of this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


@dataclass(frozen=True)
class Claimant:
    """Who claims: a token unique to one notify run, this host and process, and the lease length."""

    owner: str = field(default_factory=lambda: secrets.token_hex(8))
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    lease_minutes: float = 30.0

    def holds_dead_claim(self, row: Any, now: dt.datetime) -> bool:
        """Whether the ``sending`` claim of ``row`` belongs to a run that is gone: its lease expired, or
        it ran on this host in a process that no longer exists (or in this very process, which is not
        sending it now). A claim of before owners were recorded is judged by its age."""
        if not row.claim_owner:
            return str(row.updated_at) < (now - dt.timedelta(minutes=self.lease_minutes)).isoformat(timespec="seconds")
        if row.claim_until and str(row.claim_until) < now.isoformat(timespec="seconds"):
            return True
        if row.claim_host == self.host and row.claim_pid is not None:
            return int(row.claim_pid) == self.pid or not pid_alive(int(row.claim_pid))
        return False


def describe_claim(row: Any) -> str:
    """``owner … on host … pid …, lease until …`` of a claim (for the in-flight message)."""
    if not row.claim_owner:
        return f"an earlier run, since {row.updated_at}"
    return f"run {row.claim_owner} on {row.claim_host} pid {row.claim_pid}, lease until {row.claim_until}"


@dataclass(frozen=True)
class Key:
    period: str
    recipient: str
    kind: str
    region_code: str

    def params(self) -> dict[str, str]:
        return {"period": self.period, "recipient": self.recipient, "kind": self.kind, "region_code": self.region_code}


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


def delivered(conn: Connection, key: Key, statuses: Collection[str] = DELIVERED_TO_OUTBOX) -> dict[str, Any] | None:
    """The latest version of ``key`` whose status is one of ``statuses`` (None when there is none)."""
    for row in query(conn, "ops/supervision_email/email_log_delivered", **key.params()):
        if row.status in statuses:
            return dict(row._mapping)
    return None


def plan(conn: Connection, key: Key, digest: str, statuses: Collection[str] = DELIVERED_TO_OUTBOX) -> Plan:
    """Decide for ``key`` and a content of ``digest`` against the latest version delivered in one of
    ``statuses`` (:data:`DELIVERED_TO_OUTBOX` or :data:`DELIVERED_BY_SMTP`; see the module doc)."""
    last = delivered(conn, key, statuses)
    if last is not None and last["digest"] == digest:
        return Plan(key, unchanged=True, version=last["version"])
    if last is None:
        return Plan(key, unchanged=False, version=1)
    return Plan(
        key,
        unchanged=False,
        version=last["version"] + 1,
        previous_digest=last["digest"],
        previous_content=json.loads(last["content_json"]),
    )


def cancel_unsent(conn: Connection, key: Key) -> None:
    """An unsent version whose content need not go out any more (the delivered one is current)."""
    execute(conn, "ops/supervision_email/email_log_cancel", {**key.params(), "updated_at": now_utc()})


@dataclass(frozen=True)
class ClaimOutcome:
    """Whether this run got the claim; when not, who holds it."""

    won: bool
    holder: str = ""


def prepare(
    conn: Connection,
    decision: Plan,
    digest: str,
    subject: str,
    content: dict[str, Any],
    claimant: Claimant,
    *,
    resend_written: bool = False,
) -> ClaimOutcome:
    """Claim ``decision.version`` for sending: log it ``sending`` with its content and ``claimant``
    before any attempt. Not won when another live run holds it (that run sends it). A dead claim is
    taken over (see :meth:`Claimant.holds_dead_claim`): the message may then go out twice if the dead
    run's server had accepted it before ``sent`` was logged — the one case exactly-once cannot rule out.
    ``resend_written``: a version written to the outbox may be claimed (this run sends through SMTP)."""
    now = dt.datetime.now(dt.UTC)
    params = {
        **decision.key.params(),
        "version": decision.version,
        "digest": digest,
        "correction_of": decision.previous_digest,
        "subject": subject,
        "content_json": json.dumps(content, ensure_ascii=False, sort_keys=True),
        "updated_at": now.isoformat(timespec="seconds"),
        "claim_owner": claimant.owner,
        "claim_host": claimant.host,
        "claim_pid": claimant.pid,
        "claim_until": (now + dt.timedelta(minutes=claimant.lease_minutes)).isoformat(timespec="seconds"),
    }
    existing = query(
        conn, "ops/supervision_email/email_log_version", **decision.key.params(), version=decision.version
    ).first()
    if existing is None:
        try:
            with conn.begin_nested():
                insert_rows(
                    conn,
                    "sup_email_log",
                    [
                        {
                            **params,
                            "status": SENDING,
                            "attempts": 0,
                            "last_error": "",
                            "message_id": "",
                            "outbox_path": None,
                        }
                    ],
                    LOG_COLUMNS,
                )
        except sa.exc.IntegrityError:  # another run inserted it first
            return ClaimOutcome(False, "another run that claimed it just now")
        return ClaimOutcome(True)
    takeover = "(no takeover)"  # matches no owner (owners are tokens without spaces)
    if existing.status == SENDING:
        if existing.claim_owner == claimant.owner:
            takeover = claimant.owner  # ours (a retry within this run)
        elif claimant.holds_dead_claim(existing, now):
            takeover = existing.claim_owner or ""
        else:
            return ClaimOutcome(False, describe_claim(existing))
    statement = sa.text(sql_text("ops/supervision_email/email_log_prepare", conn.dialect.name))
    won = (
        conn.execute(statement, {**params, "resend_written": int(resend_written), "takeover_owner": takeover}).rowcount
        == 1
    )
    return ClaimOutcome(won, "" if won else "another run that claimed it just now")


def record_attempt(
    conn: Connection,
    key: Key,
    version: int,
    status: str,
    *,
    last_error: str = "",
    message_id: str = "",
    outbox_path: str | None = None,
) -> None:
    """The outcome of one attempt (``sent``/``written``, or ``unsent`` with ``last_error``)."""
    execute(
        conn,
        "ops/supervision_email/email_log_attempt",
        {
            **key.params(),
            "version": version,
            "status": status,
            "last_error": last_error[:2000],
            "message_id": message_id,
            "outbox_path": outbox_path,
            "updated_at": now_utc(),
        },
    )


def record_not_attempted(conn: Connection, key: Key, version: int, reason: str) -> None:
    """A version left ``unsent`` without an attempt (``attempts`` unchanged), with the reason."""
    execute(
        conn,
        "ops/supervision_email/email_log_not_attempted",
        {**key.params(), "version": version, "last_error": reason[:2000], "updated_at": now_utc()},
    )


def keys_of_period(conn: Connection, period: str) -> list[Key]:
    return [Key(period, r, k, g) for r, k, g in query(conn, "ops/supervision_email/email_log_keys", period=period)]
