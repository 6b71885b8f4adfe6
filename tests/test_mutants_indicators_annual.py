"""The 18 indicators of A1, Q1 and G1 (marts/indicators/a1_annual.sql, q1_structure.sql, g1_registry.sql and
the data period of ddl/072_source_period.sql) on facts written directly: which enterprises and items each
counts, the year or snapshot in use, last year's and the comparable basis. Fast enough to run for each of
the hand-written SQL mutants of scripts/sql_mutants.py (``ind-a1-*``, ``ind-q1-*``, ``ind-g1-*``,
``ind-source-*``); the chain from delivered files is tests/test_annual_registry_forms.py."""

from __future__ import annotations

import math
from typing import Any

import pytest

from indicators_fixtures import accepted_fact_bookkeeping, cell, indicator_frame, insert, register_row, uscc, warehouse
from techreform.indicators import compute_indicators
from techreform.reference import counties


@pytest.fixture
def engine(warehouse_url):
    """SQLite and PostgreSQL (the hand-written mutants run the SQLite variant only)."""
    return warehouse(warehouse_url)


def annual(year: int, n: int, prefecture: str = "620100", **fields: Any) -> dict:
    """An accepted A1 fact row of enterprise ``n`` for ``year`` (folder <year>-12)."""
    row: dict[str, Any] = {
        "period": f"{year}-12",
        "uscc": uscc(n),
        "enterprise_name": f"企业{n}",
        "year": year,
        "tech_centre_level": "无",
        "key_equipment_total": 10,
        "key_equipment_domestic_adv": 5,
        "key_equipment_intl_adv": 1,
        "apc_in_use": 0,
        "cax_in_use": 0,
        "has_website": 0,
        "ecommerce_regular": 0,
        "digital_enterprise": 0,
        "prefecture_code": prefecture,
        **accepted_fact_bookkeeping(n),
    }
    row.update(fields)
    return row


def product(period: str, n: int, code: str, tonnes: float, prefecture: str = "620100") -> dict:
    return {
        "period": period,
        "uscc": uscc(n),
        "enterprise_name": f"企业{n}",
        "product_code": code,
        "quantity_t": tonnes,
        "prefecture_code": prefecture,
        **accepted_fact_bookkeeping(n),
    }


def item(snapshot: str, item_id: str, item_type: str, recognised: str = "2012-01", **fields: Any) -> dict:
    row: dict[str, Any] = {
        "snapshot_period": snapshot,
        "item_id": item_id,
        "item_type": item_type,
        "name": f"名录{item_id}",
        "region_code": "620102",
        "level": "省级",
        "recognised": recognised,
        "revoked": None,
        "prefecture_code": "620100",
    }
    row.update(fields)
    return row


# --- A1 ------------------------------------------------------------------------------------------------

# the register of 2012-01: who owes an A1, with the flags that choose each rate's population
REGISTER_2012 = [
    register_row("2012-01", 1, scale="大型", key_enterprise=1, process_backbone=1),
    register_row("2012-01", 2, scale="中型", key_enterprise=0, process_backbone=1),
    register_row("2012-01", 3, scale="小型", key_enterprise=1, process_backbone=0),  # owes an A1, sent none
    register_row("2012-01", 4, scale="微型", key_enterprise=1, process_backbone=1, operating_status="停产"),
    register_row("2012-01", 5, scale="中型", key_enterprise=1, process_backbone=1, above_scale=0),
    register_row("2012-01", 6, scale="微型", key_enterprise=0, process_backbone=0),
]
# a later register, in force in 2014 but not in December 2013: enterprise 2 becomes a key enterprise
REGISTER_2014 = [
    register_row("2014-01", 2, scale="中型", key_enterprise=1, process_backbone=1)
    if r["uscc"] == uscc(2)
    else {**r, "snapshot_period": "2014-01"}
    for r in REGISTER_2012
]
A1_2012 = [annual(2012, 1, tech_centre_level="省级", key_equipment_total=100, key_equipment_domestic_adv=50)]
A1_2013 = [
    annual(
        2013,
        1,
        tech_centre_level="国家级",
        digital_enterprise=1,
        apc_in_use=1,
        cax_in_use=1,
        key_equipment_total=100,
        key_equipment_domestic_adv=60,
        key_equipment_intl_adv=20,
    ),
    # the A1 row says 620200, the register 620100: the register's prefecture counts
    annual(
        2013,
        2,
        "620200",
        tech_centre_level="国家级",
        digital_enterprise=1,
        apc_in_use=1,
        has_website=1,
        ecommerce_regular=1,
        key_equipment_total=50,
        key_equipment_domestic_adv=50,
        key_equipment_intl_adv=50,
    ),
    annual(
        2013,
        4,
        tech_centre_level="省级",
        apc_in_use=1,
        cax_in_use=1,
        has_website=1,
        ecommerce_regular=1,
        key_equipment_total=10,
        key_equipment_domestic_adv=0,
        key_equipment_intl_adv=0,
    ),
    annual(
        2013,
        5,
        tech_centre_level="市级",
        apc_in_use=1,
        cax_in_use=1,
        has_website=1,
        key_equipment_total=40,
        key_equipment_domestic_adv=30,
        key_equipment_intl_adv=10,
    ),
    annual(2013, 6, tech_centre_level="无", ecommerce_regular=1, key_equipment_total=7, key_equipment_domestic_adv=7),
]


@pytest.fixture
def a1_engine(engine):
    insert(engine, "dim_enterprise_register", REGISTER_2012 + REGISTER_2014)
    insert(engine, "fct_enterprise_annual", A1_2012 + A1_2013)
    return engine


def test_a1_counts_the_tech_centre_levels_and_digital_enterprises_of_the_year_in_use_and_the_year_before(
    a1_engine, sqlite_settings
):
    compute_indicators(a1_engine, sqlite_settings, "2014-05")
    got = indicator_frame(a1_engine, "2014-05")
    provincial = cell(got, "TECH_CENTERS_PROV")  # 省级 or 国家级: enterprises 1, 2, 4; in 2012 enterprise 1
    assert (provincial.value, provincial.value_same_period_last_year, provincial.data_period) == (3, 1, "2013-12")
    national = cell(got, "TECH_CENTERS_NATL")  # 国家级 only: 1 and 2 (市级 and 无 never count)
    assert (national.value, national.value_same_period_last_year) == (2, 0)
    digital = cell(got, "DIGITAL_ENTERPRISES")
    assert (digital.value, digital.value_same_period_last_year) == (2, 0)


def test_a1_rows_count_in_the_prefecture_of_the_register_not_the_one_on_the_a1_row(a1_engine, sqlite_settings):
    compute_indicators(a1_engine, sqlite_settings, "2014-05")
    got = indicator_frame(a1_engine, "2014-05")
    assert cell(got, "TECH_CENTERS_PROV", "prefecture", "620100").value == 3
    lanzhou_only = got[(got.indicator_code == "TECH_CENTERS_PROV") & (got.level == "prefecture")]
    assert lanzhou_only[lanzhou_only.area_code == "620200"].value.fillna(0).sum() == 0


def test_the_a1_of_a_year_is_in_use_from_its_own_december(a1_engine, sqlite_settings):
    compute_indicators(a1_engine, sqlite_settings, "2013-12")
    compute_indicators(a1_engine, sqlite_settings, "2013-11")
    december = cell(indicator_frame(a1_engine, "2013-12"), "TECH_CENTERS_PROV")
    assert (december.value, december.data_period) == (3, "2013-12")
    november = cell(indicator_frame(a1_engine, "2013-11"), "TECH_CENTERS_PROV")
    assert (november.value, november.data_period) == (1, "2012-12")


def test_adoption_rates_are_over_the_above_scale_operating_register_with_a_missing_a1_as_not_adopting(
    a1_engine, sqlite_settings
):
    compute_indicators(a1_engine, sqlite_settings, "2014-05")
    got = indicator_frame(a1_engine, "2014-05")

    def measures(code: str) -> tuple[float, float]:
        row = cell(got, code)
        return row.numerator, row.denominator

    # process backbones that owe an A1: 1, 2 (4 is 停产, 5 below scale)
    assert measures("APC_ADOPTION") == (2, 2)
    # key enterprises that owe an A1: 1 (CAX) and 3 (no A1: not adopting); enterprise 2 only from 2014
    assert measures("CAX_ADOPTION") == (1, 2)
    # 中型, 小型, 微型 that owe an A1: 2, 3 and 6
    assert measures("SME_WEBSITE_RATE") == (1, 3)
    assert measures("SME_ECOMMERCE_RATE") == (2, 3)


def test_equipment_shares_count_the_key_enterprises_of_the_register_in_force_in_the_a1_years_december(
    a1_engine, sqlite_settings
):
    compute_indicators(a1_engine, sqlite_settings, "2014-05")
    got = indicator_frame(a1_engine, "2014-05")
    domestic = cell(got, "EQUIP_DOMESTIC_ADV")  # key enterprises in 2013-12 with an A1: 1, 4, 5
    assert (domestic.numerator, domestic.denominator) == (90, 150)
    international = cell(got, "EQUIP_INTL_ADV")
    assert (international.numerator, international.denominator) == (30, 150)
    # comparable: enterprise 1 only, the one key enterprise with an A1 in both years
    assert (domestic.numerator_comparable, domestic.denominator_comparable) == (60, 100)
    assert math.isclose(domestic.value_comparable, 60.0)
    assert math.isclose(domestic.value_same_period_last_year, 50.0)


# --- Q1 ------------------------------------------------------------------------------------------------


@pytest.fixture
def q1_engine(engine, sqlite_settings):
    insert(engine, "dim_enterprise_register", [register_row("2012-01", n) for n in (1, 3)])
    insert(
        engine,
        "fct_product_output",
        [
            # enterprise 1: the Q1 row says 620200, the register 620100
            product("2014-05", 1, "cement_total", 1000.0, "620200"),
            product("2014-05", 1, "cement_new_dry_process", 900.0, "620200"),
            product("2013-05", 1, "cement_total", 800.0, "620200"),
            product("2013-05", 1, "cement_new_dry_process", 600.0, "620200"),
            # enterprise 2 (not in the register): only this year
            product("2014-05", 2, "cement_total", 500.0),
            product("2014-05", 2, "cement_new_dry_process", 100.0),
            product("2014-05", 3, "steel_products_total", 200.0),
            product("2014-05", 3, "steel_plate_strip", 50.0),
            product("2014-05", 3, "nonferrous_total", 100.0),  # and no deep-processed part
        ],
    )
    compute_indicators(engine, sqlite_settings, "2014-05")
    return indicator_frame(engine, "2014-05")


def test_q1_shares_are_the_part_over_the_whole_of_the_same_month_with_last_years_reporters_comparable(q1_engine):
    cement = cell(q1_engine, "CEMENT_DRY_SHARE")
    assert (cement.numerator, cement.denominator, cement.reporters) == (1000, 1500, 2)
    assert (cement.numerator_comparable, cement.denominator_comparable) == (900, 1000)  # enterprise 1 only
    assert (cement.numerator_same_period_last_year, cement.denominator_same_period_last_year) == (600, 800)
    assert math.isclose(cement.value, 100 * 1000 / 1500)
    steel = cell(q1_engine, "STEEL_PLATE_SHARE")
    assert (steel.numerator, steel.denominator) == (50, 200)


def test_a_q1_whole_reported_without_its_part_is_a_share_of_zero_not_no_data(q1_engine):
    nonferrous = cell(q1_engine, "NONFERROUS_DEEP_SHARE")
    assert (nonferrous.value, nonferrous.denominator) == (0, 100)
    assert nonferrous.status != "no_data"


def test_q1_rows_count_in_the_prefecture_of_the_register_in_force_else_their_own(q1_engine):
    assert cell(q1_engine, "CEMENT_DRY_SHARE", "prefecture", "620100").denominator == 1500
    assert q1_engine[(q1_engine.indicator_code == "CEMENT_DRY_SHARE") & (q1_engine.area_code == "620200")].empty or (
        q1_engine[(q1_engine.indicator_code == "CEMENT_DRY_SHARE") & (q1_engine.area_code == "620200")]
        .denominator.fillna(0)
        .sum()
        == 0
    )


# --- G1 ------------------------------------------------------------------------------------------------


def lanzhou_counties(month: str) -> int:
    """Counties of 兰州市 valid in ``month`` (兰州新区 from 2012-08)."""
    return sum(
        1
        for d in counties().values()
        if d.prefecture_code == "620100" and (d.valid_from or "") <= month and (not d.valid_to or d.valid_to > month)
    )


SNAPSHOT_2014 = [
    item("2014-01", "P1", "sme_platform", "2012-01", level="省级"),
    item("2014-01", "P2", "sme_platform", "2013-01", level="国家级"),
    item("2014-01", "P3", "sme_platform", "2012-01", level="市级"),
    item("2014-01", "P4", "sme_platform", "2014-09", level="省级"),  # recognised after the month
    item("2014-01", "I1", "incubator", "2011-01"),  # the plan's first month: counts
    item("2014-01", "I2", "incubator", "2010-12"),  # before the plan
    item("2014-01", "I3", "incubator", "2012-01", revoked="2014-05"),  # revoked in the month itself
    item("2014-01", "I4", "incubator", "2012-06", revoked="2014-06"),  # revoked after it
    item("2014-01", "D1", "demo_base", level="国家级", region_code="620000", prefecture_code=""),
    item("2014-01", "D2", "demo_base", level="省级"),
    item("2014-01", "CP1", "circular_park"),
    item("2014-01", "CE1", "circular_enterprise"),
    item("2014-01", "CE2", "circular_enterprise"),
    item("2014-01", "K1", "county_platform", region_code="620102"),
    item("2014-01", "K2", "county_platform", region_code="620102"),  # the same county: covered once
    item("2014-01", "K3", "county_platform", region_code="620103"),
]
SNAPSHOT_2013 = [
    item("2013-01", "P1", "sme_platform", "2012-01", level="省级"),
    item("2013-01", "K1", "county_platform", region_code="620102"),
]


@pytest.fixture
def g1_engine(engine, sqlite_settings):
    insert(engine, "dim_programme_item", SNAPSHOT_2013 + SNAPSHOT_2014)
    return engine


def test_g1_counts_the_items_of_the_snapshot_in_force_recognised_and_not_revoked_by_the_month(
    g1_engine, sqlite_settings
):
    compute_indicators(g1_engine, sqlite_settings, "2014-05")
    got = indicator_frame(g1_engine, "2014-05")
    platforms = cell(got, "SME_PLATFORMS_PROV")  # 省级 and 国家级, recognised by 2014-05: P1, P2
    assert (platforms.value, platforms.value_same_period_last_year, platforms.data_period) == (2, 1, "2014-01")
    assert cell(got, "INCUBATORS_NEW").value == 2  # I1 and I4
    assert cell(got, "NATL_DEMO_BASES").value == 1
    assert cell(got, "CIRCULAR_PARKS").value == 1
    assert cell(got, "CIRCULAR_ENTERPRISES").value == 2


def test_a_snapshot_without_items_of_a_type_counts_zero_not_no_data(g1_engine, sqlite_settings):
    compute_indicators(g1_engine, sqlite_settings, "2013-05")
    parks = cell(indicator_frame(g1_engine, "2013-05"), "CIRCULAR_PARKS")
    assert (parks.value, parks.data_period) == (0, "2013-01") and parks.status != "no_data"


def test_county_coverage_counts_each_county_with_a_platform_sited_in_it_once(g1_engine, sqlite_settings):
    compute_indicators(g1_engine, sqlite_settings, "2014-05")
    got = indicator_frame(g1_engine, "2014-05")
    lanzhou = cell(got, "SME_NETWORK_COUNTY_COVERAGE", "prefecture", "620100")
    assert (lanzhou.numerator, lanzhou.denominator) == (2, lanzhou_counties("2014-05"))
    assert (lanzhou.numerator_same_period_last_year, lanzhou.denominator_same_period_last_year) == (
        1,
        lanzhou_counties("2013-05"),
    )
    province = cell(got, "SME_NETWORK_COUNTY_COVERAGE")
    assert province.numerator == 2 and province.denominator == sum(
        1
        for d in counties().values()
        if (d.valid_from or "") <= "2014-05" and (not d.valid_to or d.valid_to > "2014-05")
    )


def test_county_coverage_counts_only_the_counties_valid_in_the_month(engine, sqlite_settings):
    insert(engine, "dim_programme_item", [item("2012-01", "K1", "county_platform", region_code="620102")])
    compute_indicators(engine, sqlite_settings, "2012-06")
    lanzhou = cell(indicator_frame(engine, "2012-06"), "SME_NETWORK_COUNTY_COVERAGE", "prefecture", "620100")
    assert lanzhou_counties("2012-06") == lanzhou_counties("2012-08") - 1  # 兰州新区 from 2012-08
    assert (lanzhou.numerator, lanzhou.denominator) == (1, lanzhou_counties("2012-06"))
