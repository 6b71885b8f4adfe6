"""Chinese labels of the pipeline's codes, in one place.

Statuses, severities, levels and review statuses are stored in the warehouse as short English codes
(``on_track``, ``hard``, ``prefecture``, ``query``); people read them in Chinese. Every reader — the
``rpt_indicator`` view (through the ``dim_label`` table loaded from here), the supervision e-mails, the
review receipts, the demo and the run summary — takes the label from this module, so a label is changed
once and reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

INDICATOR_STATUS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "met": "已达标",
        "on_track": "达到序时目标",
        "lagging": "滞后",
        "no_target": "无目标",
        "no_data": "无数据",
    }
)
"""Status of an indicator against its target for the period (``fct_indicator.status``)."""

SEVERITY_ZH: Mapping[str, str] = MappingProxyType(
    {
        "hard": "强制性审核",
        "soft": "核实性审核",
    }
)
"""Severity of a validation rule: a hard rule quarantines the row, a soft rule asks for an explanation."""

LEVEL_ZH: Mapping[str, str] = MappingProxyType(
    {
        "province": "全省",
        "prefecture": "市州",
        "sector_group": "行业板块",
        "zone": "产业集聚区",
        "chain": "产业链",
    }
)
"""Aggregation level of an indicator (``fct_indicator.level``)."""

REVIEW_STATUS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "ok": "通过",
        "query": "待核实",
        "explained": "已说明",
        "quarantined": "隔离",
    }
)
"""Review status of an input row (``etl_row_outcome.review_status``, facts' ``review_status``)."""

LIGHT_ZH: Mapping[str, str] = MappingProxyType({"green": "绿灯", "yellow": "黄灯", "red": "红灯"})
"""A project's light (灯色) of supervision (``sup_project_light.light``)."""

SUPERVISION_RULE_ZH: Mapping[str, str] = MappingProxyType(
    {
        "SCHEDULE_YELLOW": "序时进度滞后",
        "SCHEDULE_RED": "序时进度严重滞后",
        "START_OVERDUE": "逾期未开工",
        "COMPLETION_OVERDUE": "逾期未竣工",
        "STALLED": "投资连续停滞",
        "SUSPENDED": "项目停建",
        "NOT_REPORTED": "本月未报送",
        "QUARANTINED": "本月报表未通过强制性审核",
    }
)
"""Why a project got its light: the supervision rules (``sup_project_light.reasons``, ``;``-joined)."""

LABEL_KINDS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "indicator_status": INDICATOR_STATUS_ZH,
        "severity": SEVERITY_ZH,
        "level": LEVEL_ZH,
        "review_status": REVIEW_STATUS_ZH,
        "light": LIGHT_ZH,
        "supervision_rule": SUPERVISION_RULE_ZH,
    }
)
"""Every label table by kind: the rows of the warehouse table ``dim_label``."""


def label(kind: str, code: str | None, default: str | None = None) -> str:
    """The Chinese label of ``code`` in ``kind`` (``label("indicator_status", "on_track")`` →
    ``达到序时目标``); an unknown code gives ``default``, or the code itself."""
    if code is None:
        return default or ""
    return LABEL_KINDS[kind].get(code, code if default is None else default)


def reasons_zh(reasons: str | None) -> str:
    """``COMPLETION_OVERDUE;SCHEDULE_RED`` → ``逾期未竣工；序时进度严重滞后``: the Chinese of ``;``-joined
    supervision rule codes (an unknown code stays as it is)."""
    return "；".join(label("supervision_rule", r) for r in (reasons or "").split(";") if r)


def label_rows() -> list[dict[str, str]]:
    """Rows ``(kind, code, label_zh)`` of ``dim_label``, which SQL views join for their Chinese columns."""
    return [
        {"kind": kind, "code": code, "label_zh": text}
        for kind, labels in LABEL_KINDS.items()
        for code, text in labels.items()
    ]
