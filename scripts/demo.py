"""``make demo``: the pipeline end to end on the embedded default (SQLite warehouse, SQLite Airflow metadata).

1. Generates the sample province (Gansu, 2010-01..2015-12) into ``<data-dir>/landing``.
2. Loads the history the indicators need (each December since 2010, and the months of the previous and
   current year before the demo months) with the same functions the DAG calls, without Airflow.
3. Runs the monthly DAG through Airflow (``airflow dags test``) for the last demo months, as a scheduler
   would: one run per data interval.
4. Prints, per form and prefecture, rows received / accepted / quarantined for those months, the province's
   headline indicators against their targets, and where the outputs are (outbox, receipts, data docs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "demo")
    parser.add_argument(
        "--airflow-months",
        nargs="+",
        default=["2015-10", "2015-11", "2015-12"],
        help="periods run through Airflow (the rest is loaded as history)",
    )
    parser.add_argument("--keep", action="store_true", help="keep an existing demo folder (re-run in place)")
    args = parser.parse_args()
    data_dir: Path = args.data_dir.resolve()
    if data_dir.exists() and not args.keep:
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)

    env = dict(os.environ)
    env.update(
        {
            "TECHREFORM_DATA_DIR": str(data_dir),
            # the Airflow tasks need an explicit warehouse (never a silent default): the embedded SQLite file
            "TECHREFORM_WAREHOUSE_URL": f"sqlite:///{data_dir / 'warehouse.sqlite'}",
            "AIRFLOW_HOME": str(data_dir / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{data_dir / 'airflow' / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    os.environ.update(env)
    started = time.perf_counter()

    from techreform.periods import Period, period_range

    airflow_periods = [Period.parse(p) for p in args.airflow_months]
    first_airflow = min(airflow_periods)
    history = sorted(
        {Period(y, 12) for y in range(2010, first_airflow.year - 1)}
        | set(period_range(Period(first_airflow.year - 1, 1), first_airflow.previous))
    )

    _step("1. Sample province: generating landing files (Gansu, 2010-01..2015-12)")
    subprocess.run([str(BIN / "techreform-generate"), "--out", str(data_dir)], check=True, env=env)

    _step(f"2. History: {len(history)} periods ({history[0]}..{history[-1]}) loaded without Airflow")
    subprocess.run(
        [
            str(BIN / "techreform"),
            "run",
            "--from",
            str(history[0]),
            "--to",
            str(history[-1]),
            "--only",
            *map(str, history),
            "--no-notify",
        ],
        check=True,
        env=env,
    )

    _step("3. Airflow: the monthly DAG, one run per month " + ", ".join(map(str, airflow_periods)))
    (data_dir / "airflow").mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], check=True, env=env, stdout=subprocess.DEVNULL)
    for period in airflow_periods:
        run_after = period.next.first_day().isoformat() + "T00:00:00+08:00"  # the run that closes the month
        log_file = data_dir / "airflow" / f"dags_test_{period}.log"
        with open(log_file, "w", encoding="utf-8") as handle:
            result = subprocess.run(
                [str(BIN / "airflow"), "dags", "test", "techreform_monthly", run_after],
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        state = "success" if result.returncode == 0 else f"FAILED (exit {result.returncode}, see {log_file})"
        print(f"   {period}: DAG run {state}")
        if result.returncode != 0:
            return result.returncode

    _step("4. What happened")
    from techreform import labels
    from techreform.config import Settings
    from techreform.indicators import headline_table
    from techreform.reports import format_counts, period_counts, quarantine_lines
    from techreform.warehouse import engine_for

    settings = Settings.from_env()
    for period in airflow_periods:
        print(f"\n-- {period.label_zh}: rows per form and prefecture")
        print(format_counts(period_counts(settings, period)))
        lines = quarantine_lines(settings, period)
        print(f"   {len(lines)} rows quarantined, for example:")
        for line in lines[:4]:
            print(f"   {line}")
    last = max(airflow_periods)
    print(f"\n-- {last.label_zh}: the province's headline indicators against the policy's targets")
    table = headline_table(engine_for(settings.warehouse_url), last)
    with __import__("pandas").option_context(
        "display.width", 160, "display.max_columns", 12, "display.unicode.east_asian_width", True
    ):
        shown = table.astype(object).where(table.notna(), "—")
        # an indicator without data says 无数据 (its status label), never a number
        shown.loc[table["value"].isna(), "value"] = labels.INDICATOR_STATUS_ZH["no_data"]
        print(shown.to_string(index=False))
    outbox = settings.output_dir / "outbox"
    emails = sorted(outbox.rglob("*.eml")) if outbox.exists() else []
    print("\n-- Outputs")
    print(f"   warehouse (SQLite): {settings.warehouse_url}")
    print(f"   landing files:      {settings.landing_dir}")
    print(f"   raw zone:           {settings.raw_dir}")
    print(f"   review receipts:    {settings.output_dir / 'receipts'}")
    print(f"   GX data docs:       {settings.output_dir / 'data_docs'}")
    print(f"   e-mails (outbox):   {outbox}  ({len(emails)} .eml files)")
    extracts = settings.output_dir / "extracts"
    manifests = sorted(extracts.glob("*/r*/manifest.json")) if extracts.exists() else []
    print(f"   bureau extracts:    {extracts}  ({len(manifests)} revisions with a manifest)")
    print(f"   Airflow logs:       {data_dir / 'airflow'}")
    print(f"\nDemo finished in {time.perf_counter() - started:.0f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
