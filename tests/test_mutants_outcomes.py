"""From Great Expectations' results to row failures and rule counts, pinned directly (issue 16, mutation
testing of ``techreform.validation.outcomes``): the messages people read in receipts (values without float
noise, 空 for null, the offending columns of a multicolumn rule), one failure per row and rule however
many expectations the rule has, and the received values of a failure."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from great_expectations.core.expectation_validation_result import ExpectationValidationResult
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.validation.outcomes import (
    COUNT_COLUMNS,
    _label,
    _message,
    _offending,
    _placeholders,
    failures_from_results,
    received_values,
    show,
)

REVENUE = E1.field("revenue").label
PROFIT = E1.field("profit").label


def _result(rule_id, severity, positions, *, element_count=None, missing=None, message="", fields=(), **extra):
    meta = {"rule_id": rule_id, "severity": severity, "message_zh": message, "fields": list(fields)}
    kwargs = {"column": "revenue"}
    if "row_fields" in extra:
        meta["row_fields"] = extra["row_fields"]
        kwargs = {"column_list": extra["column_list"]}
    result = {"unexpected_index_list": positions}
    if element_count is not None:
        result["element_count"] = element_count
    if missing is not None:
        result["missing_count"] = missing
    config = ExpectationConfiguration(type="expect_column_values_to_not_be_null", kwargs=kwargs, meta=meta)
    return ExpectationValidationResult(success=not positions, expectation_config=config, result=result)


FRAME = pd.DataFrame(
    {
        "uscc": ["91620100MA74ABCDEU", "91620100MA74ABCDE0", None],
        "revenue": [0.1 + 0.2, None, -3.0],
        "profit": [-1.5, 2.0, np.nan],
        "employees": [10, None, 3],
    }
)


def test_values_are_shown_without_float_noise_and_null_as_kong():
    assert show(None) == "空"
    assert show(pd.NA) == "空"
    assert show(float("nan")) == "空"
    assert show(np.float64("nan")) == "空"
    assert show(0.1 + 0.2) == "0.3"
    assert show(np.float32(1.5)) == "1.5"
    assert show(1234567.125) == "1234567.125"
    assert show(np.int64(12)) == "12"
    assert show(True) == "1"
    assert show(12) == "12"
    assert show("甲") == "甲"
    assert show(1e20) == "1e+20"


def test_a_message_shows_the_rows_values_and_an_unknown_placeholder_as_a_question_mark():
    row = {"revenue": 0.1 + 0.2, "profit": None, "uscc": "91620100MA74ABCDE0"}
    assert _message("收入 {revenue}，利润 {profit}，{nothing}", row) == "收入 0.3，利润 空，?"
    assert _message("{_uscc_problem}", row) == "统一社会信用代码校验位错误（应为U）"
    assert _message("[{_uscc_problem}]", {"uscc": "91620100MA74ABCDEU"}) == "[]"
    assert _message("{_row_fields}", {"_row_fields": "a、b"}) == "a、b"


def test_placeholders_are_the_named_fields_of_a_template():
    assert _placeholders("{a} 与 {b}，{a}") == ["a", "b", "a"]
    assert _placeholders("无") == []


def test_a_label_is_the_forms_or_the_name_itself():
    assert _label(E1, "revenue") == REVENUE
    assert _label(E1, "no_such_field") == "no_such_field"
    assert _label(None, "revenue") == "revenue"


def test_the_offending_columns_are_the_null_ones_or_the_negative_numbers():
    row = {"a": None, "b": 0, "c": -1, "d": "-1", "e": float("nan"), "f": np.int64(-2)}
    assert _offending("missing", list(row), row) == ["a", "e"]
    assert _offending("negative", list(row), row) == ["c", "f"]


def test_one_failure_per_row_and_rule_with_its_fields_and_message_and_counts_per_rule():
    results = [
        _result("E1-S01", "soft", [0], element_count=3, missing=1, message="收入 {revenue}", fields=["revenue"]),
        _result("E1-H02", "hard", [2, 0], element_count=3, message="利润 {profit}", fields=["profit", ""]),
        _result("E1-H03", "hard", [], element_count=3),
    ]
    grouped, counts = failures_from_results(FRAME, results, E1)
    assert grouped.to_dict("records") == [
        {
            "position": 0,
            "rule_id": "E1-H02",
            "severity": "hard",
            "field": "profit",
            "message": "E1-H02（强制性审核）：利润 -1.5",
        },
        {
            "position": 0,
            "rule_id": "E1-S01",
            "severity": "soft",
            "field": "revenue",
            "message": "E1-S01（核实性审核）：收入 0.3",
        },
        {
            "position": 2,
            "rule_id": "E1-H02",
            "severity": "hard",
            "field": "profit",
            "message": "E1-H02（强制性审核）：利润 空",
        },
    ]
    assert list(grouped.columns) == ["position", "rule_id", "severity", "field", "message"]
    assert str(grouped["position"].dtype) == "int64"
    assert counts.to_dict("records") == [
        {"rule_id": "E1-S01", "severity": "soft", "evaluated": 2, "failed": 1},
        {"rule_id": "E1-H02", "severity": "hard", "evaluated": 3, "failed": 2},
        {"rule_id": "E1-H03", "severity": "hard", "evaluated": 3, "failed": 0},
    ]
    assert list(counts.columns) == COUNT_COLUMNS


def test_a_rule_of_several_expectations_fails_a_row_once_with_every_field_and_distinct_message():
    results = [
        _result("E1-H05", "hard", [1], element_count=3, missing=2, message="{uscc} 缺 收入", fields=["revenue"]),
        _result(
            "E1-H05", "hard", [1, 2], element_count=3, missing=0, message="{uscc} 缺 利润", fields=["profit", "revenue"]
        ),
        _result("E1-H05", "hard", [1], element_count=2, message="{uscc} 缺 收入", fields=["revenue"]),
    ]
    grouped, counts = failures_from_results(FRAME, results, E1)
    assert grouped.to_dict("records") == [
        {
            "position": 1,
            "rule_id": "E1-H05",
            "severity": "hard",
            "field": "revenue,profit",
            "message": "E1-H05（强制性审核）：91620100MA74ABCDE0 缺 收入；91620100MA74ABCDE0 缺 利润",
        },
        {
            "position": 2,
            "rule_id": "E1-H05",
            "severity": "hard",
            "field": "profit,revenue",
            "message": "E1-H05（强制性审核）：空 缺 利润",
        },
    ]
    # evaluated: the most of any of its expectations; failed: the rows, once each
    assert counts.to_dict("records") == [{"rule_id": "E1-H05", "severity": "hard", "evaluated": 3, "failed": 2}]


def test_a_missing_fields_rule_names_only_the_empty_columns_by_label():
    results = [
        _result(
            "E1-H01",
            "hard",
            [1, 2],
            element_count=3,
            message="必填项 {_row_fields} 为空",
            row_fields="missing",
            column_list=["revenue", "profit", "employees"],
        )
    ]
    grouped, _ = failures_from_results(FRAME, results, E1)
    employees = E1.field("employees").label
    assert grouped["field"].tolist() == ["revenue,employees", "profit"]
    assert grouped["message"].tolist() == [
        f"E1-H01（强制性审核）：必填项 {REVENUE}、{employees} 为空",
        f"E1-H01（强制性审核）：必填项 {PROFIT} 为空",
    ]


def test_a_negative_values_rule_names_the_negative_columns_with_their_values():
    results = [
        _result(
            "E1-H04",
            "hard",
            [0, 2, 1],
            element_count=3,
            message="{_row_fields}，不应为负",
            row_fields="negative",
            column_list=["revenue", "profit"],
        )
    ]
    grouped, _ = failures_from_results(FRAME, results, E1)
    assert grouped["field"].tolist() == ["profit", "revenue,profit", "revenue"]
    assert grouped["message"].tolist() == [
        f"E1-H04（强制性审核）：{PROFIT} 为 -1.5，不应为负",
        f"E1-H04（强制性审核）：{REVENUE} 为 空、{PROFIT} 为 2，不应为负",  # none negative: every column listed
        f"E1-H04（强制性审核）：{REVENUE} 为 -3，不应为负",
    ]


def test_a_template_without_placeholders_of_the_frames_columns_and_results_without_counts():
    frame = FRAME.drop(columns=["uscc"])
    results = [_result("E1-H09", "hard", [1], message="固定文字 {absent}", fields=["x"])]
    grouped, counts = failures_from_results(frame, results)
    assert grouped["message"].tolist() == ["E1-H09（强制性审核）：固定文字 ?"]
    assert counts.to_dict("records") == [{"rule_id": "E1-H09", "severity": "hard", "evaluated": 0, "failed": 1}]


def test_no_results_give_empty_frames_with_their_columns():
    grouped, counts = failures_from_results(FRAME, [])
    assert grouped.empty and list(grouped.columns) == ["position", "rule_id", "severity", "field", "message"]
    assert counts.empty and list(counts.columns) == COUNT_COLUMNS


def _typed(values):
    return lambda name: values[name]


def test_received_values_are_the_cells_as_delivered_by_chinese_or_canonical_header():
    raw = json.dumps({"主营业务收入": "1,234.5", "profit": "-1", "填表人": "x"}, ensure_ascii=False)
    typed = _typed({"employees": np.int64(7), "rd_expense": np.float64(1.5), "period": pd.Timestamp(2013, 6, 1)})
    out = received_values(E1, raw, "revenue,profit,employees,rd_expense,period,not_a_field,", typed)
    assert json.loads(out) == {
        REVENUE: "1,234.5",
        PROFIT: "-1",
        E1.field("employees").label: 7,
        E1.field("rd_expense").label: 1.5,
        E1.field("period").label: "2013-06-01 00:00:00",
    }
    assert "\\u" not in out


@pytest.mark.parametrize("raw", [None, "not json", "{broken"])
def test_received_values_without_a_readable_raw_row_take_the_staged_values(raw):
    typed = _typed({"revenue": None, "profit": math.nan, "employees": 3, "gross_output": 2.5, "uscc": "9162"})
    out = received_values(E1, raw, "revenue,profit,employees,gross_output,uscc", typed)
    assert json.loads(out) == {
        REVENUE: None,
        PROFIT: None,
        E1.field("employees").label: 3,
        E1.field("gross_output").label: 2.5,
        E1.field("uscc").label: "9162",
    }
    assert received_values(E1, raw, "", typed) == "{}"


def _bare_result(rule_id, positions, meta_extra=None):
    """A result whose meta has only the rule and severity (no message, no fields)."""
    meta = {"rule_id": rule_id, "severity": "hard", **(meta_extra or {})}
    config = ExpectationConfiguration(
        type="expect_column_values_to_not_be_null", kwargs={"column": "revenue"}, meta=meta
    )
    return ExpectationValidationResult(
        success=not positions,
        expectation_config=config,
        result={"element_count": 3, "unexpected_index_list": positions},
    )


def test_a_rule_without_failures_does_not_stop_the_rules_after_it():
    results = [_bare_result("E1-H03", []), _result("E1-H02", "hard", [1], element_count=3, message="m")]
    grouped, counts = failures_from_results(FRAME, results, E1)
    assert grouped["rule_id"].tolist() == ["E1-H02"]
    assert counts["failed"].tolist() == [0, 1]


def test_a_rule_without_message_or_fields_still_fails_its_rows():
    grouped, _ = failures_from_results(FRAME, [_bare_result("E1-H09", [0, 2])], E1)
    assert grouped["message"].tolist() == ["E1-H09（强制性审核）：", "E1-H09（强制性审核）："]
    assert grouped["field"].tolist() == ["", ""]


def test_a_credit_code_problem_is_worked_out_from_the_rows_code_even_when_the_template_names_no_column():
    results = [_result("E1-H06", "hard", [1, 2], element_count=3, message="{_uscc_problem}", fields=["uscc"])]
    grouped, _ = failures_from_results(FRAME, results, E1)
    assert grouped["message"].tolist() == [
        "E1-H06（强制性审核）：统一社会信用代码校验位错误（应为U）",
        "E1-H06（强制性审核）：统一社会信用代码为空",
    ]


def test_received_values_skip_an_unknown_field_and_go_on():
    raw = json.dumps({"主营业务收入": "1", "利润总额": "2"}, ensure_ascii=False)
    out = received_values(E1, raw, "not_a_field,revenue,profit", _typed({}))
    assert json.loads(out) == {REVENUE: "1", PROFIT: "2"}
