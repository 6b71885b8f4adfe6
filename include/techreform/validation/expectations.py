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

All four are vectorised pandas conditions; nulls are not evaluated (GX map semantics), which is why
every suite pairs them with ``expect_column_values_to_not_be_null`` where a value is required.
"""

from __future__ import annotations

from typing import ClassVar, Union

import numpy as np
import pandas as pd
from great_expectations.core.suite_parameters import SuiteParameterDict
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation, ColumnPairMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    ColumnPairMapMetricProvider,
    column_condition_partial,
    column_pair_condition_partial,
)

from techreform.codes import USCC_ALPHABET, USCC_WEIGHTS

_USCC_LOOKUP = np.full(256, -1, dtype=np.int64)
for _value, _char in enumerate(USCC_ALPHABET):
    _USCC_LOOKUP[ord(_char)] = _value
_WEIGHTS = np.array(USCC_WEIGHTS, dtype=np.int64)


def uscc_valid_mask(values: pd.Series) -> np.ndarray:
    """True where a value is a valid USCC (GB 32100-2015), vectorised; nulls are False.

    The same check as :func:`techreform.codes.is_valid_uscc`, on whole columns: shape (18 characters
    of the alphabet), then the weighted sum of positions 1–17 mod 31 against position 18."""
    text = values.astype("string")
    shaped = text.str.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}").fillna(False).to_numpy(dtype=bool)
    result = np.zeros(len(values), dtype=bool)
    if shaped.any():
        joined = "".join(text[shaped].tolist()).encode("ascii")
        codes = _USCC_LOOKUP[np.frombuffer(joined, dtype=np.uint8)].reshape(-1, 18)
        check = (31 - (codes[:, :17] @ _WEIGHTS) % 31) % 31
        result[shaped] = check == codes[:, 17]
    return result


def division_valid_mask(codes: pd.Series, periods: pd.Series, divisions: list) -> np.ndarray:
    """True where ``codes`` is a county-level division valid in ``periods`` (YYYY-MM text).

    ``divisions``: ``[code, valid_from, valid_to]`` rows; valid_from inclusive, valid_to exclusive,
    empty or null = unbounded."""
    table = pd.DataFrame(list(divisions or []), columns=["code", "valid_from", "valid_to"]).astype(object)
    frame = pd.DataFrame({"code": codes.astype(object).to_numpy(), "period": periods.astype(object).to_numpy(),
                          "_pos": np.arange(len(codes))})
    merged = frame.merge(table, on="code", how="inner")
    period = merged["period"].astype("string").fillna("")
    start = merged["valid_from"].astype("string").fillna("")
    end = merged["valid_to"].astype("string").fillna("")
    ok = ((start == "") | (start <= period)) & ((end == "") | (period < end))
    result = np.zeros(len(codes), dtype=bool)
    result[merged.loc[ok.to_numpy(dtype=bool), "_pos"].to_numpy()] = True
    return result


def industry_class_mask(values: pd.Series, divisions: list) -> np.ndarray:
    """True where a value is 4 digits whose first two are one of ``divisions``."""
    text = values.astype("string")
    four_digits = text.str.fullmatch(r"\d{4}").fillna(False)
    in_division = text.str[:2].isin([str(d) for d in (divisions or [])]).fillna(False)
    return (four_digits & in_division).to_numpy(dtype=bool)


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

    divisions: Union[list, SuiteParameterDict, None] = None
    map_metric = "column_values.industry_class_of_divisions"
    success_keys = ("divisions", "mostly")
    args_keys = ("column", "divisions")
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["techreform"], "contributors": []}


class ColumnValuesWholeNumbers(ColumnMapMetricProvider):
    condition_metric_name = "column_values.whole_numbers"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        numbers = pd.to_numeric(column, errors="coerce")
        return numbers.notna() & (np.floor(numbers) == numbers)


class ExpectColumnValuesToBeWholeNumbers(ColumnMapExpectation):
    """Expect numbers without a fractional part (an integer stored as a float)."""

    map_metric = "column_values.whole_numbers"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["techreform"], "contributors": []}


class ColumnPairValuesDivisionValidInPeriod(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.division_valid_in_period"
    condition_domain_keys = (
        "batch_id", "table", "column_A", "column_B", "row_condition", "condition_parser", "ignore_row_if",
    )
    condition_value_keys = ("divisions",)

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A, column_B, divisions=None, **kwargs):
        return pd.Series(division_valid_mask(column_A, column_B, divisions), index=column_A.index)


class ExpectColumnPairValuesToBeDivisionValidInPeriod(ColumnPairMapExpectation):
    """Expect column A to be a county-level division code valid in the period (YYYY-MM) of column B."""

    divisions: Union[list, SuiteParameterDict, None] = None
    ignore_row_if: str = "either_value_is_missing"
    map_metric = "column_pair_values.division_valid_in_period"
    success_keys = ("column_A", "column_B", "divisions", "ignore_row_if", "mostly")
    args_keys = ("column_A", "column_B", "divisions")
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["techreform"], "contributors": []}
