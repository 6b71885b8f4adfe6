"""What the monthly analysis report (统计监测月报) says, as data: the province's indicators against their
targets, each 2015 target's projection, lights by prefecture, the prefectures that lag most and what
changed since last month, and the generated commentary (短评) — all read from the warehouse.

Indicators are read generically from ``fct_indicator`` / ``dim_indicator`` (every indicator of the
catalogue, whatever its number), never from a list kept here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from techreform.labels import label
from techreform.numbers import finite_number, format_number
from techreform.periods import Period
from techreform.report.projection import LIKELY, POSSIBLE, UNLIKELY, Projection, project
from techreform.warehouse import has_table, read_frame

INVESTMENT = "TR_INV_CUM"
"""The cumulative tech-reform investment toward 5000亿元 (the report's first chart and sentence)."""


@dataclass
class IndicatorLine:
    """One province-level indicator of the period with its projection."""

    code: str
    name_zh: str
    unit: str
    value: float | None
    target: float | None
    target_2015: float | None
    status: str
    previous_status: str | None
    growth: float | None
    projection: Projection | None
    periods: list[str] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)

    @property
    def status_zh(self) -> str:
        return label("indicator_status", self.status)


@dataclass
class ReportContent:
    """Everything the report shows for one period."""

    period: str
    province_name: str
    indicators: list[IndicatorLine]
    lights: list[dict[str, Any]]
    previous_lights: dict[str, dict[str, Any]]
    prefectures: list[dict[str, Any]]
    commentary: list[str]

    @property
    def investment(self) -> IndicatorLine | None:
        return next((i for i in self.indicators if i.code == INVESTMENT), None)


def _indicators(engine: Engine, period: Period) -> list[IndicatorLine]:
    with engine.connect() as conn:
        if not has_table(conn, "fct_indicator"):
            return []
        series = read_frame(conn, "marts/report/province_series", period=str(period))
    lines = []
    for code, rows in series.groupby("indicator_code", sort=False):
        rows = rows.sort_values("period")
        current = rows[rows["period"] == str(period)]
        if current.empty:
            continue
        now = current.iloc[-1]
        before = rows[rows["period"] == str(period.previous)]
        periods = [Period.parse(p) for p in rows["period"]]
        values = [finite_number(v) for v in rows["value"]]
        target_2015 = finite_number(now["target_2015"])
        projection = (
            project(
                periods,
                values,
                target_2015,
                now["direction"],
                strict=bool(finite_number(now["strict_target"]) or 0),
                tolerance=(finite_number(now["tolerance"]) or 0.0) if now["target_kind"] == "about" else 0.0,
            )
            if now["frequency"] == "monthly"
            else None
        )
        lines.append(
            IndicatorLine(
                code=str(code),
                name_zh=str(now["name_zh"]),
                unit=str(now["unit"] or ""),
                value=finite_number(now["value"]),
                target=finite_number(now["target"]),
                target_2015=target_2015,
                status=str(now["status"]),
                previous_status=None if before.empty else str(before.iloc[-1]["status"]),
                growth=finite_number(now["growth"]),
                projection=projection,
                periods=[str(p) for p in periods],
                values=values,
            )
        )
    return lines


def _lights(engine: Engine, period: Period) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    with engine.connect() as conn:
        if not has_table(conn, "sup_project_light"):
            return [], {}
        frame = read_frame(conn, "marts/report/lights_by_prefecture", period=str(period), previous=str(period.previous))
    rows = [
        {k: (int(v) if k in ("red", "yellow", "green", "escalated") else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]
    current = [r for r in rows if r["period"] == str(period)]
    previous = {r["prefecture_code"]: r for r in rows if r["period"] == str(period.previous)}
    return current, previous


def _prefectures(engine: Engine, period: Period, lights: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prefectures ranked by how much they lag: lagging indicators, then red and yellow projects."""
    with engine.connect() as conn:
        frame = (
            read_frame(conn, "marts/report/prefecture_status", period=str(period), previous=str(period.previous))
            if has_table(conn, "fct_indicator")
            else pd.DataFrame(columns=["period", "prefecture_code", "prefecture_name", "lagging", "on_track", "judged"])
        )
    by_code: dict[str, dict[str, Any]] = {}
    for r in frame.to_dict("records"):
        entry = by_code.setdefault(
            r["prefecture_code"],
            {
                "prefecture_code": r["prefecture_code"],
                "prefecture_name": r["prefecture_name"],
                "lagging": 0,
                "judged": 0,
                "previous_lagging": None,
                "red": 0,
                "yellow": 0,
            },
        )
        if r["period"] == str(period):
            entry["lagging"], entry["judged"] = int(r["lagging"]), int(r["judged"])
        else:
            entry["previous_lagging"] = int(r["lagging"])
    for light in lights:
        entry = by_code.setdefault(
            light["prefecture_code"],
            {
                "prefecture_code": light["prefecture_code"],
                "prefecture_name": light["prefecture_name"],
                "lagging": 0,
                "judged": 0,
                "previous_lagging": None,
                "red": 0,
                "yellow": 0,
            },
        )
        entry["red"], entry["yellow"] = light["red"], light["yellow"]
    return sorted(by_code.values(), key=lambda e: (-e["lagging"], -e["red"], -e["yellow"], e["prefecture_code"] or ""))


def commentary(content: ReportContent) -> list[str]:
    """The short generated commentary (短评): which targets are on track, which prefectures lag most,
    what changed since last month."""
    label_period = Period.parse(content.period).label_zh
    lines: list[str] = []
    inv = content.investment
    if inv is not None and inv.value is not None:
        text = f"截至{label_period}，“十二五”技术改造投资累计完成{format_number(inv.value)}{inv.unit}"
        if inv.target_2015:
            text += f"，占5年目标{format_number(inv.target_2015, 0)}{inv.unit}的{inv.value / inv.target_2015:.1%}"
        if inv.target is not None:
            text += f"，序时目标{format_number(inv.target)}{inv.unit}，{inv.status_zh}"
        if inv.projection is not None:
            text += f"；按目前进度预计2015年底达到{format_number(inv.projection.value)}{inv.unit}（{inv.projection.verdict_zh}）"
        lines.append(text + "。")
    judged = [i for i in content.indicators if i.status in ("met", "on_track", "lagging")]
    if judged:
        good = [i for i in judged if i.status in ("met", "on_track")]
        lagging = [i for i in judged if i.status == "lagging"]
        text = f"有目标且有数据的{len(judged)}项指标中，{len(good)}项已达标或达到序时目标"
        if lagging:
            text += f"，{len(lagging)}项滞后：{'、'.join(i.name_zh for i in lagging)}"
        lines.append(text + "。")
    projected = [
        i
        for i in content.indicators
        if i.projection is not None and i.projection.verdict in (LIKELY, POSSIBLE, UNLIKELY)
    ]
    if projected:
        unlikely = [i.name_zh for i in projected if i.projection.verdict == UNLIKELY]
        likely = sum(i.projection.verdict == LIKELY for i in projected)
        text = f"按线性趋势预测，{len(projected)}项月度指标中{likely}项预计到2015年底达标"
        if unlikely:
            text += f"，按目前进度难以达标的有：{'、'.join(unlikely)}"
        lines.append(text + "。")
    worst = [p for p in content.prefectures if p["lagging"] or p["red"]][:3]
    if worst:
        lines.append(
            "滞后较多的市州："
            + "；".join(f"{p['prefecture_name']}（滞后指标{p['lagging']}项，红灯项目{p['red']}个）" for p in worst)
            + "。"
        )
    changes = []
    for i in content.indicators:
        if i.previous_status and i.previous_status != i.status and i.status in ("met", "on_track", "lagging"):
            changes.append(f"{i.name_zh}由“{label('indicator_status', i.previous_status)}”变为“{i.status_zh}”")
    red_now = sum(r["red"] for r in content.lights)
    yellow_now = sum(r["yellow"] for r in content.lights)
    if content.previous_lights:
        red_before = sum(r["red"] for r in content.previous_lights.values())
        yellow_before = sum(r["yellow"] for r in content.previous_lights.values())
        changes.append(f"红灯项目由{red_before}个变为{red_now}个，黄灯项目由{yellow_before}个变为{yellow_now}个")
    elif content.lights:
        changes.append(f"本月红灯项目{red_now}个、黄灯项目{yellow_now}个（上月无督办数据）")
    if changes:
        lines.append("与上月相比：" + "；".join(changes) + "。")
    else:
        lines.append("与上月相比：指标状态无变化。")
    return lines


def build_content(engine: Engine, period: Period | str, province_name: str = "甘肃省") -> ReportContent:
    """The report's content for ``period`` from the warehouse."""
    period = Period.parse(period)
    lights, previous = _lights(engine, period)
    content = ReportContent(
        period=str(period),
        province_name=province_name,
        indicators=_indicators(engine, period),
        lights=lights,
        previous_lights=previous,
        prefectures=_prefectures(engine, period, lights),
        commentary=[],
    )
    content.commentary = commentary(content)
    return content
