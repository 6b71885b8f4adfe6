"""The Hidiroglou–Berthelot method of E1-S08, on numbers worked by hand, and its parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from techreform.validation import hb


def _group(n: int = 20, seed: int = 3) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.Series(rng.uniform(100, 10_000, n))
    y = x * rng.uniform(0.9, 1.1, n)
    return x, y


def test_the_fence_follows_the_published_formulas():
    x = pd.Series([10.0, 10.0, 10.0, 10.0, 10.0])
    y = pd.Series([10.0, 12.0, 8.0, 11.0, 9.0])
    fence = hb.fit(x, y, hb.HBParameters(u=0.5, a=0.05, c=4.0, min_group=5))
    r = y / x
    assert fence.r_median == 1.0
    s = np.where(r < 1.0, 1 - 1.0 / r, r / 1.0 - 1)
    e = s * np.sqrt(np.maximum(x, y))
    q1, m, q3 = np.quantile(e, [0.25, 0.5, 0.75])
    assert np.isclose(fence.lower, m - 4.0 * max(m - q1, abs(0.05 * m)))
    assert np.isclose(fence.upper, m + 4.0 * max(q3 - m, abs(0.05 * m)))


def test_a_month_far_from_the_run_rate_is_an_outlier_and_ordinary_months_are_not():
    x, y = _group()
    y[5] = x[5] * 15  # fifteen times its usual monthly increment
    y[6] = x[6] / 15  # a fifteenth of it
    flags = hb.flags(x, y, hb.fit(x, y, hb.HBParameters(c=20.0)))
    assert flags[5] == 0.0 and flags[6] == 0.0
    assert (flags.drop([5, 6]) == 1.0).all()


def test_the_c_parameter_widens_the_fence():
    x, y = _group()
    y[5] = x[5] * 2.0
    strict = hb.flags(x, y, hb.fit(x, y, hb.HBParameters(c=2.0)))
    lenient = hb.flags(x, y, hb.fit(x, y, hb.HBParameters(c=200.0)))
    assert strict[5] == 0.0 and lenient[5] == 1.0


def test_units_without_a_positive_pair_are_not_evaluated_and_small_groups_judge_nobody():
    x, y = _group()
    x[0], y[1], y[2] = np.nan, 0.0, -5.0
    flags = hb.flags(x, y, hb.fit(x, y, hb.HBParameters()))
    assert flags[[0, 1, 2]].isna().all() and flags.drop([0, 1, 2]).notna().all()
    assert hb.fit(x[:5], y[:5], hb.HBParameters(min_group=10)) is None
    assert hb.flags(x[:5], y[:5], None).isna().all()


def test_parameters_come_from_the_validation_options_with_per_field_c():
    options = {"hb_u": 0.3, "hb_a": 0.1, "hb_c": {"revenue": 7}, "hb_min_group": 4}
    assert hb.HBParameters.from_options(options, "revenue") == hb.HBParameters(0.3, 0.1, 7.0, 4)
    assert hb.HBParameters.from_options(options, "gross_output").c == 20.0
    assert hb.HBParameters.from_options({}, "revenue") == hb.HBParameters(0.5, 0.05, 20.0, 10)
