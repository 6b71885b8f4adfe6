"""The load, fast enough for the mutation group ``load`` (docs/testing.md): ``decide_outcomes`` on small
frames (rows with an empty key are never superseded, quarantined rows have review status
``quarantined``, ...), then ``load_form_period`` on a small warehouse: outcomes, quarantine with the
rows as received, facts, rule counts, the summary, and the replacement of one form and period."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from landing_files import e1_row, uscc_for, write_delivery
from techreform.config import Settings
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.forms import SUPERVISORS
from techreform.ingest import fill_received, gone_from_raw_zone, ingest_form_period
from techreform.load import decide_outcomes, load_form_period
from techreform.periods import Period
from techreform.pipeline import prepare_warehouse, process_form
from techreform.validation import outcomes as outcomes_module
from warehouse_snapshot import changes, snapshot

A, B, C = (uscc_for("620102", n) for n in (1, 2, 3))
SHA1, SHA2 = "1" * 64, "2" * 64


def _staged(rows):
    """Staged E1 rows: (sha, source_row, delivery_seq, uscc, region_code)."""
    return pd.DataFrame(
        [
            {
                "file_sha256": sha,
                "source_row": row,
                "delivery_seq": seq,
                "file_name": f"E1_620100_2013-06_{seq}.csv",
                "raw_json": json.dumps({"uscc": key}),
                "uscc": key,
                "region_code": region,
            }
            for sha, row, seq, key, region in rows
        ]
    )


def _unparsed(rows):
    return pd.DataFrame(
        [
            {
                "file_sha256": sha,
                "source_row": row,
                "delivery_seq": seq,
                "file_name": f"E1_620900_2013-06_{seq}.csv",
                "raw_json": "{}",
                "record_key": key,
                "fields": "revenue",
                "messages": "不是数字",
            }
            for sha, row, seq, key in rows
        ]
    )


def _failures(rows):
    return pd.DataFrame(
        [
            {
                "file_sha256": sha,
                "source_row": row,
                "rule_id": rule,
                "severity": severity,
                "field": field,
                "message": f"{rule} message",
                "explained": explained,
            }
            for sha, row, rule, severity, field, explained in rows
        ],
        columns=["file_sha256", "source_row", "rule_id", "severity", "field", "message", "explained"],
    )


def test_rows_without_a_key_are_never_superseded_by_a_later_delivery():
    staged = _staged(
        [
            (SHA1, 2, 1, A, "620102"),
            (SHA1, 3, 1, None, "620102"),
            (SHA2, 2, 2, None, "620102"),
            (SHA2, 3, 2, A, "620102"),
        ]
    )
    unparsed = _unparsed([(SHA1, 4, 1, ""), (SHA2, 4, 2, "")])
    failures = _failures([(SHA1, 3, "E1-H01", "hard", "uscc", False), (SHA2, 2, "E1-H01", "hard", "uscc", False)])
    rows = decide_outcomes(E1, staged, unparsed, failures)
    by_row = {(r.file_sha256, r.source_row): r for r in rows.itertuples()}
    assert [by_row[k].superseded for k in [(SHA1, 2), (SHA1, 3), (SHA2, 2), (SHA2, 3), (SHA1, 4), (SHA2, 4)]] == [
        1,
        0,
        0,
        0,
        0,
        0,
    ]
    assert by_row[(SHA1, 4)].prefecture_code == "620900"  # unparsed: the prefecture of the file name
    assert by_row[(SHA1, 4)].rule_ids == "E1-H00"


def test_quarantined_rows_have_review_status_quarantined_and_accepted_ones_ok_query_or_explained():
    staged = _staged([(SHA1, r, 1, uscc_for("620102", r), "620102") for r in (2, 3, 4, 5, 6)])
    failures = _failures(
        [
            (SHA1, 2, "E1-H03", "hard", "enterprise_name", False),
            (SHA1, 2, "E1-S01", "soft", "value_added", False),
            (SHA1, 3, "E1-S01", "soft", "value_added", False),
            (SHA1, 4, "E1-S01", "soft", "value_added", True),
            (SHA1, 5, "E1-S01", "soft", "value_added", True),
            (SHA1, 5, "E1-S02", "soft", "profit", False),
        ]
    )
    rows = decide_outcomes(
        E1,
        staged,
        _unparsed([]).reindex(
            columns=[
                "file_sha256",
                "source_row",
                "delivery_seq",
                "file_name",
                "raw_json",
                "record_key",
                "fields",
                "messages",
            ]
        ),
        failures,
    )
    got = rows.set_index("source_row")
    assert list(got["outcome"]) == ["quarantined", "accepted", "accepted", "accepted", "accepted"]
    assert list(got["review_status"]) == ["quarantined", "query", "explained", "query", "ok"]
    assert got.loc[2, "rule_ids"] == "E1-H03,E1-S01" and got.loc[2, "fields"] == "enterprise_name"
    assert got.loc[5, "rule_ids"] == "E1-S01,E1-S02"
    assert list(got["prefecture_code"]) == ["620100"] * 5


def test_supervisor_keys_ignore_the_case_of_the_address():
    frame = pd.DataFrame({"region_code": ["620100", None], "email": ["LZ@Example.org", None]})
    assert list(SUPERVISORS.record_keys(frame)) == ["620100/lz@example.org", "/"]


@pytest.fixture
def engine(sqlite_settings):
    return prepare_warehouse(sqlite_settings)


def _deliver(settings, name, rows, mtime):
    path = write_delivery(settings.landing_dir, E1, "2013-06", name, rows)
    os.utime(path, (mtime, mtime))


def test_the_run_summary_counts_only_current_rows_after_a_corrected_redelivery(sqlite_settings, engine):
    _deliver(
        sqlite_settings,
        "E1_620100_2013-06.csv",
        [
            e1_row(A, "2013-06", **{"工业增加值": "5000"}),  # E1-S01: value added above gross output, a query
            e1_row(B, "2013-06"),
            e1_row(C, "2013-06", **{"企业名称": ""}),  # hard failure
        ],
        1_000_000,
    )
    first = process_form(engine, sqlite_settings, "E1", Period(2013, 6))["load"]
    assert {k: first[k] for k in ("received", "accepted", "quarantined", "queried", "superseded", "current_rows")} == {
        "received": 3,
        "accepted": 2,
        "quarantined": 1,
        "queried": 1,
        "superseded": 0,
        "current_rows": 2,
    }
    _deliver(sqlite_settings, "E1_620100_2013-06_更正.csv", [e1_row(A, "2013-06"), e1_row(C, "2013-06")], 2_000_000)
    load = process_form(engine, sqlite_settings, "E1", Period(2013, 6))["load"]
    assert {k: load[k] for k in ("received", "accepted", "quarantined", "queried", "superseded", "current_rows")} == {
        "received": 5,
        "accepted": 4,
        "quarantined": 1,
        "queried": 0,
        "superseded": 2,
        "current_rows": 3,
    }


_NO_UNPARSED = [
    "file_sha256",
    "source_row",
    "delivery_seq",
    "file_name",
    "raw_json",
    "record_key",
    "fields",
    "messages",
]


def test_rows_without_any_failure_are_accepted_ok_with_empty_rules_fields_and_messages():
    staged = _staged([(SHA1, 2, 1, A, "620502"), (SHA1, 3, 1, B, "620102")])
    rows = decide_outcomes(E1, staged, pd.DataFrame(columns=_NO_UNPARSED), _failures([]))
    got = rows.set_index("source_row")
    assert list(got["outcome"]) == ["accepted", "accepted"] and list(got["review_status"]) == ["ok", "ok"]
    for column in ("rule_ids", "hard_rules", "soft_rules", "fields", "messages"):
        assert list(got[column]) == ["", ""], column
    assert list(got["superseded"]) == [0, 0] and list(got["record_key"]) == [A, B]
    # the prefecture of the county, not of the file name (E1_620100_…)
    assert list(got["prefecture_code"]) == ["620500", "620100"]


def test_fields_and_messages_of_hard_failures_are_joined_and_other_rows_have_none():
    staged = _staged([(SHA1, 2, 1, A, "620102"), (SHA1, 3, 1, B, "620102")])
    failures = _failures(
        [
            (SHA1, 2, "E1-H07", "hard", "revenue,gross_output", False),
            (SHA1, 2, "E1-H08", "hard", "gross_output", False),
            (SHA1, 2, "E1-S01", "soft", "value_added", False),
            (SHA1, 3, "E1-S02", "soft", "profit", False),
        ]
    )
    rows = decide_outcomes(E1, staged, pd.DataFrame(columns=_NO_UNPARSED), failures)
    got = rows.set_index("source_row")
    assert got.loc[2, "fields"] == "gross_output,revenue"
    assert got.loc[2, "messages"] == "E1-H07 message；E1-H08 message"
    assert got.loc[2, "rule_ids"] == "E1-H07,E1-H08,E1-S01"
    assert (got.loc[3, "fields"], got.loc[3, "messages"], got.loc[3, "review_status"]) == ("", "", "query")


def test_a_supervisor_row_belongs_to_the_region_it_supervises():
    staged = pd.DataFrame(
        [
            {
                "file_sha256": SHA1,
                "source_row": 2,
                "delivery_seq": 1,
                "file_name": "S1.csv",
                "raw_json": "{}",
                "region_code": "620500",
                "email": "TS@example.org",
            },
            {
                "file_sha256": SHA1,
                "source_row": 3,
                "delivery_seq": 1,
                "file_name": "S1.csv",
                "raw_json": "{}",
                "region_code": "620000",
                "email": "prov@example.org",
            },
        ]
    )
    rows = decide_outcomes(SUPERVISORS, staged, pd.DataFrame(columns=_NO_UNPARSED), _failures([]))
    assert list(rows["prefecture_code"]) == ["620500", "620000"]
    assert list(rows["record_key"]) == ["620500/ts@example.org", "620000/prov@example.org"]


def test_a_row_whose_region_and_file_name_name_no_prefecture_takes_it_from_its_credit_code():
    staged = _staged([(SHA1, 2, 1, A, "99")]).assign(file_name="E1.csv")
    unparsed = _unparsed([(SHA2, 2, 2, B)]).assign(file_name="E1.csv")
    rows = decide_outcomes(E1, staged, unparsed, _failures([]))
    assert list(rows["uscc"]) == [A, B]
    assert list(rows["prefecture_code"]) == ["620100", "620100"]


def test_each_row_takes_the_first_rule_that_places_it_whatever_its_neighbours_and_index():
    """The five rules of prefecture_of_rows in one frame, rows of each rule between rows of others, on an
    index that is not 0..n-1: a later rule looks only at the rows no earlier rule placed, and each row
    gets its own answer."""
    from techreform.reference import prefecture_of_rows

    cases = [  # (region code, file name, USCC) -> prefecture
        ("620102", "E1_620500_2013-06.csv", "91621100MA00000000", "620100"),  # 1: a county of Lanzhou
        ("", "E1_620500_2013-06.csv", "91621100MA00000000", "620500"),  # 2: the file's prefecture
        ("620199", "E1.csv", "91621100MA00000000", "620100"),  # 3: a typo'd county of Lanzhou
        ("99", "E1.csv", "91621100MA00000000", "621100"),  # 4: the USCC's registration authority
        (None, None, None, ""),  # 5: nothing says
        ("620102", None, None, "620100"),  # 1 again, after rows the later rules placed
        ("x", "E1_629900_2013-06.csv", "91629900MA00000000", ""),  # no rule names a known prefecture
    ]
    index = pd.Index([70, 10, 60, 20, 50, 30, 40])
    region = pd.Series([c[0] for c in cases], index=index, dtype=object)
    files = pd.Series([c[1] for c in cases], index=index, dtype=object)
    usccs = pd.Series([c[2] for c in cases], index=index, dtype=object)
    placed = prefecture_of_rows(region, files, usccs)
    assert list(placed.index) == list(index)
    assert list(placed) == [c[3] for c in cases]
    assert placed.dtype == object
    # without file names or USCCs, their rules place nothing and the others still do
    assert list(prefecture_of_rows(region, None, None)) == ["620100", "", "620100", "", "", "620100", ""]


# --- load_form_period and _replace_period, called directly on a small warehouse (milliseconds a test):
# deliveries written to the landing zone and ingested, then loaded; a GX form's suite is replaced by the
# failures a test chooses (the suites are tested in test_validation_rules.py), S1's rules are the real ones.

S1_HEADERS = ("行政区划代码", "姓名", "邮箱", "职责")


def _s1(region, name, email, role=""):
    return dict(zip(S1_HEADERS, (region, name, email, role)))


def _land(settings, engine, form, period, name, rows, mtime):
    """Write a delivery (its modification time orders the deliveries) and ingest it."""
    path = write_delivery(settings.landing_dir, form, period, name, rows)
    os.utime(path, (mtime, mtime))
    ingest_form_period(engine, settings, form, Period.parse(period))


def _frame(engine, table, order):
    with engine.connect() as conn:
        return pd.read_sql(sa.text(f"select * from {table} order by {order}"), conn)  # noqa: S608 - test tables


@pytest.fixture
def warehouse(settings):
    return prepare_warehouse(settings)


@pytest.fixture
def suite(monkeypatch):
    """Replaces the GX suites: ``suite.failing[(uscc, delivery_seq)]`` lists the (rule, severity, field,
    explained) a staged row breaks; ``suite.calls`` keeps what validate_staged was called with."""
    from techreform import validation

    class Suite:
        failing: dict = {}
        calls: list = []

        @staticmethod
        def validate(conn, settings, form, period, staged, keep_check=True):
            Suite.calls.append((settings, form.code, period, len(staged), list(staged["source_row"])))
            rows = [
                {
                    "file_sha256": r.file_sha256,
                    "source_row": int(r.source_row),
                    "rule_id": rule,
                    "severity": severity,
                    "field": field,
                    "message": f"{rule}：{r.uscc}",
                    "explained": explained,
                }
                for r in staged.itertuples()
                for rule, severity, field, explained in Suite.failing.get((r.uscc, r.delivery_seq), [])
            ]
            failures = pd.DataFrame(rows, columns=outcomes_module.FAILURE_COLUMNS)
            # as validate_staged does: the rows as received of the failing rows, filled in the caller's frame
            failing = {(f["file_sha256"], f["source_row"]) for f in rows}
            positions = [i for i, r in enumerate(staged.itertuples()) if (r.file_sha256, int(r.source_row)) in failing]
            fill_received(settings, form, period, staged, positions)
            counts = failures.groupby(["rule_id", "severity"]).size().rename("failed").reset_index()
            counts["evaluated"] = len(staged)
            return validation.ValidationResult(failures, counts[outcomes_module.COUNT_COLUMNS])

    Suite.failing, Suite.calls = {}, []
    monkeypatch.setattr(validation, "validate_staged", Suite.validate)
    return Suite


def test_supervisors_are_loaded_into_their_snapshot_with_the_rows_as_received_of_the_quarantined_ones(
    settings, warehouse
):
    june = [
        _s1("620100", "张三", "ZS@example.org", "督办"),
        _s1("629900", "李四", "ls@example.org"),  # S1-H01: no prefecture of Gansu
        _s1("620000", "王五", "bad"),  # S1-H02
        _s1("620500", "赵六", "zl@example.org", "统计局"),
    ]
    _land(settings, warehouse, SUPERVISORS, "2013-06", "S1.csv", june, 1_000_000)
    _land(
        settings,
        warehouse,
        SUPERVISORS,
        "2013-06",
        "S1_更正.csv",
        [_s1("620100", "张三丰", "zs@example.org")],
        2_000_000,
    )
    summary = load_form_period(warehouse, settings, SUPERVISORS, Period(2013, 6))
    assert summary.as_dict() == {
        "form": "S1",
        "period": "2013-06",
        "received": 5,
        "accepted": 3,
        "quarantined": 2,
        "queried": 0,
        "explained": 0,
        "superseded": 1,
        "current_rows": 2,
    }
    facts = _frame(warehouse, "dim_supervisor", "region_code")
    assert facts[["snapshot_period", "region_code", "name", "email", "role"]].fillna("").values.tolist() == [
        ["2013-06", "620100", "张三丰", "zs@example.org", ""],
        ["2013-06", "620500", "赵六", "zl@example.org", "统计局"],
    ]
    outcomes = _frame(warehouse, "etl_row_outcome", "file_sha256, source_row")
    assert set(outcomes["form"]) == {"S1"} and set(outcomes["period"]) == {"2013-06"}
    by_key = {(r.record_key, r.superseded): r for r in outcomes.itertuples()}
    assert sorted(by_key) == [
        ("620000/bad", 0),
        ("620100/zs@example.org", 0),
        ("620100/zs@example.org", 1),
        ("620500/zl@example.org", 0),
        ("629900/ls@example.org", 0),
    ]
    assert [
        (r.outcome, r.review_status, r.rule_ids, r.prefecture_code) for r in (by_key[k] for k in sorted(by_key))
    ] == [
        ("quarantined", "quarantined", "S1-H02", "620000"),
        ("accepted", "ok", "", "620100"),
        ("accepted", "ok", "", "620100"),
        ("accepted", "ok", "", "620500"),
        ("quarantined", "quarantined", "S1-H01", ""),
    ]
    quarantine = _frame(warehouse, "quarantine", "source_row")
    assert quarantine[
        ["form", "period", "file_name", "source_row", "record_key", "rule_ids", "fields"]
    ].values.tolist() == [
        ["S1", "2013-06", "S1.csv", 3, "629900/ls@example.org", "S1-H01", "region_code"],
        ["S1", "2013-06", "S1.csv", 4, "620000/bad", "S1-H02", "email"],
    ]
    assert [json.loads(j) for j in quarantine["row_json"]] == [june[1], june[2]]  # read back from the raw zone
    assert list(quarantine["messages"]) == [
        "行政区划代码“629900”不是甘肃省的市州代码或620000",
        "邮箱“bad”不是有效的电子邮件地址",
    ]
    files = dict(_frame(warehouse, "etl_file_log", "file_name")[["file_name", "file_sha256"]].values.tolist())
    assert list(quarantine["superseded"]) == [0, 0] and set(quarantine["file_sha256"]) == {files["S1.csv"]}
    assert _frame(warehouse, "dq_rule_result", "rule_id").empty  # S1 has no GX suite: no rule counts


E1_FIRST = "E1_620100_2013-06.csv"


def _e1_june(settings, warehouse, suite):
    """Two E1 deliveries of June: every outcome, supersession by the second, an unparsed row."""
    a, b, c, d, e, f, g, h, i = (uscc_for("620102", n) for n in range(1, 10))
    first = [
        e1_row(a, "2013-06"),
        e1_row(b, "2013-06"),  # query, superseded
        e1_row(c, "2013-06"),  # hard, superseded
        e1_row(d, "2013-06", **{"主营业务收入": "12,3a4"}),  # does not parse: E1-H00
        e1_row(e, "2013-06", region="620502"),  # explained
        e1_row(g, "2013-06"),  # explained
    ]
    second = [
        e1_row(a, "2013-06"),
        e1_row(b, "2013-06", **{"从业人员平均人数": "149.6"}),
        e1_row(c, "2013-06"),
        e1_row(f, "2013-06"),  # query
        e1_row(h, "2013-06"),  # hard
        e1_row(i, "2013-06"),  # hard
    ]
    _land(settings, warehouse, E1, "2013-06", E1_FIRST, first, 1_000_000)
    _land(settings, warehouse, E1, "2013-06", "E1_620100_2013-06_更正.csv", second, 2_000_000)
    suite.failing = {
        (b, 1): [("E1-S01", "soft", "value_added", False)],
        (c, 1): [("E1-H03", "hard", "enterprise_name", False), ("E1-S01", "soft", "value_added", True)],
        (e, 1): [("E1-S01", "soft", "value_added", True)],
        (g, 1): [("E1-S02", "soft", "profit", True), ("E1-S01", "soft", "value_added", True)],
        (f, 2): [("E1-S01", "soft", "value_added", False), ("E1-S02", "soft", "profit", True)],
        (h, 2): [("E1-H01", "hard", "uscc", False)],
        (i, 2): [("E1-H05", "hard", "revenue,profit", False)],
    }
    return first, second


def test_a_monthly_form_is_loaded_with_its_outcomes_quarantine_facts_rule_counts_and_summary(
    settings, warehouse, suite
):
    first, second = _e1_june(settings, warehouse, suite)
    summary = load_form_period(warehouse, settings, E1, Period(2013, 6))
    assert summary.as_dict() == {
        "form": "E1",
        "period": "2013-06",
        "received": 12,
        "accepted": 8,
        "quarantined": 4,
        "queried": 1,
        "explained": 2,
        "superseded": 3,
        "current_rows": 6,
    }
    ((given_settings, code, period, n, source_rows),) = suite.calls
    assert (given_settings, code, period, n, source_rows) == (
        settings,
        "E1",
        Period(2013, 6),
        11,
        [2, 3, 4, 6, 7, 2, 3, 4, 5, 6, 7],
    )

    outcomes = _frame(warehouse, "etl_row_outcome", "superseded, record_key, source_row")
    got = [
        (r.record_key[-3:], r.source_row, r.outcome, r.review_status, r.rule_ids, r.superseded, r.prefecture_code)
        for r in outcomes.itertuples()
    ]
    key = {n: uscc_for("620102", n)[-3:] for n in range(1, 10)}
    assert got == sorted(
        [
            (key[1], 2, "accepted", "ok", "", 0, "620100"),
            (key[2], 3, "accepted", "ok", "", 0, "620100"),
            (key[3], 4, "accepted", "ok", "", 0, "620100"),
            (key[5], 6, "accepted", "explained", "E1-S01", 0, "620500"),
            (key[7], 7, "accepted", "explained", "E1-S01,E1-S02", 0, "620100"),
            (key[6], 5, "accepted", "query", "E1-S01,E1-S02", 0, "620100"),
            (key[8], 6, "quarantined", "quarantined", "E1-H01", 0, "620100"),
            (key[9], 7, "quarantined", "quarantined", "E1-H05", 0, "620100"),
            (key[4], 5, "quarantined", "quarantined", "E1-H00", 0, "620100"),
            (key[1], 2, "accepted", "ok", "", 1, "620100"),
            (key[2], 3, "accepted", "query", "E1-S01", 1, "620100"),
            (key[3], 4, "quarantined", "quarantined", "E1-H03,E1-S01", 1, "620100"),
        ],
        key=lambda t: (t[5], t[0], t[1]),
    )
    assert set(outcomes["form"]) == {"E1"} and set(outcomes["period"]) == {"2013-06"}

    quarantine = _frame(warehouse, "quarantine", "superseded, source_row")
    assert quarantine[["file_name", "source_row", "rule_ids", "fields", "superseded"]].values.tolist() == [
        ["E1_620100_2013-06.csv", 5, "E1-H00", "revenue", 0],
        ["E1_620100_2013-06_更正.csv", 6, "E1-H01", "uscc", 0],
        ["E1_620100_2013-06_更正.csv", 7, "E1-H05", "profit,revenue", 0],
        ["E1_620100_2013-06.csv", 4, "E1-H03,E1-S01", "enterprise_name", 1],
    ]
    assert [json.loads(j) for j in quarantine["row_json"]] == [first[3], second[4], second[5], first[2]]
    assert "不是数字" in quarantine["messages"][0] or "12,3a4" in quarantine["messages"][0]
    assert list(quarantine["messages"][1:]) == [
        f"E1-H01：{uscc_for('620102', 8)}",
        f"E1-H05：{uscc_for('620102', 9)}",
        f"E1-H03：{uscc_for('620102', 3)}",
    ]
    assert set(quarantine["record_key"]) == {uscc_for("620102", n) for n in (3, 4, 8, 9)}

    facts = _frame(warehouse, "fct_enterprise_monthly", "uscc")
    assert [
        (u[-3:], r, s, p, q, e)
        for u, r, s, p, q, e in facts[
            ["uscc", "review_status", "soft_rule_ids", "prefecture_code", "period", "employees"]
        ].values.tolist()
    ] == [
        (key[1], "ok", "", "620100", "2013-06", 150),
        (key[2], "ok", "", "620100", "2013-06", 150),  # 149.6 employees kept as a whole number
        (key[3], "ok", "", "620100", "2013-06", 150),
        (key[5], "explained", "E1-S01", "620500", "2013-06", 150),
        (key[6], "query", "E1-S01,E1-S02", "620100", "2013-06", 150),
        (key[7], "explained", "E1-S01,E1-S02", "620100", "2013-06", 150),
    ]
    files = dict(_frame(warehouse, "etl_file_log", "file_name")[["file_name", "file_sha256"]].values.tolist())
    assert facts["file_sha256"].map({v: k for k, v in files.items()}).tolist() == [
        "E1_620100_2013-06_更正.csv",
        "E1_620100_2013-06_更正.csv",
        "E1_620100_2013-06_更正.csv",
        E1_FIRST,
        "E1_620100_2013-06_更正.csv",
        E1_FIRST,
    ]
    assert facts["source_row"].tolist() == [2, 3, 4, 6, 5, 7] and facts["revenue"].tolist() == [1100.0] * 6

    counts = _frame(warehouse, "dq_rule_result", "rule_id")
    assert counts[["form", "period", "rule_id", "severity", "evaluated", "failed"]].values.tolist() == [
        ["E1", "2013-06", "E1-H01", "hard", 11, 1],
        ["E1", "2013-06", "E1-H03", "hard", 11, 1],
        ["E1", "2013-06", "E1-H05", "hard", 11, 1],
        ["E1", "2013-06", "E1-S01", "soft", 11, 5],
        ["E1", "2013-06", "E1-S02", "soft", 11, 2],
    ]


def test_an_integer_field_accepted_with_a_fraction_is_rounded_half_to_even_in_the_facts_on_both_engines(
    settings, warehouse, suite
):
    """The facts' integer columns hold whole numbers even when the rules let a fraction through (here the
    suite is replaced, so E1-H07 does not run): rounded as PostgreSQL's cast rounds, half to even, on
    SQLite too (ops/load/whole_number_facts.sql); a whole number and a missing value stay as they are."""
    given = {1: "150.5", 2: "151.5", 3: "0.5", 4: "2.4999", 5: "7", 6: ""}
    keys = {n: uscc_for("620102", n) for n in given}
    rows = [e1_row(keys[n], "2013-06", **{"从业人员平均人数": v}) for n, v in given.items()]
    _land(settings, warehouse, E1, "2013-06", E1_FIRST, rows, 1_000_000)
    suite.failing = {}
    load_form_period(warehouse, settings, E1, Period(2013, 6))

    facts = _frame(warehouse, "fct_enterprise_monthly", "uscc")
    employees = dict(zip(facts["uscc"], facts["employees"].astype(object)))
    assert {n: employees[keys[n]] for n in given if n != 6} == {1: 150, 2: 152, 3: 0, 4: 2, 5: 7}
    assert pd.isna(employees[keys[6]])
    with warehouse.connect() as conn:  # stored as integers, not as floats that print whole
        kinds = conn.execute(sa.text("select employees from fct_enterprise_monthly where employees is not null"))
        assert {type(value) for (value,) in kinds} == {int}


def test_a_whole_number_past_what_a_double_holds_with_a_fraction_is_left_as_given(settings, warehouse, suite):
    """Only a value that can have a fraction (below 2^52) is rounded: 1e20 employees are no fraction.
    SQLite keeps the value as given (the rounding's casts would turn it into 2^63); PostgreSQL's bigint
    column refuses it, and the load's transaction fails whole."""
    key = uscc_for("620102", 1)
    rows = [e1_row(key, "2013-06", **{"从业人员平均人数": "100000000000000000000"})]
    _land(settings, warehouse, E1, "2013-06", E1_FIRST, rows, 1_000_000)
    suite.failing = {}
    if warehouse.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="out of range"):
            load_form_period(warehouse, settings, E1, Period(2013, 6))
        assert _frame(warehouse, "fct_enterprise_monthly", "uscc").empty
        return
    load_form_period(warehouse, settings, E1, Period(2013, 6))
    assert _frame(warehouse, "fct_enterprise_monthly", "uscc")["employees"].tolist() == [1e20]


def test_loading_a_period_replaces_that_period_of_that_form_only(settings, warehouse, suite):
    may = [e1_row(uscc_for("620102", 20), "2013-05"), e1_row(uscc_for("620102", 21), "2013-05")]
    _land(settings, warehouse, E1, "2013-05", "E1_620100_2013-05.csv", may, 500_000)
    suite.failing = {(uscc_for("620102", 21), 1): [("E1-H03", "hard", "enterprise_name", False)]}
    load_form_period(warehouse, settings, E1, Period(2013, 5))
    _land(settings, warehouse, SUPERVISORS, "2013-06", "S1.csv", [_s1("620000", "王五", "bad")], 600_000)
    load_form_period(warehouse, settings, SUPERVISORS, Period(2013, 6))
    _e1_june(settings, warehouse, suite)
    load_form_period(warehouse, settings, E1, Period(2013, 6))
    before = snapshot(warehouse)
    again = load_form_period(warehouse, settings, E1, Period(2013, 6))
    assert changes(before, snapshot(warehouse)) == {} and again.received == 12  # a re-run changes nothing

    outcomes = _frame(warehouse, "etl_row_outcome", "form, period")
    assert outcomes.groupby(["form", "period"]).size().to_dict() == {
        ("E1", "2013-05"): 2,
        ("E1", "2013-06"): 12,
        ("S1", "2013-06"): 1,
    }
    quarantine = _frame(warehouse, "quarantine", "form, period")
    assert quarantine.groupby(["form", "period"]).size().to_dict() == {
        ("E1", "2013-05"): 1,
        ("E1", "2013-06"): 4,
        ("S1", "2013-06"): 1,
    }
    facts = _frame(warehouse, "fct_enterprise_monthly", "period, uscc")
    assert facts.groupby("period").size().to_dict() == {"2013-05": 1, "2013-06": 6}
    counts = _frame(warehouse, "dq_rule_result", "period, rule_id")
    assert counts.groupby("period").size().to_dict() == {"2013-05": 1, "2013-06": 5}


def test_a_period_reloaded_after_its_rows_change_keeps_only_the_new_ones(settings, warehouse, suite):
    """A re-load deletes the period's earlier outcomes, quarantine and facts before writing."""
    _e1_june(settings, warehouse, suite)
    load_form_period(warehouse, settings, E1, Period(2013, 6))
    suite.failing = {}  # the same rows, now all accepted (e.g. the rules changed)
    summary = load_form_period(warehouse, settings, E1, Period(2013, 6))
    assert (summary.accepted, summary.quarantined, summary.current_rows) == (11, 1, 8)
    assert len(_frame(warehouse, "etl_row_outcome", "source_row")) == 12
    assert _frame(warehouse, "quarantine", "source_row")["rule_ids"].tolist() == ["E1-H00"]
    assert len(_frame(warehouse, "fct_enterprise_monthly", "uscc")) == 8
    assert _frame(warehouse, "dq_rule_result", "rule_id").empty


def test_a_quarantined_row_whose_raw_file_is_gone_is_marked_and_the_log_names_its_delivery(settings, warehouse, caplog):
    _land(settings, warehouse, SUPERVISORS, "2013-06", "S1.csv", [_s1("629900", "李四", "ls@example.org")], 1_000_000)
    raw = _frame(warehouse, "etl_file_log", "file_name")["raw_path"][0]
    Path(raw.removeprefix("file://")).unlink()
    with caplog.at_level("WARNING", logger="techreform.ingest"):
        summary = load_form_period(warehouse, settings, SUPERVISORS, Period(2013, 6))
    assert summary.quarantined == 1
    (row_json,) = _frame(warehouse, "quarantine", "source_row")["row_json"]
    assert row_json == gone_from_raw_zone(raw) and "no longer in the raw zone" in row_json
    assert "supervisors/2013-06/S1.csv: the raw file" in caplog.text


def test_reloading_supervisors_replaces_their_period_on_postgresql_too(pg_url, tmp_path):
    """Not marked ``postgres``: the mutation group runs it, so a table name that only SQLite would match
    case-insensitively (SQLAlchemy quotes a name in capitals) fails here."""
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path / "data"), "TECHREFORM_WAREHOUSE_URL": pg_url})
    engine = prepare_warehouse(settings)
    rows = [_s1("620100", "张三", "zs@example.org"), _s1("629900", "李四", "ls@example.org")]
    _land(settings, engine, SUPERVISORS, "2013-06", "S1.csv", rows, 1_000_000)
    load_form_period(engine, settings, SUPERVISORS, Period(2013, 6))
    before = snapshot(engine)
    load_form_period(engine, settings, SUPERVISORS, Period(2013, 6))
    assert changes(before, snapshot(engine)) == {}
    assert len(before["etl_row_outcome"]) == 2 and len(before["quarantine"]) == 1 and len(before["dim_supervisor"]) == 1
