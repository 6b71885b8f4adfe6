"""Helpers for the extract tests: a small generated province (once per session), a warehouse loaded
from it by the pipeline itself (``run_period``: ingestion, GX validation, indicators, supervision), a
corrected re-delivery of one enterprise, and reading an extract back as the bureau would."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from techreform.config import Settings
from techreform.forms import ENTERPRISE_MONTHLY
from techreform.generator import GeneratorConfig, generate

PERIOD = "2013-02"
PROVINCE = GeneratorConfig(
    enterprises=80,
    projects=24,
    first_period="2013-01",
    last_period=PERIOD,
    defect_rate=0.02,
    file_formats=(("csv-utf8-sig", 1.0),),
)
HOSTILE_NAMES = (
    '=HYPERLINK("http://evil.example","点我")',
    "@SUM(1+1)",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
)
BUREAU = "tongji@tjj.example"


@pytest.fixture(scope="session")
def province(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("extracts_province")
    generate(out, PROVINCE)
    return out


def e1_files(landing: Path, period: str = PERIOD) -> list[Path]:
    return sorted((landing / ENTERPRISE_MONTHLY.name / period).glob("*.csv"))


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def plant_hostile_names(landing: Path) -> list[str]:
    """Give the first enterprises of the period formula-like names (in the delivered file); their uscc."""
    path = e1_files(landing)[0]
    rows = read_rows(path)
    usccs = []
    for row, name in zip(rows, HOSTILE_NAMES, strict=False):
        row["enterprise_name"] = name
        usccs.append(row["uscc"])
    write_rows(path, rows)
    return usccs


def add_bureau_supervisor(landing: Path) -> None:
    """An S1 row for the statistics bureau (role 统计局), so that the e-mail finds its address there."""
    path = sorted((landing / "supervisors").glob("*/*.csv"))[0]
    rows = read_rows(path)
    header = list(rows[0])
    rows.append(dict(zip(header, ["620000", "统计局联系人", BUREAU, "省统计局工业统计处"], strict=True)))
    write_rows(path, rows)


@pytest.fixture(scope="session")
def loaded_templates(tmp_path_factory):
    """Per dialect, the first test's freshly loaded warehouse, kept as a template (a SQLite copy, a
    PostgreSQL template database) with its landing and data folders, so that later tests clone it
    instead of running the pipeline again. PostgreSQL templates are dropped at the end."""
    templates: dict[str, dict] = {"_root": {"path": tmp_path_factory.mktemp("extracts_templates")}}
    yield templates
    pg = templates.get("postgresql")
    if pg:
        from conftest import PG_ADMIN_URL

        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'drop database if exists "{pg["database"]}" with (force)')
        admin.dispose()


def _pg_admin():
    from conftest import PG_ADMIN_URL

    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _keep_template(templates: dict, settings: Settings, landing: Path) -> None:
    from techreform.warehouse import dispose_engines

    dialect = "sqlite" if settings.warehouse_url.startswith("sqlite") else "postgresql"
    folder = templates["_root"]["path"] / dialect
    shutil.copytree(landing, folder / "landing")
    shutil.copytree(settings.data_dir, folder / "data")
    dispose_engines()
    if dialect == "sqlite":
        import sqlite3

        source = sqlite3.connect(settings.warehouse_url.split("///", 1)[1])
        target = sqlite3.connect(folder / "warehouse.sqlite")
        source.backup(target)
        source.close()
        target.close()
        templates[dialect] = {"folder": folder}
    else:
        source_db = settings.warehouse_url.rsplit("/", 1)[1]
        name = f"{source_db}_tmpl"
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'create database "{name}" template "{source_db}"')
        admin.dispose()
        templates[dialect] = {"folder": folder, "database": name}


def _clone_template(template: dict, settings: Settings, landing: Path) -> None:
    from techreform.warehouse import dispose_engines

    shutil.copytree(template["folder"] / "landing", landing)
    shutil.copytree(template["folder"] / "data", settings.data_dir, dirs_exist_ok=True)
    if "database" not in template:
        target = Path(settings.warehouse_url.split("///", 1)[1])
        shutil.copyfile(template["folder"] / "warehouse.sqlite", target)
        return
    dispose_engines()
    database = settings.warehouse_url.rsplit("/", 1)[1]
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'drop database if exists "{database}" with (force)')
        conn.exec_driver_sql(f'create database "{database}" template "{template["database"]}"')
    admin.dispose()


@pytest.fixture
def loaded(settings, province, tmp_path, loaded_templates) -> Settings:
    """Settings on a warehouse that the pipeline loaded with PERIOD of the province (hostile names
    planted, the bureau in S1); the gate is relaxed: the small generated deliveries carry every rule.
    The first test of each dialect runs the pipeline; the others get a copy of its warehouse."""
    from dataclasses import replace

    landing = tmp_path / "landing"
    settings = replace(settings, landing_dir=landing).with_options(validation={"hard_fail_threshold": 1.0})
    dialect = "sqlite" if settings.warehouse_url.startswith("sqlite") else "postgresql"
    if dialect in loaded_templates:
        _clone_template(loaded_templates[dialect], settings, landing)
        return settings
    shutil.copytree(province / "landing", landing)
    plant_hostile_names(landing)
    add_bureau_supervisor(landing)
    from techreform.steps import run_period

    run_period(settings, PERIOD, notify=False)
    _keep_template(loaded_templates, settings, landing)
    return settings


def correct_one_enterprise(settings: Settings, period: str = PERIOD) -> tuple[str, float]:
    """Deliver a correction (更正) of the revenue of one accepted enterprise and reload the period;
    returns (uscc, corrected revenue)."""
    engine = sa.create_engine(settings.warehouse_url)
    with engine.connect() as conn:
        fact = (
            conn.execute(
                sa.text(
                    "select uscc, region_code, revenue from fct_enterprise_monthly "
                    "where period = :p and review_status = 'ok' order by uscc limit 1"
                ),
                {"p": period},
            )
            .mappings()
            .one()
        )
        staged = (
            conn.execute(
                sa.text(
                    "select * from stg_enterprise_monthly where uscc = :u and delivery_period = :p order by delivery_seq desc"
                ),
                {"u": fact["uscc"], "p": period},
            )
            .mappings()
            .first()
        )
    engine.dispose()
    corrected = {f: staged[f] for f in ENTERPRISE_MONTHLY.field_names}
    corrected["revenue"] = round(float(fact["revenue"]) + 1234.5, 2)
    path = settings.landing_dir / ENTERPRISE_MONTHLY.name / period / f"E1_{fact['region_code'][:4]}00_{period}_更正.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(corrected))
        writer.writeheader()
        writer.writerow({k: ("" if v is None else v) for k, v in corrected.items()})
    os.utime(path, (time.time() + 60,) * 2)
    from techreform.steps import run_period

    run_period(settings, period, notify=False)
    return fact["uscc"], corrected["revenue"]


def folder_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder, by relative path (to prove a revision was never touched)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def read_parquet(folder: Path, name: str) -> pd.DataFrame:
    return pq.read_table(folder / f"{name}.parquet").to_pandas()


def read_csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO((folder / f"{name}.csv").read_bytes()), encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
