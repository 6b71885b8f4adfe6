"""Edge cases of the indicators: zero denominators, enterprises entering or leaving mid-year
(comparable basis), a January without reports, negative profit."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from indicators_fixtures import cell, enterprise, indicator_frame, insert, register_row, warehouse
from techreform.indicators import compute_indicators


@pytest.fixture
def engine(warehouse_url):
    return warehouse(warehouse_url)


def test_a_zero_denominator_gives_a_null_value_and_no_data_not_an_error(engine, settings):
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise(
                "2013-06",
                1,
                "620500",
                gross_output=0.0,
                value_added=0.0,
                solid_waste_generated=0.0,
                solid_waste_utilized=0.0,
            ),
            enterprise("2013-06", 2, "620100"),
        ],
    )
    compute_indicators(engine, settings, "2013-06")
    results = indicator_frame(engine, "2013-06")
    for code in ("VA_RATE", "ENERGY_INTENSITY", "WATER_INTENSITY", "SOLID_WASTE_UTIL", "EMERGING_SHARE"):
        row = cell(results, code, "prefecture", "620500")
        assert row.denominator == 0.0 and pd.isna(row.value) and row.status == "no_data", code
        assert not pd.isna(cell(results, code, "prefecture", "620100").value), code
    assert results.value.dropna().map(math.isfinite).all()


def test_growth_counts_only_enterprises_that_reported_in_both_years(engine, settings):
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2012-06", 1, techreform_investment=100.0, value_added=300.0, gross_output=1000.0),
            enterprise("2012-06", 2, techreform_investment=200.0, value_added=200.0, gross_output=1000.0),
            enterprise("2012-06", 4, techreform_investment=900.0),  # left in 2012-09: not in 2013
            enterprise("2013-06", 1, techreform_investment=150.0, value_added=330.0, gross_output=1000.0),
            enterprise("2013-06", 2, techreform_investment=250.0, value_added=220.0, gross_output=1000.0),
            enterprise(
                "2013-06", 3, techreform_investment=5000.0, value_added=900.0, gross_output=1000.0
            ),  # new in 2013-03
        ],
    )
    compute_indicators(engine, settings, "2013-06")
    results = indicator_frame(engine, "2013-06")
    growth = cell(results, "TR_INV_GROWTH")
    assert growth.numerator == 400.0 and growth.denominator == 300.0 and growth.reporters == 2
    assert math.isclose(growth.value, (400 / 300 - 1) * 100)
    va = cell(results, "VA_RATE")
    assert math.isclose(va.value, (330 + 220 + 900) / 3000 * 100)  # every reporter this year
    assert math.isclose(va.value_comparable, (330 + 220) / 2000 * 100)  # enterprises 1 and 2
    assert math.isclose(va.value_same_period_last_year, (300 + 200) / 2000 * 100)
    assert math.isclose(va.growth, ((550 / 2000) / (500 / 2000) - 1) * 100)


def test_a_january_without_reports_has_no_data_and_february_covers_january(engine, settings):
    insert(engine, "dim_enterprise_register", [register_row("2012-01", 1), register_row("2012-01", 2)])
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2011-12", 1, techreform_investment=1000.0),
            enterprise("2012-12", 1, techreform_investment=2000.0),
            enterprise("2012-12", 2, techreform_investment=500.0),
            enterprise("2013-02", 1, techreform_investment=300.0, value_added=50.0, employees=10),
        ],
    )
    compute_indicators(engine, settings, "2013-01")
    january = indicator_frame(engine, "2013-01")
    for code in ("VA_RATE", "LABOR_PROD", "TR_INV_GROWTH", "ENTERPRISES_100B", "CLUSTERS_100B", "REPORTING_RATE"):
        assert (january[january.indicator_code == code].status == "no_data").all(), code
    # the cumulative investment still holds the earlier plan years' Decembers
    assert math.isclose(cell(january, "TR_INV_CUM").value, (1000 + 2000 + 500) / 10000)
    compute_indicators(engine, settings, "2013-02")
    february = indicator_frame(engine, "2013-02")
    assert math.isclose(cell(february, "LABOR_PROD").value, 50 * 12 / 2 / 10)  # Jan-Feb annualised
    assert math.isclose(cell(february, "TR_INV_CUM").value, (1000 + 2000 + 500 + 300) / 10000)
    rate = cell(february, "REPORTING_RATE")
    assert rate.value == 50.0 and (rate.numerator, rate.denominator, rate.reporters) == (1, 2, 1)  # 1 of 2 reported


def test_negative_profit_gives_a_negative_value_a_target_above_it_and_no_growth_on_a_loss(engine, settings):
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2010-12", 1, "620300", profit=-40.0, revenue=1000.0),
            enterprise("2012-06", 1, "620300", profit=-30.0, revenue=500.0),
            enterprise("2013-06", 1, "620300", profit=-10.0, revenue=500.0),
            enterprise("2010-12", 2, "620100", profit=50.0, revenue=1000.0),
            enterprise("2013-06", 2, "620100", profit=-20.0, revenue=600.0),
        ],
    )
    compute_indicators(engine, settings, "2013-06")
    results = indicator_frame(engine, "2013-06")
    loss = cell(results, "PROFIT_PER_100", "prefecture", "620300")
    assert math.isclose(loss.value, -2.0) and math.isclose(loss.baseline_2010, -4.0)
    # +35 % on a loss of -4 means -4 + 0.35 x 4, an improvement, not -4 x 1.35
    assert math.isclose(loss.target_2015, -4.0 + 0.35 * 4.0)
    assert math.isclose(loss.target, -4.0 + 0.35 * 4.0 * 30 / 60)
    assert loss.status == "met"  # -2.0 >= -2.6
    assert math.isclose(loss.value_same_period_last_year, -6.0) and pd.isna(loss.growth)
    province = cell(results, "PROFIT_PER_100")
    assert math.isclose(province.value, (-10 - 20) / 1100 * 100)
    assert province.status == "lagging"
