"""Completeness (报送率) of the enterprise monthly report E1, per prefecture, and the missing reporters.

Expected: every enterprise the register in force for the period lists as above-scale (规模以上) and
operating (在营). Received: expected enterprises that sent any E1 row in the period's delivery folder
(accepted, quarantined or unparsable: a unit that reported wrongly is asked to correct, not to report).
January is excepted (its report is optional): nobody is expected, nobody is missing. Missing reporters
(缺报) are not data errors; they are stored for the supervisors' emails and the reports.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from sqlalchemy.engine import Engine

from techreform.arrowtext import text_array
from techreform.config import Settings
from techreform.forms import Form
from techreform.periods import Period
from techreform.reference import province
from techreform.warehouse import delete_where, insert_rows, query_in, read_frame


def among(codes: pd.Series, others: pd.Series) -> np.ndarray:
    """Whether each of ``codes`` (text) is one of ``others``, as a boolean array (a null is among none).

    Compared in pyarrow: pandas' ``isin`` on arrow-backed strings makes a Python scalar of every value it
    is given, 2 s for the 500,000 codes of a national month (docs/performance.md)."""
    if codes.empty or others.empty:
        return np.zeros(len(codes), dtype=bool)
    found = pc.is_in(text_array(codes.astype("str")), value_set=text_array(others.astype("str")), skip_nulls=True)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def rates_by_prefecture(expected: pd.DataFrame, prefectures: pd.DataFrame, period: str) -> list[dict[str, Any]]:
    """报送率 rows, one per prefecture and one for the province: expected reporters (``expected``, with
    ``prefecture_code`` and a boolean ``received``), received, missing and their rate (``None`` when
    nobody was expected)."""
    province_code, province_name = province()
    rows = []
    for code, name in [*zip(prefectures["code"], prefectures["name"]), (province_code, province_name)]:
        part = expected if code == province_code else expected[expected["prefecture_code"] == code]
        n_expected, n_received = len(part), int(part["received"].sum())
        rows.append(
            {
                "period": period,
                "prefecture_code": code,
                "prefecture_name": name,
                "expected": n_expected,
                "received": n_received,
                "missing": n_expected - n_received,
                "rate": (n_received / n_expected) if n_expected else None,
            }
        )
    return rows


def compute_completeness(engine: Engine, settings: Settings, period: Period | str) -> dict[str, Any]:
    """Replace the period's rows of ``dq_completeness`` and ``dq_missing_reporter``; return a summary.

    The summary: ``{"period", "expected", "received", "missing", "rate", "by_prefecture": {code: {...}}}``."""
    period = Period.parse(period)
    p = str(period)
    with engine.begin() as conn:
        prefectures = read_frame(conn, "staging/reference/prefectures")
        if period.month == 1:
            expected = read_frame(conn, "intermediate/expected_reporters", period=p).iloc[0:0]
        else:
            expected = read_frame(conn, "intermediate/expected_reporters", period=p)
        received = read_frame(conn, "intermediate/received_reporters", period=p)["uscc"]
        expected["received"] = among(expected["uscc"], received)
        rows = rates_by_prefecture(expected, prefectures, p)
        missing = expected.loc[~expected["received"], "uscc"]  # by prefecture and USCC, as each chunk is
        missing_rows = [
            {"period": p, **row._asdict()}
            for row in query_in(conn, "intermediate/registered_enterprises", missing.tolist(), period=p)
        ]
        delete_where(conn, "dq_completeness", period=p)
        delete_where(conn, "dq_missing_reporter", period=p)
        insert_rows(conn, "dq_completeness", rows)
        insert_rows(conn, "dq_missing_reporter", missing_rows)
    whole = rows[-1]
    return {
        "period": p,
        "expected": whole["expected"],
        "received": whole["received"],
        "missing": whole["missing"],
        "rate": whole["rate"],
        "by_prefecture": {
            r["prefecture_code"]: {k: r[k] for k in ("expected", "received", "missing", "rate")} for r in rows[:-1]
        },
    }


def compute_form_completeness(engine: Engine, settings: Settings, form: Form, period: Period | str) -> dict[str, Any]:
    """Completeness of a form whose reporters are those that reported it before (``Form.expected_reporters``
    = ``previous_reporters``, Q1): expected = enterprises with an accepted row of the form in the twelve
    months before the period, still above scale and 在营 in the register in force; received = those that
    sent any row in the period's folder. Replaces the (form, period) rows of ``dq_form_completeness`` and
    ``dq_form_missing_reporter``; returns ``{"form", "period", "expected", "received", "missing", "rate"}``."""
    period = Period.parse(period)
    p = str(period)
    tables = {"target_table": form.target_table, "staging_table": form.staging_table}
    with engine.begin() as conn:
        prefectures = read_frame(conn, "staging/reference/prefectures")
        expected = read_frame(
            conn, "intermediate/expected_previous_reporters", tables=tables, period=p, since=str(period.shift(-12))
        )
        received = read_frame(conn, "intermediate/received_form_reporters", tables=tables, period=p, form=form.code)
        expected["received"] = among(expected["uscc"], received["uscc"])
        rows = [{"form": form.code, **row} for row in rates_by_prefecture(expected, prefectures, p)]
        missing = expected[~expected["received"]]
        delete_where(conn, "dq_form_completeness", form=form.code, period=p)
        delete_where(conn, "dq_form_missing_reporter", form=form.code, period=p)
        insert_rows(conn, "dq_form_completeness", rows)
        insert_rows(
            conn,
            "dq_form_missing_reporter",
            [
                {
                    "form": form.code,
                    "period": p,
                    "uscc": r["uscc"],
                    "enterprise_name": r["enterprise_name"],
                    "prefecture_code": r["prefecture_code"],
                    "contact_email": r["contact_email"],
                }
                for r in missing.astype(object).where(missing.notna(), None).to_dict("records")
            ],
        )
    whole = rows[-1]
    return {k: whole[k] for k in ("form", "period", "expected", "received", "missing", "rate")}
