"""The monthly chain for one report period, as plain functions (the DAG runs the same steps as tasks).

Order within a period: the register (R1) and supervisors (S1) snapshots if one landed, then projects (P1),
then enterprises (E1) — E1's cross-form rule reads the period's accepted P1 rows, and both read the
register in force. Then completeness, review receipts and data docs, the quality gate, indicators,
supervision and notification."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from typing import Any

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.forms import ENTERPRISE_MONTHLY, ENTERPRISE_REGISTER, PROJECT_MONTHLY, SUPERVISORS, Form, form
from techreform.ingest import delivered_files, ingest_form_period
from techreform.load import load_form_period
from techreform.periods import Period
from techreform.reference import load_reference_tables
from techreform.warehouse import create_schema, engine_for, query

log = logging.getLogger(__name__)

FORM_ORDER: tuple[Form, ...] = (ENTERPRISE_REGISTER, SUPERVISORS, PROJECT_MONTHLY, ENTERPRISE_MONTHLY)


def prepare_warehouse(settings: Settings) -> Engine:
    """Create missing tables and (re)load the code lists. Idempotent."""
    engine = engine_for(settings.warehouse_url)
    create_schema(engine)
    with engine.begin() as conn:
        load_reference_tables(conn)
    return engine


def _periods_to_process(settings: Settings, form_: Form, period: Period) -> list[Period]:
    """The periods a run of ``period`` processes for a form: the period itself for monthly forms; for
    snapshot forms (R1, S1) every snapshot landed up to the period, so that a snapshot delivered in a
    month the pipeline did not run for is still in force."""
    if not form_.snapshot:
        return [period]
    return [p for p in landed_periods(settings, form_) if p <= period]


def ingest_step(engine: Engine, settings: Settings, form_code: str, period: Period) -> dict[str, Any]:
    """Ingest the new files of a form for the run of ``period`` (see :func:`_periods_to_process`)."""
    form_ = form(form_code)
    files = []
    for p in _periods_to_process(settings, form_, period):
        files.extend(ingest_form_period(engine, settings, form_, p).files)
    return {
        "form": form_.code,
        "period": str(period),
        "new_files": sum(1 for f in files if f.status in ("loaded", "rejected")),
        "rejected": [f.message for f in files if f.status in ("rejected", "refused")],
    }


def load_step(engine: Engine, settings: Settings, form_code: str, period: Period) -> dict[str, Any]:
    """Validate and load a form for the run of ``period``. A monthly form's period is always loaded (no
    delivery = no facts); a snapshot is loaded for its own period, and for earlier snapshot periods that
    have not been loaded yet."""
    form_ = form(form_code)
    with engine.connect() as conn:
        loaded = {row.period for row in query(conn, "load/loaded_periods", form=form_.code)}
    results = {}
    for p in _periods_to_process(settings, form_, period):
        if p == period or str(p) not in loaded:
            results[str(p)] = load_form_period(engine, settings, form_, p).as_dict()
    return {"form": form_.code, "period": str(period), "loaded": results}


def process_form(engine: Engine, settings: Settings, form_code: str, period: Period) -> dict[str, Any]:
    """Ingest then load a form for the run of ``period``; ``load`` is that period's load summary."""
    ingest = ingest_step(engine, settings, form_code, period)
    loaded = load_step(engine, settings, form_code, period)
    return {**ingest, "load": loaded["loaded"].get(str(period)), "loaded": loaded["loaded"]}


def review_period(engine: Engine, settings: Settings, period: Period) -> dict[str, Any]:
    """Completeness (报送率), review receipts (审核回执) and GX Data Docs for the period."""
    from techreform.validation.completeness import compute_completeness
    from techreform.validation.datadocs import build_data_docs
    from techreform.validation.receipts import write_receipts

    completeness = compute_completeness(engine, settings, period)
    receipts = write_receipts(engine, settings, period)
    docs = build_data_docs(engine, settings, period)
    return {"completeness": completeness, "receipts": [str(p) for p in receipts], "data_docs": str(docs)}


def quality_gate(engine: Engine, settings: Settings, period: Period) -> None:
    """Fail with :class:`~techreform.validation.gate.GateFailed` (one line, every reason) when the period's
    data cannot carry indicators and supervision: a delivery too broken, every file of a form rejected,
    zero accepted rows, a required form not delivered or no snapshot in force, completeness below the
    floor (see :mod:`techreform.validation.gate`). Runs after quarantine and receipts are written."""
    from techreform.validation.gate import check_period

    check_period(engine, settings, FORM_ORDER, period)


def run_period(settings: Settings, period: Period | str, *, smtp: Any = None, notify: bool = True,
               owner: str = "cli") -> dict[str, Any]:
    """Run the whole chain for one period, in order; what the DAG does, without Airflow.

    The period's run lock is held throughout (:func:`techreform.runlock.period_lock`: a second run of the
    period fails at once); a database error is re-raised as one line naming the warehouse and the step
    (:func:`techreform.errors.warehouse_errors`); a failed quality gate alerts the data engineers
    (:mod:`techreform.alerts`) before it is raised, and nothing is computed or e-mailed after it."""
    from techreform.errors import warehouse_errors
    from techreform.faults import fault_point
    from techreform.indicators import compute_indicators, refresh_supervision_indicators
    from techreform.runlock import period_lock
    from techreform.supervision import notify_period, supervise_period
    from techreform.validation.gate import GateFailed

    period = Period.parse(period)
    url = settings.warehouse_url
    with ExitStack() as held:
        with warehouse_errors(url, "prepare_warehouse"):
            held.enter_context(period_lock(engine_for(url), period, owner))  # before anything is written
            engine = prepare_warehouse(settings)
        summary: dict[str, Any] = {"period": str(period), "forms": {}}
        for form_ in FORM_ORDER:
            with warehouse_errors(url, f"ingest {form_.code}"):
                ingested = ingest_step(engine, settings, form_.code, period)
            fault_point("after_ingest")
            with warehouse_errors(url, f"load {form_.code}"):
                loaded = load_step(engine, settings, form_.code, period)
            summary["forms"][form_.code] = {**ingested, "load": loaded["loaded"].get(str(period)),
                                            "loaded": loaded["loaded"]}
        with warehouse_errors(url, "review"):
            summary["review"] = review_period(engine, settings, period)
        try:
            with warehouse_errors(url, "quality_gate"):
                quality_gate(engine, settings, period)
        except GateFailed as exc:
            from techreform.alerts import Alert, send_alert

            send_alert(settings, smtp, Alert("techreform run", "quality_gate", str(period), str(exc), owner))
            raise
        with warehouse_errors(url, "compute_indicators"):
            summary["indicators"] = compute_indicators(engine, settings, period)
        with warehouse_errors(url, "supervise"):
            summary["supervision"] = supervise_period(engine, settings, period)
        if notify:
            with warehouse_errors(url, "notify"):
                summary["notify"] = notify_period(engine, settings, period, smtp, owner=owner)
        with warehouse_errors(url, "refresh_supervision_indicators"):
            summary["supervision_indicators"] = refresh_supervision_indicators(engine, settings, period)
    return summary


def landed_periods(settings: Settings, form_: Form = ENTERPRISE_MONTHLY) -> list[Period]:
    """Periods with a delivery folder for a form (for backfills over what landed)."""
    folder = settings.landing_dir / form_.name
    if not folder.is_dir():
        return []
    out = []
    for child in sorted(folder.iterdir()):
        try:
            period = Period.parse(child.name)
        except ValueError:
            continue
        if delivered_files(settings, form_, period):
            out.append(period)
    return out
