"""Every E1 helper column of derive.py on a real warehouse (docs/testing.md): the row's period and
the delivery folder's, |profit|, the solid-waste cap, the previous report's fields, the register in
force, the period's P1 investment, the latest row of each key, rounding and per-field HB options."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from techreform.forms import form
from techreform.periods import Period
from techreform.validation import derive
from validation_fixtures import (
    add_enterprise_facts,
    add_project_facts,
    add_register,
    e1_row,
    p1_row,
    prepare_warehouse,
    r1_row,
    staged,
    uscc,
)

JUNE = Period(2013, 6)


@pytest.fixture
def engine(sqlite_url):
    engine = prepare_warehouse(sqlite_url)
    with engine.begin() as conn:
        add_register(
            conn,
            "2013-01",
            [
                r1_row(1, region_code="620102", industry_code="3311"),
                r1_row(2, region_code="620502", industry_code="2614"),
            ],
        )
        add_register(conn, "2013-09", [r1_row(1, region_code="620402", industry_code="1310")])  # later: not in force
        add_project_facts(
            conn,
            [
                p1_row(1, "2013-06", ytd_investment=150.0),
                {**p1_row(7, "2013-06", ytd_investment=50.5), "uscc": uscc(1)},
                p1_row(2, "2013-05", ytd_investment=999.0),
            ],
        )
        add_enterprise_facts(conn, [e1_row(1, "2013-05", gross_output=500.0, value_added=150.0, energy_tce=40.0)])
    return engine


def _helpers(engine, rows, options=None, files=None):
    frame = staged("E1", "2013-06", files or {"june.csv": rows})
    with engine.connect() as conn:
        return derive.helper_columns(conn, form("E1"), frame, JUNE, options or {})


def test_row_helpers_of_e1(engine):
    rows = [
        e1_row(1, "2013-06", profit=-30.0, solid_waste_generated=10.0),
        e1_row(2, None, profit=20.0, solid_waste_generated=4.0),
        e1_row(3, "2013-05"),
    ]
    out = _helpers(engine, rows)
    assert list(out["_period"]) == ["2013-06", "2013-06", "2013-05"]  # the folder's where the row has none
    assert list(out["delivery_period"]) == ["2013-06"] * 3
    assert list(out["_abs_profit"]) == [30.0, 20.0, 50.0]
    assert list(out["_solid_waste_utilization_cap"]) == [15.0, 6.0, 150.0]


def test_previous_report_register_and_projects_of_e1(engine):
    out = _helpers(engine, [e1_row(1, "2013-06"), e1_row(2, "2013-06"), e1_row(3, "2013-06")])
    first, second, third = (out.iloc[i] for i in range(3))
    assert first["_prev_period"] == "2013-05"
    assert (first["_prev_gross_output"], first["_prev_value_added"], first["_prev_energy_tce"]) == (500.0, 150.0, 40.0)
    assert pd.isna(second["_prev_period"]) and math.isnan(second["_prev_gross_output"])
    assert (first["_in_register"], second["_in_register"], third["_in_register"]) == (1.0, 1.0, 0.0)
    assert (first["_register_region_code"], first["_register_industry_code"]) == ("620102", "3311")
    assert (second["_register_region_code"], second["_register_industry_code"]) == ("620502", "2614")
    assert pd.isna(third["_register_region_code"])
    assert first["_p1_ytd_investment"] == 200.5  # both of its June projects
    assert math.isnan(second["_p1_ytd_investment"])  # its project reported in May only
    assert out["_hb_increment_gross_output"].iloc[0] == 500.0  # (1000 − 500) over one month


def test_the_latest_row_of_each_key_is_the_last_of_the_latest_delivery():
    frame = pd.DataFrame(
        {"uscc": ["A", "A", "B", "A", "B"], "delivery_seq": [1, 1, 1, 2, 1], "source_row": [2, 3, 4, 2, 5]},
        index=[10, 11, 12, 13, 14],
    )
    assert list(derive.latest_per_key(frame, "uscc")) == [False, False, False, True, True]
    same_delivery = pd.DataFrame({"uscc": ["A", "A"], "delivery_seq": [1, 1], "source_row": [3, 2]})
    assert list(derive.latest_per_key(same_delivery, "uscc")) == [True, False]


def test_months_of_periods_and_alignment_by_key():
    assert list(derive._month(pd.Series(["2013-06", "2013-11", None, "2013"]))[:2]) == [6, 11]
    assert derive._month(pd.Series([None, "2013"])).isna().all()
    table = pd.DataFrame({"uscc": ["A", "B", "A"], "x": [1, 2, 3]})
    aligned = derive.align(pd.Series(["B", None, "A", "C"]), table, "uscc")
    assert aligned["x"].tolist()[0] == 2 and aligned["x"].tolist()[2] == 1
    assert np.isnan(aligned["x"].tolist()[1]) and np.isnan(aligned["x"].tolist()[3])


def test_increments_and_references_are_rounded_to_four_decimals_and_c_is_per_field(engine):
    with engine.begin() as conn:
        add_enterprise_facts(
            conn, [e1_row(n, "2013-05", gross_output=500.0 + n / 3, revenue=500.0 + n) for n in range(10, 22)]
        )
    rows = [
        e1_row(n, "2013-06", gross_output=600.0 + n / 7, revenue=600.0 + 1.5 * n + (3000.0 if n == 15 else 0.0))
        for n in range(10, 22)
    ]
    out = _helpers(engine, rows, {"hb_min_group": 5, "hb_c": {"revenue": 1e9}})
    got = out.iloc[0]
    assert got["_hb_increment_gross_output"] == round(600.0 + 10 / 7 - (500.0 + 10 / 3), 4)
    assert got["_hb_reference_gross_output"] == round((500.0 + 10 / 3) / 5, 4)
    # C = 10⁹ for revenue: even thirty times its run-rate is inside the fence; with the default 20 it is not
    assert (out["_hb_ok_revenue"] == 1.0).all()
    default = _helpers(engine, rows, {"hb_min_group": 5})
    assert default.loc[default["uscc"] == uscc(15), "_hb_ok_revenue"].iloc[0] == 0.0


def test_a_delivery_folder_column_is_kept_when_staged_rows_have_one(engine):
    frame = staged("E1", "2013-06", {"june.csv": [e1_row(1, "2013-06")]}).drop(columns=["delivery_period"])
    with engine.connect() as conn:
        out = derive.helper_columns(conn, form("E1"), frame, JUNE, {})
    assert list(out["delivery_period"]) == ["2013-06"]


def test_forms_without_a_period_take_the_folders_and_a_delivery_folder_column_is_kept():
    register = derive.common(pd.DataFrame({"uscc": ["A", "B"]}), JUNE)
    assert list(register["_period"]) == ["2013-06", "2013-06"]
    assert list(register["delivery_period"]) == ["2013-06", "2013-06"]
    kept = derive.common(pd.DataFrame({"uscc": ["A"], "delivery_period": ["2013-05"]}), JUNE)
    assert list(kept["delivery_period"]) == ["2013-05"] and list(kept["_period"]) == ["2013-06"]
