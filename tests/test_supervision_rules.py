"""The light rules of supervision.md as pure functions: each rule at its edges, worst light wins with
every reason kept, escalation, thresholds from configuration."""

from __future__ import annotations

import pandas as pd
import pytest

from supervision_fixtures import history, no_quarantine, quarantine_row, report
from techreform.config import Settings
from techreform.options import SupervisionOptions
from techreform.periods import Period
from techreform.supervision.rules import judge_period, judge_report, judge_with_escalation, schedule_lag

OPTS = SupervisionOptions()
JUNE = Period(2013, 6)


def judge(row, cumulatives=None, options=OPTS):
    return judge_report(row, Period.parse(row["period"]), cumulatives or [row["cumulative_investment"]], options)


def test_an_on_schedule_started_growing_project_is_green():
    j = judge(report("2013-06"))
    assert (j.light, j.reasons, j.lag_pp) == ("green", (), 0.0)


@pytest.mark.parametrize(
    "ytd, light, reasons",
    [
        (401.0, "green", ()),  # L = 9.9166…
        (400.0, "yellow", ("SCHEDULE_YELLOW",)),  # L = 10 exactly (9.999999999999998 in floating point)
        (201.0, "yellow", ("SCHEDULE_YELLOW",)),  # L = 29.9166…
        (200.0, "red", ("SCHEDULE_RED",)),  # L = 30 exactly
        (0.0, "red", ("SCHEDULE_RED",)),  # L = 50
    ],
)
def test_schedule_lag_is_yellow_from_10_and_red_from_30_points_inclusive(ytd, light, reasons):
    j = judge(report("2013-06", annual_plan_investment=1000.0, ytd_investment=ytd))
    assert (j.light, j.reasons) == (light, reasons)


def test_schedule_lag_is_elapsed_minus_completed_share_in_points():
    assert schedule_lag(6, 1000, 400) == 10.0
    assert schedule_lag(12, 1000, 1100) == -10.0
    assert schedule_lag(3, 800, 100) == 12.5


def test_schedule_rule_does_not_apply_when_the_annual_plan_is_zero():
    j = judge(report("2013-06", annual_plan_investment=0.0, ytd_investment=0.0))
    assert (j.light, j.reasons, j.lag_pp) == ("green", (), None)


@pytest.mark.parametrize(
    "planned_start, light",
    [
        ("2013-06", "green"),  # k = 0: not yet overdue
        ("2013-05", "yellow"),  # k = 1
        ("2013-04", "yellow"),  # k = 2
        ("2013-03", "red"),  # k = 3: red from the 3rd month
        ("2012-01", "red"),
    ],
)
def test_start_overdue_is_yellow_from_one_month_and_red_from_three(planned_start, light):
    row = report(
        "2013-06",
        planned_start=planned_start,
        actual_start=None,
        status="未开工",
        annual_plan_investment=0.0,
        ytd_investment=0.0,
        cumulative_investment=0.0,
    )
    j = judge(row)
    assert j.light == light
    assert j.reasons == (() if light == "green" else ("START_OVERDUE",))


def test_a_started_project_is_never_start_overdue():
    assert judge(report("2013-06", planned_start="2012-01", actual_start="2012-05")).light == "green"


@pytest.mark.parametrize(
    "completion, status, light",
    [
        ("2013-05", "在建", "red"),
        ("2013-05", "停建", "red"),
        ("2013-06", "在建", "green"),  # completion due this month: not overdue yet
        ("2013-05", "竣工", "green"),
        ("2013-05", "投产", "green"),
    ],
)
def test_completion_overdue_is_red_unless_finished(completion, status, light):
    extra = {"actual_completion": "2013-06"} if status in ("竣工", "投产") else {}
    j = judge(report("2013-06", planned_completion=completion, status=status, **extra))
    assert ("COMPLETION_OVERDUE" in j.reasons) == (light == "red")


def test_stalled_needs_three_reports_without_growth_after_a_fourth():
    row = report("2013-06", cumulative_investment=500.0)
    assert judge(row, [500.0, 500.0, 480.0, 500.0]).reasons == ()  # grew in the last report
    assert judge(row, [500.0, 500.0, 500.0, 500.0]).reasons == ("STALLED",)  # 3 reports no growth
    assert judge(row, [500.0, 500.0, 500.0]).reasons == ()  # only 3 reports
    assert judge(row, [400.0, 500.0, 500.0, 500.0]).reasons == ()  # grew into the first of the three
    assert judge(row, [400.0, 500.0, 500.0, 500.0, 500.0]).light == "yellow"  # grew before the window
    assert judge(row, [500.0, 500.0, 501.0, 500.0]).reasons == ()  # grew inside the window


def test_stalled_only_applies_to_projects_under_construction():
    row = report("2013-06", status="停建", cumulative_investment=500.0)
    assert judge(row, [500.0] * 4).reasons == ("SUSPENDED",)


def test_suspended_projects_are_red():
    j = judge(report("2013-06", status="停建"))
    assert (j.light, j.reasons) == ("red", ("SUSPENDED",))


def test_the_worst_light_wins_and_every_fired_rule_is_kept_sorted_with_what_it_saw():
    row = report(
        "2013-06",
        annual_plan_investment=1000.0,
        ytd_investment=350.0,
        planned_completion="2013-01",
        cumulative_investment=2900.0,
    )
    j = judge(row, [row["cumulative_investment"]] * 4)
    assert j.light == "red"
    assert j.reasons == ("COMPLETION_OVERDUE", "SCHEDULE_YELLOW", "STALLED")
    assert j.details == (
        "计划2013-01竣工，现状态为在建",
        "序时进度应完成6/12，实际完成本年计划的35.0%，滞后15.0个百分点",
        "自开工累计完成投资连续3次报告未增长（2,900.00万元）",
    )


def test_thresholds_come_from_configuration():
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": "/tmp/x"}).with_options(
        supervision={"schedule_red_pp": 25, "start_red_months": 2}
    )
    options = settings.options_for(SupervisionOptions)
    assert judge(report("2013-06", annual_plan_investment=1000.0, ytd_investment=240.0), options=options).light == "red"
    row = report(
        "2013-06",
        planned_start="2013-04",
        actual_start=None,
        status="未开工",
        cumulative_investment=0.0,
        annual_plan_investment=0.0,
        ytd_investment=0.0,
    )
    assert judge(row, options=options).light == "red"


def test_an_unknown_supervision_option_is_refused_rather_than_ignored():
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": "/tmp/x"})
    with pytest.raises(ValueError, match="schedule_red"):
        settings.with_options(supervision={"schedule_red": 25})


def lights_of(frame: pd.DataFrame) -> dict[str, tuple[str, str]]:
    return {r.project_code: (r.light, r.reasons) for r in frame.itertuples()}


def test_a_project_that_reported_last_month_and_not_now_is_not_reported():
    hist = history(report("2013-05", "A"), report("2013-06", "B"), report("2013-05", "B"))
    lights = lights_of(judge_period(hist, no_quarantine(), JUNE, OPTS))
    assert lights == {"A": ("yellow", "NOT_REPORTED"), "B": ("green", "")}


def test_a_project_finished_last_month_is_not_missed_and_a_project_absent_two_months_is_not_judged():
    hist = history(report("2013-05", "F", status="竣工", actual_completion="2013-05"), report("2013-04", "G"))
    assert judge_period(hist, no_quarantine(), JUNE, OPTS).empty


def test_a_quarantined_row_last_month_counts_as_having_reported():
    quar = pd.DataFrame(
        [
            {
                "period": "2013-05",
                "project_code": "Q",
                "status": "在建",
                "project_name": "隔离",
                "prefecture_code": "620100",
                "region_code": "620102",
                "uscc": None,
                "key_project": None,
                "rule_ids": "P1-H04",
            }
        ]
    )
    lights = lights_of(judge_period(history(report("2013-06", "B")), quar, JUNE, OPTS))
    assert lights["Q"] == ("yellow", "NOT_REPORTED")


def test_a_quarantined_row_saying_finished_does_not_finish_the_project():
    quar = pd.DataFrame(
        [
            {
                "period": "2013-05",
                "project_code": "Q",
                "status": "竣工",
                "project_name": "隔离",
                "prefecture_code": "620100",
                "region_code": "620102",
                "uscc": None,
                "key_project": None,
                "rule_ids": "P1-H06",
            }
        ]
    )
    lights = lights_of(judge_period(history(report("2013-04", "Q")), quar, JUNE, OPTS))
    assert lights["Q"] == ("yellow", "NOT_REPORTED")


def test_a_quarantined_row_is_yellow_and_no_other_rule_is_judged_on_it():
    hist = history(report("2013-05", "Q", status="停建"), report("2013-06", "Q", status="停建"))
    quar = pd.DataFrame(
        [
            {
                "period": "2013-06",
                "project_code": "Q",
                "status": "停建",
                "project_name": "隔离",
                "prefecture_code": "620100",
                "region_code": "620102",
                "uscc": None,
                "key_project": 1,
                "rule_ids": "P1-H04",
            }
        ]
    )
    out = judge_period(hist, quar, JUNE, OPTS)
    assert lights_of(out) == {"Q": ("yellow", "QUARANTINED")}
    assert out.loc[0, "source"] == "quarantined"


def test_a_quarantined_project_with_no_accepted_report_ever_takes_its_name_from_the_row():
    import json

    from techreform.supervision.sources import parse_quarantined_row

    row = quarantine_row("2013-06", "N", name="新项目", **{"是否省列重点项目": "是"})
    parsed = parse_quarantined_row(row["row_json"])
    quar = pd.DataFrame(
        [{"period": "2013-06", "project_code": "N", "prefecture_code": "620100", "rule_ids": "P1-H04", **parsed}]
    )
    out = judge_period(history(report("2013-06", "B")), quar, JUNE, OPTS).set_index("project_code")
    assert out.loc["N", "project_name"] == "新项目"
    assert out.loc["N", "prefecture_code"] == "620100"
    assert out.loc["N", "key_project"] == 1
    assert json.loads(row["row_json"])["项目代码"] == "N"


def test_projects_finished_in_an_earlier_period_leave_supervision():
    hist = history(
        report("2013-05", "F", status="投产", actual_completion="2013-05"),
        report("2013-06", "F", status="投产", actual_completion="2013-05", planned_completion="2013-01"),
    )
    assert judge_period(hist, no_quarantine(), JUNE, OPTS).empty
    # but the month it finished it is still judged
    assert not judge_period(hist, no_quarantine(), Period(2013, 5), OPTS).empty


def red(period, code, **kw):
    return report(period, code, status="停建", **kw)


def test_red_in_two_consecutive_periods_escalates_in_the_second():
    hist = history(report("2013-04", "A"), red("2013-05", "A"), red("2013-06", "A"))
    may = judge_with_escalation(hist, no_quarantine(), Period(2013, 5), OPTS)
    june = judge_with_escalation(hist, no_quarantine(), JUNE, OPTS)
    assert may.loc[0, "escalated"] == 0
    assert june.loc[0, "escalated"] == 1


def test_red_after_yellow_does_not_escalate_but_a_red_key_project_escalates_at_once():
    hist = history(
        report(
            "2013-05",
            "A",
            planned_start="2013-04",
            actual_start=None,
            status="未开工",
            annual_plan_investment=0.0,
            cumulative_investment=0.0,
        ),
        red("2013-06", "A"),
        report("2013-05", "K", key_project=1),
        red("2013-06", "K", key_project=1),
        report(
            "2013-06",
            "Y",
            key_project=1,
            planned_start="2013-05",
            actual_start=None,
            status="未开工",
            annual_plan_investment=0.0,
            cumulative_investment=0.0,
        ),
    )
    out = judge_with_escalation(hist, no_quarantine(), JUNE, OPTS).set_index("project_code")
    assert out.loc["A", "light"] == "red" and out.loc["A", "escalated"] == 0
    assert out.loc["K", "escalated"] == 1
    assert out.loc["Y", "light"] == "yellow" and out.loc["Y", "escalated"] == 0


def test_the_number_of_consecutive_red_periods_and_the_key_project_rule_are_configurable():
    options = SupervisionOptions(escalate_consecutive_red=3, escalate_key_projects=False)
    hist = history(
        red("2013-04", "A"),
        red("2013-05", "A"),
        red("2013-06", "A"),
        report("2013-04", "B"),
        red("2013-05", "B"),
        red("2013-06", "B"),
        red("2013-06", "K", key_project=1),
        report("2013-05", "K", key_project=1),
    )
    out = judge_with_escalation(hist, no_quarantine(), JUNE, options).set_index("project_code")
    assert out["escalated"].to_dict() == {"A": 1, "B": 0, "K": 0}
