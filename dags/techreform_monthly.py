"""
### 企业技术改造 monthly monitor — `techreform_monthly`

Processes **one report period (报告期)** per run: the calendar month of the run's data interval in
Asia/Shanghai (a run scheduled on 2013-07-01 processes 2013-06), or the `period` parameter when one is given
(`airflow dags test techreform_monthly --conf '{"period": "2013-06"}'`).

1. `prepare_warehouse` – create missing tables, load the code lists (GB/T 2260, GB/T 4754-2011).
2. For R1 (企业名录), S1 (督办联系人), P1 (项目月报), E1 (企业月报), in that order:
   `ingest_<form>` keeps every new file of `landing/<form>/<period>/` (for R1 and S1: of every snapshot
   landed up to the period) in the raw zone with its sha256 and
   stages its rows; `validate_load_<form>` validates the period with Great Expectations and replaces the
   period's facts, quarantine and row outcomes in one transaction.
3. `review` – completeness (报送率), review receipts (审核回执) per prefecture, GX Data Docs.
4. `quality_gate` – fails the run when a form's share of quarantined rows passes the threshold.
5. `compute_indicators` – the indicator system (统计指标体系) for the period.
6. `supervise` – project lights and supervision cases (督办事项); `notify` – exactly-once e-mails.
7. `summarise` – rows received / accepted / quarantined per form and prefecture.
8. `extract` – the statistics bureau's extract `extracts/<period>/r<N>/` (a new revision only when the
   content changed), its public tables with disclosure control, and the bureau's e-mail (docs/extracts.md).

Every task is idempotent for its period: re-running a month gives the same warehouse and sends no second
e-mail. Settings: see the README (environment variables, connections `techreform_warehouse`, `techreform_smtp`).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, chain, dag, task

ENTERPRISE_FACTS = Asset("techreform://warehouse/fct_enterprise_monthly")
PROJECT_FACTS = Asset("techreform://warehouse/fct_project_monthly")
REGISTER = Asset("techreform://warehouse/dim_enterprise_register")
INDICATORS = Asset("techreform://warehouse/fct_indicator")
SUPERVISION = Asset("techreform://warehouse/sup_project_light")
EXTRACTS = Asset("techreform://extracts")

FORMS = (("R1", "register", REGISTER), ("S1", "supervisors", None), ("P1", "projects", PROJECT_FACTS),
         ("E1", "enterprises", ENTERPRISE_FACTS))


@dag(
    dag_id="techreform_monthly",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="Asia/Shanghai"),  # interval = one month
    start_date=pendulum.datetime(2010, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    default_args={"owner": "statistics", "retries": 2, "retry_delay": pendulum.duration(minutes=2)},
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
    def prepare_warehouse(period: str) -> str:
        from techreform.airflow_support import settings_for_task
        from techreform.pipeline import prepare_warehouse as prepare

        prepare(settings_for_task())
        return period

    @task
    def ingest(form_code: str, period: str) -> dict:
        from techreform.airflow_support import settings_for_task
        from techreform.periods import Period
        from techreform.pipeline import ingest_step
        from techreform.warehouse import engine_for

        settings = settings_for_task()
        return ingest_step(engine_for(settings.warehouse_url), settings, form_code, Period.parse(period))

    @task
    def validate_load(form_code: str, period: str, ingested: dict) -> dict:
        from techreform.airflow_support import settings_for_task
        from techreform.periods import Period
        from techreform.pipeline import load_step
        from techreform.warehouse import engine_for

        settings = settings_for_task()
        return load_step(engine_for(settings.warehouse_url), settings, form_code, Period.parse(period))

    @task
    def review(period: str) -> dict:
        from techreform.airflow_support import settings_for_task
        from techreform.periods import Period
        from techreform.pipeline import review_period
        from techreform.warehouse import engine_for

        settings = settings_for_task()
        result = review_period(engine_for(settings.warehouse_url), settings, Period.parse(period))
        return {"receipts": len(result["receipts"]), "data_docs": result["data_docs"]}

    @task
    def quality_gate(period: str) -> None:
        from techreform.airflow_support import settings_for_task
        from techreform.periods import Period
        from techreform.pipeline import quality_gate as gate
        from techreform.warehouse import engine_for

        settings = settings_for_task()
        gate(engine_for(settings.warehouse_url), settings, Period.parse(period))

    @task(outlets=[INDICATORS])
    def compute_indicators(period: str) -> dict:
        from techreform.airflow_support import settings_for_task
        from techreform.indicators import compute_indicators as compute
        from techreform.periods import Period
        from techreform.warehouse import engine_for

        settings = settings_for_task()
        return compute(engine_for(settings.warehouse_url), settings, Period.parse(period))

    @task(outlets=[SUPERVISION])
    def supervise(period: str) -> dict:
        from techreform.airflow_support import settings_for_task
        from techreform.periods import Period
        from techreform.supervision import supervise_period
        from techreform.warehouse import engine_for

        settings = settings_for_task()
        return supervise_period(engine_for(settings.warehouse_url), settings, Period.parse(period))

    @task(retries=3, retry_delay=pendulum.duration(minutes=10), retry_exponential_backoff=True)
    def notify(period: str) -> dict:
        from techreform.airflow_support import settings_for_task
        from techreform.periods import Period
        from techreform.supervision import notify_period, smtp_config_from_airflow
        from techreform.warehouse import engine_for

        settings = settings_for_task()
        return notify_period(engine_for(settings.warehouse_url), settings, Period.parse(period),
                             smtp_config_from_airflow())

    @task
    def refresh_supervision_indicators(period: str) -> dict:
        from techreform.airflow_support import settings_for_task
        from techreform.indicators import refresh_supervision_indicators as refresh
        from techreform.periods import Period
        from techreform.warehouse import engine_for

        settings = settings_for_task()
        return refresh(engine_for(settings.warehouse_url), settings, Period.parse(period))

    @task
    def summarise(period: str) -> list[dict]:
        from techreform.airflow_support import settings_for_task
        from techreform.periods import Period
        from techreform.reports import log_period_summary

        return log_period_summary(settings_for_task(), Period.parse(period))

    @task(outlets=[EXTRACTS])
    def extract(period: str) -> dict:
        from techreform.airflow_support import settings_for_task
        from techreform.extracts import extract_period
        from techreform.periods import Period
        from techreform.supervision import smtp_config_from_airflow
        from techreform.warehouse import engine_for

        settings = settings_for_task()
        return extract_period(engine_for(settings.warehouse_url), settings, Period.parse(period),
                              smtp=smtp_config_from_airflow())

    period = prepare_warehouse(report_period())
    previous = period
    for form_code, label, asset in FORMS:
        ingested = ingest.override(task_id=f"ingest_{label}")(form_code, period)
        loaded = validate_load.override(task_id=f"validate_load_{label}", outlets=[asset] if asset else [])(
            form_code, period, ingested)
        previous >> ingested
        previous = loaded
    chain(previous, review(period), quality_gate(period), compute_indicators(period), supervise(period),
          notify(period), refresh_supervision_indicators(period), summarise(period), extract(period))


techreform_monthly()
