"""Which logged files a month's load has decided (``int_file_decision``, ddl/074), on both engines, through
the three queries that use it: the corrections' pending files (``unapplied_files``), the instant review's
decided files (``decided_files``) and the periods with files not loaded yet (``periods_with_unloaded_files``).
A file is decided when its rows have outcomes, or when it has no rows and its period (of its own form)
has outcomes; a late file of a loaded period is not, until its rows have outcomes."""

from __future__ import annotations

import pytest

from techreform.warehouse import create_schema, engine_for, insert_rows, query

# (form, period, file, status, rows received, rows with outcomes)
FILES = [
    ("E1", "2013-03", "a", "loaded", 3, 3),  # loaded, already taken into account by the indicators
    ("E1", "2013-03", "b", "loaded", 0, 0),  # no rows; its period has outcomes
    ("E1", "2013-03", "h", "loaded", 4, 0),  # landed after its period was loaded
    ("E1", "2013-04", "c", "loaded", 0, 0),  # no rows; its period has none
    ("E1", "2013-04", "d", "loaded", 2, 0),  # staged, not validated yet
    ("E1", "2013-05", "e", "rejected", 0, 0),
    ("E1", "2013-05", "f", "loaded", 2, 2),
    ("P1", "2013-03", "g", "loaded", 0, 0),  # no rows; E1 has outcomes in 2013-03, P1 has none
]


def _sha(name: str) -> str:
    return name * 64


@pytest.fixture
def engine(warehouse_url):
    engine = engine_for(warehouse_url)
    create_schema(engine)
    log, outcomes = [], []
    for seq, (form, period, name, status, received, with_outcomes) in enumerate(FILES, start=1):
        log.append(
            {
                "form": form,
                "period": period,
                "file_sha256": _sha(name),
                "file_name": f"{name}.csv",
                "raw_path": f"raw/{name}.csv",
                "bytes": 10,
                "received_at": "2013-07-01T00:00:00+00:00",
                "delivery_seq": seq,
                "encoding": "utf-8",
                "status": status,
                "rows_received": received,
                "extra_columns": "",
                "message": "",
            }
        )
        outcomes.extend(
            {
                "form": form,
                "period": period,
                "file_sha256": _sha(name),
                "source_row": row + 2,
                "record_key": f"{name}-{row}",
                "prefecture_code": "620100",
                "outcome": "accepted",
                "review_status": "ok",
                "rule_ids": "",
                "superseded": 0,
            }
            for row in range(with_outcomes)
        )
    with engine.begin() as conn:
        insert_rows(conn, "etl_file_log", log)
        insert_rows(conn, "etl_row_outcome", outcomes)
        insert_rows(
            conn,
            "ops_indicator_file",
            [{"form": "E1", "period": "2013-03", "file_sha256": _sha("a"), "applied_in": "2013-03"}],
        )
    return engine


def test_pending_files_are_the_loaded_decided_files_not_yet_applied(engine):
    with engine.connect() as conn:
        pending = [(r.form, r.period, r.file_sha256) for r in query(conn, "ops/indicators/unapplied_files")]
    assert pending == [("E1", "2013-03", _sha("b")), ("E1", "2013-05", _sha("f"))]


@pytest.mark.parametrize(
    ("form", "period", "decided"),
    [("E1", "2013-03", {"a", "b"}), ("E1", "2013-04", set()), ("P1", "2013-03", set())],
)
def test_decided_files_of_a_form_and_period(engine, form, period, decided):
    with engine.connect() as conn:
        got = {r.file_sha256 for r in query(conn, "ops/reviews/decided_files", form=form, period=period)}
    assert got == {_sha(name) for name in decided}


def test_periods_with_unloaded_files_are_those_with_rows_and_no_outcomes(engine):
    with engine.connect() as conn:
        got = {r.period for r in query(conn, "staging/files/periods_with_unloaded_files", form="E1")}
        p1 = {r.period for r in query(conn, "staging/files/periods_with_unloaded_files", form="P1")}
    assert got == {"2013-03", "2013-04"}
    assert p1 == set()
