"""Landing → receipt at the SMTP server, measured on the multi-worker deployment of the tests (issue 15,
item 5; docs/delivery.md, section "Measured"). Not a test: it prints figures and asserts nothing about them.

For each size, one deployment (``tests/deployment_harness.py``: PostgreSQL metadata and warehouse, Redis,
scheduler, dag-processor, api-server, triggerer, two Celery workers, the store on a moto S3 server, an
aiosmtpd server as ``techreform_smtp``), its warehouse holding what the month's runs of earlier periods
leave (R1 and S1 in force, the previous month's E1); ``techreform_delivery`` unpaused and its asset watcher
running; then, ``--repeat`` times, Lanzhou's (620100) E1 file of the next month lands in the store and the
clock runs from the end of the upload to the receipt's arrival at the SMTP server (one new month per
repeat: a byte-identical or corrected file would measure a resubmission). Each run is waited for to its end
before the next landing. Sizes:

- ``prefecture``: the generated province of ``tests/test_delivery_deployment.py`` (3,260 enterprises):
  Lanzhou's file has about 1,000 rows;
- ``largest``: a province of 78,000 enterprises, whose Lanzhou file (about 24,000 rows × 20 columns) is
  near the largest E1 file the default ingest limits accept (``ingest.max_cells`` = 500,000 cells); the
  earlier months are loaded with larger limits (the register alone has ~80,000 rows × 11 columns);
- ``national``: the generator's national size (500,000 enterprises), whose Lanzhou file (about 180,000
  rows, 3.6 million cells) is past the default limits: the deployment runs with them raised, as a
  deployment receiving national files must (docs/performance.md).

Usage::

    make measure-delivery                                   # MEASURE_ARGS="--repeat 2 --sizes prefecture"
    nice -n 5 .venv/bin/python scripts/measure_delivery.py --repeat 3 --sizes prefecture largest

The table gives, per landing, where the seconds went (from the asset event, the DAG run and the task
instances the API reports): watcher poll, scheduler, queueing and task start-up, the tasks, and the e-mail.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
DAG_ID = "techreform_delivery"
PREFECTURE = "620100"
RECEIPT_TIMEOUT = 20 * 60
#: The earlier months of the large province: its register is larger than the default limits accept.
SEED_LIMITS = {"ingest": {"max_file_bytes": 500_000_000, "max_cells": 50_000_000}}


@dataclass(frozen=True)
class Size:
    name: str
    enterprises: int
    earlier: str  # the month loaded before the deployment watches (R1, S1 snapshots, E1)
    seed_options: dict | None = None
    options: dict | None = None  # the deployment's own options (sections of TECHREFORM_CONFIG_FILE)


SIZES = {
    "prefecture": Size("prefecture", 3260, "2013-05"),
    "largest": Size("largest", 78_000, "2014-05", SEED_LIMITS),
    # the generator's national size: Lanzhou's E1 file alone is about 180,000 rows (3.6 million cells),
    # past the default limits, so the deployment runs with them raised as a national deployment must
    "national": Size("national", 500_000, "2014-05", SEED_LIMITS, SEED_LIMITS),
}


def generate(size: Size, repeat: int, data: Path) -> Path:
    """The province of ``size`` with ``repeat`` months after its earlier month (reused when generated
    with the same options before)."""
    from techreform.generator import GeneratorConfig
    from techreform.generator import generate as generate_province
    from techreform.periods import Period

    config = GeneratorConfig(
        enterprises=size.enterprises,
        projects=0,
        forms=("R1", "S1", "E1"),
        first_period=size.earlier,
        last_period=str(Period.parse(size.earlier).shift(repeat)),
        defect_rate=0.01,
    )
    out = data / size.name
    stamp = out / "config.json"
    if stamp.exists() and json.loads(stamp.read_text()) == config.as_dict():
        return out
    started = time.perf_counter()
    generate_province(out, config)
    stamp.write_text(json.dumps(config.as_dict()))
    print(f"[{size.name}] generated {size.enterprises:,} enterprises in {time.perf_counter() - started:.0f} s")
    return out


def _folder(prefix: str, keep: Path | None):
    """A temporary folder, removed afterwards unless it is made under ``keep``."""
    if keep is None:
        return tempfile.TemporaryDirectory(prefix=prefix)
    keep.mkdir(parents=True, exist_ok=True)
    return contextlib.nullcontext(tempfile.mkdtemp(prefix=prefix, dir=keep))


def measure(
    size: Size, province: Path, repeat: int, extra_env: dict[str, str], poll: float, keep: Path | None = None
) -> list[dict]:
    import pandas as pd

    from deployment_harness import (
        deliver,
        load_earlier_months,
        pg_databases,
        redis_database,
        running_deployment,
        statistics_contacts,
        wait_for_watchers,
    )
    from service_fixtures import running_local_smtp, running_s3_server
    from techreform.periods import Period

    files = pd.read_csv(province / "ground_truth" / "files.csv", dtype=str)
    rows = []
    with (
        _folder(f"measure-delivery-{size.name}-", keep) as root,
        pg_databases("meta", "wh") as db,
        redis_database() as broker,
        running_s3_server() as s3,
        running_local_smtp() as smtp,
        running_deployment(
            Path(root),
            meta_url=db["meta"],
            warehouse_url=db["wh"],
            broker_url=broker,
            s3=s3,
            smtp=smtp,
            extra_env=extra_env,
            job_schedule=True,  # runs raised by asset events
        ) as deployment,
    ):
        started = time.perf_counter()
        runs = {"R1": size.earlier, "S1": size.earlier, "E1": size.earlier}
        load_earlier_months(deployment, province / "landing", runs, size.seed_options)
        print(f"[{size.name}] earlier months loaded in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        wait_for_watchers(deployment, DAG_ID, settle=poll + 5)  # polling in its steady state
        print(f"[{size.name}] unpaused, watcher running after {time.perf_counter() - started:.0f} s")
        for k in range(1, repeat + 1):
            period = str(Period.parse(size.earlier).shift(k))
            recipient = statistics_contacts(deployment, period)[PREFECTURE][0]["email"]
            info = files[
                (files["form"] == "E1") & (files["period"] == period) & files["file_name"].str.contains(PREFECTURE)
            ]
            info = info.iloc[0]
            source = province / "landing" / "enterprise_monthly" / period / info["file_name"]
            message, spent = deliver(deployment, source, "E1", period, recipient, DAG_ID, RECEIPT_TIMEOUT)
            row = {
                "size": size.name,
                "file": info["file_name"],
                "rows": int(info["rows"]),
                "format": info["format"],
                "bytes": source.stat().st_size,
                "subject": str(message["Subject"]),
                "stages": dict(spent.stages()),
                "tasks": spent.tasks,
                "phases": spent.phases,
                "total": spent.total,
            }
            rows.append(row)
            print(f"[{size.name}] {period} {info['file_name']}: {spent.total:.1f} s\n{spent.format()}", flush=True)
    return rows


def table(rows: list[dict]) -> str:
    columns = (
        ("landing → asset event (watcher poll)", "poll"),
        ("asset event → run queued (scheduler)", "sched"),
        ("run queued → first task running", "start"),
        ("first task start → last task end", "run"),
        ("  of which inside tasks (sum)", "in tasks"),
        ("last task end → receipt at SMTP", "after"),
    )
    head = (
        "| file | rows | format | "
        + " | ".join(short for _, short in columns)
        + " | task start-up | task work | landing → receipt |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = [f"{r['stages'][k]:.1f}" if r["stages"].get(k) is not None else "–" for k, _ in columns]
        for phase in ("start-up", "work"):  # summed over the run's tasks, from their logs
            values = [p[phase] for p in (r.get("phases") or {}).values() if phase in p]
            cells.append(f"{sum(values):.1f}" if values else "–")
        lines.append(
            f"| {r['file']} | {r['rows']:,} | {r['format']} | " + " | ".join(cells) + f" | **{r['total']:.1f} s** |"
        )
    best: dict[str, dict] = {}
    for r in rows:
        if r["size"] not in best or r["total"] < best[r["size"]]["total"]:
            best[r["size"]] = r
    lines.append("")
    for name, r in best.items():
        n = sum(1 for x in rows if x["size"] == name)
        lines.append(f"best of {n}, {name} ({r['rows']:,} rows): {r['total']:.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="landings per size (one new month each); best of them")
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["prefecture", "largest"])
    parser.add_argument("--data", type=Path, default=REPO / "var" / "measure-delivery", help="generated provinces")
    parser.add_argument(
        "--poll-seconds", type=float, help="delivery.poll_seconds of the deployment (default: its default)"
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--keep", type=Path, help="keep the deployments' folders (logs, task logs) under here")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the moto server's request lines

    from techreform.options import DeliveryOptions

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (at start)")
    rows = []
    for name in args.sizes:
        size = SIZES[name]
        extra_env: dict[str, str] = {}
        options = dict(size.options or {})
        if args.poll_seconds is not None:
            options["delivery"] = {"poll_seconds": args.poll_seconds}
        if options:
            config = args.data / f"deployment-config-{name}.json"
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(json.dumps(options))
            extra_env["TECHREFORM_CONFIG_FILE"] = str(config)
        poll = args.poll_seconds or DeliveryOptions().poll_seconds
        rows += measure(size, generate(size, args.repeat, args.data), args.repeat, extra_env, poll, args.keep)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}\n")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
