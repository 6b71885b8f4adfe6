"""lights.csv: the expected supervision lights, held against the delivered P1 rows and the planted laggards."""

from __future__ import annotations

import pandas as pd
import pytest

from generator_fixtures import read_form, small_run, truth  # noqa: F401


@pytest.fixture(scope="module")
def lights(small_run):
    return truth(small_run, "lights.csv")


@pytest.fixture(scope="module")
def p1(small_run):
    return read_form(small_run, "P1")


def _reasons(lights):
    return lights["reasons"].str.split(";")


def test_lights_have_the_agreed_columns_and_values(lights):
    assert list(lights.columns) == ["project_code", "period", "light", "reasons", "escalated", "key_project"]
    assert set(lights["light"]) == {"green", "yellow", "red"}
    known = {
        "SCHEDULE_YELLOW",
        "SCHEDULE_RED",
        "START_OVERDUE",
        "COMPLETION_OVERDUE",
        "STALLED",
        "SUSPENDED",
        "NOT_REPORTED",
        "QUARANTINED",
    }
    for reasons, light in zip(_reasons(lights), lights["light"], strict=True):
        if light == "green":
            assert reasons == [""]
        else:
            assert set(reasons) <= known and reasons == sorted(reasons)
    assert not lights.duplicated(["project_code", "period"]).any()


def test_every_project_with_a_row_in_a_period_has_a_light(lights, p1, small_run):
    valid = p1[p1["project_code"].str.fullmatch(r"\d{4}-62\d{4}-\d{2}-\d{2}-\d{6}")]
    reported = set(zip(valid["project_code"], valid["period_folder"], strict=True))
    lit = set(zip(lights["project_code"], lights["period"], strict=True))
    assert reported <= lit
    extra = lights[[k not in reported for k in zip(lights["project_code"], lights["period"], strict=True)]]
    assert (extra["reasons"] == "NOT_REPORTED").all()


def test_planted_lagging_projects_are_flagged_and_most_others_are_green(lights, small_run):
    planted = truth(small_run, "planted.csv")
    kinds = set(planted["kind"])
    assert kinds == {
        "schedule_yellow",
        "schedule_red",
        "start_overdue",
        "completion_overdue",
        "stalled",
        "suspended",
        "not_reported",
    }
    expected_reason = {
        "schedule_yellow": "SCHEDULE_YELLOW",
        "schedule_red": "SCHEDULE_RED",
        "start_overdue": "START_OVERDUE",
        "completion_overdue": "COMPLETION_OVERDUE",
        "stalled": "STALLED",
        "suspended": "SUSPENDED",
        "not_reported": "NOT_REPORTED",
    }
    for code, kind in zip(planted["project_code"], planted["kind"], strict=True):
        mine = lights[lights["project_code"] == code]
        assert (mine["light"] != "green").any(), code
        assert mine["reasons"].str.contains(expected_reason[kind]).any(), (code, kind, mine["reasons"].tolist())
    others = lights[~lights["project_code"].isin(planted["project_code"])]
    assert (others["light"] == "green").mean() > 0.85
    assert (planted["key_project"] == "1").any()


def test_stalled_and_suspended_reasons_match_the_delivered_status(lights, p1):
    rows = p1.set_index(["project_code", "period_folder"])
    for code, period, reasons in zip(lights["project_code"], lights["period"], lights["reasons"], strict=True):
        if "STALLED" in reasons:
            assert rows.loc[(code, period), "status"] == "在建"
        if "SUSPENDED" in reasons:
            assert rows.loc[(code, period), "status"] == "停建"


def test_schedule_lag_reasons_agree_with_the_delivered_figures(lights, p1):
    rows = p1.drop_duplicates(["project_code", "period_folder"], keep=False).set_index(
        ["project_code", "period_folder"]
    )
    judged = lights[~lights["reasons"].isin(["QUARANTINED", "NOT_REPORTED"])]
    for code, period, reasons in zip(judged["project_code"], judged["period"], judged["reasons"], strict=True):
        row = rows.loc[(code, period)]
        plan, ytd = float(row["annual_plan_investment"]), float(row["ytd_investment"])
        if not plan:
            continue
        lag = (int(period[5:7]) / 12 - ytd / plan) * 100
        assert ("SCHEDULE_RED" in reasons) == (lag >= 30), (code, period, lag)
        assert ("SCHEDULE_YELLOW" in reasons) == (10 <= lag < 30), (code, period, lag)


def test_quarantined_lights_are_exactly_the_project_rows_with_a_hard_defect(lights, small_run):
    d = truth(small_run, "defects.csv")
    hard = d[(d["form"] == "P1") & (d["severity"] == "hard")]
    valid = hard[hard["record_key"].str.fullmatch(r"\d{4}-62\d{4}-\d{2}-\d{2}-\d{6}")]
    expected = set(zip(valid["record_key"], valid["period"], strict=True))
    quarantined = lights[lights["reasons"] == "QUARANTINED"]
    assert set(zip(quarantined["project_code"], quarantined["period"], strict=True)) == expected
    assert (quarantined["light"] == "yellow").all()


def test_escalation_means_red_now_and_red_before_or_a_key_project(lights):
    by_key = {
        (c, p): light for c, p, light in zip(lights["project_code"], lights["period"], lights["light"], strict=True)
    }
    previous = {
        p: q for p, q in zip(sorted(lights["period"].unique())[1:], sorted(lights["period"].unique()), strict=False)
    }
    assert (lights["escalated"] == "1").any()
    for row in lights.itertuples():
        before = by_key.get((row.project_code, previous.get(row.period)))
        expected = row.light == "red" and (before == "red" or row.key_project == "1")
        assert (row.escalated == "1") == expected, row


def test_not_reported_means_a_row_last_period_and_none_now(lights, p1):
    rows = set(zip(p1["project_code"], p1["period_folder"], strict=True))
    periods = sorted(p1["period_folder"].unique())
    previous = dict(zip(periods[1:], periods, strict=False))
    missing = lights[lights["reasons"] == "NOT_REPORTED"]
    assert len(missing)
    for code, period in zip(missing["project_code"], missing["period"], strict=True):
        assert (code, period) not in rows and (code, previous[period]) in rows
    assert pd.Series(list(missing["light"])).eq("yellow").all()
