"""Loud failures: a task whose warehouse cannot be reached (or is not configured) fails with one line
naming it and never falls back to a SQLite file on the worker's disk; a failed run e-mails the data
engineers (DAG, task, period, log link) through the connection ``techreform_smtp`` as Airflow's SMTP
form fills it, to a real SMTP server; task logs keep the pipeline's lines, not Great Expectations' INFO."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pendulum
import pytest
from airflow.sdk import Connection

from service_fixtures import free_port
from techreform.supervision.mailer import SmtpConfig, smtp_config_from_connection

ENGINEERS = "etl-oncall@example.org"


def _clear_env(monkeypatch) -> None:
    for key in list(os.environ):
        if key.startswith(("TECHREFORM_", "AIRFLOW_CONN_TECHREFORM", "AWS_")):
            monkeypatch.delenv(key)


def test_a_task_without_a_warehouse_fails_in_one_line_instead_of_using_a_local_sqlite_file(tmp_path, monkeypatch):
    from techreform.airflow_support import NotConfigured, settings_for_task

    _clear_env(monkeypatch)
    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(tmp_path))
    with pytest.raises(NotConfigured) as failed:
        settings_for_task()
    assert "\n" not in str(failed.value) and "techreform_warehouse" in str(failed.value)
    assert not (tmp_path / "warehouse.sqlite").exists()
    monkeypatch.setenv("AIRFLOW_CONN_TECHREFORM_WAREHOUSE", "postgresql://etl:pw@db.example.org:5432/techreform")
    assert settings_for_task().warehouse_url == "postgresql+psycopg://etl:pw@db.example.org:5432/techreform"


def test_the_store_credentials_come_from_the_airflow_connection(tmp_path, monkeypatch):
    from techreform.airflow_support import settings_for_task
    from techreform.store import store_of

    _clear_env(monkeypatch)
    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TECHREFORM_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.sqlite'}")
    monkeypatch.setenv("TECHREFORM_STORAGE_URL", "s3://techreform/prod")
    monkeypatch.setenv(
        "AIRFLOW_CONN_TECHREFORM_STORE",
        '{"conn_type": "aws", "login": "AK", "password": "SK", "extra": {"endpoint_url": "http://minio:9000"}}',
    )
    store = store_of(settings_for_task())
    assert store.storage_options == {
        "key": "AK",
        "secret": "SK",
        "client_kwargs": {"endpoint_url": "http://minio:9000"},
    }
    assert str(store.landing) == "s3://techreform/prod/landing"


def test_the_smtp_connection_is_read_as_airflows_smtp_form_fills_it():
    form = Connection(
        conn_id="techreform_smtp",
        conn_type="smtp",
        host="mail.example.org",
        login="jigai",
        password="pw",
        extra='{"from_email": "jigai@example.org", "disable_tls": false, "disable_ssl": false, "timeout": 20, "retry_limit": 2}',
    )
    assert smtp_config_from_connection(form) == SmtpConfig(
        host="mail.example.org",
        port=465,  # SSL unless disabled, as the provider does
        username="jigai",
        password="pw",
        use_starttls=False,
        use_ssl=True,
        sender="jigai@example.org",
        timeout=20.0,
        retry_limit=2,
    )
    starttls = Connection(
        conn_id="x", conn_type="smtp", host="relay", port=587, extra='{"disable_ssl": true, "disable_tls": false}'
    )
    config = smtp_config_from_connection(starttls)
    assert (config.port, config.use_ssl, config.use_starttls, config.retry_limit) == (587, False, True, None)
    plain = smtp_config_from_connection(
        Connection.from_uri("smtp://relay:2525?disable_ssl=true&disable_tls=true&retry_limit=0", conn_id="x")
    )
    assert (plain.port, plain.use_ssl, plain.use_starttls, plain.retry_limit) == (2525, False, False, 0)


def test_great_expectations_info_lines_are_dropped_and_the_pipelines_kept(caplog):
    import great_expectations.data_context.types.base  # noqa: F401  (sets its logger to INFO on import)

    from techreform.logs import quiet_libraries

    quiet_libraries()
    caplog.clear()  # what the import itself logged, before the task quietened the library
    noisy = logging.getLogger("great_expectations.data_context.types.base")
    noisy.setLevel(logging.INFO)  # as a later import would: the filter still drops it
    with caplog.at_level(logging.INFO):
        noisy.info("Created temporary directory for ephemeral docs site")
        logging.getLogger("great_expectations.core").info("more chatter")
        noisy.warning("a real GX warning")
        logging.getLogger("techreform.ingest").info("E1 2013-02: 3 files")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["a real GX warning", "E1 2013-02: 3 files"]


@pytest.mark.slow
@pytest.mark.airflow
def test_an_unreachable_warehouse_fails_the_task_in_one_line_and_alerts_the_engineers_with_the_log_link(
    tmp_path, local_smtp, airflow_db, monkeypatch
):
    from airflow.dag_processing.dagbag import DagBag

    _clear_env(monkeypatch)
    port = free_port()  # no PostgreSQL there
    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AIRFLOW_CONN_TECHREFORM_WAREHOUSE", f"postgresql://etl:pw@127.0.0.1:{port}/techreform")
    monkeypatch.setenv("AIRFLOW_CONN_TECHREFORM_SMTP", local_smtp.connection_uri())
    monkeypatch.setenv("TECHREFORM_ALERT_RECIPIENTS", ENGINEERS)
    dag = DagBag(str(Path(__file__).resolve().parents[1] / "dags")).dags["techreform_monthly"]
    for task in dag.tasks:
        task.retries = 0  # fail at once (a deployment retries twice, two minutes apart)
    run = dag.test(logical_date=pendulum.datetime(2013, 3, 1, tz="Asia/Shanghai"), run_conf={"period": "2013-02"})
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["prepare_warehouse"] == "failed" and run.state == "failed"
    assert not (tmp_path / "data" / "warehouse.sqlite").exists(), "no fallback to a local SQLite file"
    assert [rcpts for rcpts, _ in local_smtp.handler.messages] == [[ENGINEERS]]
    message = local_smtp.handler.messages[0][1]
    subject = str(message["Subject"])
    assert subject.startswith("【技改告警】techreform_monthly.prepare_warehouse 2013-02 运行失败")
    assert f"warehouse postgresql://127.0.0.1:{port}/techreform failed during prepare_warehouse" in subject
    assert "pw" not in subject and str(message["From"]) == "jigai@example.org"
    body = message.get_body(("plain",)).get_content()
    assert "DAG: techreform_monthly" in body and "Task: prepare_warehouse" in body and "2013-02" in body
    log_line = next(line for line in body.splitlines() if line.startswith("Log 日志: "))
    assert "/dags/techreform_monthly/runs/" in log_line and log_line.rstrip().endswith(
        "/tasks/prepare_warehouse?try_number=1"
    )
