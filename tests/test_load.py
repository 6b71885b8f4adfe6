"""Validate-and-load: every input row accepted or quarantined, supersession by later deliveries,
idempotent re-runs (on SQLite and PostgreSQL)."""

import logging
import os

import pytest
import sqlalchemy as sa

from landing_files import e1_row, uscc_for, write_delivery
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.periods import Period
from techreform.pipeline import prepare_warehouse, process_form
from warehouse_snapshot import changes, snapshot

PERIOD = Period(2013, 6)
A, B, C = (uscc_for("620102", n) for n in (1, 2, 3))


def _rows(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).fetchall()


def _deliver(settings, name, rows, mtime):
    path = write_delivery(settings.landing_dir, E1, "2013-06", name, rows)
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings)


def test_every_input_row_is_accepted_or_quarantined_with_its_rules(settings, engine):
    _deliver(
        settings,
        "E1_620100_2013-06.csv",
        [
            e1_row(A, "2013-06"),
            e1_row(B, "2013-06"),
            e1_row(C, "2013-06", **{"主营业务收入": "12,3a4"}),  # does not parse: E1-H00
            e1_row(A[:-1] + ("0" if A[-1] != "0" else "1"), "2013-06"),  # wrong check character: E1-H01
        ],
        1_000_000,
    )
    result = process_form(engine, settings, "E1", PERIOD)
    load = result["load"]
    assert (load["received"], load["accepted"], load["quarantined"]) == (4, 2, 2)
    outcomes = _rows(engine, "select source_row, outcome, rule_ids from etl_row_outcome order by source_row")
    assert [(r.source_row, r.outcome) for r in outcomes] == [
        (2, "accepted"),
        (3, "accepted"),
        (4, "quarantined"),
        (5, "quarantined"),
    ]
    assert "E1-H00" in outcomes[2].rule_ids and "E1-H01" in outcomes[3].rule_ids
    quarantine = _rows(
        engine,
        "select source_row, file_name, rule_ids, messages, row_json, prefecture_code "
        "from quarantine order by source_row",
    )
    assert quarantine[0].file_name == "E1_620100_2013-06.csv"
    assert "主营业务收入 (revenue)" in quarantine[0].messages and "12,3a4" in quarantine[0].row_json
    assert quarantine[0].prefecture_code == "620100"
    facts = _rows(engine, "select uscc, prefecture_code, revenue from fct_enterprise_monthly order by uscc")
    assert [(f.uscc, f.prefecture_code, f.revenue) for f in facts] == sorted(
        [(A, "620100", 1100.0), (B, "620100", 1100.0)]
    )


def test_a_rerun_of_a_period_changes_nothing(settings, engine):
    _deliver(
        settings, "E1_620100_2013-06.csv", [e1_row(A, "2013-06"), e1_row(B, "2013-06", **{"利润总额": "x"})], 1_000_000
    )
    process_form(engine, settings, "E1", PERIOD)
    before = snapshot(engine)
    process_form(engine, settings, "E1", PERIOD)
    assert changes(before, snapshot(engine)) == {}


def test_a_byte_identical_redelivery_changes_nothing(settings, engine):
    first = _deliver(settings, "E1_620100_2013-06.csv", [e1_row(A, "2013-06")], 1_000_000)
    process_form(engine, settings, "E1", PERIOD)
    before = snapshot(engine)
    again = first.with_name("E1_620100_2013-06(1).csv")
    again.write_bytes(first.read_bytes())
    process_form(engine, settings, "E1", PERIOD)
    assert changes(before, snapshot(engine)) == {}


def test_a_corrected_redelivery_replaces_exactly_the_rows_it_corrects(settings, engine):
    _deliver(
        settings,
        "E1_620100_2013-06.csv",
        [
            e1_row(A, "2013-06"),
            e1_row(B, "2013-06"),
            e1_row(C, "2013-06", **{"企业名称": ""}),  # hard failure, corrected below
        ],
        1_000_000,
    )
    process_form(engine, settings, "E1", PERIOD)
    _deliver(
        settings,
        "E1_620100_2013-06_更正.csv",
        [
            e1_row(A, "2013-06", **{"主营业务收入": "1,250"}),
            e1_row(C, "2013-06"),
        ],
        2_000_000,
    )
    result = process_form(engine, settings, "E1", PERIOD)
    assert result["load"]["superseded"] == 2
    facts = {
        r.uscc: r for r in _rows(engine, "select uscc, revenue, source_row, file_sha256 from fct_enterprise_monthly")
    }
    assert set(facts) == {A, B, C}
    assert facts[A].revenue == 1250.0
    assert facts[B].revenue == 1100.0
    files = dict(_rows(engine, "select file_name, file_sha256 from etl_file_log"))
    assert facts[A].file_sha256 == files["E1_620100_2013-06_更正.csv"]
    assert facts[B].file_sha256 == files["E1_620100_2013-06.csv"]
    quarantine = _rows(engine, "select record_key, superseded from quarantine")
    assert [(q.record_key, q.superseded) for q in quarantine] == [(C, 1)]
    outcomes = _rows(
        engine,
        "select count(*) as n, sum(case when outcome = 'accepted' then 1 else 0 end) as accepted from etl_row_outcome",
    )
    assert (outcomes[0].n, outcomes[0].accepted) == (5, 4)


def test_a_period_without_any_delivery_loads_empty_not_an_error(settings, engine):
    result = process_form(engine, settings, "E1", Period(2013, 1))
    assert result["load"]["received"] == 0
    assert _rows(engine, "select count(*) from fct_enterprise_monthly")[0][0] == 0


def test_staged_rows_are_read_with_their_files_columns_as_one_query_of_every_column_reads_them(settings, engine):
    """read_staged takes a row's sha256, delivery period, file name and raw path from its file's row by
    delivery_seq: the same frame, values and types, as reading every column of every row."""
    import pandas as pd

    from techreform.load import into_delivery_order, read_staged

    _deliver(settings, "E1_620100_2013-06.csv", [e1_row(A, "2013-06"), e1_row(B, "2013-06")], 1_000_000)
    _deliver(settings, "E1_620200_2013-06.csv", [e1_row(C, "2013-06")], 1_000_100)
    rejected = _deliver(settings, "E1_620300_2013-06.xlsx", [e1_row(A, "2013-06")], 1_000_200)
    rejected.write_bytes(b"not a workbook")  # rejected at ingest: no staged rows, its file log row not loaded
    process_form(engine, settings, "E1", PERIOD)
    write_delivery(settings.landing_dir, E1, "2013-07", "E1_620100_2013-07.csv", [e1_row(A, "2013-07")])
    process_form(engine, settings, "E1", Period(2013, 7))  # another period's rows stay out
    every_column = """
        select s.*, f.file_name, f.raw_path
        from stg_enterprise_monthly as s
        join etl_file_log as f
            on f.file_sha256 = s.file_sha256 and f.period = s.delivery_period and f.form = 'E1'
            and f.status = 'loaded'
        where s.delivery_period = '2013-06'
    """
    with engine.connect() as conn:
        staged, _unparsed = read_staged(conn, E1, "2013-06")
        result = conn.execute(sa.text(every_column))
        keys, rows = list(result.keys()), result.fetchall()
    expected = into_delivery_order(pd.DataFrame([tuple(r) for r in rows], columns=keys))
    assert list(staged.columns) == keys and len(staged) == 3
    assert staged["file_name"].tolist() == ["E1_620100_2013-06.csv"] * 2 + ["E1_620200_2013-06.csv"]
    assert staged["raw_path"].dtype == "category"
    for name in keys:  # each column as the driver gives it, and typed as a query of it would be
        got = staged[name].astype(object).where(staged[name].notna(), None).tolist()
        want = expected[name].astype(object).where(expected[name].notna(), None).tolist()
        assert got == want, name
    assert str(staged["file_sha256"].dtype) == str(staged["uscc"].dtype)  # text, as every text column


def test_a_period_without_staged_rows_reads_no_rows_with_every_column(settings, engine):
    from techreform.load import read_staged

    with engine.connect() as conn:
        staged, unparsed = read_staged(conn, E1, "2013-06")
        columns = [c["name"] for c in sa.inspect(conn).get_columns(E1.staging_table)]
    assert staged.empty and unparsed.empty
    assert list(staged.columns) == [*columns, "file_name", "raw_path"]


def test_the_load_writes_nothing_until_its_work_in_python_is_done_and_then_keeps_its_check(
    settings, engine, monkeypatch, caplog
):
    """On SQLite a transaction's first write takes the database's one write lock until its commit, so the
    load writes nothing (not even the check it keeps for reuse) until the check has run, the rows as received
    are read back and the outcomes are decided (docs/performance.md, round 20); the check is then kept in
    the same transaction, and a second load of the same rows reuses it."""
    from techreform import load as load_module
    from techreform.ingest import ingest_form_period
    from techreform.load import load_form_period

    _deliver(
        settings,
        "E1_620100_2013-06.csv",
        [e1_row(A, "2013-06"), e1_row(B, "2013-06", **{"工业总产值": "-15"})],  # E1-H07 fails B: read back
        1_000_000,
    )
    ingest_form_period(engine, settings, E1, PERIOD)
    statements: list[str] = []
    decided_after: list[int] = []
    real_decide = load_module.decide_outcomes

    def decide(*args, **kwargs):
        rows = real_decide(*args, **kwargs)
        decided_after.append(len(statements))
        return rows

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()).lower())

    monkeypatch.setattr(load_module, "decide_outcomes", decide)
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        load_form_period(engine, settings, E1, PERIOD)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    writes = [i for i, s in enumerate(statements) if s.split(" ", 1)[0] in ("insert", "update", "delete", "copy")]
    assert decided_after and writes, statements
    assert min(writes) >= decided_after[0], statements[: decided_after[0]]
    assert any("dq_review_check" in statements[i] for i in writes if i >= decided_after[0])
    (kept,) = _rows(engine, "select form, period from dq_review_check")
    assert tuple(kept) == ("E1", "2013-06")
    (quarantined,) = _rows(engine, "select row_json from quarantine")
    assert "-15" in quarantined.row_json
    with caplog.at_level(logging.INFO, "techreform.validation.reuse"):
        load_form_period(engine, settings, E1, PERIOD)  # the same rows and context: the check is reused
    assert any("results reused" in r.getMessage() for r in caplog.records)
