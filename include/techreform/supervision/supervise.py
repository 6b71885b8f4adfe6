"""``supervise_period``: lights and cases of one period, written in one transaction that replaces
exactly that period's lights (and rebuilds the cases of the projects it touches)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.options import SupervisionOptions
from techreform.periods import Period
from techreform.supervision.cases import rebuild_cases
from techreform.supervision.rules import GREEN, RED, YELLOW, judge_with_escalation
from techreform.supervision.sources import division_names, enterprise_names, load_history, load_quarantined
from techreform.warehouse import execute, insert_rows, query

log = logging.getLogger(__name__)

LIGHT_TABLE_COLUMNS = [
    "period",
    "project_code",
    "project_name",
    "uscc",
    "enterprise_name",
    "region_code",
    "county_name",
    "prefecture_code",
    "prefecture_name",
    "key_project",
    "annual_plan_investment",
    "ytd_investment",
    "lag_pp",
    "light",
    "reasons",
    "detail",
    "escalated",
    "source",
]


def _none_if_nan(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def supervise_period(engine: Engine, settings: Settings, period: Period | str) -> dict[str, Any]:
    """Judge every project under supervision in ``period`` (lights), store the lights and rebuild the
    cases of the projects concerned, in one transaction. Idempotent: a re-run recomputes the lights
    from the data as it now stands and leaves identical tables when the data did not change.

    Returns ``{"period", "projects", "green", "yellow", "red", "escalated", "open_cases"}``."""
    period = Period.parse(period)
    options = settings.options_for(SupervisionOptions)
    with engine.begin() as conn:
        history = load_history(conn, period, options.history_depth)
        quarantined = load_quarantined(conn, period.shift(-max(options.escalate_consecutive_red, 1)), period)
        lights = judge_with_escalation(history, quarantined, period, options)

        names = enterprise_names(conn, period, lights["uscc"])
        divisions = division_names(conn)
        lights["enterprise_name"] = lights["uscc"].map(lambda u: names.get(u, ""))
        lights["county_name"] = lights["region_code"].map(lambda c: divisions.get(c, ""))
        lights["prefecture_name"] = lights["prefecture_code"].map(lambda c: divisions.get(c, c))
        records = [{k: _none_if_nan(v) for k, v in r.items()} for r in lights[LIGHT_TABLE_COLUMNS].to_dict("records")]
        for r in records:
            r["key_project"] = int(r["key_project"] or 0)
            r["escalated"] = int(r["escalated"] or 0)

        touched = {
            code
            for (code,) in query(
                conn, "intermediate/codes_in_periods", first_period=str(period.previous), last_period=str(period.next)
            )
        }
        execute(conn, "ops/supervision_period/delete_lights", {"period": str(period)})
        insert_rows(conn, "sup_project_light", records, LIGHT_TABLE_COLUMNS)
        counts = {
            "period": str(period),
            "projects": len(records),
            GREEN: int((lights["light"] == GREEN).sum()),
            YELLOW: int((lights["light"] == YELLOW).sum()),
            RED: int((lights["light"] == RED).sum()),
            "escalated": int(lights["escalated"].sum()),
        }
        execute(conn, "ops/supervision_period/delete_run", {"period": str(period)})
        insert_rows(conn, "sup_run", [{k: counts[k] for k in ("period", "projects", GREEN, YELLOW, RED, "escalated")}])
        touched |= set(lights["project_code"])
        rebuild_cases(conn, sorted(touched))
        counts["open_cases"] = query(conn, "marts/supervision/open_cases_count", period=str(period)).scalar_one()
    log.info("supervision %s: %s", period, counts)
    return counts
