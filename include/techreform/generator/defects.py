"""Planted defects (差错): rows that break exactly one rule of the contract (as far as possible), chosen
deterministically, round-robin over the rule ids so that every rule appears even in small runs.

A :class:`Delivery` is the typed rows of one form as they will be written, plus ``raw`` cell overrides
(text written as is, e.g. an unreadable amount ``12,3a4``) and the ground-truth list of defects. Defects
that change a year-to-date figure upwards are put on the enterprise's (project's) last report of the year
in the generated periods, so the following report does not fall; defects judged against the previous
report keep that report clean."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from techreform.codes import USCC_ALPHABET

from .config import RULE_IDS, GeneratorConfig
from .population import make_usccs
from .rand import rng_for
from .reference import counties, period_index, period_of_index

SEVERITY = {"H": "hard", "S": "soft"}


@dataclass
class Delivery:
    """Rows of one form as delivered: typed values, raw overrides, planted defects."""

    form: str
    frame: pd.DataFrame  # columns: the form's fields + _folder (period folder), _file (prefecture or 620000), _order
    raw: dict[int, dict[str, str]] = field(default_factory=dict)
    defects: list[dict[str, object]] = field(default_factory=list)  # _idx, rule_id, field, description
    extra: list[tuple[int, dict[str, object]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # plain object columns: setting one cell of an Arrow-backed string column copies the whole column
        strings = [c for c in self.frame.columns if pd.api.types.is_string_dtype(self.frame[c].dtype)]
        if strings:
            self.frame = self.frame.astype({c: object for c in strings})

    def add(self, idx: int, rule: str, field_name: str, description: str) -> None:
        self.defects.append({"_idx": int(idx), "rule_id": rule, "field": field_name, "description": description})

    def set_raw(self, idx: int, field_name: str, text: str) -> None:
        self.raw.setdefault(int(idx), {})[field_name] = text

    def append_copy(self, idx: int, order_shift: float = 0.5, **changes: object) -> int:
        """Add a copy of row ``idx`` (written right after it unless ``order_shift`` says otherwise); its
        new index. Copies are collected and joined to the frame by :meth:`finish`."""
        new = len(self.frame) + len(self.extra)
        row = self.frame.loc[idx].to_dict()
        row["_order"] = row["_order"] + order_shift
        row.update(changes)
        self.extra.append((new, row))
        if idx in self.raw:
            self.raw[new] = dict(self.raw[idx])
        return new

    def finish(self) -> None:
        """Join the added rows to the frame."""
        if self.extra:
            add = pd.DataFrame([row for _, row in self.extra], index=[i for i, _ in self.extra])
            self.frame = pd.concat([self.frame, add.astype(self.frame.dtypes.to_dict(), errors="ignore")])
            self.extra = []

    def hard_rows(self) -> set[int]:
        return {int(d["_idx"]) for d in self.defects if str(d["rule_id"])[3] == "H"}


class _Picker:
    """Round-robin choice of rows over rule ids with per-rule candidate pools."""

    def __init__(self, rng: np.random.Generator, prev: np.ndarray | None = None) -> None:
        self.rng = rng
        self.prev = prev
        self.used: set[int] = set()
        self.protected: set[int] = set()
        self.pools: dict[str, np.ndarray] = {}
        self.pointer: dict[str, int] = {}

    def pool(self, rule: str, candidates: np.ndarray) -> None:
        self.pools[rule] = self.rng.permutation(np.asarray(candidates, dtype=np.int64))
        self.pointer[rule] = 0

    def take(self, rule: str, needs_prev: bool = False, accept: Callable[[int], bool] | None = None) -> int | None:
        pool = self.pools.get(rule)
        if pool is None:
            return None
        while self.pointer[rule] < len(pool):
            r = int(pool[self.pointer[rule]])
            self.pointer[rule] += 1
            if r in self.used or r in self.protected:
                continue
            if needs_prev:
                p = int(self.prev[r]) if self.prev is not None else -1
                if p < 0 or p in self.used:
                    continue
            if accept is not None and not accept(r):
                continue
            self.used.add(r)
            if needs_prev:
                self.protected.add(int(self.prev[r]))
            return r
        return None


def defect_count(config: GeneratorConfig, form: str, rows: int) -> int:
    """How many rows of ``form`` get a defect: the configured share, at least one per rule id."""
    if config.defect_rate <= 0 or rows == 0:
        return 0
    n = max(round(config.defect_rate * rows), len(RULE_IDS[form]))
    return min(n, rows // 3)


# ---------------------------------------------------------------------------------------------- cell text
def garbled_number(value: float) -> str:
    """An amount that cannot be read: ``12,3a4``."""
    digits = f"{abs(value):,.0f}"
    if len(digits) < 3:
        digits = "12,34"
    pos = len(digits) - 2 if digits[-2].isdigit() else len(digits) - 1
    return digits[:pos] + "a" + digits[pos + 1 :]


def impossible_month(period: str) -> str:
    return f"{period[:4]}年13月"


def bad_check_uscc(code: str) -> str:
    """The same code with a wrong check character."""
    i = USCC_ALPHABET.index(code[17])
    return code[:17] + USCC_ALPHABET[(i + 7) % 31]


def unknown_county(region: str) -> str:
    """A six-digit code that is no county of Gansu (same prefecture, county part 99)."""
    return region[:4] + "99"


def foreign_industry(code: str) -> str:
    """A four-digit class outside sections B, C, D (51 = wholesale)."""
    return "51" + code[2:]


def _counties_in(prefecture: str, period: str) -> list[str]:
    return [c.code for c in counties() if c.prefecture_code == prefecture and c.valid_in(period)]


def _all_counties(period: str) -> list[str]:
    return [c.code for c in counties() if c.valid_in(period)]


# ---------------------------------------------------------------------------------------------- E1
def _neighbours(keys: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by (key, period): previous row of the same key and year (−1 if none), and whether
    the row is the last of its key and year."""
    same_prev = np.zeros(len(keys), dtype=bool)
    same_prev[1:] = (keys[1:] == keys[:-1]) & (years[1:] == years[:-1])
    prev = np.where(same_prev, np.arange(len(keys)) - 1, -1)
    tail = np.ones(len(keys), dtype=bool)
    tail[:-1] = ~same_prev[1:]
    return prev, tail


def plant_e1(
    config: GeneratorConfig,
    delivery: Delivery,
    accepted_project_ytd: dict[tuple[int, str], float],
    registered_usccs: set[str],
) -> None:
    """Plant E1 defects into ``delivery`` (frame sorted by ``_ent``, period and indexed 0..n−1)."""
    f = delivery.frame
    n = len(f)
    target = defect_count(config, "E1", n)
    if not target:
        return
    rng = rng_for(config.seed, "defects", "E1")
    ents = f["_ent"].to_numpy()
    periods = f["period"].to_numpy()
    years = np.array([p[:4] for p in periods])
    prev, tail = _neighbours(ents, years)
    picker = _Picker(rng, prev)
    everything = np.arange(n)
    for rule in RULE_IDS["E1"]:
        picker.pool(rule, everything)
    picker.pool("E1-S01", np.flatnonzero(tail))
    picker.pool("E1-S04", np.flatnonzero(tail))
    picker.pool("E1-S05", np.flatnonzero(tail))
    waste = f["solid_waste_generated"].to_numpy()
    picker.pool("E1-S06", np.flatnonzero(tail & (np.nan_to_num(waste) > 1)))
    energy = f["energy_tce"].to_numpy()
    picker.pool("E1-S07", np.flatnonzero(prev >= 0))
    go = f["gross_output"].to_numpy()
    picker.pool("E1-S08", np.flatnonzero(tail & (prev >= 0)))
    proj = np.array([accepted_project_ytd.get((int(e), p), 0.0) for e, p in zip(ents, periods, strict=True)])
    tr = f["techreform_investment"].to_numpy()
    tail_ok = tail & (proj > 2) & ((prev < 0) | (tr[np.maximum(prev, 0)] < 0.9 * proj))
    first_ok = (prev < 0) & (proj > 2)
    # last reports of the year first (nothing follows them); first reports of the year if none is left
    picker.pools["E1-S10"] = np.concatenate(
        [rng.permutation(np.flatnonzero(tail_ok)), rng.permutation(np.flatnonzero(first_ok & ~tail_ok))]
    ).astype(np.int64)
    picker.pointer["E1-S10"] = 0

    rules = RULE_IDS["E1"]
    for i in range(target):
        rule = rules[i % len(rules)]
        variant = i // len(rules)
        needs_prev = rule in ("E1-S07", "E1-S08")
        if rule == "E1-S10":
            r = picker.take(rule, accept=lambda r: prev[r] < 0 or prev[r] not in picker.used)
            if r is not None and prev[r] >= 0:
                picker.protected.add(int(prev[r]))
        elif rule == "E1-S07":
            r = picker.take(rule, needs_prev=True, accept=lambda r: energy[prev[r]] > 1)
        elif rule == "E1-S08":
            r = picker.take(rule, needs_prev=True, accept=lambda r: go[r] - go[prev[r]] > 1)
        else:
            r = picker.take(rule, needs_prev=needs_prev)
        if r is None:
            continue
        _apply_e1(delivery, rule, variant, r, int(prev[r]), proj[r], rng, registered_usccs)


def _apply_e1(
    d: Delivery, rule: str, variant: int, r: int, p: int, proj: float, rng: np.random.Generator, registered: set[str]
) -> None:
    f = d.frame
    row = f.loc[r]
    period = row["period"]
    if rule == "E1-H00":
        if variant % 2 == 0:
            d.set_raw(r, "revenue", garbled_number(row["revenue"]))
            d.add(r, rule, "revenue", "主营业务收入 cannot be read as a number")
        else:
            d.set_raw(r, "period", impossible_month(period))
            d.add(r, rule, "period", "报告期 is not a month (13月)")
    elif rule == "E1-H01":
        f.at[r, "uscc"] = bad_check_uscc(row["uscc"])
        d.add(r, rule, "uscc", "统一社会信用代码校验位错误")
    elif rule == "E1-H02":
        new = d.append_copy(r)
        d.add(r, rule, "uscc", "(uscc, period) delivered twice in the file")
        d.add(new, rule, "uscc", "(uscc, period) delivered twice in the file")
    elif rule == "E1-H03":
        d.set_raw(r, "enterprise_name", "")
        f.at[r, "enterprise_name"] = None
        d.add(r, rule, "enterprise_name", "企业名称 is blank")
        d.add(r, "E1-H08", "enterprise_name", "required 企业名称 is missing (blank name)")
    elif rule == "E1-H04":
        if variant % 2 == 1 and period < "2012-08" and row["prefecture_code"] == "620100":
            f.at[r, "region_code"] = "620171"
            d.add(r, rule, "region_code", "行政区划代码 620171 (兰州新区) is not valid before 2012-08")
        else:
            f.at[r, "region_code"] = unknown_county(row["region_code"])
            d.add(r, rule, "region_code", "行政区划代码 is not a county of Gansu")
    elif rule == "E1-H05":
        f.at[r, "industry_code"] = foreign_industry(row["industry_code"])
        d.add(r, rule, "industry_code", "行业代码 is not in sections B, C, D")
    elif rule == "E1-H06":
        other = period_of_index(period_index(period) + (-1 if variant % 2 == 0 else 1))
        f.at[r, "period"] = other
        d.add(r, rule, "period", f"报告期 {other} differs from the delivery folder {period}")
    elif rule == "E1-H07":
        if variant % 2 == 0:
            f.at[r, "energy_tce"] = -row["energy_tce"]
            d.add(r, rule, "energy_tce", "综合能源消费量 is negative")
        else:
            d.set_raw(r, "employees", f"{int(row['employees'])}.5")
            d.add(r, rule, "employees", "从业人员平均人数 is not an integer")
    elif rule == "E1-H08":
        name = ("value_added", "techreform_investment", "energy_tce", "employees")[variant % 4]
        d.set_raw(r, name, ("-", "—", "")[variant % 3])
        d.add(r, rule, name, f"required {name} is missing")
    elif rule == "E1-S01":
        f.at[r, "value_added"] = round(row["gross_output"] * 1.08, 2)
        d.add(r, rule, "value_added", "工业增加值 exceeds 工业总产值")
    elif rule == "E1-S02":
        f.at[r, "profit"] = -round(row["revenue"] * 1.3 + 1, 2)
        d.add(r, rule, "profit", "abs(利润总额) exceeds 主营业务收入")
    elif rule == "E1-S03":
        f.at[r, "employees"] = 0
        d.add(r, rule, "employees", "从业人员平均人数 is 0")
    elif rule == "E1-S04":
        if variant % 2 == 0:
            f.at[r, "rd_expense"] = round(row["revenue"] * 1.1 + 1, 2)
            d.add(r, rule, "rd_expense", "研究与试验发展经费支出 exceeds 主营业务收入")
        else:
            f.at[r, "new_product_output"] = round(row["gross_output"] * 1.1 + 1, 2)
            d.add(r, rule, "new_product_output", "新产品产值 exceeds 工业总产值")
    elif rule == "E1-S05":
        f.at[r, "ecommerce_sales"] = round(row["revenue"] * 1.1 + 1, 2)
        d.add(r, rule, "ecommerce_sales", "电子商务销售额 exceeds 主营业务收入")
    elif rule == "E1-S06":
        f.at[r, "solid_waste_utilized"] = round(row["solid_waste_generated"] * 2.0 + 1, 2)
        d.add(r, rule, "solid_waste_utilized", "综合利用量 exceeds 1.5 × 产生量")
    elif rule == "E1-S07":
        f.at[r, "energy_tce"] = round(f.at[p, "energy_tce"] * 0.8, 2)
        d.add(r, rule, "energy_tce", "综合能源消费量 (YTD) is lower than the previous report of the year")
    elif rule == "E1-S08":
        before = f.at[p, "gross_output"]
        f.at[r, "gross_output"] = round(before + 50 * (row["gross_output"] - before), 2)
        d.add(r, rule, "gross_output", "the month's increment of 工业总产值 is 50 times the usual")
    elif rule == "E1-S09":
        kind = variant % 3
        if kind == 0:
            division = row["industry_code"][:2]
            other = "31" if division != "31" else "32"
            f.at[r, "industry_code"] = other + row["industry_code"][2:]
            d.add(r, rule, "industry_code", "行业代码 differs from the register")
        elif kind == 1:
            options = [c for c in _counties_in(row["prefecture_code"], period) if c != row["region_code"]] or [
                c for c in _all_counties(period) if c != row["region_code"]
            ]
            f.at[r, "region_code"] = options[int(rng.integers(0, len(options)))]
            d.add(r, rule, "region_code", "行政区划代码 differs from the register")
        else:
            code = make_usccs(rng, np.array([row["region_code"]], dtype=object), taken=set(registered))[0]
            new = d.append_copy(
                r,
                order_shift=0.25,
                uscc=code,
                enterprise_name=str(row["enterprise_name"]).replace("有限", "新材料有限", 1),
            )
            d.add(new, rule, "uscc", "the enterprise is not in the register (R1)")
    elif rule == "E1-S10":
        before = f.at[p, "techreform_investment"] if p >= 0 else 0.0
        value = round(max(before, 0.5 * proj), 2)
        if value > proj - 0.5:
            return
        f.at[r, "techreform_investment"] = value
        d.add(r, rule, "techreform_investment", "技术改造投资完成额 is below its projects' P1 本年累计完成投资")
    else:  # pragma: no cover - every rule id is handled above
        raise ValueError(rule)


# ---------------------------------------------------------------------------------------------- P1
def plant_p1(config: GeneratorConfig, delivery: Delivery, excluded_projects: set[int]) -> None:
    """Plant P1 defects (frame sorted by ``_project``, period; indexed 0..n−1). Planted laggards and units
    outside the register are left alone; completion reports too (they take the project out of supervision)."""
    f = delivery.frame
    n = len(f)
    target = defect_count(config, "P1", n)
    if not target:
        return
    rng = rng_for(config.seed, "defects", "P1")
    projects = f["_project"].to_numpy()
    years = np.array([p[:4] for p in f["period"]])
    prev, tail = _neighbours(projects, years)
    last_of_project = np.ones(n, dtype=bool)
    last_of_project[:-1] = projects[1:] != projects[:-1]
    status = f["status"].to_numpy()
    ok = ~np.isin(projects, list(excluded_projects)) & ~np.isin(status, ["竣工", "投产"])
    picker = _Picker(rng, prev)
    for rule in RULE_IDS["P1"]:
        picker.pool(rule, np.flatnonzero(ok))
    ytd = f["ytd_investment"].to_numpy()
    started = f["actual_start"].notna().to_numpy()
    picker.pool("P1-H06", np.flatnonzero(ok & (status == "在建")))
    picker.pool("P1-H07", np.flatnonzero(ok & (ytd > 2)))
    picker.pool("P1-H05", np.flatnonzero(ok & started))
    picker.pool("P1-S01", np.flatnonzero(ok & last_of_project))
    picker.pool("P1-S04", np.flatnonzero(ok & (prev >= 0)))
    picker.pool("P1-S05", np.flatnonzero(ok & (status == "在建") & (f["cumulative_investment"].to_numpy() > 1)))
    picker.pool("P1-S03", np.array([], dtype=int))  # a property of whole projects, planted elsewhere
    rules = [r for r in RULE_IDS["P1"] if r != "P1-S03"]
    for i in range(target):
        rule = rules[i % len(rules)]
        variant = i // len(rules)
        if rule == "P1-S04":
            r = picker.take(rule, needs_prev=True, accept=lambda r: ytd[prev[r]] > 2)
        else:
            r = picker.take(rule)
        if r is None:
            continue
        _apply_p1(delivery, rule, variant, r, int(prev[r]))


def _apply_p1(d: Delivery, rule: str, variant: int, r: int, p: int) -> None:
    f = d.frame
    row = f.loc[r]
    period = row["period"]
    if rule == "P1-H00":
        kind = variant % 3
        if kind == 0:
            d.set_raw(r, "planned_total_investment", garbled_number(row["planned_total_investment"]))
            d.add(r, rule, "planned_total_investment", "计划总投资 cannot be read as a number")
        elif kind == 1:
            d.set_raw(r, "planned_start", impossible_month(row["planned_start"]))
            d.add(r, rule, "planned_start", "计划开工年月 is not a month (13月)")
        else:
            d.set_raw(r, "key_project", "也许")
            d.add(r, rule, "key_project", "是否省列重点项目 is not a yes/no value")
    elif rule == "P1-H01":
        if variant % 2 == 0:
            code = row["project_code"]
            f.at[r, "project_code"] = code[:-6] + code[-5:]  # serial of 5 digits
            d.add(r, rule, "project_code", "项目代码 does not match YYYY-62NNNN-NN-NN-NNNNNN")
        else:
            new = d.append_copy(r)
            d.add(r, rule, "project_code", "(project_code, period) delivered twice in the file")
            d.add(new, rule, "project_code", "(project_code, period) delivered twice in the file")
    elif rule == "P1-H02":
        f.at[r, "uscc"] = bad_check_uscc(row["uscc"])
        d.add(r, rule, "uscc", "项目单位统一社会信用代码校验位错误")
    elif rule == "P1-H03":
        if variant % 2 == 0:
            f.at[r, "region_code"] = unknown_county(row["region_code"])
            d.add(r, rule, "region_code", "建设地点行政区划代码 is not a county of Gansu")
        else:
            f.at[r, "industry_code"] = foreign_industry(row["industry_code"])
            d.add(r, rule, "industry_code", "行业代码 is not in sections B, C, D")
    elif rule == "P1-H04":
        if variant % 2 == 0:
            f.at[r, "planned_total_investment"] = 0.0
            d.add(r, rule, "planned_total_investment", "计划总投资 is 0")
        else:
            f.at[r, "subsidy"] = -round(max(row["ytd_investment"] * 0.05, 10.0), 2)
            d.add(r, rule, "subsidy", "本年到位财政资金 is negative")
    elif rule == "P1-H05":
        if variant % 2 == 0:
            f.at[r, "planned_start"], f.at[r, "planned_completion"] = row["planned_completion"], row["planned_start"]
            d.add(r, rule, "planned_start", "计划开工年月 is after 计划竣工年月")
        else:
            f.at[r, "actual_start"] = period_of_index(period_index(period) + 2)
            d.add(r, rule, "actual_start", "实际开工年月 is after the report period")
    elif rule == "P1-H06":
        if variant % 2 == 0:
            f.at[r, "status"] = "进行中"
            d.add(r, rule, "status", "项目状态 is not one of 未开工/在建/停建/竣工/投产")
        else:
            f.at[r, "actual_start"] = None
            d.add(r, rule, "actual_start", "项目状态 在建 without 实际开工年月")
    elif rule == "P1-H07":
        f.at[r, "cumulative_investment"] = round(row["ytd_investment"] * 0.5 - 1, 2)
        d.add(r, rule, "cumulative_investment", "自开工累计完成投资 is below 本年累计完成投资")
    elif rule == "P1-H08":
        if variant % 2 == 0:
            d.set_raw(r, "project_name", "-")
            f.at[r, "project_name"] = None
            d.add(r, rule, "project_name", "required 项目名称 is missing")
        else:
            other = period_of_index(period_index(period) - 1)
            f.at[r, "period"] = other
            d.add(r, rule, "period", f"报告期 {other} differs from the delivery folder {period}")
    elif rule == "P1-S01":
        f.at[r, "cumulative_investment"] = round(row["planned_total_investment"] * 1.3, 2)
        d.add(r, rule, "cumulative_investment", "自开工累计完成投资 exceeds 1.2 × 计划总投资")
    elif rule == "P1-S02":
        f.at[r, "annual_plan_investment"] = round(row["planned_total_investment"] * 1.2, 2)
        d.add(r, rule, "annual_plan_investment", "本年计划投资 exceeds 计划总投资")
    elif rule == "P1-S04":
        f.at[r, "ytd_investment"] = round(f.at[p, "ytd_investment"] * 0.5, 2)
        d.add(r, rule, "ytd_investment", "本年累计完成投资 fell below the previous report of the year")
    elif rule == "P1-S05":
        f.at[r, "status"] = "未开工"
        d.add(r, rule, "status", "项目状态 未开工 with 自开工累计完成投资 > 0")
    else:  # pragma: no cover
        raise ValueError(rule)


# ---------------------------------------------------------------------------------------------- R1
def plant_r1(config: GeneratorConfig, delivery: Delivery, reporting: np.ndarray) -> None:
    """Plant R1 defects on rows of enterprises that do not report E1 while the snapshot is in force
    (below scale, 注销), so no E1 or P1 row depends on them. ``reporting``: mask over frame rows."""
    f = delivery.frame
    target = defect_count(config, "R1", len(f))
    if not target:
        return
    rng = rng_for(config.seed, "defects", "R1")
    picker = _Picker(rng)
    candidates = np.flatnonzero(~reporting)
    for rule in RULE_IDS["R1"]:
        picker.pool(rule, candidates)
    rules = RULE_IDS["R1"]
    for i in range(target):
        rule = rules[i % len(rules)]
        variant = i // len(rules)
        r = picker.take(rule)
        if r is None:
            continue
        row = f.loc[r]
        if rule == "R1-H00":
            name = ("above_scale", "key_enterprise")[variant % 2]
            delivery.set_raw(r, name, "也许")
            delivery.add(r, rule, name, "boolean cell is not a yes/no value")
        elif rule == "R1-H01":
            f.at[r, "uscc"] = bad_check_uscc(row["uscc"])
            delivery.add(r, rule, "uscc", "统一社会信用代码校验位错误")
        elif rule == "R1-H02":
            new = delivery.append_copy(r)
            delivery.add(r, rule, "uscc", "uscc delivered twice in the snapshot")
            delivery.add(new, rule, "uscc", "uscc delivered twice in the snapshot")
        elif rule == "R1-H03":
            f.at[r, "region_code"] = unknown_county(row["region_code"])
            delivery.add(r, rule, "region_code", "行政区划代码 is not a county of Gansu")
        elif rule == "R1-H04":
            f.at[r, "industry_code"] = foreign_industry(row["industry_code"])
            delivery.add(r, rule, "industry_code", "行业代码 is not in sections B, C, D")
        elif rule == "R1-H05":
            if variant % 2 == 0:
                f.at[r, "scale"] = "特大型"
                delivery.add(r, rule, "scale", "企业规模 is not one of 大型/中型/小型/微型")
            else:
                f.at[r, "operating_status"] = "营业中"
                delivery.add(r, rule, "operating_status", "经营状态 is not one of 在营/停产/注销")
