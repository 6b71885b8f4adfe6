"""Report periods (报告期): one calendar month, written ``YYYY-MM``.

Periods are plain strings in the warehouse so that SQLite and PostgreSQL compare them the same way
(lexicographic order equals time order). :class:`Period` does the arithmetic."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

REPORTING_TIMEZONE = ZoneInfo("Asia/Shanghai")
_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    """A report month. ``str(Period(2013, 6)) == "2013-06"``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} is not between 1 and 12")
        if not 1900 <= self.year <= 2999:
            raise ValueError(f"year {self.year} is out of range")

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """Parse the canonical ``YYYY-MM`` form (use :func:`techreform.cells.parse_month` for the
        many spellings found in deliveries)."""
        if isinstance(text, Period):
            return text
        match = _PERIOD_RE.match(str(text).strip())
        if not match:
            raise ValueError(f"{text!r} is not a period of the form YYYY-MM")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of_datetime(cls, moment: dt.datetime) -> Period:
        """The report month containing ``moment`` as seen in China (Asia/Shanghai).

        Airflow hands data intervals in UTC: 2013-06-01 00:00 in Shanghai is 2013-05-31 16:00 UTC,
        so the conversion must happen before the month is taken."""
        if moment.tzinfo is None:
            raise ValueError("a timezone-aware datetime is needed to find its report month")
        local = moment.astimezone(REPORTING_TIMEZONE)
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def index(self) -> int:
        """Months since January of year 0: consecutive periods have consecutive indexes."""
        return self.year * 12 + (self.month - 1)

    def months_since(self, earlier: Period) -> int:
        """Whole months from ``earlier`` to this period (``2013-06`` since ``2013-01`` is 5; negative if
        ``earlier`` is later). The one place month differences are computed."""
        return self.index - earlier.index

    @classmethod
    def of_index(cls, index: int) -> Period:
        """The period whose :attr:`index` is ``index``."""
        return cls(index // 12, index % 12 + 1)

    def shift(self, months: int) -> Period:
        return Period.of_index(self.index + months)

    @property
    def previous(self) -> Period:
        return self.shift(-1)

    @property
    def next(self) -> Period:
        return self.shift(1)

    @property
    def same_period_last_year(self) -> Period:
        return Period(self.year - 1, self.month)

    @property
    def label_zh(self) -> str:
        """``2013年6月``, as used in email subjects and receipts."""
        return f"{self.year}年{self.month}月"

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)


def date_zh(day: dt.date) -> str:
    """A day as people read it in receipts and e-mails: ``2013年8月5日`` (no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def period_range(first: str | Period, last: str | Period) -> list[Period]:
    """All periods from ``first`` to ``last`` inclusive."""
    start, end = Period.parse(first), Period.parse(last)
    if end < start:
        raise ValueError(f"period range {start}..{end} is empty")
    out = [start]
    while out[-1] < end:
        out.append(out[-1].next)
    return out
