"""The generated province's A1, Q1 and G1 make the policy's 2015 targets meaningful: reached around 2015,
not in 2010 (default size, built without writing files)."""

from __future__ import annotations

import pytest

from techreform.generator import GeneratorConfig
from techreform.generator.annual import build_a1, build_g1, build_q1
from techreform.generator.population import build_population

CONFIG = GeneratorConfig()


@pytest.fixture(scope="module")
def population():
    return build_population(CONFIG)


def test_technology_centres_grow_to_about_the_target_and_never_drop(population):
    a1 = build_a1(CONFIG, population, list(range(2010, 2016)))
    provincial = a1[a1.tech_centre_level.isin(["省级", "国家级"])].groupby("year").size()
    national = a1[a1.tech_centre_level == "国家级"].groupby("year").size()
    assert 90 <= provincial[2010] <= 120 and 165 <= provincial[2015] <= 190  # target: ≥ 170 by 2015
    assert national[2010] < 20 <= national[2015]
    rank = {"无": 0, "市级": 1, "省级": 2, "国家级": 3}
    levels = a1.assign(rank=a1.tech_centre_level.map(rank)).pivot_table(index="_ent", columns="year", values="rank")
    assert (levels.diff(axis=1).fillna(0) >= 0).all().all()  # a clean A1 never breaks A1-S02


def test_product_shares_and_registry_counts_reach_the_2015_targets(population):
    q = build_q1(CONFIG, population, ["2010-12", "2015-12"]).groupby(["period", "product_code"]).quantity_t.sum()
    for part, whole, target in (
        ("nonferrous_deep_processed", "nonferrous_total", 30),
        ("steel_plate_strip", "steel_products_total", 70),
        ("cement_new_dry_process", "cement_total", 90),
    ):
        assert (
            100 * q["2010-12", part] / q["2010-12", whole]
            < target
            <= 100 * q["2015-12", part] / q["2015-12", whole] + 3
        )
    periods = [f"{y}-{m:02d}" for y in range(2010, 2016) for m in range(1, 13)]
    g1 = build_g1(CONFIG, periods)
    first, last = g1[g1._folder == "2010-01"], g1[g1._folder == "2015-07"]
    parks = lambda s: int((s.item_type == "circular_park").sum())  # noqa: E731
    assert parks(first) < 50 <= parks(last)
    platforms = lambda s: int(((s.item_type == "sme_platform") & s.level.isin(["省级", "国家级"])).sum())  # noqa: E731
    assert platforms(first) < 100 <= platforms(last)
