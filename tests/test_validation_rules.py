"""Every rule id of reporting-forms.md for E1, P1 and R1: a row that breaks it is caught with that rule
id, and a row that passes (often right at the boundary) is not, on SQLite and PostgreSQL.

All cases of a form are validated in one run (one GX run per form and database); each case's rows sit
in files of their own so that within-file uniqueness cannot leak between cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from techreform.config import Settings
from techreform.forms import form
from techreform.periods import Period
from techreform.validation import validate_staged
from techreform.validation.suites import rules_of
from validation_fixtures import (
    add_enterprise_facts,
    add_project_facts,
    add_register,
    e1_row,
    p1_row,
    prepare_warehouse,
    r1_row,
    sha_of,
    staged,
)

PERIOD = "2013-06"
REAL_USCC = "91350100M000100Y43"  # a published code


@dataclass
class Case:
    rule_id: str
    breaking: dict[str, list[dict[str, Any]]]  # file name → rows; every row of these files breaks the rule
    passing: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # every row here passes it


def _e1(n: int, **changes: Any) -> dict[str, Any]:
    return e1_row(n, **{"period": PERIOD, **changes})


def _p1(n: int, **changes: Any) -> dict[str, Any]:
    return p1_row(n, **{"period": PERIOD, **changes})


# E1-S08: a group of enterprises with ordinary increments, and one whose month is 20 times its run-rate.
HB_GROUP = range(500, 516)
HB_OUTLIER, HB_ORDINARY = 520, 521


def _hb_prev(n: int, scale: float) -> dict[str, Any]:
    return e1_row(
        n,
        "2013-05",
        gross_output=5000.0 * scale,
        value_added=1500.0 * scale,
        revenue=4750.0 * scale,
        techreform_investment=1000.0 * scale,
        energy_tce=100.0,
        water_m3=100.0,
        solid_waste_generated=10.0,
        solid_waste_utilized=5.0,
        purchase_total=100.0,
        ecommerce_purchase=10.0,
        ecommerce_sales=10.0,
        rd_expense=1.0,
        new_product_output=1.0,
    )


def _hb_now(n: int, scale: float, factor: float) -> dict[str, Any]:
    # previous YTD = 5 months at the run-rate; this month adds factor × run-rate
    return _e1(
        n,
        gross_output=(5000.0 + 1000.0 * factor) * scale,
        value_added=1500.0 * scale,
        revenue=(4750.0 + 950.0 * factor) * scale,
        techreform_investment=(1000.0 + 200.0 * factor) * scale,
        energy_tce=100.0,
        water_m3=100.0,
        solid_waste_generated=10.0,
        solid_waste_utilized=5.0,
        purchase_total=100.0,
        ecommerce_purchase=10.0,
        ecommerce_sales=10.0,
        rd_expense=1.0,
        new_product_output=1.0,
    )


E1_CASES = [
    Case(
        "E1-H01",
        {
            "h01a": [_e1(1, uscc="91350100M000100Y44")],
            "h01b": [_e1(2, uscc="9135010OM000100Y43")],
            "h01c": [_e1(3, uscc="91350100M000100Y4")],
        },
        {"h01p": [_e1(4, uscc=REAL_USCC)]},
    ),
    Case("E1-H02", {"h02a": [_e1(5), _e1(5)]}, {"h02p1": [_e1(6)], "h02p2": [_e1(6)]}),
    Case(
        "E1-H03",
        {"h03a": [_e1(7, enterprise_name="   ")], "h03b": [_e1(8, enterprise_name=None)]},
        {"h03p": [_e1(9, enterprise_name="甘肃测试有限公司")]},
    ),
    Case(
        "E1-H04",
        {
            "h04a": [_e1(10, region_code="620881")],
            "h04b": [_e1(11, region_code="999999")],
            "h04c": [_e1(12, region_code="620100")],
        },
        {"h04p": [_e1(13, region_code="620824")], "h04q": [_e1(14, region_code="620171")]},
    ),
    Case(
        "E1-H05",
        {
            "h05a": [_e1(15, industry_code="5111")],
            "h05b": [_e1(16, industry_code="331")],
            "h05c": [_e1(17, industry_code="33a1")],
        },
        {"h05p": [_e1(18, industry_code="4411")], "h05q": [_e1(19, industry_code="0610")]},
    ),
    Case("E1-H06", {"h06a": [_e1(20, period="2013-05")]}, {"h06p": [_e1(21)]}),
    Case(
        "E1-H07",
        {"h07a": [_e1(22, gross_output=-1.0)], "h07b": [_e1(23, employees=12.5)], "h07c": [_e1(24, water_m3=-0.01)]},
        {"h07p": [_e1(25, profit=-50.0)]},
    ),
    Case(
        "E1-H08",
        {"h08a": [_e1(26, revenue=None)], "h08b": [_e1(27, region_code=None)]},
        {"h08p": [_e1(28, rd_expense=None, water_m3=None)]},
    ),
    Case("E1-S01", {"s01a": [_e1(30, value_added=1000.5)]}, {"s01p": [_e1(31, value_added=1000.0)]}),
    Case("E1-S02", {"s02a": [_e1(32, profit=-951.0)]}, {"s02p": [_e1(33, profit=-950.0)]}),
    Case("E1-S03", {"s03a": [_e1(34, employees=0.0)]}, {"s03p": [_e1(35, employees=1.0)]}),
    Case(
        "E1-S04",
        {"s04a": [_e1(36, rd_expense=951.0)], "s04b": [_e1(37, new_product_output=1001.0)]},
        {"s04p": [_e1(38, rd_expense=950.0, new_product_output=1000.0)]},
    ),
    Case(
        "E1-S05",
        {"s05a": [_e1(39, ecommerce_purchase=401.0)], "s05b": [_e1(40, ecommerce_sales=951.0)]},
        {"s05p": [_e1(41, ecommerce_purchase=400.0, ecommerce_sales=950.0)]},
    ),
    Case("E1-S06", {"s06a": [_e1(42, solid_waste_utilized=150.5)]}, {"s06p": [_e1(43, solid_waste_utilized=150.0)]}),
    Case("E1-S07", {"s07a": [_e1(44)], "s07b": [_e1(45)]}, {"s07p": [_e1(46)], "s07q": [_e1(47)]}),
    Case("E1-S08", {"s08a": [_hb_now(HB_OUTLIER, 1.0, 20.0)]}, {"s08p": [_hb_now(HB_ORDINARY, 3.0, 1.1)]}),
    Case(
        "E1-S09",
        {"s09a": [_e1(48)], "s09b": [_e1(49, region_code="620103")], "s09c": [_e1(50, industry_code="3312")]},
        {"s09p": [_e1(51)]},
    ),
    Case("E1-S10", {"s10a": [_e1(52, techreform_investment=249.5)]}, {"s10p": [_e1(53, techreform_investment=250.0)]}),
]
HB_FILLER = {f"hb{n}": [_hb_now(n, 1.0 + (n - 500) / 4, 1.0 + ((n * 7) % 11 - 5) / 50)] for n in HB_GROUP}

P1_CASES = [
    Case(
        "P1-H01",
        {
            "h01a": [_p1(1, project_code="2013-630102-33-03-000001")],
            "h01b": [_p1(2), _p1(2)],
            "h01c": [_p1(3, project_code="2013-620102-33-03-00001")],
        },
        {"h01p1": [_p1(4)], "h01p2": [_p1(4)]},
    ),
    Case("P1-H02", {"h02a": [_p1(5, uscc="91110108551385082X")]}, {"h02p": [_p1(6, uscc="91110108551385082Q")]}),
    Case(
        "P1-H03",
        {"h03a": [_p1(7, region_code="620881")], "h03b": [_p1(8, industry_code="5111")]},
        {"h03p": [_p1(9, region_code="620824", industry_code="4411")]},
    ),
    Case(
        "P1-H04",
        {
            "h04a": [_p1(10, planned_total_investment=0.0)],
            "h04b": [_p1(11, ytd_investment=-1.0)],
            "h04c": [_p1(12, subsidy=-5.0)],
        },
        {
            "h04p": [
                _p1(
                    13,
                    planned_total_investment=0.01,
                    annual_plan_investment=0.0,
                    ytd_investment=0.0,
                    cumulative_investment=0.0,
                )
            ]
        },
    ),
    Case(
        "P1-H05",
        {"h05a": [_p1(14, planned_start="2015-01")], "h05b": [_p1(15, actual_start="2013-07")]},
        {"h05p": [_p1(16, planned_start="2014-12", actual_start="2013-06")]},
    ),
    Case(
        "P1-H06",
        {
            "h06a": [_p1(17, status="施工中")],
            "h06b": [_p1(18, actual_start=None)],
            "h06c": [_p1(19, status="竣工", actual_completion=None)],
        },
        {
            "h06p": [_p1(20, status="竣工", actual_completion="2013-06")],
            "h06q": [_p1(21, status="未开工", actual_start=None, ytd_investment=0.0, cumulative_investment=0.0)],
        },
    ),
    Case("P1-H07", {"h07a": [_p1(22, cumulative_investment=149.4)]}, {"h07p": [_p1(23, cumulative_investment=149.5)]}),
    Case(
        "P1-H08",
        {
            "h08a": [_p1(24, project_name=None)],
            "h08b": [_p1(25, period="2013-05")],
            "h08c": [_p1(26, key_project=None)],
        },
        {"h08p": [_p1(27, remarks=None, subsidy=None, actual_completion=None)]},
    ),
    Case(
        "P1-S01", {"s01a": [_p1(30, cumulative_investment=6000.5)]}, {"s01p": [_p1(31, cumulative_investment=6000.0)]}
    ),
    Case(
        "P1-S02", {"s02a": [_p1(32, annual_plan_investment=5000.5)]}, {"s02p": [_p1(33, annual_plan_investment=5000.0)]}
    ),
    Case("P1-S03", {"s03a": [_p1(900)]}, {"s03p": [_p1(34)]}),
    Case("P1-S04", {"s04a": [_p1(35)], "s04b": [_p1(36)]}, {"s04p": [_p1(37)], "s04q": [_p1(38)]}),
    Case(
        "P1-S05",
        {"s05a": [_p1(38, status="未开工", actual_start=None, ytd_investment=0.0, cumulative_investment=10.0)]},
        {"s05p": [_p1(39, status="未开工", actual_start=None, ytd_investment=0.0, cumulative_investment=0.0)]},
    ),
]

R1_CASES = [
    Case(
        "R1-H01",
        {"h01a": [r1_row(1, uscc="911100001000054749")], "h01b": [r1_row(2, uscc=None)]},
        {"h01p": [r1_row(3, uscc="911100001000054748")]},
    ),
    Case("R1-H02", {"h02a": [r1_row(4), r1_row(4)]}, {"h02p1": [r1_row(5)], "h02p2": [r1_row(5)]}),
    Case(
        "R1-H03",
        {"h03a": [r1_row(6, region_code="620881")], "h03b": [r1_row(7, region_code=None)]},
        {"h03p": [r1_row(8, region_code="620824")]},
    ),
    Case(
        "R1-H04",
        {"h04a": [r1_row(9, industry_code="5111")], "h04b": [r1_row(10, industry_code=None)]},
        {"h04p": [r1_row(11, industry_code="0610")]},
    ),
    Case(
        "R1-H05",
        {
            "h05a": [r1_row(12, scale="特大型")],
            "h05b": [r1_row(13, operating_status="倒闭")],
            "h05c": [r1_row(14, above_scale=None)],
            "h05d": [r1_row(15, enterprise_name=None)],
        },
        {"h05p": [r1_row(16, scale="微型", operating_status="注销", above_scale=0)]},
    ),
]

CASES = {"E1": E1_CASES, "P1": P1_CASES, "R1": R1_CASES}


def _files(cases: list[Case]) -> dict[str, list[dict[str, Any]]]:
    files: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        files.update(case.breaking)
        files.update(case.passing)
    return files


def _prepare(url: str) -> sa.Engine:
    engine = prepare_warehouse(url)
    register = [r1_row(n) for n in [*range(1, 48), *range(51, 100), *HB_GROUP, HB_OUTLIER, HB_ORDINARY]]
    register += [r1_row(49, region_code="620102"), r1_row(50, industry_code="3311")]
    # E1-S09: 48 is not registered; 49 and 50 disagree with their rows (620103, 3312)
    with engine.begin() as conn:
        add_register(conn, "2013-01", register)
        add_enterprise_facts(
            conn,
            [
                e1_row(44, "2013-05", gross_output=1000.5),  # S07: YTD falls
                e1_row(45, "2013-04", energy_tce=600.0),  # S07: an earlier report of the year
                e1_row(46, "2013-05", gross_output=900.0),  # S07: grows
                e1_row(47, "2012-12", gross_output=5000.0),  # S07: last year does not count
                *[_hb_prev(n, 1.0 + (n - 500) / 4) for n in HB_GROUP],
                _hb_prev(HB_OUTLIER, 1.0),
                _hb_prev(HB_ORDINARY, 3.0),
            ],
        )
        add_project_facts(
            conn,
            [
                p1_row(52, PERIOD, ytd_investment=150.0, project_code="2013-620102-33-03-900001"),
                p1_row(52, PERIOD, ytd_investment=100.0, project_code="2013-620102-33-03-900002"),
                p1_row(53, PERIOD, ytd_investment=250.0, project_code="2013-620102-33-03-900003"),
                p1_row(35, "2013-05", ytd_investment=150.5),  # P1-S04: ytd falls within the year
                p1_row(36, "2012-12", ytd_investment=900.0, cumulative_investment=800.5),  # cumulative falls
                p1_row(37, "2012-12", ytd_investment=900.0, cumulative_investment=800.0),  # new year: ytd restarts
                # the latest earlier report counts: May's, not March's (above this month's ytd and cumulative)
                p1_row(38, "2013-03", ytd_investment=500.0, cumulative_investment=900.0),
                p1_row(38, "2013-05", ytd_investment=100.0, cumulative_investment=750.0),
            ],
        )
    return engine


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def outcomes(request, tmp_path_factory, pg_available):
    """{form code: failures} of one validation run per form on a fresh warehouse of each kind."""
    from validation_fixtures import fresh_database

    tmp = tmp_path_factory.mktemp("rules")
    with fresh_database(request.param, tmp, pg_available) as url:
        engine = _prepare(url)
        settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp / "data"), "TECHREFORM_WAREHOUSE_URL": url})
        settings = settings.with_options(validation={"data_docs": False})
        found = {}
        for code, cases in CASES.items():
            period = "2013-01" if code == "R1" else PERIOD
            files = _files(cases) | (HB_FILLER if code == "E1" else {})
            with engine.begin() as conn:
                result = validate_staged(conn, settings, form(code), Period.parse(period), staged(code, period, files))
            found[code] = (period, result)
        yield found


def _rules_of_row(result, period: str, file_name: str, source_row: int) -> set[str]:
    failures = result.failures
    mine = failures[(failures["file_sha256"] == sha_of(period, file_name)) & (failures["source_row"] == source_row)]
    return set(mine["rule_id"])


ALL = [(code, case) for code, cases in CASES.items() for case in cases]


@pytest.mark.parametrize(("code", "case"), ALL, ids=[case.rule_id for _, case in ALL])
def test_rule_catches_the_row_that_breaks_it_and_passes_the_row_that_keeps_it(outcomes, code, case):
    period, result = outcomes[code]
    for name, rows in case.breaking.items():
        for source_row in range(2, 2 + len(rows)):
            assert case.rule_id in _rules_of_row(result, period, name, source_row), (name, source_row)
    for name, rows in case.passing.items():
        for source_row in range(2, 2 + len(rows)):
            assert case.rule_id not in _rules_of_row(result, period, name, source_row), (name, source_row)


def test_every_rule_id_of_the_contract_has_a_case_and_a_suite_entry():
    contract = {f"E1-H0{i}" for i in range(1, 9)} | {f"E1-S{i:02d}" for i in range(1, 11)}
    contract |= {f"P1-H0{i}" for i in range(1, 9)} | {f"P1-S0{i}" for i in range(1, 6)}
    contract |= {f"R1-H0{i}" for i in range(1, 6)}
    assert {case.rule_id for _, case in ALL} == contract
    assert set().union(*(rules_of(form(c)) for c in CASES)) == contract


def test_severities_follow_the_rule_ids(outcomes):
    for _, result in outcomes.values():
        expected = result.failures["rule_id"].str[3].map({"H": "hard", "S": "soft"})
        assert (result.failures["severity"] == expected).all()
        assert not result.failures.loc[result.failures["severity"] == "hard", "explained"].any()


def test_clean_rows_have_no_hard_failure(outcomes):
    period, result = outcomes["E1"]
    for name in ("s01p", "s07p", "s10p", "s09p"):
        assert not {r for r in _rules_of_row(result, period, name, 2) if "-H" in r}


def test_messages_name_the_field_the_values_and_the_rule(outcomes):
    period, result = outcomes["E1"]
    failures = result.failures
    row = failures[(failures["file_sha256"] == sha_of(period, "s01a")) & (failures["rule_id"] == "E1-S01")].iloc[0]
    assert row["field"] == "value_added,gross_output"
    assert "E1-S01" in row["message"] and "工业增加值 (value_added)" in row["message"]
    assert "1000.5" in row["message"] and "1000" in row["message"]
    h01 = failures[(failures["file_sha256"] == sha_of(period, "h01a")) & (failures["rule_id"] == "E1-H01")].iloc[0]
    assert "校验位" in h01["message"] and "91350100M000100Y44" in h01["message"]
    h08 = failures[(failures["file_sha256"] == sha_of(period, "h08a")) & (failures["rule_id"] == "E1-H08")].iloc[0]
    assert h08["field"] == "revenue" and "必填项 主营业务收入 (revenue) 为空" in h08["message"]
    h07 = failures[(failures["file_sha256"] == sha_of(period, "h07c")) & (failures["rule_id"] == "E1-H07")].iloc[0]
    assert h07["field"] == "water_m3" and "工业用水量 (water_m3) 为 -0.01" in h07["message"]


def test_rule_counts_cover_every_rule_with_evaluated_and_failed_rows(outcomes):
    for code, (_, result) in outcomes.items():
        counts = result.rule_counts.set_index("rule_id")
        assert list(counts.index) == list(rules_of(form(code)))
        assert (counts["failed"] <= counts["evaluated"]).all()
        per_rule = result.failures.groupby("rule_id").size()
        for rule_id, failed in per_rule.items():
            assert counts.loc[rule_id, "failed"] == failed
