"""Indicator behaviour the mutation probe found unfed (docs/testing.md): the comparable basis needs
both fields of last year's row, the register in force is the latest snapshot up to the period, the
growth of investment counts enterprises that reported it in both years only."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from indicators_fixtures import cell, enterprise, indicator_frame, insert, register_row, warehouse
from techreform.indicators import compute_indicators


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
