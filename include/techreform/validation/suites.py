"""The expectation suites (``expectations/*.json``) and running them with GX Core 1.x.

Suites are data: one GX 1.x ExpectationSuite JSON per form, each expectation carrying in its ``meta``
the rule id, the severity (hard = 强制性, soft = 核实性), the canonical fields it judges and a Chinese
message template. They run in an ephemeral GX context on a pandas datasource over the staged frame,
with ``result_format`` COMPLETE so that every failing row index comes back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from techreform.config import EXPECTATIONS_DIR
from techreform.forms import Form

SUITE_FILES = {"E1": "enterprise_monthly.json", "P1": "project_monthly.json", "R1": "enterprise_register.json"}
RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 20, "return_unexpected_index_query": False}


@dataclass(frozen=True)
class RuleSpec:
    rule_id: str
    severity: str  # hard | soft


def suite_path(form: Form) -> Path:
    return EXPECTATIONS_DIR / SUITE_FILES[form.code]


@lru_cache(maxsize=None)
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


def _quiet_gx() -> None:
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run_suite(form: Form, frame: pd.DataFrame, parameters: dict[str, Any]):
    """Validate ``frame`` against the form's suite; returns the GX ``ExpectationSuiteValidationResult``.

    Raises ``RuntimeError`` naming the rule if an expectation could not be evaluated at all (a broken
    suite must fail loudly, never pass silently)."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig

    import techreform.validation.expectations  # noqa: F401  (registers the custom expectations)

    _quiet_gx()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas(f"staged_{form.code}").add_dataframe_asset(form.name)
    batch_definition = asset.add_batch_definition_whole_dataframe("delivery")
    spec = suite_dict(form)
    suite = context.suites.add(ExpectationSuite(name=spec["name"], expectations=spec["expectations"],
                                                meta=spec.get("meta"), notes=spec.get("notes")))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{form.name}_validation", data=batch_definition, suite=suite))
    result = definition.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters,
                            result_format=RESULT_FORMAT)
    for item in result.results:
        problem = _raised(item.exception_info)
        if problem is not None:
            meta = item.expectation_config.meta or {}
            raise RuntimeError(f"{form.code}: expectation {item.expectation_config.type} of rule "
                               f"{meta.get('rule_id')} could not be evaluated: {problem}")
    return result


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
