"""Explanations (核实说明) deliveries: read from CSV and XLSX with Chinese headers, stored idempotently, bad
rows reported (not stored), and matching only soft failures of the same key, period and rule."""

from __future__ import annotations

import sqlalchemy as sa

from techreform.forms import form
from techreform.periods import Period
from techreform.validation import validate_staged
from techreform.validation.explanations import explained_keys, sync_explanations
from validation_fixtures import (
    add_register,
    e1_row,
    p1_row,
    prepare_warehouse,
    r1_row,
    sha_of,
    staged,
    uscc,
    write_explanations,
)


def test_explanations_are_read_stored_once_and_bad_rows_reported(settings):
    engine = prepare_warehouse(settings.warehouse_url)
    folder = settings.landing_dir / "explanations" / "2013-07"
    write_explanations(
        folder / "兰州.csv",
        [
            (uscc(1), "", "2013年6月", "E1-S01", "委托加工，已核实", "张三"),
            (uscc(2), "", "2013-06", "E1-H01", "硬性规则不能说明", "张三"),  # a hard rule: not explainable
            (uscc(3), "", "2013-06", "E1-S02", "", "张三"),  # blank explanation
        ],
    )
    write_explanations(
        folder / "项目.xlsx", [("", "2013-620102-33-03-000001", "201306", "P1-S02", "年度计划含上年结转", "李四")]
    )
    with engine.begin() as conn:
        first = sync_explanations(conn, settings)
    with engine.begin() as conn:
        again = sync_explanations(conn, settings)
        stored = conn.execute(
            sa.text("select form, record_key, period, rule_id from dim_explanation order by form")
        ).fetchall()
        e1, p1 = explained_keys(conn, "E1"), explained_keys(conn, "P1")
    assert first.rows == again.rows == 2
    assert len(first.problems) == 2 and "兰州.csv 第3行" in first.problems[0] and "E1-H01" in first.problems[0]
    assert [tuple(r) for r in stored] == [
        ("E1", uscc(1), "2013-06", "E1-S01"),
        ("P1", "2013-620102-33-03-000001", "2013-06", "P1-S02"),
    ]
    assert e1 == {(uscc(1), "2013-06", "E1-S01")} and p1 == {("2013-620102-33-03-000001", "2013-06", "P1-S02")}


def test_an_explanation_marks_only_its_own_soft_failure(settings):
    engine = prepare_warehouse(settings.warehouse_url)
    with engine.begin() as conn:
        add_register(conn, "2013-01", [r1_row(n) for n in (1, 2)])
    write_explanations(
        settings.landing_dir / "explanations" / "2013-06" / "说明.csv",
        [
            (uscc(1), "", "2013-06", "E1-S01", "委托加工", "张三"),
            (uscc(2), "", "2013-05", "E1-S01", "上月的说明", "张三"),  # another period: does not match
        ],
    )
    frame = staged(
        "E1", "2013-06", {"a": [e1_row(1, value_added=2000.0, employees=0.0), e1_row(2, value_added=2000.0)]}
    )
    with engine.begin() as conn:
        result = validate_staged(
            conn, settings.with_options(validation={"data_docs": False}), form("E1"), Period(2013, 6), frame
        )
    flags = {
        (row, rule): explained
        for row, rule, explained in zip(
            result.failures["source_row"], result.failures["rule_id"], result.failures["explained"]
        )
    }
    assert result.failures["file_sha256"].eq(sha_of("2013-06", "a")).all()
    assert flags == {(2, "E1-S01"): True, (2, "E1-S03"): False, (3, "E1-S01"): False}


def test_p1_queries_are_explained_by_project_code(settings):
    engine = prepare_warehouse(settings.warehouse_url)
    with engine.begin() as conn:
        add_register(conn, "2013-01", [r1_row(1)])
    write_explanations(
        settings.landing_dir / "explanations" / "2013-06" / "项目.csv",
        [("", "2013-620102-33-03-000001", "2013-06", "P1-S02", "年度计划含上年结转", "李四")],
    )
    frame = staged("P1", "2013-06", {"p": [p1_row(1, annual_plan_investment=6000.0)]})
    with engine.begin() as conn:
        result = validate_staged(
            conn, settings.with_options(validation={"data_docs": False}), form("P1"), Period(2013, 6), frame
        )
    assert result.failures[["rule_id", "explained"]].values.tolist() == [["P1-S02", True]]
