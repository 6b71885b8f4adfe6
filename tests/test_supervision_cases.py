"""supervise_period on real warehouses (SQLite and PostgreSQL): lights stored per period, cases opened,
carried, closed and reopened, escalation, idempotent re-runs, corrections, quarantined rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from supervision_fixtures import LANZHOU, add_facts, make_warehouse, quarantine_row, replace_fact, report
from techreform.supervision import supervise_period
from techreform.warehouse import insert_rows

CODE = "2013-620102-35-03-000001"


def rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def snapshot(engine):
    return {
        t: rows(engine, f"select * from {t} order by 1, 2")
        for t in ("sup_run", "sup_project_light", "sup_case", "sup_case_period")
    }


def cases(engine):
    return rows(
        engine,
        "select case_id, opened_period, last_flagged_period, closed_period, closed_reason, status, "
        "periods, worst_light, escalated, escalated_period from sup_case order by case_id",
    )


def lagging(period, code=CODE, **kw):
    """Schedule lag 50 points in June: red."""
    return report(period, code, annual_plan_investment=1200.0, ytd_investment=0.0, **kw)


def suspended(period, code=CODE, **kw):
    return report(period, code, status="停建", **kw)


@pytest.fixture
def engine(warehouse_url):
    return make_warehouse(warehouse_url)


def test_every_project_gets_its_light_with_names_and_the_counts_are_returned(engine, settings):
    add_facts(
        engine,
        [
            report("2013-06", "P-GREEN"),
            lagging("2013-06", "P-RED"),
            report("2013-06", "P-YELLOW", annual_plan_investment=1000.0, ytd_investment=350.0),
        ],
    )
    counts = supervise_period(engine, settings, "2013-06")
    assert {k: counts[k] for k in ("projects", "green", "yellow", "red", "escalated")} == {
        "projects": 3,
        "green": 1,
        "yellow": 1,
        "red": 1,
        "escalated": 0,
    }
    stored = rows(
        engine,
        "select project_code, light, reasons, enterprise_name, county_name, prefecture_name, lag_pp "
        "from sup_project_light where period = '2013-06' order by project_code",
    )
    assert stored == [
        ("P-GREEN", "green", "", "兰州示范制造有限公司", "城关区", "兰州市", 0.0),
        ("P-RED", "red", "SCHEDULE_RED", "兰州示范制造有限公司", "城关区", "兰州市", 50.0),
        ("P-YELLOW", "yellow", "SCHEDULE_YELLOW", "兰州示范制造有限公司", "城关区", "兰州市", 15.0),
    ]


def test_a_case_opens_is_carried_closes_on_the_first_green_period_and_a_new_one_opens_later(engine, settings):
    add_facts(
        engine, [report("2013-03"), suspended("2013-04"), lagging("2013-05"), report("2013-06"), suspended("2013-07")]
    )
    for period in ("2013-03", "2013-04", "2013-05"):
        supervise_period(engine, settings, period)
    assert cases(engine) == [(f"{CODE}/2013-04", "2013-04", "2013-05", None, None, "open", 2, "red", 1, "2013-05")]
    assert rows(
        engine, "select period, light, reasons, months_open, escalated from sup_case_period order by period"
    ) == [("2013-04", "red", "SUSPENDED", 1, 0), ("2013-05", "red", "SCHEDULE_RED", 2, 1)]
    supervise_period(engine, settings, "2013-06")
    supervise_period(engine, settings, "2013-07")
    assert cases(engine) == [
        (f"{CODE}/2013-04", "2013-04", "2013-05", "2013-06", "green", "closed", 2, "red", 1, "2013-05"),
        (f"{CODE}/2013-07", "2013-07", "2013-07", None, None, "open", 1, "red", 0, None),
    ]


def test_a_red_key_project_escalates_in_its_first_red_period(engine, settings):
    add_facts(engine, [report("2013-05", key_project=1), suspended("2013-06", key_project=1)])
    supervise_period(engine, settings, "2013-05")
    assert supervise_period(engine, settings, "2013-06")["escalated"] == 1
    assert cases(engine)[0][-2:] == (1, "2013-06")


def test_a_rerun_changes_nothing_and_never_makes_a_second_case(engine, settings):
    add_facts(engine, [suspended("2013-05"), suspended("2013-06"), report("2013-06", "OTHER")])
    supervise_period(engine, settings, "2013-05")
    first = supervise_period(engine, settings, "2013-06")
    before = snapshot(engine)
    assert supervise_period(engine, settings, "2013-06") == first
    supervise_period(engine, settings, "2013-05")
    assert snapshot(engine) == before
    assert rows(engine, "select count(*) from sup_case") == [(1,)]


def test_a_correction_that_turns_the_period_green_closes_the_case_there(engine, settings):
    add_facts(engine, [suspended("2013-05"), suspended("2013-06")])
    supervise_period(engine, settings, "2013-05")
    supervise_period(engine, settings, "2013-06")
    replace_fact(engine, "2013-06", CODE, report("2013-06"))
    counts = supervise_period(engine, settings, "2013-06")
    assert (counts["green"], counts["red"], counts["open_cases"]) == (1, 0, 0)
    assert cases(engine) == [(f"{CODE}/2013-05", "2013-05", "2013-05", "2013-06", "green", "closed", 1, "red", 0, None)]


def test_a_correction_that_clears_the_opening_period_removes_that_case(engine, settings):
    add_facts(engine, [report("2013-05"), suspended("2013-06")])
    supervise_period(engine, settings, "2013-05")
    supervise_period(engine, settings, "2013-06")
    assert len(cases(engine)) == 1
    replace_fact(engine, "2013-06", CODE, report("2013-06"))
    supervise_period(engine, settings, "2013-06")
    assert cases(engine) == []


def test_a_project_that_leaves_supervision_closes_its_case(engine, settings):
    add_facts(engine, [lagging("2013-05", status="竣工", actual_completion="2013-05"), report("2013-06", "OTHER")])
    supervise_period(engine, settings, "2013-05")
    supervise_period(engine, settings, "2013-06")
    assert cases(engine)[0][3:6] == ("2013-06", "left_supervision", "closed")


def test_a_quarantined_row_gives_a_yellow_light_named_from_the_row_as_received(engine, settings):
    with engine.begin() as conn:
        insert_rows(conn, "quarantine", [quarantine_row("2013-06", "2013-620102-35-03-000009", name="隔离的项目")])
    counts = supervise_period(engine, settings, "2013-06")
    assert counts["yellow"] == 1
    assert rows(
        engine, "select project_name, light, reasons, source, prefecture_code, detail from sup_project_light"
    ) == [
        (
            "隔离的项目",
            "yellow",
            "QUARANTINED",
            "quarantined",
            LANZHOU,
            "P1_2013-06.csv 第3行：未通过P1-H04，请更正后重报",
        )
    ]


def test_a_missing_report_after_a_quarantined_one_is_not_reported(engine, settings):
    with engine.begin() as conn:
        insert_rows(conn, "quarantine", [quarantine_row("2013-05", "2013-620102-35-03-000009", name="上月被隔离")])
    add_facts(engine, [report("2013-06", "OTHER")])
    supervise_period(engine, settings, "2013-06")
    assert rows(engine, "select project_code, light, reasons, source from sup_project_light order by 1") == [
        ("2013-620102-35-03-000009", "yellow", "NOT_REPORTED", "missing"),
        ("OTHER", "green", "", "accepted"),
    ]


def test_a_quarantined_row_whose_project_code_is_malformed_names_no_project(engine, settings):
    with engine.begin() as conn:
        insert_rows(
            conn,
            "quarantine",
            [
                quarantine_row("2013-05", "2013-620102-35-03-00009", rule_ids="P1-H01"),
                quarantine_row("2013-06", "2013-62O102-35-03-000009", rule_ids="P1-H01"),
            ],
        )
    assert supervise_period(engine, settings, "2013-06")["projects"] == 0


def test_enterprise_names_are_those_of_the_enterprises_asked_for_from_the_register_else_the_latest_report(engine):
    """The lights' enterprise names: the register in force wins over an E1 report, the latest report
    names an enterprise the register lacks, an enterprise not asked for is not read, and more codes than
    one expanding list holds are asked in chunks (warehouse.IN_LIST_CHUNK)."""
    from supervision_fixtures import USCC
    from techreform.periods import Period
    from techreform.supervision.sources import enterprise_names
    from techreform.warehouse import IN_LIST_CHUNK

    def e1(period, uscc, name):
        return {
            "period": period,
            "uscc": uscc,
            "enterprise_name": name,
            "region_code": "620102",
            "prefecture_code": LANZHOU,
            "industry_code": "3511",
            "review_status": "ok",
            "soft_rule_ids": "",
            "file_sha256": "0" * 64,
            "source_row": 2,
        }

    others = [f"9162010200000{n:05d}" for n in range(IN_LIST_CHUNK + 3)]
    with engine.begin() as conn:
        insert_rows(
            conn,
            "fct_enterprise_monthly",
            [e1("2013-06", USCC, "报表里的名称")]
            + [e1("2013-05", u, f"旧名{n}") for n, u in enumerate(others)]
            + [e1("2013-06", u, f"新名{n}") for n, u in enumerate(others[:-1])]
            + [e1("2013-07", others[0], "七月的名称")],
        )
    with engine.connect() as conn:
        names = enterprise_names(conn, Period(2013, 6), [USCC, *others[1:], None, ""])
        none = enterprise_names(conn, Period(2013, 6), [])
    assert names[USCC] == "兰州示范制造有限公司"  # the register's, not the report's
    assert others[0] not in names  # not asked for
    assert names[others[-1]] == f"旧名{len(others) - 1}"  # reported in May only
    assert {names[u] for u in others[1:-1]} == {f"新名{n}" for n in range(1, len(others) - 1)}
    assert len(names) == len(others) and none == {}
