"""The light rules (亮灯规则) of supervision.md, as pure functions over a period's reports and history.

Nothing here reads the warehouse: :func:`judge_period` takes the accepted P1 reports (history up to the
period) and the current quarantined P1 rows as DataFrames and returns one light per supervised project.
Rules and their lights:

| rule | light | condition |
|---|---|---|
| SCHEDULE_YELLOW / SCHEDULE_RED | yellow / red | schedule lag L = (m/12 − ytd/annual plan)×100 in [yellow, red) / ≥ red |
| START_OVERDUE | yellow, red from ``start_red_months`` | planned start k ≥ 1 months before the period, no actual start |
| COMPLETION_OVERDUE | red | planned completion before the period, status not 竣工/投产 |
| STALLED | yellow | status 在建 and cumulative investment did not grow over the last ``stalled_reports`` reports |
| SUSPENDED | red | status 停建 |
| NOT_REPORTED | yellow | a row (accepted or quarantined) last period, not finished then, none this period |
| QUARANTINED | yellow | the current row this period broke a hard rule; no other rule is judged on it |

Projects finished (竣工/投产) in an earlier period are out of supervision. The worst light wins and every
fired rule is kept (reasons sorted)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from techreform.labels import LIGHT_ZH, SUPERVISION_RULE_ZH
from techreform.numbers import finite_number
from techreform.options import SupervisionOptions
from techreform.periods import Period
from techreform.reference import prefecture_of

GREEN, YELLOW, RED = "green", "yellow", "red"
LIGHT_RANK = {GREEN: 0, YELLOW: 1, RED: 2}
FINISHED_STATUSES = ("竣工", "投产")
UNDER_CONSTRUCTION = "在建"
SUSPENDED_STATUS = "停建"

SCHEDULE_YELLOW = "SCHEDULE_YELLOW"
SCHEDULE_RED = "SCHEDULE_RED"
START_OVERDUE = "START_OVERDUE"
COMPLETION_OVERDUE = "COMPLETION_OVERDUE"
STALLED = "STALLED"
SUSPENDED = "SUSPENDED"
NOT_REPORTED = "NOT_REPORTED"
QUARANTINED = "QUARANTINED"

RULE_LABELS_ZH = SUPERVISION_RULE_ZH
"""Chinese name of each rule, for e-mails (:mod:`techreform.labels`)."""

LIGHT_LABELS_ZH = LIGHT_ZH

LIGHT_COLUMNS = [
    "project_code",
    "light",
    "reasons",
    "detail",
    "lag_pp",
    "source",
    "key_project",
    "project_name",
    "uscc",
    "region_code",
    "prefecture_code",
    "annual_plan_investment",
    "ytd_investment",
]
"""Columns of :func:`judge_period`'s result (plus ``period``)."""


@dataclass(frozen=True)
class Judgement:
    """The light of one report and every rule that fired (sorted)."""

    light: str
    reasons: tuple[str, ...]
    lag_pp: float | None = None
    details: tuple[str, ...] = ()
    """What each fired rule saw, in Chinese, in the order of ``reasons``."""

    @property
    def detail(self) -> str:
        return "；".join(self.details)


def worst_light(lights: Sequence[str]) -> str:
    """The worst of ``lights`` (green when empty)."""
    return max(lights, key=LIGHT_RANK.__getitem__, default=GREEN)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def months_between(earlier: str | None, later: Period) -> int | None:
    """Whole months from the month ``earlier`` (``YYYY-MM``) to ``later``; ``None`` if unreadable."""
    text = _text(earlier)
    if text is None:
        return None
    try:
        start = Period.parse(text)
    except ValueError:
        return None
    return later.months_since(start)


def schedule_lag(month: int, annual_plan: Any, ytd: Any, decimals: int = 6) -> float | None:
    """Schedule lag L = (m/12 − ytd/annual_plan) × 100 in percentage points (序时进度滞后), rounded to
    ``decimals``; ``None`` when the annual plan is 0 or either amount is missing."""
    plan, done = finite_number(annual_plan), finite_number(ytd)
    if plan is None or done is None or plan == 0:
        return None
    return round((month / 12 - done / plan) * 100, decimals)


def judge_report(
    report: Mapping[str, Any], period: Period, cumulatives: Sequence[Any], options: SupervisionOptions
) -> Judgement:
    """The light of one accepted report of ``period``.

    ``cumulatives`` are the cumulative investments of the project's latest accepted reports up to and
    including this one, oldest first (STALLED needs ``stalled_reports + 1`` of them)."""
    fired: dict[str, str] = {}
    said: dict[str, str] = {}
    status = _text(report.get("status")) or ""

    lag = schedule_lag(
        period.month, report.get("annual_plan_investment"), report.get("ytd_investment"), options.lag_decimals
    )
    if lag is not None:
        rule = (
            SCHEDULE_RED
            if lag >= options.schedule_red_pp
            else (SCHEDULE_YELLOW if lag >= options.schedule_yellow_pp else None)
        )
        if rule is not None:
            fired[rule] = RED if rule == SCHEDULE_RED else YELLOW
            said[rule] = (
                f"序时进度应完成{period.month}/12，实际完成本年计划的"
                f"{finite_number(report.get('ytd_investment')) / finite_number(report.get('annual_plan_investment')):.1%}，"
                f"滞后{lag:.1f}个百分点"
            )

    k = months_between(report.get("planned_start"), period)
    if k is not None and k >= options.start_yellow_months and _text(report.get("actual_start")) is None:
        fired[START_OVERDUE] = RED if k >= options.start_red_months else YELLOW
        said[START_OVERDUE] = f"计划{_text(report.get('planned_start'))}开工，已逾期{k}个月未开工"

    completion = _text(report.get("planned_completion"))
    if completion is not None and completion < str(period) and status not in FINISHED_STATUSES:
        fired[COMPLETION_OVERDUE] = RED
        said[COMPLETION_OVERDUE] = f"计划{completion}竣工，现状态为{status or '未填'}"

    if status == UNDER_CONSTRUCTION and is_stalled(cumulatives, options.stalled_reports):
        fired[STALLED] = YELLOW
        said[STALLED] = (
            f"自开工累计完成投资连续{options.stalled_reports}次报告未增长（{finite_number(cumulatives[-1]):,.2f}万元）"
        )

    if status == SUSPENDED_STATUS:
        fired[SUSPENDED] = RED
        said[SUSPENDED] = "项目状态为停建"

    reasons = tuple(sorted(fired))
    return Judgement(worst_light(list(fired.values())), reasons, lag, tuple(said[r] for r in reasons))


def is_stalled(cumulatives: Sequence[Any], reports: int) -> bool:
    """True when each of the last ``reports`` cumulative investments is ≤ the one before it (so
    ``reports + 1`` values are needed; a missing value breaks the chain)."""
    values = [finite_number(v) for v in cumulatives[-(reports + 1) :]]
    if reports < 1 or len(values) < reports + 1 or any(v is None for v in values):
        return False
    return all(later <= earlier for earlier, later in zip(values, values[1:]))


def _first(*values: Any) -> Any:
    for value in values:
        if _text(value) is not None:
            return value
    return None


def _info(row: Mapping[str, Any] | None, fallback: Mapping[str, Any] | None) -> dict[str, Any]:
    """Descriptive columns of a project, from ``row`` and where it has gaps from ``fallback``."""
    row, fallback = row or {}, fallback or {}
    out = {}
    for name in ("project_name", "uscc", "region_code", "prefecture_code"):
        out[name] = _text(_first(row.get(name), fallback.get(name))) or ""
    if not out["prefecture_code"]:
        out["prefecture_code"] = prefecture_of(out["region_code"])
    key = finite_number(_first(row.get("key_project"), fallback.get("key_project")))
    out["key_project"] = int(bool(key)) if key is not None else 0
    return out


def judge_period(
    history: pd.DataFrame, quarantined: pd.DataFrame, period: Period | str, options: SupervisionOptions
) -> pd.DataFrame:
    """One light per project under supervision in ``period`` (columns :data:`LIGHT_COLUMNS` + period).

    ``history``: accepted P1 reports (fct_project_monthly columns) of periods up to ``period`` – at least
    the latest ``stalled_reports + 1`` per project, and every project's finished reports, or a column
    ``first_finished_period``. ``quarantined``: the current quarantined P1 rows (columns period,
    project_code and what could be read: project_name, uscc, region_code, prefecture_code, key_project,
    status) of this period and the one before."""
    period = Period.parse(period)
    this, previous = str(period), str(period.previous)
    hist = history[history["period"] <= this].sort_values(["project_code", "period"])
    by_project = {code: group for code, group in hist.groupby("project_code", sort=False)}
    if "first_finished_period" in hist.columns:
        first_finished = (
            hist.dropna(subset=["first_finished_period"])
            .groupby("project_code")["first_finished_period"]
            .min()
            .to_dict()
        )
    else:
        fin = hist[hist["status"].isin(FINISHED_STATUSES)]
        first_finished = fin.groupby("project_code")["period"].min().to_dict()

    quar = (
        quarantined[quarantined["project_code"].map(lambda c: _text(c) is not None)]
        if len(quarantined)
        else quarantined
    )
    quar_now = {r["project_code"]: r for r in quar[quar["period"] == this].to_dict("records")} if len(quar) else {}
    quar_prev = {r["project_code"]: r for r in quar[quar["period"] == previous].to_dict("records")} if len(quar) else {}

    def finished_before(code: str, when: str) -> bool:
        first = first_finished.get(code)
        return first is not None and first < when

    rows: list[dict[str, Any]] = []
    codes = sorted(set(hist.loc[hist["period"] == this, "project_code"]) | set(quar_now))
    for code in codes:
        if finished_before(code, this):
            continue
        group = by_project.get(code)
        latest_accepted = group.iloc[-1].to_dict() if group is not None else None
        if code in quar_now:
            # name and place as reported now, gaps filled from the last accepted report; the key-project
            # flag of an accepted (validated) report wins over the quarantined cell
            info = _info(quar_now[code], latest_accepted)
            if latest_accepted is not None:
                info["key_project"] = _info(latest_accepted, None)["key_project"]
            q = quar_now[code]
            where = f"{q.get('file_name') or ''} 第{q.get('source_row')}行：" if q.get("file_name") else ""
            rows.append(
                {
                    "project_code": code,
                    "light": YELLOW,
                    "reasons": QUARANTINED,
                    "detail": f"{where}未通过{_text(q.get('rule_ids')) or '强制性审核'}，请更正后重报",
                    "lag_pp": None,
                    "source": "quarantined",
                    "annual_plan_investment": None,
                    "ytd_investment": None,
                    **info,
                }
            )
            continue
        report = latest_accepted  # its period is this period: codes come from this period's rows
        cumulatives = list(group["cumulative_investment"])
        judgement = judge_report(report, period, cumulatives, options)
        rows.append(
            {
                "project_code": code,
                "light": judgement.light,
                "reasons": ";".join(judgement.reasons),
                "detail": judgement.detail,
                "lag_pp": judgement.lag_pp,
                "source": "accepted",
                "annual_plan_investment": finite_number(report.get("annual_plan_investment")),
                "ytd_investment": finite_number(report.get("ytd_investment")),
                **_info(report, None),
            }
        )

    reported_now = set(codes)
    accepted_prev = {r["project_code"]: r for r in hist[hist["period"] == previous].to_dict("records")}
    for code in sorted((set(accepted_prev) | set(quar_prev)) - reported_now):
        prev_row = quar_prev.get(code) or accepted_prev.get(code)
        # finished then only by an accepted report: a quarantined row's status cannot be trusted
        finished_then = code not in quar_prev and _text(prev_row.get("status")) in FINISHED_STATUSES
        if finished_then or finished_before(code, previous):
            continue
        group = by_project.get(code)
        latest_accepted = group.iloc[-1].to_dict() if group is not None else None
        rows.append(
            {
                "project_code": code,
                "light": YELLOW,
                "reasons": NOT_REPORTED,
                "detail": f"{previous}有报表，{this}未报送",
                "lag_pp": None,
                "source": "missing",
                "annual_plan_investment": None,
                "ytd_investment": None,
                **_info(prev_row, latest_accepted),
            }
        )

    out = pd.DataFrame(rows, columns=LIGHT_COLUMNS)
    out.insert(0, "period", this)
    return out.sort_values("project_code", ignore_index=True)


def judge_with_escalation(
    history: pd.DataFrame, quarantined: pd.DataFrame, period: Period | str, options: SupervisionOptions
) -> pd.DataFrame:
    """:func:`judge_period` plus ``escalated``: red now and (red in each of the previous
    ``escalate_consecutive_red − 1`` periods, judged by the same rules on the data as it now stands, or
    a provincial key project when ``escalate_key_projects``)."""
    period = Period.parse(period)
    lights = judge_period(history, quarantined, period, options)
    red_now = lights["light"] == RED
    consecutive = pd.Series(True, index=lights.index)
    for back in range(1, max(options.escalate_consecutive_red, 1)):
        earlier = judge_period(history, quarantined, period.shift(-back), options)
        red_codes = set(earlier.loc[earlier["light"] == RED, "project_code"])
        consecutive &= lights["project_code"].isin(red_codes)
    key = (lights["key_project"] == 1) if options.escalate_key_projects else pd.Series(False, index=lights.index)
    lights["escalated"] = (red_now & (consecutive | key)).astype(int)
    return lights
