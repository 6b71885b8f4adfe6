"""The enterprises (企业) of the sample province and the register (R1, 企业名录) history.

Enterprises get a county, an industry class, a skewed (lognormal) size, a unified social credit code with
the county at positions 3–8 and a correct check character, and a Chinese name. The register changes only
in snapshot months (the first period, every January, two mid-year months a year): enterprises enter (new,
or rising above scale), leave (注销, or falling below scale at a January), stop production (停产) for some
months (resuming with a new year). An enterprise reports E1 in a period when the snapshot in force lists it above scale and 在营."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from techreform.codes import USCC_ALPHABET, USCC_WEIGHTS

from .config import GeneratorConfig
from .names import enterprise_names
from .rand import rng_for
from .reference import (
    counties,
    counties_valid_throughout,
    county_by_code,
    division_profile,
    industry_divisions,
    period_index,
    period_of_index,
    prefectures,
)

# register states of an enterprise in a snapshot
NOT_LISTED, BELOW_SCALE, OPERATING, STOPPED, DEREGISTERED, FELL_BELOW = 0, 1, 2, 3, 4, 5


def make_usccs(rng: np.random.Generator, county_codes: np.ndarray, taken: set[str] | None = None) -> np.ndarray:
    """Valid USCCs (``91`` + county + 9 random characters + check character), vectorised, unique against
    ``taken`` (which is updated)."""
    taken = set() if taken is None else taken
    n = len(county_codes)
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    alphabet = np.array(list(USCC_ALPHABET))
    weights = np.array(USCC_WEIGHTS)
    while len(todo):
        m = len(todo)
        digits = np.frombuffer("".join("91" + str(c) for c in county_codes[todo]).encode("ascii"), dtype=np.uint8)
        head = digits.reshape(m, 8).astype(np.int64) - ord("0")
        tail = rng.integers(0, 31, size=(m, 9))
        values = np.concatenate([head, tail], axis=1)
        check = (31 - (values * weights).sum(axis=1) % 31) % 31
        chars = alphabet[np.concatenate([values, check[:, None]], axis=1)]
        codes = np.array(["".join(row) for row in chars], dtype=object)
        retry = []
        for k, code in zip(todo, codes, strict=True):
            if code in taken:
                retry.append(k)
            else:
                taken.add(code)
                out[k] = code
        todo = np.array(retry, dtype=int)
    return out


def snapshot_periods(config: GeneratorConfig) -> list[str]:
    """Months in which a register snapshot is delivered: the first period, each January, and two
    mid-year months a year (drawn from the seed)."""
    first, last = period_index(config.first_period), period_index(config.last_period)
    rng = rng_for(config.seed, "register", "snapshot-months")
    out = {first}
    for year in range(first // 12, last // 12 + 1):
        out.add(year * 12)
        for month in sorted(rng.choice(np.arange(3, 10), size=2, replace=False)):  # April..October
            out.add(year * 12 + int(month))
    return [period_of_index(i) for i in sorted(i for i in out if first <= i <= last)]


@dataclass
class Population:
    """Enterprises (one row each, index = enterprise number) and their register state per snapshot."""

    enterprises: pd.DataFrame
    snapshots: list[str]
    state: np.ndarray  # (enterprises, snapshots) of the states above

    def snapshot_index(self, period: str) -> int:
        """Index of the snapshot in force for ``period``."""
        idx = int(np.searchsorted(np.array(self.snapshots), period, side="right")) - 1
        if idx < 0:
            raise ValueError(f"no register snapshot in force for {period}")
        return idx

    def reporters(self, period: str) -> np.ndarray:
        """Enterprise numbers expected to report E1 in ``period`` (above scale, 在营 in the snapshot in force)."""
        return np.flatnonzero(self.state[:, self.snapshot_index(period)] == OPERATING)

    def register_rows(self, snapshot: int) -> pd.DataFrame:
        """The R1 snapshot ``snapshot`` as clean typed rows (booleans 0/1), with ``_ent`` = enterprise number."""
        st = self.state[:, snapshot]
        listed = np.flatnonzero(st != NOT_LISTED)
        e = self.enterprises.iloc[listed]
        st = st[listed]
        return pd.DataFrame(
            {
                "_ent": listed,
                "uscc": e["uscc"].to_numpy(),
                "enterprise_name": e["enterprise_name"].to_numpy(),
                "region_code": e["region_code"].to_numpy(),
                "industry_code": e["industry_code"].to_numpy(),
                "scale": np.where(
                    np.isin(st, [BELOW_SCALE, FELL_BELOW]),
                    np.where(e["scale"].to_numpy() == "微型", "微型", "小型"),
                    e["scale"].to_numpy(),
                ),
                "above_scale": np.isin(st, [OPERATING, STOPPED, DEREGISTERED]).astype(int),
                "key_enterprise": e["key_enterprise"].to_numpy(),
                "emerging_industry": e["emerging_industry"].to_numpy(),
                "process_backbone": e["process_backbone"].to_numpy(),
                "operating_status": np.select([st == STOPPED, st == DEREGISTERED], ["停产", "注销"], "在营"),
                "contact_email": e["contact_email"].to_numpy(),
            }
        )


def build_population(config: GeneratorConfig) -> Population:
    """Enterprises and register history for ``config`` (vectorised; national size takes seconds)."""
    rng = rng_for(config.seed, "population")
    snaps = snapshot_periods(config)
    n_snap = len(snaps)
    years = (period_index(config.last_period) - period_index(config.first_period) + 1) / 12.0
    n_base = config.enterprises
    n_below = max(5, round(0.08 * n_base))
    later_snaps = n_snap - 1
    n_entry = round(config.entry_rate * n_base * years) if later_snaps else 0
    n = n_base + n_below + n_entry

    # --- where and what ---------------------------------------------------------------------------------
    prefs = prefectures()
    p_weights = np.array([p.enterprise_weight for p in prefs], dtype=float)
    pref_idx = rng.choice(len(prefs), size=n, p=p_weights / p_weights.sum())
    divisions = sorted(industry_divisions())
    d_weights = np.array([division_profile(d)[0] for d in divisions], dtype=float)
    division = np.array(divisions, dtype=object)[rng.choice(len(divisions), size=n, p=d_weights / d_weights.sum())]
    signature = rng.random(n) < 0.35  # firms of the prefecture's signature industries
    for i, p in enumerate(prefs):
        mask = (pref_idx == i) & signature
        division[mask] = np.array(p.signature_divisions, dtype=object)[
            rng.integers(0, len(p.signature_divisions), mask.sum())
        ]
    industry_code = np.char.add(
        np.char.add(division.astype(str), rng.integers(1, 5, n).astype(str)), rng.integers(0, 4, n).astype(str)
    ).astype(object)
    region = np.empty(n, dtype=object)
    for i, p in enumerate(prefs):
        mask = pref_idx == i
        options = [c.code for c in counties_valid_throughout(p.code, config.first_period, config.last_period)]
        region[mask] = np.array(options, dtype=object)[rng.integers(0, len(options), mask.sum())]

    # --- size ---------------------------------------------------------------------------------------------
    pref_size = np.array([p.size_factor for p in prefs])[pref_idx]
    div_size = np.array([division_profile(d)[1] for d in division])
    size = rng.lognormal(0.0, 1.2, n) * pref_size * div_size
    rank = size.argsort().argsort() / max(n - 1, 1)  # 0 smallest .. 1 largest
    scale = np.select([rank > 0.95, rank > 0.72, rank > 0.04], ["大型", "中型", "小型"], "微型").astype(object)
    groups = np.array([industry_divisions()[d][2] for d in division], dtype=object)
    key_enterprise = (rank > 0.9).astype(int)
    emerging = (np.isin(division, ["27", "35", "38", "39", "40", "42"]) & (rng.random(n) < 0.5)).astype(int)
    backbone = (np.isin(groups, ["冶金有色", "石油化工", "新型建材", "能源"]) & (rank > 0.6)).astype(int)

    # --- register history -----------------------------------------------------------------------------------
    state = np.zeros((n, n_snap), dtype=np.int8)
    kind = np.array(["base"] * n_base + ["below"] * n_below + ["entrant"] * n_entry, dtype=object)
    state[kind == "base", :] = OPERATING
    state[kind == "below", :] = BELOW_SCALE
    entrants = np.flatnonzero(kind == "entrant")
    entry_snap = np.zeros(n, dtype=int)
    if len(entrants):
        entry_snap[entrants] = rng.integers(1, n_snap, len(entrants))
        pre_listed = rng.random(len(entrants)) < 0.5
        for k, e in enumerate(entrants):
            s = entry_snap[e]
            state[e, s:] = OPERATING
            if pre_listed[k]:
                state[e, :s] = BELOW_SCALE
        # Lanzhou New Area (兰州新区, 620171) exists from 2012-08: some later entrants settle there
        new_area = county_by_code().get("620171")
        if new_area is not None:
            for e in entrants:
                if (
                    prefs[pref_idx[e]].code == "620100"
                    and new_area.valid_in(snaps[entry_snap[e]])
                    and new_area.valid_in(config.last_period)
                    and rng.random() < 0.25  # drawn before the last test, as the random stream expects
                    and (not (state[e, : entry_snap[e]] == BELOW_SCALE).any() or new_area.valid_in(snaps[0]))
                ):
                    region[e] = new_area.code
    stable = np.zeros(n, dtype=bool)
    stable[kind == "base"] = True
    n_exit = round(config.exit_rate * n_base * years) if later_snaps else 0
    n_stop = round(config.stop_rate * n_base * years) if later_snaps else 0
    movers = rng.permutation(np.flatnonzero(kind != "below"))
    exiters, stoppers = movers[:n_exit], movers[n_exit : n_exit + n_stop]
    januaries = {i for i, s in enumerate(snaps) if s.endswith("-01")}
    for e in exiters:
        lo = entry_snap[e] + 1
        if lo >= n_snap:
            continue
        s = int(rng.integers(lo, n_snap))
        fell = s in januaries and rng.random() < 0.5
        state[e, s:] = FELL_BELOW if fell else DEREGISTERED
        stable[e] = False
    for e in stoppers:
        lo = entry_snap[e] + 1
        if lo >= n_snap:
            continue
        s = int(rng.integers(lo, n_snap))
        # production resumes with a new year (a January snapshot), or never within the generated periods
        later_januaries = [j for j in sorted(januaries) if j > s]
        resume = int(rng.choice(later_januaries + [n_snap]))
        stop_end = min(resume, n_snap)
        stopped = state[e, s:stop_end] == OPERATING
        state[e, s:stop_end][stopped] = STOPPED
        stable[e] = False

    # --- codes and names ------------------------------------------------------------------------------------
    usccs = make_usccs(rng_for(config.seed, "population", "uscc"), region)
    county_names = {c.code: c.name for c in counties()}
    place = np.array([p.short for p in prefs], dtype=object)[pref_idx]
    use_county = rng.random(n) < 0.3
    for i in np.flatnonzero(use_county):
        name = county_names[region[i]]
        if name.endswith(("县", "区")) and len(name) >= 3:
            place[i] = name[:-1]
    names = enterprise_names(rng_for(config.seed, "population", "names"), place.astype(str), groups)
    emails = np.char.add(np.char.add("tj", np.char.zfill(np.arange(n).astype(str), 6)), "@qiye.gsgxw.example")

    enterprises = pd.DataFrame(
        {
            "uscc": usccs,
            "enterprise_name": names,
            "region_code": region,
            "prefecture_code": np.array([p.code for p in prefs], dtype=object)[pref_idx],
            "industry_code": industry_code,
            "division": division,
            "sector_group": groups,
            "size": size,
            "scale": scale,
            "key_enterprise": key_enterprise,
            "emerging_industry": emerging,
            "process_backbone": backbone,
            "contact_email": emails.astype(object),
            "kind": kind,
            "stable": stable,
        }
    )
    return Population(enterprises, snaps, state)
