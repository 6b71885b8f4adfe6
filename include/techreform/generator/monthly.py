"""Monthly E1 figures (企业技术改造及主要经济指标月报) of every reporting enterprise, vectorised.

Each enterprise has yearly levels (value added shares of the province total, drifting by a random walk;
output, revenue, energy, water, waste derived with firm-specific ratios) spread over months by a seasonal
profile with noise. Amounts are year-to-date sums of non-negative monthly increments, rounded to 0.01,
so they never fall within a year; profit may be negative; employees are an average, not cumulative.
Technical-transformation investment = the enterprise's own (non-project) investment + the running
maximum, within the year, of its projects' reported P1 year-to-date investment, so E1-S10 holds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from techreform.forms import E1_AMOUNT_FIELDS, E1_YEAR_TO_DATE_FIELDS

from .config import GeneratorConfig
from .population import DEREGISTERED, STOPPED, Population
from .rand import rng_for
from .reference import (
    INVESTMENT_SEASON,
    OUTPUT_SEASON,
    REFERENCE_ENTERPRISES,
    SECTOR_ENERGY_INTENSITY,
    SECTOR_WASTE_INTENSITY,
    period_index,
    period_of_index,
    techreform_total,
    value_added_total,
)

CUMULATIVE_FIELDS = E1_YEAR_TO_DATE_FIELDS
"""E1 fields that are year-to-date sums (E1-S07 applies to them)."""

E1_VALUE_FIELDS = E1_AMOUNT_FIELDS


def skipped_januaries(config: GeneratorConfig, n: int, year: int) -> np.ndarray:
    """Mask of enterprises that skip the optional January report of ``year``."""
    return rng_for(config.seed, "E1", "skip-january", year).random(n) < config.skip_january_share


def build_enterprise_monthly(
    config: GeneratorConfig, population: Population, project_ytd: pd.DataFrame, project_total_by_year: dict[int, float]
) -> pd.DataFrame:
    """Clean E1 rows of every expected report in the generated periods.

    ``project_ytd``: columns ``_ent``, ``period``, ``ytd`` = the largest sum of P1 year-to-date investment
    of the enterprise's projects that any reading of the delivered P1 rows could give for the period;
    ``project_total_by_year``: all projects' investment per year (万元), so own investment tops it up to
    the province total."""
    ents = population.enterprises
    n = len(ents)
    first, last = period_index(config.first_period), period_index(config.last_period)
    y0, y1 = first // 12, last // 12
    scale = config.enterprises / REFERENCE_ENTERPRISES
    rng = rng_for(config.seed, "E1", "levels")

    size = ents["size"].to_numpy()
    drift = np.cumsum(rng.normal(0.0, 0.08, size=(n, y1 - y0 + 1)), axis=1)
    va_ratio = rng.uniform(0.22, 0.40, n)
    rev_ratio = rng.uniform(0.86, 1.0, n)
    productivity = rng.lognormal(np.log(60.0), 0.5, n)  # 万元 of output per employee a year
    group = ents["sector_group"].to_numpy()
    energy_int = np.array([SECTOR_ENERGY_INTENSITY.get(g, 0.15) for g in group]) * rng.lognormal(0, 0.3, n)
    waste_int = np.array([SECTOR_WASTE_INTENSITY.get(g, 0.02) for g in group]) * rng.lognormal(0, 0.3, n)
    water_int = rng.uniform(3.0, 30.0, n)
    rd_share = rng.uniform(0.001, 0.02, n)
    npo_share = rng.uniform(0.0, 0.15, n)
    purchase_share = rng.uniform(0.4, 0.8, n)
    ecp_share = rng.uniform(0.0, 0.1, n)
    ecs_share = rng.uniform(0.0, 0.08, n)
    util_share = rng.uniform(0.3, 1.2, n)
    has = {  # optional fields an enterprise fills in
        "rd_expense": rng.random(n) < 0.6,
        "new_product_output": rng.random(n) < 0.5,
        "water_m3": rng.random(n) < 0.8,
        "solid_waste": rng.random(n) < 0.7,
        "purchase_total": rng.random(n) < 0.7,
        "ecommerce_sales": rng.random(n) < 0.5,
    }
    has["ecommerce_purchase"] = has["purchase_total"] & (rng.random(n) < 0.6)
    emp_base = np.maximum(20.0, value_added_total(y0) * scale * size / size.sum() / va_ratio / productivity)

    # projects' year-to-date, running maximum within the year, by (enterprise, month)
    proj = {}
    if len(project_ytd):
        pj = project_ytd.assign(t=project_ytd["period"].map(period_index))
        for (e, t), v in zip(zip(pj["_ent"], pj["t"], strict=True), pj["ytd"], strict=True):
            proj[(int(e), int(t))] = float(v)

    frames = []
    for year in range(y0, y1 + 1):
        months = np.arange(year * 12, min(year * 12 + 11, last) + 1)
        reporting = np.zeros(n, dtype=bool)
        for t in months:
            if t >= first:
                reporting[population.reporters(period_of_index(int(t)))] = True
        active = np.flatnonzero(reporting)
        if not len(active):
            continue
        yrng = rng_for(config.seed, "E1", "year", year)
        k = len(active)
        w = size[active] * np.exp(drift[active, year - y0])
        va_year = value_added_total(year) * scale * w / w.sum()
        go_year = np.maximum(va_year / va_ratio[active], 2000.0 * yrng.uniform(1.0, 2.0, k))  # above scale: ≥ 2000万
        va_year = go_year * va_ratio[active]
        rev_year = go_year * rev_ratio[active]
        margin = np.clip(yrng.normal(0.04, 0.06, k), -0.3, 0.25)
        nm = len(months)
        # no output or investment while stopped (停产) or deregistered: YTD resumes where it stood
        snap = np.array([population.snapshot_index(period_of_index(int(max(t, first)))) for t in months])
        producing = ~np.isin(population.state[active][:, snap], [STOPPED, DEREGISTERED])
        season = OUTPUT_SEASON[months % 12][None, :] * yrng.lognormal(0.0, 0.06, size=(k, nm)) * producing
        inv_season = INVESTMENT_SEASON[months % 12][None, :] * yrng.lognormal(0.0, 0.1, size=(k, nm)) * producing

        def ytd(annual: np.ndarray, shape: np.ndarray = season) -> np.ndarray:
            return np.round(np.cumsum(annual[:, None] * shape, axis=1), 2)

        go_inc = go_year[:, None] * season
        values: dict[str, np.ndarray] = {
            "gross_output": ytd(go_year),
            "value_added": ytd(va_year),
            "revenue": ytd(rev_year),
            "energy_tce": ytd(go_year * energy_int[active]),
        }
        values["profit"] = np.round(
            np.cumsum(
                go_inc * rev_ratio[active, None] * margin[:, None] * yrng.uniform(0.9, 1.1, size=(k, nm)), axis=1
            ),
            2,
        )
        values["employees"] = np.round(
            emp_base[active, None] * np.exp(drift[active, year - y0])[:, None] * yrng.uniform(0.97, 1.03, size=(k, nm))
        )
        values["rd_expense"] = ytd(rev_year * rd_share[active])
        values["new_product_output"] = ytd(go_year * npo_share[active])
        values["water_m3"] = ytd(go_year * water_int[active])
        gen = go_year * waste_int[active]
        values["solid_waste_generated"] = ytd(gen)
        values["solid_waste_utilized"] = np.minimum(
            ytd(gen * util_share[active]), values["solid_waste_generated"] * 1.2
        )
        values["purchase_total"] = ytd(rev_year * purchase_share[active])
        values["ecommerce_purchase"] = np.minimum(
            ytd(rev_year * purchase_share[active] * ecp_share[active]), values["purchase_total"]
        )
        values["ecommerce_sales"] = ytd(rev_year * ecs_share[active])
        for name, mask in (
            ("rd_expense", has["rd_expense"]),
            ("new_product_output", has["new_product_output"]),
            ("water_m3", has["water_m3"]),
            ("solid_waste_generated", has["solid_waste"]),
            ("solid_waste_utilized", has["solid_waste"]),
            ("purchase_total", has["purchase_total"]),
            ("ecommerce_purchase", has["ecommerce_purchase"]),
            ("ecommerce_sales", has["ecommerce_sales"]),
        ):
            values[name][~mask[active]] = np.nan

        # technical-transformation investment: own + projects (running maximum within the year)
        proj_ytd = np.zeros((k, nm))
        pos = {int(e): i for i, e in enumerate(active)}
        for (e, t), v in proj.items():
            if t // 12 == year and e in pos:
                proj_ytd[pos[e], t - months[0]] = v
        proj_ytd = np.maximum.accumulate(proj_ytd, axis=1)
        target = techreform_total(year) * scale
        own_total = max(target - project_total_by_year.get(year, 0.0), 0.25 * target)
        # enterprises with projects also invest on their own (smaller upgrades), which smooths their series
        invests = (yrng.random(k) < 0.45) | (proj_ytd[:, -1] > 0)
        own_w = np.where(invests, size[active] ** 0.8 * yrng.lognormal(0.0, 0.8, k), 0.0)
        own_year = own_total * own_w / max(own_w.sum(), 1e-9)
        own_year = np.maximum(own_year, 0.5 * proj_ytd[:, -1] * 12 / nm)  # owners: steady own investment too
        own = np.round(np.cumsum(own_year[:, None] * inv_season, axis=1), 2)
        values["techreform_investment"] = np.round(
            own + np.ceil(proj_ytd * 100) / 100 + np.where(proj_ytd > 0, 1.0, 0.0), 2
        )
        values["techreform_investment"] = np.maximum.accumulate(values["techreform_investment"], axis=1)

        skip = skipped_januaries(config, n, year)
        for j, t in enumerate(months):
            if t < first:
                continue
            period = period_of_index(int(t))
            rep = np.zeros(n, dtype=bool)
            rep[population.reporters(period)] = True
            if t % 12 == 0:
                rep &= ~skip
            rows = np.flatnonzero(rep[active])
            if not len(rows):
                continue
            idx = active[rows]
            frame = {"period": period, "_ent": idx}
            for name in E1_VALUE_FIELDS:
                frame[name] = values[name][rows, j]
            frames.append(pd.DataFrame(frame))
    if not frames:
        return pd.DataFrame(columns=["period", "_ent", "uscc", *E1_VALUE_FIELDS])
    out = pd.concat(frames, ignore_index=True)
    out["employees"] = out["employees"].astype("int64")
    for name in ("uscc", "enterprise_name", "region_code", "industry_code", "prefecture_code"):
        out[name] = ents[name].to_numpy()[out["_ent"].to_numpy()]
    return out
