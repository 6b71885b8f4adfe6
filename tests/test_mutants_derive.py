"""Every helper column of derive.py on a real warehouse (docs/testing.md), worked out by hand. E1: the
row's period and the delivery folder's, |profit|, the solid-waste cap, the previous report's fields, the
register in force, the period's P1 investment, the latest row of each key, rounding and per-field HB
options; then P1, R1, A1, Q1 and G1 (the mutation group ``derive`` runs the whole module against them)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from techreform.forms import form
from techreform.periods import Period
from techreform.validation import derive
from techreform.warehouse import insert_rows
from validation_fixtures import (
    a1_row,
    add_enterprise_facts,
    add_project_facts,
    add_register,
    e1_row,
    p1_row,
    prepare_warehouse,
    q1_row,
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


def test_alignment_matches_text_keys_of_any_dtype_and_a_null_key_matches_nothing():
    # a table row whose key is null is not matched by a row whose key is null: both are unknown
    table = pd.DataFrame({"uscc": ["A", None, "C"], "code": ["620102", "620999", "620301"], "x": [1.0, 9.0, 3.0]})
    keys = pd.Series(["C", None, np.nan, "A", "Z"], dtype=object)
    aligned = derive.align(keys, table, "uscc")
    assert list(aligned.index) == [0, 1, 2, 3, 4]
    assert aligned["code"].tolist()[0] == "620301" and aligned["code"].tolist()[3] == "620102"
    assert aligned["code"].isna().tolist() == [False, True, True, False, True]
    assert aligned["x"].tolist()[0] == 3.0 and np.isnan(aligned["x"].tolist()[2])
    assert str(aligned["code"].dtype) == "str"  # text stays arrow text, no Python object per row
    # the keys as pandas' own text dtype match the same rows
    same = derive.align(keys.astype("str"), table, "uscc")
    assert same["code"].tolist()[:1] == ["620301"] and same["code"].isna().tolist() == [False, True, True, False, True]


def test_alignment_refuses_keys_of_numbers_and_takes_a_column_of_numbers_without_values_as_null_keys():
    # 1 and 1.0 would be different texts: a key of numbers is refused, not silently matched to nothing
    table = pd.DataFrame({"uscc": ["1", "2"], "code": ["620102", "620301"]})
    for keys in (pd.Series([1, 2], name="uscc"), pd.Series([1.0, np.nan], name="uscc")):
        with pytest.raises(TypeError, match=r"'uscc' holds numbers"):
            derive.align(keys, table, "uscc")
    with pytest.raises(TypeError, match="numbers"):  # the table's side too
        derive.align(pd.Series(["1"]), pd.DataFrame({"uscc": [1], "code": ["620102"]}), "uscc")
    # a query's column of nulls may come as float64 NaN: no value, so null keys, matched to nothing
    aligned = derive.align(pd.Series([np.nan, np.nan]), table, "uscc")
    assert aligned["code"].isna().tolist() == [True, True]


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


# --- the helper columns of the other forms (P1, R1, A1, Q1, G1), each computed by hand below


def _form_helpers(engine, code, period, rows_by_file):
    frame = staged(code, str(period), rows_by_file)
    with engine.connect() as conn:
        return derive.helper_columns(conn, form(code), frame, period, {})


def _values(series):
    """A column as a list with every null as None (NaN, None, pd.NA alike)."""
    return [None if pd.isna(v) else v for v in series]


def test_helpers_of_p1_previous_report_of_the_year_tolerances_and_register(engine):
    with engine.begin() as conn:
        add_project_facts(
            conn,
            [
                p1_row(1, "2013-04", ytd_investment=80.0, cumulative_investment=700.0),
                p1_row(1, "2013-03", ytd_investment=60.0, cumulative_investment=680.0),
                p1_row(3, "2012-12", ytd_investment=900.0, cumulative_investment=650.0),
            ],
        )
    rows = [
        p1_row(1, "2013-06", ytd_investment=150.25, planned_total_investment=5000.0),
        p1_row(2, "2013-06", ytd_investment=10.0, planned_total_investment=25.0),
        p1_row(3, "2013-06"),
        {**p1_row(4, "2013-06"), "uscc": None},
    ]
    out = _form_helpers(engine, "P1", JUNE, {"june.csv": rows})
    assert list(out["_ytd_investment_less_tolerance"]) == [149.75, 9.5, 149.5, 149.5]
    assert list(out["_planned_total_investment_x1_2"]) == [6000.0, 30.0, 6000.0, 6000.0]
    # project 1: its April report (the one of June is not earlier); 2: May (the fixture's); 3: last
    # December, so no year-to-date amount of this year; 4: none
    assert _values(out["_prev_period"]) == ["2013-04", "2013-05", "2012-12", None]
    assert _values(out["_prev_ytd_investment"]) == [80.0, 999.0, None, None]
    assert _values(out["_prev_cumulative_investment"]) == [700.0, 800.0, 650.0, None]
    assert out["_prev_ytd_investment"].dtype == float and out["_prev_cumulative_investment"].dtype == float
    # the register in force in June (2013-01: enterprises 1 and 2); no credit code: not evaluated
    assert _values(out["_in_register"]) == [1.0, 1.0, 0.0, None] and out["_in_register"].dtype == float
    assert "_register_region_code" not in out and "_register_industry_code" not in out
    assert list(out["_period"]) == ["2013-06"] * 4


def test_without_a_register_in_force_the_register_rule_is_not_evaluated(sqlite_url):
    engine = prepare_warehouse(sqlite_url)
    out = _form_helpers(engine, "P1", JUNE, {"june.csv": [p1_row(1, "2013-06")]})
    assert _values(out["_in_register"]) == [None] and "_register_region_code" not in out
    assert out["_in_register"].dtype == float  # a flag: 1.0, 0.0 or NaN, like the evaluated ones
    e1 = _helpers(engine, [e1_row(1, "2013-06"), e1_row(2, "2013-06")])
    assert _values(e1["_in_register"]) == [None, None]
    assert _values(e1["_register_region_code"]) == [None, None]
    assert _values(e1["_register_industry_code"]) == [None, None]


def test_codes_none_of_which_is_registered_are_not_in_the_register_in_force(engine):
    # the lookup of a few codes finds none; a register is in force (2013-01), so the rule is evaluated
    out = _form_helpers(engine, "P1", JUNE, {"june.csv": [p1_row(3, "2013-06"), p1_row(4, "2013-06")]})
    assert _values(out["_in_register"]) == [0.0, 0.0]
    e1 = _helpers(engine, [e1_row(3, "2013-06")])
    assert _values(e1["_in_register"]) == [0.0] and _values(e1["_register_region_code"]) == [None]


def test_rows_without_any_credit_code_are_judged_on_either_engine(warehouse_url):
    """A month in which no row has a credit code looks up an empty list of codes: PostgreSQL refused the
    empty list (rendered as integers against the text column) until the codes were bound as text."""
    engine = prepare_warehouse(warehouse_url)
    with engine.begin() as conn:
        add_register(conn, "2013-01", [r1_row(1, region_code="620102", industry_code="3311")])
    out = _form_helpers(engine, "P1", JUNE, {"june.csv": [{**p1_row(3, "2013-06"), "uscc": None}]})
    assert _values(out["_in_register"]) == [None]
    e1 = _helpers(engine, [{**e1_row(1, "2013-06"), "uscc": None}])
    assert _values(e1["_in_register"]) == [None] and _values(e1["_register_region_code"]) == [None]


@pytest.mark.parametrize("lookup_max", [2, derive.REGISTER_LOOKUP_MAX_CODES])
def test_a_lookup_of_the_codes_gives_what_the_whole_register_gives(engine, monkeypatch, lookup_max):
    """Above ``REGISTER_LOOKUP_MAX_CODES`` distinct codes the whole register in force is read; at or under
    it the codes are looked up. Both give the same helper columns, typed alike: the rows' two distinct
    codes are read with the whole register (a bound of 0), then looked up (at the bound, 2, and under the
    default); which side of the bound a month falls on changes only what is read."""
    rows = [e1_row(1, "2013-06"), e1_row(3, "2013-06"), {**e1_row(4, "2013-06"), "uscc": None}, e1_row(1, "2013-06")]
    monkeypatch.setattr(derive, "REGISTER_LOOKUP_MAX_CODES", 0)
    expected = _helpers(engine, rows)
    monkeypatch.setattr(derive, "REGISTER_LOOKUP_MAX_CODES", lookup_max)
    got = _helpers(engine, rows)
    columns = ["_in_register", "_register_region_code", "_register_industry_code"]
    pd.testing.assert_frame_equal(got[columns], expected[columns])
    assert _values(got["_in_register"]) == [1.0, 0.0, None, 1.0]
    assert _values(got["_register_region_code"]) == ["620102", None, None, "620102"]
    assert _values(got["_register_industry_code"]) == ["3311", None, None, "3311"]


def test_the_register_needs_only_the_folders_period_and_the_callers_frame_is_left_unchanged(engine):
    frame = staged("R1", "2013-06", {"r1.csv": [r1_row(1), r1_row(2)]})
    frame.index = [10, 11]
    before = frame.copy()
    with engine.connect() as conn:
        out = derive.helper_columns(conn, form("R1"), frame, JUNE, {})
    assert list(out.columns) == [*before.columns, "_period"]
    assert list(out.index) == [0, 1] and list(out["_period"]) == ["2013-06", "2013-06"]
    pd.testing.assert_frame_equal(frame, before)


def test_helpers_of_a1_folder_year_level_ranks_and_last_years_level(engine):
    def fact(n, period, level):
        return {
            **a1_row(n, level, year=int(period[:4])),
            "period": period,
            "key_equipment_total": 10,
            "key_equipment_domestic_adv": 2,
            "key_equipment_intl_adv": 1,
            "apc_in_use": 1,
            "cax_in_use": 1,
            "has_website": 1,
            "ecommerce_regular": 0,
            "digital_enterprise": 0,
            "prefecture_code": "620100",
            "review_status": "ok",
            "soft_rule_ids": "",
            "file_sha256": "f" * 64,
            "source_row": n,
        }

    with engine.begin() as conn:
        insert_rows(
            conn,
            "fct_enterprise_annual",
            [
                fact(1, "2012-12", "国家级"),
                fact(2, "2012-12", "无"),
                fact(3, "2011-12", "市级"),
                fact(4, "2013-12", "省级"),
            ],
        )
    rows = [a1_row(1, "省级"), a1_row(2, "市级"), a1_row(3, "无"), a1_row(4, "国家级"), a1_row(5, None)]
    out = _form_helpers(engine, "A1", Period(2013, 12), {"a1.csv": rows})
    assert list(out["_folder_year"]) == [2013.0] * 5
    assert _values(out["_level_rank"]) == [2.0, 1.0, 0.0, 3.0, None]
    # last year's A1 only (<2012>-12): not 2011's, not this year's
    assert _values(out["_prev_tech_centre_level"]) == ["国家级", "无", None, None, None]
    assert _values(out["_prev_level_rank"]) == [3.0, 0.0, None, None, None]
    assert out["_level_rank"].dtype == float and out["_prev_level_rank"].dtype == float
    # the register in force in December is the September snapshot (enterprise 1 only)
    assert _values(out["_in_register"]) == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert "_register_region_code" not in out
    assert list(out["_period"]) == ["2013-12"] * 5


def test_helpers_of_q1_previous_report_of_the_year_and_the_whole_of_a_part(engine):
    def fact(n, product, quantity, period):
        return {
            **q1_row(n, product, quantity, period),
            "prefecture_code": "620100",
            "review_status": "ok",
            "soft_rule_ids": "",
            "file_sha256": "f" * 64,
            "source_row": 2,
        }

    with engine.begin() as conn:
        insert_rows(
            conn,
            "fct_product_output",
            [
                fact(1, "steel_products_total", 500.0, "2013-05"),
                fact(1, "steel_products_total", 300.0, "2013-04"),
                fact(1, "steel_plate_strip", 90.0, "2013-04"),
                fact(2, "cement_total", 100.0, "2012-12"),
                fact(1, "steel_products_total", 580.0, "2013-06"),  # June itself, loaded before: not previous
            ],
        )
    first = [
        q1_row(1, "steel_products_total", 600.0),
        q1_row(1, "steel_plate_strip", 200.0),
        q1_row(2, "cement_total", 700.0),
        q1_row(2, "cement_new_dry_process", 300.0),
        q1_row(3, "nonferrous_deep_processed", 50.0),  # its whole not reported
    ]
    second = [q1_row(2, "cement_total", 350.0)]  # a corrected whole: the latest delivery counts
    out = _form_helpers(engine, "Q1", JUNE, {"first.csv": first, "second.csv": second})
    assert _values(out["_prev_period"]) == ["2013-05", "2013-04", None, None, None, None]
    assert _values(out["_prev_quantity_t"]) == [500.0, 90.0, None, None, None, None]
    assert out["_prev_quantity_t"].dtype == float
    assert _values(out["_whole_product"]) == [
        None,
        "steel_products_total",
        None,
        "cement_total",
        "nonferrous_total",
        None,
    ]
    assert _values(out["_whole_quantity_t"]) == [None, 600.0, None, 350.0, None, None]
    assert out["_whole_quantity_t"].dtype == float
    assert "_key" not in out
    assert _values(out["_in_register"]) == [1.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    assert "_register_region_code" not in out


def test_a_q1_part_takes_the_whole_of_its_own_enterprise_only(engine):
    rows = [
        q1_row(1, "steel_products_total", 600.0),
        q1_row(2, "steel_plate_strip", 100.0),
        {**q1_row(3, "steel_products_total", 40.0), "uscc": None},
        {**q1_row(4, "steel_plate_strip", 30.0), "uscc": None},
    ]
    out = _form_helpers(engine, "Q1", JUNE, {"june.csv": rows})
    # enterprise 2 has no whole; a part without a credit code takes the whole without one
    assert _values(out["_whole_quantity_t"]) == [None, None, None, 40.0]
    assert _values(out["_prev_period"]) == [None] * 4


def test_helper_of_g1_county_level_of_a_county_platform(engine):
    def g1(n, item_type, region):
        return {
            "item_id": f"G{n}",
            "item_type": item_type,
            "name": f"平台{n}",
            "region_code": region,
            "level": "省级",
            "recognised": "2013-01",
        }

    rows = [
        g1(1, "county_platform", "620102"),  # a county
        g1(2, "county_platform", "620100"),  # a prefecture
        g1(3, "county_platform", "629999"),  # no division
        g1(4, "county_platform", None),
        g1(5, "sme_platform", "620102"),  # another type: not evaluated
    ]
    out = _form_helpers(engine, "G1", JUNE, {"g1.csv": rows})
    assert _values(out["_county_level"]) == [1.0, 0.0, 0.0, 0.0, None]
    assert out["_county_level"].dtype == float
