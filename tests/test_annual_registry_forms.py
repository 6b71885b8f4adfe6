"""Forms A1, Q1, G1 through the one ingestion and load path: every rule id (hard and soft) caught on a
hand-made delivery, every input row accepted or quarantined, facts and snapshots, late deliveries (on
SQLite and PostgreSQL)."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from landing_files import uscc_for, write_delivery
from techreform.forms import ENTERPRISE_ANNUAL as A1
from techreform.forms import ENTERPRISE_REGISTER as R1
from techreform.forms import FORMS
from techreform.forms import PRODUCT_OUTPUT as Q1
from techreform.forms import PROGRAMME_REGISTRY as G1
from techreform.periods import Period
from techreform.pipeline import load_step, prepare_warehouse, process_form
from techreform.validation import suites

E = [uscc_for("620102", n) for n in range(1, 8)]
OUTSIDER = uscc_for("620102", 99)


def _rows(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).fetchall()


def _register(settings, period: str) -> None:
    rows = [
        {
            "统一社会信用代码": u,
            "企业名称": f"测试企业{i}",
            "行政区划代码": "620102",
            "行业代码": "3311",
            "企业规模": "大型",
            "是否规模以上": "是",
            "是否重点企业": "是",
            "是否战略性新兴产业企业": "否",
            "是否流程型生产骨干企业": "是",
            "经营状态": "在营",
            "统计联系人邮箱": "a@example.cn",
        }
        for i, u in enumerate(E)
    ]
    write_delivery(settings.landing_dir, R1, period, "R1.csv", rows)


def a1_row(uscc: str, **overrides) -> dict[str, object]:
    row: dict[str, object] = {
        "统一社会信用代码": uscc,
        "企业名称": "测试企业",
        "企业技术中心级别": "省级",
        "关键工艺设备总数(台套)": "100",
        "其中达到国内先进水平及以上(台套)": "60",
        "其中达到国际先进水平(台套)": "20",
        "是否应用先进过程控制技术": "是",
        "是否应用CAD/CAM/CAPP/CAE/PLM": "Y",
        "是否建有企业网站": "1",
        "是否经常性开展电子商务": "否",
        "是否通过数字企业认定": "N",
    }
    row.update(overrides)
    return row


def _outcomes(engine, form: str, period: str) -> dict[int, tuple[str, set[str]]]:
    rows = _rows(
        engine,
        "select source_row, outcome, rule_ids from etl_row_outcome where form = :f and period = :p",
        f=form,
        p=period,
    )
    return {r.source_row: (r.outcome, set(filter(None, r.rule_ids.split(",")))) for r in rows}


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings)


def test_every_new_form_has_a_suite_with_every_rule_id_of_the_contract():
    expected = {
        "A1": {"A1-H01", "A1-H02", "A1-H03", "A1-H04", "A1-S01", "A1-S02"},
        "Q1": {"Q1-H01", "Q1-H02", "Q1-H03", "Q1-S01", "Q1-S02", "Q1-S03"},
        "G1": {"G1-H01", "G1-H02", "G1-H03", "G1-H04", "G1-S01"},
    }
    for code, rules in expected.items():
        found = suites.rules_of(FORMS[code])
        assert set(found) == rules
        assert all(found[r].severity == ("hard" if "-H" in r else "soft") for r in rules)


def test_a1_rules_caught_with_their_ids_and_last_years_level(settings, engine):
    _register(settings, "2012-01")
    process_form(engine, settings, "R1", Period(2012, 12))
    write_delivery(settings.landing_dir, A1, "2012-12", "A1_2012.csv", [a1_row(E[0], 企业技术中心级别="国家级")])
    process_form(engine, settings, "A1", Period(2012, 12))
    rows = [
        a1_row(E[0], 企业技术中心级别="市级"),  # 2: lower than last year's 国家级: A1-S02
        a1_row(E[1]),  # 3: clean
        a1_row(E[1]),  # 4: the same key twice in the file: A1-H01 (both rows)
        a1_row(E[2][:-1] + ("0" if E[2][-1] != "0" else "1")),  # 5: check character: A1-H01
        a1_row(E[3], 企业技术中心级别="区级"),  # 6: not a level: A1-H02
        {**a1_row(E[4]), "报告年度": "2012"},  # 7: year is not the folder's: A1-H02
        a1_row(E[5], **{"关键工艺设备总数(台套)": "100.5"}),  # 8: not whole: A1-H03
        a1_row(E[6], **{"其中达到国际先进水平(台套)": "70"}),  # 9: intl > domestic: A1-H04
        a1_row(OUTSIDER),  # 10: not in the register: A1-S01
    ]
    headers = list(a1_row(E[0]).keys()) + ["报告年度"]
    for row in rows:
        row.setdefault("报告年度", "")
    write_delivery(settings.landing_dir, A1, "2013-12", "A1_2013.csv", rows, headers=headers)
    load = process_form(engine, settings, "A1", Period(2013, 12))["load"]
    assert (load["received"], load["accepted"], load["quarantined"]) == (9, 2, 7)
    outcomes = _outcomes(engine, "A1", "2013-12")
    assert outcomes[2] == ("accepted", {"A1-S02"})
    assert outcomes[3][0] == "quarantined" and "A1-H01" in outcomes[3][1]
    assert outcomes[4][0] == "quarantined" and "A1-H01" in outcomes[4][1]
    assert outcomes[5] == ("quarantined", {"A1-H01", "A1-S01"})  # not in the register either
    assert outcomes[6] == ("quarantined", {"A1-H02"})
    assert outcomes[7] == ("quarantined", {"A1-H02"})
    assert outcomes[8] == ("quarantined", {"A1-H03"})
    assert outcomes[9] == ("quarantined", {"A1-H04"})
    assert outcomes[10] == ("accepted", {"A1-S01"})
    facts = _rows(
        engine, "select uscc, year, tech_centre_level, cax_in_use from fct_enterprise_annual where period = '2013-12'"
    )
    assert {(r.uscc, int(r.year), r.tech_centre_level, int(r.cax_in_use)) for r in facts} == {
        (E[0], 2013, "市级", 1),
        (OUTSIDER, 2013, "省级", 1),
    } | set()  # E[1] is quarantined twice (its key repeats)
    messages = _rows(engine, "select message from dq_row_failure where form = 'A1' and rule_id = 'A1-S02'")
    assert "国家级" in messages[0].message and "市级" in messages[0].message


def test_a1_arriving_late_is_loaded_by_a_later_run(settings, engine):
    _register(settings, "2013-01")
    process_form(engine, settings, "R1", Period(2013, 12))
    process_form(engine, settings, "A1", Period(2013, 12))  # nothing delivered yet: no error
    assert _rows(engine, "select count(*) as n from fct_enterprise_annual")[0].n == 0
    path = write_delivery(settings.landing_dir, A1, "2013-12", "A1_late.csv", [a1_row(E[0]), a1_row(E[1])])
    os.utime(path, (2_000_000, 2_000_000))
    result = process_form(engine, settings, "A1", Period(2014, 5))
    assert "2013-12" in result["loaded"]
    assert _rows(engine, "select count(*) as n from fct_enterprise_annual where period = '2013-12'")[0].n == 2
    # a corrected file for the same year replaces the rows by key
    write_delivery(settings.landing_dir, A1, "2013-12", "A1_fix.csv", [a1_row(E[0], 企业技术中心级别="国家级")])
    process_form(engine, settings, "A1", Period(2014, 6))
    levels = _rows(engine, "select uscc, tech_centre_level from fct_enterprise_annual order by uscc")
    assert dict((r.uscc, r.tech_centre_level) for r in levels) == {E[0]: "国家级", E[1]: "省级"}
    # nothing new: the earlier period is not loaded again (and A1 has no period 2014-07 to load)
    assert load_step(engine, settings, "A1", Period(2014, 7))["loaded"] == {}


def q1_row(uscc: str, product: str, quantity: str, **overrides) -> dict[str, object]:
    row: dict[str, object] = {
        "统一社会信用代码": uscc,
        "企业名称": "测试企业",
        "产品代码": product,
        "本年累计产量(吨)": quantity,
    }
    row.update(overrides)
    return row


def test_q1_rules_caught_with_their_ids(settings, engine):
    _register(settings, "2013-01")
    process_form(engine, settings, "R1", Period(2013, 5))
    # E[2]'s steel: 2000 t in March, 500 t in May (the latest report of the year, the one compared)
    write_delivery(settings.landing_dir, Q1, "2013-03", "Q1.csv", [q1_row(E[2], "钢材", "2000")])
    process_form(engine, settings, "Q1", Period(2013, 3))
    write_delivery(
        settings.landing_dir, Q1, "2013-05", "Q1.csv", [q1_row(E[0], "水泥", "1000"), q1_row(E[2], "钢材", "500")]
    )
    process_form(engine, settings, "Q1", Period(2013, 5))
    rows = [
        q1_row(E[0], "cement_total", "900"),  # 2: falls within the year: Q1-S02
        q1_row(E[0], "新型干法水泥", "950"),  # 3: part > whole: Q1-S03 (Chinese name staged as the code)
        q1_row(E[1], "钢材", "10"),  # 4: clean
        q1_row(E[1], "钢材", "11"),  # 5: key twice: Q1-H01 (with 4)
        q1_row(E[2], "铝锭", "10"),  # 6: not a product: Q1-H02
        {**q1_row(E[3], "水泥", "5"), "报告期": "2013-05"},  # 7: period is not the folder's: Q1-H02
        q1_row(E[4], "水泥", "-3"),  # 8: negative: Q1-H03
        q1_row(E[5], "水泥", "-"),  # 9: missing: Q1-H03
        q1_row(OUTSIDER, "钢材", "7"),  # 10: not in the register: Q1-S01
        q1_row(E[6], "板带材", "5"),  # 11: a part without its whole: clean
        q1_row(E[2], "钢材", "600"),  # 12: above May's 500 (below March's 2000): clean
    ]
    for row in rows:
        row.setdefault("报告期", "")
    write_delivery(settings.landing_dir, Q1, "2013-06", "Q1.csv", rows)
    load = process_form(engine, settings, "Q1", Period(2013, 6))["load"]
    outcomes = _outcomes(engine, "Q1", "2013-06")
    assert outcomes[2] == ("accepted", {"Q1-S02"})
    assert outcomes[3] == ("accepted", {"Q1-S03"})
    assert outcomes[4] == ("quarantined", {"Q1-H01"}) and outcomes[5] == ("quarantined", {"Q1-H01"})
    assert outcomes[6] == ("quarantined", {"Q1-H02"})
    assert outcomes[7] == ("quarantined", {"Q1-H02"})
    assert outcomes[8] == ("quarantined", {"Q1-H03"})
    assert outcomes[9] == ("quarantined", {"Q1-H03"})
    assert outcomes[10] == ("accepted", {"Q1-S01"})
    assert outcomes[11] == ("accepted", set())
    assert outcomes[12] == ("accepted", set())
    assert (load["received"], load["accepted"], load["quarantined"]) == (11, 5, 6)
    products = _rows(engine, "select product_code from fct_product_output where period = '2013-06' order by 1")
    assert [r.product_code for r in products] == [
        "cement_new_dry_process",
        "cement_total",
        "steel_plate_strip",
        "steel_products_total",
        "steel_products_total",
    ]


def g1_row(item_id: str, item_type: str = "sme_platform", **overrides) -> dict[str, object]:
    row: dict[str, object] = {
        "认定编号": item_id,
        "类别": item_type,
        "名称": f"平台{item_id}",
        "行政区划代码": "620100",
        "级别": "省级",
        "认定年月": "2012-03",
        "撤销年月": "",
    }
    row.update(overrides)
    return row


def test_g1_rules_caught_and_snapshot_in_force(settings, engine):
    rows = [
        g1_row("P1"),  # 2: clean
        g1_row("P2", "县域中小企业服务平台", 行政区划代码="620100"),  # 3: county platform of a prefecture: G1-S01
        g1_row("P3", "county_platform", 行政区划代码="620102"),  # 4: clean
        g1_row("P4"),  # 5: key twice: G1-H01 (with 6)
        g1_row("P4"),  # 6
        g1_row("P5", 名称=""),  # 7: required: G1-H01
        g1_row("P6", "smelter"),  # 8: not a type: G1-H02
        g1_row("P7", 级别="县级"),  # 9: not a level: G1-H02
        g1_row("P8", 行政区划代码="110000"),  # 10: not Gansu: G1-H03
        g1_row("P9", 认定年月="2013-08"),  # 11: recognised after the snapshot: G1-H04
        g1_row("P10", 撤销年月="2012-01"),  # 12: revoked before recognised: G1-H04
        g1_row("P11", "demo_base", 行政区划代码="620000", 级别="国家级"),  # 13: the province: clean
    ]
    write_delivery(settings.landing_dir, G1, "2013-06", "G1.csv", rows)
    load = process_form(engine, settings, "G1", Period(2013, 6))["load"]
    outcomes = _outcomes(engine, "G1", "2013-06")
    assert outcomes[2] == ("accepted", set()) and outcomes[4] == ("accepted", set())
    assert outcomes[3] == ("accepted", {"G1-S01"})
    assert outcomes[5] == ("quarantined", {"G1-H01"}) and outcomes[6] == ("quarantined", {"G1-H01"})
    assert outcomes[7] == ("quarantined", {"G1-H01"})
    assert outcomes[8] == ("quarantined", {"G1-H02"}) and outcomes[9] == ("quarantined", {"G1-H02"})
    assert outcomes[10] == ("quarantined", {"G1-H03"})
    assert outcomes[11] == ("quarantined", {"G1-H04"}) and outcomes[12] == ("quarantined", {"G1-H04"})
    assert outcomes[13] == ("accepted", set())
    assert (load["received"], load["accepted"], load["quarantined"]) == (12, 4, 8)
    in_force = _rows(
        engine, "select item_id, prefecture_code from int_programme_in_force where in_force_period = '2014-02'"
    )
    assert dict((r.item_id, r.prefecture_code) for r in in_force) == {
        "P1": "620100",
        "P2": "620100",
        "P3": "620100",
        "P11": "",
    }
    # in force from its own month on, not before it
    in_force_by_month = _rows(
        engine,
        "select in_force_period, count(*) as n from int_programme_in_force"
        " where in_force_period in ('2013-05', '2013-06') group by in_force_period",
    )
    assert {r.in_force_period: r.n for r in in_force_by_month} == {"2013-06": 4}
    # G1 optional: a later month without a snapshot is not an error and keeps the snapshot in force
    assert process_form(engine, settings, "G1", Period(2013, 7))["rejected"] == []


def _indicators(engine, period: str) -> dict[tuple[str, str, str], object]:
    rows = _rows(
        engine,
        "select indicator_code, level, area_code, value, value_same_period_last_year, status, data_period, "
        "numerator, denominator from fct_indicator where period = :p",
        p=period,
    )
    return {(r.indicator_code, r.level, r.area_code): r for r in rows}


def test_the_eighteen_indicators_from_a1_q1_g1_with_the_a1_year_in_use(settings, engine):
    from techreform.indicators import compute_indicators

    before = compute_indicators(engine, settings, Period(2014, 5))
    assert before["rows"] > 0
    empty = _indicators(engine, "2014-05")
    for code in ("TECH_CENTERS_PROV", "APC_ADOPTION", "CEMENT_DRY_SHARE", "CIRCULAR_PARKS"):
        assert empty[(code, "province", "620000")].status == "no_data"
        assert empty[(code, "province", "620000")].value is None  # 无数据, never 0

    _register(settings, "2012-01")
    process_form(engine, settings, "R1", Period(2014, 5))
    levels_2012 = ["国家级", "省级", "无", "市级", "无", "无", "无"]
    levels_2013 = ["国家级", "省级", "省级", "市级", "国家级", "无", "无"]
    for year, levels in ((2012, levels_2012), (2013, levels_2013)):
        rows = [
            a1_row(
                u,
                企业技术中心级别=level,
                **{
                    "关键工艺设备总数(台套)": str(100 + i),
                    "其中达到国内先进水平及以上(台套)": str(50 + i),
                    "其中达到国际先进水平(台套)": str(10 + i),
                    "是否应用先进过程控制技术": "是" if i % 2 or year == 2013 else "否",
                    "是否通过数字企业认定": "是" if i < 3 else "否",
                },
            )
            for i, (u, level) in enumerate(zip(E, levels))
        ]
        write_delivery(settings.landing_dir, A1, f"{year}-12", f"A1_{year}.csv", rows)
    process_form(engine, settings, "A1", Period(2014, 5))
    write_delivery(
        settings.landing_dir,
        Q1,
        "2014-05",
        "Q1.csv",
        [q1_row(E[0], "水泥", "1000"), q1_row(E[0], "新型干法水泥", "950"), q1_row(E[1], "cement_total", "1000")],
    )
    process_form(engine, settings, "Q1", Period(2014, 5))
    write_delivery(
        settings.landing_dir,
        G1,
        "2014-01",
        "G1.csv",
        [
            g1_row("C1", "county_platform", 行政区划代码="620102", 认定年月="2012-01"),
            g1_row("C2", "county_platform", 行政区划代码="620102", 认定年月="2013-01"),
            g1_row("I1", "incubator", 认定年月="2010-05"),
            g1_row("I2", "incubator", 认定年月="2012-05"),
            g1_row("I3", "incubator", 认定年月="2013-05", 撤销年月="2014-03"),
            g1_row("D1", "demo_base", 级别="国家级", 行政区划代码="620000"),
            g1_row("D2", "demo_base", 级别="省级"),
        ],
    )
    process_form(engine, settings, "G1", Period(2014, 5))
    compute_indicators(engine, settings, Period(2014, 5))
    got = _indicators(engine, "2014-05")
    p = "620000"
    tc = got[("TECH_CENTERS_PROV", "province", p)]
    assert (tc.value, tc.value_same_period_last_year, tc.data_period) == (4, 2, "2013-12")
    assert got[("TECH_CENTERS_NATL", "province", p)].value == 2
    assert got[("TECH_CENTERS_PROV", "prefecture", "620100")].value == 4
    assert got[("DIGITAL_ENTERPRISES", "province", p)].value == 3
    # every enterprise of the register is a key enterprise and a process backbone
    equipment = got[("EQUIP_DOMESTIC_ADV", "province", p)]
    assert equipment.numerator == sum(50 + i for i in range(7)) and equipment.denominator == sum(
        100 + i for i in range(7)
    )
    assert got[("EQUIP_INTL_ADV", "province", p)].value == pytest.approx(100 * sum(10 + i for i in range(7)) / 721)
    apc = got[("APC_ADOPTION", "province", p)]
    assert apc.value == pytest.approx(100.0) and apc.value_same_period_last_year == pytest.approx(100 * 3 / 7)
    assert got[("SME_WEBSITE_RATE", "province", p)].status == "no_data"  # the register has only 大型
    cement = got[("CEMENT_DRY_SHARE", "province", p)]
    assert (cement.numerator, cement.denominator) == (950, 2000) and cement.data_period is None
    assert got[("STEEL_PLATE_SHARE", "province", p)].status == "no_data"
    assert got[("INCUBATORS_NEW", "province", p)].value == 1  # I1 before the plan, I3 revoked
    assert got[("NATL_DEMO_BASES", "province", p)].value == 1
    assert got[("CIRCULAR_PARKS", "province", p)].value == 0  # a snapshot without any: 0, not no data
    assert got[("CIRCULAR_PARKS", "province", p)].data_period == "2014-01"
    coverage = got[("SME_NETWORK_COUNTY_COVERAGE", "province", p)]
    assert coverage.numerator == 1 and coverage.denominator > 50
    assert got[("SME_NETWORK_COUNTY_COVERAGE", "prefecture", "620100")].numerator == 1


def test_q1_is_expected_from_the_enterprises_that_reported_it_before(settings, engine):
    from techreform.validation.completeness import compute_form_completeness

    _register(settings, "2013-01")
    process_form(engine, settings, "R1", Period(2013, 5))
    may = [q1_row(E[0], "水泥", "10"), q1_row(E[1], "钢材", "10"), q1_row(E[2], "钢材", "-5")]  # E[2]: quarantined
    write_delivery(settings.landing_dir, Q1, "2013-05", "Q1_620100_2013-05.csv", may)
    process_form(engine, settings, "Q1", Period(2013, 5))
    first = compute_form_completeness(engine, settings, Q1, Period(2013, 5))
    assert (first["expected"], first["received"]) == (0, 0)  # nobody reported Q1 before
    write_delivery(settings.landing_dir, Q1, "2013-06", "Q1_620100_2013-06.csv", [q1_row(E[0], "水泥", "20")])
    process_form(engine, settings, "Q1", Period(2013, 6))
    june = compute_form_completeness(engine, settings, Q1, Period(2013, 6))
    assert (june["expected"], june["received"], june["missing"]) == (2, 1, 1)  # E[0], E[1] had accepted rows
    missing = _rows(engine, "select form, uscc, prefecture_code from dq_form_missing_reporter where period = '2013-06'")
    assert [(r.form, r.uscc, r.prefecture_code) for r in missing] == [("Q1", E[1], "620100")]
    lanzhou = _rows(
        engine,
        "select expected, received, rate from dq_form_completeness where period = '2013-06' and prefecture_code = '620100'",
    )
    assert tuple(lanzhou[0]) == (2, 1, 0.5)
    # idempotent
    assert compute_form_completeness(engine, settings, Q1, Period(2013, 6)) == june


def _explanations(settings, folder: str, rows: list[tuple[str, ...]]) -> None:
    """An explanations (核实说明) delivery: each row (uscc, product, item type, item id, period, rule, text)."""
    headers = ["统一社会信用代码", "产品代码", "类别", "认定编号", "报告期", "审核规则", "核实说明", "核实人"]
    path = settings.landing_dir / "explanations" / folder / "核实说明.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(headers)] + [",".join([*r, "王五"]) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


def _review_status(engine, form: str, period: str) -> dict[int, tuple[str, str]]:
    rows = _rows(
        engine,
        "select source_row, review_status, rule_ids from etl_row_outcome where form = :f and period = :p",
        f=form,
        p=period,
    )
    return {r.source_row: (r.review_status, r.rule_ids) for r in rows}


def test_soft_queries_of_a1_q1_and_g1_are_explained_by_each_forms_own_key(settings, engine):
    """A query of any form is answered by an explanation naming the form's record key: A1 by enterprise
    and year, Q1 by enterprise and product (a Chinese product name read as its code), G1 by item type
    and number; only the row named is explained, and an unknown rule or a missing key part is reported."""
    _register(settings, "2013-01")
    process_form(engine, settings, "R1", Period(2013, 6))
    write_delivery(
        settings.landing_dir, Q1, "2013-06", "Q1.csv", [q1_row(OUTSIDER, "钢材", "7"), q1_row(OUTSIDER, "水泥", "5")]
    )
    write_delivery(
        settings.landing_dir,
        G1,
        "2013-06",
        "G1.csv",
        [g1_row("P2", "县域中小企业服务平台"), g1_row("P3", "county_platform")],
    )
    write_delivery(settings.landing_dir, A1, "2013-12", "A1.csv", [a1_row(OUTSIDER), a1_row(uscc_for("620102", 98))])
    _explanations(
        settings,
        "2013-07",
        [
            (OUTSIDER, "钢材", "", "", "2013-06", "Q1-S01", "新设企业，名录待更新"),
            ("", "", "县域中小企业服务平台", "P2", "2013年6月", "G1-S01", "兰州新区平台，按市级代码登记"),
            (OUTSIDER, "", "", "", "2013", "A1-S01", "新设企业，名录待更新"),
            (OUTSIDER, "水泥", "", "", "2013-06", "Q1-S99", "没有这条规则"),
            ("", "水泥", "", "", "2013-06", "Q1-S01", "缺少企业"),
        ],
    )
    process_form(engine, settings, "Q1", Period(2013, 6))
    process_form(engine, settings, "G1", Period(2013, 6))
    process_form(engine, settings, "A1", Period(2013, 12))
    assert _review_status(engine, "Q1", "2013-06") == {2: ("explained", "Q1-S01"), 3: ("query", "Q1-S01")}
    assert _review_status(engine, "G1", "2013-06") == {2: ("explained", "G1-S01"), 3: ("query", "G1-S01")}
    assert _review_status(engine, "A1", "2013-12") == {2: ("explained", "A1-S01"), 3: ("query", "A1-S01")}
    with engine.connect() as conn:
        from techreform.validation.explanations import load_folder

        problems = load_folder(conn, settings.landing_dir / "explanations" / "2013-07").problems
    assert len(problems) == 2
    assert "第5行" in problems[0] and "Q1-S99" in problems[0]
    assert "第6行" in problems[1] and "缺少统一社会信用代码、产品代码" in problems[1]


def test_an_a1_explanation_naming_a_month_other_than_december_is_refused_in_one_line(settings, engine):
    """A1's report of a year is its December's (the folder YYYY-12): an explanation naming another month
    could never match a query, so it is reported, not stored."""
    from techreform.validation.explanations import load_folder

    _explanations(
        settings,
        "2014-01",
        [
            (OUTSIDER, "", "", "", "2013-06", "A1-S01", "半年"),
            (OUTSIDER, "", "", "", "2013年12月", "A1-S01", "年报"),
            (OUTSIDER, "", "", "", "2013", "A1-S01", "年份"),
        ],
    )
    with engine.begin() as conn:
        outcome = load_folder(conn, settings.landing_dir / "explanations" / "2014-01")
    assert outcome.rows == 2
    (problem,) = outcome.problems
    assert "第2行" in problem and "2013-06" in problem and "A1" in problem and "\n" not in problem
