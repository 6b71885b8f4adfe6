"""The monthly chain as one table of steps: what the DAG's tasks are and what ``techreform run`` does.

:data:`STEPS` lists the steps of a report period in order. Each is a name (the Airflow task id), the
function that does it (a dotted path, imported only when the step runs, so that the DAG file can read
the table at parse time without importing the package's heavy modules), the Assets it updates and its
retry policy. Every step function takes one :class:`RunContext` — the settings, the warehouse engine, the
period parsed once, who runs it and how e-mail goes — and returns a small summary (an XCom in Airflow).

- ``dags/techreform_monthly.py`` builds one task per step, in this order, around the deferrable wait for
  the delivery deadline (an Airflow-only concern).
- :func:`run_period` runs the same steps without Airflow (the CLI, backfills, tests): one after the other in
  the table's order, or with ``workers`` > 1 side by side where the DAG allows it.

A step runs after the step before it in the table, unless it names its upstream steps (``after``): the
forms' ingests all follow ``prepare_warehouse`` and run in parallel on the workers; each validation waits
for its own form's ingest and the validation before it (:func:`upstream`), so the register is validated
while the enterprises' files are still staged. Completeness (``review``) reads the register in force and who
sent rows, so it waits for the register's validation and the reporting forms' ingests and runs beside the
enterprises' validation. The receipts are written beside the quality gate (which judges completeness and
every form's outcomes, not the receipts), both after the last validation; after the gate the indicators, the
supervision (its lights do not read the indicators), the receipts' e-mails and the summary run side by side;
``refresh_supervision_indicators`` waits for the indicators (and the corrected periods) and the supervision,
and the report, the supervisors' e-mails and the extract follow it in turn. The table's order is always one
the DAG allows, so the CLI may run the same steps one after the other. Each step holds the period for its
run and itself exclusively (:func:`techreform.runlock.period_lock`): the tasks of one run share the period,
another run of the same period is refused at once."""

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


def ingest_step(form_code: str) -> str:
    """The name of the step that ingests form ``form_code`` (``ingest_<label>``, :data:`TASK_LABELS`)."""
    return f"ingest_{TASK_LABELS[form_code]}"


def validation_step(form_code: str) -> str:
    """The name of the step that validates and loads form ``form_code`` (``validate_load_<label>``)."""
    return f"validate_load_{TASK_LABELS[form_code]}"


def _forms() -> Iterator[Step]:
    # The forms' ingests touch only their own form's files and rows: in parallel, each after
    # prepare_warehouse. The validations run in PROCESSING_ORDER (the register and supervisors in force
    # first; E1's cross-form rule reads P1), each after its own form's ingest and the validation before it:
    # a validation reads only its own form's staged rows and the forms validated before it, so the
    # register is validated while the enterprises' files are still being staged.
    from techreform.forms import PROCESSING_ORDER  # the forms as data: no heavy import

    for form in PROCESSING_ORDER:
        yield Step(
            ingest_step(form.code),
            "techreform.pipeline:ingest_form",
            (form.code,),
            fault_after="after_ingest",
            after=("prepare_warehouse",),
            doc=f"{form.code}: keep every new file of the delivery in the raw zone, stage its rows",
        )
    previous: tuple[str, ...] = ()
    for form in PROCESSING_ORDER:  # the validations: in order, each after its form's ingest
        yield Step(
            validation_step(form.code),
            "techreform.pipeline:validate_load_form",
            (form.code,),
            outlets=(warehouse_asset(form.target_table),),
            after=(ingest_step(form.code), *previous),
            doc=f"{form.code}: validate (Great Expectations) and replace the period's facts in one transaction",
        )
        previous = (validation_step(form.code),)


def _completeness_inputs() -> tuple[str, ...]:
    """The steps the period's completeness (the step ``review``) waits for: what it reads is the register in
    force (the register's validation) and who sent rows — the staged rows and unreadable rows of E1 and of
    each form whose reporters are its earlier ones (Q1; their earlier periods' facts are loaded by earlier
    runs) — so their ingests, not their validations: it runs beside the enterprises' validation."""
    from techreform.forms import ENTERPRISE_MONTHLY, ENTERPRISE_REGISTER, PROCESSING_ORDER

    reported = [ENTERPRISE_MONTHLY, *(f for f in PROCESSING_ORDER if f.expected_reporters == "previous_reporters")]
    return (validation_step(ENTERPRISE_REGISTER.code), *(ingest_step(f.code) for f in reported))


def _after_every_validation(*steps: str) -> tuple[str, ...]:
    """``steps`` and the last validation of :data:`~techreform.forms.PROCESSING_ORDER` (which follows every
    other): for a step that reads every form's outcomes."""
    from techreform.forms import PROCESSING_ORDER

    return (*steps, validation_step(PROCESSING_ORDER[-1].code))


STEPS: tuple[Step, ...] = (
    Step("prepare_warehouse", "techreform.pipeline:prepare", doc="create missing tables, load the code lists"),
    *_forms(),
    Step(
        "review",
        "techreform.pipeline:review",
        after=_completeness_inputs(),
        doc="completeness (报送率) of the period; beside the enterprises' validation (it reads who sent rows)",
    ),
    Step(
        "write_receipts",
        "techreform.pipeline:receipts",
        after=_after_every_validation("review"),
        doc="review receipts (审核回执) per prefecture and the GX Data Docs; beside the gate and what follows it",
    ),
    Step(
        "quality_gate",
        "techreform.pipeline:gate",
        decides=True,
        after=_after_every_validation("review"),
        doc="fail before any e-mail when the period's data cannot carry indicators and supervision",
    ),
    Step(
        "send_receipts",
        "techreform.pipeline:send_receipts",
        retries=3,
        retry_delay_minutes=10,
        delivers=True,
        after=("write_receipts", "quality_gate"),
        doc="the review receipts e-mailed to each prefecture's statistics contacts (统计联络员), exactly once; "
        "after the gate, so that missing data never sends a flood of 缺报 receipts",
    ),
    Step(
        "compute_indicators",
        "techreform.pipeline:indicators",
        outlets=(warehouse_asset("fct_indicator"),),
        after=("quality_gate",),
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
        after=("quality_gate",),
        doc="project lights and supervision cases (督办事项)",
    ),
    Step(
        "refresh_supervision_indicators",
        "techreform.pipeline:refresh_supervision",
        after=("recompute_corrected_periods", "supervise"),
        doc="PROJECT_RED after supervision",
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
    Step(
        "summarise",
        "techreform.pipeline:summarise",
        after=("quality_gate",),
        doc="rows received / accepted / quarantined per form",
    ),
    Step(
        "extract",
        "techreform.pipeline:extract",
        outlets=(EXTRACTS_ASSET,),
        delivers=True,
        after=("notify", "summarise"),
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
    workers: int = 1,
) -> dict[str, Any]:
    """Run the steps of :data:`STEPS` for one period without Airflow; what the DAG does.

    With one worker (the default) the steps run one after the other, in the table's order. With
    ``workers`` > 1 the steps the DAG runs side by side run side by side here too (:func:`_run_side_by_side`:
    the forms' ingests, the register's validation beside the enterprises' ingest, the indicators beside the
    supervision), up to ``workers`` at a time, each step as soon as the steps it waits for (:func:`upstream`)
    are done. A warehouse in memory cannot be shared between processes: its steps always run one by one.

    Returns ``{"period": …, <step name>: <its summary>, …}`` in the table's order. A failed quality gate
    alerts the data engineers (:mod:`techreform.alerts`) before it is raised; nothing after a failed step
    starts (steps already running in a worker end first)."""
    ctx = context_for(settings, period, owner=owner, smtp=smtp, notify=notify)
    table = tuple(steps)
    chosen = [step for step in table if ctx.notify or not step.delivers]
    from techreform.warehouse import in_memory

    if workers > 1 and not in_memory(settings.warehouse_url):
        results = _run_side_by_side(ctx, table, chosen, workers)
    else:
        results = {}
        for step in chosen:
            results[step.name] = _run_here(ctx, step)
    return {"period": str(ctx.period), **{step.name: results[step.name] for step in chosen}}


def _run_here(ctx: RunContext, step: Step) -> Any:
    """Run ``step`` in this process; a failed quality gate alerts the data engineers before it is raised."""
    try:
        return step.run(ctx)
    except Exception as exc:
        _alert_on_verdict(ctx, step, exc)
        raise


def _alert_on_verdict(ctx: RunContext, step: Step, exc: BaseException) -> None:
    """Alert the data engineers when ``exc`` is the data's verdict given by a deciding step."""
    if step.decides and is_verdict(exc):
        from techreform.alerts import Alert, send_alert

        send_alert(ctx.settings, ctx.smtp, Alert("techreform run", step.name, str(ctx.period), str(exc), ctx.owner))


class StepFailedInWorker(RuntimeError):
    """A step failed in a worker process with an exception that cannot cross back to this process as it
    is: its class and first line (and whether it is the data's verdict) instead."""

    def __init__(self, message: str, verdict: bool = False) -> None:
        super().__init__(message, verdict)
        self.message, self.verdict = message, verdict

    def __str__(self) -> str:
        return self.message


def _run_in_worker(step: Step, settings: Settings, period: str, owner: str, smtp: Any, notify: bool) -> Any:
    """Run ``step`` in a worker process of :func:`_run_side_by_side` (its own engine, the same run owner).
    Returns ``(True, summary)``, or ``(False, exception)``: the exception itself when it crosses back to the
    parent process intact, else a :class:`StepFailedInWorker` with its words."""
    import pickle

    try:
        return True, step.run(context_for(settings, period, owner=owner, smtp=smtp, notify=notify))
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
            return False, exc
        except Exception:
            from techreform.errors import one_line

            return False, StepFailedInWorker(f"{type(exc).__name__}: {one_line(exc)}", is_verdict(exc))


def _worker_started(level: int) -> None:
    """A worker process logs as the process that started it: warnings and errors, libraries quiet."""
    import logging

    from techreform.logs import quiet_libraries

    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    quiet_libraries()


def _run_side_by_side(ctx: RunContext, table: tuple[Step, ...], chosen: list[Step], workers: int) -> dict[str, Any]:
    """Run ``chosen`` (steps of ``table``) as the DAG would on ``workers`` workers: a step starts once every
    step it waits for in ``table`` (:func:`upstream`) is done or not chosen, on a free one of ``workers``
    slots; of the steps ready at a time the first in the table's order goes first.

    This process only hands the steps out. Its own slot runs a step in a thread of this process (warm: its
    imports are done). The other ``workers`` − 1 slots are worker processes (started fresh, ``spawn``: no
    inherited connection or lock) until they have run steps and none is ready for them: the steps that start
    together at the beginning (the forms' ingests, the register's validation beside the enterprises' ingest)
    parse on both cores. The processes are then stopped (their memory goes back) and steps ready together
    later (the indicators beside the supervision) run in threads of this process: they wait mostly on the
    database, and a new process would take seconds to start (:func:`_free_slot`).

    The first failure stops further steps from starting; the steps already running end, then it is raised
    (a worker process that died as a :class:`RuntimeError` naming its step)."""
    import logging
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    waits_for = waited_for(table, chosen)
    pending = list(chosen)
    done: set[str] = set()
    results: dict[str, Any] = {}
    running: dict[Future, tuple[Step, str]] = {}  # a step and its slot: "thread" or "process"
    failure: BaseException | None = None
    failed_step: Step | None = None
    processes_served = False

    def collect(finished: Iterable[Future]) -> None:
        nonlocal failure, failed_step
        for future in finished:
            step, _ = running.pop(future)
            if future.cancelled():  # queued behind a failure: never started
                continue
            try:
                ok, value = future.result()
            except BrokenProcessPool as exc:
                ok, value = False, RuntimeError(f"{step.name}: its worker process ended abruptly ({exc})")
            if ok:
                results[step.name] = value
                done.add(step.name)
            elif failure is None:
                failure, failed_step = value, step

    threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="step")
    processes: ProcessPoolExecutor | None = ProcessPoolExecutor(
        max_workers=workers - 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_started,
        initargs=(logging.getLogger().getEffectiveLevel(),),
    )
    try:
        while failure is None and (pending or running):
            collect([future for future in running if future.done()])
            if failure is not None:
                break
            ready = [step for step in pending if waits_for[step.name] <= done]
            busy = [slot for _, slot in running.values()]
            if (
                processes is not None
                and processes_served
                and "process" not in busy
                and len(ready) <= ("thread" not in busy)
            ):
                processes.shutdown(wait=True)  # they ran their steps and no step waits for them: memory goes back
                processes = None
            for step in ready:
                slot = _free_slot(busy, workers, processes is not None)
                if slot is None:
                    break  # every slot is busy
                pending.remove(step)
                busy.append(slot)
                if slot == "process":
                    assert processes is not None
                    processes_served = True
                    future = processes.submit(
                        _run_in_worker, step, ctx.settings, str(ctx.period), ctx.owner, ctx.smtp, ctx.notify
                    )
                else:
                    future = threads.submit(_run_in_thread, step, ctx)
                running[future] = (step, slot)
            if not running:  # nothing runs and nothing can start: a table whose steps wait for each other
                raise RuntimeError(f"steps that can never start: {', '.join(s.name for s in pending)}")
            collect(wait(running, return_when=FIRST_COMPLETED).done)
        if running:  # a failure: the steps already running end, nothing else starts
            for future in running:
                future.cancel()
            collect(wait(running).done)
    finally:
        for executor in (threads, processes):
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
    if failure is not None:
        assert failed_step is not None
        _alert_on_verdict(ctx, failed_step, failure)
        raise failure
    return results


def _free_slot(busy: list[str], workers: int, processes_running: bool) -> str | None:
    """The slot the next ready step takes, of ``workers`` slots of which ``busy`` are taken: a thread of
    this process (``"thread"``: one while the worker processes run, every slot after), else a worker
    process (``"process"``); ``None`` when every slot is busy."""
    if len(busy) >= workers:
        return None
    if not processes_running or "thread" not in busy:
        return "thread"
    return "process"


def _run_in_thread(step: Step, ctx: RunContext) -> tuple[bool, Any]:
    """Run ``step`` in a thread of this process: ``(True, summary)`` or ``(False, exception)``."""
    try:
        return True, step.run(ctx)
    except Exception as exc:
        return False, exc


def waited_for(table: tuple[Step, ...], chosen: Iterable[Step]) -> dict[str, set[str]]:
    """The ``chosen`` steps each of the ``chosen`` steps waits for: its upstream steps in ``table``
    (:func:`upstream`), and for an upstream step not chosen (a delivering step of a run that e-mails
    nothing) the steps that one waits for, so that skipping a step never lets the steps after it start
    early. A name that is not in ``table`` is not waited for."""
    by_name = {step.name: step for step in table}
    names = {step.name for step in chosen}

    def through(name: str) -> set[str]:
        if name in names:
            return {name}
        if name not in by_name:
            return set()
        return set().union(*(through(above) for above in upstream(by_name[name], table)))

    return {step.name: set().union(*(through(above) for above in upstream(step, table))) for step in chosen}
