"""The ``techreform-generate`` command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from techreform.generator.cli import main


def test_help_describes_the_options_and_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--out",
        "--seed",
        "--enterprises",
        "--projects",
        "--first-period",
        "--last-period",
        "--defect-rate",
        "--forms",
        "--size",
        "--lagging-share",
        "--skip-january-share",
        "--formats",
    ):
        assert option in text


def test_installed_console_script_answers_help():
    script = shutil.which("techreform-generate", path=str(Path(sys.executable).parent))
    assert script, "console script techreform-generate is not installed in the environment"
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "ground_truth" in done.stdout


def test_command_writes_landing_files_and_ground_truth(tmp_path, capsys):
    status = main(
        [
            "--out",
            str(tmp_path),
            "--enterprises",
            "60",
            "--projects",
            "20",
            "--first-period",
            "2013-05",
            "--last-period",
            "2013-06",
            "--forms",
            "E1,P1,R1",
            "--formats",
            "csv-utf8=1,xlsx=1",
        ]
    )
    assert status == 0
    assert "wrote" in capsys.readouterr().out
    e1 = sorted(p.name for p in (tmp_path / "landing" / "enterprise_monthly" / "2013-06").iterdir())
    assert len(e1) == 14 and e1[0].startswith("E1_620100_2013-06.")
    assert {p.suffix for p in (tmp_path / "landing").rglob("*.*")} <= {".csv", ".xlsx"}
    assert not (tmp_path / "landing" / "supervisors").exists()
    for name in ("defects.csv", "files.csv", "lights.csv", "summary.json"):
        assert (tmp_path / "ground_truth" / name).is_file()


def test_invalid_options_give_a_message_and_status_2(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--first-period", "2013-06", "--last-period", "2013-01"]) == 2
    assert "before" in capsys.readouterr().err
    assert main(["--out", str(tmp_path), "--formats", "csv-latin1=1"]) == 2


def test_national_size_defaults_to_one_month_of_e1_and_refuses_runs_too_big_for_memory(tmp_path, capsys):
    from techreform.generator import GeneratorConfig
    from techreform.generator.cli import _parser

    national = GeneratorConfig.national()
    assert (national.enterprises, national.forms, national.first_period, national.last_period) == (
        500_000,
        ("E1",),
        "2013-06",
        "2013-06",
    )
    assert _parser().parse_args(["--out", str(tmp_path), "--size", "national"]).first_period is None
    with pytest.raises(ValueError, match="fewer months"):
        GeneratorConfig(enterprises=500_000)
    assert main(["--out", str(tmp_path), "--size", "national", "--first-period", "2010-01"]) == 2
    assert "fewer months" in capsys.readouterr().err
