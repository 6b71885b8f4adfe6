"""One run of the delivery DAG: review every pending delivery and tell its sender.

For each (form, period) with pending landing entries (:mod:`techreform.delivery.watch`), holding the
period's run lock (a month's run of that period at work: the period is left pending and taken by a
later delivery run):

1. ingestion exactly as the month's run does it (:func:`techreform.ingest.ingest_form_period`: raw zone,
   file log, staging, refusal of unreadable, hostile or over-limit files with one line);
2. the check of the period's staged rows with the form's suite against the warehouse as it stands
   (:func:`techreform.validation.validate_staged`: earlier periods, the register in force, explanations),
   the row outcomes the load would decide (:func:`techreform.load.decide_outcomes`: latest delivery wins)
   — nothing is written to the facts, quarantine or row outcomes: **only the month's run writes facts**;
   the check's results are kept (``dq_review_check``) and the month's run reuses them while the rows and
   what they were checked against are unchanged (:mod:`techreform.validation.reuse`);
3. the receipt of each delivering prefecture, and a receipt for each refused file, e-mailed exactly once
   (:mod:`techreform.delivery.receipt`);
4. the entries recorded as reviewed (``dlv_landing_seen``) once their receipts are delivered; if an
   e-mail could not be delivered the run fails, the entries stay pending and a retry sends what is
   missing (the e-mail log sends nothing twice).

Forms checked by rules outside Great Expectations (S1) are ingested and their refused files answered;
their rows are reviewed by the month's run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.delivery import receipt as receipts
from techreform.delivery.watch import LandedEntry, mark_seen, pending_entries
from techreform.errors import one_line
from techreform.forms import FORMS, PROCESSING_ORDER, Form
from techreform.ingest import IngestSummary, ingest_form_period
from techreform.load import decide_outcomes, read_staged
from techreform.periods import Period
from techreform.runlock import PeriodBusy, period_lock
from techreform.supervision.mailer import EmailDeliveryFailed
from techreform.supervision.notify import deliver_messages
from techreform.validation.receipts import statistics_contacts
from techreform.warehouse import query

log = logging.getLogger(__name__)

STEP = "delivery_review"
"""The step name under which a delivery run holds a period (:func:`techreform.runlock.period_lock`)."""


class DeliveryReviewFailed(RuntimeError):
    """Some (form, period) could not be reviewed; the others were. One line per failed one."""

    def __init__(self, broken: list[str]) -> None:
        self.broken = broken
        super().__init__(f"{len(broken)} delivery review(s) failed, files left pending: " + "; ".join(broken))


def _form_by_code(code: str) -> Form:
    return next(f for f in FORMS.values() if f.code == code)


def review_deliveries(engine: Engine, settings: Settings, smtp: Any = None, *, owner: str = "delivery") -> dict:
    """Review every pending delivery (see the module); returns small counts per (form, period).

    One (form, period) that fails does not stop the others: each is reviewed, then the run fails with
    :class:`DeliveryReviewFailed` naming every one that failed (its entries stay pending and the retry
    takes them), or :class:`EmailDeliveryFailed` when only receipts stayed undelivered."""
    pending = pending_entries(engine, settings)
    groups: dict[tuple[str, str], list[LandedEntry]] = defaultdict(list)
    for entry in pending:
        groups[(entry.form, entry.period)].append(entry)
    order = {f.code: i for i, f in enumerate(PROCESSING_ORDER)}
    results: list[dict[str, Any]] = []
    failures: list[tuple[str, str]] = []
    broken: list[str] = []
    for (code, period), entries in sorted(groups.items(), key=lambda kv: (kv[0][1], order.get(kv[0][0], 99))):
        form = _form_by_code(code)
        try:
            with period_lock(engine, period, owner, step=STEP):
                result = review_form_period(engine, settings, form, Period.parse(period), entries, smtp, owner=owner)
        except PeriodBusy as exc:
            log.warning("%s %s: left pending, the period is held: %s", code, period, exc)
            results.append({"form": code, "period": period, "busy": str(exc)})
            continue
        except Exception as exc:  # noqa: BLE001 - one group's failure must not keep the others unanswered
            log.exception("%s %s: the review failed; its files stay pending", code, period)
            broken.append(f"{code} {period}: {one_line(exc)}")
            results.append({"form": code, "period": period, "error": one_line(exc)})
            continue
        failures += result.pop("failures")
        results.append(result)
    summary = {"pending": len(pending), "reviewed": results}
    log.info("delivery review: %s", summary)
    if broken:
        raise DeliveryReviewFailed(broken)
    if failures:
        raise EmailDeliveryFailed("delivery", failures)
    return summary


def review_form_period(
    engine: Engine,
    settings: Settings,
    form: Form,
    period: Period,
    entries: list[LandedEntry],
    smtp: Any = None,
    *,
    owner: str = "delivery",
) -> dict[str, Any]:
    """Ingest, check and answer the pending ``entries`` of one form and period (see the module)."""
    summary: IngestSummary = ingest_form_period(engine, settings, form, period)
    outcomes = {f.file_name: (f.status, f.sha256) for f in summary.files}
    names = {e.name for e in entries}
    mine = [f for f in summary.files if f.file_name in names]
    with engine.connect() as conn:
        logged = {
            r.file_sha256: r.status
            for r in query(conn, "staging/files/file_log_for_period", form=form.code, period=str(period))
        }
        decided = {r.file_sha256 for r in query(conn, "ops/reviews/decided_files", form=form.code, period=str(period))}
    # bytes received before count as they were received (a refused file stays refused: its receipt is
    # sent once); a file a month's run already decided is answered by the month's receipt
    refused = [
        (f.file_name, f.sha256, f.message)
        for f in mine
        if f.status in ("rejected", "refused") or (f.status == "unchanged" and logged.get(f.sha256) == "rejected")
    ]
    accepted = [
        f
        for f in mine
        if f.status == "loaded"
        or (f.status == "unchanged" and logged.get(f.sha256) == "loaded" and f.sha256 not in decided)
    ]
    contacts = statistics_contacts(engine, settings, period)
    result: dict[str, Any] = {
        "form": form.code,
        "period": str(period),
        "files": len(mine),
        "refused": len(refused),
        "receipts": 0,
        "failures": [],
    }
    outgoing = []
    email = receipts.email_enabled(settings)
    sender = receipts.sender(smtp, settings) if email else ""
    deliverers = sorted({d for f in accepted if (d := receipts.deliverer_of(f.file_name))})
    if accepted and form.checks == "great_expectations":
        items = check_period(engine, settings, form, period)
        found = receipts.delivery_receipts(engine, settings, form, period, items, deliverers, contacts)
        result["receipts"] = len(found)
        if email:
            messages, uncontacted = receipts.receipt_messages(settings, form, period, found, contacts, sender)
            outgoing += messages
            result["uncontacted_prefectures"] = uncontacted
    if refused and email:
        messages, unanswered = receipts.refusal_messages(engine, settings, form, period, refused, contacts, sender)
        outgoing += messages
        result["unanswered_refusals"] = unanswered
    if outgoing:
        delivered = deliver_messages(engine, settings, period, outgoing, smtp, owner=owner)
        result["failures"] = delivered.pop("failures")
        result["emails"] = {k: v for k, v in delivered.items() if k in ("sent", "unchanged", "corrections", "unsent")}
    if not result["failures"]:
        mark_seen(engine, entries, outcomes)
    return result


def check_period(engine: Engine, settings: Settings, form: Form, period: Period):
    """Check the period's staged rows of ``form`` as the load does, without writing facts; returns the
    receipt items (:func:`techreform.delivery.receipt.review_items`). The check's results are kept for
    reuse (``dq_review_check``). The explanations are those the warehouse holds (the month's run reads
    the explanations folders): nothing shared with a month's run of another period is rewritten, and the
    transaction writes only at its end (SQLite's write lock is not held through the suite)."""
    from techreform.validation import validate_staged

    p = str(period)
    with engine.begin() as conn:
        staged, unparsed = read_staged(conn, form, p)
        result = validate_staged(conn, settings, form, period, staged, read_explanations=False)
    rows = decide_outcomes(form, staged, unparsed, result.failures)
    return receipts.review_items(form, period, rows, result, unparsed)


def review_as_task() -> dict:
    """The DAG ``techreform_delivery``'s task: the task's settings and SMTP connection
    (``techreform_smtp``; none: the outbox), the run as owner of the periods it reviews."""
    from techreform.airflow_support import run_owner, settings_for_task
    from techreform.logs import quiet_libraries
    from techreform.memory import memory_given_back
    from techreform.pipeline import prepare_warehouse
    from techreform.supervision.mailer import smtp_config_from_airflow

    quiet_libraries()
    settings = settings_for_task()
    engine = prepare_warehouse(settings)  # the tables and code lists, as the month's first step
    with memory_given_back():
        return review_deliveries(engine, settings, smtp_config_from_airflow(), owner=run_owner())
