"""docker-compose.yaml as Airflow's own compose file does it (no Docker engine here: its structure is
checked): every long-running service health-checked, the one-shot services awaited, every variable from
.env without a default (start-up stops naming it), the bind mounts handed to AIRFLOW_UID by airflow-init,
the store (MinIO) wired to TECHREFORM_STORAGE_URL with its bucket created idempotently; and the warehouse's
init SQL run twice against the real PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yaml"
VARIABLE = re.compile(r"(?<!\$)\$\{([^}]*)\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|_KEY\b|ACCESS_KEY|REDISCLI_AUTH")
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
)


@pytest.fixture(scope="module")
def text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def services(text) -> dict:
    return yaml.safe_load(text)["services"]


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


def test_every_long_running_service_is_health_checked_and_every_one_shot_awaited(services):
    assert set(AIRFLOW_SERVICES) | {
        "postgres",
        "redis",
        "minio",
        "airflow-init",
        "warehouse-init",
        "store-init",
    } <= set(services)
    for name, service in services.items():
        if _one_shot(service):
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
    one_shots = {name for name, service in services.items() if _one_shot(service)}
    assert one_shots == {"airflow-init", "warehouse-init", "store-init"}
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        for shot in one_shots:
            assert depends[shot]["condition"] == "service_completed_successfully", (name, shot)
        for dependency, condition in depends.items():
            if dependency not in one_shots:
                assert condition["condition"] == "service_healthy", (name, dependency)
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_every_variable_comes_from_the_environment_without_a_default_and_stops_naming_itself(text, services):
    variables = VARIABLE.findall(text)
    assert len(variables) > 15
    for expression in variables:
        name, sep, message = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(:\?|\?|:-|-|:\+|\+)?(.*)", expression).groups()
        assert sep == ":?", f"${{{expression}}}: a variable must stop start-up when unset (${{{name}:?…}})"
        assert name in message, f"${{{expression}}}: the message must name {name}"
    names = {re.match(r"[A-Za-z_][A-Za-z0-9_]*", v).group() for v in variables}
    assert {
        "AIRFLOW_UID",
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY",
        "_AIRFLOW_WWW_USER_PASSWORD",
        "TECHREFORM_WAREHOUSE_PASSWORD",
        "MINIO_ROOT_PASSWORD",
    } <= names
    # no secret is written in the file: every secret-looking setting takes its value from .env
    for name, service in services.items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):  # a file's path is no secret
                assert VARIABLE.search(value) or "$${" in value, f"{name}: {key} is written in the file"
        for key, value in _environment(service).items():
            for url in re.findall(r"\w+(?:\+\w+)*://[^\s\"']+", value):
                userinfo = url.split("://", 1)[1].split("@", 1)
                if len(userinfo) == 2 and ":" in userinfo[0]:
                    assert VARIABLE.search(userinfo[0]), f"{name}: {key} has a password written in the file"
        command = " ".join(service.get("command", [])) if isinstance(service.get("command"), list) else ""
        assert "--requirepass" not in command or VARIABLE.search(command), name


def test_the_store_is_wired_to_the_object_store_and_its_bucket_created_on_every_start(services):
    env = _environment(services["airflow-worker"])
    storage = env["TECHREFORM_STORAGE_URL"]
    assert storage.startswith("s3://${TECHREFORM_BUCKET:?")
    connection = json.loads(env["AIRFLOW_CONN_TECHREFORM_STORE"])  # the store's connection (techreform.store)
    assert connection["conn_type"] == "aws"
    assert connection["extra"]["endpoint_url"] == "http://minio:9000"
    assert connection["login"].startswith("${MINIO_ROOT_USER:?")
    assert connection["password"].startswith("${MINIO_ROOT_PASSWORD:?")
    for name in AIRFLOW_SERVICES:  # every Airflow process reaches the same store and warehouse
        assert _environment(services[name])["TECHREFORM_STORAGE_URL"] == storage
        assert _environment(services[name])["AIRFLOW_CONN_TECHREFORM_STORE"] == env["AIRFLOW_CONN_TECHREFORM_STORE"]
        assert _environment(services[name])["AIRFLOW_CONN_TECHREFORM_WAREHOUSE"].startswith("postgres://techreform:")
    assert services["minio"]["command"][:2] == ["server", "/data"]
    init = services["store-init"]
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    script = " ".join(init["command"])
    assert "mc mb --ignore-existing" in script and "$${TECHREFORM_BUCKET}" in script
    assert _environment(init)["TECHREFORM_BUCKET"].startswith("${TECHREFORM_BUCKET:?")


def test_airflow_runs_as_airflow_uid_and_init_hands_it_every_bind_mount(services):
    init = services["airflow-init"]
    assert init["user"] == "0:0"
    script = "\n".join(init["command"])
    owned: set[str] = set()
    for line in script.splitlines():
        if line.strip().startswith("chown -R"):
            assert '"${AIRFLOW_UID:?' in line and ':0"' in line, line
            owned |= {part for part in line.split() if part.startswith("/")}
    assert owned
    for name, service in services.items():
        if not name.startswith("airflow-"):
            continue
        if name != "airflow-init":
            assert service["user"].startswith("${AIRFLOW_UID:?") and service["user"].endswith(":0"), name
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("."):  # a bind mount: created and owned by init
                assert target in owned, f"{name}: {target} is not handed to AIRFLOW_UID by airflow-init"
                assert "mkdir -v -p" in script and target in script.split("mkdir -v -p", 1)[1].splitlines()[0], target
    assert "exec /entrypoint airflow version" in script
    assert _environment(init)["_AIRFLOW_DB_MIGRATE"] == "true"


def test_the_executor_and_its_drivers_are_the_deploy_extras(services):
    env = _environment(services["airflow-scheduler"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg://")  # psycopg 3 + asyncpg
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg://")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:${REDIS_PASSWORD:?")
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert '".[deploy,s3]"' in dockerfile and "-e " not in dockerfile


def test_the_instant_review_can_run_a_triggerer_and_runs_raised_by_asset_events(services):
    """techreform_delivery is scheduled on an Asset its watcher raises in the triggerer; Airflow creates
    such runs only while scheduler.use_job_schedule is on (docs/delivery.md, Measured)."""
    assert "airflow-triggerer" in services
    for name in AIRFLOW_SERVICES:
        value = _environment(services[name]).get("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "true")
        assert value.lower() in ("true", "1"), name


@pytest.mark.postgres
def test_the_warehouse_init_creates_role_and_database_once_and_is_idempotent(pg_available):
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable")
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    import sqlalchemy as sa

    from conftest import PG_ADMIN_URL

    url = sa.engine.make_url(PG_ADMIN_URL)
    name = f"techreform_wi_{uuid.uuid4().hex[:10]}"

    def run(password: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                psql,
                *("-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"),
                *("-d", url.database or "postgres", "-v", "ON_ERROR_STOP=1"),
                *("-v", f"warehouse_role={name}", "-v", f"warehouse_database={name}"),
                *("-v", f"warehouse_password={password}", "-f", str(ROOT / "deploy" / "warehouse-init.sql")),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        for password in ("first-secret", "rotated-secret"):  # every start: the second one finds both there
            done = run(password)
            assert done.returncode == 0, done.stderr
        with admin.connect() as conn:
            owner = conn.execute(
                sa.text("select pg_get_userbyid(datdba) from pg_database where datname = :n"), {"n": name}
            ).scalar()
            assert owner == name
        role_url = url.set(username=name, password="rotated-secret", database=name)
        engine = sa.create_engine(role_url)
        with engine.connect() as conn:  # the role logs in (trust or password) and owns its database
            assert conn.execute(sa.text("select current_user")).scalar() == name
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
            conn.exec_driver_sql(f'drop role if exists "{name}"')
        admin.dispose()
