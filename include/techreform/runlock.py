"""One run per report period at a time (同一报告期同时只能有一个运行).

:func:`period_lock` is held for the whole run of a period (the CLI's ``run_period``, or one task of the
DAG). A second run of the same period fails at once with :class:`PeriodBusy`, one line naming the period
and the run that holds it; nothing waits.

- **PostgreSQL**: a session-level advisory lock ``pg_try_advisory_lock(LOCK_CLASS, yyyymm)`` on a
  dedicated connection that stays open for the run (autocommit, no transaction kept open). The session's
  ``application_name`` names the run (``techreform <owner> host=… pid=…``), so the refused run reads
  who holds it from ``pg_locks`` and ``pg_stat_activity``. A run that dies loses its connection and
  with it the lock: nothing stale is left behind.
- **SQLite**: an exclusive ``fcntl.flock`` on a lock file next to the database file,
  ``<warehouse>.sqlite.<YYYY-MM>.lock``, whose content names the holder. The kernel releases it when
  the holder's process ends, however it ends. (The file stays; an unlocked file means nobody runs.)
  An in-memory SQLite database needs no lock.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from techreform.periods import Period
from techreform.warehouse import query

LOCK_CLASS = 0x7EC4  # the key space of techreform's period locks (first key of the advisory lock)


class PeriodBusy(RuntimeError):
    """Another run holds the period."""

    def __init__(self, period: str, holder: str) -> None:
        self.period, self.holder = period, holder
        super().__init__(
            f"{period}: another run of this period is in progress ({holder}); this run stops — "
            f"报告期 {period} 正由另一运行处理，本次运行退出"
        )


def owner_label(owner: str) -> str:
    """What a lock says about its holder: the owner (run id), host and pid of this process."""
    return f"{owner} host={socket.gethostname()} pid={os.getpid()}"


@contextmanager
def period_lock(engine: Engine, period: Period | str, owner: str) -> Iterator[None]:
    """Hold the run lock of ``period`` for the block; raise :class:`PeriodBusy` at once if another run
    holds it. ``owner`` names this run (an Airflow run id, or ``cli``)."""
    period = Period.parse(period)
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, period, owner_label(owner)):
            yield
    elif engine.dialect.name == "sqlite":
        with _file_lock(engine, period, owner_label(owner)):
            yield
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"no period lock for {engine.dialect.name}")


def _lock_keys(period: Period) -> dict[str, int]:
    return {"lock_class": LOCK_CLASS, "lock_period": period.year * 100 + period.month}


@contextmanager
def _advisory_lock(engine: Engine, period: Period, label: str) -> Iterator[None]:
    keys = _lock_keys(period)
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        query(conn, "ops/runs/name_session", session_name=f"techreform {label}"[:63])
        if not query(conn, "ops/runs/lock_try", **keys).scalar():
            holder = query(conn, "ops/runs/lock_holder", **keys).first()
            described = (
                (
                    f"{holder.application_name or 'unnamed session'}, server pid {holder.pid}, "
                    f"since {holder.backend_start:%Y-%m-%d %H:%M:%S}"
                )
                if holder
                else "a session that just ended"
            )
            raise PeriodBusy(str(period), described)
        try:
            yield
        finally:
            try:
                query(conn, "ops/runs/lock_release", **keys)
                query(conn, "ops/runs/name_session", session_name="")
            except sa.exc.DBAPIError:  # the connection is gone, and the lock with it
                conn.invalidate()
    finally:
        conn.close()


def lock_file_of(engine: Engine, period: Period) -> Path | None:
    """The lock file of a period next to the SQLite database file (None for an in-memory database)."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(f"{Path(database).name}.{period}.lock")


@contextmanager
def _file_lock(engine: Engine, period: Period, label: str) -> Iterator[None]:
    path = lock_file_of(engine, period)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise PeriodBusy(str(period), holder or f"a process holding {path.name}") from None
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"holder": label, "since": since}).encode("utf-8"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except ValueError:
        return ""
    return f"{data['holder']}, since {data['since']}" if data.get("holder") else ""
