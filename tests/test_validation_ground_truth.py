"""Against the generator's ground truth, through the real chain (ingest → validate → load), on SQLite and
PostgreSQL: every planted defect is caught with its rule id, and no clean row fails a hard rule."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from techreform.config import Settings
from techreform.forms import PROCESSING_ORDER
from techreform.generator import GeneratorConfig, generate
from techreform.periods import period_range
from techreform.pipeline import prepare_warehouse, process_form

FIRST, LAST = "2013-02", "2013-03"  # two periods: the second has a previous report for S07/S08/P1-S04


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    out = tmp_path_factory.mktemp("province")
    generate(out, GeneratorConfig(enterprises=240, projects=80, first_period=FIRST, last_period=LAST))
    return out


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def validated(request, province, tmp_path_factory, pg_available):
    """Every period of the generated province run through ingest, validation and load."""
    from validation_fixtures import fresh_database

    tmp = tmp_path_factory.mktemp("gt")
    with fresh_database(request.param, tmp, pg_available) as url:
        settings = Settings.from_env(
            {
                "TECHREFORM_DATA_DIR": str(tmp / "data"),
                "TECHREFORM_WAREHOUSE_URL": url,
                "TECHREFORM_LANDING_DIR": str(province / "landing"),
            }
        )
        settings = settings.with_options(validation={"data_docs": False})
        engine = prepare_warehouse(settings)
        for period in period_range(FIRST, LAST):
            for form in PROCESSING_ORDER:
                process_form(engine, settings, form.code, period)
        with engine.connect() as conn:
            outcomes = pd.read_sql(
                sa.text(
                    "select o.form, o.period, l.file_name, o.source_row, o.rule_ids, o.outcome "
                    "from etl_row_outcome as o join etl_file_log as l "
                    "on l.form = o.form and l.period = o.period and l.file_sha256 = o.file_sha256 "
                    "where o.form in ('E1', 'P1', 'R1')"
                ),
                conn,
            )
            outcomes.attrs["prefectures"] = pd.read_sql(
                sa.text(
                    "select distinct f.form, f.period, f.file_sha256, f.source_row, "
                    "f.prefecture_code as failure_prefecture, o.prefecture_code as outcome_prefecture "
                    "from dq_row_failure as f join etl_row_outcome as o on o.form = f.form and o.period = f.period "
                    "and o.file_sha256 = f.file_sha256 and o.source_row = f.source_row"
                ),
                conn,
            )
        yield outcomes


def _truth(province) -> pd.DataFrame:
    truth = pd.read_csv(province / "ground_truth" / "defects.csv", dtype=str)
    truth["source_row"] = truth["source_row"].astype(int)
    return truth


def test_the_ground_truth_plants_defects_of_most_rules_in_both_periods(province):
    truth = _truth(province)
    assert set(truth["period"]) == {FIRST, LAST}
    assert truth["rule_id"].nunique() >= 30


def test_every_planted_defect_is_caught_with_its_rule_id(province, validated):
    truth = _truth(province)
    merged = truth.merge(validated, on=["form", "period", "file_name", "source_row"], how="left")
    caught = [rule in (ids or "").split(",") for rule, ids in zip(merged["rule_id"], merged["rule_ids"].fillna(""))]
    missed = merged.loc[[not c for c in caught], ["form", "period", "file_name", "source_row", "rule_id", "rule_ids"]]
    assert missed.empty, missed.to_string()


def test_no_clean_row_fails_a_hard_rule(province, validated):
    truth = _truth(province)
    planted = set(zip(truth["form"], truth["period"], truth["file_name"], truth["source_row"]))
    clean = validated[
        [
            key not in planted
            for key in zip(validated["form"], validated["period"], validated["file_name"], validated["source_row"])
        ]
    ]
    assert len(clean) > 800
    hard = clean[clean["rule_ids"].str.contains("-H", regex=False)]
    assert hard.empty, hard.to_string()
    assert (clean["outcome"] == "accepted").all()


def test_a_rows_prefecture_is_the_same_in_the_receipts_and_the_row_outcomes(validated):
    """One definition of a row's prefecture: the failures behind the receipts (dq_row_failure) and the run
    summary (etl_row_outcome) put every failing row in the same prefecture, and nearly every one in one."""
    pairs = validated.attrs["prefectures"].fillna("")
    assert len(pairs) > 20 and {"E1", "R1"} <= set(pairs["form"])
    differ = pairs[pairs["failure_prefecture"] != pairs["outcome_prefecture"]]
    assert differ.empty, differ.head().to_dict("records")
    assert (pairs["outcome_prefecture"] != "").mean() > 0.95
