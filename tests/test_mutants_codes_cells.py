"""Behaviour of the credit-code check and the cell parsers that the mutation probe found unfed
(docs/testing.md): a NaN code, an illegal check character, the value of every letter of GB 32100,
a space as thousands separator, a NaN number from a spreadsheet."""

from __future__ import annotations

import pytest

from techreform.cells import CellError, parse_boolean, parse_column, parse_decimal, parse_month
from techreform.codes import is_valid_uscc, make_uscc, uscc_check_character, uscc_problem, valid_address
from techreform.forms import PRODUCT_OUTPUT

# GB 32100-2015, table of the code characters and their values, written out here on purpose: the
# module's own constant must agree with the standard, not with itself.
GB32100_VALUES = {
    **{str(d): d for d in range(10)},
    "A": 10,
    "B": 11,
    "C": 12,
    "D": 13,
    "E": 14,
    "F": 15,
    "G": 16,
    "H": 17,
    "J": 18,
    "K": 19,
    "L": 20,
    "M": 21,
    "N": 22,
    "P": 23,
    "Q": 24,
    "R": 25,
    "T": 26,
    "U": 27,
    "W": 28,
    "X": 29,
    "Y": 30,
}
GB32100_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_by_the_standard(first17: str) -> str:
    total = sum(GB32100_VALUES[ch] * w for ch, w in zip(first17, GB32100_WEIGHTS))
    value = (31 - total % 31) % 31
    return next(ch for ch, v in GB32100_VALUES.items() if v == value)


def test_a_nan_code_from_a_spreadsheet_is_reported_empty():
    assert uscc_problem(float("nan")) == "统一社会信用代码为空"
    assert uscc_problem(None) == "统一社会信用代码为空"
    assert not is_valid_uscc(float("nan"))


def test_an_illegal_character_in_the_check_position_is_reported_as_illegal_not_as_a_wrong_check():
    code = make_uscc("91620100MA0000001")[:17] + "I"
    assert uscc_problem(code) == "统一社会信用代码含非法字符：I"
    assert uscc_problem(make_uscc("91620100MA0000001")[:17] + "z") == "统一社会信用代码含非法字符：z"


@pytest.mark.parametrize("letter", [ch for ch in GB32100_VALUES if ch.isalpha()])
@pytest.mark.parametrize("position", [0, 9, 10, 16])
def test_every_letter_of_the_alphabet_has_its_standard_value_in_every_weight(letter, position):
    first17 = list("91620100MA0000001")
    first17[position] = letter
    first17 = "".join(first17)
    assert uscc_check_character(first17) == check_by_the_standard(first17)
    assert is_valid_uscc(first17 + check_by_the_standard(first17))


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("91620100MAW000000", "R"),
        ("91620100MAX000000", "0"),
        ("91620100MAY000000", "6"),
        ("91620100MAU000000", "K"),
        ("91620100MAD000000", "W"),
        ("91620100MAP000000", "T"),
    ],
)
def test_check_characters_worked_by_hand(first17, check):
    assert uscc_check_character(first17) == check


def test_a_check_character_must_be_the_computed_one_and_says_which():
    good = make_uscc("91620100MAW000000")
    assert good == "91620100MAW000000R"
    assert uscc_problem(good[:17] + "X") == "统一社会信用代码校验位错误（应为R）"
    with pytest.raises(ValueError, match="17"):
        uscc_check_character("91620100MA")
    with pytest.raises(ValueError, match="'I'"):
        uscc_check_character("91620100MAI000000")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1 234.5", 1234.5),  # a space as thousands separator
        ("1 234 567", 1234567.0),
        ("１　２３４", 1234.0),  # full-width digits and ideographic space
        (float("nan"), None),  # an empty cell as pandas reads it
        (12, 12.0),
        ("+5", 5.0),
        (".5", 0.5),
        ("1e3", 1000.0),
    ],
)
def test_more_spellings_of_numbers(cell, expected):
    assert parse_decimal(cell) == expected


@pytest.mark.parametrize("cell", [True, False, "1,2345", "1 2a", "e5", "+", "٣", "١,٢٣٤"])  # Arabic-Indic digits
def test_booleans_and_broken_groupings_are_not_numbers(cell):
    with pytest.raises(CellError, match="不是数字"):
        parse_decimal(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2013/6", "2013-06"),
        ("2013.06", "2013-06"),
        ("2013年6", "2013-06"),
        ("2013-06-30", "2013-06"),
        ("2013/06/01 00:00", "2013-06"),
        ("2013-06-01 00:00:00", "2013-06"),
        ("2013-6-1T00:00:00", "2013-06"),
        (201306.0, "2013-06"),
        ("1900-01", "1900-01"),
        ("2999-12", "2999-12"),
        (1, "1899-12"),
    ],
)
def test_more_month_spellings_and_their_edges(cell, expected):
    assert parse_month(cell) == expected


@pytest.mark.parametrize(
    "cell",
    [
        "1899-12",
        "3000-01",
        0,
        -5,
        2958466,
        201313,
        "2013-06-31x",
        "2013-06-01 12:00",
        "٢٠١٣-٠٦",
        float("inf"),
        float("-inf"),
    ],
)
def test_months_outside_the_contract_are_refused(cell):
    with pytest.raises(CellError):
        parse_month(cell)


def test_a_number_given_as_a_code_is_judged_by_its_length_not_as_empty():
    assert uscc_problem(12345.0) == "统一社会信用代码应为18位，实为7位"
    assert uscc_problem(916201000000000001) == "统一社会信用代码校验位错误（应为9）"


def test_every_illegal_character_is_named_once_in_order():
    assert uscc_problem("91620100MAOI00000Z") == "统一社会信用代码含非法字符：IOZ"
    assert uscc_problem("91620100MAII00000I") == "统一社会信用代码含非法字符：I"


def test_refusals_say_what_was_received_and_what_is_expected():
    with pytest.raises(CellError) as boolean:
        parse_boolean("也许")
    assert boolean.value.reason == "“也许”不是有效的是/否值（应为 是/否、Y/N 或 1/0）"
    with pytest.raises(CellError) as number:
        parse_month(0)
    assert number.value.reason == "“0”不是有效的年月"
    with pytest.raises(CellError) as text:
        parse_month("June 2013")
    assert text.value.reason == "“June2013”不是有效的年月（应为如 2013-06、2013年6月、201306）"


def test_whole_numbers_are_year_months_from_190001_to_299912_and_excel_serials_otherwise():
    import datetime as dt

    def serial(n: int) -> str:
        day = dt.date(1899, 12, 30) + dt.timedelta(days=n)
        return f"{day.year:04d}-{day.month:02d}"

    assert parse_month(190001) == "1900-01" and parse_month(299912) == "2999-12"
    assert parse_month(190000) == serial(190000) and parse_month(299913) == serial(299913)
    assert parse_month(2958465) == "9999-12"


def test_text_cells_are_cleaned_like_every_other():
    from techreform.cells import parse_cell
    from techreform.forms import ENTERPRISE_MONTHLY

    assert parse_cell(ENTERPRISE_MONTHLY.field("enterprise_name"), "\u3000兰州化工 ") == "兰州化工"
    assert parse_cell(ENTERPRISE_MONTHLY.field("enterprise_name"), "—") is None


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("li.ming@gsgxt.gov.cn", True),
        ("Li_Ming+tj@example-mail.com", True),
        ("XXXX", False),
        ("", False),
        (None, False),
        ("li ming@example.com", False),
        ("li@ming@example.com", False),
        ("li@localhost", False),
        ("李明 <li@example.com>", False),
        ("li@example.com\n", False),
    ],
)
def test_an_address_is_one_plain_local_at_domain_dot_tld(address, valid):
    assert valid_address(address) is valid


def test_a_column_of_a_choice_stages_its_chinese_names_as_the_choice():
    field = PRODUCT_OUTPUT.field("product_code")
    values, errors = parse_column(field, ["水泥", " 钢材 ", "cement_total", None, "-", "其他"])
    assert values == ["cement_total", "steel_products_total", "cement_total", None, None, "其他"]
    assert errors == {}


def test_a_refused_cell_is_quoted_on_one_line_and_cut_after_40_characters():
    small = "0." + "0" * 30 + "1234567890123456"  # 48 characters, 16 significant digits
    with pytest.raises(CellError) as excinfo:
        parse_decimal(small)
    assert (
        excinfo.value.reason
        == f"“{small[:40]}…”有 16 位有效数字，超过 15 位，无法精确保存 / more than 15 significant digits"
    )
    exactly_40 = "0." + "0" * 22 + "1234567890123456"
    with pytest.raises(CellError) as excinfo:
        parse_decimal(exactly_40)
    assert excinfo.value.reason.startswith(f"“{exactly_40}”有 16 位有效数字")
    with pytest.raises(CellError) as excinfo:
        parse_decimal("1 234 567 890 123 456")  # spaces as thousands separators: quoted as written
    assert excinfo.value.reason.startswith("“1 234 567 890 123 456”有 16 位有效数字")
    with pytest.raises(CellError) as excinfo:
        parse_decimal("1e400")
    assert excinfo.value.reason == "“1e400”不是有限的数字（无穷大、NaN 或超出范围） / not a finite number"


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("1e9999999999", "1e9999999999"),  # an exponent beyond any decimal context
        (1.7976931348623157e308, "1.7976931348623157e+308"),  # the largest double, at 15 digits, overflows
        ("Inf", "Inf"),
        ("-Infinity", "-Infinity"),
        ("NaN", "NaN"),
    ],
)
def test_numbers_that_are_not_finite_are_refused_quoting_the_cell(cell, shown):
    with pytest.raises(CellError) as excinfo:
        parse_decimal(cell)
    assert excinfo.value.reason == f"“{shown}”不是有限的数字（无穷大、NaN 或超出范围） / not a finite number"


def test_a_number_with_more_digits_than_decimals_context_is_refused_naming_its_own_count():
    with pytest.raises(CellError, match="有 50 位有效数字"):
        parse_decimal("1" * 50)
    with pytest.raises(CellError, match="有 31 位有效数字"):
        parse_decimal("-12345678901234567890.12345678901")
    assert parse_decimal("1" + "0" * 40) == 1e40  # trailing zeros of an integer are not significant


def test_minus_zero_is_read_as_zero_by_the_cell_parser_and_the_column_fast_path_alike():
    import math

    from techreform.forms import ENTERPRISE_MONTHLY

    field = ENTERPRISE_MONTHLY.field("revenue")
    values, errors = parse_column(field, ["-0", "-0.0", "0"])
    assert errors == {} and values == [0.0, 0.0, 0.0]
    # no negative zero reaches the warehouse (it would show as "-0.0" in an extract)
    assert [math.copysign(1.0, v) for v in values] == [1.0, 1.0, 1.0]
    assert math.copysign(1.0, parse_decimal("-0")) == 1.0


def test_a_text_column_is_cleaned_in_one_pass_exactly_as_its_cells_one_by_one():
    """A text column takes parse_column's one pass (cells._clean_text_column: ASCII text only stripped, the
    rest through clean_text), as a CSV's column (pyarrow strings) or a workbook's (Python values): each cell
    as parse_cell reads it alone."""
    import datetime as dt

    import pyarrow as pa

    from techreform.cells import parse_cell, parse_column
    from techreform.forms import ENTERPRISE_MONTHLY

    field = ENTERPRISE_MONTHLY.field("enterprise_name")
    texts = [
        " Lanzhou Chem ",
        " nan ",
        "-",
        "\u3000兰州化工 ",
        "兰州 ",
        "ＡＢＣ",
        None,
        "\x1c x \x1f",
        "—",
        "  ",
        "e\u0301",
    ]
    cleaned = ["Lanzhou Chem", None, None, "兰州化工", "兰州", "ABC", None, "x", None, None, "é"]
    for column in (texts, pa.array(texts, type=pa.string())):
        assert parse_column(field, column) == (cleaned, {})
    cells = [*texts, 620102.0, float("nan"), dt.date(2013, 6, 1), 12]
    parsed, errors = parse_column(field, cells)
    assert errors == {} and parsed == [parse_cell(field, cell) for cell in cells]
    assert parsed[len(texts) :] == ["620102", None, "2013-06-01", "12"]


@pytest.mark.parametrize("field_type", ["text", "enum", "boolean", "period"])
def test_a_csv_column_of_repeating_values_parses_each_distinct_text_once_exactly_as_its_cells(field_type):
    """A CSV's column of codes, choices, yes/no or months (pyarrow strings) is dictionary-encoded and each
    distinct text parsed once (cells._parse_distinct): each cell's value, or its reason, is parse_cell's for
    it alone, and the same as the column given as Python values (a workbook's)."""
    import pyarrow as pa

    from techreform.cells import CellError, parse_cell, parse_column
    from techreform.forms import FORMS

    # a choice with other spellings (staged as the choice), where a form has one
    fields = [f for form in FORMS.values() for f in form.fields if f.type == field_type]
    field = next((f for f in fields if f.aliases), fields[0])
    texts = {
        "text": [" 620102 ", "620102", "ＡＢ", "\u3000兰州 "],
        "enum": [*(choice for choice, _ in field.aliases), *(field.choices or ())[:2], "不存在的选项"],
        "boolean": ["是", " 否 ", "Y", "maybe"],
        "period": ["2013-06", "2013年6月", "201306", "2013-13"],
    }[field_type]
    cells = [texts[i % len(texts)] for i in range(11)] + [None, "", " - ", texts[0]]

    def alone(cell):
        try:
            return ("value", parse_cell(field, cell))
        except CellError as exc:
            return ("error", exc.reason)

    for column in (pa.array(cells, type=pa.string()), pa.chunked_array([cells[:5], cells[5:]], type=pa.string())):
        parsed, errors = parse_column(field, column)
        assert [("error", errors[i]) if i in errors else ("value", v) for i, v in enumerate(parsed)] == [
            alone(cell) for cell in cells
        ]
        assert (parsed, errors) == parse_column(field, cells)
    assert bool(errors) is (field_type not in ("text", "enum"))  # text and choices are judged by the rules
    if field.aliases:
        assert field.aliases[0][1] in parsed and field.aliases[0][0] not in parsed
