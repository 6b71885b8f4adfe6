"""Shared fixtures: real warehouses (a SQLite file and a fresh PostgreSQL database per test), settings
pointing at temporary folders, and an Airflow home for DAG tests.

PostgreSQL: ``TECHREFORM_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
is the server's maintenance database; each test that asks for PostgreSQL gets a database of its own,
created and dropped around it. Without a reachable server those tests skip, except in CI
(``TECHREFORM_REQUIRE_POSTGRES=1``) where they fail."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# Airflow reads its configuration when first imported: point it at a private home first.
_AIRFLOW_HOME = Path(os.environ.get("TECHREFORM_TEST_AIRFLOW_HOME") or f"/tmp/techreform-test-airflow-{os.getpid()}")
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"

PG_ADMIN_URL = os.environ.get("TECHREFORM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("TECHREFORM_REQUIRE_POSTGRES") == "1"

from techreform.config import Settings  # noqa: E402

pytest_plugins = ["module_start"]  # the first test of each module: the root logger's level, gc.freeze


def _pg_available() -> bool:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    ok = _pg_available()
    if not ok and REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required (TECHREFORM_REQUIRE_POSTGRES=1) but not reachable")
    return ok


@pytest.fixture
def pg_url(pg_available):
    """A fresh, empty PostgreSQL database for this test; dropped afterwards."""
    if not pg_available:
        pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} is not reachable")
    import sqlalchemy as sa

    from techreform.warehouse import dispose_engines

    name = f"techreform_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    dispose_engines()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path):
    """Runs the test once on a SQLite file and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def settings(tmp_path, warehouse_url) -> Settings:
    """Settings with every folder under the test's tmp_path, on the parametrised warehouse."""
    data = tmp_path / "data"
    return Settings.from_env({"TECHREFORM_DATA_DIR": str(data), "TECHREFORM_WAREHOUSE_URL": warehouse_url})


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    data = tmp_path / "data"
    return Settings.from_env({"TECHREFORM_DATA_DIR": str(data)})


@pytest.fixture(scope="session")
def airflow_db():
    """An initialised Airflow metadata database (SQLite) for dag.test()."""
    _AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    from airflow.utils import db

    db.resetdb(skip_init=False) if hasattr(db, "resetdb") else db.initdb()
    return _AIRFLOW_HOME


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 at a free port: yields the handler that keeps what
    arrives and the SmtpConfig that reaches it; stopped afterwards."""
    from aiosmtpd.controller import Controller

    from supervision_fixtures import CollectingHandler, free_port
    from techreform.supervision import SmtpConfig

    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, SmtpConfig(host="127.0.0.1", port=controller.port, sender="jigai@example.org", timeout=10)
    finally:
        controller.stop()


# Real services (moto S3, aiosmtpd) for any test module: see service_fixtures.py.
from service_fixtures import local_smtp, s3_server  # noqa: E402, F401


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Print a failure's reason the moment it happens, not only in the summary at the end: a CI run
    stopped at its time limit never reaches the summary, and its log must still say what failed."""
    if not report.failed:
        return
    lines = report.longreprtext.splitlines()
    tail = "\n".join(lines[-25:])
    print(f"\n--- {report.nodeid} failed in {report.when} ---\n{tail}\n--- end of {report.nodeid} ---", flush=True)
