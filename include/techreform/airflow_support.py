"""The glue between Airflow and the package: settings of a run and the report period of a run.

Imported only inside tasks (never at DAG parse time)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from techreform.config import Settings
from techreform.periods import Period

log = logging.getLogger(__name__)

WAREHOUSE_CONN_ID = "techreform_warehouse"


def sqlalchemy_url_from_airflow_uri(uri: str) -> str:
    """Airflow connection URIs name PostgreSQL ``postgres://``/``postgresql://``; SQLAlchemy wants a driver."""
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix):]
    return uri


def settings_for_task() -> Settings:
    """Settings from the environment; the Airflow connection ``techreform_warehouse``, if defined,
    overrides the warehouse URL (its URI, or its ``extra`` field ``sqlalchemy_url``)."""
    settings = Settings.from_env()
    try:
        from airflow.sdk import Connection

        connection = Connection.get(WAREHOUSE_CONN_ID)
    except Exception:  # not defined: the environment's (or the default) warehouse is used
        return settings
    extra = connection.extra_dejson or {}
    url = extra.get("sqlalchemy_url") or sqlalchemy_url_from_airflow_uri(connection.get_uri())
    return replace(settings, warehouse_url=url)


def period_of_run(params: Mapping[str, Any] | None, data_interval_start: dt.datetime | None) -> Period:
    """The report period of a run: the ``period`` param when given (manual runs), otherwise the month of
    the data interval's start in Asia/Shanghai (scheduled runs and backfills)."""
    requested = (params or {}).get("period")
    if requested:
        return Period.parse(requested)
    if data_interval_start is None:
        raise ValueError("the run has no data interval and no 'period' parameter: which month should it process?")
    return Period.of_datetime(data_interval_start)
