"""Corrections recompute by themselves (更正重算): a late or corrected delivery re-runs every computed period
whose indicators depend on it.

The file log (``etl_file_log``) says what was loaded; ``ops_indicator_file`` says which of those files the
indicators have already taken into account. After a run computed its own period, :func:`recompute_corrections`
takes the loaded files not yet taken into account, finds the periods their folders' periods affect —
:func:`~techreform.indicators.compute.periods_affected_by` for a monthly or yearly form (a December, e.g. an
A1 year arriving in May or a corrected E1 December: every later period), every later period for a snapshot
(R1, G1: in force until the next) — and recomputes those that have been computed before (other than the run's
own, just computed), each in its own transaction; then it records the files as taken into account. In
ordinary month-by-month running nothing later has been computed yet, so nothing is recomputed; a rerun finds
nothing new (idempotent)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.forms import form
from techreform.indicators.compute import compute_indicators, periods_affected_by
from techreform.periods import Period
from techreform.warehouse import insert_rows, query


def affected_periods(form_code: str, corrected: Period, computed: set[Period]) -> set[Period]:
    """The computed periods whose indicators a delivery of ``form_code`` for ``corrected`` can change."""
    if not computed:
        return set()
    last = max(computed)
    if form(form_code).snapshot:
        return {p for p in computed if p >= corrected}
    return {p for p in periods_affected_by(corrected, max(last, corrected)) if p in computed}


def recompute_corrections(engine: Engine, settings: Settings, period: Period | str) -> dict[str, Any]:
    """Recompute the computed periods that loaded-but-not-yet-applied deliveries affect (see the module
    doc); returns ``{"period", "corrected": ["E1 2013-12", …], "recomputed": ["2014-01", …]}``."""
    period = Period.parse(period)
    with engine.connect() as conn:
        pending = list(query(conn, "ops/indicators/unapplied_files"))
        computed = {Period.parse(r[0]) for r in query(conn, "marts/indicators/computed_periods")}
    corrected = sorted({(r.form, r.period) for r in pending})
    todo: set[Period] = set()
    for form_code, folder in corrected:
        todo |= affected_periods(form_code, Period.parse(folder), computed)
    todo.discard(period)  # computed by this run's compute step
    for p in sorted(todo):
        compute_indicators(engine, settings, p)
    with engine.begin() as conn:
        insert_rows(
            conn,
            "ops_indicator_file",
            [
                {"form": r.form, "period": r.period, "file_sha256": r.file_sha256, "applied_in": str(period)}
                for r in pending
            ],
        )
    return {
        "period": str(period),
        "corrected": [f"{f} {p}" for f, p in corrected],
        "recomputed": [str(p) for p in sorted(todo)],
    }
