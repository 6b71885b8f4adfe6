"""The light rules' output row by row, where mutmut found behaviour no test fed (docs/testing.md):
what each rule says, every column of accepted, quarantined and missing rows, names filled from the
last accepted report, loops that must go on past a skipped project, escalation options."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from supervision_fixtures import history, no_quarantine, report
from techreform.numbers import finite_number
from techreform.options import SupervisionOptions
from techreform.periods import Period
from techreform.supervision.rules import (
    LIGHT_COLUMNS,
    is_stalled,
    judge_period,
    judge_report,
    judge_with_escalation,
    months_between,
    schedule_lag,
)

OPTS = SupervisionOptions()
JUNE = Period(2013, 6)


def quarantined(period: str, code: str, **cells) -> dict:
    row = {
        "period": period,
        "project_code": code,
        "prefecture_code": "620100",
        "rule_ids": "P1-H04",
        "file_name": f"P1_{period}.csv",
        "source_row": 3,
        "project_name": "隔离项目",
        "uscc": None,
        "region_code": "620102",
        "status": "在建",
        "key_project": None,
    }
    row.update(cells)
    return row


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(no_quarantine().columns) + ["file_name", "source_row"])


def by_code(out: pd.DataFrame) -> dict:
    return {r["project_code"]: r for r in out.to_dict("records")}


def test_numbers_months_and_lags_at_their_edges():
    assert finite_number(float("nan")) is None and finite_number("x") is None and finite_number("3") == 3.0
    assert months_between("2011-05", JUNE) == 25 and months_between("2014-01", JUNE) == -7
    assert schedule_lag(6, 1200.0, None) is None and schedule_lag(6, None, 100.0) is None
    assert schedule_lag(7, 1000.0, 350.0) == round((7 / 12 - 0.35) * 100, 6)


def test_each_rule_says_what_it_saw():
    june = Period(2013, 6)
    late = judge_report(report("2013-06", planned_completion="2013-01", status=None), june, [1.0], OPTS)
    assert late.details == ("计划2013-01竣工，现状态为未填",)
    start = judge_report(
        report("2013-06", planned_start="2013-03", actual_start=None, status="未开工"), june, [1.0], OPTS
    )
    assert start.details == ("计划2013-03开工，已逾期3个月未开工",)
    stalled = judge_report(report("2013-06"), june, [500.0, 400.0, 300.0, 200.0], OPTS)
    assert stalled.details == ("自开工累计完成投资连续3次报告未增长（200.00万元）",)
    suspended = judge_report(report("2013-06", status="停建"), june, [1.0], OPTS)
    assert suspended.details == ("项目状态为停建",)


def test_the_lag_is_rounded_as_configured():
    row = report("2013-07", annual_plan_investment=1000.0, ytd_investment=350.0)
    assert judge_report(row, Period(2013, 7), [1.0], SupervisionOptions(lag_decimals=1)).lag_pp == 23.3
    assert judge_report(row, Period(2013, 7), [1.0], OPTS).lag_pp == 23.333333


def test_stalled_over_a_single_report():
    assert is_stalled([100.0, 100.0], 1) is True
    assert is_stalled([100.0, 101.0], 1) is False
    assert is_stalled([100.0, 100.0], 0) is False


def test_every_column_of_an_accepted_row():
    hist = history(
        report(
            "2013-06",
            "A",
            status="停建",
            planned_completion="2013-01",
            annual_plan_investment=1000.0,
            ytd_investment=350.0,
            key_project=1,
        )
    )
    out = judge_period(hist, no_quarantine(), JUNE, OPTS)
    assert list(out.columns) == ["period", *LIGHT_COLUMNS]
    row = out.iloc[0]
    assert row["reasons"] == "COMPLETION_OVERDUE;SCHEDULE_YELLOW;SUSPENDED"
    assert (row["annual_plan_investment"], row["ytd_investment"], row["lag_pp"]) == (1000.0, 350.0, 15.0)
    assert (row["source"], row["key_project"], row["prefecture_code"], row["period"]) == (
        "accepted",
        1,
        "620100",
        "2013-06",
    )


def test_a_quarantined_row_says_where_it_is_and_which_rules_it_broke():
    hist = history(report("2013-06", "Z"))
    quar = frame(quarantined("2013-06", "A"), quarantined("2013-06", "B", file_name="", rule_ids=None))
    rows = by_code(judge_period(hist, quar, JUNE, OPTS))
    assert rows["A"]["detail"] == "P1_2013-06.csv 第3行：未通过P1-H04，请更正后重报"
    assert rows["B"]["detail"] == "未通过强制性审核，请更正后重报"
    assert math.isnan(rows["A"]["annual_plan_investment"]) and math.isnan(rows["A"]["lag_pp"])
    assert rows["Z"]["light"] == "green"  # judged after the quarantined ones


def test_a_quarantined_row_fills_its_gaps_from_the_last_accepted_report():
    hist = history(report("2013-05", "A", project_name="已核项目", uscc="91620100MA00000001", key_project=1))
    quar = frame(quarantined("2013-06", "A", project_name=None, region_code=None, prefecture_code=None))
    row = judge_period(hist, quar, JUNE, OPTS).iloc[0]
    assert (row["project_name"], row["uscc"], row["region_code"], row["key_project"]) == (
        "已核项目",
        "91620100MA00000001",
        "620102",
        1,
    )


def test_a_quarantined_project_without_any_flag_is_not_a_key_project():
    out = judge_period(history(report("2013-06", "Z")), frame(quarantined("2013-06", "A")), JUNE, OPTS)
    assert by_code(out)["A"]["key_project"] == 0


def test_a_missing_project_is_named_from_its_last_row_and_the_gaps_from_its_last_accepted_report():
    hist = history(
        report("2013-04", "A", project_name="旧名", key_project=1, uscc="91620100MA00000001"), report("2013-06", "Z")
    )
    quar = frame(quarantined("2013-05", "A", project_name="新名", uscc=None, key_project=None))
    row = by_code(judge_period(hist, quar, JUNE, OPTS))["A"]
    assert (row["light"], row["reasons"], row["source"]) == ("yellow", "NOT_REPORTED", "missing")
    assert (row["project_name"], row["uscc"], row["key_project"]) == ("新名", "91620100MA00000001", 1)
    assert row["detail"] == "2013-05有报表，2013-06未报送"


def test_a_project_finished_before_last_month_is_not_missed_even_after_a_quarantined_row():
    hist = history(report("2013-04", "A", status="投产", actual_completion="2013-04"), report("2013-06", "Z"))
    quar = frame(quarantined("2013-05", "A", status="在建"))
    assert set(judge_period(hist, quar, JUNE, OPTS)["project_code"]) == {"Z"}


def test_skipping_a_project_never_stops_the_others():
    hist = history(
        report("2013-04", "A", status="投产", actual_completion="2013-04"),
        report("2013-06", "A", status="投产", actual_completion="2013-04"),  # finished earlier: skipped
        report("2013-05", "B", status="投产", actual_completion="2013-05"),  # finished last month: not missed
        report("2013-05", "C"),  # missed
        report("2013-06", "D"),
    )
    quar = frame(quarantined("2013-06", "Q"))
    out = judge_period(hist, quar, JUNE, OPTS)
    assert list(out["project_code"]) == ["C", "D", "Q"]
    assert list(out.index) == [0, 1, 2]


def test_quarantined_rows_without_a_code_are_ignored_and_an_empty_frame_needs_no_columns():
    hist = history(report("2013-06", "Z"))
    quar = frame(quarantined("2013-06", None), quarantined("2013-06", "  "), quarantined("2013-05", None))
    assert list(judge_period(hist, quar, JUNE, OPTS)["project_code"]) == ["Z"]
    assert list(judge_period(hist, pd.DataFrame(), JUNE, OPTS)["project_code"]) == ["Z"]


def test_a_history_with_first_finished_periods_is_trusted_for_leaving_supervision():
    hist = history(report("2013-05", "A"), report("2013-06", "A"), report("2013-06", "B"))
    hist["first_finished_period"] = [None, "2013-05", None]
    assert list(judge_period(hist, no_quarantine(), JUNE, OPTS)["project_code"]) == ["B"]


def red(period, code, **kw):
    return report(period, code, status="停建", **kw)


def test_one_red_period_escalates_when_so_configured():
    options = SupervisionOptions(escalate_consecutive_red=1, escalate_key_projects=False)
    hist = history(report("2013-05", "A"), red("2013-06", "A"), report("2013-06", "B"))
    out = judge_with_escalation(hist, no_quarantine(), JUNE, options)
    assert out["escalated"].tolist() == [1, 0]


def test_every_one_of_the_consecutive_periods_must_be_red():
    options = SupervisionOptions(escalate_consecutive_red=3, escalate_key_projects=False)
    hist = history(
        red("2013-04", "A"),
        report("2013-05", "A"),
        red("2013-06", "A"),
        red("2013-04", "B"),
        red("2013-05", "B"),
        red("2013-06", "B"),
    )
    out = judge_with_escalation(hist, no_quarantine(), JUNE, options)
    assert out["escalated"].tolist() == [0, 1]


@pytest.mark.parametrize("key_projects", [False, True])
def test_key_projects_escalate_only_when_so_configured(key_projects):
    options = SupervisionOptions(escalate_key_projects=key_projects)
    hist = history(
        report("2013-05", "A", key_project=1),
        red("2013-06", "A", key_project=1),
        report("2013-05", "B", key_project=1),
        red("2013-06", "B", key_project=1),
        red("2013-05", "C"),
        red("2013-06", "C"),
        report("2013-06", "D", key_project=1),
    )
    out = judge_with_escalation(hist, no_quarantine(), JUNE, options)
    assert out["escalated"].tolist() == ([1, 1, 1, 0] if key_projects else [0, 0, 1, 0])
    assert out["escalated"].dtype.kind == "i"
