"""The monitoring pages as HTML: Jinja2 templates of this package, charts from :mod:`techreform.charts`,
labels from :mod:`techreform.labels`; every number shown is a warehouse value, formatted (and kept in
the cell's ``data-value`` as the warehouse has it)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.engine import Engine

from techreform import charts
from techreform.forms import FORMS
from techreform.labels import INDICATOR_STATUS_ZH, label
from techreform.monitoring import data
from techreform.monitoring.access import Viewer
from techreform.periods import Period
from techreform.supervision.rules import LIGHT_LABELS_ZH, RULE_LABELS_ZH

TABS = (("overview", "总览"), ("prefectures", "市州"), ("supervision", "督办"), ("quality", "数据质量"))
"""The pages of the view: path → tab label."""


def _num(value: Any, decimals: int | None = None) -> str:
    return charts.chart_label(None if value is None else float(value), decimals)


def _raw(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return "" if not math.isfinite(number) else repr(number)


def _pct(rate: Any) -> str:
    return "—" if rate is None else f"{float(rate) * 100:.1f}%"


def _lag(lag_pp: Any) -> str:
    """A schedule lag in percentage points; a project ahead of schedule reads 超前 n."""
    if lag_pp is None:
        return "—"
    value = float(lag_pp)
    return f"超前 {-value:.1f}" if value < 0 else f"{value:.1f}"


def _reasons(reasons: str | None) -> str:
    return "；".join(RULE_LABELS_ZH.get(r, r) for r in (reasons or "").split(";") if r)


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("techreform.monitoring", "templates"), autoescape=select_autoescape())
    env.filters.update(
        num=_num,
        raw=_raw,
        pct=_pct,
        lag=_lag,
        reasons_zh=_reasons,
        light_zh=lambda light: LIGHT_LABELS_ZH.get(light, light or ""),
        status_zh=lambda status: label("indicator_status", status),
        severity_zh=lambda severity: label("severity", severity),
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(tabs=TABS, **context)


def _common(base: str, current: str, viewer: Viewer, periods: Sequence[str], window: data.Window | None) -> dict:
    period = str(window.period) if window else ""
    return {
        "base": base,
        "current": current,
        "viewer": viewer,
        "periods": periods,
        "period": period,
        "period_zh": window.period.label_zh if window else "",
        "first": str(window.first) if window else "",
    }


def empty_page(base: str, current: str, viewer: Viewer, title: str, message: str) -> str:
    return render("empty.html", title=title, message=message, **_common(base, current, viewer, (), None))


def overview(engine: Engine, base: str, viewer: Viewer, periods: Sequence[str], window: data.Window) -> str:
    """总览: the province's headline indicators against their 2015 targets, the cumulative investment
    against the straight path to 5000亿元, the investment's YoY growth by month."""
    indicators = data.province_indicators(engine, window.period)
    headline = [r for r in indicators if r["headline"]]
    others = [r for r in indicators if not r["headline"]]
    plan_start = Period(2011, 1)
    cumulative = data.indicator_series(engine, data.INVESTMENT_CUMULATIVE, window, first=min(plan_start, window.first))
    latest_cum = next((r for r in indicators if r["code"] == data.INVESTMENT_CUMULATIVE), None)
    target_2015 = (latest_cum or {}).get("target_2015") or (cumulative[-1]["target_2015"] if cumulative else None)
    investment_chart = charts.investment_trajectory(
        [r["period"] for r in cumulative],
        [r["value"] for r in cumulative],
        target_2015=float(target_2015) if target_2015 is not None else 5000.0,
        width=600,
    )
    growth = data.indicator_series(engine, data.INVESTMENT_GROWTH, window)
    growth_chart = charts.column_chart(
        [r["period"] for r in growth],
        [r["value"] for r in growth],
        title="技术改造投资同比增长（按月，可比口径）",
        unit="%",
        decimals=1,
        width=600,
        height=340,
    )
    return render(
        "overview.html",
        title="总览",
        headline=headline,
        others=others,
        statuses=list(INDICATOR_STATUS_ZH.items()),
        investment_chart=investment_chart,
        growth_chart=growth_chart,
        **_common(base, "overview", viewer, periods, window),
    )


def prefecture_table(engine: Engine, base: str, viewer: Viewer, periods: Sequence[str], window: data.Window) -> str:
    """市州: prefecture × indicator with status colours."""
    return render(
        "prefectures.html",
        title="市州",
        table=data.prefecture_table(engine, window.period),
        **_common(base, "prefectures", viewer, periods, window),
    )


def prefecture_page(
    engine: Engine, base: str, viewer: Viewer, periods: Sequence[str], window: data.Window, code: str
) -> str | None:
    """One prefecture's indicators of the period and their trend charts; ``None``: no such prefecture."""
    known = {r["prefecture_code"]: r["prefecture_name"] for r in data.prefectures(engine, window.period)}
    if code not in known:
        return None
    trends = data.area_trends(engine, window, level="prefecture", area_code=code)
    charts_ = [
        (
            t,
            charts.indicator_trend(
                t.periods, t.values, t.targets, title=f"{t.name_zh}（{t.unit}）", unit=t.unit, width=580, height=250
            ),
        )
        for t in trends
    ]
    return render(
        "prefecture.html",
        title=known[code],
        prefecture_name=known[code],
        trends=trends,
        charts=charts_,
        **_common(base, "prefectures", viewer, periods, window),
    )


def supervision(engine: Engine, base: str, viewer: Viewer, periods: Sequence[str], window: data.Window) -> str:
    """督办: lights by prefecture, the cases open and escalated at the period's end (enterprise-level
    rows only for viewers who may see them)."""
    lights = data.lights_by_prefecture(engine, window.period)
    cases = data.open_cases(engine, window.period)
    for row in lights:
        mine = [c for c in cases if c["prefecture_code"] == row["prefecture_code"]]
        row["open"] = len(mine)
        row["escalated"] = sum(int(c["escalated"]) for c in mine)
    totals = {k: sum(int(r[k] or 0) for r in lights) for k in ("red", "yellow", "green", "open", "escalated")}
    lights_chart = charts.lights_by_prefecture(
        [r["prefecture_name"] for r in lights],
        green=[int(r["green"] or 0) for r in lights],
        yellow=[int(r["yellow"] or 0) for r in lights],
        red=[int(r["red"] or 0) for r in lights],
        title=f"各市州项目灯色（{window.period.label_zh}）",
    )
    return render(
        "supervision.html",
        title="督办",
        lights=lights,
        totals=totals,
        lights_chart=lights_chart,
        cases=cases if viewer.may_see_enterprises else [],
        **_common(base, "supervision", viewer, periods, window),
    )


def project_page(
    engine: Engine, base: str, viewer: Viewer, periods: Sequence[str], window: data.Window, project_code: str
) -> str:
    """A project's history of lights (enterprise-level: only for viewers who may see it)."""
    history = data.project_lights(engine, project_code, window.period)
    return render(
        "project.html",
        title=project_code,
        project_code=project_code,
        project_name=history[-1]["project_name"] if history else project_code,
        history=history,
        **_common(base, "supervision", viewer, periods, window),
    )


def _by_prefecture(rows: list[dict], months: list[str], names: dict[str, str]) -> list[tuple[str, str, list]]:
    """Rows keyed by (prefecture_code, period) → one table row per prefecture, one cell per month (the
    province, 620000, last)."""
    cells: dict[str, dict[str, dict]] = {}
    for r in rows:
        cells.setdefault(r["prefecture_code"], {})[r["period"]] = r
    order = sorted(cells, key=lambda code: (code == data.PROVINCE_CODE, code))
    return [(code, names.get(code, code or "未知市州"), [cells[code].get(m) for m in months]) for code in order]


def quality(
    engine: Engine,
    base: str,
    viewer: Viewer,
    periods: Sequence[str],
    window: data.Window,
    documents: Sequence[tuple[str, str]],
) -> str:
    """数据质量: 报送率 and quarantine rates by prefecture and month, the rules most broken, the
    period's receipts and Data Docs."""
    months = [str(window.period.shift(-i)) for i in reversed(range(window.months))]
    names = {r["prefecture_code"]: r["prefecture_name"] for r in data.prefectures(engine, window.period)}
    names[data.PROVINCE_CODE] = "全省"
    completeness = data.completeness_by_month(engine, window)
    for r in completeness:
        names.setdefault(r["prefecture_code"], r["prefecture_name"])
    shown = [m for m in months if any(r["period"] == m for r in completeness)]
    quarantine_rows: dict[tuple[str, str], dict] = {}
    for r in data.quarantine_by_month(engine, window):
        key = (r["prefecture_code"], r["period"])
        acc = quarantine_rows.setdefault(key, {**r, "rows_in": 0, "quarantined": 0})
        acc["rows_in"] += int(r["rows_in"])
        acc["quarantined"] += int(r["quarantined"] or 0)
    for acc in quarantine_rows.values():
        acc["rate"] = acc["quarantined"] / acc["rows_in"] if acc["rows_in"] else None
    q_months = [m for m in months if any(k[1] == m for k in quarantine_rows)]
    latest = [
        r for r in completeness if r["period"] == str(window.period) and r["prefecture_code"] != data.PROVINCE_CODE
    ]
    completeness_chart = charts.bar_chart(
        [r["prefecture_name"] for r in latest],
        [None if r["rate"] is None else float(r["rate"]) * 100 for r in latest],
        title=f"各市州报送率（{window.period.label_zh}）",
        unit="%",
        decimals=1,
        reference=("应报全报", 100.0),
    )
    return render(
        "quality.html",
        title="数据质量",
        completeness={"months": shown, "rows": _by_prefecture(completeness, shown, names)},
        quarantine={"months": q_months, "rows": _by_prefecture(list(quarantine_rows.values()), q_months, names)},
        completeness_chart=completeness_chart,
        form_completeness={
            f"{code} {FORMS[code].title_zh}" if code in FORMS else code: found
            for code, found in data.form_completeness(engine, window.period).items()
        },
        rules=data.rules_broken(engine, window.period),
        documents=documents,
        **_common(base, "quality", viewer, periods, window),
    )
