"""Thresholds and switches of supervision (督促检查) and its e-mail, from the deployment's configuration.

Every number the rules use lives here with its default; a deployment changes them in the JSON file
``TECHREFORM_CONFIG_FILE`` under ``"supervision"`` and ``"email"`` without touching code::

    {"supervision": {"schedule_red_pp": 25, "all_clear_notes": true},
     "email": {"sender": "jigai@gsgxw.gov.cn"}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from techreform.config import Settings


def _from_section(cls, section: Mapping[str, Any], strict: bool = True):
    """Build ``cls`` from a settings section; ``strict`` rejects unknown keys (a typo in a threshold
    must not silently fall back to the default)."""
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(section) - set(known))
    if unknown and strict:
        raise ValueError(f"unknown {cls.__name__} option(s): {', '.join(unknown)}; known: {', '.join(known)}")
    values = {}
    for name, value in section.items():
        if name not in known:
            continue
        default = getattr(cls, name)
        if isinstance(default, bool):
            values[name] = bool(value)
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            values[name] = type(default)(value)
        else:
            values[name] = value
    return cls(**values)


@dataclass(frozen=True)
class SupervisionOptions:
    """Light rules, cases and escalation (settings section ``supervision``)."""

    schedule_yellow_pp: float = 10.0
    """SCHEDULE_YELLOW when the schedule lag L (百分点) is at least this …"""
    schedule_red_pp: float = 30.0
    """… and SCHEDULE_RED from this lag on."""
    start_yellow_months: int = 1
    """START_OVERDUE (yellow) once the planned start is this many months before the period …"""
    start_red_months: int = 3
    """… and red from this many months on."""
    stalled_reports: int = 3
    """STALLED when cumulative investment did not grow in this many consecutive reports."""
    escalate_consecutive_red: int = 2
    """A case escalates to the province when red in this many consecutive periods …"""
    escalate_key_projects: bool = True
    """… or at once when red and a provincial key project (省列重点)."""
    all_clear_notes: bool = False
    """Send prefectures with nothing flagged an "all clear" note too."""
    lag_decimals: int = 6
    """L is rounded to this many decimals before comparing, so 10.000000000000002 counts as 10."""

    @classmethod
    def from_settings(cls, settings: Settings) -> SupervisionOptions:
        return _from_section(cls, settings.section("supervision"))

    @property
    def history_depth(self) -> int:
        """How many latest accepted reports per project the rules need (stalled + escalation)."""
        return self.stalled_reports + 1 + max(self.escalate_consecutive_red - 1, 0)


@dataclass(frozen=True)
class EmailOptions:
    """Composing and sending (settings section ``email``)."""

    sender: str = "techreform@localhost.localdomain"
    """From address when the SMTP connection names none."""
    subject_prefix: str = "【技改督办】"
    province_code: str = "620000"
    """Region code of S1 rows for the provincial supervisors (省工信委)."""
    province_name: str = "甘肃省"
    send_attempts: int = 3
    """Attempts per message within one run before the task fails (Airflow then retries the task)."""
    retry_delay_seconds: float = 2.0
    claim_minutes: float = 30.0
    """The lease of a claim: a message another run claimed is left to it until the lease runs out, unless
    its process is gone (same host, pid not alive), when it is taken over at once."""

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailOptions:
        return _from_section(cls, settings.section("email"), strict=False)
