"""The glue between Airflow and the package: settings of a run and the report period of a run.

Imported only inside tasks (never at DAG parse time)."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from techreform.config import Settings
from techreform.options import ValidationOptions
from techreform.periods import REPORTING_TIMEZONE, Period

log = logging.getLogger(__name__)

WAREHOUSE_CONN_ID = "techreform_warehouse"


def sqlalchemy_url_from_airflow_uri(uri: str) -> str:
    """Airflow connection URIs name PostgreSQL ``postgres://``/``postgresql://``; SQLAlchemy wants a driver."""
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri


class NotConfigured(RuntimeError):
    """A task lacks a setting it must not guess (the warehouse): one line saying what to define."""


def _connection(conn_id: str) -> Any:
    """The Airflow connection ``conn_id``, or ``None`` when it is not defined."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def _warehouse_url(connection: Any) -> str:
    """The SQLAlchemy URL of a warehouse connection: its ``extra`` field ``sqlalchemy_url``, else its URI."""
    extra = connection.extra_dejson or {}
    return extra.get("sqlalchemy_url") or sqlalchemy_url_from_airflow_uri(connection.get_uri())


def _server_connection(conn_id: str) -> Any | None:
    """An Airflow connection read through the metadata database and secrets backends (outside a task, where
    the Task SDK's ``Connection.get`` does not work); ``None`` when it is not defined."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    try:
        return Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        return None


def store_settings(settings: Settings, get_connection: Callable[[str], Any | None] | None = None) -> Settings:
    """``settings`` with the object store's credentials of the Airflow connection ``storage.conn_id``
    (default ``techreform_store``, AWS type) added over ``storage.storage_options``; a local store, or a
    connection not defined, leaves them as they are (s3fs then reads the environment)."""
    from techreform.options import StorageOptions
    from techreform.store import local_root, storage_options_from_connection

    if local_root(settings.storage_url) is not None or not settings.storage_url:
        return settings
    connection = (get_connection or _connection)(settings.options_for(StorageOptions).conn_id)
    if connection is None:
        return settings
    options = {**settings.storage_options, **storage_options_from_connection(connection)}
    return replace(settings, storage_options=options)


def settings_for_task(env: Mapping[str, str] | None = None) -> Settings:
    """Settings of an Airflow task: the environment's, with the warehouse of the connection
    ``techreform_warehouse`` (its URI, or its ``extra`` field ``sqlalchemy_url``) or of
    ``TECHREFORM_WAREHOUSE_URL``, and the store's credentials (:func:`store_settings`).

    A task never falls back to the embedded default (a SQLite file on its worker's disk, where another
    worker would not see it): with neither the connection nor the variable it fails with one line."""
    env = os.environ if env is None else env
    settings = Settings.from_env(env)
    connection = _connection(WAREHOUSE_CONN_ID)
    if connection is not None:
        settings = replace(settings, warehouse_url=_warehouse_url(connection))
    elif not env.get("TECHREFORM_WAREHOUSE_URL"):
        raise NotConfigured(
            f"no warehouse for the Airflow tasks: define the connection {WAREHOUSE_CONN_ID} (or "
            "TECHREFORM_WAREHOUSE_URL); a task does not fall back to a SQLite file on its worker's disk "
            "— 未配置数据仓库连接"
        )
    return store_settings(settings)


def settings_for_server() -> Settings:
    """Settings for code running inside the Airflow api-server (the monitoring plugin): like
    :func:`settings_for_task`, but the connection ``techreform_warehouse`` is read through the metadata
    database and secrets backends (the Task SDK's ``Connection.get`` works only inside a task), and so is
    the store's (its receipts and Data Docs pages are served from the store)."""
    settings = Settings.from_env()
    connection = _server_connection(WAREHOUSE_CONN_ID)
    if connection is not None:
        settings = replace(settings, warehouse_url=_warehouse_url(connection))
    return store_settings(settings, _server_connection)


def period_of_run(params: Mapping[str, Any] | None, data_interval_start: dt.datetime | None) -> Period:
    """The report period of a run: the ``period`` param when given (manual runs), otherwise the month of
    the data interval's start in Asia/Shanghai (scheduled runs and backfills)."""
    requested = (params or {}).get("period")
    if requested:
        return Period.parse(requested)
    if data_interval_start is None:
        raise ValueError("the run has no data interval and no 'period' parameter: which month should it process?")
    return Period.of_datetime(data_interval_start)


def delivery_deadline(settings: Settings, period: Period | str) -> dt.datetime:
    """When the DAG stops waiting for a period's deliveries and decides: the first day after the period,
    00:00 Asia/Shanghai, plus ``validation.delivery_deadline_days`` (default 10, i.e. the 11th of the next
    month). For a long-past period (a manual run, a backfill) it has passed: nothing waits."""
    days = settings.options_for(ValidationOptions).delivery_deadline_days
    following = Period.parse(period).next.first_day()
    month_end = dt.datetime(following.year, following.month, 1, tzinfo=REPORTING_TIMEZONE)
    return month_end + dt.timedelta(days=days)


def run_owner() -> str:
    """The current Airflow run as ``<dag_id>/<run_id>`` (who holds the period lock and the e-mail claims)."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    return f"{context['dag'].dag_id}/{context['run_id']}"


def run_step(name: str, period: str) -> Any:
    """Run the step ``name`` of :data:`techreform.steps.STEPS` for ``period`` as an Airflow task: the
    task's settings (the connection ``techreform_warehouse`` if defined), its run as owner of the period
    lock, e-mail through the connection ``techreform_smtp``. A step that decides on the data (the quality
    gate) fails without retries, and the engineers are alerted by the DAG's failure callback."""
    from airflow.sdk.exceptions import AirflowFailException

    from techreform.logs import quiet_libraries
    from techreform.steps import STEPS_BY_NAME, context_for, is_verdict
    from techreform.supervision.mailer import smtp_config_from_airflow

    quiet_libraries()  # the task log shows the pipeline's progress, not Great Expectations' INFO lines
    step = STEPS_BY_NAME[name]
    smtp = smtp_config_from_airflow() if step.delivers else None
    ctx = context_for(settings_for_task(), period, owner=run_owner(), smtp=smtp)
    try:
        result = step.run(ctx)
    except Exception as exc:
        if step.decides and is_verdict(exc):  # the data decided: retrying changes nothing
            raise AirflowFailException(str(exc)) from exc
        raise
    mark_asset_events(step.outlets, str(ctx.period))
    return result


def mark_asset_events(outlets: tuple[str, ...], period: str) -> None:
    """Put the period in the ``extra`` of the Asset events this task emits (``outlet_events``), so that a
    consumer of ``techreform://warehouse/<table>`` knows which month changed."""
    if not outlets:
        return
    from airflow.sdk import Asset, get_current_context

    events = get_current_context()["outlet_events"]
    for uri in outlets:
        events[Asset(uri)].extra = {"period": period}


def task_defaults(retry_delay: dt.timedelta) -> dict[str, Any]:
    """The ``default_args`` of every techreform DAG: owner ``statistics``, two retries ``retry_delay``
    apart, and the data engineers alerted when a task fails for good (:func:`alert_on_failure`).
    Light: the DAG files call it at parse time."""
    return {"owner": "statistics", "retries": 2, "retry_delay": retry_delay, "on_failure_callback": alert_on_failure}


def alert_on_failure(context: Mapping[str, Any]) -> str:
    """``on_failure_callback`` of the DAGs' tasks (:func:`task_defaults`): e-mail the data engineers (see
    :mod:`techreform.alerts`) naming DAG, task, period and the reason, through the connection
    ``techreform_smtp`` (or the alerts outbox). Returns what happened; never raises."""
    from techreform.alerts import Alert, send_alert
    from techreform.errors import one_line
    from techreform.supervision.mailer import smtp_config_from_airflow

    ti = context.get("ti") or context.get("task_instance")
    try:
        period = str(period_of_run(context.get("params"), context.get("data_interval_start")))
    except ValueError:
        period = "unknown"
    error = context.get("exception")
    try:
        log_url = str(getattr(ti, "log_url", "") or "")
    except Exception:  # noqa: BLE001 - a log link is a convenience; the alert goes out without it
        log_url = ""
    alert = Alert(
        dag_id=getattr(ti, "dag_id", "?"),
        task_id=getattr(ti, "task_id", "?"),
        period=period,
        reason=one_line(error) if error is not None else "the task failed (no exception recorded)",
        run_id=str(context.get("run_id") or getattr(ti, "run_id", "")),
        log_url=log_url,
    )
    try:
        smtp = smtp_config_from_airflow()
    except Exception as exc:  # an unreadable connection must not hide the failure being reported
        log.error("alert: the SMTP connection could not be read (%s); writing to the outbox", one_line(exc))
        smtp = None
    try:  # the alert needs no warehouse (it may be what failed): the environment and the store's credentials
        settings = store_settings(Settings.from_env())
    except Exception as exc:  # e.g. a wrong configuration file: the task failed on it too, and says so
        outcome = f"not sent: the settings cannot be loaded: {one_line(exc)}"
        log.error("alert for %s %s %s", alert.task_id, alert.period, outcome)
        return outcome
    return send_alert(settings, smtp, alert)
