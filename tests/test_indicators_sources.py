"""Indicators that need more than E1: the register (REPORTING_RATE, EMERGING_SHARE), projects
(PROJECT_SCHEDULE), supervision's lights (PROJECT_RED, refreshed after supervision); and what people
read: the rpt_indicator view and the province's headline table."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import sqlalchemy as sa

from indicators_fixtures import cell, enterprise, indicator_frame, insert, project, register_row, warehouse
from techreform.indicators import compute_indicators, headline_table, refresh_supervision_indicators


@pytest.fixture
def engine(warehouse_url):
    return warehouse(warehouse_url)


def test_reporting_rate_counts_expected_enterprises_of_the_register_in_force(engine, settings):
    insert(
        engine,
        "dim_enterprise_register",
        [
            register_row("2012-01", 1, "620100"),
            register_row("2012-01", 2, "620100"),
            register_row("2012-01", 3, "620200"),
            register_row("2012-01", 4, "620200", operating_status="停产"),  # not expected
            register_row("2012-01", 5, "620200", above_scale=0),  # not expected
            # a later snapshot, not yet in force in 2013-06
            register_row("2013-07", 1, "620100"),
        ],
    )
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2013-06", 1, "620100"),
            enterprise("2013-06", 3, "620200"),
            enterprise("2013-06", 4, "620200"),  # reports though not expected: not counted
        ],
    )
    compute_indicators(engine, settings, "2013-06")
    results = indicator_frame(engine, "2013-06")
    province = cell(results, "REPORTING_RATE")
    assert (province.numerator, province.denominator) == (2, 3) and math.isclose(province.value, 200 / 3)
    assert province.status == "lagging"
    assert cell(results, "REPORTING_RATE", "prefecture", "620200").status == "met"
    assert cell(results, "REPORTING_RATE", "prefecture", "620100").value == 50.0
    assert cell(results, "REPORTING_RATE", "prefecture", "620300").status == "no_data"


def test_emerging_share_uses_the_register_flag_in_force(engine, settings):
    insert(
        engine,
        "dim_enterprise_register",
        [register_row("2012-01", 1, emerging_industry=1), register_row("2012-01", 2, emerging_industry=0)],
    )
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2013-06", 1, value_added=100.0),
            enterprise("2013-06", 2, value_added=300.0),
            enterprise("2013-06", 3, value_added=100.0),  # not in the register: not emerging
        ],
    )
    compute_indicators(engine, settings, "2013-06")
    row = cell(indicator_frame(engine, "2013-06"), "EMERGING_SHARE")
    assert (row.numerator, row.denominator) == (100.0, 500.0) and math.isclose(row.value, 20.0)


def test_project_schedule_compares_year_to_date_investment_with_the_elapsed_share_of_the_plan(engine, settings):
    insert(
        engine,
        "fct_project_monthly",
        [
            project("2013-06", 1, "620100", "3110", annual_plan_investment=1200.0, ytd_investment=600.0),
            project("2013-06", 2, "620100", "2511", annual_plan_investment=2400.0, ytd_investment=600.0),
            project("2013-06", 3, "620500", "2511", annual_plan_investment=0.0, ytd_investment=0.0),
        ],
    )
    compute_indicators(engine, settings, "2013-06")
    results = indicator_frame(engine, "2013-06")
    province = cell(results, "PROJECT_SCHEDULE")
    assert math.isclose(province.value, 1200 / (3600 * 6 / 12) * 100) and province.status == "lagging"
    assert cell(results, "PROJECT_SCHEDULE", "prefecture", "620100").reporters == 2
    assert cell(results, "PROJECT_SCHEDULE", "sector_group", "冶金有色").status == "met"
    assert cell(results, "PROJECT_SCHEDULE", "prefecture", "620500").status == "no_data"  # zero plan


def _lights(period: str, lights: list[tuple[str, str, str]]) -> list[dict]:
    return [
        {
            "period": period,
            "project_code": code,
            "project_name": code,
            "uscc": "x",
            "enterprise_name": "x",
            "region_code": pref[:4] + "02",
            "county_name": "x",
            "prefecture_code": pref,
            "prefecture_name": "x",
            "key_project": 0,
            "annual_plan_investment": 1.0,
            "ytd_investment": 0.0,
            "lag_pp": 50.0,
            "light": light,
            "reasons": "",
            "escalated": 0,
            "source": "accepted",
        }
        for code, pref, light in lights
    ]


def test_red_projects_are_counted_after_supervision_and_survive_a_rerun_of_the_indicators(engine, settings):
    insert(engine, "fct_project_monthly", [project("2013-06", 1, "620100", "3110")])
    compute_indicators(engine, settings, "2013-06")
    assert cell(indicator_frame(engine, "2013-06"), "PROJECT_RED").status == "no_data"  # not supervised yet
    insert(engine, "sup_run", [{"period": "2013-06", "projects": 3, "green": 1, "yellow": 0, "red": 2, "escalated": 0}])
    insert(
        engine,
        "sup_project_light",
        _lights(
            "2013-06",
            [
                (project("2013-06", 1)["project_code"], "620100", "red"),
                ("P2", "620100", "red"),
                ("P3", "620200", "green"),
            ],
        ),
    )
    summary = refresh_supervision_indicators(engine, settings, "2013-06")
    assert summary["rows"] == 1 + 14 + 10
    results = indicator_frame(engine, "2013-06")
    assert cell(results, "PROJECT_RED").value == 2 and cell(results, "PROJECT_RED").status == "no_target"
    assert cell(results, "PROJECT_RED", "prefecture", "620100").value == 2
    assert cell(results, "PROJECT_RED", "prefecture", "620200").value == 0
    assert cell(results, "PROJECT_RED", "prefecture", "620300").value == 0
    assert cell(results, "PROJECT_RED", "sector_group", "冶金有色").value == 1
    assert len(results) == len(indicator_frame(engine, "2013-06"))
    compute_indicators(engine, settings, "2013-06")
    pd.testing.assert_frame_equal(results, indicator_frame(engine, "2013-06"))


@pytest.mark.parametrize("absent", ["sup_project_light", "sup_run"])
def test_red_projects_are_no_data_while_a_supervision_table_is_absent(engine, settings, absent):
    with engine.begin() as conn:
        conn.execute(sa.text(f"drop table {absent}"))
    summary = refresh_supervision_indicators(engine, settings, "2013-06")
    assert summary["by_status"] == {"no_data": 1 + 14 + 10}
    assert "supervision_red" not in compute_indicators(engine, settings, "2013-06")["families"]


def test_statisticians_read_indicators_by_area_and_period_with_chinese_names(engine, settings):
    insert(engine, "fct_enterprise_monthly", [enterprise("2013-06", 1, "620100")])
    compute_indicators(engine, settings, "2013-06")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select indicator_name_zh, unit, level_zh, area_name, value, status_zh from rpt_indicator "
                "where period = :p and indicator_code = 'VA_RATE' and level = 'prefecture' order by area_code"
            ),
            {"p": "2013-06"},
        ).all()
    assert len(rows) == 14
    assert tuple(rows[0]) == ("工业增加值率", "%", "市州", "兰州市", 30.0, "无目标")
    assert rows[1].status_zh == "无数据"


def test_the_headline_table_lists_the_provinces_indicators_against_their_targets(engine, settings):
    insert(engine, "fct_enterprise_monthly", [enterprise("2010-12", 1), enterprise("2013-06", 1, value_added=320.0)])
    compute_indicators(engine, settings, "2013-06")
    table = headline_table(engine, "2013-06")
    assert list(table.columns) == ["code", "name_zh", "unit", "value", "target", "status", "target_2015", "status_zh"]
    assert len(table) == 36 and "TR_INV_CUM" in set(table.code)  # all 36, with their status
    tech = table.set_index("code").loc["TECH_CENTERS_PROV"]  # no A1 delivered: 无数据, never 0
    assert tech.status == "no_data" and tech.status_zh == "无数据" and pd.isna(tech.value)
    va = table.set_index("code").loc["VA_RATE"]
    assert (va.value, va.target, va.status) == (32.0, 31.0, "met")
    assert headline_table(engine, "2014-01").empty
