"""What supervision reads from the warehouse: P1 history, current quarantined P1 rows, names of
enterprises and divisions, S1 supervisors, missing reporters (validation) and indicators (indicators).

Tables of other areas that may not exist yet in a warehouse (``dq_missing_reporter``,
``fct_indicator``) are read through functions that return nothing when the table is absent."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from techreform.cells import CellError, parse_boolean
from techreform.forms import form
from techreform.periods import Period
from techreform.reference import prefecture_of
from techreform.warehouse import has_table, query, query_in, read_frame

PROJECT_CODE_RE = re.compile(r"^\d{4}-62\d{4}-\d{2}-\d{2}-\d{6}$")
"""Project codes of the contract (P1-H01). A quarantined row whose code does not match names no project
(it is in the review receipt for its reporting unit, not in supervision)."""


def load_history(conn: Connection, period: Period, depth: int) -> pd.DataFrame:
    """The latest ``depth`` accepted P1 reports per project up to ``period``, with
    ``first_finished_period``."""
    return read_frame(conn, "intermediate/project_history", period=str(period), depth=depth)


def _parse_bool(value: Any) -> int | None:
    """A yes/no cell as the contract spells it (:func:`techreform.cells.parse_boolean`); ``None`` if unreadable."""
    try:
        return parse_boolean(value)
    except CellError:
        return None


def parse_quarantined_row(row_json: str) -> dict[str, Any]:
    """What can be read of a quarantined P1 row as received (headers Chinese or canonical): project
    name, USCC, region, key-project flag, status. Unreadable cells become ``None``."""
    try:
        cells = json.loads(row_json or "{}")
    except ValueError:
        return {}
    if not isinstance(cells, dict):
        return {}
    headers = form("P1").header_map()
    canonical: dict[str, Any] = {}
    for header, value in cells.items():
        name = headers.get(str(header).strip())
        if name is not None and value is not None and not (isinstance(value, float) and math.isnan(value)):
            canonical[name] = str(value).strip()
    out: dict[str, Any] = {
        "project_name": canonical.get("project_name") or None,
        "uscc": canonical.get("uscc") or None,
        "region_code": canonical.get("region_code") or None,
        "status": canonical.get("status") or None,
        "key_project": _parse_bool(canonical.get("key_project")),
    }
    return out


def load_quarantined(conn: Connection, first: Period, last: Period) -> pd.DataFrame:
    """Current quarantined P1 rows of ``first`` .. ``last`` whose project code is well-formed, one per
    (period, project_code), with what could be read of them (see :func:`parse_quarantined_row`)."""
    frame = read_frame(conn, "intermediate/quarantined_projects", first_period=str(first), last_period=str(last))
    records = []
    for row in frame.to_dict("records"):
        if not PROJECT_CODE_RE.match(str(row["project_code"]).strip()):
            continue
        parsed = parse_quarantined_row(row["row_json"])
        region = parsed.get("region_code") or ""
        prefecture = row.get("prefecture_code") or prefecture_of(region, row.get("file_name")) or None
        records.append(
            {
                "period": row["period"],
                "project_code": str(row["project_code"]).strip(),
                "prefecture_code": prefecture,
                "rule_ids": row["rule_ids"],
                "file_name": row["file_name"],
                "source_row": int(row["source_row"]),
                **parsed,
            }
        )
    columns = [
        "period",
        "project_code",
        "prefecture_code",
        "rule_ids",
        "file_name",
        "source_row",
        "project_name",
        "uscc",
        "region_code",
        "status",
        "key_project",
    ]
    out = pd.DataFrame(records, columns=columns)
    return out.drop_duplicates(["period", "project_code"], keep="last", ignore_index=True)


def enterprise_names(conn: Connection, period: Period, usccs: Iterable[str]) -> dict[str, str]:
    """USCC → enterprise name of the enterprises ``usccs`` (those a period's lights name, not the
    register's half million): the register in force, else the latest E1 report."""
    names: dict[str, tuple[int, str]] = {}
    wanted = sorted({u for u in usccs if isinstance(u, str) and u})
    for uscc, name, preference in query_in(conn, "intermediate/enterprise_names", wanted, period=str(period)):
        if uscc and name and (uscc not in names or preference < names[uscc][0]):
            names[uscc] = (preference, name)
    return {uscc: name for uscc, (_, name) in names.items()}


def division_names(conn: Connection) -> dict[str, str]:
    """Division code → name (counties and prefectures)."""
    return {code: name for code, name, *_ in query(conn, "staging/reference/divisions")}


def supervisors_in_force(conn: Connection, period: Period) -> list[dict[str, Any]]:
    """S1 supervisors in force for ``period``: region_code, name, email, role."""
    return [dict(r._mapping) for r in query(conn, "intermediate/supervisors_in_force", period=str(period))]


def missing_reporters(conn: Connection, period: Period) -> list[dict[str, Any]]:
    """Enterprises expected to report E1 for ``period`` that did not (缺报), from validation's
    completeness table; ``[]`` while that table does not exist in the warehouse."""
    if not has_table(conn, "dq_missing_reporter"):
        return []
    return [dict(r._mapping) for r in query(conn, "marts/supervision/missing_reporters", period=str(period))]


def province_indicators(conn: Connection, period: Period) -> list[dict[str, Any]]:
    """Province-level indicators of ``period`` against their targets, from ``fct_indicator``; ``[]``
    while that table does not exist."""
    if not has_table(conn, "fct_indicator"):
        return []
    return [dict(r._mapping) for r in query(conn, "marts/supervision/province_indicators", period=str(period))]
