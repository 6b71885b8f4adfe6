"""``techreform``: run report periods without Airflow (bulk history, checks) and print what happened.

    techreform run --from 2014-01 --to 2014-12 [--no-notify] [--workers 2]
    techreform summary --period 2015-12
    techreform extract --period 2015-12

Settings come from the environment, as in the DAG (see :mod:`techreform.config`); e-mail goes through the
same Airflow connection ``techreform_smtp`` as in the DAG (e.g. ``AIRFLOW_CONN_TECHREFORM_SMTP``), and
without one to the ``.eml`` outbox. Errors that people can act on (a broken delivery, a failed quality
gate, an unreachable mail server, a lost warehouse connection, another run of the period) are printed as
one line, not a traceback."""

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
    run.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="processes for the steps the DAG runs side by side (the forms' ingests, the register's "
        "validation beside the enterprises' ingest); default 1: one step after the other",
    )
    summary = sub.add_parser("summary", help="rows received, accepted and quarantined per form and prefecture")
    summary.add_argument("--period", required=True)
    extract = sub.add_parser(
        "extract", help="write the statistics bureau's extract of a period (a new revision if changed)"
    )
    extract.add_argument("--period", required=True)
    return parser


def _positive(text: str) -> int:
    """A whole number ≥ 1 (``--workers``)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _owner() -> str:
    """Who this run is, for the period lock and the e-mail claims: ``cli-<random>``."""
    import secrets

    return f"cli-{secrets.token_hex(4)}"


def _quiet_logging() -> None:
    """Warnings and errors only, on stderr (libraries such as GX set some of their loggers to INFO)."""
    from techreform.logs import quiet_libraries

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)
    for handler in logging.root.handlers:
        handler.setLevel(logging.WARNING)
    quiet_libraries()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _quiet_logging()
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # the configuration file: one line naming the file, section and key
        print(f"settings: {exc}", file=sys.stderr)
        return 1
    if args.command == "summary":
        from techreform.reports import format_counts, period_counts

        print(format_counts(period_counts(settings, Period.parse(args.period))))
        return 0
    if args.command == "extract":
        return _extract(settings, args.period)
    from techreform.alerts import alert_recipients
    from techreform.errors import one_line
    from techreform.steps import run_period
    from techreform.supervision.mailer import smtp_config_from_airflow

    # the connection is looked up (through Airflow, as in the DAG) only when something may be e-mailed
    smtp = smtp_config_from_airflow() if not args.no_notify or alert_recipients(settings) else None
    _quiet_logging()  # importing Airflow installs its own logging; the CLI prints warnings only
    periods = period_range(args.first, args.last)
    if args.only:
        wanted = {str(Period.parse(p)) for p in args.only}
        periods = [p for p in periods if str(p) in wanted]
    for period in periods:
        started = time.perf_counter()
        try:
            result = run_period(
                settings, period, smtp=smtp, notify=not args.no_notify, owner=_owner(), workers=args.workers
            )
        except Exception as exc:  # one line a person can act on
            print(f"{period}: failed: {one_line(exc)}", file=sys.stderr)
            return 1
        parts = []
        for code, step in (("E1", "validate_load_enterprises"), ("P1", "validate_load_projects")):
            load = result.get(step, {}).get("load")
            if load:
                parts.append(f"{code} {load['received']} rows, {load['quarantined']} quarantined")
        print(f"{period}: {'; '.join(parts) or 'no deliveries'} ({time.perf_counter() - started:.1f}s)")
    return 0


def _extract(settings: Settings, period: str) -> int:
    """``techreform extract``: one line saying which revision is current and whether it is new."""
    from techreform.errors import one_line
    from techreform.extracts import extract_period
    from techreform.warehouse import engine_for

    try:
        result = extract_period(engine_for(settings.warehouse_url), settings, Period.parse(period))
    except Exception as exc:  # one line a person can act on
        print(f"{period}: extract failed: {one_line(exc)}", file=sys.stderr)
        return 1
    state = "written" if result["written"] else "unchanged, nothing written"
    print(
        f"{result['period']}: r{result['revision']} {state}: {result['location']} "
        f"(manifest sha256 {result['manifest_sha256']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
