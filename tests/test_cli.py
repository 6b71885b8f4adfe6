"""The operator CLI runs periods without Airflow and reports failures as one line, not a traceback."""

import pytest

from landing_files import e1_row, uscc_for, write_delivery
from techreform.cli import main
from techreform.forms import ENTERPRISE_MONTHLY as E1


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TECHREFORM_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("TECHREFORM_LANDING_DIR", raising=False)
    return tmp_path / "data"


def test_run_prints_one_line_per_period_and_summary_prints_counts(env, capsys, monkeypatch):
    # E1 alone: the other forms are not required here (the gate is tested in test_faults.py)
    monkeypatch.setenv("TECHREFORM_CONFIG_FILE", str(env.parent / "config.json"))
    (env.parent / "config.json").write_text(
        '{"validation": {"required_monthly_forms": ["E1"], "required_snapshot_forms": []}}', encoding="utf-8"
    )
    write_delivery(
        env / "landing",
        E1,
        "2013-06",
        "E1_620100_2013-06.csv",
        [
            *(e1_row(uscc_for("620102", n), "2013-06") for n in range(1, 6)),
            e1_row(uscc_for("620102", 9), "2013-06", **{"利润总额": "abc"}),
        ],
    )
    assert main(["run", "--from", "2013-06", "--to", "2013-06", "--no-notify"]) == 0
    out = capsys.readouterr().out
    assert "2013-06: E1 6 rows, 1 quarantined" in out
    assert main(["summary", "--period", "2013-06"]) == 0
    table = capsys.readouterr().out
    assert "620100 兰州市" in table and "E1" in table


def test_a_failing_period_is_reported_in_one_line_with_exit_code_one(env, capsys, monkeypatch):
    monkeypatch.setenv("TECHREFORM_CONFIG_FILE", str(env.parent / "config.json"))
    (env.parent / "config.json").write_text('{"validation": {"hard_fail_threshold": 0.1}}', encoding="utf-8")
    write_delivery(
        env / "landing",
        E1,
        "2013-06",
        "E1_620100_2013-06.csv",
        [e1_row(uscc_for("620102", 1), "2013-06", **{"企业名称": ""})],
    )
    assert main(["run", "--from", "2013-06", "--to", "2013-06", "--no-notify"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("2013-06: failed:") and "E1" in err and "Traceback" not in err
