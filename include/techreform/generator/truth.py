"""Ground truth beside the data: planted defects, files, and the lights (红黄绿灯) of every supervised project.

The lights are an independent implementation of ``shared/spec/supervision.md`` with its default
thresholds, computed from the P1 rows as delivered:

- a project's row in a period that broke a hard rule → QUARANTINED (yellow), no other rule judged;
- a row whose project code was written wrongly is no row of the project (the project may then be NOT_REPORTED);
- schedule lag L = (m/12 − ytd/annual_plan)×100, not applied when the plan is 0:
  SCHEDULE_YELLOW 10 ≤ L < 30, SCHEDULE_RED L ≥ 30;
- START_OVERDUE: k = period − planned_start ≥ 1 months and no actual_start → yellow, red when k ≥ 3;
- COMPLETION_OVERDUE: planned_completion before the period and status not 竣工/投产 → red;
- STALLED: status 在建 and the current accepted report and the two before it each show cumulative
  investment ≤ the report before it (four accepted reports) → yellow;
- SUSPENDED: status 停建 → red;
- NOT_REPORTED: any row in the previous (generated) period, not finished by then, no row now → yellow;
- a project finished (竣工/投产 in an accepted report) leaves supervision after that period;
- escalated: red now and (red in the previous period or a provincial key project)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from .projects import Project
from .reference import period_index

LIGHT_RANK = {"green": 0, "yellow": 1, "red": 2}
FINISHED = ("竣工", "投产")


def _num(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if v != v else v


def judge_row(row: pd.Series, period: str, history: list[float]) -> tuple[str, list[str]]:
    """Light and reasons of one accepted P1 row; ``history`` = cumulative investment of the project's
    accepted reports up to and including this one."""
    reasons: dict[str, str] = {}
    month = int(period[5:7])
    plan, ytd = _num(row["annual_plan_investment"]), _num(row["ytd_investment"])
    if plan and ytd is not None:
        lag = (month / 12 - ytd / plan) * 100
        if lag >= 30:
            reasons["SCHEDULE_RED"] = "red"
        elif lag >= 10:
            reasons["SCHEDULE_YELLOW"] = "yellow"
    actual_start = row["actual_start"]
    if actual_start is None or (isinstance(actual_start, float) and actual_start != actual_start):
        k = period_index(period) - period_index(row["planned_start"])
        if k >= 1:
            reasons["START_OVERDUE"] = "red" if k >= 3 else "yellow"
    status = row["status"]
    if row["planned_completion"] < period and status not in FINISHED:
        reasons["COMPLETION_OVERDUE"] = "red"
    if status == "在建" and len(history) >= 4 and all(history[-i] <= history[-i - 1] for i in (1, 2, 3)):
        reasons["STALLED"] = "yellow"
    if status == "停建":
        reasons["SUSPENDED"] = "red"
    light = max(reasons.values(), key=LIGHT_RANK.__getitem__, default="green")
    return light, sorted(reasons)


def compute_lights(p1: pd.DataFrame, hard_rows: set[int], projects: list[Project], periods: list[str]) -> pd.DataFrame:
    """Lights of every project under supervision in every generated period (see module doc).

    ``p1``: delivered P1 rows (typed, index = row id) with ``_project`` and ``_folder``."""
    codes = {p.number: p.code for p in projects}
    belongs = p1["project_code"].to_numpy() == p1["_project"].map(codes).to_numpy()
    rows = p1[belongs]
    by_key: dict[tuple[int, str], list[int]] = {}
    for idx, project, folder in zip(rows.index, rows["_project"], rows["_folder"], strict=True):
        by_key.setdefault((int(project), folder), []).append(int(idx))
    out = []
    for p in projects:
        finished = False
        history: list[float] = []
        prev_light: str | None = None
        prev_had_row = False
        for period in periods:
            if finished:
                break
            idxs = by_key.get((p.number, period), [])
            light = None
            reasons: list[str] = []
            done_now = False
            if idxs:
                if len(idxs) > 1 or any(i in hard_rows for i in idxs):
                    light, reasons = "yellow", ["QUARANTINED"]
                else:
                    row = rows.loc[idxs[0]]
                    cum = _num(row["cumulative_investment"])
                    history.append(cum if cum is not None else float("nan"))
                    light, reasons = judge_row(row, period, history)
                    done_now = row["status"] in FINISHED
            elif prev_had_row:
                light, reasons = "yellow", ["NOT_REPORTED"]
            if light is not None:
                escalated = int(light == "red" and (prev_light == "red" or p.key_project == 1))
                out.append(
                    {
                        "project_code": p.code,
                        "period": period,
                        "light": light,
                        "reasons": ";".join(reasons),
                        "escalated": escalated,
                        "key_project": p.key_project,
                    }
                )
            prev_light = light
            prev_had_row = bool(idxs)
            finished = done_now
    frame = pd.DataFrame(out, columns=["project_code", "period", "light", "reasons", "escalated", "key_project"])
    return frame.sort_values(["period", "project_code"], kind="stable").reset_index(drop=True)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """UTF-8 CSV without index, ``\\n`` line ends (deterministic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
