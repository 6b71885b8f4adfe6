"""The distributed engine as a province deploys it (docs/deployment.md), all as separate processes here:
PostgreSQL metadata (a fresh database), Redis as the Celery broker (its own db number), ``airflow db
migrate``, scheduler, dag-processor, api-server (free port), triggerer and two Celery workers, each worker
in its own working folder with a private temp dir (as on two machines). A period is triggered through the
REST API with a JWT from the simple auth manager, as a user would; the run must succeed, every output of
the period must be in the store, and the warehouse must equal the one ``dag.test()`` gives for the same
period. Every process is started in its own process group and stopped by PID, also on failure; their logs
are printed when the test fails.

The store is the moto S3 server (``s3_server``): the deliveries are uploaded to it, the tasks reach it
through the Airflow connection ``techreform_store`` as in production, and each worker's own folder (its
data folder included) holds nothing but its temp files and task logs."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa

from service_fixtures import free_port
from test_store import local_files, s3_files, warehouse_state

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.airflow]

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = Path(sys.executable).parent / "airflow"
PERIOD = "2013-02"
DAG_ID = "techreform_monthly"
RUN_TIMEOUT = 7 * 60  # the DAG run, from trigger to success
START_TIMEOUT = 120  # api-server answering, DAG parsed
REDIS_URL = os.environ.get("TECHREFORM_TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    from techreform.generator import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("celery_province")
    generate(
        out,
        GeneratorConfig(enterprises=60, projects=30, first_period="2013-01", last_period=PERIOD, defect_rate=0.02),
    )
    return out


def _admin() -> sa.Engine:
    from conftest import PG_ADMIN_URL

    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture
def databases(pg_available):
    """Two fresh PostgreSQL databases, Airflow's metadata and the warehouse; dropped afterwards."""
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable")
    from conftest import PG_ADMIN_URL

    names = {role: f"techreform_{role}_{uuid.uuid4().hex[:10]}" for role in ("meta", "wh")}
    admin = _admin()
    with admin.connect() as conn:
        for name in names.values():
            conn.exec_driver_sql(f'create database "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield {role: f"{base}/{name}" for role, name in names.items()}
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()


@pytest.fixture
def redis_db():
    """A Redis database number nobody uses (empty), flushed before and after."""
    import redis

    chosen = None
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_URL}/{number}")
        try:
            if client.dbsize() == 0:
                chosen = client
                break
        except redis.exceptions.ConnectionError:
            if os.environ.get("TECHREFORM_REQUIRE_REDIS") == "1":
                pytest.fail(f"Redis at {REDIS_URL} is required (TECHREFORM_REQUIRE_REDIS=1) but not reachable")
            pytest.skip(f"Redis at {REDIS_URL} is not reachable")
        client.close()
    if chosen is None:
        pytest.skip("no empty Redis database number")
    chosen.flushdb()
    try:
        yield f"{REDIS_URL}/{number}"
    finally:
        chosen.flushdb()
        chosen.close()


class Cluster:
    """The processes of one deployment, each in its own process group, its output in a log file."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def run(self, name: str, *args: str, timeout: int = 300) -> None:
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        self.logs[name] = log
        with open(log, "w") as out:
            done = subprocess.run(
                [str(AIRFLOW), *args], env=self.env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            )
        assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{log.read_text()[-4000:]}"

    def start(self, name: str, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        self.logs[name] = log
        with open(log, "w") as out:
            self.processes[name] = subprocess.Popen(
                [str(AIRFLOW), *args],
                env=env or self.env,
                cwd=cwd or self.root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with every child it forks
            )

    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
        assert not dead, f"processes ended early: {dead}\n{self.tail(list(dead))}"

    def tail(self, names: list[str] | None = None, chars: int = 3000) -> str:
        out = []
        for name in names or list(self.logs):
            text = self.logs[name].read_text(errors="replace") if self.logs[name].exists() else ""
            out.append(f"===== {name} ({self.logs[name]}) =====\n{text[-chars:]}")
        return "\n".join(out)

    def stop(self) -> None:
        """SIGTERM to every process group, then SIGKILL to what is left after 30 s."""
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # the group: children a graceful stop left behind
            if process.poll() is None:
                process.wait(timeout=10)


def _request(method: str, url: str, token: str | None = None, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def _wait_for(what: str, probe, timeout: float, cluster: Cluster, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        cluster.check_alive()
        try:
            result = probe()
            if result:
                return result
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last})")


def _task_logs(root: Path, tasks: list[str]) -> str:
    """The logs the workers wrote of these tasks (each worker keeps the logs of what it ran)."""
    out = []
    for task in tasks:
        for path in sorted(root.glob(f"worker-*/logs/**/task_id={task}/*.log")):
            out.append(f"----- {path.relative_to(root)}\n{path.read_text(errors='replace')[-6000:]}")
    return "\n".join(out) or "(no task log found)"


def _reference_run(province: Path, site: Path, warehouse_url: str, monkeypatch) -> None:
    """The same period through ``dag.test()`` in this process (SQLite metadata), on a local folder store
    and its own warehouse."""
    from airflow.dag_processing.dagbag import DagBag

    from techreform.periods import Period
    from techreform.warehouse import dispose_engines

    shutil.copytree(province / "landing", site / "landing")
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
    from conftest import PG_ADMIN_URL

    name = f"techreform_ref_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from techreform.warehouse import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()


def test_a_period_triggered_through_the_api_runs_on_two_celery_workers_like_dag_test(
    tmp_path, province, databases, redis_db, reference_warehouse, airflow_db, s3_server, monkeypatch
):
    # the deliveries land in the store (the moto S3 server)
    s3_server.fs.put(str(province / "landing") + "/", f"{s3_server.bucket}/{s3_server.prefix}/landing/", recursive=True)
    home = tmp_path / "airflow-home"
    home.mkdir()
    password = secrets.token_urlsafe(16)
    (home / "passwords.json").write_text(json.dumps({"engineer": password}), encoding="utf-8")
    api_port = free_port()
    meta = databases["meta"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TECHREFORM_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "engineer:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
            "AIRFLOW__CELERY__BROKER_URL": redis_db,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta,
            # only the run the test triggers: no scheduled run of the current month competes for the DAG
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),  # the machine is shared
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
            "AIRFLOW_CONN_TECHREFORM_WAREHOUSE": databases["wh"].replace("postgresql+psycopg://", "postgres://"),
            # the store, the credentials through the Airflow connection techreform_store (as in production)
            **{k: v for k, v in s3_server.env(through_connection=True).items() if not k.startswith("AWS_")},
            "TECHREFORM_DATA_DIR": str(tmp_path / "control-data"),
        }
    )
    cluster = Cluster(tmp_path, env)
    failed = True
    try:
        cluster.run("db-migrate", "db", "migrate", timeout=300)
        cluster.start("scheduler", "scheduler")
        cluster.start("dag-processor", "dag-processor")
        cluster.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1")
        cluster.start("triggerer", "triggerer")
        for name in ("worker-a", "worker-b"):  # two machines: own cwd, temp dir and task logs
            folder = tmp_path / name
            (folder / "tmp").mkdir(parents=True)
            worker_env = {
                **env,
                "TECHREFORM_DATA_DIR": str(folder / "data"),  # must stay empty: every file is in the store
                "TMPDIR": str(folder / "tmp"),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(folder / "logs"),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            }
            cluster.start(
                name,
                *("celery", "worker", "--concurrency", "2", "--celery-hostname", f"{name}@%h", "--skip-serve-logs"),
                cwd=folder,
                env=worker_env,
            )

        api = f"http://127.0.0.1:{api_port}"
        token = _wait_for(
            "a token from /auth/token",
            lambda: _request("POST", f"{api}/auth/token", body={"username": "engineer", "password": password})[
                "access_token"
            ],
            START_TIMEOUT,
            cluster,
        )
        with pytest.raises(urllib.error.HTTPError):  # the API refuses a caller without the token
            _request("GET", f"{api}/api/v2/dags/{DAG_ID}")

        def dag_parsed() -> bool:
            try:
                return _request("GET", f"{api}/api/v2/dags/{DAG_ID}", token)["dag_id"] == DAG_ID
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return False
                raise

        _wait_for("the DAG parsed by the dag-processor", dag_parsed, START_TIMEOUT, cluster)
        _request("PATCH", f"{api}/api/v2/dags/{DAG_ID}", token, {"is_paused": False})
        run = _request(
            "POST", f"{api}/api/v2/dags/{DAG_ID}/dagRuns", token, {"logical_date": None, "conf": {"period": PERIOD}}
        )
        run_id = run["dag_run_id"]

        # Meanwhile, the same period through dag.test() on a local folder, for the comparison below.
        reference = tmp_path / "reference"
        _reference_run(province, reference, reference_warehouse, monkeypatch)

        def finished() -> str | None:
            state = _request("GET", f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", token)["state"]
            if state in ("success", "failed"):
                return state
            listed = _request("GET", f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", token)
            broken = [ti["task_id"] for ti in listed["task_instances"] if ti["state"] in ("up_for_retry", "failed")]
            assert not broken, f"tasks failed: {broken}\n{_task_logs(tmp_path, broken)}"
            return None

        state = _wait_for(f"the run {run_id}", finished, RUN_TIMEOUT, cluster, interval=5)
        instances = _request("GET", f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", token)
        by_task = {ti["task_id"]: ti for ti in instances["task_instances"]}
        assert state == "success", {t: ti["state"] for t, ti in by_task.items() if ti["state"] != "success"}
        assert len(by_task) > 10, sorted(by_task)
        failed = False
    finally:
        cluster.stop()
        if failed:
            print(cluster.tail())

    # Both workers ran tasks of the run (each writes the logs of the tasks it ran in its own folder).
    ran = {
        name: {p.parent.name for p in (tmp_path / name / "logs").rglob("*.log")} for name in ("worker-a", "worker-b")
    }
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
    for name in ("worker-a", "worker-b"):
        folder = tmp_path / name
        strays = [p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).parts[0] not in ("tmp", "logs")]
        assert not strays, strays

    # The warehouse and the files equal those of the same period run through dag.test().
    assert warehouse_state(databases["wh"], s3_server.url) == warehouse_state(reference_warehouse, str(reference))
    local = local_files(reference)
    assert sorted(remote) == sorted(local)
    for key in keys:
        assert remote[key] == local[key], key
