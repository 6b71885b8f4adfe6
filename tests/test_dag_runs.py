"""The monthly DAG through Airflow (``dag.test``) on a generated province, on SQLite and PostgreSQL:
every input row accepted or quarantined as the generator's ground truth says, a re-run changes nothing,
a re-delivered file changes nothing, a corrected re-delivery replaces the rows it corrects."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa

from techreform.config import Settings
from techreform.periods import Period
from warehouse_snapshot import changes, snapshot

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

DAGS = Path(__file__).resolve().parents[1] / "dags"
PERIODS = ("2013-02", "2013-03")


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    from techreform.generator import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("province")
    generate(
        out,
        GeneratorConfig(enterprises=120, projects=50, first_period="2012-12", last_period="2013-03", defect_rate=0.03),
    )
    return out


@pytest.fixture
def run_settings(monkeypatch, tmp_path, warehouse_url, province, airflow_db) -> Settings:
    landing = tmp_path / "landing"
    shutil.copytree(province / "landing", landing)
    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TECHREFORM_LANDING_DIR", str(landing))
    monkeypatch.setenv("TECHREFORM_WAREHOUSE_URL", warehouse_url)
    return Settings.from_env()


def run_dag(period: str) -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(str(DAGS)).dags["techreform_monthly"]
    closes = Period.parse(period).next
    run = dag.test(logical_date=pendulum.datetime(closes.year, closes.month, 1, tz="Asia/Shanghai"))
    failed = [ti.task_id for ti in run.get_task_instances() if ti.state != "success"]
    assert run.state == "success", f"run for {period} failed in {failed}"


def ground_truth_counts(province: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """(form, period) → (rows, rows with a hard defect) of the files the generator wrote."""
    totals: dict[tuple[str, str], tuple[int, int]] = {}
    with open(province / "ground_truth" / "files.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (row["form"], row["period"])
            rows, hard = totals.get(key, (0, 0))
            totals[key] = (rows + int(row["rows"]), hard + int(row["rows_hard"]))
    return totals


def outcome_counts(settings: Settings, form: str, period: str) -> tuple[int, int, int]:
    engine = sa.create_engine(settings.warehouse_url)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "select count(*), sum(case when outcome = 'accepted' then 1 else 0 end), "
                "sum(case when outcome = 'quarantined' then 1 else 0 end) "
                "from etl_row_outcome where form = :form and period = :period"
            ),
            {"form": form, "period": period},
        ).one()
    engine.dispose()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)


def test_the_monthly_dag_accounts_for_every_row_reruns_identically_and_takes_corrections(run_settings, province):
    for period in PERIODS:
        run_dag(period)

    truth = ground_truth_counts(province)
    for form in ("E1", "P1"):
        for period in PERIODS:
            rows, hard = truth[(form, period)]
            received, accepted, quarantined = outcome_counts(run_settings, form, period)
            assert received == accepted + quarantined
            assert (received, quarantined) == (rows, hard), (form, period)

    # A re-run of a period changes nothing (warehouse and e-mails).
    before = snapshot(run_settings.warehouse_url)
    outbox_before = sorted(p.name for p in (run_settings.output_dir / "outbox").rglob("*.eml"))
    run_dag(PERIODS[-1])
    assert changes(before, snapshot(run_settings.warehouse_url)) == {}
    assert sorted(p.name for p in (run_settings.output_dir / "outbox").rglob("*.eml")) == outbox_before

    # The same bytes delivered again under another name change nothing.
    folder = run_settings.landing_dir / "enterprise_monthly" / PERIODS[-1]
    original = sorted(folder.glob("*.csv"))[0]
    shutil.copyfile(original, folder / f"{original.stem}_重报.csv")
    run_dag(PERIODS[-1])
    after_redelivery = snapshot(run_settings.warehouse_url)
    for table in ("fct_enterprise_monthly", "quarantine", "etl_row_outcome", "stg_enterprise_monthly"):
        assert after_redelivery[table] == before[table], table

    # A corrected delivery of one enterprise replaces its row and nothing else.
    engine = sa.create_engine(run_settings.warehouse_url)
    with engine.connect() as conn:
        fact = (
            conn.execute(
                sa.text(
                    "select uscc, enterprise_name, region_code, industry_code, revenue from fct_enterprise_monthly "
                    "where period = :p and review_status = 'ok' order by uscc limit 1"
                ),
                {"p": PERIODS[-1]},
            )
            .mappings()
            .one()
        )
        staged = (
            conn.execute(
                sa.text("select * from stg_enterprise_monthly where uscc = :u and delivery_period = :p"),
                {"u": fact["uscc"], "p": PERIODS[-1]},
            )
            .mappings()
            .one()
        )
        facts_before = conn.execute(
            sa.text("select count(*) from fct_enterprise_monthly where period = :p"), {"p": PERIODS[-1]}
        ).scalar_one()
    from techreform.forms import ENTERPRISE_MONTHLY

    corrected = {f: staged[f] for f in ENTERPRISE_MONTHLY.field_names}
    corrected["revenue"] = fact["revenue"] + 1.0
    path = folder / f"E1_{fact['region_code'][:4]}00_{PERIODS[-1]}_更正.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(corrected))
        writer.writeheader()
        writer.writerow({k: ("" if v is None else v) for k, v in corrected.items()})
    os.utime(path, (pendulum.now().timestamp() + 60,) * 2)
    run_dag(PERIODS[-1])
    with engine.connect() as conn:
        revenue = conn.execute(
            sa.text("select revenue from fct_enterprise_monthly where uscc = :u and period = :p"),
            {"u": fact["uscc"], "p": PERIODS[-1]},
        ).scalar_one()
        facts_after = conn.execute(
            sa.text("select count(*) from fct_enterprise_monthly where period = :p"), {"p": PERIODS[-1]}
        ).scalar_one()
        superseded = conn.execute(
            sa.text("select count(*) from etl_row_outcome where record_key = :u and period = :p and superseded = 1"),
            {"u": fact["uscc"], "p": PERIODS[-1]},
        ).scalar_one()
    engine.dispose()
    assert revenue == pytest.approx(fact["revenue"] + 1.0)
    assert facts_after == facts_before
    assert superseded == 1
