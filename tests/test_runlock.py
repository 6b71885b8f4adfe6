"""The period lock lets the tasks of one run work at once (the four ingests in parallel on the workers)
while another run of the same period is refused at once, and one step never runs twice at a time; on a
SQLite file and on PostgreSQL, with a second engine standing for another process."""

from __future__ import annotations

import fcntl
import threading
import time
from contextlib import ExitStack, contextmanager

import pytest
import sqlalchemy as sa

from techreform import runlock
from techreform.periods import Period
from techreform.runlock import PeriodBusy, period_lock
from techreform.warehouse import create_schema, dispose_engines, engine_for

PERIOD = "2013-06"
RUN_A = "techreform_monthly/manual__2013-07-01T00:00:00+00:00"
RUN_B = "techreform_monthly/scheduled__2013-07-01T00:00:00+00:00"


@pytest.fixture
def engines(warehouse_url):
    engine = engine_for(warehouse_url)
    create_schema(engine)
    others = [sa.create_engine(warehouse_url) for _ in range(3)]  # other sessions, as other processes have
    yield [engine, *others]
    for other in others:
        other.dispose()
    dispose_engines()


def test_tasks_of_one_run_hold_the_period_together_and_another_run_is_refused(engines):
    first, second, third, fourth = engines
    with ExitStack() as held:
        held.enter_context(period_lock(first, PERIOD, RUN_A, "ingest_register"))
        held.enter_context(period_lock(second, PERIOD, RUN_A, "ingest_enterprises"))  # the same run: joins
        with (
            pytest.raises(PeriodBusy, match=rf"{PERIOD}: another run of this period is in progress \(.*manual__"),
            period_lock(third, PERIOD, RUN_B, "ingest_register"),
        ):
            pass
        with (
            pytest.raises(PeriodBusy, match=rf"{PERIOD}: step ingest_register of this period is already running"),
            period_lock(third, PERIOD, RUN_A, "ingest_register"),  # a second attempt of a running task
        ):
            pass
        with period_lock(fourth, "2013-07", RUN_B, "ingest_register"):  # another period is not in the way
            pass
    # When the last task of the run has let go, the other run takes the period, and then refuses the first.
    with (
        period_lock(third, PERIOD, RUN_B, "ingest_register"),
        pytest.raises(PeriodBusy, match=r"another run of this period is in progress"),
        period_lock(first, PERIOD, RUN_A),
    ):
        pass
    with period_lock(first, PERIOD, RUN_A, "ingest_register"):
        pass


def test_the_run_keeps_the_period_while_any_of_its_tasks_holds_it(engines):
    first, second, third, _ = engines
    with period_lock(first, PERIOD, RUN_A, "ingest_register"):
        with period_lock(second, PERIOD, RUN_A, "ingest_projects"):
            pass
        # the task that took the period first is still running: the period is still the run's
        with pytest.raises(PeriodBusy), period_lock(third, PERIOD, RUN_B):
            pass
        with period_lock(second, PERIOD, RUN_A, "ingest_projects"):  # and its tasks still join
            pass


def test_racing_tasks_of_two_runs_never_hold_the_period_at_the_same_time(engines):
    """Eight workers (threads, each on its own session) start tasks of two runs in a tight loop: the
    intervals in which run A holds the period never overlap those of run B."""
    intervals: list[tuple[str, float, float]] = []
    refused = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        engine = engines[index % len(engines)]
        owner = RUN_A if index % 2 else RUN_B
        for attempt in range(10 if owner == RUN_A else 4):  # A outlasts B: usually both runs get in
            try:
                with period_lock(engine, PERIOD, owner, f"step_{index}_{attempt}"):
                    start = time.monotonic()
                    time.sleep(0.02)
                    end = time.monotonic()
                with lock:
                    intervals.append((owner, start, end))
            except PeriodBusy:
                with lock:
                    refused.append(owner)
            time.sleep(0.005 * (index + 1))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert intervals and refused  # tasks got in, and others were refused: they did compete
    assert {owner for owner, _, _ in intervals} | set(refused) == {RUN_A, RUN_B}
    a = [(s, e) for o, s, e in intervals if o == RUN_A]
    b = [(s, e) for o, s, e in intervals if o == RUN_B]
    overlaps = [(x, y) for x in a for y in b if x[0] < y[1] and y[0] < x[1]]
    assert not overlaps, overlaps[:3]


@contextmanager
def gate_held_by_a_hung_task(engine):
    """The period's gate held by another session (a task hung while it checks), as each engine keeps it."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("select pg_advisory_lock(:c, :p)"), {"c": runlock.GATE_CLASS, "p": 201306})
            yield
            conn.execute(sa.text("select pg_advisory_unlock(:c, :p)"), {"c": runlock.GATE_CLASS, "p": 201306})
    else:
        path = runlock.lock_file_of(engine, Period.parse(PERIOD))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".gate"), "a+b") as gate:
            fcntl.flock(gate, fcntl.LOCK_EX)
            yield


def test_a_task_waits_for_the_gate_a_bounded_time_then_stops_in_one_line_and_the_period_is_left_free(
    engines, monkeypatch
):
    monkeypatch.setattr(runlock, "GATE_WAIT_SECONDS", 0.5)
    first, second, _, _ = engines
    with gate_held_by_a_hung_task(second):
        started = time.monotonic()
        with (
            pytest.raises(PeriodBusy, match=rf"{PERIOD}: .*held the period's gate for more than 0.5 s"),
            period_lock(first, PERIOD, RUN_A, "ingest_register"),
        ):
            pass
        assert time.monotonic() - started >= 0.5  # it waited, then gave up
    with period_lock(first, PERIOD, RUN_B, "ingest_register"):  # nothing was left held: another run gets in
        pass


@pytest.mark.postgres
def test_runs_of_the_same_period_on_two_warehouses_of_one_server_do_not_meet(pg_url):
    """Advisory locks are per database, but pg_locks lists every database's: a warehouse beside ours (a
    test, a second province) holding the same period is not in our way."""
    import uuid

    from conftest import PG_ADMIN_URL

    name = f"techreform_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{name}"')
    beside = sa.create_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    ours = engine_for(pg_url)
    try:
        with period_lock(beside, PERIOD, RUN_B, "ingest_register"), period_lock(ours, PERIOD, RUN_A, "ingest_register"):
            pass
    finally:
        beside.dispose()
        dispose_engines()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("statement", ["gate_try", "join_run", "other_runs", "gate_unlock", "step_try"])
def test_a_lock_connection_terminated_during_the_locks_own_statement_raises_the_disconnect(
    pg_url, monkeypatch, statement
):
    """The warehouse ends the lock's session during one of its statements (an administrator, a failover):
    the error raised is the disconnect (which the run reports as the warehouse's, in one line), not
    SQLAlchemy's "Can't reconnect until invalid transaction is rolled back" from a release after it (the
    gate's, while joining; the locks', on the way out)."""
    engine = engine_for(pg_url)
    create_schema(engine)
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    real_query = runlock.query

    def query(conn, name, **params):
        if name == f"ops/runs/{statement}":  # end this session from outside, then let the statement run
            pid = conn.exec_driver_sql("select pg_backend_pid()").scalar()
            with admin.connect() as other:
                other.execute(sa.text("select pg_terminate_backend(:pid)"), {"pid": pid})
        return real_query(conn, name, **params)

    monkeypatch.setattr(runlock, "query", query)
    try:
        with pytest.raises(sa.exc.OperationalError), period_lock(engine, PERIOD, RUN_A, "ingest_register"):
            pass
    finally:
        admin.dispose()
        dispose_engines()
    monkeypatch.setattr(runlock, "query", real_query)
    with period_lock(engine_for(pg_url), PERIOD, RUN_B, "ingest_register"):  # nothing was left held
        pass
