"""A running Airflow api-server with the monitoring plugin loaded, on a demo warehouse built by the
pipeline on a small generated province (used by tests/test_monitoring_browser.py)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEMO_PERIODS = ("2012-11", "2012-12", "2013-01", "2013-02")
USERS = {"admin": "admin", "viewer": "viewer"}
"""Simple-auth-manager users of the test server: name → role (each user's password is random)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_demo_warehouse(root: Path) -> dict[str, str]:
    """Generate a small province and run the pipeline (every step, no e-mail) on ``DEMO_PERIODS``;
    returns the ``TECHREFORM_*`` environment of the demo."""
    from techreform.config import Settings
    from techreform.generator import GeneratorConfig, generate
    from techreform.steps import run_period
    from techreform.warehouse import dispose_engines

    generate(
        root / "province",
        GeneratorConfig(
            enterprises=80, projects=40, first_period=DEMO_PERIODS[0], last_period=DEMO_PERIODS[-1], defect_rate=0.04
        ),
    )
    env = {
        "TECHREFORM_DATA_DIR": str(root / "data"),
        "TECHREFORM_LANDING_DIR": str(root / "province" / "landing"),
        "TECHREFORM_WAREHOUSE_URL": f"sqlite:///{root / 'data' / 'warehouse.sqlite'}",
    }
    settings = Settings.from_env(env)
    for period in DEMO_PERIODS:
        run_period(settings, period, notify=False)
    dispose_engines()
    return env


@dataclass
class ApiServer:
    url: str
    process: subprocess.Popen
    passwords: dict[str, str]
    log: Path
    settings_env: dict[str, str]

    def token(self, user: str) -> str:
        body = json.dumps({"username": user, "password": self.passwords[user]}).encode()
        request = urllib.request.Request(
            f"{self.url}/auth/token", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["access_token"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_api_server(root: Path, settings_env: dict[str, str], timeout: float = 240.0) -> ApiServer:
    """``airflow api-server`` on a free port with the repository's plugins folder, the simple auth manager
    with the users of :data:`USERS`, a fresh SQLite metadata database; waits until it answers."""
    home = root / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dags").mkdir(exist_ok=True)
    passwords = {user: secrets.token_urlsafe(12) for user in USERS}
    passwords_file = home / "passwords.json"
    passwords_file.write_text(json.dumps(passwords), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        **settings_env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "False",
    }
    env.pop("AIRFLOW_CONN_TECHREFORM_WAREHOUSE", None)
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    log = home / "api-server.log"
    handle = open(log, "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [str(BIN / "airflow"), "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=str(home),
    )
    server = ApiServer(f"http://127.0.0.1:{port}", process, passwords, log, settings_env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the api-server exited ({process.returncode}): {log.read_text(errors='replace')[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/api/v2/monitor/health", timeout=5):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    server.stop()
    raise RuntimeError(
        f"the api-server did not answer within {timeout:.0f} s: {log.read_text(errors='replace')[-3000:]}"
    )
