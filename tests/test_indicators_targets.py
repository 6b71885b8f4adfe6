"""The catalogue as data with configurable targets, the straight path from the 2010 baseline to the
2015 target, and the statuses met / on_track / lagging / no_target / no_data."""

from __future__ import annotations

import csv
import math

import pytest
import sqlalchemy as sa

from indicators_fixtures import cell, enterprise, indicator_frame, insert, warehouse
from techreform.config import Settings
from techreform.indicators import compute_indicators
from techreform.indicators.catalogue import CATALOGUE_FILE, load_catalogue
from techreform.indicators.plan import months_elapsed, path_share
from techreform.periods import Period


def _settings(tmp_path, url: str, **indicators) -> Settings:
    base = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path), "TECHREFORM_WAREHOUSE_URL": url})
    return base.with_options(indicators=indicators) if indicators else base


def test_the_catalogue_holds_every_indicator_of_the_spec_in_its_order():
    with open(CATALOGUE_FILE, encoding="utf-8", newline="") as handle:
        spec = list(csv.DictReader(handle))
    catalogue = load_catalogue(None)
    assert [i.code for i in catalogue] == [r["code"] for r in spec]
    by_code = {i.code: i for i in catalogue}
    assert by_code["TR_INV_CUM"].target_value == 5000 and by_code["TR_INV_CUM"].path == "cumulative"
    assert by_code["TR_INV_CUM"].name_zh == "“十二五”技术改造投资累计"
    assert by_code["TR_INV_GROWTH"].formula.startswith("(YTD / same-period-last-year YTD - 1) x 100, comparable")
    assert by_code["WATER_INTENSITY"].direction == "down" and by_code["WATER_INTENSITY"].target_basis == "pct_vs_2010"
    assert by_code["ENERGY_INTENSITY"].target_value is None  # assigned: no target without configuration
    assert by_code["PROJECT_RED"].direction is None
    assert by_code["ECOMMERCE_SHARE"].strict_target == 1 and by_code["RD_INTENSITY"].tolerance == 0.1


def test_configuration_overrides_targets_and_assigns_the_energy_intensity_reduction(tmp_path):
    settings = _settings(
        tmp_path,
        "sqlite://",
        targets={"RD_INTENSITY": 1.5, "VA_RATE": {"kind": "change_pp_vs_2010_at_least", "value": 3}},
        energy_intensity_target=-16,
    )
    by_code = {i.code: i for i in load_catalogue(settings)}
    assert by_code["RD_INTENSITY"].target_value == 1.5 and by_code["RD_INTENSITY"].target_source == "configuration"
    assert by_code["VA_RATE"].target_value == 3
    energy = by_code["ENERGY_INTENSITY"]
    assert (energy.target_kind, energy.target_value, energy.direction) == ("change_pct_vs_2010_at_most", -16, "down")


def test_configuration_naming_an_unknown_indicator_or_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="NOT_AN_INDICATOR"):
        load_catalogue(_settings(tmp_path, "sqlite://", targets={"NOT_AN_INDICATOR": 1}))
    with pytest.raises(ValueError, match="roughly"):
        load_catalogue(_settings(tmp_path, "sqlite://", targets={"VA_RATE": {"kind": "roughly", "value": 1}}))


def test_the_path_runs_over_the_sixty_months_of_the_plan():
    assert months_elapsed(Period(2010, 6)) == 0 and months_elapsed(Period(2010, 12)) == 0
    assert months_elapsed(Period(2011, 1)) == 1 and months_elapsed(Period(2013, 6)) == 30
    assert months_elapsed(Period(2015, 12)) == 60 and months_elapsed(Period(2016, 3)) == 60
    assert path_share(Period(2013, 6)) == 0.5


def test_statuses_follow_the_straight_path_from_the_2010_baseline(warehouse_url, tmp_path):
    engine = warehouse(warehouse_url)
    # VA_RATE: +2 points on 2010 (30 %): 2015 target 32 %, the path at 2013-06 (half way) 31 %
    rows = []
    for n, (prefecture, now) in enumerate([("620100", 325.0), ("620200", 315.0), ("620300", 305.0)], start=1):
        rows += [
            enterprise("2010-12", n, prefecture, value_added=300.0, gross_output=1000.0),
            enterprise("2013-06", n, prefecture, value_added=now, gross_output=1000.0),
        ]
    rows.append(enterprise("2013-06", 9, "620500", value_added=310.0, gross_output=1000.0))  # no 2010 value
    insert(engine, "fct_enterprise_monthly", rows)
    compute_indicators(engine, _settings(tmp_path, warehouse_url), "2013-06")
    results = indicator_frame(engine, "2013-06")
    expected = {"620100": "met", "620200": "on_track", "620300": "lagging", "620500": "no_target"}
    for prefecture, status in expected.items():
        row = cell(results, "VA_RATE", "prefecture", prefecture)
        assert row.status == status, prefecture
    row = cell(results, "VA_RATE", "prefecture", "620200")
    assert math.isclose(row.baseline_2010, 30) and math.isclose(row.target_2015, 32) and math.isclose(row.target, 31)
    assert cell(results, "VA_RATE", "prefecture", "620900").status == "no_data"
    # cumulative investment: from 0 to 5000 亿元 over 2011-01..2015-12
    cumulative = cell(results, "TR_INV_CUM")
    assert math.isclose(cumulative.target, 2500) and cumulative.target_2015 == 5000 and cumulative.status == "lagging"
    assert cumulative.baseline_2010 is None or math.isnan(cumulative.baseline_2010)
    assert cell(results, "TR_INV_CUM", "prefecture", "620100").status == "no_target"  # a provincial target
    # a baseline already beyond the 2015 target does not raise the period's target above it
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2010-12", 20, "621100", solid_waste_generated=100.0, solid_waste_utilized=85.0),
            enterprise("2013-06", 20, "621100", solid_waste_generated=100.0, solid_waste_utilized=80.0),
        ],
    )
    compute_indicators(engine, _settings(tmp_path, warehouse_url), "2013-06")
    waste = cell(indicator_frame(engine, "2013-06"), "SOLID_WASTE_UTIL", "prefecture", "621100")
    assert (waste.baseline_2010, waste.target, waste.target_2015, waste.status) == (85.0, 75.0, 75.0, "met")
    # monitor-only and unassigned targets
    assert cell(results, "ENERGY_INTENSITY").status == "no_target"


def test_about_more_than_and_assigned_targets(warehouse_url, tmp_path):
    engine = warehouse(warehouse_url)
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2010-12", 1, energy_tce=500.0, value_added=100.0),
            enterprise(
                "2015-12",
                1,
                rd_expense=14.0,
                revenue=1000.0,
                energy_tce=420.0,
                value_added=100.0,
                ecommerce_purchase=200.0,
                ecommerce_sales=200.0,
                purchase_total=0.0,
            ),
        ],
    )
    settings = _settings(tmp_path, warehouse_url, targets={"RD_INTENSITY": 1.5}, energy_intensity_target=-16)
    compute_indicators(engine, settings, "2015-12")
    results = indicator_frame(engine, "2015-12")
    rd = cell(results, "RD_INTENSITY")
    assert math.isclose(rd.value, 1.4) and rd.target_2015 == 1.5 and rd.status == "met"  # 1.4 is about 1.5
    ecommerce = cell(results, "ECOMMERCE_SHARE")
    assert math.isclose(ecommerce.value, 40.0) and ecommerce.status != "met"  # more than 40 %: 40 is not enough
    energy = cell(results, "ENERGY_INTENSITY")
    assert math.isclose(energy.baseline_2010, 5.0) and math.isclose(energy.target_2015, 4.2)
    assert energy.status == "met"
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("select target_value, target_source from dim_indicator where code = 'RD_INTENSITY'")
        ).one()
    assert tuple(stored) == (1.5, "configuration")
