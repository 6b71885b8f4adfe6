"""Airflow plugin 技改监测: the monitoring view of the technical-transformation programme, a FastAPI
application the api-server mounts under ``/techreform`` and an entry in the UI's navigation.

This file only wires: the pages, their queries and access rules are ``techreform.monitoring``
(docs/monitoring.md)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from techreform.monitoring.app import airflow_nav_views, airflow_plugin_apps


class TechreformMonitoringPlugin(AirflowPlugin):
    name = "techreform_monitoring"
    fastapi_apps = airflow_plugin_apps()
    external_views = airflow_nav_views()
