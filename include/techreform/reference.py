"""Code lists shipped with the package (copies of ``shared/reference/``) and their warehouse tables."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from techreform.config import REFERENCE_DIR
from techreform.labels import label_rows
from techreform.periods import period_range
from techreform.warehouse import delete_where, insert_rows

PROVINCE_CODE = "620000"
"""GB/T 2260 code of Gansu; the shipped division list must agree (checked by the tests)."""


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str
    prefecture_code: str | None
    prefecture_name: str | None
    valid_from: str | None
    valid_to: str | None

    def valid_in(self, period: str) -> bool:
        """Valid in ``period`` (YYYY-MM): from ``valid_from`` inclusive to ``valid_to`` exclusive."""
        return (not self.valid_from or self.valid_from <= period) and (not self.valid_to or period < self.valid_to)


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def divisions() -> tuple[Division, ...]:
    return tuple(
        Division(
            r["code"],
            r["name"],
            r["level"],
            r["prefecture_code"] or None,
            r["prefecture_name"] or None,
            r["valid_from"] or None,
            r["valid_to"] or None,
        )
        for r in _read_csv("gansu_divisions.csv")
    )


def province() -> tuple[str, str]:
    """The province's GB/T 2260 code and name: ``("620000", "甘肃省")``."""
    return next((d.code, d.name) for d in divisions() if d.level == "province")


def prefectures() -> dict[str, str]:
    """The 14 prefectures: code → name, in code order."""
    return {d.code: d.name for d in divisions() if d.level == "prefecture"}


def counties() -> dict[str, Division]:
    return {d.code: d for d in divisions() if d.level == "county"}


@lru_cache(maxsize=1)
def industry_divisions() -> dict[str, dict[str, str]]:
    """GB/T 4754-2011 divisions of sections B, C, D: two-digit code → section, name, sector_group."""
    return {r["division"]: r for r in _read_csv("industry_divisions_gbt4754_2011.csv")}


CALENDAR = ("1990-01", "2099-12")
"""The months of ``dim_month``: what the in-force views (``int_register_in_force``) can be asked for."""

_FILE_PREFECTURE_RE = r"_(62\d{2}00)_"


def prefecture_of_rows(
    region_codes: pd.Series,
    file_names: pd.Series | None = None,
    usccs: pd.Series | None = None,
    *,
    region_is_prefecture: bool = False,
) -> pd.Series:
    """The prefecture (市州) each row belongs to — the one definition, for facts, row outcomes, receipts
    and supervision alike. In order, the first that applies:

    1. ``region_code`` is a county of the division list → that county's prefecture;
       with ``region_is_prefecture`` (form S1), ``region_code`` is a prefecture or the province → itself;
    2. the delivering file's prefecture, from its name (``E1_620100_2013-06.csv``): whoever sent the row
       is asked to correct it;
    3. ``region_code`` is six digits starting with a prefecture's four (a county code with a typo) → that
       prefecture;
    4. the unit's USCC names a prefecture's registration authority (positions 3–6) → that prefecture;
    5. otherwise ``""`` (unknown).
    """
    region = region_codes.astype(object).where(region_codes.notna(), "").astype(str).str.strip()
    known = set(prefectures())
    if region_is_prefecture:
        result = region.where(region.isin(known | {PROVINCE_CODE}), "")
    else:
        result = region.map({code: d.prefecture_code for code, d in counties().items()}).fillna("")
    result = result.astype(object)

    # rules 2-4, each for the rows no earlier rule placed only (at a national month a few hundred of
    # half a million rows: the file names, typo'd codes and USCCs of the others are never looked at)
    def typo(rows: np.ndarray) -> pd.Series:
        return (region[rows].str[:4] + "00").where(region[rows].str.fullmatch(r"\d{6}"), "")

    def registration(rows: np.ndarray) -> pd.Series:
        return usccs[rows].astype(object).where(usccs[rows].notna(), "").astype(str).str[2:6] + "00"

    candidates = [
        (lambda rows: _file_prefectures(file_names[rows])) if file_names is not None else None,
        typo,
        registration if usccs is not None else None,
    ]
    for candidate_of in candidates:
        pending = (result == "").to_numpy()
        if not pending.any():
            break
        if candidate_of is None:
            continue
        candidate = candidate_of(pending)
        candidate = candidate.where(candidate.isin(known), "").fillna("")
        result[pending] = candidate.to_numpy(dtype=object)
    return result


def _file_prefectures(file_names: pd.Series) -> pd.Series:
    """The prefecture code in each row's file name (``E1_620100_2013-06.csv`` → ``620100``; NaN where
    none), read once per distinct name: a period's rows come from a few dozen files, and a regular
    expression per row was 2 s of a national month's load."""
    names = file_names.astype(object).fillna("").astype(str)
    codes, distinct = pd.factorize(names)
    found = pd.Series(distinct, dtype=object).str.extract(_FILE_PREFECTURE_RE, expand=False)
    return pd.Series(found.to_numpy(dtype=object)[codes], index=file_names.index, dtype=object)


def prefecture_of(
    region_code: object, file_name: object = None, uscc: object = None, *, region_is_prefecture: bool = False
) -> str:
    """:func:`prefecture_of_rows` for one row."""
    return prefecture_of_rows(
        pd.Series([region_code], dtype=object),
        pd.Series([file_name], dtype=object),
        pd.Series([uscc], dtype=object),
        region_is_prefecture=region_is_prefecture,
    ).iloc[0]


def load_calendar(conn: Connection) -> None:
    """Replace ``dim_month`` with the months of :data:`CALENDAR` (idempotent)."""
    delete_where(conn, "dim_month")
    insert_rows(conn, "dim_month", [{"period": str(p)} for p in period_range(CALENDAR[0], CALENDAR[1])])


def reference_digest() -> str:
    """The sha256 of what :func:`load_reference_tables` loads: the shipped code lists, the calendar and
    the labels."""
    digest = hashlib.sha256()
    for name in ("gansu_divisions.csv", "industry_divisions_gbt4754_2011.csv"):
        digest.update((REFERENCE_DIR / name).read_bytes())
    digest.update(json.dumps([CALENDAR, label_rows()], sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def load_reference_tables(conn: Connection) -> None:
    """Replace ``dim_division``, ``dim_industry``, ``dim_month`` and ``dim_label`` with the shipped code
    lists, the calendar and the labels of :mod:`techreform.labels` (idempotent) — unless the warehouse
    holds them already (``ops_reference_version`` names their digest): every task of every run calls this,
    and rewriting shared tables that did not change would make concurrent runs (the instant review beside
    a month's run) collide on them."""
    digest = reference_digest()
    if conn.execute(sa.text("select digest from ops_reference_version")).scalar() == digest:
        return
    delete_where(conn, "dim_division")
    insert_rows(
        conn,
        "dim_division",
        [
            r
            | {
                k: (v or None)
                for k, v in r.items()
                if k in ("prefecture_code", "prefecture_name", "valid_from", "valid_to", "note")
            }
            for r in _read_csv("gansu_divisions.csv")
        ],
    )
    delete_where(conn, "dim_industry")
    insert_rows(conn, "dim_industry", _read_csv("industry_divisions_gbt4754_2011.csv"))
    load_calendar(conn)
    delete_where(conn, "dim_label")
    insert_rows(conn, "dim_label", label_rows())
    delete_where(conn, "ops_reference_version")
    insert_rows(conn, "ops_reference_version", [{"digest": digest}])
