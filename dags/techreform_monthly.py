"""
### 企业技术改造 monthly monitor — `techreform_monthly`

Processes **one report period (报告期)** per run: the calendar month of the run's data interval in
Asia/Shanghai (a run scheduled on 2013-07-01 processes 2013-06), or the `period` parameter when one is given
(`airflow dags test techreform_monthly --conf '{"period": "2013-06"}'`).

0. `delivery_deadline`, `wait_for_deliveries` – a deferrable sensor (`DateTimeSensorAsync`, no worker slot
   while it waits) holds the run until the delivery deadline: the first day after the period, 00:00
   Asia/Shanghai, plus `validation.delivery_deadline_days` (default 10 → the 11th). For a long-past period
   (a manual run with `period`, a backfill, `airflow dags test`) the deadline has passed and nothing waits.
1. `prepare_warehouse` – create missing tables (and add later columns), load the code lists.
2. For R1 (企业名录), S1 (督办联系人), P1 (项目月报), E1 (企业月报), in that order:
   `ingest_<form>` keeps every new file of `landing/<form>/<period>/` (for R1 and S1: of every snapshot
   landed up to the period) in the raw zone with its sha256 and
   stages its rows; `validate_load_<form>` validates the period with Great Expectations and replaces the
   period's facts, quarantine and row outcomes in one transaction.
3. `review` – completeness (报送率), review receipts (审核回执) per prefecture, GX Data Docs.
4. `quality_gate` – fails the run, **before any supervisor e-mail**, when a form's share of quarantined
   rows passes the threshold, a form's files were all rejected, delivered files gave zero accepted rows,
   E1 or P1 was not delivered (E1 is optional in January), no R1/S1 snapshot is in force, or completeness
   is below `validation.completeness_floor` (default 0.80). It fails without retrying (the data decides).
5. `compute_indicators` – the indicator system (统计指标体系) for the period.
6. `supervise` – project lights and supervision cases (督办事项); `notify` – exactly-once e-mails; it
   fails (and retries) while any e-mail is unsent or still claimed by another live run.
7. `summarise` – rows received / accepted / quarantined per form and prefecture.

Every task holds the period's run lock (a `techreform run` of the same period makes it fail at once, one
line, and retry) and reports database errors as one line. A task that finally fails e-mails the data
engineers (`on_failure_callback`; recipients `TECHREFORM_ALERT_RECIPIENTS` or `alerts.recipients`): DAG,
task, period, reason. Every task is idempotent for its period: re-running a month gives the same warehouse
and sends no second e-mail. Settings: see the README (environment variables, connections
`techreform_warehouse`, `techreform_smtp`); faults and guarantees: `docs/reliability.md`.
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, chain, dag, task

ENTERPRISE_FACTS = Asset("techreform://warehouse/fct_enterprise_monthly")
PROJECT_FACTS = Asset("techreform://warehouse/fct_project_monthly")
REGISTER = Asset("techreform://warehouse/dim_enterprise_register")
INDICATORS = Asset("techreform://warehouse/fct_indicator")
SUPERVISION = Asset("techreform://warehouse/sup_project_light")

FORMS = (("R1", "register", REGISTER), ("S1", "supervisors", None), ("P1", "projects", PROJECT_FACTS),
         ("E1", "enterprises", ENTERPRISE_FACTS))


def alert_engineers(context) -> None:
    """A task failed for good: e-mail the data engineers (DAG, task, period, reason)."""
    from techreform.airflow_support import alert_on_failure

    alert_on_failure(context)


@dag(
    dag_id="techreform_monthly",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="Asia/Shanghai"),  # interval = one month
    start_date=pendulum.datetime(2010, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    default_args={"owner": "statistics", "retries": 2, "retry_delay": pendulum.duration(minutes=2),
                  "on_failure_callback": alert_engineers},
    params={
        "period": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                        description="Report period YYYY-MM; empty = the month of the data interval"),
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
    def prepare_warehouse(period: str) -> str:
        from techreform.airflow_support import period_task
        from techreform.pipeline import prepare_warehouse as prepare

        with period_task(period, "prepare_warehouse") as (_engine, settings):
            prepare(settings)
        return period

    @task
    def ingest(form_code: str, period: str) -> dict:
        from techreform.airflow_support import period_task
        from techreform.periods import Period
        from techreform.pipeline import ingest_step

        with period_task(period, f"ingest {form_code}") as (engine, settings):
            return ingest_step(engine, settings, form_code, Period.parse(period))

    @task
    def validate_load(form_code: str, period: str, ingested: dict) -> dict:
        from techreform.airflow_support import period_task
        from techreform.periods import Period
        from techreform.pipeline import load_step

        with period_task(period, f"load {form_code}") as (engine, settings):
            return load_step(engine, settings, form_code, Period.parse(period))

    @task
    def review(period: str) -> dict:
        from techreform.airflow_support import period_task
        from techreform.periods import Period
        from techreform.pipeline import review_period

        with period_task(period, "review") as (engine, settings):
            result = review_period(engine, settings, Period.parse(period))
        return {"receipts": len(result["receipts"]), "data_docs": result["data_docs"]}

    @task
    def quality_gate(period: str) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        from techreform.airflow_support import period_task
        from techreform.periods import Period
        from techreform.pipeline import quality_gate as gate
        from techreform.validation.gate import GateFailed

        with period_task(period, "quality_gate") as (engine, settings):
            try:
                gate(engine, settings, Period.parse(period))
            except GateFailed as exc:  # the data decided: retrying changes nothing; alert at once
                raise AirflowFailException(str(exc)) from exc

    @task(outlets=[INDICATORS])
    def compute_indicators(period: str) -> dict:
        from techreform.airflow_support import period_task
        from techreform.indicators import compute_indicators as compute
        from techreform.periods import Period

        with period_task(period, "compute_indicators") as (engine, settings):
            return compute(engine, settings, Period.parse(period))

    @task(outlets=[SUPERVISION])
    def supervise(period: str) -> dict:
        from techreform.airflow_support import period_task
        from techreform.periods import Period
        from techreform.supervision import supervise_period

        with period_task(period, "supervise") as (engine, settings):
            return supervise_period(engine, settings, Period.parse(period))

    @task(retries=3, retry_delay=pendulum.duration(minutes=10), retry_exponential_backoff=True)
    def notify(period: str) -> dict:
        from techreform.airflow_support import period_task, run_owner
        from techreform.periods import Period
        from techreform.supervision import notify_period, smtp_config_from_airflow

        with period_task(period, "notify") as (engine, settings):
            return notify_period(engine, settings, Period.parse(period), smtp_config_from_airflow(),
                                 owner=run_owner())

    @task
    def refresh_supervision_indicators(period: str) -> dict:
        from techreform.airflow_support import period_task
        from techreform.indicators import refresh_supervision_indicators as refresh
        from techreform.periods import Period

        with period_task(period, "refresh_supervision_indicators") as (engine, settings):
            return refresh(engine, settings, Period.parse(period))

    @task
    def summarise(period: str) -> list[dict]:
        from techreform.airflow_support import settings_for_task
        from techreform.periods import Period
        from techreform.reports import log_period_summary

        return log_period_summary(settings_for_task(), Period.parse(period))

    reported = report_period()
    wait = DateTimeSensorAsync(
        task_id="wait_for_deliveries",
        target_time="{{ ti.xcom_pull(task_ids='delivery_deadline') }}",
        doc_md="Deferred (no worker slot) until the delivery deadline of the period; passes at once when it is past.",
    )
    period = prepare_warehouse(reported)
    chain(delivery_deadline(reported), wait, period)
    previous = period
    for form_code, label, asset in FORMS:
        ingested = ingest.override(task_id=f"ingest_{label}")(form_code, period)
        loaded = validate_load.override(task_id=f"validate_load_{label}", outlets=[asset] if asset else [])(
            form_code, period, ingested)
        previous >> ingested
        previous = loaded
    chain(previous, review(period), quality_gate(period), compute_indicators(period), supervise(period),
          notify(period), refresh_supervision_indicators(period), summarise(period))


techreform_monthly()
