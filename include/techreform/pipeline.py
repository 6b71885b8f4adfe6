"""The functions of the monthly chain's steps (their order and wiring: :mod:`techreform.steps`).

Each step function takes a :class:`~techreform.steps.RunContext` and returns a small summary; the
building blocks below them (:func:`ingest_step`, :func:`load_step`, :func:`process_form`, …) take an
engine, settings and a period, for tests and tools that run one part of the chain."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.forms import ENTERPRISE_MONTHLY, PROCESSING_ORDER, Form, form
from techreform.ingest import delivered_files, ingest_form_period
from techreform.load import load_form_period
from techreform.periods import Period
from techreform.reference import load_reference_tables
from techreform.steps import RunContext
from techreform.warehouse import create_schema, engine_for, query

log = logging.getLogger(__name__)


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
    month the pipeline did not run for is still in force; likewise for a form whose files may land late
    (:attr:`~techreform.forms.Form.late_deliveries`, A1: last year's file arriving in May)."""
    if not form_.snapshot and not form_.late_deliveries:
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
    have not been loaded yet; a form with late deliveries (A1) also reloads an earlier period that received
    a file since it was loaded."""
    form_ = form(form_code)
    with engine.connect() as conn:
        loaded = {row.period for row in query(conn, "staging/files/loaded_periods", form=form_.code)}
        changed = {row.period for row in query(conn, "staging/files/periods_with_unloaded_files", form=form_.code)}
    results = {}
    for p in _periods_to_process(settings, form_, period):
        if p == period or str(p) not in loaded or (form_.late_deliveries and str(p) in changed):
            results[str(p)] = load_form_period(engine, settings, form_, p).as_dict()
    return {"form": form_.code, "period": str(period), "loaded": results}


def process_form(engine: Engine, settings: Settings, form_code: str, period: Period) -> dict[str, Any]:
    """Ingest then load a form for the run of ``period``; ``load`` is that period's load summary."""
    ingest = ingest_step(engine, settings, form_code, period)
    loaded = load_step(engine, settings, form_code, period)
    return {**ingest, "load": loaded["loaded"].get(str(period)), "loaded": loaded["loaded"]}


def review_period(engine: Engine, settings: Settings, period: Period) -> dict[str, Any]:
    """Completeness (报送率: E1's, and Q1's of its earlier reporters), review receipts (审核回执) and GX Data
    Docs for the period: :func:`completeness_of_period`, then :func:`receipts_of_period` (the steps
    ``review`` and ``write_receipts``)."""
    return {**completeness_of_period(engine, settings, period), **receipts_of_period(engine, settings, period)}


def completeness_of_period(engine: Engine, settings: Settings, period: Period) -> dict[str, Any]:
    """Completeness (报送率) of the period: E1's, and each form's of its earlier reporters (Q1), what the
    quality gate judges and the receipts list as 缺报."""
    from techreform.forms import FORMS
    from techreform.validation.completeness import compute_completeness, compute_form_completeness

    return {
        "completeness": compute_completeness(engine, settings, period),
        "form_completeness": {
            f.code: compute_form_completeness(engine, settings, f, period)
            for f in FORMS.values()
            if f.expected_reporters == "previous_reporters"
        },
    }


def receipts_of_period(engine: Engine, settings: Settings, period: Period) -> dict[str, Any]:
    """The review receipts (审核回执) of the period per prefecture (after its completeness) and the GX Data
    Docs."""
    from techreform.validation.datadocs import build_data_docs
    from techreform.validation.receipts import write_receipts

    receipts = write_receipts(engine, settings, period)
    docs = build_data_docs(engine, settings, period)
    return {"receipts": [str(p) for p in receipts], "data_docs": str(docs)}


def quality_gate(engine: Engine, settings: Settings, period: Period) -> None:
    """Fail with :class:`~techreform.validation.gate.GateFailed` (one line, every reason) when the period's
    data cannot carry indicators and supervision: a delivery too broken, every file of a form rejected,
    zero accepted rows, a required form not delivered or no snapshot in force, completeness below the
    floor (see :mod:`techreform.validation.gate`). Runs after quarantine and completeness are written."""
    from techreform.validation.gate import check_period

    check_period(engine, settings, PROCESSING_ORDER, period)


def prepare(ctx: RunContext) -> dict[str, Any]:
    """Step ``prepare_warehouse``: create missing tables, load the code lists."""
    prepare_warehouse(ctx.settings)
    return {"period": str(ctx.period)}


def ingest_form(ctx: RunContext, form_code: str) -> dict[str, Any]:
    """Steps ``ingest_<form>``: the new files of the form (see :func:`ingest_step`)."""
    return ingest_step(ctx.engine, ctx.settings, form_code, ctx.period)


def validate_load_form(ctx: RunContext, form_code: str) -> dict[str, Any]:
    """Steps ``validate_load_<form>``: validate and load the form (see :func:`load_step`); ``load`` is the
    run period's load summary."""
    loaded = load_step(ctx.engine, ctx.settings, form_code, ctx.period)
    return {**loaded, "load": loaded["loaded"].get(str(ctx.period))}


def review(ctx: RunContext) -> dict[str, Any]:
    """Step ``review``: completeness (see :func:`completeness_of_period`)."""
    return completeness_of_period(ctx.engine, ctx.settings, ctx.period)


def receipts(ctx: RunContext) -> dict[str, Any]:
    """Step ``write_receipts``: the receipts and Data Docs (see :func:`receipts_of_period`; their count and
    path only)."""
    result = receipts_of_period(ctx.engine, ctx.settings, ctx.period)
    return {"receipts": len(result["receipts"]), "data_docs": result["data_docs"]}


def send_receipts(ctx: RunContext) -> dict[str, Any]:
    """Step ``send_receipts``: the receipts to the statistics contacts, exactly once per content."""
    from techreform.validation.receipt_emails import send_receipts as send

    return send(ctx.engine, ctx.settings, ctx.period, ctx.smtp, owner=ctx.owner)


def gate(ctx: RunContext) -> dict[str, Any]:
    """Step ``quality_gate`` (see :func:`quality_gate`)."""
    quality_gate(ctx.engine, ctx.settings, ctx.period)
    return {"period": str(ctx.period), "passed": True}


def indicators(ctx: RunContext) -> dict[str, Any]:
    """Step ``compute_indicators``."""
    from techreform.indicators import compute_indicators

    return compute_indicators(ctx.engine, ctx.settings, ctx.period)


def recompute_corrections(ctx: RunContext) -> dict[str, Any]:
    """Step ``recompute_corrected_periods``: late and corrected deliveries recompute the periods they affect
    (:mod:`techreform.indicators.corrections`)."""
    from techreform.indicators.corrections import recompute_corrections as recompute

    return recompute(ctx.engine, ctx.settings, ctx.period)


def supervise(ctx: RunContext) -> dict[str, Any]:
    """Step ``supervise``: lights and cases."""
    from techreform.supervision import supervise_period

    return supervise_period(ctx.engine, ctx.settings, ctx.period)


def notify(ctx: RunContext) -> dict[str, Any]:
    """Step ``notify``: the exactly-once e-mails, through ``ctx.smtp`` (or the outbox)."""
    from techreform.supervision import notify_period

    return notify_period(ctx.engine, ctx.settings, ctx.period, ctx.smtp, owner=ctx.owner)


def refresh_supervision(ctx: RunContext) -> dict[str, Any]:
    """Step ``refresh_supervision_indicators``: PROJECT_RED after supervision."""
    from techreform.indicators import refresh_supervision_indicators

    return refresh_supervision_indicators(ctx.engine, ctx.settings, ctx.period)


def monthly_report(ctx: RunContext) -> dict[str, Any]:
    """Step ``monthly_report``: the period's 统计监测月报 (HTML and PDF; the same files on a re-run)."""
    from techreform.report import write_monthly_report

    return write_monthly_report(ctx.engine, ctx.settings, ctx.period)


def extract(ctx: RunContext) -> dict[str, Any]:
    """Step ``extract``: the bureau's extract of the period (a new revision only if its content changed)."""
    from techreform.extracts import extract_period

    return extract_period(ctx.engine, ctx.settings, ctx.period, smtp=ctx.smtp)


def summarise(ctx: RunContext) -> list[dict]:
    """Step ``summarise``: rows received / accepted / quarantined per form and prefecture, logged."""
    from techreform.reports import log_period_summary

    return log_period_summary(ctx.settings, ctx.period)


def landed_periods(settings: Settings, form_: Form = ENTERPRISE_MONTHLY) -> list[Period]:
    """Periods with a delivery folder for a form (for backfills over what landed)."""
    from techreform.store import list_folders, store_of

    out = []
    for child in list_folders(store_of(settings).landing / form_.name):
        try:
            period = Period.parse(child.name)
        except ValueError:
            continue
        if delivered_files(settings, form_, period):
            out.append(period)
    return out
