"""Helper columns for the rules GX has no row-level form for (cross-period, cross-form, register, HB).

Each ``_``-prefixed column is computed here from the staged rows and the warehouse (through the load's
connection), then asserted by an expectation of the suite that carries the rule id. Conventions: a
``_prev_*`` / ``_register_*`` / ``_p1_*`` column is null where the rule does not apply (no previous
report, no register, no project), so the pair expectations skip the row; a ``_hb_ok_*`` or
``_in_register`` flag is 1 (passes), 0 (fails) or null (not evaluated).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from techreform.forms import E1_YEAR_TO_DATE_FIELDS, PRODUCT_PARTS, TECH_CENTRE_LEVELS, Form
from techreform.options import ValidationOptions
from techreform.periods import Period
from techreform.validation import hb
from techreform.warehouse import read_committed_frame
from techreform.warehouse import read_frame as warehouse_read_frame
from techreform.warehouse import read_frame_in as warehouse_read_frame_in


def read_frame(conn: Connection, name: str, **params: Any) -> pd.DataFrame:
    """A query file's result with the driver's values kept as they are (see :func:`warehouse.read_frame`)."""
    return warehouse_read_frame(conn, name, as_objects=True, **params)


CUMULATIVE_FIELDS = E1_YEAR_TO_DATE_FIELDS
"""E1-S07: every amount and quantity that is year-to-date (all but profit and employees)."""

HB_FIELDS = ("gross_output", "revenue", "techreform_investment")
"""E1-S08: the fields whose monthly increments are screened with Hidiroglou–Berthelot."""


def _month(periods: pd.Series) -> pd.Series:
    return pd.to_numeric(periods.astype("string").str[5:7], errors="coerce")


def latest_per_key(frame: pd.DataFrame, key: str) -> pd.Series:
    """True on the row of each key that the load keeps (latest delivery, then last row of it)."""
    order = frame.sort_values(["delivery_seq", "source_row"], kind="stable")
    last = ~order.duplicated(subset=[key], keep="last")
    return last.reindex(frame.index).fillna(False).astype(bool)


def align(keys: pd.Series, table: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows of ``table`` (unique by ``key``) matched to ``keys`` position by position (one lookup for
    all columns; unmatched or null keys give null rows; the result's index is 0..n−1).

    The keys are compared as text in pyarrow's hash table, not as a pandas index of Python objects: the
    national register is a million keys, and an index of objects held some 400 MB more at a 1M-row
    month (docs/performance.md)."""
    import pyarrow.compute as pc

    unique = table.drop_duplicates(key).reset_index(drop=True)
    positions = pc.index_in(_as_text(keys), value_set=_as_text(unique[key]), skip_nulls=True)
    labels = positions.fill_null(-1).to_numpy(zero_copy_only=False)
    # -1 is no label of the 0..m−1 index: an unmatched key gets a row of nulls
    return unique.drop(columns=key).reindex(labels).reset_index(drop=True)


def _as_text(values: pd.Series) -> Any:
    """``values`` as one pyarrow array of text (large_string), missing values as nulls.

    Keys are codes (统一社会信用代码, project codes), text on both sides. A column of numbers is refused
    rather than turned into text: ``1`` and ``1.0`` would be different texts, and a key that silently
    matches nothing is a wrong answer, not an error (a column of numbers with no value, as a query gives
    for a column of nulls, is taken as null keys)."""
    from techreform.arrowtext import text_array

    if values.dtype.kind in "biufc" and values.notna().any():
        raise TypeError(f"keys are matched as text; {values.name!r} holds numbers ({values.dtype})")
    return text_array(values.astype("str"))  # str columns: their own arrow buffers


REGISTER_LOOKUP_MAX_CODES = 20_000
"""Up to this many distinct codes, a form's rows look their codes up in the register in force
(``intermediate/register_codes_of.sql``, by the register's key); above it the whole register is read
(``register_codes.sql``): a P1 month of 1,500 projects no longer reads a national register of half a
million rows (docs/performance.md, round 16)."""


def _register(conn: Connection, period: Period, codes: pd.Series) -> pd.DataFrame:
    """The codes of the register in force (uscc, region_code, industry_code), one row per uscc, for the
    enterprises of ``codes`` (the register's other rows may be left out: every caller aligns the frame's
    codes to it). Read as typed columns (text held by pyarrow), not as Python objects: a national register
    is a million rows, of which only the codes matched to the period's rows become objects
    (:func:`_register_columns`); a few codes are looked up, not the whole register read
    (:data:`REGISTER_LOOKUP_MAX_CODES`). When the lookup finds none, the whole register is read: an empty
    register means none is in force (the rule is not evaluated), which no lookup can tell apart from codes
    that are all unknown."""
    wanted = codes.dropna().unique()
    register = None
    if len(wanted) <= REGISTER_LOOKUP_MAX_CODES:
        register = warehouse_read_frame_in(
            conn, "intermediate/register_codes_of", sorted(str(c) for c in wanted), period=str(period)
        )
    if register is None or register.empty:  # none found: the whole register says whether there is one
        register = read_committed_frame(  # the register's load committed: through the Arrow driver
            conn, "intermediate/register_codes", table="dim_enterprise_register", period=str(period)
        )
    return register.drop_duplicates("uscc")


def _register_columns(frame: pd.DataFrame, register: pd.DataFrame, with_codes: bool) -> pd.DataFrame:
    if register.empty:  # no register delivered yet: the rule cannot be evaluated
        frame["_in_register"] = np.nan
        if with_codes:
            frame["_register_region_code"] = None
            frame["_register_industry_code"] = None
        return frame
    matched = align(frame["uscc"], register, "uscc")
    known = matched["region_code"].notna().to_numpy()
    frame["_in_register"] = np.where(frame["uscc"].isna().to_numpy(), np.nan, known.astype(float))
    if with_codes:
        frame["_register_region_code"] = matched["region_code"].to_numpy(dtype=object)
        frame["_register_industry_code"] = matched["industry_code"].to_numpy(dtype=object)
    return frame


def common(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    """``_period``: the row's period, or the delivery folder's where the row has none (R1 has none)."""
    if "period" in frame.columns:
        frame["_period"] = frame["period"].astype(object).where(frame["period"].notna(), str(period))
    else:
        frame["_period"] = str(period)
    frame["delivery_period"] = frame.get("delivery_period", str(period))
    return frame


def enterprise_monthly(
    conn: Connection, frame: pd.DataFrame, period: Period, options: ValidationOptions
) -> pd.DataFrame:
    """Helper columns of E1 (S02, S06, S07, S08, S09, S10)."""
    frame["_abs_profit"] = frame["profit"].abs()
    frame["_solid_waste_utilization_cap"] = frame["solid_waste_generated"] * 1.5

    previous = read_frame(
        conn, "intermediate/previous_enterprise_reports", period=str(period), year_start=f"{period.year:04d}-01"
    )
    previous = align(frame["uscc"], previous, "uscc")
    frame["_prev_period"] = previous["prev_period"].to_numpy(dtype=object)
    for name in CUMULATIVE_FIELDS:
        frame[f"_prev_{name}"] = pd.to_numeric(previous[name], errors="coerce").to_numpy(dtype=float)

    # E1-S08: own monthly increment vs own average monthly increment so far this year.
    current_month = float(period.month)
    prev_month = _month(frame["_prev_period"]).astype(float)
    keep = latest_per_key(frame, "uscc")
    for name in HB_FIELDS:
        prev = frame[f"_prev_{name}"]
        increment = (frame[name] - prev) / (current_month - prev_month)
        reference = prev / prev_month
        frame[f"_hb_increment_{name}"] = increment.round(4)
        frame[f"_hb_reference_{name}"] = reference.round(4)
        fence = hb.fit(reference[keep], increment[keep], hb.HBParameters.from_options(options, name))
        frame[f"_hb_ok_{name}"] = hb.flags(reference, increment, fence)

    frame = _register_columns(frame, _register(conn, period, frame["uscc"]), with_codes=True)

    projects = read_frame(conn, "intermediate/project_investment_by_unit", period=str(period))
    sums = align(frame["uscc"], projects, "uscc")["p1_ytd_investment"]
    frame["_p1_ytd_investment"] = pd.to_numeric(sums, errors="coerce").to_numpy(dtype=float).round(6)
    return frame


def project_monthly(conn: Connection, frame: pd.DataFrame, period: Period, options: ValidationOptions) -> pd.DataFrame:
    """Helper columns of P1 (H07, S01, S03, S04)."""
    frame["_ytd_investment_less_tolerance"] = frame["ytd_investment"] - 0.5
    frame["_planned_total_investment_x1_2"] = frame["planned_total_investment"] * 1.2
    previous = read_frame(
        conn, "intermediate/previous_project_reports", period=str(period), year_start=f"{period.year:04d}-01"
    )
    previous = align(frame["project_code"], previous, "project_code")
    frame["_prev_period"] = previous["prev_period"].to_numpy(dtype=object)
    for name in ("ytd_investment", "cumulative_investment"):
        frame[f"_prev_{name}"] = pd.to_numeric(previous[f"prev_{name}"], errors="coerce").to_numpy(dtype=float)
    return _register_columns(frame, _register(conn, period, frame["uscc"]), with_codes=False)


def enterprise_register(
    conn: Connection, frame: pd.DataFrame, period: Period, options: ValidationOptions
) -> pd.DataFrame:
    """R1 needs only ``_period`` (the snapshot's month, for division validity)."""
    return frame


def enterprise_annual(
    conn: Connection, frame: pd.DataFrame, period: Period, options: ValidationOptions
) -> pd.DataFrame:
    """Helper columns of A1 (H02 the folder's year, S01 register in force in December, S02 last year's
    technology-centre level). ``period`` is the folder's, ``<YYYY>-12``."""
    frame["_folder_year"] = float(period.year)
    rank = {level: float(i) for i, level in enumerate(TECH_CENTRE_LEVELS)}
    frame["_level_rank"] = frame["tech_centre_level"].map(rank).astype(float)
    previous = read_frame(conn, "intermediate/previous_annual_reports", previous_period=f"{period.year - 1:04d}-12")
    previous = align(frame["uscc"], previous, "uscc")
    frame["_prev_tech_centre_level"] = previous["prev_tech_centre_level"].to_numpy(dtype=object)
    frame["_prev_level_rank"] = previous["prev_tech_centre_level"].map(rank).astype(float).to_numpy()
    return _register_columns(frame, _register(conn, period, frame["uscc"]), with_codes=False)


def product_output(conn: Connection, frame: pd.DataFrame, period: Period, options: ValidationOptions) -> pd.DataFrame:
    """Helper columns of Q1 (S01 register, S02 previous report of the year, S03 the whole of a part)."""
    key = frame["uscc"].astype(object).fillna("").astype(str) + "/" + frame["product_code"].astype(object).fillna("")
    previous = read_frame(
        conn, "intermediate/previous_product_reports", period=str(period), year_start=f"{period.year:04d}-01"
    )
    previous["key"] = previous["uscc"].astype(str) + "/" + previous["product_code"].astype(str)
    previous = align(key, previous, "key")
    frame["_prev_period"] = previous["prev_period"].to_numpy(dtype=object)
    frame["_prev_quantity_t"] = pd.to_numeric(previous["prev_quantity_t"], errors="coerce").to_numpy(dtype=float)
    # Q1-S03: the whole of a part, from the rows the load keeps (latest delivery) of the same enterprise
    frame["_key"] = key
    kept = frame[latest_per_key(frame, "_key")]
    wholes = {part: whole for part, whole in PRODUCT_PARTS}
    frame["_whole_product"] = frame["product_code"].map(wholes)
    whole_key = frame["uscc"].astype(object).fillna("").astype(str) + "/" + frame["_whole_product"].fillna("")
    quantities = kept[["_key", "quantity_t"]]
    frame["_whole_quantity_t"] = pd.to_numeric(
        align(whole_key.where(frame["_whole_product"].notna()), quantities, "_key")["quantity_t"], errors="coerce"
    ).to_numpy(dtype=float)
    frame = frame.drop(columns=["_key"])
    return _register_columns(frame, _register(conn, period, frame["uscc"]), with_codes=False)


def programme_registry(
    conn: Connection, frame: pd.DataFrame, period: Period, options: ValidationOptions
) -> pd.DataFrame:
    """Helper column of G1-S01: ``_county_level`` is 1 where a county platform's region is a county, 0
    where it is not, null for other types (not evaluated)."""
    divisions = read_frame(conn, "staging/reference/all_divisions")
    levels = dict(zip(divisions["code"].astype(str), divisions["level"].astype(str)))
    is_county = frame["region_code"].map(levels).eq("county").astype(float)
    frame["_county_level"] = is_county.where(frame["item_type"].eq("county_platform").to_numpy(), np.nan)
    return frame


BY_FORM = {
    "E1": enterprise_monthly,
    "P1": project_monthly,
    "R1": enterprise_register,
    "A1": enterprise_annual,
    "Q1": product_output,
    "G1": programme_registry,
}


def helper_columns(
    conn: Connection, form: Form, frame: pd.DataFrame, period: Period, options: ValidationOptions
) -> pd.DataFrame:
    """The staged rows with the form's helper columns added (a new frame; the index is 0..n−1). With
    pandas' copy-on-write the staged columns are shared, not copied, and the caller's frame is unchanged."""
    frame = common(frame.reset_index(drop=True), period)
    return BY_FORM[form.code](conn, frame, period, options)
