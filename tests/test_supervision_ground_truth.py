"""Against the generator's planted lagging projects: the whole monthly chain (ingest, validate, load,
indicators, supervision, notification) over five generated months gives every project the light, reasons
and escalation of the generator's independent ground truth (``ground_truth/lights.csv``), and a period
run twice sends its e-mails once. One test per warehouse: the chain is the expensive part."""

from __future__ import annotations

from email import message_from_bytes, policy

import pandas as pd
import pytest
import sqlalchemy as sa

from techreform.config import Settings
from techreform.generator import generate
from techreform.generator.config import GeneratorConfig
from techreform.periods import period_range
from techreform.steps import run_period
from techreform.warehouse import engine_for

CONFIG = GeneratorConfig(enterprises=20, projects=40, first_period="2012-01", last_period="2012-05", lagging_share=0.5)
KEY = ["project_code", "period"]
ALL_RULES = {
    "SCHEDULE_YELLOW",
    "SCHEDULE_RED",
    "START_OVERDUE",
    "COMPLETION_OVERDUE",
    "STALLED",
    "SUSPENDED",
    "NOT_REPORTED",
    "QUARANTINED",
}


def stored_lights(settings) -> pd.DataFrame:
    with engine_for(settings.warehouse_url).connect() as conn:
        result = conn.execute(
            sa.text("select project_code, period, light, reasons, escalated, key_project from sup_project_light")
        )
        return pd.DataFrame(result.fetchall(), columns=list(result.keys())).astype(str)


@pytest.mark.slow
def test_planted_laggards_get_the_ground_truth_lights_and_a_rerun_sends_nothing(tmp_path, warehouse_url):
    summary = generate(tmp_path / "generated", CONFIG)
    settings = Settings.from_env(
        {
            "TECHREFORM_DATA_DIR": str(tmp_path / "data"),
            "TECHREFORM_LANDING_DIR": str(summary.landing_dir),
            "TECHREFORM_WAREHOUSE_URL": warehouse_url,
        }
    )
    runs = {str(p): run_period(settings, p) for p in period_range(CONFIG.first_period, CONFIG.last_period)}
    truth = pd.read_csv(summary.ground_truth_dir / "lights.csv", dtype=str, keep_default_na=False)
    planted = pd.read_csv(summary.ground_truth_dir / "planted.csv", dtype=str, keep_default_na=False)

    # the sample exercises every rule, green projects, and both ways of escalating
    assert set(";".join(truth["reasons"]).split(";")) - {""} == ALL_RULES
    assert (truth["light"] == "green").sum() > 50
    escalated = truth[truth["escalated"] == "1"]
    assert set(escalated["key_project"]) == {"0", "1"}

    mine = stored_lights(settings)
    merged = truth.merge(mine, on=KEY, how="left", suffixes=("_truth", "_ours"), indicator=True)
    missing = merged[merged["_merge"] == "left_only"]
    assert missing.empty, f"projects the ground truth supervises that got no light:\n{missing[KEY]}"
    wrong = merged[
        (merged["light_truth"] != merged["light_ours"])
        | (merged["reasons_truth"] != merged["reasons_ours"])
        | (merged["escalated_truth"] != merged["escalated_ours"])
    ]
    assert wrong.empty, f"lights that differ from the ground truth:\n{wrong.to_string()}"
    extra = mine.merge(truth[KEY], on=KEY, how="left", indicator=True)
    assert extra[extra["_merge"] == "left_only"].empty, "lights the ground truth does not have"

    # every planted laggard shows its rule from its event period on (STALLED only after three reports)
    for lag in planted.itertuples():
        later = mine[(mine["project_code"] == lag.project_code) & (mine["period"] >= lag.event_period)]
        fired = set(";".join(later["reasons"]).split(";"))
        assert lag.kind.upper() in fired or "QUARANTINED" in fired, (lag, later.to_string())
    counts = {p: (r["supervise"]["red"], r["supervise"]["yellow"]) for p, r in runs.items()}
    assert counts == {
        p: (int((g["light"] == "red").sum()), int((g["light"] == "yellow").sum())) for p, g in truth.groupby("period")
    }

    # a period run twice sends once; the outbox holds each e-mail once
    last = CONFIG.last_period
    first_run = runs[last]["notify"]
    assert first_run["sent"] > 1 and first_run["corrections"] == 0
    outbox = settings.output_dir / "outbox" / last
    every = sorted(outbox.glob("*.eml"))  # the supervision e-mails and the receipts' (step send_receipts)
    files = [f for f in every if not f.name.startswith("receipt-")]
    assert len(files) == first_run["sent"] and len(every) > len(files)
    again = run_period(settings, last)
    assert (again["notify"]["sent"], again["notify"]["unchanged"]) == (0, first_run["sent"])
    assert sorted(outbox.glob("*.eml")) == every  # nothing written twice, receipts included
    subjects = [message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in files]
    red, yellow = counts[last]
    assert f"【技改督办】2012年5月 全省汇总：红灯{red}个 黄灯{yellow}个" in " ".join(subjects)
