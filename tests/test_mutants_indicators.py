"""Indicator behaviour the mutation probe found unfed (docs/testing.md): the comparable basis needs
both fields of last year's row, the register in force is the latest snapshot up to the period, the
growth of investment counts enterprises that reported it in both years only. Then what the survivors of
``scripts/mutation.py indicators`` showed unpinned: a backfill, a recompute and a refresh use the
configured catalogue; which computed periods a correction or a snapshot re-runs; the headline table's
columns and rounding."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import sqlalchemy as sa

from indicators_fixtures import cell, enterprise, indicator_frame, insert, register_row, warehouse
from techreform.config import Settings
from techreform.indicators import (
    compute_indicators,
    compute_indicators_range,
    headline_table,
    periods_affected_by,
    recompute_after_correction,
    refresh_supervision_indicators,
)
from techreform.indicators.corrections import affected_periods, recompute_corrections
from techreform.indicators.plan import year_start
from techreform.periods import Period, period_range


@pytest.fixture
def engine(sqlite_settings):
    return warehouse(sqlite_settings.warehouse_url)


def test_a_last_year_row_with_a_null_denominator_or_numerator_is_not_on_the_comparable_basis(engine, sqlite_settings):
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2012-06", 1, value_added=200.0, gross_output=1000.0),
            enterprise("2012-06", 2, value_added=250.0, gross_output=None),  # denominator field null then
            enterprise("2012-06", 3, value_added=None, gross_output=1000.0),  # numerator field null then
            enterprise("2013-06", 1, value_added=300.0, gross_output=1000.0),
            enterprise("2013-06", 2, value_added=400.0, gross_output=1000.0),
            enterprise("2013-06", 3, value_added=500.0, gross_output=1000.0),
        ],
    )
    compute_indicators(engine, sqlite_settings, "2013-06")
    va = cell(indicator_frame(engine, "2013-06"), "VA_RATE")
    assert (va.numerator, va.denominator) == (1200.0, 3000.0)
    assert math.isclose(va.value_comparable, 300.0 / 1000.0 * 100)
    assert math.isclose(va.value_same_period_last_year, 200.0 / 1000.0 * 100)
    assert math.isclose(va.growth, (0.3 / 0.2 - 1) * 100)


def test_an_enterprise_is_a_reporter_only_of_the_ratios_whose_fields_it_reported(engine, sqlite_settings):
    """e1_ratios.sql sums a prefecture's enterprises for every ratio in one pass: an enterprise without
    value added is no reporter of VA_RATE but one of PROFIT_PER_100, and a prefecture where nobody
    reported VA_RATE's fields has no data and no count of reporters."""
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2013-06", 1, value_added=300.0, gross_output=1000.0),
            enterprise("2013-06", 2, value_added=None),
            enterprise("2013-06", 3, prefecture="620200", value_added=None),
        ],
    )
    compute_indicators(engine, sqlite_settings, "2013-06")
    results = indicator_frame(engine, "2013-06")
    va = cell(results, "VA_RATE")
    assert (va.numerator, va.denominator, va.reporters) == (300.0, 1000.0, 1)
    assert cell(results, "VA_RATE", "prefecture", "620100").reporters == 1
    nobody = cell(results, "VA_RATE", "prefecture", "620200")
    assert nobody.status == "no_data" and pd.isna(nobody.reporters) and pd.isna(nobody.numerator)
    assert cell(results, "PROFIT_PER_100").reporters == 3


def test_the_register_in_force_is_the_latest_snapshot_up_to_the_period(engine, sqlite_settings):
    insert(
        engine,
        "dim_enterprise_register",
        [
            register_row("2012-01", 1, emerging_industry=0),
            register_row("2013-03", 1, emerging_industry=1),
            register_row("2013-09", 1, emerging_industry=0),
            register_row("2012-01", 2, emerging_industry=0),
            register_row("2013-03", 2, emerging_industry=0),
            register_row("2013-09", 2, emerging_industry=1),
        ],
    )
    insert(
        engine,
        "fct_enterprise_monthly",
        [enterprise("2013-06", 1, value_added=100.0), enterprise("2013-06", 2, value_added=300.0)],
    )
    compute_indicators(engine, sqlite_settings, "2013-06")
    row = cell(indicator_frame(engine, "2013-06"), "EMERGING_SHARE")
    assert (row.numerator, row.denominator) == (100.0, 400.0)


def test_labour_productivity_is_annualised_by_the_month(engine, sqlite_settings):
    insert(engine, "fct_enterprise_monthly", [enterprise("2013-04", 1, value_added=300.0, employees=100)])
    compute_indicators(engine, sqlite_settings, "2013-04")
    row = cell(indicator_frame(engine, "2013-04"), "LABOR_PROD")
    assert math.isclose(row.numerator, 900.0) and row.denominator == 100.0


def test_an_industry_outside_the_code_list_counts_in_the_province_but_in_no_sector_group(engine, sqlite_settings):
    insert(
        engine,
        "fct_enterprise_monthly",
        [enterprise("2013-06", 1, industry="3110"), enterprise("2013-06", 2, industry="9999", value_added=100.0)],
    )
    compute_indicators(engine, sqlite_settings, "2013-06")
    results = indicator_frame(engine, "2013-06")
    assert cell(results, "VA_RATE").numerator == 400.0
    sectors = results[(results.level == "sector_group") & (results.indicator_code == "VA_RATE")]
    assert sectors.area_code.notna().all() and sectors.numerator.dropna().sum() == 300.0


def test_investment_growth_counts_enterprises_that_reported_investment_in_both_years_only(engine, sqlite_settings):
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2012-06", 1, techreform_investment=100.0),
            enterprise("2012-06", 2, techreform_investment=None),
            enterprise("2013-06", 1, techreform_investment=150.0),
            enterprise("2013-06", 2, techreform_investment=500.0),
            enterprise("2013-06", 3, techreform_investment=700.0),
        ],
    )
    compute_indicators(engine, sqlite_settings, "2013-06")
    growth = cell(indicator_frame(engine, "2013-06"), "TR_INV_GROWTH")
    assert (growth.numerator, growth.denominator, growth.reporters) == (150.0, 100.0, 1)


def test_investment_growth_without_any_comparable_enterprise_has_no_province_row_of_data(engine, sqlite_settings):
    insert(engine, "fct_enterprise_monthly", [enterprise("2013-06", 1, techreform_investment=150.0)])
    compute_indicators(engine, sqlite_settings, "2013-06")
    growth = cell(indicator_frame(engine, "2013-06"), "TR_INV_GROWTH")
    assert pd.isna(growth.value) and growth.status == "no_data"
    assert pd.isna(growth.reporters)  # like every prefecture without data: no row of measures at all


# --- mutmut survivors of the indicators group (docs/testing.md) -----------------------------------------


def _configured(tmp_path, url: str) -> Settings:
    """Settings whose catalogue differs from the default: VA_RATE's 2015 target is 7 points over 2010."""
    base = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path / "data"), "TECHREFORM_WAREHOUSE_URL": url})
    return base.with_options(indicators={"targets": {"VA_RATE": 7}})


def _va_target_2015(engine, period: str) -> float:
    return cell(indicator_frame(engine, period), "VA_RATE").target_2015


def _configured_va_target(engine) -> float:
    with engine.connect() as conn:
        return conn.execute(sa.text("select target_value from dim_indicator where code = 'VA_RATE'")).scalar_one()


@pytest.fixture
def configured(tmp_path):
    settings = _configured(tmp_path, f"sqlite:///{tmp_path / 'warehouse.db'}")
    engine = warehouse(settings.warehouse_url)
    insert(
        engine,
        "fct_enterprise_monthly",
        [enterprise(p, 1, value_added=va) for p, va in (("2010-12", 300.0), ("2012-12", 320.0), ("2013-02", 330.0))],
    )
    return engine, settings


def test_a_backfill_uses_the_configured_targets(configured):
    engine, settings = configured
    compute_indicators_range(engine, settings, "2013-01", "2013-02")
    assert _va_target_2015(engine, "2013-02") == pytest.approx(30.0 + 7)  # 2010's 30 % + 7 points
    assert _configured_va_target(engine) == 7


def test_recomputing_after_a_correction_uses_the_configured_targets_and_reaches_every_computed_period(configured):
    engine, settings = configured
    for period in ("2012-12", "2013-02", "2016-03"):  # 2016-03: after the plan, beyond the default horizon
        compute_indicators(engine, settings, period)
    done = recompute_after_correction(engine, settings, "2012-12")
    assert [d["period"] for d in done] == ["2012-12", "2013-02", "2016-03"]
    assert _va_target_2015(engine, "2016-03") == pytest.approx(37.0)


def test_refreshing_project_red_keeps_the_configured_catalogue(configured):
    engine, settings = configured
    compute_indicators(engine, settings, "2013-02")
    refresh_supervision_indicators(engine, settings, "2013-02")
    assert _configured_va_target(engine) == 7


def test_a_corrected_december_affects_every_period_up_to_a_year_later_by_default():
    assert periods_affected_by("2015-12")[-1] == Period(2016, 12)
    assert periods_affected_by("2016-12") == list(period_range("2016-12", "2017-12"))
    assert periods_affected_by("2015-06") == [Period(2015, 6), Period(2016, 6)]


def test_a_snapshot_delivered_for_a_computed_month_recomputes_that_month_and_the_later_ones():
    computed = {Period(2013, 12), Period(2014, 1), Period(2014, 3)}
    assert affected_periods("G1", Period(2014, 1), computed) == {Period(2014, 1), Period(2014, 3)}
    assert affected_periods("R1", Period(2014, 2), computed) == {Period(2014, 3)}
    assert affected_periods("G1", Period(2014, 1), set()) == set()


def test_a_corrected_december_recomputes_computed_periods_beyond_the_default_horizon():
    computed = {Period(2012, 12), Period(2013, 6), Period(2016, 6)}
    assert affected_periods("E1", Period(2012, 12), computed) == computed
    assert affected_periods("E1", Period(2013, 6), computed) == {Period(2013, 6)}


def _file_log(form: str, period: str, seq: int) -> dict:
    return {
        "form": form,
        "period": period,
        "file_sha256": f"{seq:064d}",
        "file_name": f"{form}_{period}.csv",
        "raw_path": f"raw/{form}/{period}/{form}_{period}.csv",
        "bytes": 100,
        "received_at": "2014-05-20T00:00:00+00:00",
        "delivery_seq": seq,
        "encoding": "utf-8",
        "status": "loaded",
        "rows_received": 1,
        "extra_columns": "",
        "message": "",
    }


def _loaded_row(form: str, period: str, seq: int) -> dict:
    """The row outcome a month's load leaves for its one row (a file is applied once its load decided it)."""
    return {
        "form": form,
        "period": period,
        "file_sha256": f"{seq:064d}",
        "source_row": 2,
        "record_key": "91620100MA0000001X",
        "prefecture_code": "620100",
        "outcome": "accepted",
        "review_status": "ok",
        "rule_ids": "",
        "superseded": 0,
    }


def test_two_pending_deliveries_recompute_the_union_of_their_periods_and_are_recorded_as_applied_in_the_run(
    configured,
):
    engine, settings = configured
    for period in ("2013-12", "2014-02", "2014-03"):
        compute_indicators(engine, settings, period)
    # a late A1 of 2013 (its December: every later period) and a corrected E1 of 2014-02 in the same run
    insert(engine, "etl_file_log", [_file_log("A1", "2013-12", 1), _file_log("E1", "2014-02", 1)])
    insert(engine, "etl_row_outcome", [_loaded_row("A1", "2013-12", 1), _loaded_row("E1", "2014-02", 1)])
    with engine.begin() as conn:  # the recomputed rows must be written again, with the configured target
        conn.execute(sa.text("update fct_indicator set target_2015 = null"))
    result = recompute_corrections(engine, settings, "2014-05")
    assert result == {
        "period": "2014-05",
        "corrected": ["A1 2013-12", "E1 2014-02"],
        "recomputed": ["2013-12", "2014-02", "2014-03"],
    }
    assert _va_target_2015(engine, "2013-12") == pytest.approx(37.0)
    with engine.connect() as conn:
        applied = conn.execute(sa.text("select form, period, applied_in from ops_indicator_file order by form")).all()
    assert [tuple(r) for r in applied] == [("A1", "2013-12", "2014-05"), ("E1", "2014-02", "2014-05")]
    assert recompute_corrections(engine, settings, "2014-06")["recomputed"] == []  # nothing new


def test_the_headline_table_of_a_period_not_computed_has_the_same_columns(configured):
    engine, settings = configured
    compute_indicators(engine, settings, "2013-02")
    computed, empty = headline_table(engine, "2013-02"), headline_table(engine, "2013-03")
    assert empty.empty and list(empty.columns) == list(computed.columns)


def test_the_headline_table_rounds_values_and_targets_to_two_decimals(configured):
    engine, settings = configured
    insert(engine, "fct_enterprise_monthly", [enterprise("2013-02", 2, value_added=100.0, gross_output=3000.0)])
    compute_indicators(engine, settings, "2013-02")
    va = headline_table(engine, "2013-02").set_index("code").loc["VA_RATE"]
    assert va.value == 10.75  # (330 + 100) / 4000 x 100 = 10.75 exactly; see below for a repeating one
    insert(engine, "fct_enterprise_monthly", [enterprise("2013-03", 1, value_added=100.0, gross_output=300.0)])
    compute_indicators(engine, settings, "2013-03")
    va = headline_table(engine, "2013-03").set_index("code").loc["VA_RATE"]
    assert va.value == 33.33 and va.target == round(va.target, 2)


def test_the_revenue_threshold_is_the_configured_one_in_yi_compared_in_wan_annualised(tmp_path):
    base = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path / "data")})
    settings = base.with_options(indicators={"revenue_threshold_yi": 1})  # 1 亿元 = 10000 万元
    engine = warehouse(settings.warehouse_url)
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2013-06", 1, revenue=5000.0),  # x 12 / 6
            enterprise("2013-06", 2, revenue=4999.5),
            enterprise("2012-06", 3, revenue=6000.0),  # last year's: reaches it then, reports nothing now
        ],
    )
    compute_indicators(engine, settings, "2013-06")
    reached = cell(indicator_frame(engine, "2013-06"), "ENTERPRISES_100B")
    assert reached.value == 1  # 10000 reaches it, 9999 not
    assert (reached.reporters, reached.numerator_same_period_last_year) == (2, 1)  # this month's reports only


def test_cumulative_investment_last_year_adds_the_decembers_before_last_years_own_year(engine, sqlite_settings):
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise(p, 1, techreform_investment=amount)
            for p, amount in (("2011-12", 100.0), ("2012-06", 50.0), ("2012-12", 1000.0), ("2013-06", 7.0))
        ],
    )
    compute_indicators(engine, sqlite_settings, "2013-06")
    cumulative = cell(indicator_frame(engine, "2013-06"), "TR_INV_CUM")
    assert cumulative.numerator == 100.0 + 1000.0 + 7.0
    assert cumulative.numerator_same_period_last_year == 100.0 + 50.0  # not 2012-12: after 2012-06
    assert cumulative.reporters == 1  # the month's report, not the earlier Decembers added to it


def test_without_the_supervision_tables_every_other_family_still_runs(engine, sqlite_settings):
    with engine.begin() as conn:
        conn.execute(sa.text("drop table sup_project_light"))
    insert(engine, "dim_enterprise_register", [register_row("2013-01", 1)])
    insert(engine, "fct_enterprise_monthly", [enterprise("2013-06", 1)])
    summary = compute_indicators(engine, sqlite_settings, "2013-06")
    assert "supervision_red" not in summary["families"]
    assert summary["families"][-1] == "e1r1_reporting_rate"  # the family after PROJECT_RED's
    assert cell(indicator_frame(engine, "2013-06"), "REPORTING_RATE").status != "no_data"


def test_refreshing_project_red_runs_its_family_only_and_leaves_other_periods_rows(configured):
    engine, settings = configured
    for period in ("2013-01", "2013-02"):
        compute_indicators(engine, settings, period)
    summary = refresh_supervision_indicators(engine, settings, "2013-02")
    assert summary["families"] == ["supervision_red"] and summary["period"] == "2013-02"
    assert len(cell(indicator_frame(engine, "2013-01"), "PROJECT_RED")) > 0  # January's row is still there
    assert len(cell(indicator_frame(engine, "2013-02"), "PROJECT_RED")) > 0


def test_refreshing_project_red_replaces_its_rows_on_postgresql_too(pg_url, tmp_path):
    """Not marked ``postgres``: the mutation group runs it, so a table name that only SQLite would match
    case-insensitively (SQLAlchemy quotes a name in capitals) fails here."""
    engine = warehouse(pg_url)
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path / "data"), "TECHREFORM_WAREHOUSE_URL": pg_url})
    insert(engine, "fct_enterprise_monthly", [enterprise("2013-02", 1)])
    compute_indicators(engine, settings, "2013-02")
    before = indicator_frame(engine, "2013-02")
    summary = refresh_supervision_indicators(engine, settings, "2013-02")
    after = indicator_frame(engine, "2013-02")
    assert summary["rows"] == len(after[after.indicator_code == "PROJECT_RED"]) > 0
    assert len(after) == len(before)


def test_the_year_start_of_a_period_is_january_of_its_year():
    assert [year_start(Period(2013, m)) for m in (1, 6, 12)] == [Period(2013, 1)] * 3
