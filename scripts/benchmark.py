"""End-to-end benchmark (not a test): the project's chain on a national month against a naive pipeline and
the I/O floor, side by side, each in its own child process, alternating, best of N.

Contenders (each one child process; wall clock, CPU = user + system, peak RSS of that child alone,
from ``os.wait4``'s ``rusage``; a child with worker processes: their CPU included, peak RSS the largest
sum over its process tree, sampled):

- ``project-sqlite``: ``techreform run --from P --to P --no-notify`` on a fresh SQLite warehouse (every
  step of :data:`techreform.steps.STEPS` except e-mail delivery: ingest, validation, load, register,
  indicators, supervision, extracts, receipts).
- ``project-postgresql``: the same on a fresh PostgreSQL database (the server's own CPU is not counted).
- ``project-sqlite-workers2``, ``project-postgresql-workers2``: the same with ``--workers 2`` (the steps the
  DAG runs side by side in two processes, as on two workers).
  After the run each project child counts the period's rows (``techreform.reports.period_counts``) to
  show what it did; that check is timed in the child and taken off its wall and CPU (the chain's own
  summary step, which counts them too, stays in).
- ``naive``: the same E1 and R1 files through ``pandas.read_csv``/``read_excel``, header rename,
  ``to_numeric`` coercion, GX with the core expectations of the form's suite (COMPLETE results), and
  ``DataFrame.to_sql`` into SQLite. It catches fewer defects (no check digits, no soft rules, no
  lineage, no quarantine, no supervision).
- ``floor``: every delivered file of the month read with the project's own reader
  (:func:`techreform.readers.read_delivery_bytes`) and COPY'd as text into an unlogged PostgreSQL table.

Usage::

    make benchmark                      # BENCHMARK_ARGS="--repeat 1" for a single round
    .venv/bin/python scripts/benchmark.py --data /work/var-national/m --repeat 2 [--only floor naive]

The national month is generated once (``techreform-generate --size national --forms R1,S1,E1,P1``) into
``--data`` (default ``var/benchmark-national``) and reused. Ratios, not absolute times, are the result:
the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PERIOD = "2013-06"
PG_ADMIN = os.environ.get("TECHREFORM_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CONTENDERS = (
    "floor",
    "naive",
    "project-sqlite",
    "project-postgresql",
    "project-sqlite-workers2",
    "project-postgresql-workers2",
)
#: The ``ingest`` limits of the benchmark: a national month's files are larger than the defaults allow
#: (the capital's E1 file has 3.6 million cells, the provincial register 8 million); a deployment that
#: receives national months sets the same in ``TECHREFORM_CONFIG_FILE``.
CHECK_WALL, CHECK_CPU = "check_wall_s", "check_cpu_s"
"""Keys of a child's result: the wall and CPU seconds of its look at its own results after the timed work
(the project's period_counts), which run_child takes off the child's figures."""

NATIONAL_LIMITS = {
    "max_file_bytes": 500_000_000,
    "max_cells": 50_000_000,
    "max_xlsx_uncompressed_bytes": 2_000_000_000,
    "max_xlsx_shared_strings_bytes": 500_000_000,
}


# ---------------------------------------------------------------------------------------------- children


def _landing(data: Path) -> Path:
    return data / "landing"


def _month_files(data: Path, forms: tuple[str, ...] | None = None) -> list[tuple[str, Path]]:
    """(form code, path) of every delivered file of the month (S1 lives in its first period's folder)."""
    from techreform.forms import form

    out = []
    for folder in sorted(_landing(data).iterdir()):
        code = form(folder.name).code
        if forms is not None and code not in forms:
            continue
        month = folder / PERIOD
        if not month.is_dir():
            continue
        out.extend((code, p) for p in sorted(month.iterdir()) if p.is_file())
    return out


def _pg_database() -> tuple[str, str]:
    """A fresh PostgreSQL database: (name, psycopg URL)."""
    import psycopg

    name = f"techreform_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return name, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


FLOOR_SLICE_ROWS = 50_000
"""The floor COPYs a table's rows by slices of this many (the project stages by slices of as many)."""


def child_floor(data: Path) -> dict:
    """Read every file of the month with the project's reader and COPY its cells as text (unlogged table)."""
    import psycopg

    from techreform.limits import IngestLimits
    from techreform.readers import read_delivery_bytes

    limits = IngestLimits(**NATIONAL_LIMITS)
    name, url = _pg_database()
    rows = 0
    try:
        with psycopg.connect(url) as conn:
            conn.execute("create unlogged table floor_rows (file text, source_row int, cells text[])")
            with conn.cursor() as cur:
                for _code, path in _month_files(data):
                    table = read_delivery_bytes(path, path.read_bytes(), limits)
                    with cur.copy("copy floor_rows (file, source_row, cells) from stdin") as copy:
                        for start in range(0, len(table), FLOOR_SLICE_ROWS):  # a columnar table's rows by slices
                            for number, cells in table.slice(start, start + FLOOR_SLICE_ROWS).rows:
                                copy.write_row((path.name, number, [None if c is None else str(c) for c in cells]))
                    rows += len(table)
            conn.commit()
    finally:
        _drop_database(name)
    return {"rows": rows}


def _core_expectations(form_code: str, columns: set[str]) -> list:
    """The suite's expectations that GX Core ships and that need no project code or parameters."""
    import great_expectations as gx

    from techreform.forms import form
    from techreform.validation.suites import suite_dict

    chosen = []
    for spec in suite_dict(form(form_code))["expectations"]:
        cls = getattr(gx.expectations, "".join(p.title() for p in spec["type"].split("_")), None)
        kwargs = dict(spec["kwargs"])
        used = [kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)]
        used += list(kwargs.get("column_list", []))
        if cls is None or "row_condition" in kwargs or not set(used) <= columns or "$PARAMETER" in json.dumps(kwargs):
            continue
        chosen.append(cls(**kwargs))
    return chosen


def child_naive(data: Path) -> dict:
    """read_csv/read_excel → rename → coerce → GX (core expectations, COMPLETE) → to_sql, for E1 and R1."""
    import logging

    import great_expectations as gx
    import pandas as pd
    import sqlalchemy as sa

    from techreform.forms import form
    from techreform.readers import normalise_header

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="naive-"))
    engine = sa.create_engine(f"sqlite:///{tmp / 'naive.sqlite'}")
    context = gx.get_context(mode="ephemeral")
    rows = 0
    failures = 0
    try:
        for code in ("E1", "R1"):
            spec = form(code)
            names = {normalise_header(k): v for k, v in spec.header_map().items()}
            frames = []
            for _code, path in _month_files(data, (code,)):
                if path.suffix == ".xlsx":
                    frame = pd.read_excel(path, dtype=str, engine="openpyxl")
                else:
                    raw = path.read_bytes()
                    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
                    try:
                        raw.decode(encoding)
                    except UnicodeDecodeError:
                        encoding = "gb18030"
                    frame = pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)
                frame.columns = [names.get(normalise_header(h), h) for h in frame.columns]
                frame["file_name"] = path.name
                frames.append(frame)
            frame = pd.concat(frames, ignore_index=True)
            for field in spec.fields:
                if field.name not in frame:
                    continue
                if field.type in ("decimal", "integer"):
                    frame[field.name] = pd.to_numeric(frame[field.name].str.replace(",", ""), errors="coerce")
                else:
                    frame[field.name] = frame[field.name].where(frame[field.name].str.strip() != "", None)
            suite = gx.ExpectationSuite(name=f"naive_{code}", expectations=_core_expectations(code, set(frame)))
            asset = context.data_sources.add_pandas(f"naive_{code}").add_dataframe_asset(code)
            batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
            failures += sum(len(r.result.get("unexpected_index_list") or []) for r in result.results)
            frame.to_sql(f"naive_{code.lower()}", engine, index=False, chunksize=10_000)
            rows += len(frame)
    finally:
        engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"rows": rows, "failing cells": failures}


def child_project(data: Path, engine: str, workers: int = 1) -> dict:
    """The project's whole chain for the month on a fresh warehouse (``techreform run --workers N``)."""
    work = Path(tempfile.mkdtemp(prefix=f"project-{engine}-"))
    os.environ["TECHREFORM_DATA_DIR"] = str(work)
    os.environ["TECHREFORM_LANDING_DIR"] = str(_landing(data))
    config = work / "config.json"
    config.write_text(json.dumps({"ingest": NATIONAL_LIMITS}), encoding="utf-8")
    os.environ["TECHREFORM_CONFIG_FILE"] = str(config)
    database = None
    if engine == "postgresql":
        database, url = _pg_database()
        os.environ["TECHREFORM_WAREHOUSE_URL"] = url.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        import logging

        from techreform.cli import main

        logging.getLogger("techreform.reports").setLevel(logging.ERROR)  # not the first quarantined rows

        code = main(["run", "--from", PERIOD, "--to", PERIOD, "--no-notify", "--workers", str(workers)])
        if code:
            raise SystemExit(f"techreform run failed with {code}")
        from techreform.config import Settings
        from techreform.periods import Period
        from techreform.reports import period_counts

        # the benchmark's own look at what the run did: timed, and taken off the chain's figures by the
        # parent (run_child), as the naive pipeline and the floor are not timed checking their results
        check_started, check_cpu = time.perf_counter(), time.process_time()
        counts = period_counts(Settings.from_env(), Period.parse(PERIOD))
        return {
            "counts": str(counts)[:200],
            CHECK_WALL: time.perf_counter() - check_started,
            CHECK_CPU: time.process_time() - check_cpu,
        }
    finally:
        from techreform.warehouse import dispose_engines

        dispose_engines()
        if database:
            _drop_database(database)
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ parent


@dataclass
class Timing:
    wall: float
    cpu: float
    rss_mib: float
    detail: str


TREE_SAMPLE_SECONDS = 0.2
"""How often run_child adds up the resident memory of a contender's processes (it and its workers)."""


def tree_rss_bytes(root: int) -> int:
    """The resident memory of process ``root`` and of its descendants now, summed (``/proc/<pid>/stat``).
    Pages two processes share count twice: an upper bound."""
    parents: dict[int, int] = {}
    resident: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()  # after the command, which may hold spaces
        except OSError:  # ended meanwhile
            continue
        pid = int(entry.name)
        parents[pid], resident[pid] = int(fields[1]), int(fields[21])  # ppid (4th field), rss (24th), pages
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(resident.get(pid, 0) for pid in tree) * os.sysconf("SC_PAGE_SIZE")


def run_child(name: str, data: Path) -> Timing:
    """Run one contender in its own process; its rusage (its own and its waited-for workers') from
    ``os.wait4``. Peak RSS: the largest of the child's own peak and the sum over its process tree sampled
    every :data:`TREE_SAMPLE_SECONDS` (``techreform run --workers 2`` is two processes at once; ``wait4``'s
    peak is only the largest single one)."""
    import threading

    env = dict(os.environ)
    started = time.perf_counter()
    handle, result = tempfile.mkstemp(prefix="bench-", suffix=".json")
    os.close(handle)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", name, "--data", str(data), "--result", result], env=env, cwd=REPO
    )
    tree_peak = [0]
    finished = threading.Event()

    def sample() -> None:
        while not finished.wait(TREE_SAMPLE_SECONDS):
            tree_peak[0] = max(tree_peak[0], tree_rss_bytes(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    finished.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    detail = Path(result).read_text(encoding="utf-8") if proc.returncode == 0 else f"FAILED rc={proc.returncode}"
    os.unlink(result)
    cpu = usage.ru_utime + usage.ru_stime
    if proc.returncode == 0:  # a child's check of its own results is not part of what it times
        reported = json.loads(detail)
        wall -= reported.pop(CHECK_WALL, 0.0)
        cpu -= reported.pop(CHECK_CPU, 0.0)
        detail = json.dumps(reported, ensure_ascii=False)
    return Timing(wall, cpu, max(usage.ru_maxrss * 1024, tree_peak[0]) / 2**20, detail)


def ensure_month(data: Path) -> None:
    if (data / "ground_truth" / "summary.json").exists():
        return
    print(f"generating a national month into {data} (once) …", flush=True)
    subprocess.run(
        [
            str(Path(sys.executable).with_name("techreform-generate")),
            "--out",
            str(data),
            "--size",
            "national",
            "--forms",
            "R1,S1,E1,P1",
        ],
        check=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO / "var" / "benchmark-national")
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCHMARK_REPEAT", "2")))
    parser.add_argument("--only", nargs="*", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = args.data.resolve()
    if args.child:
        if args.child == "floor":
            result = child_floor(data)
        elif args.child == "naive":
            result = child_naive(data)
        else:  # project-<engine>[-workers<N>]
            _, engine, *more = args.child.split("-")
            result = child_project(data, engine, int(more[0].removeprefix("workers")) if more else 1)
        args.result.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        return 0

    ensure_month(data)
    summary = json.loads((data / "ground_truth" / "summary.json").read_text(encoding="utf-8"))
    print(f"national month {PERIOD} in {data}: rows {summary.get('rows', '?')}", flush=True)
    best: dict[str, Timing] = {}
    failed: set[str] = set()
    for round_ in range(1, args.repeat + 1):
        order = args.only if round_ % 2 else list(reversed(args.only))  # alternate
        for name in order:
            timing = run_child(name, data)
            print(
                f"  round {round_} {name:<20} wall {timing.wall:7.1f} s  cpu {timing.cpu:7.1f} s  "
                f"peak RSS {timing.rss_mib:7.0f} MiB  {timing.detail[:120]}",
                flush=True,
            )
            if timing.detail.startswith("FAILED"):
                failed.add(name)
            elif name not in best or timing.wall < best[name].wall:
                best[name] = timing
    floor = best.get("floor")
    naive = best.get("naive")
    print()
    print(f"best of {args.repeat}, python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print("| pipeline | wall s | CPU s | peak RSS MiB | × floor (wall / CPU) | × naive (wall / CPU) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.only:
        if name not in best:
            print(f"| {name} | failed | | | | |")
            continue
        t = best[name]
        to_floor = f"{t.wall / floor.wall:.1f} / {t.cpu / floor.cpu:.1f}" if floor else "–"
        to_naive = f"{t.wall / naive.wall:.2f} / {t.cpu / naive.cpu:.2f}" if naive else "–"
        print(f"| {name} | {t.wall:.1f} | {t.cpu:.1f} | {t.rss_mib:.0f} | {to_floor} | {to_naive} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
