"""Numbers as the pipeline reads them and as people read them, in one place.

``finite_number`` is how any value from a frame, the warehouse or a content row becomes a number (or
nothing): text, integers, decimals and floats are read; ``None``, NaN, ±inf and anything unreadable are
no number. ``format_number`` is how a number is shown in e-mails, receipts, the report, the monitoring
view and the charts: thousands separated by ``,``, at most ``decimals`` decimals, trailing zeros dropped
(``2611.4164`` → ``2,611.42``, ``1200.0`` → ``1,200``), and a chosen mark for no number.
"""

from __future__ import annotations

import math
from typing import Any

NO_NUMBER = "—"
"""What shows where a number is missing (the report, the view, the charts)."""


def finite_number(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` when it is missing, not a number, NaN or infinite."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def format_number(value: Any, decimals: int = 2, *, keep_zeros: bool = False, missing: str = NO_NUMBER) -> str:
    """``value`` with thousands separators and at most ``decimals`` decimals (exactly ``decimals`` with
    ``keep_zeros``); ``missing`` when it is no number (``finite_number``). ``-0`` shows as ``0``."""
    number = finite_number(value)
    if number is None:
        return missing
    text = f"{number:,.{decimals}f}"
    if not keep_zeros and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.lstrip("-") if text.startswith("-") and not text.strip("-0.,") else text
