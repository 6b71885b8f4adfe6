"""From GX validation results to row failures (one per input row and rule broken) and rule counts."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from techreform.codes import uscc_problem
from techreform.forms import Form
from techreform.labels import SEVERITY_ZH

FAILURE_COLUMNS = ["file_sha256", "source_row", "rule_id", "severity", "field", "message", "explained"]
DETAIL_COLUMNS = [
    "form",
    "period",
    "file_sha256",
    "file_name",
    "source_row",
    "record_key",
    "unit_name",
    "prefecture_code",
    "rule_id",
    "received_json",
]
COUNT_COLUMNS = ["rule_id", "severity", "evaluated", "failed"]


def show(value: Any) -> str:
    """A value as people read it in a message: numbers without float noise, null as 空."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "空"
    if isinstance(value, (float, np.floating)):
        return format(float(value), ".12g")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


class _RowValues(dict):
    """Values of one row for a message template; special placeholders computed on demand."""

    def __missing__(self, key: str) -> str:
        if key == "_uscc_problem":
            return uscc_problem(self.get("_raw_uscc")) or ""
        return "?"


def _message(template: str, row: Mapping[str, Any]) -> str:
    values = _RowValues({k: (v if k == "_row_fields" else show(v)) for k, v in row.items()})
    values["_raw_uscc"] = row.get("uscc")
    return template.format_map(values)


def _placeholders(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _label(form: Form | None, name: str) -> str:
    try:
        return form.field(name).label if form is not None else name
    except KeyError:
        return name


def _offending(kind: str, columns: list[str], row: Mapping[str, Any]) -> list[str]:
    """The columns of a multicolumn expectation that made this row fail (null or negative)."""
    if kind == "missing":
        return [c for c in columns if show(row.get(c)) == "空"]
    return [c for c in columns if isinstance(row.get(c), (int, float, np.number)) and row.get(c) < 0]


def failures_from_results(
    frame: pd.DataFrame, results: Iterable[Any], form: Form | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(failures by (position, rule), rule counts)`` from GX's expectation results on ``frame``.

    ``position`` is the row's place in ``frame`` (its index 0..n−1). An expectation whose meta has
    ``row_fields`` ("missing" or "negative") over a ``column_list`` names, per row, only the columns
    that failed (placeholder ``{_row_fields}``: their labels and values)."""
    merged: dict[tuple[int, str], list] = {}  # (position, rule) → [severity, fields, messages]
    counts: dict[str, dict[str, Any]] = {}
    for item in results:
        config = item.expectation_config
        meta = config.meta or {}
        rule_id, severity = meta["rule_id"], meta["severity"]
        result = item.result or {}
        element_count = int(result.get("element_count") or 0)
        evaluated = element_count - int(result.get("missing_count") or 0)
        positions = [int(i) for i in (result.get("unexpected_index_list") or [])]
        entry = counts.setdefault(rule_id, {"rule_id": rule_id, "severity": severity, "evaluated": 0, "failed": set()})
        entry["evaluated"] = max(entry["evaluated"], evaluated)
        entry["failed"].update(positions)
        if not positions:
            continue
        template = meta.get("message_zh", "")
        fields = [f for f in meta.get("fields", []) if f]
        row_fields = meta.get("row_fields")
        listed = list(config.kwargs.get("column_list") or []) if row_fields else []
        columns = [c for c in dict.fromkeys(_placeholders(template) + ["uscc"] + listed) if c in frame.columns]
        rows = frame.iloc[positions][columns].to_dict("records") if columns else [{} for _ in positions]
        for position, row in zip(positions, rows):
            if row_fields:
                fields = _offending(row_fields, listed, row) or listed
                shown = [
                    _label(form, c) if row_fields == "missing" else f"{_label(form, c)} 为 {show(row.get(c))}"
                    for c in fields
                ]
                row = {**row, "_row_fields": "、".join(shown)}
            message = _message(template, row)
            found = merged.get((position, rule_id))
            if found is None:
                merged[(position, rule_id)] = [severity, list(fields), [message]]
            else:
                found[1].extend(f for f in fields if f not in found[1])
                if message not in found[2]:
                    found[2].append(message)
    rule_counts = pd.DataFrame([{**c, "failed": len(c["failed"])} for c in counts.values()], columns=COUNT_COLUMNS)
    keys = sorted(merged)
    grouped = pd.DataFrame(
        {
            "position": pd.Series([k[0] for k in keys], dtype="int64"),
            "rule_id": pd.Series([k[1] for k in keys], dtype=object),
            "severity": pd.Series([merged[k][0] for k in keys], dtype=object),
            "field": pd.Series([",".join(merged[k][1]) for k in keys], dtype=object),
            "message": pd.Series(
                [f"{k[1]}（{SEVERITY_ZH[merged[k][0]]}）：{'；'.join(merged[k][2])}" for k in keys], dtype=object
            ),
        }
    )
    return grouped, rule_counts


def received_values(form: Form, raw_json: Any, fields: str, typed: Callable[[str], Any]) -> str:
    """``{field label: cell as received}`` for the fields of a failure (JSON text); ``typed(name)``
    gives the staged value where the raw row lacks the cell."""
    try:
        raw = json.loads(raw_json) if isinstance(raw_json, str) else {}
    except ValueError:
        raw = {}
    out: dict[str, Any] = {}
    for name in [f for f in fields.split(",") if f]:
        try:
            spec = form.field(name)
        except KeyError:
            continue
        if spec.header_zh in raw:
            value = raw[spec.header_zh]
        elif name in raw:
            value = raw[name]
        else:
            value = typed(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out[spec.label] = None
        elif isinstance(value, (np.integer, np.floating)):
            out[spec.label] = value.item()
        else:
            out[spec.label] = value if isinstance(value, (str, int, float)) else str(value)
    return json.dumps(out, ensure_ascii=False, default=str)
