"""The distributed engine as a province deploys it (docs/deployment.md), all as separate processes here:
PostgreSQL metadata (a fresh database), Redis as the Celery broker (its own db number), ``airflow db
migrate``, scheduler, dag-processor, api-server (free port), triggerer and two Celery workers, each worker
in its own working folder with a private temp dir (as on two machines). A period is triggered through the
REST API with a JWT from the simple auth manager, as a user would; the run must succeed, every output of
the period must be in the store, and the warehouse must equal the one ``dag.test()`` gives for the same
period. The deployment is started by ``deployment_harness.running_deployment``: every process in its own
process group, stopped by PID, also on failure; their logs are printed when the test fails.

The store is the moto S3 server (``s3_server``): the deliveries are uploaded to it, the tasks reach it
through the Airflow connection ``techreform_store`` as in production, and each worker's own folder (its
data folder included) holds nothing but its temp files and task logs."""

from __future__ import annotations

import os
import shutil
import urllib.error
from pathlib import Path

import pendulum
import pytest

from deployment_harness import (
    ROOT,
    databases,  # noqa: F401 (fixture)
    redis_db,  # noqa: F401 (fixture)
    request,
    running_deployment,
    tasks_run_by_worker,
    worker_strays,
)
from test_store import delivered_at_one_time, local_files, s3_files, upload_in_name_order, warehouse_state

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.airflow]

PERIOD = "2013-02"
DAG_ID = "techreform_monthly"
RUN_TIMEOUT = 7 * 60  # the DAG run, from trigger to success


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    from techreform.generator import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("celery_province")
    generate(
        out,
        GeneratorConfig(enterprises=60, projects=30, first_period="2013-01", last_period=PERIOD, defect_rate=0.02),
    )
    return out


def _reference_run(province: Path, site: Path, warehouse_url: str, monkeypatch) -> None:
    """The same period through ``dag.test()`` in this process (SQLite metadata), on a local folder store
    and its own warehouse."""
    from airflow.dag_processing.dagbag import DagBag

    from techreform.periods import Period
    from techreform.warehouse import dispose_engines

    shutil.copytree(province / "landing", site / "landing")
    delivered_at_one_time(site / "landing")
    with monkeypatch.context() as env:
        for key in list(os.environ):
            if key.startswith(("TECHREFORM_", "AIRFLOW_CONN_TECHREFORM", "AWS_")):
                env.delenv(key)
        env.setenv("TECHREFORM_DATA_DIR", str(site))
        env.setenv("TECHREFORM_WAREHOUSE_URL", warehouse_url)
        dag = DagBag(str(ROOT / "dags")).dags[DAG_ID]
        closes = Period.parse(PERIOD).next
        run = dag.test(logical_date=pendulum.datetime(closes.year, closes.month, 1, tz="Asia/Shanghai"))
        assert run.state == "success", [ti.task_id for ti in run.get_task_instances() if ti.state != "success"]
    dispose_engines()


@pytest.fixture
def reference_warehouse(pg_available):
    from deployment_harness import pg_databases

    with pg_databases("ref") as urls:
        yield urls["ref"]


def test_a_period_triggered_through_the_api_runs_on_two_celery_workers_like_dag_test(
    tmp_path, province, databases, redis_db, reference_warehouse, airflow_db, s3_server, monkeypatch
):
    # the deliveries land in the store (the moto S3 server)
    # (in name order: S3's LastModified has one-second resolution, so a bulk upload crossing a second
    # could change the delivery order against the reference, whose files are given one time below)
    upload_in_name_order(province, "landing", s3_server)
    with running_deployment(
        tmp_path, meta_url=databases["meta"], warehouse_url=databases["wh"], broker_url=redis_db, s3=s3_server
    ) as deployment:
        with pytest.raises(urllib.error.HTTPError):  # the API refuses a caller without the token
            request("GET", f"{deployment.api}/api/v2/dags/{DAG_ID}")
        deployment.unpause(DAG_ID)
        run_id = deployment.trigger(DAG_ID, {"period": PERIOD})

        # Meanwhile, the same period through dag.test() on a local folder, for the comparison below.
        reference = tmp_path / "reference"
        _reference_run(province, reference, reference_warehouse, monkeypatch)

        state = deployment.wait_run(DAG_ID, run_id, RUN_TIMEOUT)
        by_task = {ti["task_id"]: ti for ti in deployment.task_instances(DAG_ID, run_id)}
        assert state == "success", {t: ti["state"] for t, ti in by_task.items() if ti["state"] != "success"}
        assert len(by_task) > 10, sorted(by_task)

    # Both workers ran tasks of the run (each writes the logs of the tasks it ran in its own folder).
    ran = tasks_run_by_worker(tmp_path)
    assert all(ran.values()), ran
    assert set().union(*ran.values()) >= {f"task_id={t}" for t in by_task if t != "wait_for_deliveries"}, ran

    # Every output of the period is in the store ...
    remote = s3_files(s3_server)
    keys = sorted(remote)
    assert any(k.startswith(f"raw/enterprise_monthly/{PERIOD}/") for k in keys), keys[:20]
    assert any(k.startswith(f"outputs/data_docs/results/{PERIOD}/") for k in keys)
    assert "outputs/data_docs/site/index.html" in keys
    assert any(k.startswith("outputs/data_docs/gx/validations/") and k.endswith(".html") for k in keys)
    assert f"outputs/data_docs/site/{PERIOD}/E1.html" in keys  # the self-contained page people read
    assert any(k.startswith(f"outputs/receipts/{PERIOD}/") for k in keys)
    assert any(k.startswith(f"outputs/outbox/{PERIOD}/") and k.endswith(".eml") for k in keys)
    assert any(k.startswith(f"outputs/extracts/{PERIOD}/r1/") for k in keys)
    # ... and nothing on a worker's own disk but its temp files and task logs.
    strays = worker_strays(tmp_path)
    assert not any(strays.values()), strays

    # The warehouse and the files equal those of the same period run through dag.test().
    assert warehouse_state(databases["wh"], s3_server.url) == warehouse_state(reference_warehouse, str(reference))
    local = local_files(reference)
    assert sorted(remote) == sorted(local)
    for key in keys:
        assert remote[key] == local[key], key
