"""The monthly chain as one table of steps: what the DAG's tasks are and what ``techreform run`` does.

:data:`STEPS` lists the steps of a report period in order. Each is a name (the Airflow task id), the
function that does it (a dotted path, imported only when the step runs, so that the DAG file can read
the table at parse time without importing the package's heavy modules), the Assets it updates and its
retry policy. Every step function takes one :class:`RunContext` — the settings, the warehouse engine, the
period parsed once, who runs it and how e-mail goes — and returns a small summary (an XCom in Airflow).

- ``dags/techreform_monthly.py`` builds one task per step, in this order, around the deferrable wait for
  the delivery deadline (an Airflow-only concern).
- :func:`run_period` runs the same steps in the same order without Airflow (the CLI, backfills, tests).

A step runs after the step before it in the table, unless it names its upstream steps (``after``): the
forms' ingests all follow ``prepare_warehouse`` and run in parallel on the workers, and the first
validation waits for all four (:func:`upstream`). The table's order is always one the DAG allows, so the
CLI runs the same steps one after the other. Each step holds the period for its run and itself
exclusively (:func:`techreform.runlock.period_lock`): the tasks of one run share the period, another run of
the same period is refused at once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG imports this module at parse time: nothing heavy at import
    from sqlalchemy.engine import Engine

    from techreform.config import Settings
    from techreform.periods import Period

ASSET_PREFIX = "techreform://warehouse/"
EXTRACTS_ASSET = "techreform://extracts/bureau"


@dataclass(frozen=True)
class RunContext:
    """What every step works in: settings, the warehouse engine, the report period (parsed once), the
    run that holds the period (``owner``: an Airflow ``dag/run_id`` or ``cli-…``), the SMTP settings
    (``None``: e-mails go to the outbox) and whether supervisors are e-mailed at all."""

    settings: Settings
    engine: Engine
    period: Period
    owner: str = "cli"
    smtp: Any = None
    notify: bool = True


@dataclass(frozen=True)
class Step:
    """One step of the monthly chain (one Airflow task)."""

    name: str
    target: str
    """``module:function`` taking a :class:`RunContext` (and ``args``) and returning a small summary."""
    args: tuple[Any, ...] = ()
    outlets: tuple[str, ...] = ()
    """URIs of the Assets this step updates (warehouse tables: :func:`warehouse_asset`)."""
    retries: int | None = None
    retry_delay_minutes: float | None = None
    decides: bool = False
    """This step gives the data's verdict (the quality gate): an exception marked ``verdict`` fails the run
    without retries and the engineers are alerted; any other failure (a lost connection) is retried."""
    delivers: bool = False
    """Delivers to people outside the pipeline (supervisors' e-mails, the bureau's extract): it gets the
    SMTP settings, and is skipped when a run must deliver nothing (``techreform run --no-notify``)."""
    fault_after: str | None = None
    """Kill point injected after the step (tests only, :mod:`techreform.faults`)."""
    after: tuple[str, ...] | None = None
    """The steps this one waits for in the DAG; ``None``: the step before it in the table."""
    doc: str = ""

    def function(self) -> Callable[..., Any]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def run(self, ctx: RunContext) -> Any:
        """Do the step for ``ctx``'s period, holding the period's run lock, with database errors as one
        line naming the warehouse and the step."""
        from techreform.faults import fault_point
        from techreform.memory import memory_given_back

        # the next step of this process does not start on this one's high-water mark
        with memory_given_back(), step_guard(ctx, self.name):
            result = self.function()(ctx, *self.args)
        if self.fault_after:
            fault_point(self.fault_after)
        return result


def warehouse_asset(table: str) -> str:
    """The Asset URI of a warehouse table: ``techreform://warehouse/<table>``."""
    return ASSET_PREFIX + table


TASK_LABELS: dict[str, str] = {
    "R1": "register",
    "S1": "supervisors",
    "P1": "projects",
    "E1": "enterprises",
    "G1": "programmes",
    "Q1": "products",
    "A1": "annual",
}
"""Each form's word in its task ids (``ingest_<label>``, ``validate_load_<label>``)."""


def _forms() -> Iterator[Step]:
    # The forms' ingests touch only their own form's files and rows: in parallel, each after
    # prepare_warehouse. The validations run after every ingest, in PROCESSING_ORDER (the register and
    # supervisors in force first; E1's cross-form rule reads P1).
    from techreform.forms import PROCESSING_ORDER  # the forms as data: no heavy import

    ingests = tuple(f"ingest_{TASK_LABELS[form.code]}" for form in PROCESSING_ORDER)
    for form in PROCESSING_ORDER:
        code, label = form.code, TASK_LABELS[form.code]
        yield Step(
            f"ingest_{label}",
            "techreform.pipeline:ingest_form",
            (code,),
            fault_after="after_ingest",
            after=("prepare_warehouse",),
            doc=f"{code}: keep every new file of the delivery in the raw zone, stage its rows",
        )
    for index, form in enumerate(PROCESSING_ORDER):  # the validations: in order, after every ingest
        code, label = form.code, TASK_LABELS[form.code]
        yield Step(
            f"validate_load_{label}",
            "techreform.pipeline:validate_load_form",
            (code,),
            outlets=(warehouse_asset(form.target_table),),
            after=ingests if index == 0 else None,
            doc=f"{code}: validate (Great Expectations) and replace the period's facts in one transaction",
        )


STEPS: tuple[Step, ...] = (
    Step("prepare_warehouse", "techreform.pipeline:prepare", doc="create missing tables, load the code lists"),
    *_forms(),
    Step("review", "techreform.pipeline:review", doc="completeness (报送率), review receipts (审核回执), Data Docs"),
    Step(
        "quality_gate",
        "techreform.pipeline:gate",
        decides=True,
        doc="fail before any e-mail when the period's data cannot carry indicators and supervision",
    ),
    Step(
        "send_receipts",
        "techreform.pipeline:send_receipts",
        retries=3,
        retry_delay_minutes=10,
        delivers=True,
        doc="the review receipts e-mailed to each prefecture's statistics contacts (统计联络员), exactly once; "
        "after the gate, so that missing data never sends a flood of 缺报 receipts",
    ),
    Step(
        "compute_indicators",
        "techreform.pipeline:indicators",
        outlets=(warehouse_asset("fct_indicator"),),
        doc="the indicator system (统计指标体系) of the period",
    ),
    Step(
        "recompute_corrected_periods",
        "techreform.pipeline:recompute_corrections",
        outlets=(warehouse_asset("fct_indicator"),),
        doc="late and corrected deliveries (file log) recompute every computed period they affect",
    ),
    Step(
        "supervise",
        "techreform.pipeline:supervise",
        outlets=(warehouse_asset("sup_project_light"),),
        doc="project lights and supervision cases (督办事项)",
    ),
    Step(
        "refresh_supervision_indicators", "techreform.pipeline:refresh_supervision", doc="PROJECT_RED after supervision"
    ),
    Step(
        "monthly_report",
        "techreform.pipeline:monthly_report",
        doc="the monthly analysis report (统计监测月报) as HTML and PDF, attached to the province's e-mail",
    ),
    Step(
        "notify",
        "techreform.pipeline:notify",
        retries=3,
        retry_delay_minutes=10,
        delivers=True,
        doc="exactly-once e-mails to the supervisors; fails (and retries) while any is unsent",
    ),
    Step("summarise", "techreform.pipeline:summarise", doc="rows received / accepted / quarantined per form"),
    Step(
        "extract",
        "techreform.pipeline:extract",
        outlets=(EXTRACTS_ASSET,),
        delivers=True,
        doc="the statistics bureau's extract extracts/<period>/r<N>/ (a new revision only when the content "
        "changed), its public tables with disclosure control, the bureau's e-mail (docs/extracts.md)",
    ),
)
"""The monthly chain of a report period, in order."""

STEPS_BY_NAME: dict[str, Step] = {s.name: s for s in STEPS}


def upstream(step: Step, steps: tuple[Step, ...] = STEPS) -> tuple[str, ...]:
    """The names of the steps ``step`` waits for: its ``after``, or the step before it in ``steps``
    (none for the first)."""
    if step.after is not None:
        return step.after
    index = [s.name for s in steps].index(step.name)
    return (steps[index - 1].name,) if index else ()


def is_verdict(exc: BaseException) -> bool:
    """Whether ``exc`` is the data's verdict (e.g. :class:`~techreform.validation.gate.GateFailed`)."""
    return bool(getattr(exc, "verdict", False))


@contextmanager
def step_guard(ctx: RunContext, name: str) -> Iterator[None]:
    """The period for ``ctx.owner``'s run, and step ``name`` exclusively (:func:`techreform.runlock.period_lock`);
    database and store errors as one line naming ``name`` (a store that cannot be reached fails the step before it starts, :meth:`techreform.store.Store.check`)."""
    from techreform.errors import warehouse_errors
    from techreform.runlock import period_lock
    from techreform.store import store_errors, store_of

    store = store_of(ctx.settings)
    with warehouse_errors(ctx.settings.warehouse_url, name), store_errors(store, name):
        store.check(name)
        with period_lock(ctx.engine, ctx.period, ctx.owner, name):
            yield


def context_for(
    settings: Settings, period: Period | str, *, owner: str = "cli", smtp: Any = None, notify: bool = True
) -> RunContext:
    """A :class:`RunContext` for ``period`` on ``settings``' warehouse."""
    from techreform.periods import Period
    from techreform.warehouse import engine_for

    return RunContext(settings, engine_for(settings.warehouse_url), Period.parse(period), owner, smtp, notify)


def run_period(
    settings: Settings,
    period: Period | str,
    *,
    smtp: Any = None,
    notify: bool = True,
    owner: str = "cli",
    steps: Iterable[Step] = STEPS,
) -> dict[str, Any]:
    """Run the steps of :data:`STEPS` for one period, in order, without Airflow; what the DAG does.

    Returns ``{"period": …, <step name>: <its summary>, …}``. A failed quality gate alerts the data
    engineers (:mod:`techreform.alerts`) before it is raised; nothing after it runs."""
    ctx = context_for(settings, period, owner=owner, smtp=smtp, notify=notify)
    summary: dict[str, Any] = {"period": str(ctx.period)}
    for step in steps:
        if step.delivers and not ctx.notify:
            continue
        try:
            summary[step.name] = step.run(ctx)
        except Exception as exc:
            if step.decides and is_verdict(exc):
                from techreform.alerts import Alert, send_alert

                send_alert(settings, smtp, Alert("techreform run", step.name, str(ctx.period), str(exc), owner))
            raise
    return summary
