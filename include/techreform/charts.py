"""Charts as SVG text, drawn on the server, with no asset from the network.

Every chart a person reads — the monitoring view in Airflow (``plugins/``), the monthly analysis report
(HTML and PDF), the e-mails — is one of these functions: plain data in (lists of labels and numbers,
``None`` for a missing value), one ``<svg>`` string out, with its Chinese text in the CJK font family
:data:`FONT_FAMILY` (Debian's fonts-noto-cjk, installed by ``make system``). The SVG is inline-ready
(no XML declaration, no external reference: no ``href``, no ``<image>``, no web font), so it reads the
same offline in a browser, in WeasyPrint and in a mail client that shows SVG.

The charts:

* :func:`investment_trajectory` — cumulative technical-transformation investment (技术改造投资累计) against
  the straight path from 0 at 2010-12 to the plan's 5000亿元 at 2015-12 (十二五);
* :func:`line_chart` / :func:`indicator_trend` — an indicator's series with its target path;
* :func:`column_chart` — one value per month or category, negative values below the zero line (YoY growth);
* :func:`bar_chart` — horizontal bars per prefecture (rates, counts);
* :func:`stacked_bar_chart` — horizontal stacked bars per prefecture (green/yellow/red lights).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from techreform import numbers
from techreform.indicators.plan import BASELINE_PERIOD, PLAN_END
from techreform.numbers import finite_number
from techreform.periods import Period, period_range

FONT_FAMILY = "'Noto Sans CJK SC', 'Noto Sans CJK', 'Noto Sans SC', 'Source Han Sans SC', sans-serif"
"""The font family of every chart's text: Noto Sans CJK SC (Debian fonts-noto-cjk) first."""

LIGHT_COLOURS = {"green": "#2E7D32", "yellow": "#D4A017", "red": "#C62828"}
"""Colours of the supervision lights (灯色)."""

PALETTE = ("#1F5FA8", "#C0504D", "#4F8A3C", "#8064A2", "#E07B00", "#2C9AA6", "#7F7F7F")
"""Colours of successive series."""

TARGET_COLOUR = "#888888"
GRID_COLOUR = "#E3E3E3"
AXIS_COLOUR = "#555555"
TEXT_COLOUR = "#222222"


@dataclass(frozen=True)
class Series:
    """One line of a line chart: its name (in the legend), one value per x label (``None``: missing,
    the line breaks), its colour and whether it is dashed (a target path)."""

    name: str
    values: Sequence[float | None]
    colour: str | None = None
    dashed: bool = False
    markers: bool = True


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``low..high`` (1, 2, 2.5 or 5 times a power of ten)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("tick range must be finite")
    if high < low:
        low, high = high, low
    if high == low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def chart_label(value: float | None, decimals: int | None = None) -> str:
    """A chart's label (``numbers.format_number``): with ``decimals`` given, exactly that many; otherwise
    as many as the magnitude deserves on a chart (none from 1,000, one from 100, else two)."""
    number = finite_number(value)
    if number is None or decimals is not None:
        return numbers.format_number(number, decimals or 0, keep_zeros=True)
    magnitude = abs(number)
    return numbers.format_number(number, 0 if magnitude >= 1000 else (1 if magnitude >= 100 else 2))


def _attr(value: object) -> str:
    """``value`` escaped for a double-quoted attribute (``&``, ``<``, ``>`` and ``"``)."""
    return escape(str(value), {'"': "&quot;"})


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = 12,
    anchor: str = "start",
    colour: str = TEXT_COLOUR,
    weight: str = "normal",
    extra: str = "",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{colour}"'
        f' font-weight="{weight}"{extra}>{escape(content)}</text>'
    )


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="{_attr(title)}" font-family="{FONT_FAMILY}"'
        ' class="techreform-chart">'
        f"<title>{escape(title)}</title>"
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#FFFFFF"/>'
        + _text(16, 24, title, size=15, weight="bold")
    )
    return head + "".join(body) + "</svg>"


def _legend(x: float, y: float, items: Sequence[tuple[str, str, bool]]) -> list[str]:
    """Legend entries ``(name, colour, dashed)`` in one row from ``x`` (right-aligned when x < 0 is not used)."""
    out = []
    for name, colour, dashed in items:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        out.append(
            f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 22:.1f}" y2="{y - 4:.1f}" stroke="{colour}"'
            f' stroke-width="2.5"{dash}/>'
        )
        out.append(_text(x + 27, y, name, size=12))
        x += 27 + 13 * len(name) + 18
    return out


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    width: int = 760,
    height: int = 320,
    tick_every: int | None = None,
    y_min: float | None = None,
    annotate_last: bool = True,
) -> str:
    """A line chart of ``series`` over ``x_labels`` (one value per label, ``None`` breaks a line). The
    y axis starts at ``y_min`` (default: 0 when every value is positive); the last value of the first
    series is written beside its point when ``annotate_last``."""
    for s in series:
        if len(s.values) != len(x_labels):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(x_labels)} labels")
    values = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    left, right, top, bottom = 64, 36, 66, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    body: list[str] = []
    if not values or not x_labels:
        body.append(_text(width / 2, height / 2, "本期无数据", size=14, anchor="middle", colour=AXIS_COLOUR))
        return _frame(width, height, title, body)
    low = min(values) if y_min is None else y_min
    if y_min is None and low > 0:
        low = 0.0
    ticks = nice_ticks(low, max(values))

    def sx(i: int) -> float:
        return left + (plot_w * i / (len(x_labels) - 1) if len(x_labels) > 1 else plot_w / 2)

    sy = _vertical_value_axis(body, ticks, left, top, plot_w, plot_h, unit)
    body.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{AXIS_COLOUR}"/>'
    )
    every = tick_every or max(1, math.ceil(len(x_labels) / 10))
    for i, label in enumerate(x_labels):
        if i % every == 0 or i == len(x_labels) - 1 and len(x_labels) <= 12:
            body.append(_text(sx(i), top + plot_h + 18, label, size=11, anchor="middle", colour=AXIS_COLOUR))
    legend = []
    for n, s in enumerate(series):
        colour = s.colour or PALETTE[n % len(PALETTE)]
        legend.append((s.name, colour, s.dashed))
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(s.values):
            if v is None or not math.isfinite(v):
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append((sx(i), sy(v)))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                body.append(
                    f'<polyline class="series" data-series="{_attr(s.name)}" points="{points}" fill="none"'
                    f' stroke="{colour}" stroke-width="2.2"{dash}/>'
                )
            if s.markers and not s.dashed:
                body.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.8" fill="{colour}"/>' for x, y in run)
    if annotate_last and series:
        first = series[0]
        last = next(((i, v) for i, v in reversed(list(enumerate(first.values))) if v is not None), None)
        if last is not None:
            i, v = last
            anchor = "end" if sx(i) > left + plot_w * 0.8 else "start"
            dx = -6 if anchor == "end" else 6
            body.append(
                _text(
                    sx(i) + dx,
                    sy(v) - 8,
                    chart_label(v),
                    size=12,
                    anchor=anchor,
                    colour=first.colour or PALETTE[0],
                    weight="bold",
                )
            )
    body.extend(_legend(left, 46, legend))
    return _frame(width, height, title, body)


def investment_trajectory(
    periods: Sequence[str],
    cumulative: Sequence[float | None],
    *,
    target_2015: float = 5000.0,
    unit: str = "亿元",
    title: str = "“十二五”技术改造投资累计与5000亿元目标的序时路径",
    width: int = 760,
    height: int = 340,
) -> str:
    """The cumulative technical-transformation investment (``TR_INV_CUM``) of ``periods`` (``YYYY-MM``)
    against the straight path from 0 at 2010-12 to ``target_2015`` at 2015-12, over the whole plan
    (2011-01..2015-12, and any later period given). The path is the same the indicator's target follows
    (:mod:`techreform.indicators.plan`)."""
    if len(periods) != len(cumulative):
        raise ValueError("one cumulative value per period")
    given = {str(Period.parse(p)): v for p, v in zip(periods, cumulative, strict=True)}
    last = max([PLAN_END, *(Period.parse(p) for p in periods)])
    axis = period_range(BASELINE_PERIOD, last)
    labels = [str(p) for p in axis]
    path = [
        target_2015 * min(1.0, p.months_since(BASELINE_PERIOD) / PLAN_END.months_since(BASELINE_PERIOD)) for p in axis
    ]
    actual = [0.0 if p == BASELINE_PERIOD and given.get(str(p)) is None else given.get(str(p)) for p in axis]
    if not any(v is not None for v in given.values()):
        actual = [None] * len(axis)
    ticks_at = [p.year if p.month == 12 else "" for p in axis]
    shown = [str(t) + "年末" if t else "" for t in ticks_at]
    chart = line_chart(
        shown,
        [
            Series("累计完成", actual, colour=PALETTE[0]),
            Series(f"序时路径（至2015年末{chart_label(target_2015)}{unit}）", path, colour=TARGET_COLOUR, dashed=True),
        ],
        title=title,
        unit=unit,
        width=width,
        height=height,
        tick_every=1,
        y_min=0.0,
    )
    if all(v is None for v in actual):
        chart = (
            chart[: -len("</svg>")] + _text(width / 2, height / 2, "本期无数据", size=14, anchor="middle") + "</svg>"
        )
    return chart.replace(
        'class="techreform-chart"', f'class="techreform-chart" data-periods="{labels[0]}..{labels[-1]}"', 1
    )


def indicator_trend(
    periods: Sequence[str],
    values: Sequence[float | None],
    targets: Sequence[float | None] | None = None,
    *,
    title: str,
    unit: str = "",
    width: int = 560,
    height: int = 260,
) -> str:
    """An indicator's values over ``periods`` with, when given, its target of each period (the straight
    path to the 2015 target) as a dashed line."""
    series = [Series("实际值", values, colour=PALETTE[0])]
    if targets is not None and any(t is not None for t in targets):
        series.append(Series("序时目标", targets, colour=TARGET_COLOUR, dashed=True))
    low = [v for v in (*values, *(targets or ())) if v is not None]
    return line_chart(
        list(periods),
        series,
        title=title,
        unit=unit,
        width=width,
        height=height,
        y_min=min(low) if low and min(low) < 0 else None,
    )


def column_chart(
    categories: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    unit: str = "",
    width: int = 760,
    height: int = 280,
    positive_colour: str = PALETTE[0],
    negative_colour: str = PALETTE[1],
    decimals: int | None = 1,
) -> str:
    """Vertical columns, one per category (e.g. month), from the zero line: negative values below it in
    ``negative_colour``; a missing value leaves its slot empty and says 无数据."""
    if len(categories) != len(values):
        raise ValueError("one value per category")
    present = [v for v in values if v is not None and math.isfinite(v)]
    left, right, top, bottom = 64, 16, 48, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    body: list[str] = []
    if not present:
        body.append(_text(width / 2, height / 2, "本期无数据", size=14, anchor="middle", colour=AXIS_COLOUR))
        return _frame(width, height, title, body)
    ticks = nice_ticks(min(0.0, *present), max(0.0, *present))

    sy = _vertical_value_axis(body, ticks, left, top, plot_w, plot_h, unit)
    slot = plot_w / len(categories)
    bar_w = max(4.0, min(40.0, slot * 0.6))
    every = max(1, math.ceil(len(categories) / 14))
    for i, (cat, v) in enumerate(zip(categories, values, strict=True)):
        cx = left + slot * (i + 0.5)
        if i % every == 0:
            body.append(_text(cx, top + plot_h + 18, cat, size=11, anchor="middle", colour=AXIS_COLOUR))
        if v is None or not math.isfinite(v):
            body.append(_text(cx, sy(0) - 4, "无数据", size=10, anchor="middle", colour=AXIS_COLOUR))
            continue
        y0, y1 = sorted((sy(0), sy(v)))
        colour = positive_colour if v >= 0 else negative_colour
        body.append(
            f'<rect class="bar" data-category="{_attr(cat)}" data-value="{v!r}" x="{cx - bar_w / 2:.1f}"'
            f' y="{y0:.1f}" width="{bar_w:.1f}" height="{max(0.5, y1 - y0):.1f}" fill="{colour}"/>'
        )
        if len(categories) <= 24:
            ly = y0 - 4 if v >= 0 else y1 + 12
            body.append(_text(cx, ly, chart_label(v, decimals), size=10, anchor="middle"))
    body.append(f'<line x1="{left}" y1="{sy(0):.1f}" x2="{left + plot_w}" y2="{sy(0):.1f}" stroke="{AXIS_COLOUR}"/>')
    return _frame(width, height, title, body)


def stacked_bar_chart(
    categories: Sequence[str],
    stacks: Sequence[tuple[str, Sequence[float], str]],
    *,
    title: str,
    unit: str = "",
    width: int = 760,
    bar_height: int = 18,
    decimals: int | None = None,
    show_totals: bool = True,
) -> str:
    """Horizontal bars, one per category (e.g. prefecture), each the stack of ``stacks`` — ``(name,
    values, colour)``, one value per category — with each segment's value inside it when it fits and the
    total at the end."""
    for name, vals, _ in stacks:
        if len(vals) != len(categories):
            raise ValueError(f"stack {name!r} has {len(vals)} values for {len(categories)} categories")
    left, right, top = 96, 64, 56
    row_h = bar_height + 8
    height = top + row_h * max(1, len(categories)) + 32
    plot_w = width - left - right
    totals = [sum(v for _, vals, _ in stacks if (v := vals[i]) is not None) for i in range(len(categories))]
    body: list[str] = []
    if not categories:
        body.append(_text(width / 2, top + 20, "本期无数据", size=14, anchor="middle", colour=AXIS_COLOUR))
        return _frame(width, top + 60, title, body)
    ticks = nice_ticks(0.0, max(max(totals, default=0.0), 1.0))
    x_hi = ticks[-1]

    def sx(v: float) -> float:
        return left + plot_w * v / x_hi

    plot_bottom = top + row_h * len(categories)
    _horizontal_value_axis(body, ticks, sx, left + plot_w, top, plot_bottom, unit)
    for i, cat in enumerate(categories):
        y = top + row_h * i
        body.append(_text(left - 8, y + bar_height - 4, cat, size=12, anchor="end"))
        x = 0.0
        for name, vals, colour in stacks:
            v = vals[i] or 0.0
            if v <= 0:
                continue
            body.append(
                f'<rect class="bar" data-category="{_attr(cat)}" data-series="{_attr(name)}"'
                f' data-value="{v!r}" x="{sx(x):.1f}" y="{y:.1f}" width="{sx(x + v) - sx(x):.1f}"'
                f' height="{bar_height}" fill="{colour}"/>'
            )
            label = chart_label(v, decimals)
            if sx(x + v) - sx(x) > 8 * len(label) + 4:
                body.append(
                    _text(
                        (sx(x) + sx(x + v)) / 2, y + bar_height - 5, label, size=11, anchor="middle", colour="#FFFFFF"
                    )
                )
            x += v
        if show_totals:
            body.append(_text(sx(x) + 6, y + bar_height - 4, chart_label(totals[i], decimals), size=11))
    if len(stacks) > 1:
        body.extend(_legend(left, 44, [(name, colour, False) for name, _, colour in stacks]))
    return _frame(width, height, title, body)


def bar_chart(
    categories: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    unit: str = "",
    width: int = 760,
    colours: Sequence[str] | None = None,
    decimals: int | None = None,
    reference: tuple[str, float] | None = None,
) -> str:
    """Horizontal bars, one per category (e.g. prefecture), with the value at the end of each bar; a
    missing value reads 无数据. ``reference`` (``(label, value)``, e.g. ``("目标", 100)``) draws a dashed
    vertical line."""
    if len(categories) != len(values):
        raise ValueError("one value per category")
    if colours is not None and len(colours) != len(categories):
        raise ValueError("one colour per category")
    left, right, top, bar_height = 96, 64, 44, 18
    row_h = bar_height + 8
    height = top + row_h * max(1, len(categories)) + 32
    plot_w = width - left - right
    present = [v for v in values if v is not None and math.isfinite(v)]
    body: list[str] = []
    if not present:
        body.append(_text(width / 2, top + 20, "本期无数据", size=14, anchor="middle", colour=AXIS_COLOUR))
        return _frame(width, height, title, body)
    hi = max(*present, reference[1] if reference else 0.0, 0.0)
    lo = min(0.0, *present)
    ticks = nice_ticks(lo, hi if hi > lo else lo + 1)
    x_lo, x_hi = ticks[0], ticks[-1]

    def sx(v: float) -> float:
        return left + plot_w * (v - x_lo) / (x_hi - x_lo)

    plot_bottom = top + row_h * len(categories)
    _horizontal_value_axis(body, ticks, sx, left + plot_w, top, plot_bottom, unit)
    for i, (cat, v) in enumerate(zip(categories, values, strict=True)):
        y = top + row_h * i
        body.append(_text(left - 8, y + bar_height - 4, cat, size=12, anchor="end"))
        if v is None or not math.isfinite(v):
            body.append(_text(sx(0) + 6, y + bar_height - 4, "无数据", size=11, colour=AXIS_COLOUR))
            continue
        x0, x1 = sorted((sx(0), sx(v)))
        colour = colours[i] if colours else PALETTE[0]
        body.append(
            f'<rect class="bar" data-category="{_attr(cat)}" data-value="{v!r}" x="{x0:.1f}" y="{y:.1f}"'
            f' width="{max(0.5, x1 - x0):.1f}" height="{bar_height}" fill="{colour}"/>'
        )
        body.append(_text(x1 + 6, y + bar_height - 4, chart_label(v, decimals), size=11))
    if reference is not None:
        label, value = reference
        body.append(
            f'<line x1="{sx(value):.1f}" y1="{top - 6}" x2="{sx(value):.1f}" y2="{plot_bottom}"'
            f' stroke="{TARGET_COLOUR}" stroke-width="1.5" stroke-dasharray="5 4"/>'
        )
        body.append(_text(sx(value), top - 10, label, size=11, anchor="middle", colour=AXIS_COLOUR))
    return _frame(width, height, title, body)


def lights_by_prefecture(
    prefectures: Sequence[str],
    green: Sequence[int],
    yellow: Sequence[int],
    red: Sequence[int],
    *,
    title: str = "各市州项目灯色",
    width: int = 760,
) -> str:
    """The lights (灯色) of each prefecture's supervised projects as stacked bars (红灯, 黄灯, 绿灯)."""
    return stacked_bar_chart(
        prefectures,
        [
            ("红灯", red, LIGHT_COLOURS["red"]),
            ("黄灯", yellow, LIGHT_COLOURS["yellow"]),
            ("绿灯", green, LIGHT_COLOURS["green"]),
        ],
        title=title,
        unit="个项目",
        width=width,
        decimals=0,
    )


def _vertical_value_axis(
    body: list[str], ticks: list[float], left: float, top: float, plot_w: float, plot_h: float, unit: str
) -> Callable[[float], float]:
    """Grid lines and labels of a vertical value axis over ``ticks`` (appended to ``body``), the unit
    above it; returns the value → y mapping."""

    y_lo, y_hi = ticks[0], ticks[-1]

    def sy(v: float) -> float:
        return top + plot_h * (1 - (v - y_lo) / (y_hi - y_lo))

    for t in ticks:
        body.append(
            f'<line x1="{left}" y1="{sy(t):.1f}" x2="{left + plot_w}" y2="{sy(t):.1f}" stroke="{GRID_COLOUR}"/>'
        )
        body.append(_text(left - 6, sy(t) + 4, chart_label(t), size=11, anchor="end", colour=AXIS_COLOUR))
    if unit:
        body.append(_text(left - 6, top - 10, unit, size=11, anchor="end", colour=AXIS_COLOUR))
    return sy


def _horizontal_value_axis(
    body: list[str],
    ticks: list[float],
    sx: Callable[[float], float],
    right: float,
    top: float,
    plot_bottom: float,
    unit: str,
) -> None:
    """Grid lines and labels of a horizontal value axis over ``ticks`` (appended to ``body``), the unit
    at its right end."""
    for t in ticks:
        body.append(
            f'<line x1="{sx(t):.1f}" y1="{top - 4}" x2="{sx(t):.1f}" y2="{plot_bottom}" stroke="{GRID_COLOUR}"/>'
        )
        body.append(_text(sx(t), plot_bottom + 16, chart_label(t), size=11, anchor="middle", colour=AXIS_COLOUR))
    if unit:
        body.append(_text(right, plot_bottom + 30, unit, size=11, anchor="end", colour=AXIS_COLOUR))
