"""Indicator cells recomputed independently in pandas from the same facts agree with the warehouse's
SQL, on SQLite and PostgreSQL; additive measures add up from prefectures to the province."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from indicators_fixtures import cell, indicator_frame, insert, random_facts, sector_of, warehouse
from techreform.config import Settings
from techreform.indicators import compute_indicators
from techreform.indicators.catalogue import zones

PERIODS = ["2010-06", "2010-12", "2011-06", "2011-12", "2012-06"]
ZONE_OF = {z["prefecture_code"]: z["zone_code"] for z in zones()}

# indicator -> (fields every counted enterprise must have, numerator, denominator, scale)
RATIOS = {
    "VA_RATE": (["value_added", "gross_output"], lambda f, m: f.value_added, lambda f: f.gross_output, 100),
    "PROFIT_PER_100": (["profit", "revenue"], lambda f, m: f.profit, lambda f: f.revenue, 100),
    "LABOR_PROD": (["value_added", "employees"], lambda f, m: f.value_added * 12 / m, lambda f: f.employees, 1),
    "RD_INTENSITY": (["rd_expense", "revenue"], lambda f, m: f.rd_expense, lambda f: f.revenue, 100),
    "NEW_PRODUCT_RATE": (
        ["new_product_output", "gross_output"],
        lambda f, m: f.new_product_output,
        lambda f: f.gross_output,
        100,
    ),
    "ENERGY_INTENSITY": (["energy_tce", "value_added"], lambda f, m: f.energy_tce, lambda f: f.value_added, 1),
    "WATER_INTENSITY": (["water_m3", "value_added"], lambda f, m: f.water_m3, lambda f: f.value_added, 1),
    "SOLID_WASTE_UTIL": (
        ["solid_waste_utilized", "solid_waste_generated"],
        lambda f, m: f.solid_waste_utilized,
        lambda f: f.solid_waste_generated,
        100,
    ),
    "ECOMMERCE_SHARE": (
        ["ecommerce_purchase", "ecommerce_sales", "purchase_total", "revenue"],
        lambda f, m: f.ecommerce_purchase + f.ecommerce_sales,
        lambda f: f.purchase_total + f.revenue,
        100,
    ),
}


@pytest.fixture
def computed(warehouse_url, tmp_path):
    """Random facts for PERIODS, indicators of 2012-06 computed; returns (facts, results)."""
    engine = warehouse(warehouse_url)
    rows = random_facts(seed=7, periods=PERIODS)
    insert(engine, "fct_enterprise_monthly", rows)
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path), "TECHREFORM_WAREHOUSE_URL": warehouse_url})
    compute_indicators(engine, settings, "2012-06")
    facts = pd.DataFrame(rows)
    facts["sector_group"] = facts.industry_code.map(sector_of)
    return facts, indicator_frame(engine, "2012-06")


def _area_filter(facts: pd.DataFrame, level: str, area: str) -> pd.Series:
    if level == "province":
        return pd.Series(True, index=facts.index)
    return facts.prefecture_code == area if level == "prefecture" else facts.sector_group == area


def _close(actual, expected, rel=1e-9) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return actual is None or pd.isna(actual)
    return actual is not None and not pd.isna(actual) and math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-9)


def _sample_areas(facts: pd.DataFrame) -> list[tuple[str, str]]:
    prefectures = sorted(facts.prefecture_code.unique())[:4]
    sectors = sorted(facts.sector_group.unique())[:3]
    return [("province", "620000")] + [("prefecture", p) for p in prefectures] + [("sector_group", s) for s in sectors]


def test_ratio_indicators_equal_sums_of_numerators_over_sums_of_denominators_recomputed_in_pandas(computed):
    facts, results = computed
    now = facts[facts.period == "2012-06"]
    last = facts[facts.period == "2011-06"].set_index("uscc")
    checked = 0
    for code, (fields, num, den, scale) in RATIOS.items():
        counted = now.dropna(subset=fields)
        for level, area in _sample_areas(facts):
            part = counted[_area_filter(counted, level, area)]
            row = cell(results, code, level, area)
            if part.empty:
                assert row.status == "no_data" and pd.isna(row.value)
                continue
            n, d = num(part, 6).sum(), den(part).sum()
            assert _close(row.numerator, n) and _close(row.denominator, d), (code, level, area)
            assert _close(row.value, n * scale / d if d else None), (code, level, area)
            # comparable basis: only enterprises whose 2011-06 row has the fields too
            ly = last[last.index.isin(part.uscc)].dropna(subset=fields)
            both = part[part.uscc.isin(ly.index)]
            if both.empty:
                assert pd.isna(row.value_same_period_last_year)
                continue
            value_cmp = num(both, 6).sum() * scale / den(both).sum()
            value_ly = num(ly, 6).sum() * scale / den(ly).sum()
            assert _close(row.value_comparable, value_cmp), (code, level, area)
            assert _close(row.value_same_period_last_year, value_ly), (code, level, area)
            assert _close(row.growth, (value_cmp / value_ly - 1) * 100 if value_ly > 0 else None), (code, level, area)
            checked += 1
    assert checked > 30


def test_investment_indicators_recomputed_in_pandas(computed):
    facts, results = computed
    inv = facts.dropna(subset=["techreform_investment"])
    for level, area in _sample_areas(facts):
        part = inv[_area_filter(inv, level, area)]
        # cumulative: 2011's December plus 2012's year to date, in 亿元
        cum = part[part.period.isin(["2011-12", "2012-06"])].techreform_investment.sum()
        cum_ly = part[part.period == "2011-06"].techreform_investment.sum()
        row = cell(results, "TR_INV_CUM", level, area)
        assert _close(row.value, cum / 10000) and _close(row.value_same_period_last_year, cum_ly / 10000)
        assert _close(row.growth, (cum / cum_ly - 1) * 100)
        # growth on the comparable basis
        now = part[part.period == "2012-06"].set_index("uscc").techreform_investment
        last = inv[inv.period == "2011-06"].set_index("uscc").techreform_investment
        both = now.index.intersection(last.index)
        row = cell(results, "TR_INV_GROWTH", level, area)
        if len(both) == 0 or last[both].sum() == 0:
            assert pd.isna(row.value)
        else:
            assert _close(row.value, (now[both].sum() / last[both].sum() - 1) * 100)
            assert row.reporters == len(both)


def test_hundred_billion_counts_recomputed_in_pandas(computed):
    facts, results = computed
    now = facts[facts.period == "2012-06"].copy()
    now["annual"] = now.revenue * 12 / 6  # 万元
    assert (now.annual >= 1e7).sum() > 0, "the random facts should contain 千亿元 enterprises"
    assert cell(results, "ENTERPRISES_100B").value == (now.annual >= 1e7).sum()
    for prefecture, group in now.groupby("prefecture_code"):
        assert cell(results, "ENTERPRISES_100B", "prefecture", prefecture).value == (group.annual >= 1e7).sum()
    now["zone"] = now.prefecture_code.map(ZONE_OF)
    zone_revenue = now.dropna(subset=["zone"]).groupby("zone").annual.sum() / 10000
    for zone, revenue in zone_revenue.items():
        row = cell(results, "CLUSTERS_100B", "zone", zone)
        assert _close(row.numerator, revenue) and row.value == (1.0 if revenue >= 1000 else 0.0)
    assert cell(results, "CLUSTERS_100B").value == (zone_revenue >= 1000).sum()
    chain_revenue = now.groupby("sector_group").annual.sum() / 10000
    assert cell(results, "CHAINS_100B").value == (chain_revenue >= 1000).sum()
    for chain, revenue in chain_revenue.items():
        assert cell(results, "CHAINS_100B", "chain", chain).value == (1.0 if revenue >= 1000 else 0.0)


def test_province_totals_equal_the_sum_of_prefectures_for_additive_measures(computed):
    _, results = computed
    additive = results[
        results.value_rule.isin(["ratio", "sum", "growth"])
        & results.indicator_code.isin([*RATIOS, "TR_INV_CUM", "TR_INV_GROWTH", "ENTERPRISES_100B"])
    ]
    checked = 0
    for code, rows in additive.groupby("indicator_code"):
        province = rows[rows.level == "province"].iloc[0]
        prefectures = rows[rows.level == "prefecture"]
        for column in ("numerator", "denominator", "reporters", "numerator_same_period_last_year"):
            if pd.isna(province[column]):
                continue
            assert math.isclose(province[column], prefectures[column].sum(), rel_tol=1e-9), (code, column)
            checked += 1
    assert checked >= 20
    cumulative = results[results.indicator_code == "TR_INV_CUM"]
    assert math.isclose(
        cumulative[cumulative.level == "province"].value.iloc[0],
        cumulative[cumulative.level == "prefecture"].value.sum(),
        rel_tol=1e-9,
    )


def test_every_prefecture_and_sector_group_has_a_row_for_every_indicator_of_its_levels(computed):
    _, results = computed
    va = results[results.indicator_code == "VA_RATE"]
    assert set(va.level) == {"province", "prefecture", "sector_group"}
    assert len(va[va.level == "prefecture"]) == 14
    assert set(results[results.indicator_code == "CLUSTERS_100B"].area_code) == {
        "620000",
        "JIUJIA",
        "JINWU",
        "LANBAI",
        "LONGDONG",
    }
    annual = results[results.indicator_code == "TECH_CENTERS_PROV"]
    # no A1 delivered: every row of its levels (province, 14 prefectures, sector groups) says no data
    assert set(annual.level) == {"province", "prefecture", "sector_group"}
    assert set(annual.status) == {"no_data"} and annual.value.isna().all()
    assert np.isfinite(results.value.dropna()).all()
