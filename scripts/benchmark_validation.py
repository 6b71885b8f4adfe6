"""Benchmark (not a test): validate a national-size E1 month and print rows per second, GX vs plain pandas.

A staged E1 frame of N rows (default 500,000, the national count of above-scale enterprises) is built
with numpy, with about 1% of rows broken by each hard rule. Three timings, side by side:

1. ``GX, hard rules``: the E1 suite's hard expectations (E1-H01..H08) run by GX Core 1.x on the frame,
   and the failing rows turned into (row, rule) failures with messages — the GX path of the pipeline.
2. ``pandas, hard rules``: the same hard rules written directly in pandas/numpy, producing the same
   (row, rule) set (checked: the two must agree, or the script fails).
3. ``GX, full suite``: :func:`techreform.validation.validate_staged` with every rule, hard and soft, on a
   SQLite warehouse holding the register and the previous month's facts of every enterprise.

Usage: ``.venv/bin/python scripts/benchmark_validation.py [--rows 500000] [--repeat 3] [--skip-full]``
(the hard-rule timings are the best of ``--repeat`` runs, since the machine may be shared).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from techreform.codes import USCC_ALPHABET, USCC_WEIGHTS
from techreform.config import Settings
from techreform.forms import form
from techreform.periods import Period
from techreform.reference import counties, industry_divisions
from techreform.validation import derive, outcomes, suites, validate_staged
from techreform.validation.expectations import division_valid_mask, industry_class_mask, uscc_valid_mask

PERIOD = Period(2013, 6)
E1 = form("E1")
AMOUNTS = [
    "gross_output",
    "value_added",
    "revenue",
    "employees",
    "rd_expense",
    "new_product_output",
    "techreform_investment",
    "energy_tce",
    "water_m3",
    "solid_waste_generated",
    "solid_waste_utilized",
    "purchase_total",
    "ecommerce_purchase",
    "ecommerce_sales",
]


def make_usccs(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct valid USCCs registered in Gansu counties."""
    alphabet = np.array(list(USCC_ALPHABET))
    county = rng.choice(np.array(list(counties())), n)
    body = np.char.add(np.char.add("91", county.astype(str)), "MA")
    serial = np.array([f"{i:07d}" for i in range(n)])
    first17 = np.char.add(body, serial)
    values = np.array([[USCC_ALPHABET.index(c) for c in s] for s in first17[:1]])  # shape check only
    assert values.shape == (1, 17)
    lookup = {c: i for i, c in enumerate(USCC_ALPHABET)}
    codes = np.frombuffer("".join(first17.tolist()).encode("ascii"), dtype=np.uint8).reshape(n, 17)
    table = np.zeros(256, dtype=np.int64)
    for c, i in lookup.items():
        table[ord(c)] = i
    check = (31 - (table[codes] @ np.array(USCC_WEIGHTS)) % 31) % 31
    return np.char.add(first17, alphabet[check]).astype(object)


def make_frame(n: int, seed: int = 1) -> pd.DataFrame:
    """A staged E1 frame (columns of stg_enterprise_monthly + file_name) with ~1% broken per hard rule."""
    rng = np.random.default_rng(seed)
    usccs = make_usccs(n, rng)
    regions = np.array([u[2:8] for u in usccs], dtype=object)
    divisions = np.array(sorted(industry_divisions()))
    industry = np.char.add(rng.choice(divisions, n), np.char.zfill(rng.integers(10, 99, n).astype(str), 2))
    gross = np.round(rng.lognormal(8, 1.2, n), 2)
    frame = pd.DataFrame(
        {
            "delivery_period": str(PERIOD),
            "file_sha256": "",
            "source_row": 0,
            "delivery_seq": 1,
            "raw_json": "{}",
            "uscc": usccs,
            "enterprise_name": [f"企业{i}" for i in range(n)],
            "region_code": regions,
            "industry_code": industry.astype(object),
            "period": str(PERIOD),
            "gross_output": gross,
            "value_added": np.round(gross * rng.uniform(0.2, 0.35, n), 2),
            "revenue": np.round(gross * rng.uniform(0.85, 1.0, n), 2),
            "profit": np.round(gross * rng.normal(0.05, 0.03, n), 2),
            "employees": rng.integers(20, 3000, n).astype(float),
            "rd_expense": np.round(gross * 0.01, 2),
            "new_product_output": np.round(gross * 0.1, 2),
            "techreform_investment": np.round(gross * 0.05, 2),
            "energy_tce": np.round(gross * 0.3, 2),
            "water_m3": np.round(gross * 2, 2),
            "solid_waste_generated": np.round(gross * 0.02, 2),
            "solid_waste_utilized": np.round(gross * 0.015, 2),
            "purchase_total": np.round(gross * 0.6, 2),
            "ecommerce_purchase": np.round(gross * 0.05, 2),
            "ecommerce_sales": np.round(gross * 0.04, 2),
        }
    )
    # one file per prefecture, rows numbered from 2 within it
    prefecture = frame["region_code"].str[:4] + "00"
    frame["file_name"] = "E1_" + prefecture + "_2013-06.csv"
    frame["file_sha256"] = frame["file_name"].map(lambda s: hashlib.sha256(s.encode()).hexdigest())
    frame["source_row"] = frame.groupby("file_name").cumcount() + 2
    broken = rng.choice(n, size=8 * max(n // 100, 1), replace=False).reshape(8, -1)
    frame.loc[broken[0], "uscc"] = frame.loc[broken[0], "uscc"].str[:17] + "I"
    dup = broken[1][: len(broken[1]) // 2]
    frame.loc[broken[1][len(broken[1]) // 2 :], ["uscc", "file_sha256"]] = frame.loc[
        dup, ["uscc", "file_sha256"]
    ].to_numpy()
    frame.loc[broken[2], "enterprise_name"] = " "
    frame.loc[broken[3], "region_code"] = "629999"
    frame.loc[broken[4], "industry_code"] = "5111"
    frame.loc[broken[5], "period"] = "2013-05"
    frame.loc[broken[6], "energy_tce"] = -1.0
    frame.loc[broken[7], "revenue"] = np.nan
    return frame


def pandas_hard_rules(frame: pd.DataFrame, parameters: dict) -> set[tuple[int, str]]:
    """E1-H01..H08 in plain pandas/numpy: the set of (row position, rule id) failures."""
    out: list[tuple[np.ndarray, str]] = []
    uscc = frame["uscc"]
    out.append((np.flatnonzero(uscc.notna().to_numpy() & ~uscc_valid_mask(uscc)), "E1-H01"))
    keys = frame[["file_sha256", "uscc", "period"]]
    dup = keys.notna().all(axis=1) & keys.duplicated(keep=False)
    out.append((np.flatnonzero(dup.to_numpy()), "E1-H02"))
    name = frame["enterprise_name"]
    blank = name.isna() | (name.astype("string").str.strip().str.len() == 0).fillna(False)
    out.append((np.flatnonzero(blank.to_numpy()), "E1-H03"))
    region = frame["region_code"]
    region_bad = (
        region.notna()
        & frame["_period"].notna()
        & ~division_valid_mask(region, frame["_period"], parameters["county_divisions"])
    )
    out.append((np.flatnonzero(region_bad.to_numpy()), "E1-H04"))
    industry = frame["industry_code"]
    out.append(
        (
            np.flatnonzero(
                (industry.notna() & ~industry_class_mask(industry, parameters["industry_divisions"])).to_numpy()
            ),
            "E1-H05",
        )
    )
    period = frame["period"]
    out.append((np.flatnonzero((period.notna() & (period != str(PERIOD))).to_numpy()), "E1-H06"))
    values = frame[AMOUNTS].to_numpy(dtype=float)
    negative = (values < 0).any(axis=1)
    employees = frame["employees"].to_numpy(dtype=float)
    fractional = ~np.isnan(employees) & (np.floor(employees) != employees)
    out.append((np.flatnonzero(negative | fractional), "E1-H07"))
    required = [f.name for f in E1.required_fields]
    out.append((np.flatnonzero(frame[required].isna().any(axis=1).to_numpy()), "E1-H08"))
    return {(int(i), rule) for positions, rule in out for i in positions}


def time_it(label: str, rows: int, fn, repeat: int = 1):
    """Run ``fn`` ``repeat`` times and report the fastest (the machine may be shared)."""
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<28} {best:8.2f} s   {rows / best:>12,.0f} rows/s", flush=True)
    return value, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--skip-full", action="store_true", help="skip the full suite on a SQLite warehouse")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs for the hard-rule timings")
    args = parser.parse_args(argv)

    print(f"building a staged E1 month of {args.rows:,} rows ...", flush=True)
    frame = make_frame(args.rows)
    parameters = {
        "county_divisions": [[d.code, d.valid_from, d.valid_to] for d in counties().values()],
        "industry_divisions": sorted(industry_divisions()),
        "delivery_period_set": [str(PERIOD)],
    }
    base = derive.common(frame.reset_index(drop=True).copy(), PERIOD)
    suites.run_suite(E1, base.head(100), parameters, severities=("hard",))  # warm-up: imports, registries

    def gx_hard():
        result = suites.run_suite(E1, base, parameters, severities=("hard",))
        grouped, _ = outcomes.failures_from_results(base, result.results, E1)
        return set(zip(grouped["position"].astype(int), grouped["rule_id"]))

    print(f"\n{'path':<28} {'time':>10}   {'throughput':>17}")
    gx_found, gx_seconds = time_it("GX, hard rules", args.rows, gx_hard, args.repeat)
    pd_found, pd_seconds = time_it(
        "pandas, hard rules", args.rows, lambda: pandas_hard_rules(base, parameters), args.repeat
    )
    if gx_found != pd_found:
        print(
            f"MISMATCH: GX found {len(gx_found)} failures, pandas {len(pd_found)}; "
            f"only GX {sorted(gx_found - pd_found)[:5]}, only pandas {sorted(pd_found - gx_found)[:5]}"
        )
        return 1
    print(
        f"{'':<28} both found the same {len(gx_found):,} (row, rule) failures; "
        f"GX / pandas = {gx_seconds / pd_seconds:.1f}x"
    )

    if not args.skip_full:
        with tempfile.TemporaryDirectory() as tmp:
            from techreform.pipeline import prepare_warehouse
            from techreform.warehouse import insert_rows

            settings = Settings.from_env({"TECHREFORM_DATA_DIR": tmp}).with_options(validation={"data_docs": False})
            engine = prepare_warehouse(settings)
            print("\nloading the register and the previous month's facts ...", flush=True)
            clean = frame.drop_duplicates("uscc")
            with engine.begin() as conn:
                register = clean[["uscc", "enterprise_name", "region_code", "industry_code"]].assign(
                    snapshot_period="2013-01",
                    prefecture_code=clean["region_code"].str[:4] + "00",
                    scale="中型",
                    above_scale=1,
                    key_enterprise=0,
                    emerging_industry=0,
                    process_backbone=0,
                    operating_status="在营",
                    contact_email=None,
                )
                insert_rows(conn, "dim_enterprise_register", register.to_dict("records"))
                previous = clean[["uscc", "enterprise_name", "region_code", "industry_code", *AMOUNTS, "profit"]].copy()
                previous[AMOUNTS] = (previous[AMOUNTS] * (5 / 6)).round(2)
                previous = previous.assign(
                    period="2013-05",
                    prefecture_code=clean["region_code"].str[:4] + "00",
                    review_status="ok",
                    soft_rule_ids="",
                    file_sha256="x",
                    source_row=0,
                )
                previous["employees"] = previous["employees"].fillna(0).astype(int)
                previous = previous.astype(object).where(previous.notna(), None)
                insert_rows(conn, "fct_enterprise_monthly", previous.to_dict("records"))
            with engine.begin() as conn:
                result, _ = time_it(
                    "GX, full suite (E1, 18 rules)",
                    args.rows,
                    lambda: validate_staged(conn, settings, E1, PERIOD, frame),
                )
            counts = result.rule_counts.set_index("rule_id")["failed"]
            print("failed rows per rule: " + ", ".join(f"{r} {n:,}" for r, n in counts.items() if n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
