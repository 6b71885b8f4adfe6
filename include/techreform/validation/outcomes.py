"""From GX validation results to row failures (one per input row and rule broken) and rule counts."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from techreform.codes import uscc_problem
from techreform.forms import Form

FAILURE_COLUMNS = ["file_sha256", "source_row", "rule_id", "severity", "field", "message", "explained"]
DETAIL_COLUMNS = ["form", "period", "file_sha256", "file_name", "source_row", "record_key", "unit_name",
                  "prefecture_code", "rule_id", "received_json"]
COUNT_COLUMNS = ["rule_id", "severity", "evaluated", "failed"]
SEVERITY_ZH = {"hard": "强制性审核", "soft": "核实性审核"}
KEY_FIELD = {"E1": "uscc", "P1": "project_code", "R1": "uscc"}
NAME_FIELD = {"E1": "enterprise_name", "P1": "project_name", "R1": "enterprise_name"}


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
    values = _RowValues({k: show(v) for k, v in row.items()})
    values["_raw_uscc"] = row.get("uscc")
    return template.format_map(values)


def _placeholders(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def failures_from_results(frame: pd.DataFrame, results: Iterable[Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(failures by (position, rule), rule counts)`` from GX's expectation results on ``frame``.

    ``position`` is the row's place in ``frame`` (its index 0..n−1)."""
    pieces: list[pd.DataFrame] = []
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
        columns = [c for c in dict.fromkeys(_placeholders(template) + ["uscc"]) if c in frame.columns]
        rows = frame.iloc[positions][columns].to_dict("records") if columns else [{} for _ in positions]
        pieces.append(pd.DataFrame({
            "position": positions,
            "rule_id": rule_id,
            "severity": severity,
            "field": ",".join(meta.get("fields", [])),
            "message": [_message(template, row) for row in rows],
        }))
    rule_counts = pd.DataFrame(
        [{**c, "failed": len(c["failed"])} for c in counts.values()], columns=COUNT_COLUMNS)
    if not pieces:
        return pd.DataFrame(columns=["position", "rule_id", "severity", "field", "message"]), rule_counts
    raw = pd.concat(pieces, ignore_index=True)
    grouped = raw.groupby(["position", "rule_id"], sort=True, as_index=False).agg(
        severity=("severity", "first"),
        field=("field", lambda s: ",".join(dict.fromkeys(f for v in s for f in v.split(",") if f))),
        message=("message", lambda s: "；".join(dict.fromkeys(s))),
    )
    grouped["message"] = [f"{r}（{SEVERITY_ZH[s]}）：{m}"
                          for r, s, m in zip(grouped["rule_id"], grouped["severity"], grouped["message"])]
    return grouped, rule_counts


def prefecture_of(region_code: Any, uscc: Any, prefectures: set[str]) -> str:
    """The prefecture a row belongs to: from its region code, else the uscc's division, else ''."""
    for text, start in ((region_code, 0), (uscc, 2)):
        if isinstance(text, str) and len(text) >= start + 4:
            candidate = text[start:start + 4] + "00"
            if candidate in prefectures:
                return candidate
    return ""


def received_values(form: Form, raw_json: Any, fields: str, typed: Mapping[str, Any]) -> str:
    """``{field label: cell as received}`` for the fields of a failure (JSON text)."""
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
            value = typed.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out[spec.label] = None
        elif isinstance(value, (np.integer, np.floating)):
            out[spec.label] = value.item()
        else:
            out[spec.label] = value if isinstance(value, (str, int, float)) else str(value)
    return json.dumps(out, ensure_ascii=False, default=str)
