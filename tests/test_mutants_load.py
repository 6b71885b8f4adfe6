"""Load behaviour the mutation probe found unfed (docs/testing.md): rows with an empty key are never
superseded, quarantined rows have review status ``quarantined``, and the run summary counts only the
current rows after a corrected re-delivery."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from landing_files import e1_row, uscc_for, write_delivery
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.forms import SUPERVISORS
from techreform.load import decide_outcomes
from techreform.periods import Period
from techreform.pipeline import prepare_warehouse, process_form

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
