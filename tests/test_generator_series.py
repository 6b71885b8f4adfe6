"""The generated economy: year-to-date series, optional January, the register and who reports, projects."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from generator_fixtures import E1_AMOUNTS, read_form, small_run, truth  # noqa: F401
from techreform.forms import PROJECT_STATUSES


@pytest.fixture(scope="module")
def data(small_run):
    d = truth(small_run, "defects.csv")
    dirty = {(f, int(r)) for f, r in zip(d["file_name"], d["source_row"], strict=True)}

    def clean(frame):
        keep = [(f, r) not in dirty for f, r in zip(frame["file_name"], frame["source_row"], strict=True)]
        return frame[keep]

    return {
        "E1": clean(read_form(small_run, "E1")),
        "P1": clean(read_form(small_run, "P1")),
        "R1": read_form(small_run, "R1"),
        "R1_clean": clean(read_form(small_run, "R1")),
        "defects": d,
    }


def test_year_to_date_figures_never_fall_within_a_year_in_clean_rows(data):
    e1 = data["E1"].assign(year=lambda f: f["period"].str[:4]).sort_values(["uscc", "period"])
    checked = 0
    for _, g in e1.groupby(["uscc", "year"]):
        for field in E1_AMOUNTS:
            values = pd.to_numeric(g[field]).dropna()
            assert values.is_monotonic_increasing, (g["uscc"].iloc[0], field, values.tolist())
            checked += len(values) > 1
    assert checked > 500
    p1 = data["P1"].sort_values(["project_code", "period"])
    for code, g in p1.groupby("project_code"):
        assert pd.to_numeric(g["cumulative_investment"]).is_monotonic_increasing, code
        for _, y in g.groupby(g["period"].str[:4]):
            assert pd.to_numeric(y["ytd_investment"]).is_monotonic_increasing, code


def test_january_report_is_optional_and_february_then_covers_both_months(data):
    e1 = data["E1"]
    jan, feb = set(e1[e1["period"] == "2013-01"]["uscc"]), set(e1[e1["period"] == "2013-02"]["uscc"])
    skipped = feb - jan
    assert len(skipped) >= 0.15 * len(feb) and len(jan) >= 0.5 * len(feb)
    # a February report of a skipper is a two-month YTD: about twice a one-month January of its peers
    f = e1[e1["period"] == "2013-02"].set_index("uscc")
    assert (pd.to_numeric(f.loc[sorted(skipped), "gross_output"]) > 0).all()


def test_profit_may_be_negative_and_employees_are_whole_numbers(data):
    e1 = data["E1"]
    profit = pd.to_numeric(e1["profit"])
    assert (profit < 0).any() and (profit > 0).mean() > 0.5
    employees = pd.to_numeric(e1["employees"])
    assert (employees == employees.round()).all() and (employees >= 1).all()


def test_only_enterprises_above_scale_and_operating_in_the_register_report(data):
    e1, r1 = data["E1"], data["R1_clean"]
    for period, g in e1.groupby("period"):
        snapshot = max(p for p in r1["period_folder"].unique() if p <= period)
        reg = r1[(r1["period_folder"] == snapshot)]
        reporters = set(reg[(reg["above_scale"] == 1) & (reg["operating_status"] == "在营")]["uscc"])
        assert set(g["uscc"]) <= reporters, period
        if not period.endswith("-01"):
            assert len(reporters - set(g["uscc"])) <= 0.05 * len(reporters), period


def test_register_changes_between_snapshots_with_entries_exits_or_status_changes(data):
    r1 = data["R1_clean"]
    snaps = sorted(r1["period_folder"].unique())
    assert len(snaps) >= 2
    states = [
        set(zip(g["uscc"], g["above_scale"], g["operating_status"], strict=True))
        for _, g in r1.groupby("period_folder", sort=True)
    ]
    assert any(a != b for a, b in zip(states, states[1:], strict=False))
    assert set(r1["operating_status"]) >= {"在营"} and set(r1["scale"]) <= {"大型", "中型", "小型", "微型"}
    assert r1["contact_email"].dropna().str.endswith("gsgxw.example").all()


def test_codes_and_names_look_real(data):
    e1, p1 = data["E1"], data["P1"]
    assert (e1["uscc"].str[2:8] == e1["region_code"]).mean() > 0.98
    assert e1["enterprise_name"].str.fullmatch(r"[\u4e00-\u9fff0-9]+公司").all()
    assert p1["project_name"].str.contains("项目").all()
    pattern = re.compile(r"^(\d{4})-(62\d{4})-(\d{2})-(\d{2})-\d{6}$")
    for code, region, industry in zip(p1["project_code"], p1["region_code"], p1["industry_code"], strict=True):
        m = pattern.match(code)
        assert m and m.group(2) == region and m.group(3) == industry[:2]


def test_projects_report_from_registration_until_completion_then_stop(data):
    p1 = data["P1"]
    assert set(p1["status"]) <= set(PROJECT_STATUSES) and {"在建", "竣工"} <= set(p1["status"])
    assert (pd.to_numeric(p1["planned_total_investment"]) >= 500).all()
    finished = p1[p1["status"].isin(["竣工", "投产"])]
    assert len(finished)
    for code, period in zip(finished["project_code"], finished["period"], strict=True):
        later = p1[(p1["project_code"] == code) & (p1["period"] > period)]
        assert later.empty, code
        assert (finished[finished["project_code"] == code]["actual_completion"] == period).all()
    registered = p1.groupby("project_code")["period"].min()
    assert (registered.index.str[:4] <= registered.str[:4]).all()
