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


def _snapshot_ever_received(engine: Engine, form_: Form, period: Period) -> bool:
    with engine.connect() as conn:
        return bool(query(conn, "ingest/file_log_for_period", form=form_.code, period=str(period)).first())


def process_form(engine: Engine, settings: Settings, form_code: str, period: Period) -> dict[str, Any]:
    """Ingest new files of a form and period, then validate and load the period. Snapshot forms (R1, S1)
    are loaded only for periods in which a snapshot was delivered: the previous one stays in force."""
    form_ = form(form_code)
    ingest = ingest_form_period(engine, settings, form_, period)
    if form_.snapshot and not ingest.files and not _snapshot_ever_received(engine, form_, period):
        return {"form": form_.code, "period": str(period), "skipped": "no snapshot delivered for this period"}
    loaded = load_form_period(engine, settings, form_, period)
    return {"form": form_.code, "period": str(period), "ingest": ingest.as_dict(), "load": loaded.as_dict()}


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
