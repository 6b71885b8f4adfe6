"""One run per report period at a time (同一报告期同时只能有一个运行); the tasks of that run in parallel.

:func:`period_lock` is held around every step of a period (a task of the DAG, or a step of the CLI's
``run_period``). The period belongs to one run at a time, named by its ``owner`` (an Airflow
``dag_id/run_id``, or ``cli-<random>`` for a CLI process): any number of tasks of the holding run may hold
it together, in any processes and on any machines (the forms' ingests run in parallel on the Celery
workers), while a task of another run of the same period fails at once with :class:`PeriodBusy`, one line
naming the period and the run that holds it; nothing waits. With ``step``, the lock also takes that step
(or form) of the period exclusively: a second attempt of the same task still running somewhere (a zombie
after a lost heartbeat) is refused the same way.

- **PostgreSQL**: session-level advisory locks on a dedicated connection that stays open for the step
  (autocommit, no transaction kept open): the period's key ``(LOCK_CLASS, yyyymm)`` *shared*, the run's
  key ``(OWNER_CLASS, hash(period, owner))`` shared, the step's ``(STEP_CLASS, hash(period, step))``
  exclusive. A task joins under the period's gate ``(GATE_CLASS, yyyymm)`` (waited for up to
  :data:`GATE_WAIT_SECONDS`, held only while it checks): it is refused when a session holds the period without the run's key — another run. The
  session's ``application_name`` names the run (``techreform <owner> host=… pid=…``), so the refused task
  reads who holds it from ``pg_locks`` and ``pg_stat_activity``. A task that dies loses its connection and
  with it its locks: nothing stale is left behind.
- **SQLite**: ``fcntl.flock`` on lock files next to the database file: ``<warehouse>.sqlite.<YYYY-MM>.lock``
  held *shared* by the run's tasks, its content naming the run (written by the first task, which finds it
  free, under the gate ``….lock.gate``), and ``<warehouse>.sqlite.<YYYY-MM>.<step>.lock`` exclusive. The
  kernel releases them when the holder's process ends, however it ends. (The files stay; an unlocked file
  means nobody runs.) An in-memory SQLite database needs no lock.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from techreform.periods import Period
from techreform.warehouse import query

LOCK_CLASS = 0x7EC4  # the key space of techreform's period locks (first key of the advisory lock)
OWNER_CLASS = 0x7EC5  # a run's key within a period: hash(period, owner)
GATE_CLASS = 0x7EC6  # the gate a task passes to join a period (held while it checks)
STEP_CLASS = 0x7EC7  # one step (or form) of a period: hash(period, step)
GATE_WAIT_SECONDS = 30.0
"""How long a task waits for the period's gate (held by another task only while it checks who holds the
period, milliseconds): a gate held longer belongs to a task that hangs, and the waiting task stops with
:class:`PeriodBusy` instead of waiting for ever."""
_GATE_POLL_SECONDS = 0.05


class PeriodBusy(RuntimeError):
    """Another run holds the period (or another attempt holds the step)."""

    def __init__(self, period: str, holder: str, step: str | None = None) -> None:
        self.period, self.holder, self.step = period, holder, step
        if step is None:
            message = (
                f"{period}: another run of this period is in progress ({holder}); this run stops — "
                f"报告期 {period} 正由另一运行处理，本次运行退出"
            )
        else:
            message = (
                f"{period}: step {step} of this period is already running ({holder}); this attempt stops — "
                f"报告期 {period} 的步骤 {step} 正在运行，本次尝试退出"
            )
        super().__init__(message)


def owner_label(owner: str) -> str:
    """What a lock says about its holder: the owner (run id), host and pid of this process."""
    return f"{owner} host={socket.gethostname()} pid={os.getpid()}"


@contextmanager
def period_lock(engine: Engine, period: Period | str, owner: str, step: str | None = None) -> Iterator[None]:
    """Hold ``period`` for the run ``owner`` during the block (shared with the run's other tasks), and
    ``step`` of it exclusively if given; raise :class:`PeriodBusy` at once if another run holds the period
    (or another attempt the step). ``owner`` names the run: an Airflow ``dag_id/run_id``, or ``cli-…``."""
    period = Period.parse(period)
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, period, owner, step):
            yield
    elif engine.dialect.name == "sqlite":
        with _file_lock(engine, period, owner, step):
            yield
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"no period lock for {engine.dialect.name}")


def _wait_for_gate(period: Period, try_gate: Callable[[], bool]) -> None:
    """Take the period's gate with ``try_gate`` (True when taken), polling for up to
    :data:`GATE_WAIT_SECONDS`; then :class:`PeriodBusy`."""
    deadline = time.monotonic() + GATE_WAIT_SECONDS
    while not try_gate():
        if time.monotonic() >= deadline:
            raise PeriodBusy(
                str(period), f"a task that has held the period's gate for more than {GATE_WAIT_SECONDS:g} s"
            )
        time.sleep(_GATE_POLL_SECONDS)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _key(*parts: str) -> int:
    """A stable positive 31-bit key for the second half of a two-key advisory lock."""
    return zlib.crc32("|".join(parts).encode("utf-8")) & 0x7FFFFFFF


def _describe(holder) -> str:
    return (
        f"{holder.application_name or 'unnamed session'}, server pid {holder.pid}, "
        f"since {holder.backend_start:%Y-%m-%d %H:%M:%S}"
        if holder
        else "a session that just ended"
    )


@contextmanager
def _advisory_lock(engine: Engine, period: Period, owner: str, step: str | None) -> Iterator[None]:
    keys = {
        "lock_class": LOCK_CLASS,
        "lock_period": period.year * 100 + period.month,
        "owner_class": OWNER_CLASS,
        "owner_key": _key(str(period), owner),
        "gate_class": GATE_CLASS,
        "step_class": STEP_CLASS,
        "step_key": _key(str(period), step or ""),
    }
    label = owner_label(owner) + (f" step={step}" if step else "")
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        query(conn, "ops/runs/name_session", session_name=f"techreform {label}"[:63])
        try:
            _wait_for_gate(period, lambda: bool(query(conn, "ops/runs/gate_try", **keys).scalar()))
            try:
                query(conn, "ops/runs/join_run", **keys)
                other = query(conn, "ops/runs/other_runs", **keys).first()
                if other is not None:  # refused: let go of the period before the gate opens again, so that
                    query(conn, "ops/runs/release_all")  # the holder's next task never sees this session
            finally:  # a connection that broke meanwhile took the gate with it: the error that broke it is raised
                if not conn.invalidated:
                    query(conn, "ops/runs/gate_unlock", **keys)
            if other is not None:
                raise PeriodBusy(str(period), _describe(other))
            if step and not query(conn, "ops/runs/step_try", **keys).scalar():
                raise PeriodBusy(str(period), _describe(query(conn, "ops/runs/step_holder", **keys).first()), step)
            yield
        finally:
            try:
                query(conn, "ops/runs/release_all")
                query(conn, "ops/runs/name_session", session_name="")
            except (sa.exc.DBAPIError, sa.exc.PendingRollbackError):
                # the connection is gone, and the locks with it (PendingRollbackError: it broke during one
                # of the lock's own statements); the error that broke it is the one raised
                conn.invalidate()
    finally:
        conn.close()


def lock_file_of(engine: Engine, period: Period, step: str | None = None) -> Path | None:
    """The lock file of a period (or of one step of it) next to the SQLite database file (None for an
    in-memory database)."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    suffix = f".{step}" if step else ""
    return Path(database).with_name(f"{Path(database).name}.{period}{suffix}.lock")


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def _holder_record(label: str, owner: str) -> bytes:
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return json.dumps({"holder": label, "owner": owner, "since": since}).encode("utf-8")


@contextmanager
def _file_lock(engine: Engine, period: Period, owner: str, step: str | None) -> Iterator[None]:
    path = lock_file_of(engine, period)
    if path is None:
        yield
        return
    label = owner_label(owner)
    fds = [_open(path)]
    try:
        gate = _open(path.with_name(path.name + ".gate"))
        try:
            _wait_for_gate(period, lambda: _try_flock(gate))  # held only while this task checks the period
            try:
                fcntl.flock(fds[0], fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # held: by this run's tasks (join) or by another run (refused)
                record = _read_record(fds[0])
                if record.get("owner") != owner:
                    raise PeriodBusy(str(period), _holder_text(record) or f"a process holding {path.name}") from None
            else:  # free: this run takes it
                os.ftruncate(fds[0], 0)
                os.pwrite(fds[0], _holder_record(label, owner), 0)
            fcntl.flock(fds[0], fcntl.LOCK_SH)  # shared with the run's other tasks
        finally:
            os.close(gate)
        if step:
            step_path = lock_file_of(engine, period, step)
            fds.append(_open(step_path))
            try:
                fcntl.flock(fds[-1], fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder_text(_read_record(fds[-1]))
                raise PeriodBusy(str(period), holder or f"a process holding {step_path.name}", step) from None
            os.ftruncate(fds[-1], 0)
            os.pwrite(fds[-1], _holder_record(label, owner), 0)
        yield
    finally:
        for fd in reversed(fds):
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read_record(fd: int) -> dict:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _holder_text(record: dict) -> str:
    return f"{record['holder']}, since {record['since']}" if record.get("holder") else ""
