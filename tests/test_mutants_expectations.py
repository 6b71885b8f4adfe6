"""The conditions of the custom Great Expectations expectations, pinned directly on small Series (issue
16, mutation testing of ``techreform.validation.expectations``): what each rule accepts and refuses,
at the bounds of a division's validity, for codes given as numbers, for nulls and text that is not a
number. ``tests/test_validation_rules.py`` runs them through the GX suites (seconds per test)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from techreform.codes import is_valid_uscc
from techreform.validation.expectations import (
    _bound,
    division_valid_mask,
    industry_class_mask,
    non_negative_mask,
    not_blank_mask,
    present_mask,
    uscc_valid_mask,
    whole_number_mask,
)
from test_validation_uscc import REAL_CODES

# [code, valid_from, valid_to]: valid_from inclusive, valid_to exclusive, empty or null = unbounded
DIVISIONS = [
    ["620102", "", "2014-01"],  # abolished in January 2014
    ["620103", "2013-06", None],  # created in June 2013
    ["620104", float("nan"), ""],  # always valid
    [620105, None, None],  # a code given as a number
    ["620106", "2012-01", "2013-01"],  # valid during 2012 only
]


def test_a_valid_code_is_found_wherever_it_stands_among_invalid_ones_and_the_index_is_not_used():
    values = pd.Series(["x", REAL_CODES[0], None, REAL_CODES[2].lower(), REAL_CODES[2]], index=[9, 3, 7, 1, 0])
    assert uscc_valid_mask(values).tolist() == [False, True, False, False, True]


def test_no_code_of_the_right_shape_gives_all_false_and_an_empty_column_nothing():
    assert uscc_valid_mask(pd.Series(["x", None, "9" * 17])).tolist() == [False, False, False]
    assert uscc_valid_mask(pd.Series([], dtype=object)).tolist() == []


def test_a_wrong_check_character_of_the_right_shape_is_invalid():
    code = REAL_CODES[1]  # 911100001000054748: its check character is 8
    others = [code[:-1] + c for c in "0123456789ABY"]
    assert uscc_valid_mask(pd.Series([code, *others])).tolist() == [True] + [c == code for c in others]


def test_a_check_character_0_is_the_check_of_a_weighted_sum_that_is_a_multiple_of_31():
    code = "91620100MA00000160"  # make_uscc("91620100MA0000016"): 31 − (sum mod 31) = 31 → 0
    assert is_valid_uscc(code)
    assert uscc_valid_mask(pd.Series([code, code[:-1] + "Y"])).tolist() == [True, False]


def test_every_mask_is_an_array_of_booleans():
    masks = [
        uscc_valid_mask(pd.Series([REAL_CODES[0], "x"])),
        division_valid_mask(pd.Series(["620104", "x"]), pd.Series(["2013-06"] * 2), DIVISIONS),
        industry_class_mask(pd.Series(["3311", "x"]), ["33"]),
    ]
    assert [(type(m), m.dtype, m.tolist()) for m in masks] == [(np.ndarray, np.dtype(bool), [True, False])] * 3


def test_a_bound_is_text_and_anything_else_is_unbounded():
    assert _bound("2013-06") == "2013-06"
    assert _bound("") == ""
    assert _bound(None) == ""
    assert _bound(float("nan")) == ""


@pytest.mark.parametrize(
    ("code", "period", "valid"),
    [
        ("620102", "1990-01", True),  # open start
        ("620102", "2013-12", True),
        ("620102", "2014-01", False),  # valid_to is exclusive
        ("620102", "2014-02", False),
        ("620103", "2013-05", False),
        ("620103", "2013-06", True),  # valid_from is inclusive
        ("620103", "2030-01", True),  # open end (null)
        ("620104", "1990-01", True),  # NaN start, empty end
        ("620104", "2030-12", True),
        ("620105", "2013-06", True),  # the division list's code is a number
        ("620106", "2011-12", False),
        ("620106", "2012-01", True),
        ("620106", "2012-12", True),
        ("620106", "2013-01", False),
        ("620199", "2013-06", False),  # not in the list
        ("62010", "2013-06", False),
    ],
)
def test_a_division_is_valid_from_its_start_inclusive_to_its_end_exclusive(code, period, valid):
    assert division_valid_mask(pd.Series([code]), pd.Series([period]), DIVISIONS).tolist() == [valid]


def test_divisions_are_judged_row_by_row_with_each_rows_period():
    codes = pd.Series(["620102", "620103", "620102", "620103", "620106"], index=[4, 3, 2, 1, 0])
    periods = pd.Series(["2013-12", "2013-12", "2014-06", "2013-01", "2012-06"], index=[4, 3, 2, 1, 0])
    assert division_valid_mask(codes, periods, DIVISIONS).tolist() == [True, True, False, False, True]


def test_the_last_row_of_a_code_counts_and_a_value_that_is_not_text_is_never_valid():
    divisions = [["620102", "", "2014-01"], ["620102", "2015-01", ""]]  # the code again, re-created
    codes = pd.Series(["620102", "620102"], dtype="str")
    assert division_valid_mask(codes, pd.Series(["2013-06", "2015-06"]), divisions).tolist() == [False, True]
    mixed = pd.Series(["620102", 620102, None, "620102"], dtype=object)  # a number is no code
    periods = pd.Series(["2015-06", "2015-06", "2015-06", 201506], dtype=object)  # nor a period
    assert division_valid_mask(mixed, periods, divisions).tolist() == [True, False, False, False]
    assert division_valid_mask(codes, pd.Series(["2015-06"] * 2), []).tolist() == [False, False]  # no list


def _valid_by_definition(code, period, divisions) -> bool:
    """The docstring's rule for one row, in plain Python: what division_valid_mask must give."""
    bounds = {str(c): (_bound(f), _bound(t)) for c, f, t in divisions}
    if not isinstance(code, str) or not isinstance(period, str) or code not in bounds:
        return False
    start, end = bounds[code]
    return start <= period and (end == "" or period < end)


@pytest.mark.parametrize("dtype", ["str", object])
def test_every_row_is_judged_as_the_definition_says(dtype):
    rng = np.random.default_rng(7)
    choices = ["620102", "620103", "620104", "620105", "620106", "620199", "", None]
    codes = pd.Series([choices[i] for i in rng.integers(0, len(choices), 2000)], dtype=dtype)
    months = [f"{y}-{m:02d}" for y in (2011, 2012, 2013, 2014) for m in (1, 6, 12)] + ["", None]
    periods = pd.Series([months[i] for i in rng.integers(0, len(months), 2000)], dtype=object)
    expected = [_valid_by_definition(c, p, DIVISIONS) for c, p in zip(codes.astype(object), periods)]
    got = division_valid_mask(codes, periods, DIVISIONS)
    assert got.tolist() == expected and 200 < sum(expected) < 1800  # both answers, many times each


def test_a_null_period_is_never_valid():
    codes = pd.Series(["620103", "620106", "620102", "620104"])
    periods = pd.Series([None, np.nan, None, None], dtype=object)
    assert division_valid_mask(codes, periods, DIVISIONS).tolist() == [False] * 4
    text_periods = pd.Series(["2013-06", None], dtype="string")  # pandas' own text type and its null
    assert division_valid_mask(pd.Series(["620104"] * 2), text_periods, DIVISIONS).tolist() == [True, False]


def test_codes_and_periods_are_paired_by_position_not_by_index():
    codes = pd.Series(["620102", "620103"], index=[0, 1])
    periods = pd.Series(["2013-05", "2014-06"], index=[1, 0])
    assert division_valid_mask(codes, periods, DIVISIONS).tolist() == [True, True]


def test_a_null_code_or_no_division_list_is_never_valid():
    assert division_valid_mask(pd.Series([None, "620104"]), pd.Series(["2013-06"] * 2), DIVISIONS).tolist() == [
        False,
        True,
    ]
    assert division_valid_mask(pd.Series(["620104"]), pd.Series(["2013-06"]), None).tolist() == [False]
    assert division_valid_mask(pd.Series(["620104"]), pd.Series(["2013-06"]), []).tolist() == [False]


def test_a_numeric_code_column_is_not_read_as_text():
    # a code column that arrived as numbers is not a code (the staged column is text)
    assert division_valid_mask(pd.Series([620104]), pd.Series(["2013-06"]), DIVISIONS).tolist() == [False]


def test_an_industry_class_is_four_digits_of_a_listed_division():
    values = pd.Series(["3311", "331", "33111", "0611", "33a1", None, 3311, "4411", " 3311", "0711"])
    assert industry_class_mask(values, [33, "06", "44"]).tolist() == [
        True,
        False,
        False,
        True,
        False,
        False,
        True,
        True,
        False,
        False,
    ]
    assert industry_class_mask(pd.Series(["3311", None]), None).tolist() == [False, False]


def test_a_whole_number_has_no_fraction_and_text_is_read_as_a_number():
    values = pd.Series([1.0, 1.5, "2", "x", None, -3.0, np.nan, "2.5", 0, 1e12])
    assert whole_number_mask(values).tolist() == [True, False, True, False, False, True, False, False, True, True]


def test_blank_is_empty_or_only_white_space():
    values = pd.Series(["a", " ", "", "\u3000", " b ", "\t\n", 0])
    assert not_blank_mask(values).tolist() == [True, False, False, False, True, False, True]


def test_a_row_is_non_negative_when_no_column_holds_a_negative_number():
    frame = pd.DataFrame(
        {"a": [1, -1, None, "x", "-2", 0], "b": [0, 2, None, None, 3, -0.001]}, index=[10, 11, 12, 13, 14, 15]
    )
    out = non_negative_mask(frame)
    assert out.tolist() == [True, False, True, True, False, False]
    assert out.index.tolist() == [10, 11, 12, 13, 14, 15]


def test_a_row_is_present_when_no_column_is_null():
    frame = pd.DataFrame({"a": [1, None, "x", np.nan], "b": ["", 2, None, 1]})
    assert present_mask(frame).tolist() == [True, False, False, False]
