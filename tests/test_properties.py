"""Properties over large input spaces (Hypothesis): every spelling of a number or month that the
contract allows reads back as its value and anything else is a CellError (never another exception);
every valid credit code stays valid and every single-character change of it is caught; the light
rules never get better as the schedule lag grows; the province is the sum of its prefectures for
every additive measure of the indicators.

Runs are bounded (``max_examples``, no deadline) so that ``make test`` stays fast."""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from indicators_fixtures import PREFECTURES, enterprise, indicator_frame, insert, warehouse
from supervision_fixtures import report
from techreform.cells import (
    CellError,
    _plain_numbers_of_cells,
    parse_boolean,
    parse_cell,
    parse_column,
    parse_decimal,
    parse_month,
)
from techreform.codes import USCC_ALPHABET, is_valid_uscc, make_uscc, uscc_problem
from techreform.forms import form
from techreform.indicators import compute_indicators
from techreform.options import SupervisionOptions
from techreform.periods import Period
from techreform.supervision.rules import LIGHT_RANK, judge_report, schedule_lag

FAST = settings(max_examples=200, deadline=None)
FULL_WIDTH = str.maketrans("0123456789.,-+ ", "０１２３４５６７８９．，－＋\u3000")

# --- cells: a column parses as its cells do ---------------------------------------------------

CELL_VALUES = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["-0", "0012", "1,234.5", "nan", "NaN", " nan ", "-", "", "是", "2013-06", "1" * 16, "\u3000x"]),
    st.integers(-(10**17), 10**17),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
FIELD_OF_EACH_TYPE = {f.type: f for code in ("E1", "P1", "R1", "S1") for f in form(code).fields}


def _cell_outcome(field, value):
    try:
        result = parse_cell(field, value)
    except CellError as exc:
        return ("error", exc.reason)
    return ("value", result, type(result))


@FAST
@given(st.sampled_from(sorted(FIELD_OF_EACH_TYPE)), st.lists(CELL_VALUES, max_size=30))
def test_a_column_parses_exactly_as_its_cells_one_by_one(field_type, values):
    _assert_column_parses_as_its_cells(FIELD_OF_EACH_TYPE[field_type], values)


def _assert_column_parses_as_its_cells(field, values) -> None:
    """parse_column's value or reason, and the value's type, for each cell equal parse_cell's for it alone."""
    parsed, errors = parse_column(field, values)
    column = [
        ("error", errors[i]) if i in errors else ("value", parsed[i], type(parsed[i])) for i in range(len(values))
    ]
    one_by_one = [_cell_outcome(field, v) for v in values]
    assert [(o[0], repr(o[1]), o[2:]) for o in column] == [(o[0], repr(o[1]), o[2:]) for o in one_by_one]


# --- cells: numbers -----------------------------------------------------------------------------

# at most 15 significant digits: what a float holds exactly and what the contract reads
amounts = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=3, allow_nan=False, allow_infinity=False
)


NUMBER_TEXT = st.one_of(
    st.none(),
    st.text(alphabet="0123456789.-+,e \t\n\u3000\u00a0０１２３４５６７８９．－＋", max_size=20),
    amounts.map(str),
    amounts.map(lambda d: str(d).translate(FULL_WIDTH)),
    amounts.map(lambda d: f" \u3000{d}\t "),
    st.sampled_from(["-0", "－０", "0" * 16, "1" * 15, "1" * 16, "-" + "9" * 15 + ".0", "", "-", "N/A", " - "]),
)


@FAST
@given(st.sampled_from(["decimal", "integer"]), st.lists(NUMBER_TEXT, max_size=40))
def test_a_column_of_number_text_parses_exactly_as_its_cells_one_by_one(field_type, values):
    """A CSV's number column (text only) takes parse_column's vectorised path (cells._plain_decimals_of_text):
    half- and full-width numerals, padding, markers, too many digits give what each cell gives alone."""
    _assert_column_parses_as_its_cells(FIELD_OF_EACH_TYPE[field_type], values)


WORKBOOK_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),  # 16- and 17-digit doubles, subnormals, -0.0, inf, NaN
    st.floats(min_value=-1e12, max_value=1e12).map(lambda f: round(f, 2)),  # amounts as a sheet stores them
    st.sampled_from([0.1, -0.0, 5e-324, 1e15, 1e16, 123456789012345.0, 1234567890123456.0, 1 / 3, 1e308 * 10]),
    st.integers(-(10**17), 10**17),
    st.none(),
    st.sampled_from(["-", "", "N/A", "nan", "1,234.5", "１２", "x"]),
)


@FAST
@given(st.sampled_from(["decimal", "integer"]), st.lists(WORKBOOK_NUMBERS, min_size=1, max_size=40))
def test_a_workbook_column_of_numbers_parses_exactly_as_its_cells_one_by_one(field_type, values):
    """A workbook's number column (doubles, with whole numbers, text and empty cells) takes parse_column's
    vectorised path for its numbers (cells._plain_numbers_of_cells): each double within 15 significant
    digits and each whole number within 15 digits kept as it is, every other cell given what it gives alone."""
    assume(any(type(v) in (float, int) for v in values))
    assert _plain_numbers_of_cells(values) is not None  # the path under test is taken
    _assert_column_parses_as_its_cells(FIELD_OF_EACH_TYPE[field_type], values)


def _grouped(integer: str, separator: str) -> str:
    head = len(integer) % 3 or 3
    return separator.join([integer[:head]] + [integer[i : i + 3] for i in range(head, len(integer), 3)])


@st.composite
def number_spellings(draw):
    value = draw(amounts)
    sign = "-" if value < 0 else draw(st.sampled_from(["", "+"]))
    integer, _, fraction = f"{abs(value):f}".partition(".")
    fraction = fraction.rstrip("0")
    if draw(st.booleans()) and fraction:
        fraction += "0" * draw(st.integers(0, 2))
    separator = draw(st.sampled_from(["", ",", " "]))
    text = sign + _grouped(integer, separator) + ("." + fraction if fraction else "")
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    text = draw(st.sampled_from(["", " ", "\u3000", "\t"])) + text + draw(st.sampled_from(["", " ", "\u3000"]))
    return text, float(value)


@FAST
@given(number_spellings())
@example(("1 234.5", 1234.5))
@example(("１，２３４．５", 1234.5))
def test_every_allowed_spelling_of_a_number_reads_back_as_its_value(spelled):
    text, value = spelled
    assert parse_decimal(text) == value


@FAST
@given(st.text(max_size=20))
@example("1e309")
@example("nan")
@example("inf")
@example("-0")
@example("1" * 30)
@example("٣")  # an Arabic-Indic digit: a digit to Python, not to the contract
def test_any_text_is_a_number_null_or_a_cell_error_never_another_exception(text):
    try:
        result = parse_decimal(text)
    except CellError as error:  # not a number, not finite, or not exact: every reason quotes the cell
        assert error.reason.startswith("“") and ("数字" in error.reason or "超出" in error.reason)
        return
    assert result is None or isinstance(result, float)
    if result is not None and math.isfinite(result):
        compact = unicodedata.normalize("NFKC", text).replace("\u3000", " ").strip().replace(" ", "").replace(",", "")
        assert re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", compact, re.ASCII)


# --- cells: months ------------------------------------------------------------------------------


@st.composite
def month_spellings(draw):
    year, month = draw(st.integers(1900, 2999)), draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    m = draw(st.sampled_from([f"{month}", f"{month:02d}"]))
    text = draw(
        st.sampled_from(
            [
                f"{year}-{m}",
                f"{year}/{m}",
                f"{year}.{month:02d}",
                f"{year}.{m}",
                f"{year}年{m}月",
                f"{year}年{m}",
                f"{year}{month:02d}",
                f"{year}-{m}-{day}",
                f"{year}/{m}/{day}",
                f"{year}-{month:02d}-{day:02d} 00:00:00",
                f"{year}-{month:02d}-{day:02d}T00:00",
                f"{year} 年 {m} 月",
            ]
        )
    )
    if draw(st.booleans()):
        text = unicodedata.normalize("NFKC", text).translate(
            str.maketrans("0123456789-/.", "０１２３４５６７８９－／．")
        )
    text = draw(st.sampled_from(["", " ", "\u3000"])) + text + draw(st.sampled_from(["", " "]))
    return text, f"{year:04d}-{month:02d}"


@FAST
@given(month_spellings())
def test_every_allowed_spelling_of_a_month_reads_back_as_that_month(spelled):
    text, month = spelled
    assert parse_month(text) == month


@FAST
@given(st.one_of(st.text(max_size=16), st.integers(-(10**7), 10**7), st.floats(allow_nan=True, allow_infinity=True)))
@example("2013年13月")
@example(float("nan"))
@example(float("inf"))
@example("９９９９99")
def test_any_value_is_a_month_null_or_a_cell_error_never_another_exception(value):
    try:
        result = parse_month(value)
    except CellError:
        return
    assert result is None or re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", result)  # Excel serials reach 1899-12


@FAST
@given(st.one_of(st.text(max_size=8), st.integers(-3, 3), st.floats(allow_nan=True), st.booleans()))
def test_any_value_is_a_boolean_null_or_a_cell_error_never_another_exception(value):
    try:
        result = parse_boolean(value)
    except CellError:
        return
    assert result in (None, 0, 1)


# --- the credit code ----------------------------------------------------------------------------

first17 = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17)


@FAST
@given(first17)
def test_every_completed_code_is_valid(head):
    code = make_uscc(head)
    assert len(code) == 18 and is_valid_uscc(code) and uscc_problem(code) is None


@FAST
@given(first17, st.integers(0, 17), st.sampled_from(USCC_ALPHABET + "IOSVZ" + "abc-* 中"))
def test_every_single_character_change_of_a_valid_code_is_caught(head, position, replacement):
    code = make_uscc(head)
    assume(code[position] != replacement)
    changed = code[:position] + replacement + code[position + 1 :]
    assert not is_valid_uscc(changed)
    problem = uscc_problem(changed)
    if replacement in USCC_ALPHABET:
        assert problem.startswith("统一社会信用代码校验位错误")
    else:
        assert problem == f"统一社会信用代码含非法字符：{replacement}"


@FAST
@given(first17, st.integers(0, 15))
def test_every_transposition_of_two_different_neighbours_is_caught(head, position):
    code = make_uscc(head)
    assume(code[position] != code[position + 1])
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert not is_valid_uscc(swapped)


@FAST
@given(st.one_of(st.none(), st.floats(), st.integers(), st.text(max_size=25)))
def test_any_value_is_a_valid_code_or_has_a_chinese_problem(value):
    problem = uscc_problem(value)
    assert problem is None or problem.startswith("统一社会信用代码")


# --- the light rules ----------------------------------------------------------------------------


@FAST
@given(
    st.integers(1, 12),
    st.floats(1, 1e6),
    st.floats(0, 2),
    st.floats(0, 2),
    st.sampled_from(["在建", "停建", "未开工"]),
    st.sampled_from(["2010-01", "2013-05", "2013-06", "2016-12"]),
)
def test_a_larger_schedule_lag_never_gives_a_better_light(month, plan, done_a, done_b, status, planned_start):
    period = Period(2013, month)
    options = SupervisionOptions()
    more_done, less_done = max(done_a, done_b) * plan, min(done_a, done_b) * plan
    ahead = report(
        str(period), annual_plan_investment=plan, ytd_investment=more_done, status=status, planned_start=planned_start
    )
    behind = {**ahead, "ytd_investment": less_done}
    lag_ahead, lag_behind = schedule_lag(month, plan, more_done), schedule_lag(month, plan, less_done)
    assert lag_behind >= lag_ahead
    light_ahead = judge_report(ahead, period, [ahead["cumulative_investment"]], options)
    light_behind = judge_report(behind, period, [behind["cumulative_investment"]], options)
    assert LIGHT_RANK[light_behind.light] >= LIGHT_RANK[light_ahead.light]
    assert set(light_ahead.reasons) - {"SCHEDULE_YELLOW", "SCHEDULE_RED"} == set(light_behind.reasons) - {
        "SCHEDULE_YELLOW",
        "SCHEDULE_RED",
    }


@FAST
@given(st.floats(-50, 150), st.floats(0, 100), st.floats(0, 100))
def test_the_schedule_light_follows_the_thresholds_whatever_they_are(lag, yellow, extra):
    options = SupervisionOptions(schedule_yellow_pp=yellow, schedule_red_pp=yellow + extra)
    plan = 1200.0
    ytd = (6 / 12 - lag / 100) * plan
    judgement = judge_report(
        report("2013-06", annual_plan_investment=plan, ytd_investment=ytd), Period(2013, 6), [1.0], options
    )
    computed = schedule_lag(6, plan, ytd)
    expected = "red" if computed >= yellow + extra else "yellow" if computed >= yellow else "green"
    assert judgement.light == expected


# --- the rollups --------------------------------------------------------------------------------

ADDITIVE_COLUMNS = (
    "numerator",
    "denominator",
    "reporters",
    "numerator_comparable",
    "denominator_comparable",
    "numerator_same_period_last_year",
    "denominator_same_period_last_year",
)
optional_amount = st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False).map(lambda v: round(v, 2)))


@st.composite
def enterprise_facts(draw):
    rows = []
    for n in range(1, draw(st.integers(1, 12)) + 1):
        prefecture = draw(st.sampled_from(PREFECTURES[:5]))
        industry = draw(st.sampled_from(["3110", "2511", "3911", "1310", "4411"]))
        for period in draw(st.sampled_from([["2013-06"], ["2012-06", "2013-06"], ["2012-06"]])):
            amounts = {
                name: draw(optional_amount)
                for name in (
                    "gross_output",
                    "value_added",
                    "revenue",
                    "rd_expense",
                    "techreform_investment",
                    "energy_tce",
                    "water_m3",
                    "solid_waste_generated",
                    "solid_waste_utilized",
                )
            }
            amounts["profit"] = draw(st.floats(-1e5, 1e5).map(lambda v: round(v, 2)))
            amounts["employees"] = draw(st.one_of(st.none(), st.integers(1, 5000)))
            rows.append(enterprise(period, n, prefecture, industry, **amounts))
    return rows


@pytest.fixture(scope="module")
def rollup_warehouse(tmp_path_factory):
    from techreform.config import Settings

    folder = tmp_path_factory.mktemp("rollups")
    settings_ = Settings.from_env({"TECHREFORM_DATA_DIR": str(folder)})
    return warehouse(settings_.warehouse_url), settings_


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(enterprise_facts())
def test_the_province_is_the_sum_of_its_prefectures_for_every_additive_measure(rollup_warehouse, facts):
    engine, settings_ = rollup_warehouse
    with engine.begin() as conn:
        conn.exec_driver_sql("delete from fct_enterprise_monthly")
    insert(engine, "fct_enterprise_monthly", facts)
    compute_indicators(engine, settings_, "2013-06")
    results = indicator_frame(engine, "2013-06")
    kinds = results.dropna(subset=["value_rule"]).groupby("indicator_code")["value_rule"].first()
    additive = results[results.indicator_code.isin(kinds[kinds.isin(["ratio", "sum", "growth"])].index)]
    for code, rows in additive.groupby("indicator_code"):
        province = rows[rows.level == "province"]
        assert len(province) == 1
        for level in ("prefecture", "sector_group"):
            parts = rows[rows.level == level]
            if parts.empty:
                continue
            for column in ADDITIVE_COLUMNS:
                if column not in rows:
                    continue
                total, pieces = province[column].iloc[0], parts[column].dropna()
                if pd.isna(total):
                    assert pieces.empty or (pieces == 0).all(), (code, level, column)
                else:
                    assert math.isclose(total, pieces.sum(), rel_tol=1e-9, abs_tol=1e-6), (code, level, column)
