"""Benchmark (not a test): does validating E1 per prefecture as mapped tasks pay with two workers?

A staged national E1 month (``--rows``, default 500,000 = ``techreform-generate --size national``; built as
``scripts/benchmark_validation.py`` builds it) is validated with the E1 suite's hard rules by GX Core, the
failing rows turned into (row, rule) failures — the GX path of ``validate_load_enterprises``:

1. ``one task``: the whole month in one process (what the DAG does today);
2. ``14 slices, 1 worker``: the 14 prefectures' slices one after the other in one process (what mapped
   tasks cost in validation work alone);
3. ``14 slices, N workers``: the slices over a pool of ``--workers`` processes (default 2, the two Celery
   workers), wall time.

It checks that the slices find exactly the failures of the whole month. The Airflow cost of a mapped
task (a task process per slice: start-up, imports, the execution API) comes on top of 3 and is printed
for ``--task-overhead`` seconds per task (measure it from the worker logs' ``Workload finished duration``
of a trivial task). Usage:
``.venv/bin/python scripts/benchmark_mapped_validation.py [--rows 500000] [--workers 2] [--task-overhead 10]``
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))

from benchmark_validation import PERIOD, make_frame  # noqa: E402
from techreform.forms import form  # noqa: E402
from techreform.reference import counties, industry_divisions  # noqa: E402
from techreform.validation import derive, outcomes, suites  # noqa: E402

E1 = form("E1")
_PARAMETERS: dict = {}


def _parameters() -> dict:
    return {
        "county_divisions": [[d.code, d.valid_from, d.valid_to] for d in counties().values()],
        "industry_divisions": sorted(industry_divisions()),
        "delivery_period_set": [str(PERIOD)],
    }


def hard_failures(base) -> set[tuple[str, str]]:
    """(uscc + source row, rule) of every hard failure of ``base`` (comparable across slices)."""
    result = suites.run_suite(E1, base, _PARAMETERS or _parameters(), severities=("hard",))
    grouped, _ = outcomes.failures_from_results(base, result.results, E1)
    positions = grouped["position"].astype(int).to_numpy()
    keys = base["source_row"].to_numpy()[positions]
    return {(int(k), r) for k, r in zip(keys, grouped["rule_id"])}


def _warm_worker() -> None:
    global _PARAMETERS
    _PARAMETERS = _parameters()
    frame = make_frame(200, seed=2)
    hard_failures(derive.common(frame.reset_index(drop=True).copy(), PERIOD))  # imports, GX registries


def _slice(base):
    return hard_failures(base.reset_index(drop=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--task-overhead", type=float, default=None, help="seconds of Airflow per mapped task")
    args = parser.parse_args(argv)

    print(f"building a staged E1 month of {args.rows:,} rows ...", flush=True)
    frame = make_frame(args.rows)
    frame["source_row"] = range(len(frame))
    base = derive.common(frame.reset_index(drop=True).copy(), PERIOD)
    prefecture = base["region_code"].astype(str).str[:4] + "00"
    slices = [part for _, part in base.groupby(prefecture, sort=True)]
    print(f"{len(slices)} prefecture slices, {min(map(len, slices)):,}..{max(map(len, slices)):,} rows", flush=True)
    _warm_worker()

    started = time.perf_counter()
    whole = hard_failures(base)
    one_task = time.perf_counter() - started

    started = time.perf_counter()
    serial = set().union(*(_slice(part) for part in slices))
    sliced_serial = time.perf_counter() - started

    context = multiprocessing.get_context("fork")
    with context.Pool(args.workers, initializer=_warm_worker) as pool:
        pool.map(_slice, [slices[0].head(10)] * args.workers)  # every worker warmed before the clock starts
        started = time.perf_counter()
        parallel = set().union(*pool.map(_slice, slices, chunksize=1))
        sliced_parallel = time.perf_counter() - started

    if serial != parallel:
        print(f"MISMATCH: the slices found {len(serial)} failures in one process, {len(parallel)} in the pool")
        return 1
    if whole != serial:  # a rule that needs the whole month: slices by prefecture cannot carry it
        missed = Counter(rule for _, rule in whole - serial)
        extra = Counter(rule for _, rule in serial - whole)
        print(f"\nthe slices differ from the whole month: missed {dict(missed)}, extra {dict(extra)}")
    else:
        print(f"\nall three found the same {len(whole):,} (row, rule) failures")
    print()
    print(f"{'path':<34} {'seconds':>8}")
    print(f"{'one task (today)':<34} {one_task:8.1f}")
    print(f"{f'{len(slices)} slices, 1 worker':<34} {sliced_serial:8.1f}")
    print(f"{f'{len(slices)} slices, {args.workers} workers':<34} {sliced_parallel:8.1f}")
    if args.task_overhead is not None:
        mapped = sliced_parallel + len(slices) * args.task_overhead / args.workers
        print(f"{f'+ {args.task_overhead:g} s Airflow per mapped task':<34} {mapped:8.1f}")
    print(f"\ncores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
