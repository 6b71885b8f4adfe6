"""``techreform``: run report periods without Airflow (bulk history, checks) and print what happened.

    techreform run --from 2014-01 --to 2014-12 [--no-notify]
    techreform summary --period 2015-12
    techreform extract --period 2015-12

Settings come from the environment, as in the DAG (see :mod:`techreform.config`). Errors that people
can act on (a broken delivery, an unreachable mail server) are printed as one message, not a traceback."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from techreform.config import Settings
from techreform.periods import Period, period_range


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="techreform", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the monthly chain for each period of a range, in order")
    run.add_argument("--from", dest="first", required=True, help="first period, YYYY-MM")
    run.add_argument("--to", dest="last", required=True, help="last period, YYYY-MM")
    run.add_argument("--only", nargs="*", default=None, help="run only these periods of the range")
    run.add_argument("--no-notify", action="store_true", help="compute supervision but send or write no e-mail")
    summary = sub.add_parser("summary", help="rows received, accepted and quarantined per form and prefecture")
    summary.add_argument("--period", required=True)
    extract = sub.add_parser("extract", help="write the statistics bureau's extract of a period (a new revision if changed)")
    extract.add_argument("--period", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    settings = Settings.from_env()
    if args.command == "summary":
        from techreform.reports import format_counts, period_counts

        print(format_counts(period_counts(settings, Period.parse(args.period))))
        return 0
    if args.command == "extract":
        return _extract(settings, args.period)
    from techreform.pipeline import run_period

    periods = period_range(args.first, args.last)
    if args.only:
        wanted = {str(Period.parse(p)) for p in args.only}
        periods = [p for p in periods if str(p) in wanted]
    for period in periods:
        started = time.perf_counter()
        try:
            result = run_period(settings, period, notify=not args.no_notify)
        except Exception as exc:  # one line a person can act on; the traceback is for --debug runs
            print(f"{period}: failed: {exc}", file=sys.stderr)
            return 1
        forms = result["forms"]
        parts = []
        for code in ("E1", "P1"):
            load = forms.get(code, {}).get("load")
            if load:
                parts.append(f"{code} {load['received']} rows, {load['quarantined']} quarantined")
        print(f"{period}: {'; '.join(parts) or 'no deliveries'} ({time.perf_counter() - started:.1f}s)")
    return 0


def _extract(settings: Settings, period: str) -> int:
    """``techreform extract``: one line saying which revision is current and whether it is new."""
    from techreform.extracts import extract_period
    from techreform.warehouse import engine_for

    try:
        result = extract_period(engine_for(settings.warehouse_url), settings, Period.parse(period))
    except Exception as exc:  # one line a person can act on
        print(f"{period}: extract failed: {exc}", file=sys.stderr)
        return 1
    state = "written" if result["written"] else "unchanged, nothing written"
    print(f"{result['period']}: r{result['revision']} {state}: {result['location']} "
          f"(manifest sha256 {result['manifest_sha256']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
