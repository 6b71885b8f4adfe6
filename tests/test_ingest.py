"""Ingestion: raw zone with sha256, file log, staging, parse errors, rejected files (on SQLite and PostgreSQL)."""

import hashlib

import pytest
import sqlalchemy as sa

from landing_files import e1_row, uscc_for, write_delivery
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.ingest import ingest_form_period, map_headers
from techreform.periods import Period
from techreform.pipeline import prepare_warehouse

PERIOD = Period(2013, 6)


def _count(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings)


def test_a_delivered_file_is_kept_unchanged_in_the_raw_zone_and_logged_with_its_sha256(settings, engine):
    path = write_delivery(
        settings.landing_dir,
        E1,
        "2013-06",
        "E1_620100_2013-06.csv",
        [e1_row(uscc_for("620102", 1), "2013-06")],
        encoding="gbk",
    )
    summary = ingest_form_period(engine, settings, E1, PERIOD)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [f.status for f in summary.files] == ["loaded"]
    raw = settings.raw_dir / "enterprise_monthly" / "2013-06" / sha / path.name
    assert raw.read_bytes() == path.read_bytes()
    with engine.connect() as conn:
        log = conn.execute(sa.text("select * from etl_file_log")).mappings().one()
    assert (log["file_sha256"], log["encoding"], log["rows_received"], log["delivery_seq"]) == (sha, "gb18030", 1, 1)
    with engine.connect() as conn:
        staged = conn.execute(
            sa.text("select gross_output, energy_tce, rd_expense, period from stg_enterprise_monthly")
        ).one()
    assert tuple(staged) == (1200.5, 500.0, None, "2013-06")


def test_the_same_bytes_delivered_again_change_nothing(settings, engine):
    rows = [e1_row(uscc_for("620102", 1), "2013-06")]
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", rows)
    ingest_form_period(engine, settings, E1, PERIOD)
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06_again.csv", rows)
    summary = ingest_form_period(engine, settings, E1, PERIOD)
    assert sorted(f.status for f in summary.files) == ["loaded", "unchanged"] or [f.status for f in summary.files] == [
        "unchanged",
        "unchanged",
    ]
    assert _count(engine, "select count(*) from etl_file_log") == 1
    assert _count(engine, "select count(*) from stg_enterprise_monthly") == 1


def test_a_file_missing_a_required_column_is_rejected_by_name_and_the_others_go_on(settings, engine):
    good = [e1_row(uscc_for("620102", 1), "2013-06")]
    bad = [{k: v for k, v in e1_row(uscc_for("620402", 2), "2013-06", region="620402").items() if k != "主营业务收入"}]
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", good)
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620400_2013-06.csv", bad)
    summary = ingest_form_period(engine, settings, E1, PERIOD)
    by_name = {f.file_name: f for f in summary.files}
    assert by_name["E1_620100_2013-06.csv"].status == "loaded"
    rejected = by_name["E1_620400_2013-06.csv"]
    assert rejected.status == "rejected"
    assert "E1_620400_2013-06.csv" in rejected.message and "主营业务收入 (revenue)" in rejected.message
    assert _count(engine, "select count(*) from stg_enterprise_monthly") == 1


def test_cells_that_do_not_parse_are_kept_with_field_and_reason(settings, engine):
    rows = [
        e1_row(uscc_for("620102", 1), "2013-06"),
        e1_row(uscc_for("620102", 2), "2013-06", **{"主营业务收入": "12,3a4"}),
    ]
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", rows)
    ingest_form_period(engine, settings, E1, PERIOD)
    with engine.connect() as conn:
        error = conn.execute(sa.text("select source_row, record_key, fields, messages from stg_parse_error")).one()
    assert error.source_row == 3
    assert error.record_key == uscc_for("620102", 2)
    assert error.fields == "revenue"
    assert "主营业务收入 (revenue)" in error.messages and "12,3a4" in error.messages
    assert _count(engine, "select count(*) from stg_enterprise_monthly") == 1


def test_canonical_headers_units_in_headers_and_extra_columns_are_understood():
    mapping, extras, problems = map_headers(
        E1, [*E1.field_names[:5], "工业总产值(万元)", *E1.field_names[6:], "填表人"]
    )
    assert problems == []
    assert extras == ["填表人"]
    assert set(mapping.values()) == set(E1.field_names)


def test_a_column_given_twice_is_a_problem():
    _, _, problems = map_headers(E1, [*E1.field_names, "企业名称"])
    assert problems and "企业名称 (enterprise_name)" in problems[0]


def test_a_file_with_only_the_header_is_a_valid_delivery_of_nothing(settings, engine):
    write_delivery(
        settings.landing_dir, E1, "2013-06", "E1_620200_2013-06.csv", [e1_row(uscc_for("620201", 1), "2013-06")]
    )
    path = settings.landing_dir / "enterprise_monthly" / "2013-06" / "E1_620200_2013-06.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    summary = ingest_form_period(engine, settings, E1, PERIOD)
    assert [(f.status, f.rows_received) for f in summary.files] == [("loaded", 0)]


def test_two_deliveries_of_a_period_can_never_share_a_sequence_number(settings, engine):
    from techreform.warehouse import insert_rows

    row = {
        "form": "E1",
        "period": "2013-06",
        "file_sha256": "a" * 64,
        "file_name": "a.csv",
        "raw_path": "/r/a",
        "bytes": 1,
        "received_at": "2026-01-01T00:00:00+00:00",
        "delivery_seq": 1,
        "encoding": "utf-8",
        "status": "loaded",
        "rows_received": 0,
        "extra_columns": "",
        "message": "",
    }
    with engine.begin() as conn:
        insert_rows(conn, "etl_file_log", [row])
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        insert_rows(conn, "etl_file_log", [{**row, "file_sha256": "b" * 64, "file_name": "b.csv"}])


def test_a_file_is_staged_in_slices_and_a_quarantined_row_shows_its_cells_as_received(settings, engine, monkeypatch):
    """Bounded memory (docs/performance.md): a file is parsed and staged by slices of rows, in its one
    transaction; the staged rows carry no JSON of the row, and the quarantine reads the row as received
    back from the raw zone (by file and row number)."""
    import json

    import techreform.ingest as ingest
    from techreform.load import load_form_period

    monkeypatch.setattr(ingest, "STAGE_CHUNK_ROWS", 2)
    rows = [e1_row(uscc_for("620102", i), "2013-06") for i in range(1, 6)]
    rows[3] = e1_row(uscc_for("620102", 4), "2013-06", **{"工业总产值": "-15"})  # parses; E1-H07 quarantines it
    rows[4] = e1_row(uscc_for("620102", 5), "2013-06", **{"主营业务收入": "12,3a4"})  # does not parse
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", rows)
    summary = ingest_form_period(engine, settings, E1, PERIOD)
    (outcome,) = summary.files
    assert (outcome.status, outcome.rows_received, outcome.rows_staged, outcome.rows_unparsed) == ("loaded", 5, 4, 1)
    assert _count(engine, "select count(*) from stg_enterprise_monthly where raw_json = ''") == 4
    load_form_period(engine, settings, E1, PERIOD)
    with engine.connect() as conn:
        quarantined = dict(conn.execute(sa.text("select source_row, row_json from quarantine")).all())
    assert sorted(quarantined) == [5, 6]
    assert json.loads(quarantined[5])["工业总产值"] == "-15"
    assert json.loads(quarantined[5])["综合能源消费量"] == "５００"  # as received, not normalised
    assert json.loads(quarantined[6])["主营业务收入"] == "12,3a4"


def _another_writer_commits(engine) -> str:
    """Whether another connection can write to the warehouse and commit at once (within 0.2 s): ``""``,
    or the error that stopped it. SQLite has one write lock per database file."""
    url = engine.url
    try:
        if url.get_backend_name() == "sqlite":
            import sqlite3

            other = sqlite3.connect(url.database, timeout=0.2, isolation_level=None)
            try:
                other.execute("begin immediate")
                other.execute("create table if not exists lock_probe (n integer)")
                other.execute("insert into lock_probe values (1)")
                other.execute("commit")
            finally:
                other.close()
        else:
            with sa.create_engine(url).connect() as other:
                other.exec_driver_sql("set lock_timeout = '200ms'")
                other.exec_driver_sql("create table if not exists lock_probe (n integer)")
                other.exec_driver_sql("insert into lock_probe values (1)")
                other.commit()
    except Exception as exc:  # noqa: BLE001 - the probe reports whatever stopped it
        return f"{type(exc).__name__}: {exc}"
    return ""


def _temp_tables_at_checkin(engine) -> list[list[str]]:
    """The TEMP tables each connection holds when it goes back to ``engine``'s pool (SQLite; none recorded on
    PostgreSQL), recorded from now on: a file's TEMP tables must not outlive its staging."""
    held: list[list[str]] = []
    if engine.dialect.name == "sqlite":

        def checkin(dbapi_connection, _record):
            rows = dbapi_connection.execute("select name from sqlite_temp_master where type = 'table'")
            held.append(sorted(name for (name,) in rows))

        sa.event.listen(engine, "checkin", checkin)
    return held


def test_while_a_file_is_parsed_slice_by_slice_another_writer_is_not_kept_waiting(settings, engine, monkeypatch):
    """SQLite's one write lock is not held while a file is parsed (docs/performance.md, round 20): the
    slices go to the connection's TEMP tables and the file's transaction only copies them in, so a writer
    beside it (another form's ingest, a validation) does not wait for the parse. The file is still staged
    whole, in one transaction with its log row."""
    import techreform.ingest as ingest

    monkeypatch.setattr(ingest, "STAGE_CHUNK_ROWS", 2)
    real, probes = ingest.parse_table, []

    def parse_then_probe(form, table, period=None):
        if table.file_name.startswith("E1_"):
            probes.append(_another_writer_commits(engine))  # slices 2 and 3: the first is staged aside
        return real(form, table, period)

    monkeypatch.setattr(ingest, "parse_table", parse_then_probe)
    rows = [e1_row(uscc_for("620102", i), "2013-06") for i in range(1, 6)]
    rows[4] = e1_row(uscc_for("620102", 5), "2013-06", **{"主营业务收入": "12,3a4"})  # does not parse
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", rows)
    held = _temp_tables_at_checkin(engine)
    (outcome,) = ingest_form_period(engine, settings, E1, PERIOD).files
    assert all(tables == [] for tables in held) and (held != []) is (engine.dialect.name == "sqlite"), held
    assert probes == ["", "", ""]  # one parse per slice of 2 rows, each with the other writer done
    assert (outcome.status, outcome.rows_staged, outcome.rows_unparsed) == ("loaded", 4, 1)
    assert _count(engine, "select count(*) from stg_enterprise_monthly where delivery_seq = 1") == 4
    assert _count(engine, "select count(*) from stg_parse_error where delivery_seq = 1 and source_row = 6") == 1
    assert _count(engine, "select count(*) from lock_probe") == 3


def test_on_postgresql_the_next_slice_is_parsed_while_a_slice_is_copied(settings, engine, monkeypatch):
    """PostgreSQL (docs/performance.md, round 24): while a slice of a file is copied into staging, the next
    slice is being parsed (``techreform.ahead.produced_ahead``), so the server's work and the client's
    overlap; every row is staged as before. On SQLite (TEMP tables through ``executemany``, which holds the
    GIL) the slices are parsed one after the other, between the inserts."""
    import threading
    import time

    import techreform.ingest as ingest

    monkeypatch.setattr(ingest, "STAGE_CHUNK_ROWS", 2)
    real_parse, real_insert = ingest.parse_table, ingest.insert_columns
    parses: list[str] = []
    overlapped: list[bool] = []

    def recording_parse(form, table, period=None):
        if table.file_name.startswith("E1_"):
            parses.append(threading.current_thread().name)
        return real_parse(form, table, period)

    wait = 5.0 if engine.dialect.name == "postgresql" else 0.2

    def insert_waiting_for_the_next_parse(conn, table, names, columns):
        if table in (E1.staging_table, "staged_aside"):
            after = len(overlapped) + 2  # this insert's slice is the last but one parsed once the next has begun
            deadline = time.monotonic() + wait
            while len(parses) < after and after <= 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            overlapped.append(len(parses) >= after)
        return real_insert(conn, table, names, columns)

    monkeypatch.setattr(ingest, "parse_table", recording_parse)
    monkeypatch.setattr(ingest, "insert_columns", insert_waiting_for_the_next_parse)
    rows = [e1_row(uscc_for("620102", i), "2013-06") for i in range(1, 6)]
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", rows)
    (outcome,) = ingest_form_period(engine, settings, E1, PERIOD).files
    assert (outcome.status, outcome.rows_staged) == ("loaded", 5)
    assert _count(engine, "select count(*) from stg_enterprise_monthly where delivery_seq = 1") == 5
    assert len(parses) == 3  # slices of 2, 2 and 1 rows
    main = threading.current_thread().name
    if engine.dialect.name == "postgresql":
        assert overlapped == [True, True, False]  # the last slice has no next one
        assert parses[0] == main and all(name.startswith("parse") for name in parses[1:])
    else:
        assert overlapped == [False, False, False]
        assert parses == [main] * 3


def test_a_file_refused_while_its_parsed_rows_are_copied_in_is_rejected_whole_and_the_next_goes_on(
    settings, engine, monkeypatch
):
    """On SQLite the file's transaction logs it and copies its parsed rows in: a refusal there rolls back
    the log row and every row, and the file is logged rejected, naming the error (on PostgreSQL there is
    no copy, and the file loads)."""
    import os

    import techreform.ingest as ingest

    real = ingest.query

    def refusing(conn, name, **kwargs):
        if name == "staging/files/staged_from_aside" and kwargs.get("delivery_seq") == 2:
            raise sa.exc.OperationalError("insert", {}, ValueError("disk I/O error"))
        return real(conn, name, **kwargs)

    monkeypatch.setattr(ingest, "query", refusing)
    for mtime, (name, serials) in enumerate(
        [("E1_620100_2013-06_a.csv", (1,)), ("E1_620100_2013-06_b.csv", (2, 3)), ("E1_620200_2013-06.csv", (4,))],
        start=1,
    ):  # delivered in this order: the second file is delivery 2
        rows = [e1_row(uscc_for("620102" if serial < 4 else "620201", serial), "2013-06") for serial in serials]
        path = write_delivery(settings.landing_dir, E1, "2013-06", name, rows)
        os.utime(path, (mtime * 1_000, mtime * 1_000))
    held = _temp_tables_at_checkin(engine)
    outcomes = {f.file_name: f for f in ingest_form_period(engine, settings, E1, PERIOD).files}
    sqlite = engine.dialect.name == "sqlite"
    assert all(tables == [] for tables in held) and (held != []) is sqlite, held  # dropped after the refusal too
    refused = outcomes["E1_620100_2013-06_b.csv"]
    assert (refused.status, refused.rows_staged) == (("rejected", 0) if sqlite else ("loaded", 2))
    assert ("staging failed (OperationalError" in refused.message) is sqlite
    assert [outcomes[n].status for n in ("E1_620100_2013-06_a.csv", "E1_620200_2013-06.csv")] == ["loaded", "loaded"]
    assert _count(engine, "select count(*) from stg_enterprise_monthly") == (2 if sqlite else 4)
    assert _count(engine, "select count(*) from etl_file_log where status = 'rejected'") == int(sqlite)
