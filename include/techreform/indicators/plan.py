"""The plan's calendar: 2010 is the baseline year, the targets run over 2011-01..2015-12 (十二五).

The target of a period lies on the straight path from the 2010 baseline (the area's value of 2010-12,
i.e. the year 2010 for year-to-date ratios) — or from 0 for cumulative targets — to the 2015 target:
``target = start + (target_2015 - start) x path_share(period)``."""

from __future__ import annotations

from techreform.periods import Period

BASELINE_PERIOD = Period(2010, 12)
PLAN_START = Period(2011, 1)
PLAN_END = Period(2015, 12)
PLAN_MONTHS = 60


def months_elapsed(period: Period) -> int:
    """Months of the plan elapsed at the end of ``period``: 2011-01 → 1, 2015-12 → 60, clamped to 0..60."""
    return max(0, min(PLAN_MONTHS, period.months_since(BASELINE_PERIOD)))


def path_share(period: Period) -> float:
    """The share of the way from the baseline to the 2015 target that ``period`` should have covered."""
    return months_elapsed(period) / PLAN_MONTHS


def year_start(period: Period) -> Period:
    return Period(period.year, 1)
