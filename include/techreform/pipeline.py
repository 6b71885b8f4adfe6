"""The monthly chain for one report period, as plain functions (the DAG runs the same steps as tasks).

Order within a period: the register (R1) and supervisors (S1) snapshots if one landed, then projects (P1),
then enterprises (E1) — E1's cross-form rule reads the period's accepted P1 rows, and both read the
register in force. Then completeness, review receipts and data docs, the quality gate, indicators,
supervision and notification."""

from __future__ import annotations

import logging
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
GATED_FORMS: tuple[Form, ...] = (ENTERPRISE_REGISTER, PROJECT_MONTHLY, ENTERPRISE_MONTHLY)


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
    """Fail loudly if a form's delivery is too broken (after quarantine and receipts are written)."""
    from techreform.validation.gate import check_gate

    for form_ in GATED_FORMS:
        check_gate(engine, settings, form_, period)


def run_period(settings: Settings, period: Period | str, *, smtp: Any = None, notify: bool = True) -> dict[str, Any]:
    """Run the whole chain for one period, in order; what the DAG does, without Airflow."""
    from techreform.indicators import compute_indicators, refresh_supervision_indicators
    from techreform.supervision import notify_period, supervise_period

    period = Period.parse(period)
    engine = prepare_warehouse(settings)
    summary: dict[str, Any] = {"period": str(period), "forms": {}}
    for form_ in FORM_ORDER:
        summary["forms"][form_.code] = process_form(engine, settings, form_.code, period)
    summary["review"] = review_period(engine, settings, period)
    quality_gate(engine, settings, period)
    summary["indicators"] = compute_indicators(engine, settings, period)
    summary["supervision"] = supervise_period(engine, settings, period)
    if notify:
        summary["notify"] = notify_period(engine, settings, period, smtp)
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
