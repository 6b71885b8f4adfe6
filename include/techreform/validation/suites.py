"""The expectation suites (``expectations/*.json``) and running them with GX Core 1.x.

Suites are data: one GX 1.x ExpectationSuite JSON per form, each expectation carrying in its ``meta``
the rule id, the severity (hard = 强制性, soft = 核实性), the canonical fields it judges and a Chinese
message template. They run in an ephemeral GX context on a pandas datasource over the staged frame,
with ``result_format`` COMPLETE so that every failing row index comes back.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from techreform.config import EXPECTATIONS_DIR
from techreform.forms import Form

SUITE_FILES = {
    "E1": "enterprise_monthly.json",
    "P1": "project_monthly.json",
    "R1": "enterprise_register.json",
    "A1": "enterprise_annual.json",
    "Q1": "product_output.json",
    "G1": "programme_registry.json",
}
RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 20, "return_unexpected_index_query": False}


@dataclass(frozen=True)
class RuleSpec:
    rule_id: str
    severity: str  # hard | soft


def suite_path(form: Form) -> Path:
    return EXPECTATIONS_DIR / SUITE_FILES[form.code]


@cache
def _suite_json(path: Path, mtime: float) -> str:
    return path.read_text(encoding="utf-8")


def suite_dict(form: Form) -> dict[str, Any]:
    """The suite of ``form`` as a dict (re-read when the file changes)."""
    path = suite_path(form)
    return json.loads(_suite_json(path, path.stat().st_mtime))


def rules_of(form: Form) -> dict[str, RuleSpec]:
    """Every rule id the suite of ``form`` enforces, in suite order."""
    rules: dict[str, RuleSpec] = {}
    for expectation in suite_dict(form)["expectations"]:
        meta = expectation["meta"]
        rules.setdefault(meta["rule_id"], RuleSpec(meta["rule_id"], meta["severity"]))
    return rules


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def rule_text_zh(meta: dict[str, Any]) -> str:
    """The Chinese text of one expectation's rule for a reader (Data Docs, the monitoring view): its
    ``meta.text_zh`` when the suite gives one, else its message template ``meta.message_zh`` with every
    value slot shown as “…” (``{_row_fields}`` as 相关字段)."""
    if meta.get("text_zh"):
        return str(meta["text_zh"])
    template = str(meta.get("message_zh") or meta.get("check") or meta.get("rule_id") or "")
    return _PLACEHOLDER.sub(lambda m: "相关字段" if m.group(1) == "_row_fields" else "…", template)


def rule_texts_zh(form: Form) -> dict[str, str]:
    """Rule id → its Chinese text (:func:`rule_text_zh`); a rule of several expectations joins their
    distinct texts with “；”."""
    texts: dict[str, list[str]] = {}
    for expectation in suite_dict(form)["expectations"]:
        meta = expectation["meta"]
        text = rule_text_zh(meta)
        if text not in texts.setdefault(meta["rule_id"], []):
            texts[meta["rule_id"]].append(text)
    return {rule: "；".join(parts) for rule, parts in texts.items()}


def _quiet_gx() -> None:
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run_suite(form: Form, frame: pd.DataFrame, parameters: dict[str, Any], severities: tuple[str, ...] | None = None):
    """Validate ``frame`` against the form's suite; returns the GX ``ExpectationSuiteValidationResult``,
    its results in the suite's order.

    ``severities``: only the expectations of these severities (``("hard",)`` for the benchmark).

    Each expectation is validated on a batch of only the columns it reads (:func:`columns_of`): GX takes
    the rows of a row condition (and again the unexpected rows) from every column of its batch, so one
    batch of all the columns the suite reads made each such expectation copy some thirty columns of every
    row. On a national month's E1 frame: GX's CPU 4.8–6.2 s → 1.6 s and its transient memory +360 →
    +185 MiB, each expectation's result identical (docs/performance.md). GX's one batch listed the
    results in an order of its own (by column); here they follow the suite.

    Raises ``RuntimeError`` naming the rule if an expectation could not be evaluated at all (a broken
    suite must fail loudly, never pass silently)."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.validator.validation_statistics import calc_validation_statistics

    import techreform.validation.expectations  # noqa: F401  (registers the custom expectations)

    _quiet_gx()
    _skip_fingerprint()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = f"staged_{form.code}"
    asset = context.data_sources.add_pandas(source).add_dataframe_asset(form.name)
    batch_definition = asset.add_batch_definition_whole_dataframe("delivery")
    spec = suite_dict(form)
    expectations = [e for e in spec["expectations"] if severities is None or e["meta"]["severity"] in severities]
    results: list[Any] = []
    first = None
    try:
        # an empty suite (no expectation of the severities asked for) is validated once, as before
        for group in [[e] for e in expectations] or [[]]:
            suite = ExpectationSuite(
                name=spec["name"], expectations=group, meta=spec.get("meta"), notes=spec.get("notes")
            )
            # positions stay 0..n-1; Batch.validate, unlike ValidationDefinition.run, does not serialise
            # the result into a store (seconds at national size)
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame[columns_of(group, frame)]})
            result = batch.validate(suite, result_format=RESULT_FORMAT, expectation_parameters=parameters)
            if len(result.results) != len(group):
                raise RuntimeError(
                    f"{form.code}: GX returned {len(result.results)} results for {len(group)} expectation"
                )
            results += result.results
            first = result if first is None else first
            del batch, result
    finally:
        # GX's context (kept in a module-level project manager until the next get_context) holds the
        # batch's frame through the data source's execution engine: drop it, so the validated columns
        # are not alive while the load writes the outcomes and the facts (docs/performance.md)
        context.data_sources.delete(source)
    for item in results:
        problem = _raised(item.exception_info)
        if problem is not None:
            meta = item.expectation_config.meta or {}
            raise RuntimeError(
                f"{form.code}: expectation {item.expectation_config.type} of rule "
                f"{meta.get('rule_id')} could not be evaluated: {problem}"
            )
    statistics = calc_validation_statistics(results)
    return ExpectationSuiteValidationResult(
        success=statistics.success,
        results=results,
        suite_name=spec["name"],
        statistics={
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        },
        meta=first.meta,
        batch_id=first.batch_id,
    )


def _raised(info: Any) -> str | None:
    """The exception message if GX reports one for an expectation (flat or per-metric form)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def columns_of(expectations: list[dict[str, Any]], frame: pd.DataFrame) -> list[str]:
    """The frame's columns that the expectations read (their column kwargs and row conditions)."""
    used: dict[str, None] = {}
    for expectation in expectations:
        kwargs = expectation["kwargs"]
        for key in ("column", "column_A", "column_B"):
            if isinstance(kwargs.get(key), str):
                used[kwargs[key]] = None
        for name in kwargs.get("column_list", []):
            used[name] = None
        condition = kwargs.get("row_condition") or ""
        for name in frame.columns:
            if name in condition:
                used[name] = None
    return [c for c in frame.columns if c in used]


def _skip_fingerprint() -> None:
    """GX hashes every in-memory pandas batch under 1 GB for a batch marker we never use (about 1 s per
    500,000 E1 rows); switch that off. The results do not depend on it."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
