"""The quality gate (质量闸门): no indicator, light or supervisor e-mail is built on missing or broken data.

After quarantine, completeness and counts are written (the receipts are written beside the gate),
:func:`check_period` fails the run with :class:`GateFailed` — one line naming the period and every reason
— when

- a form's share of quarantined input rows exceeds ``hard_fail_threshold`` (default 0.20):
  :func:`check_gate`, :class:`DeliveryTooBroken`;
- a form's files of the period were all rejected;
- a form's accepted files of the period gave zero accepted rows (header-only files, all rows unparsable);
- a required monthly form was not delivered at all (``required_monthly_forms``, default E1 and P1; E1's
  January report is optional, so E1 is not required in January);
- a required snapshot form has no snapshot in force (``required_snapshot_forms``, default R1 and S1:
  they are delivered when they change, not every month; the latest accepted one up to the period counts);
- the province's E1 completeness (报送率) is below ``completeness_floor`` (default 0.80; not judged when
  nobody is expected, e.g. in January).

Options: :class:`techreform.options.ValidationOptions` (the ``validation`` section of the configuration)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.forms import Form
from techreform.options import ValidationOptions
from techreform.periods import Period
from techreform.reference import PROVINCE_CODE
from techreform.warehouse import query

OPTIONAL_IN_JANUARY = ("E1",)
SHARE_GATED = ("R1", "P1", "E1")  # S1 is a short contact list: its bad rows are judged one by one, not by share


class GateFailed(RuntimeError):
    """The period's data cannot be trusted for indicators and supervision: the run stops before them."""

    verdict = True
    """The data's verdict, not a fault: retrying cannot change it (:attr:`techreform.steps.Step.decides`)."""

    def __init__(self, period: str, reasons: Sequence[str]) -> None:
        self.period, self.reasons = period, list(reasons)
        super().__init__(
            f"{period}: quality gate failed, nothing computed or e-mailed — 质量闸门未通过：" + "; ".join(self.reasons)
        )


class DeliveryTooBroken(GateFailed):
    """The share of hard-failed rows of a (form, period) is above the configured threshold."""

    def __init__(self, form: Form, period: str, received: int, quarantined: int, threshold: float) -> None:
        self.form, self.received, self.quarantined, self.threshold = form, received, quarantined, threshold
        self.share = quarantined / received
        reason = (
            f"{form.code} {form.title_zh} {period}: {quarantined} of {received} rows quarantined "
            f"({self.share:.1%}) exceeds the threshold {threshold:.0%} — the delivery is broken upstream; "
            f"报表 {form.code} {period} 强制性审核未通过行占 {self.share:.1%}，超过阈值 {threshold:.0%}"
        )
        super().__init__(period, [reason])
        self.args = (reason,)

    def __str__(self) -> str:
        return self.args[0]


def quarantine_share(engine: Engine, form: Form, period: Period | str) -> tuple[int, int]:
    """``(input rows, quarantined rows)`` of the form and period (from ``etl_row_outcome``)."""
    with engine.connect() as conn:
        row = query(conn, "marts/quality/period_row_counts", form=form.code, period=str(Period.parse(period))).one()
    return int(row.received or 0), int(row.quarantined or 0)


def check_gate(
    engine: Engine, settings: Settings, form: Form, period: Period | str, counts: tuple[int, int] | None = None
) -> None:
    """Raise :class:`DeliveryTooBroken` if the quarantined share of (form, period) exceeds the threshold.
    ``counts``: the form and period's :func:`quarantine_share`, when the caller has read it already."""
    threshold = settings.options_for(ValidationOptions).hard_fail_threshold
    received, quarantined = counts if counts is not None else quarantine_share(engine, form, period)
    if received and quarantined / received > threshold:
        raise DeliveryTooBroken(form, str(Period.parse(period)), received, quarantined, threshold)


def delivery_problems(
    engine: Engine, settings: Settings, form: Form, period: Period | str, counts: tuple[int, int] | None = None
) -> list[str]:
    """Why the form's data of the period cannot be used (empty when it can): every file rejected, zero
    accepted rows, a required monthly form not delivered, no snapshot in force. ``counts`` as for
    :func:`check_gate`."""
    options = settings.options_for(ValidationOptions)
    period = Period.parse(period)
    p = str(period)
    with engine.connect() as conn:
        files = list(query(conn, "staging/files/file_log_for_period", form=form.code, period=p))
        received, quarantined = counts if counts is not None else quarantine_share(engine, form, period)
        in_force = (
            query(
                conn, "intermediate/snapshot_in_force", tables={"in_force_view": form.in_force_view}, period=p
            ).scalar()
            if form.snapshot and form.code in options.required_snapshot_forms
            else None
        )
    label = f"{form.code} {form.title_zh} {p}"
    problems: list[str] = []
    loaded = [f for f in files if f.status != "rejected"]
    if files and not loaded:
        first = files[0].message or files[0].file_name
        problems.append(f"{label}: all {len(files)} file(s) rejected (first: {first}) — 全部文件被拒收")
    elif loaded and received - quarantined <= 0:
        problems.append(
            f"{label}: the delivered files gave zero accepted rows ({received} rows received) — 报送文件无可用数据行"
        )
    if (
        not files
        and form.code in options.required_monthly_forms
        and not form.snapshot
        and not (period.month == 1 and form.code in OPTIONAL_IN_JANUARY)
    ):
        problems.append(f"{label}: nothing delivered — 本期未收到报表")
    if form.snapshot and form.code in options.required_snapshot_forms and in_force is None:
        problems.append(f"{label}: no accepted snapshot in force — 无有效的{form.title_zh}")
    return problems


def completeness_problem(engine: Engine, settings: Settings, period: Period | str) -> str | None:
    """The province's E1 completeness (报送率) below the floor, as a reason (None when it is not)."""
    floor = settings.options_for(ValidationOptions).completeness_floor
    p = str(Period.parse(period))
    with engine.connect() as conn:
        row = query(conn, "marts/quality/province_completeness", period=p, province_code=PROVINCE_CODE).first()
    if row is None or not row.expected or row.rate is None or float(row.rate) >= floor:
        return None
    return (
        f"E1 {p}: completeness {row.received}/{row.expected} = {float(row.rate):.1%} is below the floor "
        f"{floor:.0%} ({row.missing} enterprises missing) — 报送率低于下限"
    )


def check_period(engine: Engine, settings: Settings, forms: Sequence[Form], period: Period | str) -> None:
    """Raise :class:`GateFailed` naming every reason the period fails the gate (see the module doc)."""
    period = Period.parse(period)
    reasons: list[str] = []
    for form in forms:
        counts = quarantine_share(engine, form, period)  # read once for both checks (E1: half a million rows)
        try:
            if form.code in SHARE_GATED:
                check_gate(engine, settings, form, period, counts)
        except DeliveryTooBroken as exc:
            reasons.append(str(exc))
        reasons += delivery_problems(engine, settings, form, period, counts)
    low = completeness_problem(engine, settings, period)
    if low:
        reasons.append(low)
    if reasons:
        raise GateFailed(str(period), reasons)
