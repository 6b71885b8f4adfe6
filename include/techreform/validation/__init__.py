"""Validation (审核) with Great Expectations Core 1.x between staging and the facts.

The seam with the load (``techreform.load``), per (form, period), inside the load's transaction:

1. :func:`validate_staged` runs the form's suite (``expectations/<form.name>.json``) on every staged row
   of the delivery folder's period, after :mod:`techreform.validation.derive` added helper columns for
   the cross-period, cross-form, register and Hidiroglou–Berthelot rules; it returns one failure per
   (input row, rule broken) with a Chinese message, and per rule the rows evaluated and failed.
2. The load quarantines rows with a hard failure and loads the others as ``ok``/``query``/``explained``.
3. :func:`record_results` stores the rule counts (``dq_rule_result``) and the failures with the values as
   received (``dq_row_failure``, the source of the review receipts), replacing that (form, period).

Other entry points: :func:`techreform.validation.completeness.compute_completeness`,
:func:`techreform.validation.receipts.write_receipts`, :func:`techreform.validation.gate.check_gate`,
:func:`techreform.validation.datadocs.write_data_docs`, and
:func:`techreform.validation.explanations.sync_explanations` (called by :func:`validate_staged`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from techreform.config import Settings
from techreform.forms import Form
from techreform.ingest import fill_received
from techreform.options import ValidationOptions
from techreform.periods import Period
from techreform.reference import prefecture_of_rows
from techreform.validation import derive, explanations, gx_import, outcomes, reuse, suites
from techreform.warehouse import delete_where, insert_rows, read_frame

# before any module of this package imports Great Expectations (none does at its own import)
gx_import.defer_scipy_stats()

__all__ = ["ValidationResult", "validate_staged", "record_results"]


@dataclass(frozen=True)
class ValidationResult:
    failures: pd.DataFrame
    """One row per (input row, rule broken): file_sha256, source_row, rule_id, severity (hard|soft),
    field (canonical names, comma-separated), message (Chinese), explained (bool; False for hard)."""
    rule_counts: pd.DataFrame
    """One row per rule of the suite: rule_id, severity, evaluated, failed."""
    details: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=outcomes.DETAIL_COLUMNS))
    """Aligned with ``failures`` (same index): file_name, record_key, unit_name, prefecture_code and the
    values as received (received_json), for ``dq_row_failure`` and the receipts."""
    gx_result: Any = None
    """GX's ExpectationSuiteValidationResult (for the Data Docs)."""
    check_to_keep: reuse.CheckToKeep | None = None
    """The new check not yet kept (``validate_staged(…, keep_check=False)``): the caller writes it."""


def _parameters(conn: Connection, period: Period) -> dict[str, Any]:
    divisions = read_frame(conn, "staging/reference/counties")
    industries = read_frame(conn, "staging/reference/industry_divisions")
    every_level = read_frame(conn, "staging/reference/all_divisions")
    return {
        "county_divisions": [
            [c, f if isinstance(f, str) and f else None, t if isinstance(t, str) and t else None]
            for c, f, t in zip(divisions["code"], divisions["valid_from"], divisions["valid_to"])
        ],
        "industry_divisions": [str(d) for d in industries["division"]],
        "delivery_period_set": [str(period)],
        "gansu_divisions": [
            [c, f if isinstance(f, str) and f else None, t if isinstance(t, str) and t else None]
            for c, f, t in zip(every_level["code"], every_level["valid_from"], every_level["valid_to"])
        ],
    }


def _empty_result(form: Form) -> ValidationResult:
    counts = pd.DataFrame(
        [
            {"rule_id": r.rule_id, "severity": r.severity, "evaluated": 0, "failed": 0}
            for r in suites.rules_of(form).values()
        ],
        columns=outcomes.COUNT_COLUMNS,
    )
    return ValidationResult(pd.DataFrame(columns=outcomes.FAILURE_COLUMNS), counts)


def _run_suite(form: Form, frame: pd.DataFrame, parameters: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """The form's suite on ``frame``: the failures grouped per row and rule, the rule counts, GX's result."""
    gx_result = suites.run_suite(form, frame, parameters)
    return (*outcomes.failures_from_results(frame, gx_result.results, form), gx_result)


def validate_staged(
    conn: Connection,
    settings: Settings,
    form: Form,
    period: Period,
    staged: pd.DataFrame,
    *,
    read_explanations: bool = True,
    keep_check: bool = True,
) -> ValidationResult:
    """Validate every staged row of ``form`` for the delivery folder's ``period``.

    ``staged``: the columns of ``stg_<form.name>`` plus ``file_name``, index 0..n−1. The empty
    ``raw_json`` of the rows that fail a rule are filled in ``staged`` from the raw zone
    (:func:`techreform.ingest.fill_received`). Reads the warehouse through
    ``conn`` (previous reports, register in force, P1 of the period, code lists, explanations) and
    writes only ``dim_explanation`` (from ``landing/explanations/``; with ``read_explanations`` False, the
    explanations the warehouse holds are used and nothing is written: the instant review, which may run
    beside a month's run of another period). A new check is kept in ``dq_review_check`` before this
    returns; with ``keep_check`` False it is returned unwritten (``check_to_keep``), for the caller to
    write in the same transaction (the load writes it after its own work in Python: on SQLite the first
    write takes the database's one write lock to the commit). Data Docs of the run are written
    in the store (``outputs/data_docs``, :mod:`techreform.store`). The suite is not run again on the same
    rows checked against the same context (:mod:`techreform.validation.reuse`)."""
    if form.code not in suites.SUITE_FILES:
        raise ValueError(f"no validation suite for form {form.code}")
    period = Period.parse(period)
    if staged.empty:
        return _empty_result(form)
    options = settings.options_for(ValidationOptions)
    explained: set[tuple[str, str, str]] = set()
    if explanations.soft_rules(form):
        if read_explanations:
            explanations.sync_explanations(conn, settings)
        explained = explanations.explained_keys(conn, form.code)

    frame = derive.helper_columns(conn, form, staged, period, options)
    parameters = _parameters(conn, period)

    # the same rows checked against the same context before (the instant review, an earlier run): reused
    grouped, rule_counts, gx_result, to_keep = reuse.check(
        conn, form, period, frame, parameters, options, partial(_run_suite, form, frame, parameters)
    )
    if keep_check and to_keep is not None:
        to_keep.write(conn)

    # every rule of the suite appears in the counts, in suite order
    order = list(suites.rules_of(form))
    rule_counts = rule_counts.set_index("rule_id").reindex(order).reset_index()
    rule_counts["severity"] = [suites.rules_of(form)[r].severity for r in rule_counts["rule_id"]]
    rule_counts[["evaluated", "failed"]] = rule_counts[["evaluated", "failed"]].fillna(0).astype(int)

    positions = grouped["position"].to_numpy(dtype=int)
    rows = frame.iloc[positions].reset_index(drop=True)
    # only the failing rows are needed from here on: the helper columns of every row of the period are
    # dropped now, so that they are not in memory while the raw files are read back
    del frame
    # the rows as received, for the failing rows only, read back from the raw zone (filled in the
    # caller's frame too: the load's quarantine reuses them)
    fill_received(settings, form, period, staged, positions)
    if "raw_json" in staged:
        rows["raw_json"] = staged["raw_json"].to_numpy(dtype=object)[positions]
    name_field = form.name_field
    record_keys = form.record_keys(rows)
    report_periods = rows["_period"].astype(str)
    is_soft = (grouped["severity"] == "soft").to_numpy()
    explained_flags = [
        bool(soft) and (k, p, r) in explained
        for soft, k, p, r in zip(is_soft, record_keys, report_periods, grouped["rule_id"])
    ]
    failures = pd.DataFrame(
        {
            "file_sha256": rows["file_sha256"].astype(str),
            "source_row": rows["source_row"].astype(int),
            "rule_id": grouped["rule_id"].to_numpy(),
            "severity": grouped["severity"].to_numpy(),
            "field": grouped["field"].to_numpy(),
            "message": grouped["message"].to_numpy(),
            "explained": pd.Series(explained_flags, dtype=bool),
        },
        columns=outcomes.FAILURE_COLUMNS,
    )

    region = rows["region_code"] if "region_code" in rows else pd.Series([None] * len(rows))
    file_names = (rows["file_name"] if "file_name" in rows else pd.Series([""] * len(rows))).fillna("").astype(str)
    raw = rows["raw_json"] if "raw_json" in rows else pd.Series([None] * len(rows))
    details = pd.DataFrame(
        {
            "form": form.code,
            "period": str(period),
            "file_sha256": failures["file_sha256"],
            "file_name": file_names,
            "source_row": failures["source_row"],
            "record_key": record_keys,
            "unit_name": rows[name_field].astype(object).where(rows[name_field].notna(), "").astype(str),
            "prefecture_code": prefecture_of_rows(
                region, file_names, rows.get("uscc"), region_is_prefecture=form.region_is_prefecture
            ),
            "rule_id": failures["rule_id"],
            "received_json": [
                outcomes.received_values(form, j, f, lambda name, i=i: rows.at[i, name])
                for i, (j, f) in enumerate(zip(raw.tolist(), failures["field"].tolist()))
            ],
        },
        columns=outcomes.DETAIL_COLUMNS,
    )

    result = ValidationResult(
        failures, rule_counts[outcomes.COUNT_COLUMNS], details, gx_result, None if keep_check else to_keep
    )
    if options.data_docs and gx_result is not None:  # reused results: their Data Docs were written then
        from techreform.validation.datadocs import write_data_docs

        write_data_docs(settings, form, period, result)
    return result


def record_results(conn: Connection, form: Form, period: Period, result: ValidationResult) -> None:
    """Replace the (form, period) rule counts and row failures in the warehouse."""
    period_text = str(Period.parse(period))
    delete_where(conn, "dq_rule_result", form=form.code, period=period_text)
    delete_where(conn, "dq_row_failure", form=form.code, period=period_text)
    insert_rows(
        conn,
        "dq_rule_result",
        [
            {
                "form": form.code,
                "period": period_text,
                "rule_id": r["rule_id"],
                "severity": r["severity"],
                "evaluated": int(r["evaluated"]),
                "failed": int(r["failed"]),
            }
            for r in result.rule_counts.to_dict("records")
        ],
    )
    failures = result.failures
    if failures.empty:
        return
    details = result.details.reindex(failures.index)
    rows = []
    for f, d in zip(failures.to_dict("records"), details.to_dict("records")):
        rows.append(
            {
                "form": form.code,
                "period": period_text,
                "file_sha256": f["file_sha256"],
                "file_name": d.get("file_name") if isinstance(d.get("file_name"), str) else "",
                "source_row": int(f["source_row"]),
                "record_key": d.get("record_key") if isinstance(d.get("record_key"), str) else "",
                "unit_name": d.get("unit_name") if isinstance(d.get("unit_name"), str) else "",
                "prefecture_code": d.get("prefecture_code") if isinstance(d.get("prefecture_code"), str) else "",
                "rule_id": f["rule_id"],
                "severity": f["severity"],
                "field": f["field"],
                "message": f["message"],
                "received_json": d.get("received_json") if isinstance(d.get("received_json"), str) else "{}",
                "explained": 1 if f["explained"] else 0,
            }
        )
    insert_rows(conn, "dq_row_failure", rows)
