"""Custom Great Expectations (GX Core 1.x) expectations for rules GX has no expectation for.

Importing this module registers them with GX, so that the suites in ``expectations/*.json`` can name
them by their snake-case type:

- ``expect_column_values_to_be_valid_uscc`` – 18 characters of the GB 32100-2015 alphabet with the
  right check character (统一社会信用代码校验位; E1-H01, P1-H02, R1-H01).
- ``expect_column_pair_values_to_be_division_valid_in_period`` – column A is a Gansu county-level
  division code valid in the period of column B (GB/T 2260, ``dim_division``; E1-H04, P1-H03, R1-H03).
  ``divisions`` is a list of ``[code, valid_from, valid_to]`` (valid_to exclusive, empty = open), given
  at run time as the suite parameter ``county_divisions``.
- ``expect_column_values_to_be_industry_class_of_divisions`` – 4 digits whose first two are one of
  ``divisions`` (GB/T 4754-2011 divisions of sections B, C, D; E1-H05, P1-H03, R1-H04), given at run
  time as the suite parameter ``industry_divisions``.
- ``expect_column_values_to_be_whole_numbers`` – a number without a fractional part (E1-H07 employees).
- ``expect_column_values_to_not_be_blank`` – text with at least one non-space character (E1-H03).
- ``expect_multicolumn_values_to_be_non_negative`` – every given column is ≥ 0 or null in the row
  (E1-H07, P1-H04): one expectation instead of one per column keeps GX fast at national size.
- ``expect_multicolumn_values_to_be_present`` – no given column is null in the row (E1-H08, P1-H08).
  The failures name the offending columns of each row (``techreform.validation.outcomes``).

All are vectorised pandas conditions, plain functions of this module (``*_mask``) that the metric
providers call; nulls are not evaluated (GX map semantics), which is why every suite pairs them with
``expect_column_values_to_not_be_null`` where a value is required.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from great_expectations.core.suite_parameters import SuiteParameterDict
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    ColumnPairMapMetricProvider,
    MulticolumnMapMetricProvider,
    column_condition_partial,
    column_pair_condition_partial,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (
    multicolumn_condition_partial,
)

from techreform.arrowtext import text_array
from techreform.codes import USCC_ALPHABET, USCC_WEIGHTS

_USCC_LOOKUP = np.full(256, -1, dtype=np.int64)
for _value, _char in enumerate(USCC_ALPHABET):
    _USCC_LOOKUP[ord(_char)] = _value
_WEIGHTS = np.array(USCC_WEIGHTS, dtype=np.int64)


def uscc_valid_mask(values: pd.Series) -> np.ndarray:
    """True where a value is a valid USCC (GB 32100-2015), vectorised; nulls are False.

    The same check as :func:`techreform.codes.is_valid_uscc`, on whole columns: shape (18 characters
    of the alphabet), then the weighted sum of positions 1–17 mod 31 against position 18."""
    from techreform.arrowtext import text_array, text_bytes

    text = values.astype("string")
    shaped = text.str.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}").fillna(False).to_numpy(dtype=bool)
    result = np.zeros(len(values), dtype=bool)
    if shaped.any():
        # the shaped codes' bytes as pyarrow stores them, 18 ASCII characters each, one after another
        # (no Python string per code: some 70 MB at a 1M-row month)
        _ends, joined = text_bytes(text_array(text[shaped]))
        codes = _USCC_LOOKUP[np.frombuffer(joined, dtype=np.uint8)].reshape(-1, 18)
        check = (31 - (codes[:, :17] @ _WEIGHTS) % 31) % 31
        result[shaped] = check == codes[:, 17]
    return result


def _bound(value: object) -> str:
    """A validity bound as text; null, NaN and empty mean unbounded ('')."""
    return value if isinstance(value, str) else ""


def division_valid_mask(codes: pd.Series, periods: pd.Series, divisions: list) -> np.ndarray:
    """True where ``codes`` is a county-level division valid in ``periods`` (YYYY-MM text, row by row).

    ``divisions``: ``[code, valid_from, valid_to]`` rows (the last of a code's rows counts); valid_from
    inclusive, valid_to exclusive, empty or null = unbounded. A code not in the list, a null code, a
    null period, or a value that is not text is never valid. Judged in pyarrow, on the columns' text as
    held (a national month's E1 and R1 rows: 1.3 s of Python comparisons before; docs/performance.md)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    bounds = {str(c): (_bound(f), _bound(t)) for c, f, t in (divisions or [])}
    text, period = _text_or_null(codes), _text_or_null(periods)
    # the row of each code in the list (null for a code not in it, or null), then its bounds
    row = pc.index_in(text, value_set=pa.array(list(bounds), type=pa.large_string()))
    start = pa.array([f for f, _ in bounds.values()], type=pa.large_string()).take(row)
    end = pa.array([t for _, t in bounds.values()], type=pa.large_string()).take(row)
    # an open start is "", before every period; an open end is "" too, and is tested as such; a null
    # anywhere makes the row not valid
    valid = pc.and_kleene(pc.less_equal(start, period), pc.or_kleene(pc.equal(end, ""), pc.less(period, end)))
    return valid.fill_null(False).to_numpy(zero_copy_only=False)


def _text_or_null(values: pd.Series):
    """``values`` as one pyarrow ``large_string`` array: text as it is, a missing value or a value that is
    not text (a number) as null."""
    import pyarrow as pa

    if isinstance(values.dtype, pd.StringDtype):  # pandas' text columns: their arrow buffers
        return text_array(values)
    objects = values.astype(object)
    try:
        return pa.array(objects, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # a value that is not text among them
        return pa.array([v if isinstance(v, str) else None for v in objects], type=pa.large_string())


def industry_class_mask(values: pd.Series, divisions: list) -> np.ndarray:
    """True where a value is 4 digits whose first two are one of ``divisions``."""
    text = values.astype("string")
    four_digits = text.str.fullmatch(r"\d{4}").fillna(False)
    in_division = text.str[:2].isin([str(d) for d in (divisions or [])]).fillna(False)
    return (four_digits & in_division).to_numpy(dtype=bool)


def whole_number_mask(values: pd.Series) -> pd.Series:
    """True where a value is a number without a fractional part (text is read as a number; nulls and
    what is not a number are False)."""
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers.notna() & (np.floor(numbers) == numbers)


def not_blank_mask(values: pd.Series) -> pd.Series:
    """True where a value has at least one character that is not white space (nulls are not)."""
    return values.astype("string").str.strip().str.len() > 0


def non_negative_mask(frame: pd.DataFrame) -> pd.Series:
    """True where no column of the row is a negative number (nulls and text that is not a number
    count as not negative)."""
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return pd.Series(~(values < 0).any(axis=1), index=frame.index)


def present_mask(frame: pd.DataFrame) -> pd.Series:
    """True where no column of the row is null."""
    return frame.notna().all(axis=1)


class ColumnValuesValidUscc(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_uscc"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return pd.Series(uscc_valid_mask(column), index=column.index)


class ExpectColumnValuesToBeValidUscc(ColumnMapExpectation):
    """Expect values to be unified social credit codes with a correct check character (GB 32100-2015)."""

    map_metric = "column_values.valid_uscc"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["techreform"], "contributors": []}


class ColumnValuesIndustryClassOfDivisions(ColumnMapMetricProvider):
    condition_metric_name = "column_values.industry_class_of_divisions"
    condition_value_keys = ("divisions",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, divisions=None, **kwargs):
        return pd.Series(industry_class_mask(column, divisions), index=column.index)


class ExpectColumnValuesToBeIndustryClassOfDivisions(ColumnMapExpectation):
    """Expect 4-digit GB/T 4754-2011 classes whose division (first two digits) is in ``divisions``."""

    divisions: list | SuiteParameterDict | None = None
    map_metric = "column_values.industry_class_of_divisions"
    success_keys = ("divisions", "mostly")
    args_keys = ("column", "divisions")
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["techreform"], "contributors": []}


class ColumnValuesWholeNumbers(ColumnMapMetricProvider):
    condition_metric_name = "column_values.whole_numbers"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return whole_number_mask(column)


class ExpectColumnValuesToBeWholeNumbers(ColumnMapExpectation):
    """Expect numbers without a fractional part (an integer stored as a float)."""

    map_metric = "column_values.whole_numbers"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["techreform"], "contributors": []}


class ColumnPairValuesDivisionValidInPeriod(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.division_valid_in_period"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("divisions",)

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A, column_B, divisions=None, **kwargs):
        return pd.Series(division_valid_mask(column_A, column_B, divisions), index=column_A.index)


class ExpectColumnPairValuesToBeDivisionValidInPeriod(ColumnPairMapExpectation):
    """Expect column A to be a county-level division code valid in the period (YYYY-MM) of column B."""

    divisions: list | SuiteParameterDict | None = None
    ignore_row_if: str = "either_value_is_missing"
    map_metric = "column_pair_values.division_valid_in_period"
    success_keys = ("column_A", "column_B", "divisions", "ignore_row_if", "mostly")
    args_keys = ("column_A", "column_B", "divisions")
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["techreform"], "contributors": []}


class ColumnValuesNotBlank(ColumnMapMetricProvider):
    condition_metric_name = "column_values.not_blank"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return not_blank_mask(column)


class ExpectColumnValuesToNotBeBlank(ColumnMapExpectation):
    """Expect text with at least one character that is not white space."""

    map_metric = "column_values.not_blank"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["techreform"], "contributors": []}


class MulticolumnValuesNonNegative(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.non_negative"
    condition_domain_keys = ("batch_id", "table", "column_list", "row_condition", "condition_parser", "ignore_row_if")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        return non_negative_mask(column_list)


class ExpectMulticolumnValuesToBeNonNegative(MulticolumnMapExpectation):
    """Expect every column of ``column_list`` to be ≥ 0 (or null) in each row."""

    ignore_row_if: str = "all_values_are_missing"
    map_metric = "multicolumn_values.non_negative"
    success_keys = ("column_list", "ignore_row_if", "mostly")
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["techreform"], "contributors": []}


class MulticolumnValuesPresent(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.present"
    condition_domain_keys = ("batch_id", "table", "column_list", "row_condition", "condition_parser", "ignore_row_if")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        return present_mask(column_list)


class ExpectMulticolumnValuesToBePresent(MulticolumnMapExpectation):
    """Expect no column of ``column_list`` to be null in any row (``ignore_row_if`` must stay "never")."""

    ignore_row_if: str = "never"
    map_metric = "multicolumn_values.present"
    success_keys = ("column_list", "ignore_row_if", "mostly")
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["techreform"], "contributors": []}
