"""A1, Q1 and G1 of the sample province: the forms of the indicators no monthly form carries.

Each draws from its own seeded streams (``rng_for(seed, "A1", …)``), so adding them changes no byte of
the other forms' files. Magnitudes follow the policy's targets for 2015 (docs/generator.md):

- **A1** (yearly, every enterprise above scale and 在营 in the December snapshot, folder ``<YYYY>-12``):
  a technology centre's level follows a fixed per-enterprise score (larger enterprises score higher)
  against thresholds that fall every year, so a level never drops and the province has about 100
  provincial-or-national centres in 2010 and about 175 in 2015 (national: about 8 → 20). Equipment
  levels of key enterprises, process-control and CAx adoption, websites, e-commerce and digital
  enterprises rise the same way.
- **Q1** (monthly, year-to-date tonnes): the enterprises of divisions 32 (nonferrous), 31 (steel) and 30
  (cement) that report E1 in the month make their products; the part's share of each whole rises to
  about the 2015 targets (deep processing 30%, plate and strip 70%, new dry process 90%).
- **G1** (snapshots every January and July): items recognised over the years, a few revoked; counts reach
  about the 2015 targets (100 provincial SME platforms, 15 new incubators, 80% county coverage, 50
  circular parks, 100 circular enterprises, 10 national demonstration bases).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from techreform.forms import PRODUCT_PARTS
from techreform.reference import PROVINCE_CODE

from .config import GeneratorConfig
from .population import Population, make_usccs
from .rand import rng_for
from .reference import counties, period_of_index, prefectures

A1_START, A1_END = 2010, 2015


def _trend(year: int, start: float, end: float) -> float:
    """The straight line from ``start`` in 2010 to ``end`` in 2015 (extended beyond)."""
    return start + (end - start) * (year - A1_START) / (A1_END - A1_START)


def _top_share(score: np.ndarray, eligible: np.ndarray, count: float) -> float:
    """The score above which about ``count`` of the eligible enterprises lie."""
    values = np.sort(score[eligible])[::-1]
    if not len(values):
        return np.inf
    k = int(min(max(round(count), 0), len(values)))
    return values[k - 1] if k > 0 else np.inf


def build_a1(config: GeneratorConfig, population: Population, years: list[int]) -> pd.DataFrame:
    """A1 rows of ``years`` (clean, typed; ``_ent``, ``_folder``, ``_file`` set)."""
    ents = population.enterprises
    n = len(ents)
    rng = rng_for(config.seed, "A1", "population")
    size_rank = ents["size"].rank(pct=True).to_numpy()
    # fixed scores: a flag is on from the year its threshold falls below the score, so it never drops
    centre = size_rank + rng.normal(0, 0.03, n)
    adoption = {name: rng.random(n) for name in ("apc", "cax", "web", "ecom", "digital")}
    equip_total = np.maximum(5, np.round(ents["size"].to_numpy() * rng.uniform(8, 20, n))).astype(int)
    equip_domestic_u = rng.random(n)
    equip_intl_u = rng.random(n)
    scale_factor = config.enterprises / 2000.0
    rows = []
    for year in years:
        december = f"{year}-12"
        reporters = population.reporters(december)
        eligible = np.zeros(n, dtype=bool)
        eligible[reporters] = True
        provincial = _top_share(centre, eligible, _trend(year, 100, 175) * scale_factor)
        national = _top_share(centre, eligible, _trend(year, 8, 21) * scale_factor)
        municipal = _top_share(centre, eligible, _trend(year, 220, 320) * scale_factor)
        domestic_share = _trend(year, 0.46, 0.63)
        intl_share = _trend(year, 0.18, 0.32)
        for e in reporters:
            level = (
                "国家级"
                if centre[e] >= national
                else "省级"
                if centre[e] >= provincial
                else "市级"
                if centre[e] >= municipal
                else "无"
            )
            total = int(equip_total[e])
            domestic = int(round(total * min(1.0, domestic_share * (0.7 + 0.6 * equip_domestic_u[e]))))
            intl = int(round(total * min(intl_share * (0.7 + 0.6 * equip_intl_u[e]), domestic / total)))
            rows.append(
                {
                    "_ent": int(e),
                    "uscc": ents.at[e, "uscc"],
                    "enterprise_name": ents.at[e, "enterprise_name"],
                    "year": year,
                    "tech_centre_level": level,
                    "key_equipment_total": total,
                    "key_equipment_domestic_adv": domestic,
                    "key_equipment_intl_adv": min(intl, domestic),
                    "apc_in_use": int(adoption["apc"][e] < _trend(year, 0.62, 0.93)),
                    "cax_in_use": int(adoption["cax"][e] < _trend(year, 0.55, 0.83)),
                    "has_website": int(adoption["web"][e] < _trend(year, 0.45, 0.73)),
                    "ecommerce_regular": int(adoption["ecom"][e] < _trend(year, 0.12, 0.32)),
                    "digital_enterprise": int(adoption["digital"][e] < _trend(year, 0.08, 0.30)),
                    "_folder": december,
                    "_file": ents.at[e, "prefecture_code"],
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    counts = ["key_equipment_total", "key_equipment_domestic_adv", "key_equipment_intl_adv"]
    frame[counts] = frame[counts].astype(float)  # a planted defect may be fractional (A1-H03)
    return frame.sort_values(["_ent", "year"], kind="stable").reset_index(drop=True)


PRODUCERS = {"32": "nonferrous_total", "31": "steel_products_total", "30": "cement_total"}
"""Which division makes which whole product (Q1)."""

PART_SHARE = {
    "nonferrous_deep_processed": (0.21, 0.33),
    "steel_plate_strip": (0.55, 0.73),
    "cement_new_dry_process": (0.68, 0.93),
}
"""The part's share of its whole in 2010 and 2015 (the policy's 2015 targets: 30, 70, 90 %)."""


def build_q1(config: GeneratorConfig, population: Population, periods: list[str]) -> pd.DataFrame:
    """Q1 rows of ``periods`` (clean, typed, year-to-date tonnes)."""
    ents = population.enterprises
    n = len(ents)
    rng = rng_for(config.seed, "Q1", "population")
    division = ents["division"].astype(str).to_numpy()
    makes = np.array([PRODUCERS.get(d) for d in division], dtype=object)
    makes[rng.random(n) >= 0.7] = None
    annual_t = ents["size"].to_numpy() * rng.uniform(2000, 9000, n)
    tilt = rng.uniform(0.85, 1.15, n)
    wholes = {whole: part for part, whole in PRODUCT_PARTS}
    rows = []
    for period in periods:
        year, month = int(period[:4]), int(period[5:7])
        for e in population.reporters(period):
            whole = makes[e]
            if whole is None:
                continue
            ytd = round(float(annual_t[e]) * month / 12.0, 1)
            part = wholes[whole]
            start, end = PART_SHARE[part]
            share = min(0.99, _trend(year, start, end) * float(tilt[e]))
            base = {"_ent": int(e), "uscc": ents.at[e, "uscc"], "enterprise_name": ents.at[e, "enterprise_name"]}
            base.update({"period": period, "_folder": period, "_file": ents.at[e, "prefecture_code"]})
            rows.append({**base, "product_code": whole, "quantity_t": ytd})
            rows.append({**base, "product_code": part, "quantity_t": round(ytd * share, 1)})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values(["_ent", "product_code", "period"], kind="stable").reset_index(drop=True)


def g1_snapshots(periods: list[str]) -> list[str]:
    """The G1 snapshot months: every January and July of the generated periods (and the first month)."""
    months = [p for p in periods if p.endswith(("-01", "-07"))]
    return sorted(set(months) | ({periods[0]} if periods else set()))


G1_PLAN: tuple[tuple[str, str, int, int], ...] = (
    # type, level, items before 2010, items recognised 2010-01..2015-12
    ("sme_platform", "省级", 38, 70),
    ("sme_platform", "国家级", 3, 6),
    ("incubator", "省级", 6, 18),
    ("circular_park", "省级", 14, 42),
    ("circular_enterprise", "省级", 28, 80),
    ("demo_base", "国家级", 3, 8),
    ("demo_base", "省级", 5, 10),
)
"""G1 items per type and level: how many exist before the generated years and how many are added."""


def build_g1(config: GeneratorConfig, periods: list[str]) -> pd.DataFrame:
    """G1 rows of every snapshot (clean, typed; ``_folder`` = the snapshot month, ``_item`` = item number)."""
    if not periods:
        return pd.DataFrame()
    rng = rng_for(config.seed, "G1", "items")
    first, last = periods[0], periods[-1]
    first_i = int(first[:4]) * 12 + int(first[5:7]) - 1
    last_i = int(last[:4]) * 12 + int(last[5:7]) - 1
    valid = [c for c in counties() if c.valid_in(first) and c.valid_in(last)]
    items = []
    for item_type, level, before, added in G1_PLAN:
        for k in range(before + added):
            county = valid[int(rng.integers(0, len(valid)))]
            if k < before:
                recognised = first_i - int(rng.integers(1, 60))
            else:
                recognised = first_i + int(rng.integers(0, max(1, last_i - first_i)))
            revoked = recognised + int(rng.integers(24, 48)) if rng.random() < 0.04 else None
            items.append((item_type, level, county.code, recognised, revoked))
    # county platforms: about 30% of the counties before 2010, about 85% by 2015
    for county in valid:
        u = rng.random()
        if u < 0.3:
            items.append(("county_platform", "市级", county.code, first_i - int(rng.integers(1, 36)), None))
        elif u < 0.86:
            items.append(
                ("county_platform", "省级", county.code, first_i + int(rng.integers(0, last_i - first_i)), None)
            )
    prefix = {"sme_platform": "ZXPT", "incubator": "FHJD", "county_platform": "XYPT"}
    prefix |= {"circular_park": "XHYQ", "circular_enterprise": "XHQY", "demo_base": "SFJD"}
    names = {"sme_platform": "中小企业公共服务平台", "incubator": "小企业创业孵化基地"}
    names |= {"county_platform": "县域中小企业服务中心", "circular_park": "循环经济产业园"}
    names |= {"circular_enterprise": "循环经济示范企业", "demo_base": "新型工业化产业示范基地"}
    county_names = {c.code: c.name for c in counties()}
    rows = []
    for snapshot in g1_snapshots(periods):
        s_i = int(snapshot[:4]) * 12 + int(snapshot[5:7]) - 1
        for number, (item_type, level, region, recognised, revoked) in enumerate(items):
            if recognised > s_i:
                continue
            rows.append(
                {
                    "_item": number,
                    "item_id": f"GS-{prefix[item_type]}-{number:04d}",
                    "item_type": item_type,
                    "name": f"{county_names[region]}{names[item_type]}",
                    "region_code": region,
                    "level": level,
                    "recognised": period_of_index(recognised),
                    "revoked": period_of_index(revoked) if revoked is not None and revoked <= s_i else None,
                    "_folder": snapshot,
                    "_file": PROVINCE_CODE,
                }
            )
    return pd.DataFrame(rows).reset_index(drop=True)


def outsider_usccs(config: GeneratorConfig, form: str, count: int, taken: set[str]) -> list[str]:
    """Valid USCCs of enterprises that are in no register (A1-S01, Q1-S01 defects)."""
    prefecture_counties = np.array([c.code for c in counties()], dtype=object)
    rng = rng_for(config.seed, form, "outsiders")
    regions = prefecture_counties[rng.integers(0, len(prefecture_counties), max(count, 1))]
    return [str(u) for u in make_usccs(rng, regions, set(taken))][:count]


__all__ = ["build_a1", "build_g1", "build_q1", "g1_snapshots", "outsider_usccs", "prefectures"]
