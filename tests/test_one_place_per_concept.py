"""One place per concept: Chinese labels, the province, e-mail addresses and month arithmetic are each
defined once, and every reader (the SQL view, the e-mails, the headline table, the receipts) agrees."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import techreform
from indicators_fixtures import enterprise, insert, register_row, warehouse
from techreform import labels
from techreform.codes import valid_address
from techreform.indicators import compute_indicators, headline_table
from techreform.indicators.plan import months_elapsed
from techreform.periods import Period, period_range
from techreform.reference import PROVINCE_CODE, divisions, province
from techreform.reference import prefectures as province_prefectures
from techreform.supervision.cases import months_open
from techreform.supervision.rules import months_between


@pytest.fixture
def engine(warehouse_url):
    return warehouse(warehouse_url)


def test_the_warehouse_label_table_holds_exactly_the_modules_labels(engine):
    with engine.connect() as conn:
        rows = {
            (r.kind, r.code): r.label_zh for r in conn.execute(sa.text("select kind, code, label_zh from dim_label"))
        }
    expected = {(kind, code): text for kind, table in labels.LABEL_KINDS.items() for code, text in table.items()}
    assert rows == expected


def test_the_view_the_headline_table_and_the_emails_name_every_status_alike(engine, settings):
    insert(engine, "fct_enterprise_monthly", [enterprise("2010-12", 1), enterprise("2013-06", 1, value_added=320.0)])
    compute_indicators(engine, settings, "2013-06")
    with engine.connect() as conn:
        view = conn.execute(
            sa.text("select status, status_zh, level, level_zh from rpt_indicator where period = '2013-06'")
        ).all()
    assert {r.status for r in view} >= {"met", "no_data", "no_target"}
    for row in view:
        assert row.status_zh == labels.INDICATOR_STATUS_ZH[row.status]
        assert row.level_zh == labels.LEVEL_ZH[row.level]
    headline = headline_table(engine, "2013-06")
    assert (headline["status_zh"] == headline["status"].map(labels.INDICATOR_STATUS_ZH)).all()
    assert labels.label("indicator_status", "on_track") == "达到序时目标"
    assert labels.label("indicator_status", "unknown") == "unknown"
    assert labels.label("severity", None, "—") == "—"


def test_the_province_constant_is_the_shipped_division_lists_province():
    assert province() == (PROVINCE_CODE, "甘肃省")
    assert [d.code for d in divisions() if d.level == "province"] == [PROVINCE_CODE]


def test_the_provinces_code_is_written_once_in_the_package():
    """``reference.PROVINCE_CODE`` is the one place; the e-mail options' default is a setting."""
    package = Path(techreform.__file__).parent
    writers = sorted(
        str(path.relative_to(package)) for path in package.rglob("*.py") if '"620000"' in path.read_text("utf-8")
    )
    assert writers == ["options.py", "reference.py"]


@pytest.mark.parametrize(
    "address, ok",
    [
        ("zhang.san@gs.gov.cn", True),
        ("a+b@x-y.cn", True),
        (" zhang@gs.gov.cn", False),
        ("a@b", False),
        ("a@@b.cn", False),
        ("a b@c.cn", False),
        ("a@b.cn\r\nBcc: x@y.cn", False),
        ("", False),
        (None, False),
    ],
)
def test_one_test_decides_what_an_email_address_is(address, ok):
    assert valid_address(address) is ok


def test_every_month_difference_is_the_periods_own():
    periods = period_range("2009-11", "2016-02")
    for earlier in periods[::7]:
        for later in periods[::5]:
            expected = (later.year - earlier.year) * 12 + later.month - earlier.month
            assert later.months_since(earlier) == expected
            assert months_between(str(earlier), later) == expected
            assert months_open(str(earlier), str(later)) == expected + 1
            assert Period.of_index(later.index) == later
    assert months_elapsed(Period(2010, 12)) == 0 and months_elapsed(Period(2013, 6)) == 30
    assert months_elapsed(Period(2016, 3)) == 60 and months_elapsed(Period(2009, 1)) == 0
    assert months_between("not a month", Period(2013, 6)) is None


def test_a_snapshot_is_in_force_from_its_month_until_the_next_one(engine):
    """int_register_in_force / int_supervisors_in_force: the one definition of "in force" (在用名录)."""
    insert(
        engine,
        "dim_enterprise_register",
        [register_row("2012-01", 1), register_row("2012-01", 2), register_row("2013-07", 1)],
    )
    insert(
        engine,
        "dim_supervisor",
        [
            {"snapshot_period": "2012-03", "region_code": "620100", "name": "甲", "email": "a@gs.gov.cn", "role": None},
            {"snapshot_period": "2014-01", "region_code": "620100", "name": "乙", "email": "b@gs.gov.cn", "role": None},
        ],
    )
    with engine.connect() as conn:

        def snapshot_of(view: str, period: str) -> list[tuple[str, int]]:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.text(
                        f"select snapshot_period, count(*) from {view} where in_force_period = :p "
                        "group by snapshot_period"
                    ),
                    {"p": period},
                )
            ]

        assert snapshot_of("int_register_in_force", "2011-12") == []
        assert snapshot_of("int_register_in_force", "2012-01") == [("2012-01", 2)]
        assert snapshot_of("int_register_in_force", "2013-06") == [("2012-01", 2)]
        assert snapshot_of("int_register_in_force", "2013-07") == [("2013-07", 1)]
        assert snapshot_of("int_register_in_force", "2099-12") == [("2013-07", 1)]
        assert snapshot_of("int_supervisors_in_force", "2012-02") == []
        assert snapshot_of("int_supervisors_in_force", "2013-12") == [("2012-03", 1)]
        assert snapshot_of("int_supervisors_in_force", "2014-01") == [("2014-01", 1)]


def test_a_sql_file_for_tables_of_one_shape_takes_only_a_plain_table_name():
    from techreform.warehouse import sql_text

    columns = ["source_row", "project_code"]
    text = sql_text("staging/files/staged_rows", "sqlite", {"staging_table": "stg_project_monthly", "columns": columns})
    assert "from stg_project_monthly as s" in text and "{{" not in text
    for bad in (None, "stg_x; drop table fct_indicator", "Stg", "stg x"):
        with pytest.raises(ValueError, match="staging_table"):
            slots = {"staging_table": bad} if bad else {}
            sql_text("staging/files/staged_rows", "sqlite", {**slots, "columns": columns})


def test_a_slot_for_a_list_of_columns_takes_only_plain_column_names_filled_in_comma_separated():
    from techreform.warehouse import sql_text

    slots = {"target_table": "fct_x", "staging_table": "stg_x", "period_column": "period", "key_columns": ["uscc"]}
    text = sql_text("ops/load/current_facts", "sqlite", {**slots, "columns": ["uscc", "soft_rule_ids"]})
    assert "insert into fct_x (uscc, soft_rule_ids, period)" in text and "{{" not in text
    for bad in ([], ["uscc", "x); drop table fct_indicator; --"], ["uscc", None], [["uscc"]]):
        with pytest.raises(ValueError, match="columns"):
            sql_text("ops/load/current_facts", "sqlite", {**slots, "columns": bad})


def test_a_division_is_in_force_from_valid_from_until_valid_to_and_every_reader_agrees(engine):
    """int_divisions_in_force: the one definition of the divisions (行政区划) of a month, read by the
    monitoring view's prefectures, the indicators' prefecture rows and the G1 county coverage."""
    from techreform.warehouse import read_frame

    with engine.connect() as conn:

        def counties_in_force(period: str) -> set[str]:
            rows = conn.execute(
                sa.text("select code from int_divisions_in_force where in_force_period = :p and level = 'county'"),
                {"p": period},
            )
            return {r.code for r in rows}

        # 华亭县 (620824) until 2018-06 exclusive, 华亭市 (620881) from then; 兰州新区 (620171) from 2012-08
        assert {"620824"} <= counties_in_force("2018-05") and "620881" not in counties_in_force("2018-05")
        assert "620824" not in counties_in_force("2018-06") and "620881" in counties_in_force("2018-06")
        assert "620171" not in counties_in_force("2012-07") and "620171" in counties_in_force("2012-08")
        assert len(counties_in_force("2013-06")) == len(counties_in_force("2012-07")) + 1
        shown = read_frame(conn, "marts/monitoring/prefectures", period="2013-06")
    assert list(shown["prefecture_code"]) == list(province_prefectures())
    assert list(shown["prefecture_name"]) == list(province_prefectures().values())
