"""Completeness (报送率) pinned directly on a tiny warehouse (issue 16, mutation testing of
``techreform.validation.completeness``): who is expected (register in force, above scale, 在营; for Q1
those that reported it in the twelve months before), who counts as received (any staged row or an
unparsable row of the period), the rows per prefecture and for the province, the missing reporters, the
January exception, and that a run replaces only its own (form,) period. ``tests/test_validation_pipeline.py``
and ``test_annual_registry_forms.py`` reach it through the whole chain."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from techreform.config import Settings
from techreform.forms import FORMS
from techreform.periods import Period
from techreform.reference import province
from techreform.validation.completeness import compute_completeness, compute_form_completeness
from techreform.warehouse import IN_LIST_CHUNK, insert_rows
from validation_fixtures import add_register, e1_row, prepare_warehouse, q1_row, r1_row, staged, uscc

Q1 = FORMS["Q1"]
JUNE = "2013-06"
JINCHANG = {"region_code": "620302"}  # 金川区, prefecture 620300 金昌市


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings.warehouse_url)


def _select(engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql))]


def _stage(engine, table: str, form_code: str, period: str, rows: list[dict[str, Any]], name: str = "a.csv") -> None:
    """Stage ``rows`` of ``form_code`` in the period's delivery folder (one file, ``name``)."""
    frame = staged(form_code, period, {name: rows}).drop(columns=["file_name"])
    with engine.begin() as conn:
        insert_rows(conn, table, frame.astype(object).where(frame.notna(), None).to_dict("records"))


def _unparsable(engine, form_code: str, period: str, record_key: str, row: int = 9) -> None:
    with engine.begin() as conn:
        insert_rows(
            conn,
            "stg_parse_error",
            [
                {
                    "form": form_code,
                    "delivery_period": period,
                    "file_sha256": "e" * 64,
                    "source_row": row,
                    "delivery_seq": 1,
                    "record_key": record_key,
                    "raw_json": "{}",
                    "fields": "gross_output",
                    "messages": "不是数值",
                }
            ],
        )


@pytest.fixture
def register(engine):
    """In force from 2013-01: 1–3 and 6 expected (6 without an e-mail, 3 in 金昌), 4 below scale, 5 closed."""
    with engine.begin() as conn:
        add_register(
            conn,
            "2013-01",
            [
                r1_row(1),
                r1_row(2),
                r1_row(3, **JINCHANG),
                r1_row(4, above_scale=0),
                r1_row(5, operating_status="停业"),
                r1_row(6, contact_email=None),
            ],
        )
    return engine


def test_e1_expected_received_and_missing_per_prefecture_and_for_the_province(register, settings):
    engine = register
    _stage(engine, "stg_enterprise_monthly", "E1", JUNE, [e1_row(1), e1_row(4)])  # 4: not expected
    _unparsable(engine, "E1", JUNE, uscc(3))  # reported wrongly: still reported
    _unparsable(engine, "Q1", JUNE, uscc(2))  # another form: not an E1 report
    _stage(engine, "stg_enterprise_monthly", "E1", "2013-05", [e1_row(6, period="2013-05")])  # another month
    summary = compute_completeness(engine, settings, Period(2013, 6))
    assert {k: v for k, v in summary.items() if k != "by_prefecture"} == {
        "period": JUNE,
        "expected": 4,
        "received": 2,
        "missing": 2,
        "rate": 0.5,
    }
    by = summary["by_prefecture"]
    assert by["620100"] == {"expected": 3, "received": 1, "missing": 2, "rate": pytest.approx(1 / 3)}
    assert by["620300"] == {"expected": 1, "received": 1, "missing": 0, "rate": 1.0}
    assert by["620200"] == {"expected": 0, "received": 0, "missing": 0, "rate": None}  # nobody expected
    assert province()[0] not in by
    stored = _select(engine, "select * from dq_completeness where period = '2013-06' order by prefecture_code")
    assert len(stored) == len(by) + 1
    assert {r["prefecture_code"]: (r["expected"], r["received"], r["missing"]) for r in stored} == {
        **{code: (v["expected"], v["received"], v["missing"]) for code, v in by.items()},
        province()[0]: (4, 2, 2),
    }
    names = {r["prefecture_code"]: r["prefecture_name"] for r in stored}
    assert (names["620100"], names["620300"], names[province()[0]]) == ("兰州市", "金昌市", province()[1])
    assert [r["rate"] for r in stored if r["prefecture_code"] == "620200"] == [None]
    missing = _select(engine, "select * from dq_missing_reporter order by uscc")
    assert missing == [
        {
            "period": JUNE,
            "uscc": uscc(2),
            "enterprise_name": "兰州测试企业2",
            "region_code": "620102",
            "county_name": "城关区",
            "prefecture_code": "620100",
            "prefecture_name": "兰州市",
            "contact_email": "stat2@example.cn",
        },
        {
            "period": JUNE,
            "uscc": uscc(6),
            "enterprise_name": "兰州测试企业6",
            "region_code": "620102",
            "county_name": "城关区",
            "prefecture_code": "620100",
            "prefecture_name": "兰州市",
            "contact_email": None,
        },
    ]


def test_e1_a_run_replaces_its_period_only_and_january_expects_nobody(register, settings):
    engine = register
    may = compute_completeness(engine, settings, "2013-05")
    assert (may["expected"], may["received"], may["missing"]) == (4, 0, 4)
    _stage(engine, "stg_enterprise_monthly", "E1", JUNE, [e1_row(1), e1_row(2), e1_row(3, **JINCHANG)])
    compute_completeness(engine, settings, JUNE)
    _stage(engine, "stg_enterprise_monthly", "E1", JUNE, [e1_row(6, enterprise_name="后补")], name="b.csv")
    june = compute_completeness(engine, settings, JUNE)  # again, after a late delivery
    assert (june["received"], june["missing"], june["rate"]) == (4, 0, 1.0)
    counts = _select(
        engine,
        "select period, count(*) as n, sum(received) as received from dq_completeness group by period order by 1",
    )
    assert [(r["period"], r["received"]) for r in counts] == [("2013-05", 0), (JUNE, 8)]
    assert counts[0]["n"] == counts[1]["n"]
    assert _select(engine, "select period, count(*) as n from dq_missing_reporter group by period") == [
        {"period": "2013-05", "n": 4}
    ]
    january = compute_completeness(engine, settings, Period(2013, 1))
    assert (january["expected"], january["received"], january["missing"], january["rate"]) == (0, 0, 0, None)
    assert set(january["by_prefecture"]["620100"].values()) == {0, None}
    assert _select(engine, "select count(*) as n from dq_missing_reporter where period = '2013-01'") == [{"n": 0}]


def test_e1_every_missing_reporter_is_kept_once_when_more_are_missing_than_one_lookup_holds(engine, settings):
    """The missing reporters' entries are looked up in chunks (``warehouse.IN_LIST_CHUNK`` codes at a
    time): none is lost or kept twice past a chunk's end, and a reporter that sent two rows counts once."""
    n = IN_LIST_CHUNK + 2
    with engine.begin() as conn:
        add_register(conn, "2013-01", [r1_row(i) for i in range(1, n + 1)])
    _stage(engine, "stg_enterprise_monthly", "E1", JUNE, [e1_row(1), e1_row(1, enterprise_name="重复")])
    summary = compute_completeness(engine, settings, JUNE)
    assert (summary["expected"], summary["received"], summary["missing"]) == (n, 1, n - 1)
    missing = _select(engine, "select uscc, enterprise_name from dq_missing_reporter where period = '2013-06'")
    assert len(missing) == n - 1
    assert {(r["uscc"], r["enterprise_name"]) for r in missing} == {
        (uscc(i), f"兰州测试企业{i}") for i in range(2, n + 1)
    }


def _q1_facts(engine, rows: list[tuple[int, str]]) -> None:
    """Accepted Q1 rows: (enterprise, period)."""
    with engine.begin() as conn:
        insert_rows(
            conn,
            "fct_product_output",
            [
                {
                    "period": period,
                    "uscc": uscc(n),
                    "enterprise_name": f"兰州测试企业{n}",
                    "product_code": "水泥",
                    "quantity_t": 1.0,
                    "prefecture_code": "620100",
                    "review_status": "ok",
                    "soft_rule_ids": "",
                    "file_sha256": "f" * 64,
                    "source_row": 2 + i,
                }
                for i, (n, period) in enumerate(rows)
            ],
        )


def test_q1_expects_those_that_reported_it_in_the_twelve_months_before(register, settings):
    engine = register
    # 1: reported exactly twelve months before (thirteen before July: not expected then); 2, 3: last
    # month; 6 (no e-mail): eleven months before; 4: below scale; 5: closed
    _q1_facts(engine, [(1, "2012-06"), (2, "2013-05"), (3, "2013-05"), (6, "2012-07"), (4, "2013-05"), (5, "2013-05")])
    _stage(engine, "stg_product_output", "Q1", JUNE, [q1_row(1, "水泥", 5.0)])
    _unparsable(engine, "Q1", JUNE, uscc(3))
    _unparsable(engine, "E1", JUNE, uscc(2))  # another form's report
    with engine.begin() as conn:  # another form's completeness and missing reporters of the period: kept
        insert_rows(
            conn,
            "dq_form_missing_reporter",
            [{"form": "X1", "period": JUNE, "uscc": uscc(9), "enterprise_name": "别的表", "prefecture_code": "620100"}],
        )
        insert_rows(
            conn,
            "dq_form_completeness",
            [
                {
                    "form": "X1",
                    "period": JUNE,
                    "prefecture_code": "620100",
                    "prefecture_name": "兰州市",
                    "expected": 1,
                    "received": 1,
                    "missing": 0,
                    "rate": 1.0,
                }
            ],
        )
    june = compute_form_completeness(engine, settings, Q1, Period(2013, 6))
    assert june == {
        "form": "Q1",
        "period": JUNE,
        "expected": 4,
        "received": 2,
        "missing": 2,
        "rate": 0.5,
    }
    assert compute_form_completeness(engine, settings, Q1, JUNE) == june  # again: the same rows, replaced
    compute_form_completeness(engine, settings, Q1, "2013-07")
    stored = _select(
        engine,
        "select form, prefecture_code, prefecture_name, expected, received, missing, rate from dq_form_completeness"
        " where period = '2013-06' order by form, prefecture_code",
    )
    assert stored[1] == {
        "form": "Q1",
        "prefecture_code": "620100",
        "prefecture_name": "兰州市",
        "expected": 3,
        "received": 1,
        "missing": 2,
        "rate": pytest.approx(1 / 3),
    }
    assert {
        (r["form"], r["prefecture_code"]): (r["expected"], r["received"], r["rate"])
        for r in stored
        if r["prefecture_code"] in ("620300", province()[0])
    } == {
        ("Q1", "620300"): (1, 1, 1.0),
        ("Q1", province()[0]): (4, 2, 0.5),
    }
    assert stored[-1]["form"] == "X1"
    assert [r for r in stored if r["form"] == "Q1" and r["prefecture_code"] == "620200"][0]["rate"] is None
    missing = _select(engine, "select * from dq_form_missing_reporter where form = 'Q1' order by period, uscc")
    assert _select(engine, "select uscc from dq_form_missing_reporter where form = 'X1'") == [{"uscc": uscc(9)}]
    assert [(r["form"], r["period"], r["uscc"]) for r in missing] == [
        ("Q1", JUNE, uscc(2)),
        ("Q1", JUNE, uscc(6)),
        *(("Q1", "2013-07", uscc(n)) for n in (2, 3, 6)),
    ]
    assert missing[0] == {
        "form": "Q1",
        "period": JUNE,
        "uscc": uscc(2),
        "enterprise_name": "兰州测试企业2",
        "prefecture_code": "620100",
        "contact_email": "stat2@example.cn",
    }
    assert (missing[1]["contact_email"], missing[3]["prefecture_code"]) == (None, "620300")


def test_runs_replace_their_rows_on_postgresql_too(pg_url, tmp_path):
    """Not marked ``postgres``: the mutation group runs it, so a table name that only SQLite would match
    case-insensitively (SQLAlchemy quotes a name in capitals) fails here."""
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path / "data"), "TECHREFORM_WAREHOUSE_URL": pg_url})
    engine = prepare_warehouse(pg_url)
    with engine.begin() as conn:
        add_register(conn, "2013-01", [r1_row(1), r1_row(2)])
    _q1_facts(engine, [(1, "2013-05"), (2, "2013-05")])
    for _ in range(2):
        assert compute_completeness(engine, settings, JUNE)["missing"] == 2
        assert compute_form_completeness(engine, settings, Q1, JUNE)["missing"] == 2
    tables = ("dq_completeness", "dq_missing_reporter", "dq_form_completeness", "dq_form_missing_reporter")
    counts = {t: _select(engine, f"select count(*) as n from {t}")[0]["n"] for t in tables}
    assert counts["dq_missing_reporter"] == counts["dq_form_missing_reporter"] == 2
    assert counts["dq_completeness"] == counts["dq_form_completeness"] > 2


@pytest.mark.parametrize("dtype", ["str", object])
def test_a_code_is_among_the_received_only_when_it_is_one_of_them_exactly(dtype):
    import pandas as pd

    from techreform.validation.completeness import among

    codes = pd.Series(["A1", "B2", None, "C3", "a1", "A1"], dtype=dtype)
    others = pd.Series(["C3", "A1", None, "Z9"], dtype=dtype)
    assert among(codes, others).tolist() == [True, False, False, True, False, True]  # a null is among none
    assert among(codes, others.iloc[:0]).tolist() == [False] * 6
    assert among(codes.iloc[:0], others).tolist() == []
