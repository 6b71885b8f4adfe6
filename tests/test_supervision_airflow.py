"""Through Airflow: a notify task whose SMTP server (the connection ``techreform_smtp``) refuses fails,
leaving the period's e-mails logged unsent, and a later run of the task sends them."""

from __future__ import annotations

import textwrap

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from supervision_fixtures import CollectingHandler, add_facts, free_port, make_warehouse, report
from techreform.supervision import supervise_period

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

DAG_FILE = """
    import pendulum
    from airflow.sdk import dag, task

    @dag(schedule=None, start_date=pendulum.datetime(2013, 7, 1, tz="Asia/Shanghai"), catchup=False,
         default_args={"owner": "statistics", "retries": 0}, tags=["test"])
    def supervision_notify_probe():
        @task
        def notify() -> dict:
            from techreform.config import Settings
            from techreform.supervision import notify_period, smtp_config_from_airflow
            from techreform.warehouse import engine_for

            settings = Settings.from_env()
            return notify_period(engine_for(settings.warehouse_url), settings, "2013-06", smtp_config_from_airflow())
        notify()

    supervision_notify_probe()
"""


def run_probe(folder):
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(str(folder))
    assert not bag.import_errors, bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)
    run = bag.dags["supervision_notify_probe"].test()
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def test_a_refusing_server_fails_the_notify_task_and_a_later_run_sends(tmp_path, sqlite_url, airflow_db, monkeypatch):
    engine = make_warehouse(sqlite_url)
    add_facts(engine, [report("2013-06", "2013-620102-35-03-000001", status="停建")])
    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TECHREFORM_WAREHOUSE_URL", sqlite_url)
    monkeypatch.setenv("TECHREFORM_CONFIG_FILE", str(tmp_path / "config.json"))
    (tmp_path / "config.json").write_text('{"email": {"send_attempts": 1, "retry_delay_seconds": 0}}', encoding="utf-8")
    from techreform.config import Settings

    supervise_period(engine, Settings.from_env(), "2013-06")

    handler = CollectingHandler()
    handler.refuse_with = "554 5.7.1 Message rejected"
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        monkeypatch.setenv(
            "AIRFLOW_CONN_TECHREFORM_SMTP", f"smtp://127.0.0.1:{controller.port}?from=jigai%40example.org"
        )
        dags = tmp_path / "dags"
        dags.mkdir()
        (dags / "supervision_notify_probe.py").write_text(textwrap.dedent(DAG_FILE), encoding="utf-8")

        assert run_probe(dags) == {"notify": "failed"}
        assert handler.refused == 2 and handler.messages == []
        with engine.connect() as conn:
            assert conn.execute(
                sa.text("select status, attempts from sup_email_log order by recipient")
            ).fetchall() == [("unsent", 1), ("unsent", 1)]

        handler.refuse_with = None
        assert run_probe(dags) == {"notify": "success"}
        assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == ["lz@example.org", "prov@example.org"]
        with engine.connect() as conn:
            assert conn.execute(sa.text("select status from sup_email_log order by recipient")).fetchall() == [
                ("sent",),
                ("sent",),
            ]
    finally:
        controller.stop()
