"""``warehouse.read_committed_frame``: committed rows read through the database's ADBC driver on a
connection of its own (SQLite's in a process of its own) give :func:`warehouse.read_frame`'s frame, column
for column, on both engines; what the driver would type otherwise is read through the engine instead; the
driver's PostgreSQL sessions are named as the engine's and closed with them; the load commits the staging
table's statistics before it reads the staged rows through the other connection (docs/performance.md,
round 22)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa

from techreform import warehouse
from techreform.warehouse import engine_for

DDL = (
    "create table read_t (id integer primary key, name text, amount double precision, headcount bigint, "
    "flag smallint, late_amount double precision, no_value double precision)"
)
ROWS = 3 * 1024 + 17
"""More rows than ADBC's SQLite driver types a column from by default (1,024)."""


def _row(i: int) -> dict:
    return {
        "id": i,
        "name": None if i % 7 == 0 else ("" if i % 11 == 0 else f"企业{i}"),
        "amount": None if i % 5 == 0 else i / 8,
        "headcount": None if i % 13 == 0 else i * 1_000_003,
        "flag": i % 2,
        "late_amount": None if i < 2_000 else i * 0.5,  # missing through the driver's first batch
        "no_value": None,
    }


def _read_t(url: str, tmp_path, monkeypatch, rows: int = ROWS):
    """An engine on ``url`` whose database has ``read_t`` of ``rows`` rows, and the query file ``read_t``
    (its rows from ``:low`` on, in order)."""
    engine = sa.create_engine(url) if url == "sqlite://" else engine_for(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(DDL)
        warehouse.insert_rows(conn, "read_t", [_row(i) for i in range(rows)])
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "read_t.sql").write_text("select * from read_t where id >= :low order by id", encoding="utf-8")
    monkeypatch.setattr(warehouse, "SQL_DIR", tmp_path / "sql")
    monkeypatch.setattr(warehouse, "ARROW_PROCESS_MIN_ROWS", 2)  # SQLite's reading process for reads this small
    return engine


@pytest.fixture
def engine(warehouse_url, tmp_path, monkeypatch):
    return _read_t(warehouse_url, tmp_path, monkeypatch)


def _engine_reads(monkeypatch) -> list[str]:
    """The query files read_committed_frame left to read_frame (the engine's connection), as it calls them."""
    called: list[str] = []
    read_frame = warehouse.read_frame

    def spy(conn, name, **kwargs):
        called.append(name)
        return read_frame(conn, name, **kwargs)

    monkeypatch.setattr(warehouse, "read_frame", spy)
    return called


def test_committed_rows_come_through_the_arrow_driver_as_read_frame_types_them(engine, monkeypatch):
    with engine.connect() as conn:
        expected = warehouse.read_frame(conn, "read_t", low=0)
        engine_reads = _engine_reads(monkeypatch)
        got = warehouse.read_committed_frame(conn, "read_t", table="read_t", low=0)
    assert engine_reads == []  # the driver's frame, not the engine's
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    dtypes = {name: str(dtype) for name, dtype in got.dtypes.items()}
    assert dtypes == {
        "id": "int64",
        "name": "str",
        "amount": "float64",
        "headcount": "float64",  # whole numbers with a null: NaN, as pandas makes them
        "flag": "int64",
        "late_amount": "float64",
        "no_value": "object",  # a column of nulls: objects
    }
    assert got["name"].isna().sum() == len(range(0, ROWS, 7)) and (got["name"] == "").any()
    assert got.loc[ROWS - 1, "headcount"] == (ROWS - 1) * 1_000_003 and got["late_amount"].iloc[:2_000].isna().all()
    assert got["no_value"].tolist() == [None] * ROWS


def test_no_rows_give_read_frames_empty_frame(engine, monkeypatch):
    """Through ADBC on PostgreSQL; on SQLite fewer rows than the reading process is started for."""
    with engine.connect() as conn:
        expected = warehouse.read_frame(conn, "read_t", low=ROWS)
        engine_reads = _engine_reads(monkeypatch)
        got = warehouse.read_committed_frame(conn, "read_t", table="read_t", low=ROWS)
    assert engine_reads == ([] if engine.dialect.name == "postgresql" else ["read_t"]) and got.empty
    pd.testing.assert_frame_equal(got, expected)


def test_a_column_the_driver_would_type_otherwise_is_read_through_the_engine(engine, monkeypatch):
    """SQLite keeps text in a number column (near the top or far down it) and bytes in a text column; ADBC's
    driver gives the one as text with the numbers written out, the other as binary. PostgreSQL: a decimal
    column (Arrow decimals, Python ``Decimal``s to psycopg) and a ``real`` one (ADBC's float32 is not the
    double psycopg makes of the server's text). Each time the engine reads the query, and the frame is
    read_frame's."""
    if engine.dialect.name == "sqlite":
        changes = [
            ("amount", "update read_t set amount = 'n/a' where id = 3", "n/a"),
            ("late_amount", "update read_t set late_amount = 'n/a' where id = 3000", "n/a"),
            ("name", "update read_t set name = x'00ff' where id = 5", b"\x00\xff"),
        ]
    else:
        changes = [
            ("single", "alter table read_t add column single real", 0.1),  # not float32's 0.10000000149…
            ("exact", "alter table read_t add column exact numeric", Decimal("0.1")),
        ]
    for column, change, value in changes:
        with engine.begin() as conn:
            conn.exec_driver_sql(change)
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"update read_t set {column} = id / 10.0")
        with engine.connect() as conn:
            expected = warehouse.read_frame(conn, "read_t", low=0)
            engine_reads = _engine_reads(monkeypatch)
            got = warehouse.read_committed_frame(conn, "read_t", table="read_t", low=0)
        assert engine_reads == ["read_t"], column
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        row = {"amount": 3, "late_amount": 3000, "name": 5}.get(column, 1)
        assert got.loc[row, column] == value
        with engine.begin() as conn:  # as it was, for the next change
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql(
                    f"update read_t set {column} = :v where id = :id", {"v": _row(row)[column], "id": row}
                )
            else:
                conn.exec_driver_sql(f"alter table read_t drop column {column}")


def test_sqlite_is_read_in_a_process_of_its_own_and_sees_each_commit(sqlite_url, tmp_path, monkeypatch):
    """ADBC's SQLite driver carries a SQLite library of its own, blind to the locks of Python's in the same
    process (a read here was stale, and SQLite's documentation counts two libraries in one process among
    the ways to corrupt a database): it runs in a process of its own, and each read sees every commit."""
    import sys

    engine = _read_t(sqlite_url, tmp_path, monkeypatch, rows=0)
    engine_reads = _engine_reads(monkeypatch)
    for count in (3, 7, 12):
        with engine.begin() as conn:
            warehouse.insert_rows(conn, "read_t", [_row(i) for i in range(count - {3: 3, 7: 4, 12: 5}[count], count)])
        with engine.connect() as conn:
            got = warehouse.read_committed_frame(conn, "read_t", table="read_t", low=0)
        assert got["id"].tolist() == list(range(count))
    assert engine_reads == [] and "adbc_driver_sqlite" not in sys.modules


def test_a_failed_reading_process_leaves_the_read_to_the_engine(sqlite_url, tmp_path, monkeypatch, caplog):
    import logging
    import sys

    engine = _read_t(sqlite_url, tmp_path, monkeypatch, rows=10)
    engine_reads = _engine_reads(monkeypatch)
    with engine.connect() as conn, caplog.at_level(logging.DEBUG, logger="techreform.warehouse"):
        monkeypatch.setattr(sys, "executable", "/bin/false")  # the process exits at once, with nothing read
        got = warehouse.read_committed_frame(conn, "read_t", table="read_t", low=2)
    assert engine_reads == ["read_t"] and got["id"].tolist() == list(range(2, 10))
    assert "read through the engine, not ADBC's SQLite driver: 1" in caplog.text  # /bin/false's exit status


def test_sqlite_reads_of_fewer_rows_than_its_process_saves_on_are_left_to_the_engine(sqlite_url, tmp_path, monkeypatch):
    engine = _read_t(sqlite_url, tmp_path, monkeypatch, rows=10)
    monkeypatch.setattr(warehouse, "ARROW_PROCESS_MIN_ROWS", 9)
    engine_reads = _engine_reads(monkeypatch)
    with engine.connect() as conn:
        assert warehouse.read_committed_frame(conn, "read_t", table="read_t", low=1)["id"].tolist() == list(
            range(1, 10)
        )
        assert engine_reads == []  # nine rows: through the process
        assert warehouse.read_committed_frame(conn, "read_t", table="read_t", low=2)["id"].tolist() == list(
            range(2, 10)
        )
    assert engine_reads == ["read_t"]  # eight: through the engine


def test_a_reading_process_that_writes_no_arrow_is_stopped_and_the_engine_reads(sqlite_url, tmp_path, monkeypatch):
    """The process writes a well-framed message that is no Arrow (the continuation marker, a length of
    eight, eight zero bytes) and then sleeps for ten minutes with its output open: the stream is refused,
    the process is stopped rather than waited for, and the engine reads."""
    import sys
    import threading

    engine = _read_t(sqlite_url, tmp_path, monkeypatch, rows=10)
    impostor = tmp_path / "impostor"
    impostor.write_text(
        "#!/bin/sh\nprintf '\\377\\377\\377\\377\\010\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000'\n"
        "exec sleep 600\n"
    )
    impostor.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(impostor))
    engine_reads = _engine_reads(monkeypatch)
    got: list = []

    def read() -> None:
        with engine.connect() as conn:
            got.append(warehouse.read_committed_frame(conn, "read_t", table="read_t", low=2))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=120)
    assert not reader.is_alive(), "the read waited for a process that wrote no Arrow"
    assert engine_reads == ["read_t"] and got[0]["id"].tolist() == list(range(2, 10))


def test_the_reading_process_waits_for_a_lock_as_long_as_the_request_says(tmp_path):
    """A writer holds the database's exclusive lock for a second: a request that waits ten seconds reads the
    rows the writer committed; one that waits none fails. The warehouse's requests carry its engines' wait."""
    import json
    import sqlite3
    import subprocess
    import sys
    import threading

    import pyarrow as pa

    database = tmp_path / "locked.sqlite"
    with sqlite3.connect(database) as setup:
        setup.execute("create table t (id integer)")
        setup.execute("insert into t values (1)")
    setup.close()

    def read(busy_timeout_ms: int) -> subprocess.CompletedProcess:
        request = {"database": str(database), "statement": "select id from t order by id", "parameters": []}
        return subprocess.run(
            [sys.executable, "-m", "techreform.sqlite_arrow"],
            input=json.dumps({**request, "busy_timeout_ms": busy_timeout_ms}).encode(),
            capture_output=True,
            timeout=120,
        )

    for busy_timeout_ms in (10_000, 0):
        writer = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        writer.execute("begin exclusive")  # a rollback journal: no reader while it is held
        writer.execute("insert into t values (2)")
        released = threading.Timer(1.0, lambda w=writer: (w.execute("commit"), w.close()))
        released.start()
        done = read(busy_timeout_ms)
        released.join()
        if busy_timeout_ms:
            assert done.returncode == 0, done.stderr.decode()
            # the writer's row: read after its commit (while the lock was held no read could begin)
            assert pa.ipc.open_stream(done.stdout).read_all().column("id").to_pylist() == [1, 2]
        else:
            assert done.returncode != 0 and b"locked" in done.stderr, done.stderr.decode()
        with sqlite3.connect(database) as cleanup:
            cleanup.execute("delete from t where id = 2")
        cleanup.close()


def test_the_warehouses_reads_wait_for_a_lock_as_its_engines_do(sqlite_url, tmp_path, monkeypatch):
    engine = _read_t(sqlite_url, tmp_path, monkeypatch, rows=10)
    requests: list[dict] = []
    in_its_own_process = warehouse._sqlite_arrow_in_its_own_process

    def spy(request):
        requests.append(request)
        return in_its_own_process(request)

    monkeypatch.setattr(warehouse, "_sqlite_arrow_in_its_own_process", spy)
    monkeypatch.setattr(warehouse, "SQLITE_BUSY_TIMEOUT_SECONDS", 7)
    with engine.connect() as conn:
        assert warehouse.read_committed_frame(conn, "read_t", table="read_t", low=3)["id"].tolist() == list(
            range(3, 10)
        )
    assert [request["busy_timeout_ms"] for request in requests] == [7_000]


def test_a_sqlite_database_in_memory_is_read_through_the_engine(tmp_path, monkeypatch):
    engine = _read_t("sqlite://", tmp_path, monkeypatch, rows=10)  # one connection's: no other sees it
    with engine.connect() as conn:
        engine_reads = _engine_reads(monkeypatch)
        got = warehouse.read_committed_frame(conn, "read_t", table="read_t", low=2)
    assert engine_reads == ["read_t"] and got["id"].tolist() == list(range(2, 10))


@pytest.mark.postgres
def test_the_drivers_postgresql_sessions_are_named_as_the_engines_and_closed_with_them(pg_url, tmp_path, monkeypatch):
    engine = _read_t(pg_url, tmp_path, monkeypatch)
    with engine.connect() as conn:
        for low in (0, ROWS - 5):  # the second read opens no new idle session
            assert len(warehouse.read_committed_frame(conn, "read_t", table="read_t", low=low)) == ROWS - low
    database = sa.make_url(pg_url).database
    observer = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)

    def sessions() -> list[tuple[str, str]]:
        """The sessions on the test's database but the observer's own: name and state."""
        sql = "select application_name, state from pg_stat_activity where datname = :db and pid <> pg_backend_pid()"
        with observer.connect() as watch:
            found = watch.execute(sa.text(sql), {"db": database}).all()
        return [(session.application_name, session.state) for session in found]

    engine.dispose()  # the engine's pooled session closed: what is left is the driver's
    assert sessions() == [("techreform", "idle")]
    warehouse.dispose_engines()
    assert sessions() == []
    observer.dispose()


@pytest.mark.postgres
def test_the_load_commits_the_staging_tables_statistics_before_it_reads_the_staged_rows(tmp_path, pg_url, monkeypatch):
    """The staged rows are read on another connection, whose planner sees only committed statistics: the
    staging table's ``ANALYZE`` is committed before they are read (without it, a national month's join of
    its staged rows to the file log was planned for the rows of the month before)."""
    from landing_files import e1_row, uscc_for, write_delivery
    from techreform import load
    from techreform.config import Settings
    from techreform.forms import ENTERPRISE_MONTHLY as E1
    from techreform.periods import Period
    from techreform.pipeline import prepare_warehouse, process_form

    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path / "data"), "TECHREFORM_WAREHOUSE_URL": pg_url})
    engine = prepare_warehouse(settings)
    rows = [e1_row(uscc_for("620102", n), "2013-06") for n in range(1, 8)]
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", rows)
    observer = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    seen: list[float] = []
    read_staged = load.read_staged

    def read_staged_seen_from_outside(conn, form, period):
        with observer.connect() as other:  # what a connection of its own sees of the statistics
            seen.append(
                other.execute(
                    sa.text("select reltuples from pg_class where relname = :t and relkind = 'r'"),
                    {"t": E1.staging_table},
                ).scalar_one()
            )
            seen.append(
                other.execute(
                    sa.text("select count(*) from pg_stats where tablename = :t"), {"t": E1.staging_table}
                ).scalar_one()
            )
        return read_staged(conn, form, period)

    monkeypatch.setattr(load, "read_staged", read_staged_seen_from_outside)
    result = process_form(engine, settings, "E1", Period(2013, 6))["load"]
    observer.dispose()
    assert result["accepted"] == 7
    assert seen[0] == 7 and seen[1] > 0  # the rows counted and the columns' statistics committed
