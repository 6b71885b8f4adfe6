"""Technical-transformation projects (技术改造项目) and their monthly P1 reports, with planted laggards.

A project is registered (备案) in month r, starts, invests month by month (seasonal: little in the frozen
winter, most at the year's end) and is completed (竣工) or put into production (投产); it reports P1 from
registration to that month inclusive. Investment is kept in integer cents so that the year-to-date and
cumulative figures written are exact. On-schedule projects start when registered, invest every month,
finish by the planned month, and their yearly plan (本年计划投资) is set so that the schedule lag
L = (m/12 − ytd/plan)×100 stays at or below 5 points: they are comfortably green.

Planted laggards (``GeneratorConfig.lagging_share``), each placed so its event falls inside the generated
periods: behind schedule (yellow / red by L), start overdue, completion overdue, stalled (no investment
for four months), suspended (停建), one month not reported."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import GeneratorConfig
from .names import project_name
from .population import Population, make_usccs
from .rand import rng_for
from .reference import INVESTMENT_SEASON, period_index, period_of_index

PLANT_KINDS = (
    "schedule_yellow",
    "start_overdue",
    "completion_overdue",
    "stalled",
    "suspended",
    "not_reported",
    "schedule_red",
)
"""Kinds of planted lagging projects, in round-robin order."""

_REMARKS = {
    "schedule_yellow": "资金到位滞后，投资进度偏慢",
    "schedule_red": "融资未落实，投资严重滞后",
    "start_overdue": "用地手续未办结，尚未开工",
    "completion_overdue": "设备到货延迟，未能按期竣工",
    "stalled": "施工暂缓，本月无新增投资",
    "suspended": "因环保整改停建",
    "not_reported": "",
}


@dataclass
class Project:
    """One project's master data and timeline (month indexes, see ``reference.period_index``)."""

    number: int
    code: str
    name: str
    uscc: str
    owner: int  # enterprise number, -1 = a unit not in the register
    region_code: str
    prefecture_code: str
    industry_code: str
    sector_group: str
    key_project: int
    planned_total: int  # cents
    registered: int
    planned_start: int
    planned_completion: int
    actual_start: int
    actual_completion: int
    finish_status: str  # 竣工 or 投产
    plant: str = ""  # one of PLANT_KINDS, '' = on schedule
    event: int = -1  # the month the planted problem shows
    idle: set[int] = field(default_factory=set)  # months without investment
    suspended: set[int] = field(default_factory=set)  # months with status 停建
    dropped: set[int] = field(default_factory=set)  # months without a report
    schedule_target: float = 0.0  # planted L (as a share) at the event month
    subsidy_share: float = 0.0


def _increments(p: Project, rng: np.random.Generator) -> dict[int, int]:
    """Investment per month (cents) from actual start to actual completion; 0 in idle months."""
    months = [t for t in range(p.actual_start, p.actual_completion + 1)]
    active = [t for t in months if t not in p.idle]
    total = int(p.planned_total * rng.uniform(0.85, 1.0))
    weights = np.array([INVESTMENT_SEASON[t % 12] for t in active]) * rng.lognormal(0.0, 0.25, len(active))
    cents = np.maximum(np.floor(total * weights / weights.sum()), 100).astype(np.int64)  # ≥ 1万元 a month
    out = {t: 0 for t in months}
    out.update({t: int(c) for t, c in zip(active, cents, strict=True)})
    return out


def _timeline(p: Project, inc: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Month → (ytd cents, cumulative cents) for every month from registration to completion."""
    out: dict[int, tuple[int, int]] = {}
    cum = 0
    ytd = 0
    for t in range(p.registered, p.actual_completion + 1):
        if t % 12 == 0:
            ytd = 0
        add = inc.get(t, 0)
        cum += add
        ytd += add
        out[t] = (ytd, cum)
    return out


def _annual_plans(p: Project, tl: dict[int, tuple[int, int]]) -> dict[int, int]:
    """Plan of each year (cents). On schedule: the largest plan keeping L ≤ 5 points in every month
    reported; a planted schedule laggard: the plan making L = target at the event month."""
    plans: dict[int, int] = {}
    years = sorted({t // 12 for t in tl})
    for y in years:
        bounds = []
        for t, (ytd, _) in tl.items():
            if t // 12 == y and ytd > 0:
                bounds.append(ytd / ((t % 12 + 1) / 12 - 0.05))
        if bounds:
            plan = int(min(bounds))
        else:  # not started this year: the share of the plan falling in the year
            plan = int(p.planned_total * 0.3)
        if p.plant.startswith("schedule") and p.event // 12 == y:
            m = p.event % 12 + 1
            plan = int(tl[p.event][0] / (m / 12 - p.schedule_target))
        plans[y] = max(0, min(plan, int(p.planned_total * 0.95)))
    return plans


def _place(p: Project, kind: str, first: int, last: int, rng: np.random.Generator) -> bool:
    """Re-time ``p`` so that planted problem ``kind`` shows inside [first, last]; False if impossible."""
    window = list(range(first, last + 1))

    def pick(options: list[int]) -> int | None:
        return int(rng.choice(options)) if options else None

    if kind in ("schedule_yellow", "schedule_red"):
        min_month, target = (4, 0.18) if kind == "schedule_yellow" else (8, 0.4)
        t = pick([t for t in window if t % 12 + 1 >= min_month])
        if t is None:
            return False
        p.registered = p.planned_start = p.actual_start = t - int(rng.integers(12, 21))
        p.planned_completion = t + int(rng.integers(14, 25))
        p.actual_completion = p.planned_completion - int(rng.integers(0, 2))
        p.schedule_target = target
    elif kind == "start_overdue":
        t = pick(window)  # first overdue month
        if t is None:
            return False
        p.registered = p.planned_start = t - 1
        p.actual_start = p.planned_start + int(rng.integers(3, 6))
        p.planned_completion = p.planned_start + int(rng.integers(12, 25))
        p.actual_completion = max(p.planned_completion, p.actual_start + 8)
    elif kind == "completion_overdue":
        t = pick(window)  # first overdue month
        if t is None:
            return False
        p.planned_completion = t - 1
        p.registered = p.planned_start = p.actual_start = p.planned_completion - int(rng.integers(10, 25))
        p.actual_completion = p.planned_completion + int(rng.integers(3, 7))
    elif kind == "stalled":
        t = pick([t for t in window if t - 1 >= first and t + 2 <= last])  # reports t-1 .. t+2 in the window
        if t is None:
            return False
        p.registered = p.planned_start = p.actual_start = t - int(rng.integers(3, 10))
        p.idle = {t, t + 1, t + 2, t + 3}
        p.planned_completion = t + int(rng.integers(10, 20))
        p.actual_completion = p.planned_completion
    elif kind == "suspended":
        t = pick(window)
        if t is None:
            return False
        p.registered = p.planned_start = p.actual_start = t - int(rng.integers(2, 10))
        span = int(rng.integers(1, 4))
        p.idle = set(range(t, t + span))
        p.suspended = set(range(t, t + span))
        p.planned_completion = t + int(rng.integers(10, 20))
        p.actual_completion = p.planned_completion
    elif kind == "not_reported":
        t = pick([t for t in window if t - 1 >= first])
        if t is None:
            return False
        p.registered = p.planned_start = p.actual_start = t - int(rng.integers(1, 10))
        p.planned_completion = t + int(rng.integers(6, 18))
        p.actual_completion = p.planned_completion
        p.dropped = {t}
    else:
        raise ValueError(kind)
    p.plant, p.event = kind, t
    return True


def build_projects(config: GeneratorConfig, population: Population) -> tuple[list[Project], pd.DataFrame]:
    """Projects and their clean P1 rows (one per project and month reported inside the generated periods).

    Row columns: the P1 fields (amounts in 万元, months as ``YYYY-MM``, ``None`` for empty) plus ``_project``
    (project number), ``_owner`` (enterprise number or −1) and ``prefecture_code``."""
    rng = rng_for(config.seed, "projects")
    first, last = period_index(config.first_period), period_index(config.last_period)
    ents = population.enterprises
    stable = np.flatnonzero(ents["stable"].to_numpy())
    weights = ents["size"].to_numpy()[stable] ** 0.6
    n = config.projects
    owners = stable[rng.choice(len(stable), size=n, p=weights / weights.sum())] if n else np.array([], int)
    serials = rng.choice(np.arange(1, 1_000_000), size=n, replace=False) if n else np.array([], int)

    projects: list[Project] = []
    for k in range(n):
        e = ents.iloc[int(owners[k])]
        total = int(max(500.0, min(500_000.0, rng.lognormal(np.log(5000), 1.1))) * 100)
        reg = int(rng.integers(first - 18, last))
        duration = int(rng.integers(6, 31))
        p = Project(
            number=k,
            code="",
            name="",
            uscc=e["uscc"],
            owner=int(owners[k]),
            region_code=e["region_code"],
            prefecture_code=e["prefecture_code"],
            industry_code=e["industry_code"],
            sector_group=e["sector_group"],
            key_project=int(rng.random() < 0.1),
            planned_total=total,
            registered=reg,
            planned_start=reg,
            planned_completion=reg + duration,
            actual_start=reg,
            actual_completion=reg + duration - int(rng.integers(0, 3)),
            finish_status="竣工" if rng.random() < 0.7 else "投产",
            subsidy_share=float(rng.uniform(0.01, 0.05)) if rng.random() < 0.3 else 0.0,
        )
        if p.actual_completion < first:  # finished before the window: move it so it is supervised there
            shift = first - p.actual_completion + int(rng.integers(0, 6))
            for attr in ("registered", "planned_start", "planned_completion", "actual_start", "actual_completion"):
                setattr(p, attr, getattr(p, attr) + shift)
        projects.append(p)

    # planted laggards: round-robin over the kinds, at least one of each when there are enough projects
    n_plant = round(config.lagging_share * n) if config.lagging_share > 0 else 0
    if config.lagging_share > 0 and n >= 2 * len(PLANT_KINDS):
        n_plant = max(n_plant, len(PLANT_KINDS))
    plant_rng = rng_for(config.seed, "projects", "plant")
    order = plant_rng.permutation(n)
    kinds = [PLANT_KINDS[i % len(PLANT_KINDS)] for i in range(n_plant)]
    for kind, k in zip(kinds, order[:n_plant], strict=False):
        p = projects[int(k)]
        if not _place(p, kind, first, last, plant_rng):
            for other in PLANT_KINDS:  # the window is too short for this kind
                if _place(p, other, first, last, plant_rng):
                    break
        if p.plant in ("completion_overdue", "suspended", "schedule_red") and plant_rng.random() < 0.6:
            p.key_project = 1
    red_kinds = [p for p in projects if p.plant in ("completion_overdue", "suspended", "schedule_red")]
    if red_kinds and not any(p.key_project for p in red_kinds):
        red_kinds[0].key_project = 1

    # codes: YYYY-<county>-<industry division>-<type>-<serial>, year of registration
    for p, serial in zip(projects, serials, strict=True):
        kind = "03" if rng.random() < 0.85 else "02"
        p.code = f"{p.registered // 12:04d}-{p.region_code}-{p.industry_code[:2]}-{kind}-{int(serial):06d}"
        p.name = project_name(rng, p.sector_group, p.planned_total / 100)
    return projects, _rows(config, projects)


def _month(t: int | None) -> str | None:
    return None if t is None else period_of_index(t)


def _rows(config: GeneratorConfig, projects: list[Project]) -> pd.DataFrame:
    first, last = period_index(config.first_period), period_index(config.last_period)
    records = []
    for p in projects:
        rng = rng_for(config.seed, "projects", "investment", p.number)
        inc = _increments(p, rng)
        tl = _timeline(p, inc)
        plans = _annual_plans(p, tl)
        for t in range(max(p.registered, first), min(p.actual_completion, last) + 1):
            if t in p.dropped:
                continue
            ytd, cum = tl[t]
            started = t >= p.actual_start
            done = t == p.actual_completion
            status = (
                "未开工" if not started else (p.finish_status if done else ("停建" if t in p.suspended else "在建"))
            )
            plan = plans[t // 12]
            subsidy = round(plan * p.subsidy_share) / 100 if p.subsidy_share and t % 12 >= 2 else None
            records.append(
                {
                    "period": period_of_index(t),
                    "project_code": p.code,
                    "project_name": p.name,
                    "uscc": p.uscc,
                    "region_code": p.region_code,
                    "industry_code": p.industry_code,
                    "key_project": p.key_project,
                    "planned_total_investment": p.planned_total / 100,
                    "planned_start": _month(p.planned_start),
                    "planned_completion": _month(p.planned_completion),
                    "actual_start": _month(p.actual_start) if started else None,
                    "actual_completion": _month(p.actual_completion) if done else None,
                    "annual_plan_investment": plan / 100,
                    "ytd_investment": ytd / 100,
                    "cumulative_investment": cum / 100,
                    "status": status,
                    "subsidy": subsidy,
                    "remarks": _REMARKS.get(p.plant) if p.plant and abs(t - p.event) <= 2 else None,
                    "_project": p.number,
                    "_owner": p.owner,
                    "prefecture_code": p.prefecture_code,
                }
            )
    columns = [
        "period",
        "project_code",
        "project_name",
        "uscc",
        "region_code",
        "industry_code",
        "key_project",
        "planned_total_investment",
        "planned_start",
        "planned_completion",
        "actual_start",
        "actual_completion",
        "annual_plan_investment",
        "ytd_investment",
        "cumulative_investment",
        "status",
        "subsidy",
        "remarks",
        "_project",
        "_owner",
        "prefecture_code",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def move_to_unregistered_units(
    config: GeneratorConfig, projects: list[Project], rows: pd.DataFrame, count: int
) -> list[int]:
    """Give ``count`` on-schedule projects a project unit that is not in the register (P1-S03); returns
    their numbers. Codes stay valid: the county of the unit is the project's county."""
    if count <= 0:
        return []
    rng = rng_for(config.seed, "projects", "unregistered")
    reporting = set(rows["_project"])
    candidates = [p.number for p in projects if not p.plant and p.number in reporting]
    if not candidates:
        return []
    chosen = sorted(int(x) for x in rng.choice(candidates, size=min(count, len(candidates)), replace=False))
    codes = make_usccs(rng, np.array([projects[k].region_code for k in chosen], dtype=object), taken=set(rows["uscc"]))
    for k, code in zip(chosen, codes, strict=True):
        projects[k].uscc = code
        projects[k].owner = -1
        mask = rows["_project"] == k
        rows.loc[mask, "uscc"] = code
        rows.loc[mask, "_owner"] = -1
    return chosen
