"""Cell normalisation as real submissions write cells (reporting-forms.md, Delivery)."""

import datetime as dt
import unicodedata

import pytest

from techreform.cells import CellError, clean_text, parse_boolean, parse_cell, parse_decimal, parse_month
from techreform.forms import ENTERPRISE_MONTHLY


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,234.5", 1234.5),
        ("12,345,678", 12345678.0),
        ("１２３．５", 123.5),
        ("１，２３４", 1234.0),
        ("  42  ", 42.0),
        ("-17.25", -17.25),
        (3.5, 3.5),
        (7, 7.0),
        ("-", None),
        ("—", None),
        ("", None),
        (None, None),
    ],
)
def test_decimal_cells_are_read_whatever_their_spelling(cell, expected):
    assert parse_decimal(cell) == expected


@pytest.mark.parametrize("cell", ["12,3a4", "1,23", "十二", "1.2.3", "--5"])
def test_a_cell_that_is_not_a_number_is_refused_with_a_chinese_reason(cell):
    with pytest.raises(CellError) as excinfo:
        parse_decimal(cell)
    assert "不是数字" in excinfo.value.reason


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2013-06", "2013-06"),
        ("2013-6", "2013-06"),
        ("2013年6月", "2013-06"),
        ("2013年06月", "2013-06"),
        ("201306", "2013-06"),
        (201306, "2013-06"),
        ("２０１３年６月", "2013-06"),
        (dt.datetime(2013, 6, 1), "2013-06"),
        (dt.date(2013, 12, 31), "2013-12"),
        (41426, "2013-06"),  # an Excel serial date that lost its format
        ("-", None),
    ],
)
def test_months_are_read_in_every_delivered_format(cell, expected):
    assert parse_month(cell) == expected


@pytest.mark.parametrize("cell", ["2013年13月", "2013-00", "June 2013", "13/2013"])
def test_an_impossible_month_is_refused(cell):
    with pytest.raises(CellError):
        parse_month(cell)


@pytest.mark.parametrize(("cell", "expected"), [("是", 1), ("否", 0), ("Y", 1), ("n", 0), ("1", 1), (0, 0), (True, 1)])
def test_booleans_are_read_as_one_or_zero(cell, expected):
    assert parse_boolean(cell) == expected


def test_an_unknown_boolean_is_refused():
    with pytest.raises(CellError):
        parse_boolean("也许")


def test_codes_from_spreadsheets_lose_their_float_tail_and_full_width_form():
    assert clean_text(620102.0) == "620102"
    assert clean_text("６２０１０２") == "620102"
    assert clean_text("\u3000兰州化工有限公司 ") == "兰州化工有限公司"


def test_employees_parse_as_numbers_so_that_integer_ness_stays_a_rule():
    assert parse_cell(ENTERPRISE_MONTHLY.field("employees"), "12.5") == 12.5


@pytest.mark.parametrize(
    "cell", ["1e309", "-1e309", "inf", "-Infinity", "nan", "NaN", "１e３０９", float("inf"), 10**400, "1e-400"]
)
def test_infinity_nan_and_overflow_are_parse_errors_naming_the_value(cell):
    with pytest.raises(CellError) as excinfo:
        parse_decimal(cell)
    assert unicodedata.normalize("NFKC", str(cell))[:10] in excinfo.value.reason


@pytest.mark.parametrize("cell", ["1234567890123.456", "12,345,678,901,234.56", 1234567890123456])
def test_more_than_fifteen_significant_digits_is_refused_not_rounded(cell):
    with pytest.raises(CellError) as excinfo:
        parse_decimal(cell)
    assert "15" in excinfo.value.reason


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("123456789012.34", 123456789012.34),
        ("100.000000000000000", 100.0),
        ("1E+18", 1e18),
        (1234.5600000000002, 1234.56),
    ],
)
def test_fifteen_significant_digits_are_kept_exactly(cell, expected):
    assert parse_decimal(cell) == expected


@pytest.mark.parametrize("cell", ["-0", "-0.00", "－０", -0.0])
def test_negative_zero_is_stored_as_zero(cell):
    value = parse_decimal(cell)
    assert value == 0 and str(value) == "0.0"
