"""A non-editable install works: the wheel carries the SQL, the GX suites, the code lists and the monitoring
view's templates and stylesheet as package data, and the installed commands run a period from a folder
outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([str(UV), "build", "--wheel", "--quiet", "-o", str(out), str(ROOT)], cwd=out)
    (found,) = out.glob("techreform-*.whl")
    return found


def test_the_wheel_carries_every_package_sql_file_suite_and_code_list(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    source = ROOT / "include"
    expected = {f"techreform/sql/{p.relative_to(source / 'sql')}" for p in (source / "sql").rglob("*.sql")}
    expected |= {f"techreform/expectations/{p.name}" for p in (ROOT / "expectations").glob("*.json")}
    expected |= {
        f"techreform/{p.relative_to(source / 'techreform')}"
        for p in (source / "techreform").rglob("*")
        if p.suffix in (".py", ".csv", ".html", ".css", ".svg") and "__pycache__" not in p.parts
    }
    assert len(expected) > 120
    assert expected <= names, sorted(expected - names)[:10]


@pytest.mark.slow
def test_an_installed_wheel_runs_a_period_outside_the_source_tree(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "-c",
            str(ROOT / "constraints-3.11.txt"),
            str(wheel),
        ],
        cwd=tmp_path,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TECHREFORM_", "PYTHONPATH", "AIRFLOW"))}
    env.update({"TECHREFORM_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")})
    where = _run(
        [str(python), "-c", "import techreform.config as c; print(c.SQL_DIR); print(c.EXPECTATIONS_DIR)"],
        cwd=tmp_path,
        env=env,
    ).split()
    assert all(str(venv) in w and "site-packages" in w for w in where), where
    _run(
        [
            str(venv / "bin" / "techreform-generate"),
            "--out",
            str(tmp_path / "data"),
            "--enterprises",
            "120",
            "--projects",
            "60",
            "--defect-rate",
            "0.01",
            "--first-period",
            "2013-01",
            "--last-period",
            "2013-02",
        ],
        cwd=tmp_path,
        env=env,
    )
    _run(
        [str(venv / "bin" / "techreform"), "run", "--from", "2013-02", "--to", "2013-02", "--no-notify"],
        cwd=tmp_path,
        env=env,
    )
    counts = _run(
        [
            str(python),
            "-c",
            "import sqlalchemy as sa, sys; e = sa.create_engine(sys.argv[1]);"
            "c = e.connect(); print(*[c.exec_driver_sql(f'select count(*) from {t}').scalar() for t in "
            "('fct_enterprise_monthly', 'fct_project_monthly', 'fct_indicator', 'etl_row_outcome')])",
            f"sqlite:///{tmp_path / 'data' / 'warehouse.sqlite'}",
        ],
        cwd=tmp_path,
        env=env,
    ).split()
    assert all(int(n) > 0 for n in counts), counts
