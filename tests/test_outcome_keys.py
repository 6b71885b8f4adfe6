"""What is read from the row outcomes by their key, form by form (``int_outcome_forms``,
``loaded_periods.sql``, and the period counts and quarantine by month that join them), on both engines:
every form and period that has outcomes and no other, each period's rows counted once, a form's periods
apart from another's."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from techreform.config import Settings
from techreform.periods import Period
from techreform.reports import period_counts
from techreform.warehouse import create_schema, engine_for, insert_rows, query, read_frame

# (form, period, rows accepted, rows quarantined, prefecture)
OUTCOMES = [
    ("E1", "2013-01", 3, 1, "620100"),
    ("E1", "2013-03", 2, 0, "620100"),
    ("E1", "2013-03", 1, 2, "620200"),
    ("E1", "2013-12", 1, 0, "620100"),
    ("P1", "2013-03", 2, 1, "620100"),
    ("R1", "2013-01", 5, 0, "620100"),
    ("S1", "2012-11", 1, 0, "620000"),
]


def _rows() -> list[dict]:
    rows = []
    for form, period, accepted, quarantined, prefecture in OUTCOMES:
        for i in range(accepted + quarantined):
            rows.append(
                {
                    "form": form,
                    "period": period,
                    "file_sha256": f"{form}{period}{prefecture}".ljust(64, "0"),
                    "source_row": i + 2,
                    "record_key": f"{form}-{i}",
                    "prefecture_code": prefecture,
                    "outcome": "accepted" if i < accepted else "quarantined",
                    "review_status": "ok" if i < accepted else "quarantined",
                    "rule_ids": "",
                    "superseded": 0,
                }
            )
    return rows


@pytest.fixture
def engine(warehouse_url):
    engine = engine_for(warehouse_url)
    create_schema(engine)
    return engine


def _forms(conn) -> list[str]:
    return [r.form for r in conn.execute(sa.text("select form from int_outcome_forms order by form"))]


def _loaded(conn, form: str) -> set[str]:
    return {r.period for r in query(conn, "staging/files/loaded_periods", form=form)}


def test_no_outcomes_no_forms_and_no_periods(engine):
    with engine.connect() as conn:
        assert _forms(conn) == []
        assert _loaded(conn, "E1") == set()


def test_every_form_and_period_with_outcomes_and_no_other(engine):
    with engine.begin() as conn:
        insert_rows(conn, "etl_row_outcome", _rows())
    with engine.connect() as conn:
        assert _forms(conn) == ["E1", "P1", "R1", "S1"]
        assert _loaded(conn, "E1") == {"2013-01", "2013-03", "2013-12"}
        assert _loaded(conn, "P1") == {"2013-03"}
        assert _loaded(conn, "S1") == {"2012-11"}  # the first form and the last
        assert _loaded(conn, "Q1") == set()


def test_a_periods_counts_take_every_form_and_only_that_period(engine, warehouse_url, tmp_path):
    with engine.begin() as conn:
        insert_rows(conn, "etl_row_outcome", _rows())
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path), "TECHREFORM_WAREHOUSE_URL": warehouse_url})
    counts = period_counts(settings, Period(2013, 3))
    got = {(r.form, r.prefecture_code): (r.received, r.accepted, r.quarantined) for r in counts.itertuples()}
    assert got == {("E1", "620100"): (2, 2, 0), ("E1", "620200"): (3, 1, 2), ("P1", "620100"): (3, 2, 1)}

    with engine.connect() as conn:
        by_month = read_frame(
            conn, "marts/monitoring/quarantine_by_month", first_period="2012-11", last_period="2013-01"
        )
    got = {(r.period, r.form): (r.rows_in, r.quarantined) for r in by_month.itertuples()}
    assert got == {("2012-11", "S1"): (1, 0), ("2013-01", "E1"): (4, 1), ("2013-01", "R1"): (5, 0)}
