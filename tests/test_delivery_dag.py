"""The delivery DAG through Airflow (``dag.test``) on a generated province, on SQLite and PostgreSQL,
with a real SMTP server: every delivered file's receipt reaches its prefecture's statistics contact,
and the month's run afterwards gives the same warehouse as the month's run without the delivery DAG,
without checking again what the delivery DAG checked against the same warehouse."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from delivery_fixtures import PERIOD, generate_province
from techreform.config import Settings

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

DAGS = Path(__file__).resolve().parents[1] / "dags"
BOOKKEEPING = {"sup_email_log", "dlv_landing_seen", "dq_review_check", "etl_run_lock"}
"""Tables of the pipeline's own bookkeeping: who was e-mailed, what the watcher saw, when checks ran."""
WHEN = {"received_at", "first_seen_at", "checked_at", "reviewed_at", "updated_at", "created_at", "computed_at"}
"""Columns saying when something happened (not what)."""
WHERE = {"raw_path"}
"""Columns naming where the store is (each warehouse here has its own store)."""


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    return generate_province(tmp_path_factory.mktemp("delivery_dag_province"), defect_rate=0.05)


@pytest.fixture
def baseline_url(warehouse_url, tmp_path, request):
    """A second warehouse of the same engine, for the month's run without the delivery DAG."""
    if warehouse_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'baseline.sqlite'}"
        return
    from conftest import PG_ADMIN_URL

    name = f"techreform_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    from techreform.warehouse import dispose_engines

    dispose_engines()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
    admin.dispose()


def contents(url: str) -> dict[str, list[tuple]]:
    """Every row of every table but the bookkeeping, without the columns saying when."""
    engine = sa.create_engine(url)
    out = {}
    with engine.connect() as conn:
        for name in sorted(set(sa.inspect(conn).get_table_names()) - BOOKKEEPING):
            columns = [c["name"] for c in sa.inspect(conn).get_columns(name) if c["name"] not in WHEN | WHERE]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = conn.execute(sa.text(f'select {listed} from "{name}"')).fetchall()  # noqa: S608 - catalog names
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    engine.dispose()
    return out


def month_settings(tmp_path: Path, name: str, url: str, landing: Path) -> Settings:
    """The month's settings; options (a generated province with defects: no quality gate) from a file."""
    config = tmp_path / "options.json"
    config.write_text(
        '{"validation": {"hard_fail_threshold": 1.0, "completeness_floor": 0.0}, "delivery": {"settle_seconds": 0}}',
        encoding="utf-8",
    )
    return Settings.from_env(
        {
            "TECHREFORM_DATA_DIR": str(tmp_path / name),
            "TECHREFORM_LANDING_DIR": str(landing),
            "TECHREFORM_WAREHOUSE_URL": url,
            "TECHREFORM_CONFIG_FILE": str(config),
        }
    )


def test_the_delivery_dag_answers_every_file_and_the_months_run_after_it_gives_the_same_warehouse(
    warehouse_url, baseline_url, province, tmp_path, monkeypatch, airflow_db, local_smtp
):
    from airflow.dag_processing.dagbag import DagBag

    from techreform.steps import run_period
    from techreform.validation import suites

    # with the delivery DAG: 2013-01 by the month's run, then 2013-02's files land and are answered
    landing = tmp_path / "landing"
    shutil.copytree(province / "landing", landing, ignore=shutil.ignore_patterns(PERIOD))
    settings = month_settings(tmp_path, "with", warehouse_url, landing)
    run_period(settings, "2013-01", notify=False)
    delivered = []
    for folder in sorted((province / "landing").iterdir()):
        if (folder / PERIOD).is_dir():
            shutil.copytree(folder / PERIOD, landing / folder.name / PERIOD)
            delivered += [p.name for p in (folder / PERIOD).iterdir()]
    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(tmp_path / "with"))
    monkeypatch.setenv("TECHREFORM_LANDING_DIR", str(landing))
    monkeypatch.setenv("TECHREFORM_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("TECHREFORM_CONFIG_FILE", str(tmp_path / "options.json"))
    monkeypatch.setenv("AIRFLOW_CONN_TECHREFORM_SMTP", local_smtp.connection_uri())
    dag = DagBag(str(DAGS)).dags["techreform_delivery"]
    run = dag.test()
    assert run.state == "success", [ti.task_id for ti in run.get_task_instances() if ti.state != "success"]
    e1 = sorted(n for n in delivered if n.startswith("E1_"))
    told = sorted(r[0] for r, m in local_smtp.handler.messages if "（E1 " in str(m["Subject"]))
    assert told == sorted(f"tongji{n.split('_')[1]}@gsgxw.example" for n in e1)  # one E1 receipt per prefecture
    sent = len(local_smtp.handler.messages)
    assert dag.test().state == "success" and len(local_smtp.handler.messages) == sent  # a re-fired event

    runs: list[str] = []
    real = suites.run_suite
    monkeypatch.setattr(suites, "run_suite", lambda form, *a, **k: runs.append(form.code) or real(form, *a, **k))
    run_period(settings, PERIOD, notify=False)
    assert "P1" not in runs, "the month's run checked P1 again against the same warehouse"

    # without it: the month's run alone
    monkeypatch.setattr(suites, "run_suite", real)
    alone = tmp_path / "landing_alone"
    shutil.copytree(province / "landing", alone)
    baseline = month_settings(tmp_path, "alone", baseline_url, alone)
    for period in ("2013-01", PERIOD):
        run_period(baseline, period, notify=False)
    with_dag, without = contents(warehouse_url), contents(baseline_url)
    assert sorted(with_dag) == sorted(without)
    differing = {
        name: (set(with_dag[name]) ^ set(without[name])) for name in with_dag if with_dag[name] != without[name]
    }
    assert differing == {}
