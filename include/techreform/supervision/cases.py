"""Supervision cases (督办事项) from the stored lights.

A case is one run of consecutive flagged (yellow or red) periods of a project: it opens the first
flagged period, records the light and reasons of every period since, and closes on the first judged
period after the run in which the project is green (or no longer under supervision). A project flagged
again later opens a new case. The case id is ``<project_code>/<opened_period>``, so however often a
period is re-run there is never a second case for the same project and period: cases are rebuilt from
the lights, deterministically, for every project a run touched.

A case is escalated (升级督办, to 省工信委) from the first period whose light is escalated (see
:func:`techreform.supervision.rules.judge_with_escalation`) and stays escalated."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from techreform.periods import Period
from techreform.supervision.rules import GREEN, worst_light
from techreform.warehouse import insert_rows, query, query_in

CASE_COLUMNS = [
    "case_id",
    "project_code",
    "opened_period",
    "last_flagged_period",
    "closed_period",
    "closed_reason",
    "status",
    "periods",
    "worst_light",
    "escalated",
    "escalated_period",
]
CASE_PERIOD_COLUMNS = ["case_id", "period", "project_code", "light", "reasons", "escalated", "months_open"]


def case_id(project_code: str, opened_period: str) -> str:
    return f"{project_code}/{opened_period}"


def months_open(opened: str, period: str) -> int:
    """Periods a case has been open in ``period``, counting the month it opened (1 in that month)."""
    return Period.parse(period).months_since(Period.parse(opened)) + 1


def build_cases(lights: pd.DataFrame, supervised_periods: Iterable[str]) -> tuple[list[dict], list[dict]]:
    """Cases and case periods of the projects in ``lights`` (columns period, project_code, light,
    reasons, escalated: every stored light of those projects), given the periods supervision judged."""
    judged = set(supervised_periods)
    cases: list[dict[str, Any]] = []
    case_periods: list[dict[str, Any]] = []
    for code, group in lights.sort_values(["project_code", "period"]).groupby("project_code", sort=True):
        light_of = {r["period"]: r for r in group.to_dict("records")}
        flagged = [p for p in sorted(light_of) if light_of[p]["light"] != GREEN]
        runs: list[list[str]] = []
        for period in flagged:
            if runs and str(Period.parse(runs[-1][-1]).next) == period:
                runs[-1].append(period)
            else:
                runs.append([period])
        for run in runs:
            opened, last = run[0], run[-1]
            cid = case_id(code, opened)
            escalated_period = None
            for period in run:
                row = light_of[period]
                if escalated_period is None and int(row["escalated"]):
                    escalated_period = period
                case_periods.append(
                    {
                        "case_id": cid,
                        "period": period,
                        "project_code": code,
                        "light": row["light"],
                        "reasons": row["reasons"],
                        "escalated": int(escalated_period is not None),
                        "months_open": months_open(opened, period),
                    }
                )
            after = str(Period.parse(last).next)
            closed = after in judged
            closed_reason = None
            if closed:
                closed_reason = "green" if after in light_of else "left_supervision"
            cases.append(
                {
                    "case_id": cid,
                    "project_code": code,
                    "opened_period": opened,
                    "last_flagged_period": last,
                    "closed_period": after if closed else None,
                    "closed_reason": closed_reason,
                    "status": "closed" if closed else "open",
                    "periods": len(run),
                    "worst_light": worst_light([light_of[p]["light"] for p in run]),
                    "escalated": int(escalated_period is not None),
                    "escalated_period": escalated_period,
                }
            )
    return cases, case_periods


def rebuild_cases(conn: Connection, project_codes: Sequence[str]) -> tuple[int, int]:
    """Replace the cases of ``project_codes`` by those their stored lights give. Returns the numbers
    of cases and case periods written."""
    codes = sorted(set(project_codes))
    if not codes:
        return 0, 0
    judged = [p for (p,) in query(conn, "marts/supervision/supervised_periods")]
    rows = query_in(conn, "marts/supervision/lights_of_projects", codes)
    lights = pd.DataFrame(
        [dict(r._mapping) for r in rows], columns=["period", "project_code", "light", "reasons", "escalated"]
    )
    cases, case_periods = build_cases(lights, judged)
    query_in(conn, "ops/supervision_period/delete_case_periods", codes)
    query_in(conn, "ops/supervision_period/delete_cases", codes)
    insert_rows(conn, "sup_case", cases, CASE_COLUMNS)
    insert_rows(conn, "sup_case_period", case_periods, CASE_PERIOD_COLUMNS)
    return len(cases), len(case_periods)
