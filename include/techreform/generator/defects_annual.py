"""Planted defects of A1, Q1 and G1 (as :mod:`.defects` does for E1, P1, R1): every rule id at least once,
round-robin, each from its own seeded stream. Rows a cross-row rule reads (last year's A1, last month's
Q1, the whole of a Q1 part) are kept clean so that a planted row breaks its rule alone; a Q1 value raised
above its whole goes on the last report of the year, so the next report does not fall."""

from __future__ import annotations

import numpy as np

from techreform.forms import PRODUCT_PARTS

from .config import RULE_IDS, GeneratorConfig
from .defects import Delivery, _neighbours, _Picker, bad_check_uscc, defect_count, garbled_number, impossible_month
from .rand import rng_for
from .reference import period_index, period_of_index


def _rounds(config: GeneratorConfig, form: str, n: int):
    target = defect_count(config, form, n)
    rules = RULE_IDS[form]
    for i in range(target):
        yield rules[i % len(rules)], i // len(rules)


# ---------------------------------------------------------------------------------------------- A1
def plant_a1(config: GeneratorConfig, d: Delivery, outsiders: list[str]) -> None:
    """A1 defects (frame sorted by ``_ent``, year; indexed 0..n−1)."""
    f = d.frame
    n = len(f)
    if not defect_count(config, "A1", n):
        return
    ents = f["_ent"].to_numpy()
    prev = np.full(n, -1)
    same = np.zeros(n, dtype=bool)
    same[1:] = (ents[1:] == ents[:-1]) & (f["year"].to_numpy()[1:] == f["year"].to_numpy()[:-1] + 1)
    prev[same] = np.flatnonzero(same) - 1
    picker = _Picker(rng_for(config.seed, "defects", "A1"), prev)
    for rule in RULE_IDS["A1"]:
        picker.pool(rule, np.arange(n))
    level = f["tech_centre_level"].to_numpy()
    had_level = np.array([prev[i] >= 0 and level[prev[i]] != "无" for i in range(n)])
    picker.pool("A1-S02", np.flatnonzero(had_level))
    picker.pool("A1-H04", np.flatnonzero(f["key_equipment_domestic_adv"].to_numpy() >= 2))
    spare = list(outsiders)
    for rule, variant in _rounds(config, "A1", n):
        r = picker.take(rule, needs_prev=rule == "A1-S02")
        if r is None:
            continue
        row = f.loc[r]
        if rule == "A1-H00":
            name = ("apc_in_use", "key_equipment_total")[variant % 2]
            d.set_raw(r, name, "也许" if name == "apc_in_use" else garbled_number(row[name] * 100.0))
            d.add(r, rule, name, "a cell that cannot be read as its type")
        elif rule == "A1-H01":
            if variant % 2 == 0:
                f.at[r, "uscc"] = bad_check_uscc(row["uscc"])
                d.add(r, rule, "uscc", "统一社会信用代码校验位错误")
            else:
                new = d.append_copy(r)
                d.add(r, rule, "uscc", "(uscc, year) delivered twice in the file")
                d.add(new, rule, "uscc", "(uscc, year) delivered twice in the file")
        elif rule == "A1-H02":
            if variant % 2 == 0:
                f.at[r, "tech_centre_level"] = "区级"
                d.add(r, rule, "tech_centre_level", "企业技术中心级别 is not one of 无/市级/省级/国家级")
            else:
                f.at[r, "year"] = int(row["year"]) - 1
                d.add(r, rule, "year", "报告年度 differs from the delivery folder's year")
        elif rule == "A1-H03":
            if variant % 2 == 0:
                f.at[r, "key_equipment_total"] = float(row["key_equipment_total"]) + 0.5
                d.add(r, rule, "key_equipment_total", "关键工艺设备总数 is not a whole number")
            else:
                f.at[r, "key_equipment_intl_adv"] = -1
                d.add(r, rule, "key_equipment_intl_adv", "其中达到国际先进水平 is negative")
        elif rule == "A1-H04":
            if variant % 2 == 0:
                f.at[r, "key_equipment_intl_adv"] = int(row["key_equipment_domestic_adv"]) + 1
                d.add(r, rule, "key_equipment_intl_adv", "国际先进 exceeds 国内先进")
            else:
                f.at[r, "key_equipment_domestic_adv"] = int(row["key_equipment_total"]) + 3
                d.add(r, rule, "key_equipment_domestic_adv", "国内先进 exceeds the total")
        elif rule == "A1-S01":
            if not spare:
                continue
            f.at[r, "uscc"] = spare.pop()
            d.add(r, rule, "uscc", "the enterprise is not in the register in force in December")
        elif rule == "A1-S02":
            f.at[r, "tech_centre_level"] = "无"
            d.add(r, rule, "tech_centre_level", "企业技术中心级别 fell below last year's")


# ---------------------------------------------------------------------------------------------- Q1
def plant_q1(config: GeneratorConfig, d: Delivery, outsiders: list[str]) -> None:
    """Q1 defects (frame sorted by ``_ent``, product_code, period; indexed 0..n−1)."""
    f = d.frame
    n = len(f)
    if not defect_count(config, "Q1", n):
        return
    keys = (f["_ent"].astype(str) + "/" + f["product_code"].astype(str)).to_numpy()
    years = np.array([p[:4] for p in f["period"]])
    prev, tail = _neighbours(keys, years)
    picker = _Picker(rng_for(config.seed, "defects", "Q1"), prev)
    parts = {part: whole for part, whole in PRODUCT_PARTS}
    is_part = f["product_code"].isin(list(parts)).to_numpy()
    index = {(e, p, c): i for i, (e, p, c) in enumerate(zip(f["_ent"], f["period"], f["product_code"], strict=True))}
    whole_of = np.array(
        [index.get((e, p, parts.get(c)), -1) for e, p, c in zip(f["_ent"], f["period"], f["product_code"], strict=True)]
    )
    # a row other rules read is never planted: a part's whole
    picker.protected.update(int(w) for w in whole_of if w >= 0)
    for rule in RULE_IDS["Q1"]:
        picker.pool(rule, np.flatnonzero(is_part))
    quantity = f["quantity_t"].to_numpy(dtype=float)
    picker.pool("Q1-S02", np.flatnonzero(is_part & (prev >= 0) & (np.nan_to_num(quantity[np.maximum(prev, 0)]) > 2)))
    picker.pool("Q1-S03", np.flatnonzero(is_part & tail & (whole_of >= 0)))
    spare = list(outsiders)
    for rule, variant in _rounds(config, "Q1", n):
        r = picker.take(rule, needs_prev=rule == "Q1-S02")
        if r is None:
            continue
        row = f.loc[r]
        if rule == "Q1-H00":
            d.set_raw(r, "quantity_t", garbled_number(row["quantity_t"]))
            d.add(r, rule, "quantity_t", "本年累计产量 cannot be read as a number")
        elif rule == "Q1-H01":
            if variant % 2 == 0:
                f.at[r, "uscc"] = bad_check_uscc(row["uscc"])
                d.add(r, rule, "uscc", "统一社会信用代码校验位错误")
            else:
                new = d.append_copy(r)
                d.add(r, rule, "uscc", "(uscc, product, period) delivered twice in the file")
                d.add(new, rule, "uscc", "(uscc, product, period) delivered twice in the file")
        elif rule == "Q1-H02":
            if variant % 2 == 0:
                f.at[r, "product_code"] = "铝锭"
                d.add(r, rule, "product_code", "产品代码 is not one of the six products")
            else:
                other = period_of_index(period_index(row["period"]) - 1)
                f.at[r, "period"] = other
                d.add(r, rule, "period", f"报告期 {other} differs from the delivery folder")
        elif rule == "Q1-H03":
            if variant % 2 == 0:
                f.at[r, "quantity_t"] = -round(max(float(row["quantity_t"]), 10.0), 1)
                d.add(r, rule, "quantity_t", "本年累计产量 is negative")
            else:
                f.at[r, "quantity_t"] = None
                d.set_raw(r, "quantity_t", "-")
                d.add(r, rule, "quantity_t", "本年累计产量 is missing")
        elif rule == "Q1-S01":
            if not spare:
                continue
            f.at[r, "uscc"] = spare.pop()
            d.add(r, rule, "uscc", "the enterprise is not in the register in force")
        elif rule == "Q1-S02":
            f.at[r, "quantity_t"] = round(float(quantity[prev[r]]) * 0.5, 1)
            d.add(r, rule, "quantity_t", "本年累计产量 fell below the previous report of the year")
        elif rule == "Q1-S03":
            f.at[r, "quantity_t"] = round(float(quantity[whole_of[r]]) * 1.1 + 1, 1)
            d.add(r, rule, "quantity_t", "a part exceeds its whole")


# ---------------------------------------------------------------------------------------------- G1
def plant_g1(config: GeneratorConfig, d: Delivery) -> None:
    """G1 defects (rows of every snapshot; indexed 0..n−1)."""
    f = d.frame
    n = len(f)
    if not defect_count(config, "G1", n):
        return
    picker = _Picker(rng_for(config.seed, "defects", "G1"))
    for rule in RULE_IDS["G1"]:
        picker.pool(rule, np.arange(n))
    picker.pool("G1-S01", np.flatnonzero(f["item_type"].eq("county_platform").to_numpy()))
    for rule, variant in _rounds(config, "G1", n):
        r = picker.take(rule)
        if r is None:
            continue
        row = f.loc[r]
        if rule == "G1-H00":
            d.set_raw(r, "recognised", impossible_month(row["recognised"]))
            d.add(r, rule, "recognised", "认定年月 is not a month (13月)")
        elif rule == "G1-H01":
            if variant % 2 == 0:
                new = d.append_copy(r)
                d.add(r, rule, "item_id", "(item_type, item_id) delivered twice in the snapshot")
                d.add(new, rule, "item_id", "(item_type, item_id) delivered twice in the snapshot")
            else:
                f.at[r, "name"] = None
                d.set_raw(r, "name", "")
                d.add(r, rule, "name", "required 名称 is missing")
        elif rule == "G1-H02":
            if variant % 2 == 0:
                f.at[r, "item_type"] = "smelter"
                d.add(r, rule, "item_type", "类别 is not one of the six types")
            else:
                f.at[r, "level"] = "县级"
                d.add(r, rule, "level", "级别 is not one of 国家级/省级/市级")
        elif rule == "G1-H03":
            f.at[r, "region_code"] = "110000" if variant % 2 == 0 else str(row["region_code"])[:4] + "99"
            d.add(r, rule, "region_code", "行政区划代码 is not a Gansu division valid in the month")
        elif rule == "G1-H04":
            if variant % 2 == 0:
                f.at[r, "recognised"] = period_of_index(period_index(row["_folder"]) + 2)
                d.add(r, rule, "recognised", "认定年月 is after the snapshot's month")
            else:
                f.at[r, "revoked"] = period_of_index(period_index(row["recognised"]) - 1)
                d.add(r, rule, "revoked", "撤销年月 is not after 认定年月")
        elif rule == "G1-S01":
            f.at[r, "region_code"] = str(row["region_code"])[:4] + "00"
            d.add(r, rule, "region_code", "a county platform sited in a prefecture, not a county")
