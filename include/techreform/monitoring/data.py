"""What the monitoring pages show, read from the warehouse: plain rows (dicts), every number as the
warehouse holds it (the pages format, never compute, them).

Indicators are read generically from ``fct_indicator`` and ``dim_indicator``: an indicator added to
the catalogue appears on the pages without a change here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from techreform.forms import FORMS
from techreform.periods import Period
from techreform.reference import PROVINCE_CODE
from techreform.validation.suites import SUITE_FILES, rule_texts_zh
from techreform.warehouse import has_table, query

INVESTMENT_CUMULATIVE = "TR_INV_CUM"
"""The indicator of the cumulative technical-transformation investment (target 5000亿元 in 2015)."""
INVESTMENT_GROWTH = "TR_INV_GROWTH"
"""The indicator of the technical-transformation investment's growth on the same period last year."""

Row = dict[str, Any]


def rows(engine: Engine, name: str, **params: Any) -> list[Row]:
    """The rows of the query file ``include/sql/<name>.sql`` as dicts."""
    with engine.connect() as conn:
        return [dict(r) for r in query(conn, name, **params).mappings().all()]


def warehouse_ready(engine: Engine) -> bool:
    """Whether the warehouse has been built (the pipeline has run at least once)."""
    with engine.connect() as conn:
        return all(has_table(conn, t) for t in ("fct_indicator", "sup_run", "dq_completeness"))


def available_periods(engine: Engine) -> list[str]:
    """Periods with indicators, lights or completeness, latest first."""
    return [r["period"] for r in rows(engine, "marts/monitoring/periods")]


@dataclass(frozen=True)
class Window:
    """The chosen period and the first month of its trend charts and monthly tables."""

    period: Period
    months: int

    @property
    def first(self) -> Period:
        return self.period.shift(1 - self.months)

    def params(self) -> dict[str, str]:
        return {"first_period": str(self.first), "last_period": str(self.period)}


def province_indicators(engine: Engine, period: Period) -> list[Row]:
    """Every indicator of the province in ``period`` (headline ones first) with its targets and status."""
    return rows(engine, "marts/monitoring/province_indicators", period=str(period))


def indicator_series(
    engine: Engine,
    code: str,
    window: Window,
    *,
    level: str = "province",
    area_code: str = PROVINCE_CODE,
    first: Period | None = None,
) -> list[Row]:
    """One indicator of one area over the window (or from ``first``): period, value, target, growth."""
    params = window.params()
    if first is not None:
        params["first_period"] = str(first)
    return rows(engine, "marts/monitoring/indicator_series", code=code, level=level, area_code=area_code, **params)


@dataclass
class IndicatorTrend:
    code: str
    name_zh: str
    unit: str
    periods: list[str] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    targets: list[float | None] = field(default_factory=list)
    latest: Row | None = None


def area_trends(engine: Engine, window: Window, *, level: str, area_code: str) -> list[IndicatorTrend]:
    """Every indicator of one area over the window, one trend each, in catalogue order; ``latest`` is
    the chosen period's row (``None`` when the period has none)."""
    trends: dict[str, IndicatorTrend] = {}
    for r in rows(engine, "marts/monitoring/area_series", level=level, area_code=area_code, **window.params()):
        trend = trends.setdefault(r["code"], IndicatorTrend(r["code"], r["name_zh"], r["unit"]))
        trend.periods.append(r["period"])
        trend.values.append(r["value"])
        trend.targets.append(r["target"])
        if r["period"] == str(window.period):
            trend.latest = r
    return list(trends.values())


@dataclass
class PrefectureTable:
    """The prefecture × indicator table of a period: ``cells[(prefecture_code, code)]`` is the row."""

    prefectures: list[Row]
    indicators: list[Row]
    cells: Mapping[tuple[str, str], Row]


def prefecture_table(engine: Engine, period: Period) -> PrefectureTable:
    prefectures = rows(engine, "marts/monitoring/prefectures", period=str(period))
    cells: dict[tuple[str, str], Row] = {}
    indicators: dict[str, Row] = {}
    for r in rows(engine, "marts/monitoring/prefecture_indicators", period=str(period)):
        cells[(r["prefecture_code"], r["code"])] = r
        indicators.setdefault(r["code"], {k: r[k] for k in ("code", "name_zh", "unit", "sort_order")})
    ordered = sorted(indicators.values(), key=lambda i: (i["sort_order"], i["code"]))
    return PrefectureTable(prefectures, ordered, cells)


def prefectures(engine: Engine, period: Period) -> list[Row]:
    return rows(engine, "marts/monitoring/prefectures", period=str(period))


def lights_by_prefecture(engine: Engine, period: Period) -> list[Row]:
    """Projects by prefecture and light in ``period`` (red, yellow, green, escalated_now)."""
    return rows(engine, "marts/supervision/counts_by_prefecture", period=str(period))


def open_cases(engine: Engine, period: Period) -> list[Row]:
    """Supervision cases open at the end of ``period`` (escalated ones first), with their project."""
    return rows(engine, "marts/monitoring/cases_of_period", period=str(period))


def project_lights(engine: Engine, project_code: str, period: Period) -> list[Row]:
    """A project's light in every supervised period up to ``period``."""
    return rows(engine, "marts/monitoring/project_lights", project_code=project_code, period=str(period))


def completeness_by_month(engine: Engine, window: Window) -> list[Row]:
    """Completeness (报送率) by prefecture (and 620000, the province) and month over the window."""
    return rows(engine, "marts/monitoring/completeness_by_month", **window.params())


def form_completeness(engine: Engine, period: Period) -> dict[str, list[Row]]:
    """Completeness (报送率) in ``period`` of the forms expected from their previous reporters (Q1), form →
    its rows by prefecture (the province last); empty before any such form was checked."""
    with engine.connect() as conn:
        if not has_table(conn, "dq_form_completeness"):
            return {}
    by_form: dict[str, list[Row]] = {}
    for r in rows(engine, "marts/monitoring/form_completeness_of_period", period=str(period)):
        by_form.setdefault(r["form"], []).append(r)
    return by_form


def quarantine_by_month(engine: Engine, window: Window) -> list[Row]:
    """Input rows and quarantined rows by period, prefecture and form over the window."""
    return rows(engine, "marts/monitoring/quarantine_by_month", **window.params())


def rules_broken(engine: Engine, period: Period, limit: int = 15) -> list[Row]:
    """The rules of ``period`` by rows broken, most first, with their Chinese text from the suites."""
    texts = {rule: text for code in SUITE_FILES for rule, text in rule_texts_zh(FORMS[code]).items()}
    found = rows(engine, "marts/monitoring/rules_broken", period=str(period))[:limit]
    for r in found:
        r["text_zh"] = texts.get(r["rule_id"], "")
    return found
