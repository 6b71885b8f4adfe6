"""How numbers are read and shown everywhere (``techreform.numbers``): e-mails, receipts, the report,
the monitoring view and the charts all take them from here."""

import math
from decimal import Decimal

import pytest

from techreform import charts
from techreform.numbers import NO_NUMBER, finite_number, format_number
from techreform.supervision.emails import display
from techreform.validation import receipts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3.0),
        ("3.5", 3.5),
        (" -12 ", -12.0),
        (Decimal("2611.4164"), 2611.4164),
        (True, 1.0),
        (None, None),
        ("x", None),
        ("", None),
        (float("nan"), None),
        (float("inf"), None),
        ("-inf", None),
        ("1e309", None),
        ([1], None),
    ],
)
def test_finite_number_reads_numbers_and_nothing_else(value, expected):
    assert finite_number(value) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "keep_zeros", "expected"),
    [
        (2611.4164, 2, False, "2,611.42"),
        (1200.0, 2, False, "1,200"),
        (1200, 2, False, "1,200"),
        ("1234567.5", 2, False, "1,234,567.5"),
        (0.125, 2, False, "0.12"),  # round half to even, as Python's format does
        (12345.678, 0, False, "12,346"),
        (12.3, 2, True, "12.30"),
        (150.0, 1, True, "150.0"),
        (-12.5, 2, False, "-12.5"),
        (-0.001, 2, False, "0"),
        (-0.001, 1, True, "0.0"),
        (0, 2, False, "0"),
        (None, 2, False, NO_NUMBER),
        (float("nan"), 2, False, NO_NUMBER),
        ("abc", 2, False, NO_NUMBER),
    ],
)
def test_format_number(value, decimals, keep_zeros, expected):
    assert format_number(value, decimals, keep_zeros=keep_zeros) == expected


def test_the_mark_for_no_number_is_chosen_by_the_reader():
    assert format_number(None, missing="") == ""
    assert format_number(math.inf, missing="无") == "无"


def test_every_reader_shows_a_number_the_same_way():
    value = 2611.4164
    assert display(value) == receipts.format_received(str(value)) == format_number(value) == "2,611.42"
    assert display(1200.0) == receipts.format_received("1200") == format_number(1200) == "1,200"
    # the e-mails leave a missing cell empty and text as it is; receipts keep a value that is not a number
    assert display(float("nan")) == "" and display("甘肃") == "甘肃"
    assert receipts.format_received("12a") == "12a" and receipts.format_received(None) == ""


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (2611.4164, None, "2,611"),
        (150.55, None, "150.6"),
        (12.345, None, "12.35"),
        (12.0, None, "12"),
        (12.0, 1, "12.0"),
        (None, None, NO_NUMBER),
        (float("nan"), 1, NO_NUMBER),
    ],
)
def test_chart_labels_have_the_decimals_their_magnitude_deserves(value, decimals, expected):
    assert charts.chart_label(value, decimals) == expected
