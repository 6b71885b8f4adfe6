"""The multi-worker deployment of the tests (docs/deployment.md), started and stopped as one piece, for the
slow tests (``test_celery_deployment.py``, ``test_delivery_deployment.py``) and for
``scripts/measure_delivery.py``.

What :func:`running_deployment` starts, all as separate processes: ``airflow db migrate`` on a fresh
PostgreSQL metadata database, then scheduler, dag-processor, api-server (free port), triggerer and two
Celery workers (Redis as the broker, a db number of its own), each worker in its own working folder with a
private temp dir and task-log folder (as on two machines). The store is an S3 server
(:class:`service_fixtures.S3Server`) reached through the Airflow connection ``techreform_store``; the
warehouse is a PostgreSQL database through ``techreform_warehouse``; with an SMTP server
(:class:`service_fixtures.LocalSmtp`) the connection ``techreform_smtp`` points at it, else e-mails go to
the outbox. Every process is started in its own process group and stopped by its PID (SIGTERM to the
group, SIGKILL after 30 s), also when the block fails; when an exception leaves the block, the services'
logs are printed.

:func:`load_earlier_months` puts R1 (the register), S1 (supervisors and the statistics contacts, 统计联络员)
and earlier E1 months into the deployment's warehouse as the month's runs would have left them, so that a
delivery is checked against a real context and its receipt has an addressee. :func:`land`,
:func:`wait_for_email` and :func:`timeline` deliver a file, wait for its receipt at the SMTP server and
tell where the seconds went. Everything here works outside pytest (context managers); the fixtures at the
end wrap them.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import PG_ADMIN_URL
from service_fixtures import LocalSmtp, S3Server, free_port

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = Path(sys.executable).parent / "airflow"
START_TIMEOUT = 120  # api-server answering, a DAG parsed
MIGRATE_TIMEOUT = 300  # airflow db migrate
REDIS_URL = os.environ.get("TECHREFORM_TEST_REDIS_URL", "redis://127.0.0.1:6379")
WORKERS = ("worker-a", "worker-b")


class ServiceUnavailable(RuntimeError):
    """A service the deployment needs (PostgreSQL, Redis) cannot be reached."""


# --- processes ---------------------------------------------------------------------------------------


class Cluster:
    """The processes of one deployment, each in its own process group, its output in a log file."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def _log(self, name: str) -> Path:
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        self.logs[name] = log
        return log

    def run(self, name: str, *args: str, timeout: int = 300) -> None:
        """``airflow <args>`` to its end; fails with its log's tail when it does not succeed."""
        log = self._log(name)
        with open(log, "w") as out:
            done = subprocess.run(
                [str(AIRFLOW), *args], env=self.env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            )
        assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{log.read_text()[-4000:]}"

    def start(self, name: str, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
        log = self._log(name)
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


def request(method: str, url: str, token: str | None = None, body: dict | None = None) -> dict:
    """One JSON request to the api-server."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def wait_for(what: str, probe: Callable[[], Any], timeout: float, cluster: Cluster, interval: float = 2.0) -> Any:
    """``probe()`` until it returns something true (checking every process is alive between tries); fails
    after ``timeout`` seconds, naming ``what`` — a bound against hanging, not a timing assertion."""
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


def task_logs(root: Path, tasks: list[str]) -> str:
    """The logs the workers wrote of these tasks (each worker keeps the logs of what it ran)."""
    out = []
    for task in tasks:
        for path in sorted(root.glob(f"worker-*/logs/**/task_id={task}/*.log")):
            out.append(f"----- {path.relative_to(root)}\n{path.read_text(errors='replace')[-6000:]}")
    return "\n".join(out) or "(no task log found)"


# --- the services it stands on -------------------------------------------------------------------------


def _admin():
    import sqlalchemy as sa

    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def pg_databases(*roles: str) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database per role (e.g. ``meta``, ``wh``), dropped on leaving."""
    import sqlalchemy as sa

    names = {role: f"techreform_{role}_{uuid.uuid4().hex[:10]}" for role in roles}
    admin = _admin()
    try:
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'create database "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise ServiceUnavailable(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc}") from exc
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield {role: f"{base}/{name}" for role, name in names.items()}
    finally:
        from techreform.warehouse import dispose_engines

        dispose_engines()  # this process's own connections (load_snapshots) first
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()


@contextlib.contextmanager
def redis_database() -> Iterator[str]:
    """A Redis database number nobody uses (empty), flushed before and after; its URL."""
    import redis

    chosen, number = None, 0
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_URL}/{number}")
        try:
            if client.dbsize() == 0:
                chosen = client
                break
        except redis.exceptions.ConnectionError as exc:
            raise ServiceUnavailable(f"Redis at {REDIS_URL} is not reachable") from exc
        client.close()
    if chosen is None:
        raise ServiceUnavailable("no empty Redis database number")
    chosen.flushdb()
    try:
        yield f"{REDIS_URL}/{number}"
    finally:
        chosen.flushdb()
        chosen.close()


# --- the deployment ------------------------------------------------------------------------------------


@dataclass
class Deployment:
    """A running deployment: its processes, the API (as the user ``engineer``, admin) and its settings."""

    root: Path
    env: dict[str, str]
    cluster: Cluster
    api: str
    password: str
    meta_url: str
    warehouse_url: str
    s3: S3Server
    smtp: LocalSmtp | None = None
    token: str = ""
    parsed: set[str] = field(default_factory=set)

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        """``method`` on ``/api/v2/<path>`` with the engineer's token."""
        return request(method, f"{self.api}/api/v2/{path}", self.token, body)

    def wait_parsed(self, dag_id: str, timeout: float = START_TIMEOUT) -> None:
        """Until the dag-processor has parsed ``dag_id`` (the API knows it)."""

        def parsed() -> bool:
            try:
                return self.call("GET", f"dags/{dag_id}")["dag_id"] == dag_id
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return False
                raise

        wait_for(f"the DAG {dag_id} parsed by the dag-processor", parsed, timeout, self.cluster)
        self.parsed.add(dag_id)

    def unpause(self, dag_id: str) -> None:
        if dag_id not in self.parsed:
            self.wait_parsed(dag_id)
        self.call("PATCH", f"dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """A manual run of ``dag_id`` with ``conf``; its run id."""
        run = self.call("POST", f"dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.call("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"dags/{dag_id}/dagRuns?limit=100&order_by=-run_after")["dag_runs"]

    def broken_tasks(self, dag_id: str) -> list[str]:
        """Task ids of ``dag_id`` that failed or wait for a retry, in any of its runs."""
        return [
            ti["task_id"]
            for run in self.runs(dag_id)
            for ti in self.task_instances(dag_id, run["dag_run_id"])
            if ti["state"] in ("up_for_retry", "failed")
        ]

    def wait_run(self, dag_id: str, run_id: str, timeout: float, interval: float = 5) -> str:
        """Until the run ends (``success`` or ``failed``); fails at once, with the logs of the tasks, when a
        task fails or waits for a retry."""

        def finished() -> str | None:
            state = self.call("GET", f"dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return state
            broken = [
                ti["task_id"] for ti in self.task_instances(dag_id, run_id) if ti["state"] in ("up_for_retry", "failed")
            ]
            assert not broken, f"tasks failed: {broken}\n{task_logs(self.root, broken)}"
            return None

        return wait_for(f"the run {run_id}", finished, timeout, self.cluster, interval=interval)

    def settings(self, store_root: Path | None = None, options: Mapping[str, Any] | None = None):
        """Settings of this deployment's warehouse, on its store — or on a local folder store at
        ``store_root`` (files an earlier month left that the deployment's landing must not show); with
        ``options`` (sections of ``TECHREFORM_CONFIG_FILE``, e.g. larger ``ingest`` limits)."""
        from techreform.config import Settings

        folder = self.root / "control-settings"
        folder.mkdir(exist_ok=True)
        config: dict[str, Any] = dict(options or {})
        env = {"TECHREFORM_WAREHOUSE_URL": self.warehouse_url}
        if store_root is None:
            config["storage"] = {"url": self.s3.url, "storage_options": self.s3.storage_options}
            env["TECHREFORM_DATA_DIR"] = str(folder / "data")
        else:
            env["TECHREFORM_DATA_DIR"] = str(store_root)
        if config:
            path = folder / f"config-{uuid.uuid4().hex[:8]}.json"
            path.write_text(json.dumps(config), encoding="utf-8")
            env["TECHREFORM_CONFIG_FILE"] = str(path)
        return Settings.from_env(env)


def airflow_env(
    home: Path,
    api_port: int,
    meta_url: str,
    broker_url: str,
    warehouse_url: str,
    s3: S3Server,
    smtp: LocalSmtp | None = None,
    extra: Mapping[str, str] | None = None,
    job_schedule: bool = False,
) -> dict[str, str]:
    """The environment every process of the deployment shares (the caller's without its AIRFLOW* and
    TECHREFORM_* variables, plus the deployment's)."""
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
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url,
            "AIRFLOW__CELERY__BROKER_URL": broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta_url,
            # only the runs a test triggers: no scheduled run of the current month competes (also no run an
            # asset event raises: running_deployment(job_schedule=True) for those)
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),  # the machine is shared
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
            "AIRFLOW_CONN_TECHREFORM_WAREHOUSE": warehouse_url.replace("postgresql+psycopg://", "postgres://"),
            # the store, the credentials through the Airflow connection techreform_store (as in production)
            **{k: v for k, v in s3.env(through_connection=True).items() if not k.startswith("AWS_")},
            "TECHREFORM_DATA_DIR": str(home.parent / "control-data"),
        }
    )
    if smtp is not None:
        env["AIRFLOW_CONN_TECHREFORM_SMTP"] = smtp.connection_uri()
    if job_schedule:  # the scheduler creates runs from schedules and asset events (the DAGs start paused)
        env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "True"
    env.update(extra or {})
    return env


@contextlib.contextmanager
def running_deployment(
    root: Path,
    *,
    meta_url: str,
    warehouse_url: str,
    broker_url: str,
    s3: S3Server,
    smtp: LocalSmtp | None = None,
    extra_env: Mapping[str, str] | None = None,
    worker_concurrency: int = 2,
    job_schedule: bool = False,
) -> Iterator[Deployment]:
    """Start the deployment under ``root`` (its Airflow home, logs and the workers' folders) and yield it
    once the API gives a token; stop every process on leaving, and print the services' logs when an
    exception leaves the block. ``job_schedule``: the scheduler creates runs of unpaused DAGs from their
    schedules — needed for a DAG scheduled on an asset (Airflow's ``scheduler.use_job_schedule`` governs
    both); without it only triggered runs happen."""
    root = Path(root).resolve()  # the processes run in other folders: every path absolute
    home = root / "airflow-home"
    home.mkdir(parents=True)
    password = secrets.token_urlsafe(16)
    (home / "passwords.json").write_text(json.dumps({"engineer": password}), encoding="utf-8")
    api_port = free_port()
    env = airflow_env(home, api_port, meta_url, broker_url, warehouse_url, s3, smtp, extra_env, job_schedule)
    cluster = Cluster(root, env)
    deployment = Deployment(
        root, env, cluster, f"http://127.0.0.1:{api_port}", password, meta_url, warehouse_url, s3, smtp
    )
    try:
        cluster.run("db-migrate", "db", "migrate", timeout=MIGRATE_TIMEOUT)
        cluster.start("scheduler", "scheduler")
        cluster.start("dag-processor", "dag-processor")
        cluster.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1")
        cluster.start("triggerer", "triggerer")
        for name in WORKERS:  # two machines: own cwd, temp dir and task logs
            folder = root / name
            (folder / "tmp").mkdir(parents=True)
            worker_env = {
                **env,
                "TECHREFORM_DATA_DIR": str(folder / "data"),  # must stay empty: every file is in the store
                "TMPDIR": str(folder / "tmp"),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(folder / "logs"),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
            }
            cluster.start(
                name,
                *("celery", "worker", "--concurrency", str(worker_concurrency)),
                *("--celery-hostname", f"{name}@%h", "--skip-serve-logs"),
                cwd=folder,
                env=worker_env,
            )
        deployment.token = wait_for(
            "a token from /auth/token",
            lambda: request(
                "POST", f"{deployment.api}/auth/token", body={"username": "engineer", "password": password}
            )["access_token"],
            START_TIMEOUT,
            cluster,
        )
        yield deployment
    except BaseException:
        print(cluster.tail())
        raise
    finally:
        cluster.stop()


def worker_strays(root: Path) -> dict[str, list[Path]]:
    """Files on a worker's own disk other than its temp files and task logs (there must be none: every
    file is in the store)."""
    out = {}
    for name in WORKERS:
        folder = root / name
        out[name] = [
            p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).parts[0] not in ("tmp", "logs")
        ]
    return out


def tasks_run_by_worker(root: Path) -> dict[str, set[str]]:
    """``task_id=<id>`` folders of the task logs each worker wrote (the tasks it ran)."""
    return {name: {p.parent.name for p in (root / name / "logs").rglob("*.log")} for name in WORKERS}


# --- what earlier months left in the warehouse ----------------------------------------------------------


def load_earlier_months(
    deployment: Deployment, landing: Path, runs: Mapping[str, str], options: Mapping[str, Any] | None = None
) -> dict[str, dict]:
    """Ingest and load forms from a generated ``landing`` folder into the deployment's warehouse as the
    month's runs of earlier periods leave them: ``runs`` maps a form code to the period of that run (e.g.
    ``{"R1": "2013-06", "S1": "2013-06", "E1": "2013-05"}``: the register and the supervisors with the
    statistics contacts (统计联络员) in force in June, May's E1 for the cross-period rules). Through the
    package's own steps (:func:`techreform.pipeline.process_form`), reading from a local copy of the
    folders up to that period, so that the deployment's store — whose ``landing/`` a watcher polls — shows
    only what a test delivers. ``options``: sections of the configuration of these runs (a large
    province's register needs larger ``ingest`` limits than the defaults)."""
    import shutil

    from techreform.forms import form
    from techreform.periods import Period
    from techreform.pipeline import prepare_warehouse, process_form

    seed = deployment.root / "earlier-months"
    for code, period in runs.items():
        folder = landing / form(code).name
        kept = [p for p in sorted(folder.iterdir()) if p.is_dir() and p.name <= period]
        assert kept, f"no {code} delivery up to {period} under {folder}"
        for p in kept:
            shutil.copytree(p, seed / "landing" / form(code).name / p.name, dirs_exist_ok=True)
    settings = deployment.settings(store_root=seed, options=options)
    engine = prepare_warehouse(settings)
    return {code: process_form(engine, settings, code, Period.parse(period)) for code, period in runs.items()}


def statistics_contacts(deployment: Deployment, period: str) -> dict[str, list[dict[str, str]]]:
    """Prefecture code → its statistics contacts in the deployment's warehouse for ``period`` (the
    package's own reading: :func:`techreform.validation.receipts.statistics_contacts`)."""
    from techreform.periods import Period
    from techreform.validation.receipts import statistics_contacts as contacts_of
    from techreform.warehouse import engine_for

    settings = deployment.settings()
    return contacts_of(engine_for(settings.warehouse_url), settings, Period.parse(period))


# --- a delivery and its receipt -------------------------------------------------------------------------


def running_watchers(deployment: Deployment, dag_id: str) -> int:
    """Triggers of the asset watchers of ``dag_id``'s schedule that a triggerer has taken (is running)."""
    import sqlalchemy as sa

    engine = sa.create_engine(deployment.meta_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "select count(*) from trigger t join asset_watcher w on w.trigger_id = t.id "
                    "join dag_schedule_asset_reference r on r.asset_id = w.asset_id "
                    "where r.dag_id = :dag_id and t.triggerer_id is not null"
                ),
                {"dag_id": dag_id},
            ).scalar_one()
    finally:
        engine.dispose()


def wait_for_watchers(
    deployment: Deployment, dag_id: str, settle: float = 0.0, timeout: float = 3 * START_TIMEOUT
) -> None:
    """Until ``dag_id`` is unpaused and a triggerer has taken its watchers' triggers (the dag-processor
    registers them when it parses the file again after the unpause), then ``settle`` seconds more: a
    trigger polls at once when it starts, so a file landing before its first poll would be seen without
    the poll interval's wait; after one poll interval it lands at any phase of the polling, as in
    production."""
    deployment.unpause(dag_id)
    wait_for(
        f"the asset watchers of {dag_id} running in the triggerer",
        lambda: running_watchers(deployment, dag_id),
        timeout,
        deployment.cluster,
    )
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        deployment.cluster.check_alive()
        time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))


def land(deployment: Deployment, source: Path, form_code: str, period: str) -> tuple[str, float]:
    """Put ``source`` into the store's ``landing/<form>/<period>/`` as a prefecture's upload would; its key
    and the wall-clock time (``time.time()``) the upload completed."""
    from techreform.forms import form

    key = f"{deployment.s3.bucket}/{deployment.s3.prefix}/landing/{form(form_code).name}/{period}/{source.name}"
    deployment.s3.fs.pipe_file(key, source.read_bytes())
    return key, time.time()


def wait_for_email(
    deployment: Deployment, recipient: str, after: int, timeout: float, dag_id: str, interval: float = 0.5
) -> tuple[Any, float]:
    """The first message to ``recipient`` among those the SMTP server accepted after the first ``after``,
    and its arrival time; fails (with the failed tasks' logs) when a task of ``dag_id`` fails or waits for a
    retry, or after ``timeout`` seconds — a bound against hanging, not a timing assertion."""
    assert deployment.smtp is not None, "the deployment has no SMTP server"
    handler = deployment.smtp.handler
    deadline = time.monotonic() + timeout
    next_check = 0.0
    while time.monotonic() < deadline:
        for k in range(after, len(handler.messages)):
            recipients, message = handler.messages[k]
            if recipient.lower() in (r.lower() for r in recipients):
                return message, handler.arrived[k]
        if time.monotonic() >= next_check:
            deployment.cluster.check_alive()
            broken = deployment.broken_tasks(dag_id)
            assert not broken, f"tasks of {dag_id} failed: {broken}\n{task_logs(deployment.root, broken)}"
            next_check = time.monotonic() + 10
        time.sleep(interval)
    got = [(r, m["Subject"]) for r, m in handler.messages[after:]]
    raise AssertionError(f"no e-mail to {recipient} after {timeout:.0f}s; the SMTP server got {got}")


def _epoch(text: str | None) -> float | None:
    import datetime as dt

    return dt.datetime.fromisoformat(text).timestamp() if text else None


@dataclass
class Timeline:
    """Where the seconds from a file landing to its receipt at the SMTP server went, from the metadata the
    API gives (asset event, DAG run, task instances) and the SMTP server's arrival time."""

    landed: float
    arrived: float
    event: float | None = None
    run_queued: float | None = None
    run_started: float | None = None
    run_ended: float | None = None
    run_id: str = ""
    tasks: list[tuple[str, float | None, float | None, float | None]] = field(default_factory=list)
    """(task id, queued, started, ended) in start order."""
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    """Task id → seconds of its phases read from its log (:func:`task_log_phases`)."""

    @property
    def total(self) -> float:
        return self.arrived - self.landed

    def stages(self) -> list[tuple[str, float | None]]:
        """(stage, seconds) in order; ``None`` where the metadata is missing."""

        def gap(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else b - a

        started = [t[2] for t in self.tasks if t[2] is not None]
        ended = [t[3] for t in self.tasks if t[3] is not None]
        busy = sum(t[3] - t[2] for t in self.tasks if t[2] is not None and t[3] is not None)
        first_start = min(started) if started else None
        last_end = max(ended) if ended else None
        return [
            ("landing → asset event (watcher poll)", gap(self.landed, self.event)),
            ("asset event → run queued (scheduler)", gap(self.event, self.run_queued)),
            ("run queued → first task running", gap(self.run_queued, first_start)),
            ("first task start → last task end", gap(first_start, last_end)),
            ("  of which inside tasks (sum)", busy if self.tasks else None),
            ("last task end → receipt at SMTP", gap(last_end, self.arrived)),
            ("landing → receipt at SMTP", self.total),
        ]

    def format(self) -> str:
        lines = [f"{name:<40} {'' if v is None else f'{v:8.1f} s'}" for name, v in self.stages()]
        for task_id, queued, started, ended in self.tasks:
            wait = "" if queued is None or started is None else f"queued→start {started - queued:5.1f} s"
            run = "" if started is None or ended is None else f"ran {ended - started:6.1f} s"
            lines.append(f"    {task_id:<36} {wait}  {run}")
            phases = self.phases.get(task_id) or {}
            if phases:
                lines.append("      " + ", ".join(f"{name} {v:.1f} s" for name, v in phases.items()))
        return "\n".join(lines)


def timeline(deployment: Deployment, dag_id: str, landed: float, arrived: float) -> Timeline:
    """The :class:`Timeline` of the first run of ``dag_id`` queued after ``landed``."""
    out = Timeline(landed, arrived)
    runs = [r for r in deployment.runs(dag_id) if (_epoch(r.get("queued_at")) or 0) >= landed - 1]
    if not runs:
        return out
    run = min(runs, key=lambda r: _epoch(r["queued_at"]) or 0)
    out.run_id = run["dag_run_id"]
    out.run_queued, out.run_started, out.run_ended = (
        _epoch(run.get(k)) for k in ("queued_at", "start_date", "end_date")
    )
    try:
        events = deployment.call("GET", f"dags/{dag_id}/dagRuns/{out.run_id}/upstreamAssetEvents")["asset_events"]
        stamps = [_epoch(e.get("timestamp")) for e in events if e.get("timestamp")]
        out.event = min(stamps) if stamps else None
    except urllib.error.HTTPError:
        pass
    tasks = [
        (ti["task_id"], _epoch(ti.get("queued_when")), _epoch(ti.get("start_date")), _epoch(ti.get("end_date")))
        for ti in deployment.task_instances(dag_id, out.run_id)
    ]
    out.tasks = sorted(tasks, key=lambda t: t[2] or float("inf"))
    for task_id, *_ in out.tasks:
        phases = task_log_phases(deployment.root, dag_id, out.run_id, task_id)
        if phases:
            out.phases[task_id] = phases
    return out


def task_log_phases(root: Path, dag_id: str, run_id: str, task_id: str) -> dict[str, float]:
    """Seconds of a task's phases from the log its worker wrote (JSON lines with timestamps): ``start-up``
    (the task process from its first line to the end of Airflow's "Pre Execute" group: imports, DAG file
    parsed), ``work`` (the task's own code, to "Done. Returned value"), ``finish`` (XCom, state). Empty when
    no log is found (the last attempt's log)."""
    logs = sorted(root.glob(f"worker-*/logs/dag_id={dag_id}/run_id={run_id}/task_id={task_id}/attempt=*.log"))
    if not logs:
        return {}
    stamps: list[tuple[float, str]] = []
    for line in logs[-1].read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
            stamps.append((_epoch(record["timestamp"]) or 0.0, str(record.get("event", ""))))
        except (ValueError, KeyError, TypeError):
            continue
    if not stamps:
        return {}
    first, last = stamps[0][0], stamps[-1][0]
    started = next((t for t, e in stamps if e == "::endgroup::"), None)
    done = next((t for t, e in stamps if e.startswith("Done.") or e == "::group::Post Execute"), None)
    if started is None or done is None:
        return {"in its log": last - first}
    return {"start-up": started - first, "work": done - started, "finish": last - done}


def deliver(
    deployment: Deployment, source: Path, form_code: str, period: str, recipient: str, dag_id: str, timeout: float
) -> tuple[Any, Timeline]:
    """Land ``source`` in ``landing/<form>/<period>/``, wait for the first e-mail to ``recipient`` after it
    and for the end of the DAG run the landing raised; the e-mail and the :class:`Timeline`."""
    before = len(deployment.smtp.handler.messages) if deployment.smtp else 0
    _, landed = land(deployment, source, form_code, period)
    message, arrived = wait_for_email(deployment, recipient, before, timeout, dag_id)
    found = timeline(deployment, dag_id, landed, arrived)
    if found.run_id:
        state = deployment.wait_run(dag_id, found.run_id, timeout)
        assert state == "success", f"the run {found.run_id} of {dag_id} ended {state}"
        found = timeline(deployment, dag_id, landed, arrived)  # with the last tasks' end
    return message, found


# --- pytest fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def databases(pg_available) -> Iterator[dict[str, str]]:
    """Two fresh PostgreSQL databases, Airflow's metadata (``meta``) and the warehouse (``wh``)."""
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable")
    with pg_databases("meta", "wh") as urls:
        yield urls


@pytest.fixture
def redis_db() -> Iterator[str]:
    """A Redis database number nobody uses (empty), flushed before and after; skipped without Redis,
    except in CI (``TECHREFORM_REQUIRE_REDIS=1``)."""
    try:
        context = redis_database()
        url = context.__enter__()
    except ServiceUnavailable as exc:
        if os.environ.get("TECHREFORM_REQUIRE_REDIS") == "1":
            pytest.fail(f"{exc} (TECHREFORM_REQUIRE_REDIS=1)")
        pytest.skip(str(exc))
    try:
        yield url
    finally:
        context.__exit__(None, None, None)
