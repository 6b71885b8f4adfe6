"""E1-S08 (Hidiroglou–Berthelot) helper columns on a real warehouse, where the mutation probe found
behaviour unfed (docs/testing.md): a unit with reference 0, a missing month, a re-delivered period,
the reference as previous YTD over the previous report's month."""

from __future__ import annotations

import math

import numpy as np
import pytest

from techreform.forms import form
from techreform.periods import Period
from techreform.validation import derive
from validation_fixtures import add_enterprise_facts, e1_row, prepare_warehouse, staged, uscc

JUNE = Period(2013, 6)
GROUP = range(1, 13)  # twelve ordinary enterprises: 100 a month in May, 100 a month before


@pytest.fixture
def engine(sqlite_url):
    engine = prepare_warehouse(sqlite_url)
    with engine.begin() as conn:
        add_enterprise_facts(
            conn,
            [
                e1_row(n, "2013-05", gross_output=500.0 + n, revenue=500.0 + n, techreform_investment=50.0 + n)
                for n in GROUP
            ],
        )
    return engine


def _june(n: int, gross: float, **changes) -> dict:
    return e1_row(n, "2013-06", gross_output=gross, revenue=gross, techreform_investment=60.0 + n, **changes)


def _helpers(engine, files, **options):
    frame = staged("E1", "2013-06", files)
    with engine.connect() as conn:
        return derive.helper_columns(conn, form("E1"), frame, JUNE, {"hb_min_group": 10, **options})


def _row(out, n):
    rows = out[out["uscc"] == uscc(n)]
    assert len(rows) >= 1
    return rows.iloc[-1]


def test_reference_is_the_previous_ytd_over_the_previous_reports_month_and_increment_over_the_months_between(engine):
    with engine.begin() as conn:  # enterprise 20 reported April, not May
        add_enterprise_facts(
            conn, [e1_row(20, "2013-04", gross_output=400.0, revenue=400.0, techreform_investment=40.0)]
        )
    out = _helpers(engine, {"june.csv": [*(_june(n, 600.0 + n) for n in GROUP), _june(20, 600.0)]})
    late = _row(out, 20)
    assert late["_prev_period"] == "2013-04"
    assert late["_hb_reference_gross_output"] == 100.0  # 400 over 4 months
    assert late["_hb_increment_gross_output"] == 100.0  # (600 − 400) over the 2 months since April
    assert late["_hb_ok_gross_output"] == 1.0  # so an ordinary month, not twice the run-rate
    ordinary = _row(out, 3)
    assert ordinary["_hb_reference_gross_output"] == round(503.0 / 5, 4)
    assert ordinary["_hb_increment_gross_output"] == 100.0


def test_a_unit_whose_reference_is_zero_is_not_evaluated(engine):
    with engine.begin() as conn:
        add_enterprise_facts(conn, [e1_row(30, "2013-05", gross_output=0.0, revenue=0.0, techreform_investment=0.0)])
    out = _helpers(engine, {"june.csv": [*(_june(n, 600.0 + n) for n in GROUP), _june(30, 900.0)]})
    zero = _row(out, 30)
    assert zero["_hb_reference_gross_output"] == 0.0 and zero["_hb_increment_gross_output"] == 900.0
    assert math.isnan(zero["_hb_ok_gross_output"])
    assert (out.loc[out["uscc"] != uscc(30), "_hb_ok_gross_output"] == 1.0).all()


def test_a_month_far_from_its_run_rate_is_flagged_among_ordinary_ones(engine):
    out = _helpers(engine, {"june.csv": [*(_june(n, 600.0 + n) for n in GROUP if n != 7), _june(7, 507.0 + 2500.0)]})
    assert _row(out, 7)["_hb_ok_gross_output"] == 0.0
    assert (out.loc[out["uscc"] != uscc(7), "_hb_ok_gross_output"] == 1.0).all()


def test_the_fence_is_fitted_on_the_latest_delivery_of_a_redelivered_period(engine):
    # nine enterprises delivered twice: eighteen staged rows but nine enterprises, fewer than ten
    first = [_june(n, 600.0 + n) for n in GROUP if n <= 9]
    again = [_june(n, 601.0 + n) for n in GROUP if n <= 9]
    out = _helpers(engine, {"june.csv": first, "june_更正.csv": again})
    assert len(out) == 18
    assert out["_hb_ok_gross_output"].isna().all()
    # with ten the fence is fitted, and applied to every staged row, superseded ones too
    out = _helpers(engine, {"june.csv": first, "june_更正.csv": [*again, _june(10, 610.0)]})
    assert (out["_hb_ok_gross_output"] == 1.0).all()


def test_the_fence_is_not_fitted_on_a_superseded_outlier(engine):
    wrong = [_june(n, 600.0 + n) for n in GROUP if n != 7] + [_june(7, 50_000.0)]
    right = [_june(7, 607.0)]
    out = _helpers(engine, {"june.csv": wrong, "june_更正.csv": right}, hb_c=1.0, hb_a=0.0)
    latest = out[out["delivery_seq"] == 2].iloc[0]
    assert latest["_hb_ok_gross_output"] == 1.0
    superseded = out[(out["uscc"] == uscc(7)) & (out["delivery_seq"] == 1)].iloc[0]
    assert superseded["_hb_ok_gross_output"] == 0.0


def test_january_and_a_february_after_a_missing_january_are_not_evaluated(engine):
    with engine.begin() as conn:
        add_enterprise_facts(conn, [e1_row(n, "2012-12", gross_output=1200.0) for n in GROUP])
    frame = staged("E1", "2013-02", {"feb.csv": [e1_row(n, "2013-02", gross_output=200.0) for n in GROUP]})
    with engine.connect() as conn:
        out = derive.helper_columns(conn, form("E1"), frame, Period(2013, 2), {"hb_min_group": 1})
    assert out["_prev_period"].isna().all()
    assert np.isnan(out["_hb_ok_gross_output"].to_numpy(dtype=float)).all()


def test_the_previous_report_is_the_latest_before_the_period_also_when_the_period_is_rerun(engine):
    with engine.begin() as conn:  # April before May for everybody, and June already loaded (a re-run)
        add_enterprise_facts(conn, [e1_row(n, "2013-04", gross_output=400.0) for n in GROUP])
        add_enterprise_facts(conn, [_june(n, 600.0 + n) for n in GROUP])
    out = _helpers(engine, {"june.csv": [_june(n, 600.0 + n) for n in GROUP]})
    assert set(out["_prev_period"]) == {"2013-05"}
    assert list(out["_prev_gross_output"]) == [500.0 + n for n in GROUP]


# --- the method itself, at its edges ------------------------------------------------------------

import pandas as pd  # noqa: E402

from techreform.validation import hb  # noqa: E402


def test_a_unit_exactly_on_the_fence_is_not_an_outlier():
    fence = hb.HBFence(r_median=1.0, lower=-1.0, upper=1.0, u=0.0)
    x = np.array([1.0, 1.0, 1.0, 1.0])
    y = np.array([2.0, 0.5, 2.0001, 0.4999])  # effects 1, −1 (on the fence), just above, just below
    assert list(fence.effects(x, y)[:2]) == [1.0, -1.0]
    assert list(fence.is_outlier(x, y)) == [False, False, True, True]


def test_small_positive_values_are_evaluable():
    x, y = pd.Series([0.5, 0.0, 2.0]), pd.Series([0.25, 1.0, 0.0])
    assert list(hb.evaluable(x, y)) == [True, False, False]


def test_with_a_minimum_group_of_one_a_single_unit_is_judged():
    fence = hb.fit(pd.Series([4.0]), pd.Series([4.0]), hb.HBParameters(min_group=1))
    assert fence is not None and fence.r_median == 1.0
    assert hb.fit(pd.Series([4.0]), pd.Series([4.0]), hb.HBParameters(min_group=0)) is not None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fence_follows_the_published_formulas_when_the_median_effect_is_not_zero(seed):
    rng = np.random.default_rng(seed)
    x = pd.Series(rng.uniform(1, 1000, 24))
    y = x * rng.uniform(0.5, 2.0, 24)
    params = hb.HBParameters(u=0.7, a=0.05, c=3.0, min_group=5)
    fence = hb.fit(x, y, params)
    r = (y / x).to_numpy()
    r_m = np.median(r)
    s = np.where(r < r_m, 1 - r_m / r, r / r_m - 1)
    e = s * np.maximum(x, y).to_numpy() ** 0.7
    q1, m, q3 = np.quantile(e, [0.25, 0.5, 0.75])
    assert m != 0
    assert np.isclose(fence.lower, m - 3.0 * max(m - q1, abs(0.05 * m)))
    assert np.isclose(fence.upper, m + 3.0 * max(q3 - m, abs(0.05 * m)))


def test_hb_parameters_from_a_mapping_name_the_validation_section_when_refused():
    with pytest.raises(ValueError) as excinfo:
        hb.HBParameters.from_options({"hb_k": 3}, "revenue")
    assert str(excinfo.value).startswith("configuration section validation: unknown option(s) hb_k; known: ")
    with pytest.raises(ValueError) as excinfo:
        hb.HBParameters.from_options({"hb_u": "half"}, "revenue")
    assert "validation.hb_u" in str(excinfo.value)
