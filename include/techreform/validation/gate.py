"""The quality gate (质量闸门): a delivery too broken to be a reporting problem is an upstream fault.

After quarantine, receipts and counts are written, a form whose share of quarantined input rows in the
period exceeds ``settings.section("validation")["hard_fail_threshold"]`` (default 0.20) fails the run
loudly with :class:`DeliveryTooBroken`."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.forms import Form
from techreform.periods import Period
from techreform.warehouse import query

DEFAULT_THRESHOLD = 0.20


class DeliveryTooBroken(RuntimeError):
    """The share of hard-failed rows of a (form, period) is above the configured threshold."""

    def __init__(self, form: Form, period: str, received: int, quarantined: int, threshold: float) -> None:
        self.form, self.period, self.received, self.quarantined, self.threshold = (
            form, period, received, quarantined, threshold)
        self.share = quarantined / received
        super().__init__(
            f"{form.code} {form.title_zh} {period}: {quarantined} of {received} rows quarantined "
            f"({self.share:.1%}) exceeds the threshold {threshold:.0%} — the delivery is broken upstream; "
            f"报表 {form.code} {period} 强制性审核未通过行占 {self.share:.1%}，超过阈值 {threshold:.0%}")


def quarantine_share(engine: Engine, form: Form, period: Period | str) -> tuple[int, int]:
    """``(input rows, quarantined rows)`` of the form and period (from ``etl_row_outcome``)."""
    with engine.connect() as conn:
        row = query(conn, "validation/period_row_counts", form=form.code, period=str(Period.parse(period))).one()
    return int(row.received or 0), int(row.quarantined or 0)


def check_gate(engine: Engine, settings: Settings, form: Form, period: Period | str) -> None:
    """Raise :class:`DeliveryTooBroken` if the quarantined share of (form, period) exceeds the threshold."""
    threshold = float(settings.section("validation").get("hard_fail_threshold", DEFAULT_THRESHOLD))
    received, quarantined = quarantine_share(engine, form, period)
    if received and quarantined / received > threshold:
        raise DeliveryTooBroken(form, str(Period.parse(period)), received, quarantined, threshold)
