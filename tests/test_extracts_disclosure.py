"""Disclosure control of the public tables, checked from the outside: the published table alone (as an
intruder has it) is turned into a linear program — every suppressed cell a variable, the row and column
equations with the published cells and margins, non-negativity for measures that cannot be negative —
and scipy's ``linprog`` gives each suppressed cell's least and greatest possible value. No suppressed
cell may be a single point, and a primary cell must stay open by the protection range on both sides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from techreform.extracts.disclosure import ALL_GROUPS, MEASURES, public_tables
from techreform.extracts.options import ExtractOptions
from techreform.reference import PROVINCE_CODE

PREFECTURES = pd.DataFrame(
    {
        "code": ["620100", "620200", "620300", "620400", "620500"],
        "name": ["兰州市", "嘉峪关市", "金昌市", "白银市", "天水市"],
    }
)
GROUPS = ["冶金有色", "石油化工", "装备制造", "能源"]
OPTIONS = ExtractOptions(url="unused")


def contributions(seed: int, n: int = 60, negative_profit: bool = True) -> pd.DataFrame:
    """Enterprises scattered unevenly over prefectures and groups, with a few dominant ones."""
    rng = np.random.default_rng(seed)
    p = rng.choice(PREFECTURES.code, size=n, p=[0.4, 0.1, 0.1, 0.25, 0.15])
    g = rng.choice(GROUPS, size=n, p=[0.35, 0.3, 0.2, 0.15])
    base = np.round(rng.lognormal(8, 1.5, size=n), 2)
    profit = np.round(base * rng.uniform(-0.2 if negative_profit else 0.01, 0.15, size=n), 2)
    return pd.DataFrame(
        {
            "uscc": [f"U{k:03d}" for k in range(n)],
            "prefecture_code": p,
            "sector_group": g,
            "gross_output": base,
            "value_added": np.round(base * 0.3, 2),
            "revenue": np.round(base * 0.95, 2),
            "profit": profit,
            "techreform_investment": np.round(base * rng.uniform(0, 0.2, size=n), 2),
        }
    )


def true_cells(frame: pd.DataFrame, measure: str) -> dict[tuple[str, str], tuple[float, int, float]]:
    """(prefecture, group) → (value, enterprises, share of the two largest |contributions|), margins too."""
    out = {}
    rows = [*PREFECTURES.code, PROVINCE_CODE]
    cols = [*GROUPS, ALL_GROUPS]
    for r in rows:
        for c in cols:
            sel = frame
            if r != PROVINCE_CODE:
                sel = sel[sel.prefecture_code == r]
            if c != ALL_GROUPS:
                sel = sel[sel.sector_group == c]
            x = np.ones(len(sel)) if measure == "enterprises" else sel[measure].to_numpy(dtype=float)
            absolute = np.sort(np.abs(x))[::-1]
            share = absolute[:2].sum() / absolute.sum() if absolute.sum() else 0.0
            out[(r, c)] = (float(x.sum()), len(sel), float(share))
    return out


def intruder_bounds(table: pd.DataFrame, signed: bool) -> dict[tuple[str, str], tuple[float, float]]:
    """Least and greatest value of every suppressed cell given only the published table."""
    rows = [*PREFECTURES.code, PROVINCE_CODE]
    cols = [*GROUPS, ALL_GROUPS]
    value = {
        (r.prefecture_code, r.sector_group): (None if r.suppressed else float(r.value)) for r in table.itertuples()
    }
    unknown = [cell for cell, v in value.items() if v is None]
    index = {cell: k for k, cell in enumerate(unknown)}
    equations = [[(r, c) for c in GROUPS] + [(r, ALL_GROUPS)] for r in rows] + [
        [(r, c) for r in PREFECTURES.code] + [(PROVINCE_CODE, c)] for c in cols
    ]
    a_eq, b_eq = [], []
    for cells in equations:
        row, rhs = np.zeros(len(unknown)), 0.0
        for k, cell in enumerate(cells):
            sign = -1.0 if k == len(cells) - 1 else 1.0
            if cell in index:
                row[index[cell]] += sign
            else:
                rhs -= sign * value[cell]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    bounds = [(None, None) if signed else (0, None)] * len(unknown)
    out = {}
    for cell, k in index.items():
        c = np.zeros(len(unknown))
        c[k] = 1
        low = linprog(c, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds, method="highs")
        high = linprog(-c, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds, method="highs")
        assert low.status in (0, 3) and high.status in (0, 3), (low.message, high.message)
        out[cell] = (-np.inf if low.status == 3 else low.fun, np.inf if high.status == 3 else -high.fun)
    return out


def check_protected(frame: pd.DataFrame, options: ExtractOptions) -> int:
    """Assert the rules on every measure's table; returns the number of suppressed cells."""
    table, _ = public_tables(frame, PREFECTURES, GROUPS, options, "2013-06")
    suppressed = 0
    for measure in MEASURES:
        part = table[table.measure == measure.name]
        truth = true_cells(frame, measure.name)
        flags = {(r.prefecture_code, r.sector_group): r.suppressed for r in part.itertuples()}
        for cell, (value, n, share) in truth.items():
            sensitive = n >= 1 and (n < options.min_enterprises or share > options.dominance_share)
            assert (flags[cell] == "primary") == sensitive, (measure.name, cell, n, share)
            if n == 0:
                assert (
                    flags[cell] == ""
                    and float(part.set_index(["prefecture_code", "sector_group"]).loc[cell, "value"]) == 0
                )
            if not flags[cell]:
                published = part.set_index(["prefecture_code", "sector_group"]).loc[cell, "value"]
                assert float(published) == pytest.approx(value, abs=0.011 * max(n, 1)), (measure.name, cell)
        for cell, (low, high) in intruder_bounds(part, measure.signed).items():
            value = truth[cell][0]
            suppressed += 1
            assert high - low > 1e-6, f"{measure.name} {cell} is determined: {low} .. {high}"
            assert low - 1e-6 <= value <= high + 1e-6
            if flags[cell] == "primary":
                need = options.protection_ratio * abs(value)
                assert high >= value + need - 1e-6 and low <= value - need + 1e-6, (
                    measure.name,
                    cell,
                    low,
                    value,
                    high,
                )
    return suppressed


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_no_suppressed_cell_can_be_recomputed_from_the_published_cells_and_margins(seed):
    assert check_protected(contributions(seed), OPTIONS) > 0


def test_stricter_thresholds_suppress_more_and_still_protect():
    frame = contributions(7, n=120)
    strict = ExtractOptions(url="unused", min_enterprises=5, dominance_share=0.6, protection_ratio=0.2)
    assert check_protected(frame, strict) > check_protected(frame, OPTIONS)


def test_a_single_dominant_enterprise_is_suppressed_even_in_a_large_cell():
    frame = contributions(11, n=80, negative_profit=False)
    giant = frame.index[(frame.prefecture_code == "620100") & (frame.sector_group == "冶金有色")][0]
    frame.loc[giant, ["gross_output", "revenue"]] = 1e8
    table, _ = public_tables(frame, PREFECTURES, GROUPS, OPTIONS, "2013-06")
    cell = table[
        (table.measure == "revenue") & (table.prefecture_code == "620100") & (table.sector_group == "冶金有色")
    ]
    assert cell.suppressed.iloc[0] == "primary"
    check_protected(frame, OPTIONS)


def test_the_intruder_check_finds_a_cell_left_alone_in_its_row():
    """The check itself can fail: suppressing one cell only (no secondary) leaves it determined."""
    frame = contributions(5)
    table, _ = public_tables(frame, PREFECTURES, GROUPS, OPTIONS, "2013-06")
    part = table[table.measure == "revenue"].copy()
    truth = true_cells(frame, "revenue")
    part["value"] = [truth[(r.prefecture_code, r.sector_group)][0] for r in part.itertuples()]
    part["suppressed"] = ""
    target = part.index[(part.prefecture_code == "620100") & (part.sector_group == "能源")][0]
    part.loc[target, "suppressed"] = "primary"
    low, high = intruder_bounds(part, signed=False)[("620100", "能源")]
    assert high - low == pytest.approx(0, abs=1e-6)


def test_two_single_enterprise_cells_are_never_left_alone_together_in_a_row():
    """The singleton problem: with only two single-enterprise cells suppressed in a row, each of the two
    enterprises could subtract its own figure from the row and learn the other's."""
    rows = []
    for p in PREFECTURES.code:
        for g in GROUPS:
            n = {"冶金有色": 1, "石油化工": 1, "装备制造": 5, "能源": 0}[g] if p == "620200" else 5
            rows += [{"prefecture_code": p, "sector_group": g, "value": 100.0 + k} for k in range(n)]
    frame = pd.DataFrame(rows)
    frame = frame.assign(
        uscc=[f"U{k:03d}" for k in range(len(frame))],
        gross_output=frame.value,
        value_added=frame.value,
        revenue=frame.value,
        profit=frame.value,
        techreform_investment=frame.value,
    )
    table, _ = public_tables(frame, PREFECTURES, GROUPS, OPTIONS, "2013-06")
    row = table[(table.measure == "gross_output") & (table.prefecture_code == "620200")]
    hidden = row[row.suppressed != ""]
    assert set(hidden[hidden.suppressed == "primary"].sector_group) == {"冶金有色", "石油化工"}
    assert len(hidden) >= 3
    check_protected(frame, OPTIONS)
