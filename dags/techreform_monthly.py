"""
### 企业技术改造 monthly monitor — `techreform_monthly`

Processes **one report period (报告期)** per run: the calendar month of the run's data interval in
Asia/Shanghai (a run scheduled on 2013-07-01 processes 2013-06), or the `period` parameter when one is given
(`airflow dags test techreform_monthly --conf '{"period": "2013-06"}'`).

0. `delivery_deadline`, `wait_for_deliveries` – a deferrable sensor (`DateTimeSensorAsync`, no worker slot
   while it waits) holds the run until the delivery deadline: the first day after the period, 00:00
   Asia/Shanghai, plus `validation.delivery_deadline_days` (default 10 → the 11th). For a long-past period
   (a manual run with `period`, a backfill, `airflow dags test`) the deadline has passed and nothing waits.
The tasks after the wait are the steps of `techreform.steps.STEPS`, in that order (the same table
`techreform run` iterates); each task calls its step with one run context and returns a small summary.

1. `prepare_warehouse` – create missing tables (and add later columns), load the code lists.
2. For R1 (企业名录), S1 (督办联系人), P1 (项目月报), E1 (企业月报), G1 (认定名录), Q1 (重点产品产量) and
   A1 (两化融合年报; A1 and G1 optional in a month), `techreform.forms.PROCESSING_ORDER`: the
   `ingest_<form>` tasks run in parallel (on as many workers as there are), each keeping every new file
   of `landing/<form>/<period>/` (for R1, S1, G1: of every snapshot landed up to the period; for A1: of
   every year landed up to it, late ones too) in the raw zone with its sha256 and staging its rows; then,
   in that order, `validate_load_<form>` validates the period with Great Expectations and replaces the
   period's facts, quarantine and row outcomes in one transaction.
3. `review` – completeness (报送率); then, beside the gate and what follows it, `write_receipts` – review
   receipts (审核回执) per prefecture (their 缺报 from completeness), GX Data Docs.
4. `quality_gate` – fails the run, **before any supervisor e-mail**, when a form's share of quarantined
   rows passes the threshold, a form's files were all rejected, delivered files gave zero accepted rows,
   E1 or P1 was not delivered (E1 is optional in January), no R1/S1 snapshot is in force, or completeness
   is below `validation.completeness_floor` (default 0.80). It fails without retrying (the data decides).
5. After the gate, side by side: `compute_indicators` – the indicator system (统计指标体系) for the period
   (its families read on two connections at once, the longest in two parts by prefecture), then
   `recompute_corrected_periods` – late and corrected deliveries (the file log) recompute every computed
   period they affect (docs/indicators.md);
   `supervise` – project lights and supervision cases (督办事项; the lights read no indicator);
   `send_receipts` (also after `write_receipts`) – the receipts e-mailed to each prefecture's statistics
   contacts (统计联络员), exactly once; `summarise` – rows received / accepted / quarantined per form and prefecture.
6. `refresh_supervision_indicators` – PROJECT_RED once the indicators and the supervision are done;
   `monthly_report` – the monthly analysis report (统计监测月报, HTML and PDF, docs/report.md); `notify` –
   exactly-once e-mails (the province's carries the report); it fails (and retries) while any e-mail is
   unsent or still claimed by another live run.
7. `extract` – the statistics bureau's extract `extracts/<period>/r<N>/` (a new revision only when the
   content changed), its public tables with disclosure control, and the bureau's e-mail (docs/extracts.md).

Every task holds the period for its run, shared with the run's other tasks, and its own step
exclusively (a `techreform run` or another DAG run of the same period makes it fail at once, one line, and
retry) and reports database errors as one line. A task that finally fails e-mails the data
engineers (`on_failure_callback`; recipients `TECHREFORM_ALERT_RECIPIENTS` or `alerts.recipients`): DAG,
task, period, reason. Every task is idempotent for its period: re-running a month gives the same warehouse
and sends no second e-mail. Settings: see the README (environment variables, connections
`techreform_warehouse`, `techreform_smtp`); faults and guarantees: `docs/reliability.md`.
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, chain, dag, task

from techreform.airflow_support import task_defaults  # light: settings and options only
from techreform.steps import STEPS, upstream  # the step table only: no heavy import at parse time


@dag(
    dag_id="techreform_monthly",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="Asia/Shanghai"),  # interval = one month
    start_date=pendulum.datetime(2010, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=pendulum.duration(minutes=2)),
    params={
        "period": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            description="Report period YYYY-MM; empty = the month of the data interval",
        ),
    },
    tags=["techreform", "monthly", "statistics"],
)
def techreform_monthly():
    @task
    def report_period(params=None, data_interval_start=None) -> str:
        from techreform.airflow_support import period_of_run

        return str(period_of_run(params, data_interval_start))

    @task
    def delivery_deadline(period: str) -> str:
        from techreform.airflow_support import delivery_deadline as deadline_of
        from techreform.airflow_support import settings_for_task

        return deadline_of(settings_for_task(), period).isoformat()

    @task
    def run_step(name: str, period: str):
        from techreform.airflow_support import run_step as run

        return run(name, period)

    period = report_period()
    wait = DateTimeSensorAsync(
        task_id="wait_for_deliveries",
        target_time="{{ ti.xcom_pull(task_ids='delivery_deadline') }}",
        doc_md="Deferred (no worker slot) until the delivery deadline of the period; passes at once when it is past.",
    )
    chain(delivery_deadline(period), wait)
    tasks = {}
    for step in STEPS:
        overrides = {"task_id": step.name, "doc_md": step.doc, "outlets": [Asset(uri) for uri in step.outlets]}
        if step.retries is not None:
            overrides.update(retries=step.retries, retry_exponential_backoff=True)
        if step.retry_delay_minutes is not None:
            overrides["retry_delay"] = pendulum.duration(minutes=step.retry_delay_minutes)
        tasks[step.name] = run_step.override(**overrides)(step.name, period)
        for name in upstream(step) or ():
            tasks[name] >> tasks[step.name]
        if not upstream(step):
            wait >> tasks[step.name]


techreform_monthly()
