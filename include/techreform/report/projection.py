"""Projection of each 2015 target from the series so far (2015年目标预测).

Method (stated in the report and ``docs/report.md``): an ordinary least-squares linear trend
``value = a + b·k`` fitted to the indicator's province-level monthly values so far (k = months since
2010-12, so 2011-01 is 1 and 2015-12 is 60; the cumulative series for TR_INV_CUM, the year-to-date values
for ratios), extrapolated to k = 60, with a 90 % prediction interval
``ŷ ± t(0.95, n−2) · s · √(1 + 1/n + (60 − k̄)² / Σ(k − k̄)²)``. The target counts as met at the current pace
when the projected value reaches it in the indicator's direction (≥ for up, ≤ for down, > for a
``more_than`` target, within the tolerance for an ``about`` target); the verdict is 预计达标 when the whole
interval reaches it, 可能达标 when only the projected value does, 预计难以达标 otherwise. From 2015-12 on the
value of 2015-12 is the result (实际值). Fewer than :data:`MIN_POINTS` values give no projection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.special import stdtrit

from techreform.periods import Period


def t_quantile(probability: float, degrees_of_freedom: float) -> float:
    """Student's t quantile, ``scipy.stats.t.ppf(probability, degrees_of_freedom)``: the same function of
    ``scipy.special`` that ``t.ppf`` calls (``stdtrit``), the same value (nan for no degree of freedom),
    without importing SciPy's statistics (0.6 s on the chain's last step; docs/performance.md, round 21)."""
    return float(stdtrit(degrees_of_freedom, probability))


PLAN_END = Period(2015, 12)
BASE = Period(2010, 12)
MIN_POINTS = 3
"""Values needed for a trend and its interval."""
LEVEL = 0.90
"""Coverage of the prediction interval."""

LIKELY, POSSIBLE, UNLIKELY, ACTUAL_MET, ACTUAL_MISSED = "likely", "possible", "unlikely", "met", "missed"
VERDICT_ZH = {
    LIKELY: "预计达标",
    POSSIBLE: "可能达标",
    UNLIKELY: "预计难以达标",
    ACTUAL_MET: "已达标（实际值）",
    ACTUAL_MISSED: "未达标（实际值）",
}


@dataclass(frozen=True)
class Projection:
    """The projected 2015-12 value of one indicator, its interval and the verdict against the target."""

    value: float
    low: float
    high: float
    points: int
    slope: float
    verdict: str

    @property
    def verdict_zh(self) -> str:
        return VERDICT_ZH[self.verdict]


def reaches(value: float, target: float, direction: str | None, strict: bool = False, tolerance: float = 0.0) -> bool:
    """Whether ``value`` reaches ``target`` in ``direction`` (``up``: ≥, or > when ``strict``; ``down``: ≤);
    ``tolerance`` > 0 (an ``about`` target) accepts a value within that share of the target."""
    if tolerance > 0:  # 左右: within the tolerance of the target counts
        target = target - abs(target) * tolerance if direction != "down" else target + abs(target) * tolerance
        strict = False
    if direction == "down":
        return value < target if strict else value <= target
    return value > target if strict else value >= target


def project(
    periods: Sequence[Period],
    values: Sequence[float | None],
    target: float | None,
    direction: str | None,
    *,
    strict: bool = False,
    tolerance: float = 0.0,
) -> Projection | None:
    """The projection of a series (``periods`` with their ``values``; missing values skipped) to 2015-12
    against ``target`` (see the module doc); ``None`` when there are fewer than :data:`MIN_POINTS` values
    or no target."""
    points = [
        (p.months_since(BASE), float(v))
        for p, v in zip(periods, values)
        if v is not None and math.isfinite(float(v)) and p <= PLAN_END
    ]
    if target is None or not math.isfinite(target):
        return None
    at_end = [v for k, v in points if k == PLAN_END.months_since(BASE)]
    if at_end:
        met = reaches(at_end[0], target, direction, strict, tolerance)
        return Projection(at_end[0], at_end[0], at_end[0], len(points), 0.0, ACTUAL_MET if met else ACTUAL_MISSED)
    if len(points) < MIN_POINTS:
        return None
    n = len(points)
    ks = [k for k, _ in points]
    ys = [v for _, v in points]
    k_mean = sum(ks) / n
    y_mean = sum(ys) / n
    sxx = sum((k - k_mean) ** 2 for k in ks)
    if sxx == 0:
        return None
    slope = sum((k - k_mean) * (y - y_mean) for k, y in zip(ks, ys)) / sxx
    intercept = y_mean - slope * k_mean
    residuals = [y - (intercept + slope * k) for k, y in zip(ks, ys)]
    s = math.sqrt(sum(r * r for r in residuals) / (n - 2)) if n > 2 else 0.0
    k_end = PLAN_END.months_since(BASE)
    value = intercept + slope * k_end
    half = t_quantile(0.5 + LEVEL / 2, n - 2) * s * math.sqrt(1 + 1 / n + (k_end - k_mean) ** 2 / sxx)
    low, high = value - half, value + half
    worst = low if direction != "down" else high
    if reaches(worst, target, direction, strict, tolerance):
        verdict = LIKELY
    elif reaches(value, target, direction, strict, tolerance):
        verdict = POSSIBLE
    else:
        verdict = UNLIKELY
    return Projection(value, low, high, n, slope, verdict)
