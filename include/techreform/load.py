"""Load (入库): staged rows of one form and period → validation → quarantine, row outcomes and facts.

One transaction per (form, period) replaces exactly that period, so a re-run gives identical tables:

1. every staged row of the period (all deliveries) is validated (:func:`techreform.validation.validate_staged`);
2. a row that broke a hard rule (强制性审核), or whose cells did not parse (``<CODE>-H00``), is quarantined;
   every other row is accepted, as ``query`` (待核实) if it broke a soft rule without an explanation,
   ``explained`` if every soft rule it broke is explained, else ``ok``;
3. for each key, the latest delivery wins: rows of earlier deliveries with the same key are
   ``superseded`` (they stay in the history and in the counts, but not in the facts or the receipts);
4. the facts (or, for R1 and S1, the snapshot of the period) hold the current accepted rows.

Input rows = accepted + quarantined, always (superseded rows stay counted where they were decided).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from techreform.config import Settings
from techreform.forms import Form
from techreform.ingest import fill_received, parse_rule_id
from techreform.periods import Period
from techreform.reference import prefecture_of_rows
from techreform.supervisor_rules import validate_supervisors
from techreform.warehouse import delete_where, insert_rows, query, read_committed_frame, read_frame, refresh_statistics

OUTCOME_COLUMNS = [
    "form",
    "period",
    "file_sha256",
    "source_row",
    "record_key",
    "prefecture_code",
    "outcome",
    "review_status",
    "rule_ids",
    "superseded",
]
QUARANTINE_COLUMNS = [
    "form",
    "period",
    "file_sha256",
    "file_name",
    "source_row",
    "record_key",
    "prefecture_code",
    "row_json",
    "rule_ids",
    "fields",
    "messages",
    "superseded",
]


@dataclass
class LoadSummary:
    form: str
    period: str
    received: int
    accepted: int
    quarantined: int
    queried: int
    explained: int
    superseded: int
    current_rows: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def decide_outcomes(form: Form, staged: pd.DataFrame, unparsed: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """One row per input row with outcome, review status, rule ids, messages and superseded flag."""
    rows = staged[["file_sha256", "source_row", "delivery_seq", "file_name", "raw_json"]].copy()
    rows["record_key"] = form.record_keys(staged)
    rows["region_code"] = staged.get("region_code")
    rows["uscc"] = staged.get("uscc")
    _fill_failed_rows(rows, failures)
    if len(unparsed):
        bad = unparsed[
            ["file_sha256", "source_row", "delivery_seq", "file_name", "raw_json", "record_key", "fields", "messages"]
        ].copy()
        bad["region_code"] = None
        bad["uscc"] = bad["record_key"] if form.key_field == "uscc" else None
        bad["hard_rules"] = parse_rule_id(form)
        bad["soft_rules"] = ""
        bad["unexplained_soft"] = False
        rows = pd.concat([rows, bad], ignore_index=True)
    latest = rows[rows["record_key"] != ""].groupby("record_key")["delivery_seq"].transform("max")
    rows["superseded"] = 0
    rows.loc[latest.index, "superseded"] = (rows.loc[latest.index, "delivery_seq"] < latest).astype(int)
    quarantined = (rows["hard_rules"] != "").to_numpy()
    rows["outcome"] = pd.Series(np.where(quarantined, "quarantined", "accepted"), index=rows.index, dtype="str")
    rows["review_status"] = "ok"
    rows.loc[rows["soft_rules"] != "", "review_status"] = "explained"
    rows.loc[rows["unexplained_soft"], "review_status"] = "query"
    rows.loc[quarantined, "review_status"] = "quarantined"
    # the rule ids of the rows that broke a rule (a few thousand of a period's rows), "" for the others
    broke = np.flatnonzero(((rows["hard_rules"] != "") | (rows["soft_rules"] != "")).to_numpy())
    rows["rule_ids"] = _texts_at(
        len(rows),
        {
            position: ",".join(sorted(set(filter(None, (h + "," + s).split(",")))))
            for position, h, s in zip(broke.tolist(), rows["hard_rules"].iloc[broke], rows["soft_rules"].iloc[broke])
        },
    )
    rows["prefecture_code"] = prefecture_of_rows(
        rows["region_code"], rows["file_name"], rows["uscc"], region_is_prefecture=form.region_is_prefecture
    )
    return rows


DELIVERY_ORDER = ("delivery_seq", "file_sha256", "source_row")
"""The order staged rows are checked in: by delivery, file and row of the file (unique per row)."""


def into_delivery_order(staged: pd.DataFrame, keys: tuple[str, ...] = DELIVERY_ORDER) -> pd.DataFrame:
    """The rows of ``staged`` sorted by ``keys`` (:data:`DELIVERY_ORDER`), with a fresh index. The query leaves the
    order to this: the database's sort of a period's rows (all their columns) took seconds, where the
    keys' codes sorted here take milliseconds (docs/performance.md). SQLite returns the rows as staged,
    already in order, and nothing is moved; PostgreSQL's hash join returns them in another order, and
    then they move a column at a time, each column taken out of ``staged`` as it is copied (``staged`` is
    left without columns), so that the period's rows are not held twice. The file's sha256 sorts as text
    in code-point order, as ``order by`` sorts lower-case hexadecimal in either database."""
    if staged.empty:
        return staged
    codes = [  # whole numbers (numpy's: no missing value) sort as they are; other keys by their sorted codes
        staged[key].to_numpy()
        if isinstance(staged[key].dtype, np.dtype) and staged[key].dtype.kind in "iu"
        else pd.factorize(staged[key], sort=True)[0]
        for key in reversed(keys)
    ]
    order = np.lexsort(codes)
    del codes
    if (order[1:] > order[:-1]).all():
        return staged.reset_index(drop=True)
    columns = list(staged.columns)
    moved = {name: staged.pop(name).take(order).reset_index(drop=True) for name in columns}
    return pd.DataFrame(moved, columns=columns, copy=False)


FILE_COLUMNS = ("file_sha256", "delivery_period")
"""The staging table's columns that are the same on every row of a file: read once per file
(``staging/files/staged_files.sql``) and given to its rows by their ``delivery_seq``."""


def read_staged(conn: Connection, form: Form, period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The staged rows of ``form`` for the delivery folder ``period`` (every delivery, each row with its
    file's name and raw path; ``staging/files/staged_rows.sql`` and ``staged_files.sql``) and the rows that did not parse
    (``parse_errors.sql``), as the load and the instant review check them, both in delivery order.

    The staging table's columns come in its order, then ``file_name`` and ``raw_path``. What is the same
    on every row of a file (:data:`FILE_COLUMNS`, the name, the raw path) is read once per file and
    given to its rows by ``delivery_seq`` (unique within the form and period): the driver makes no
    Python text of a 64-character sha256 per row (docs/performance.md, round 13). ``raw_path`` (read only
    for the few rows read back) is held as a category: a small code per row instead of the path's text,
    some 150 MB less at a 1M-row month through the whole check (docs/performance.md). The rows come in
    delivery order (:func:`into_delivery_order`)."""
    columns = staging_columns(conn, form)
    staged = read_committed_frame(  # before anything is written: through the database's Arrow driver
        conn,
        "staging/files/staged_rows",
        table=form.staging_table,
        tables={"staging_table": form.staging_table, "columns": [c for c in columns if c not in FILE_COLUMNS]},
        form=form.code,
        period=period,
    )
    # after the rows: a file logged in between is only one more file, and every row read finds its own
    files = read_frame(conn, "staging/files/staged_files", form=form.code, period=period)
    # put in delivery order before the file's columns are added: a delivery_seq is one file (unique within
    # the form and period), so (delivery_seq, source_row) is DELIVERY_ORDER, sorted on whole numbers only
    staged = into_delivery_order(staged, ("delivery_seq", "source_row"))
    staged = _with_file_columns(staged, files, [*columns, "file_name", "raw_path"])
    staged["raw_path"] = staged["raw_path"].astype("category")
    return staged, into_delivery_order(read_frame(conn, "staging/files/parse_errors", form=form.code, period=period))


def _with_file_columns(staged: pd.DataFrame, files: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``staged`` with each row's file columns (those of ``files`` but ``delivery_seq``) taken from its
    file's row by ``delivery_seq``, typed as read from the database, in the order of ``columns``."""
    if staged.empty:
        return pd.DataFrame(columns=columns, dtype=object)
    positions = pd.Index(files["delivery_seq"]).get_indexer(staged["delivery_seq"])
    if (positions < 0).any():  # the query joins the same file log: a row without its file is a bug
        raise RuntimeError("a staged row's delivery_seq is not among its period's loaded files")
    for name in files.columns.drop("delivery_seq"):
        staged[name] = files[name].array.take(positions)  # by position, whatever either frame's index
    return staged[columns]


def load_form_period(engine: Engine, settings: Settings, form: Form, period: Period) -> LoadSummary:
    """Validate and load one form and period in a single transaction (idempotent)."""
    from techreform.validation import record_results, validate_staged

    p = str(period)
    with engine.begin() as conn:  # the files other transactions staged since the last load, for read_staged's reader
        refresh_statistics(conn, form.staging_table)
    with engine.begin() as conn:
        staged, unparsed = read_staged(conn, form, p)
        check_to_keep = None
        if form.checks == "supervisor_rules":
            result = validate_supervisors(staged)
            if len(result.failures):  # the rows as received of the failing rows (quarantine), from the raw zone
                failing = pd.MultiIndex.from_frame(result.failures[["file_sha256", "source_row"]].astype(object))
                keys = pd.MultiIndex.from_arrays(
                    [staged["file_sha256"].astype(object), staged["source_row"].astype(object)]
                )
                fill_received(settings, form, period, staged, np.flatnonzero(keys.isin(failing)))
        else:  # fills the rows as received of its failing rows itself
            result = validate_staged(conn, settings, form, period, staged, keep_check=False)
            check_to_keep = result.check_to_keep
        rows = decide_outcomes(form, staged, unparsed, result.failures)
        # the load's first write: on SQLite it takes the database's one write lock to the commit, so it
        # comes after the work in Python (the check, the rows read back, the outcomes decided)
        if check_to_keep is not None:
            check_to_keep.write(conn)
        _replace_period(conn, form, p, rows)
        if form.checks == "great_expectations":
            record_results(conn, form, period, result)
    # counted on masks: the current rows are not copied out of the period's (every column of half a
    # million rows, for two counts)
    accepted = (rows["outcome"] == "accepted").to_numpy()
    current = accepted & (rows["superseded"] == 0).to_numpy()
    status = rows["review_status"]
    return LoadSummary(
        form=form.code,
        period=p,
        received=len(rows),
        accepted=int(accepted.sum()),
        quarantined=int((rows["outcome"] == "quarantined").sum()),
        queried=int(((status == "query").to_numpy() & current).sum()),
        explained=int(((status == "explained").to_numpy() & current).sum()),
        superseded=int(rows["superseded"].sum()),
        current_rows=int(current.sum()),
    )


def _fill_failed_rows(rows: pd.DataFrame, failures: pd.DataFrame) -> None:
    """Fill, in place, ``rows``' ``hard_rules``, ``soft_rules`` (each sorted, comma-separated), ``fields``
    (the fields of its hard failures, sorted), ``messages`` (its hard failures' messages in order,
    '；'-separated) and ``unexplained_soft`` (a soft failure not explained) from ``failures`` (a row's
    ``file_sha256`` and ``source_row``, rule, severity, field, message, explained).

    Each failure is placed at its row's position once, and the few thousand failing rows are gathered
    in one pass: no group-by over the failures and no reindex of each result over the period's rows
    (docs/performance.md, round 14). A failure whose row is not in ``rows`` is ignored."""
    positions = (
        pd.MultiIndex.from_frame(rows[["file_sha256", "source_row"]]).get_indexer(
            pd.MultiIndex.from_arrays([failures["file_sha256"], failures["source_row"].astype(int)])
        )
        if len(failures)
        else np.empty(0, dtype=np.int64)
    )
    hard: dict[int, tuple[set[str], set[str], list[str]]] = {}
    soft: dict[int, set[str]] = {}
    unexplained: set[int] = set()
    for position, rule, severity, field, message, explained in zip(
        positions.tolist(),
        failures["rule_id"].tolist(),
        failures["severity"].tolist(),
        failures["field"].tolist(),
        failures["message"].tolist(),
        failures["explained"].astype(bool).tolist(),
    ):
        if position < 0:
            continue
        if severity == "hard":
            rules, fields, messages = hard.setdefault(position, (set(), set(), []))
            rules.add(rule)
            fields.update(field.split(","))
            messages.append(message)
        elif severity == "soft":
            soft.setdefault(position, set()).add(rule)
            if not explained:
                unexplained.add(position)
    count = len(rows)
    for column, values in (
        ("hard_rules", {p: ",".join(sorted(rules)) for p, (rules, _, _) in hard.items()}),
        ("soft_rules", {p: ",".join(sorted(rules)) for p, rules in soft.items()}),
        ("fields", {p: ",".join(sorted(fields)) for p, (_, fields, _) in hard.items()}),
        ("messages", {p: "；".join(messages) for p, (_, _, messages) in hard.items()}),
    ):
        rows[column] = _texts_at(count, values)
    flags = np.zeros(count, dtype=bool)
    flags[list(unexplained)] = True
    rows["unexplained_soft"] = flags


def _texts_at(count: int, values: dict[int, str]) -> Any:
    """A text column of ``count`` rows: ``values`` at their positions, ``""`` elsewhere — built by
    pyarrow's ``take`` from the few texts, not from a Python string per row (pandas' ``str`` dtype, as
    an assigned ``""`` gives it)."""
    import pyarrow as pa

    indices = np.zeros(count, dtype=np.int64)
    if values:
        indices[np.fromiter(values, dtype=np.int64, count=len(values))] = np.arange(1, len(values) + 1)
    return pa.array(["", *values.values()], type=pa.string()).take(pa.array(indices)).to_pandas().array


def _replace_period(conn: Connection, form: Form, period: str, rows: pd.DataFrame) -> None:
    """Replace the period's row outcomes, quarantine and facts of ``form``: the facts are the staged rows
    whose outcome in ``rows`` is accepted and current, copied inside the database."""
    # each table's statistics refreshed when the rows deleted and inserted here are enough to change them
    changed = delete_where(conn, "etl_row_outcome", form=form.code, period=period)
    outcomes = rows.assign(form=form.code, period=period)
    changed += insert_rows(conn, "etl_row_outcome", outcomes, OUTCOME_COLUMNS)
    refresh_statistics(conn, "etl_row_outcome", changed_rows=changed)  # the copy below joins the outcomes
    changed = delete_where(conn, "quarantine", form=form.code, period=period)
    quarantined = outcomes[outcomes["outcome"] == "quarantined"].rename(columns={"raw_json": "row_json"})
    changed += insert_rows(conn, "quarantine", quarantined, QUARANTINE_COLUMNS)
    refresh_statistics(conn, "quarantine", changed_rows=changed)

    changed = delete_where(conn, form.target_table, **{form.target_period_column: period})
    changed += query(
        conn,
        "ops/load/current_facts",
        tables={
            "target_table": form.target_table,
            "staging_table": form.staging_table,
            "period_column": form.target_period_column,
            "columns": fact_columns(conn, form),
            "key_columns": form.record_key_fields,
        },
        form=form.code,
        period=period,
    ).rowcount
    for spec in form.fields:
        if spec.type == "integer":  # whole numbers are a rule (E1-H07); the facts keep integers whatever it says
            changed += query(
                conn,
                "ops/load/whole_number_facts",
                tables={
                    "target_table": form.target_table,
                    "period_column": form.target_period_column,
                    "column": spec.name,
                },
                period=period,
            ).rowcount
    # for the indicators, the review and the next month's checks
    refresh_statistics(conn, form.target_table, changed_rows=changed)


OUTCOME_FACT_COLUMNS = ("prefecture_code", "review_status", "soft_rule_ids")
"""The columns of a form's facts that its rows' outcomes fill (``ops/load/current_facts.sql``)."""


def staging_columns(conn: Connection, form: Form) -> list[str]:
    """The columns of ``form``'s staging table (:attr:`Form.staging_table`), in the table's order."""
    return [c["name"] for c in sa.inspect(conn).get_columns(form.staging_table)]


def fact_columns(conn: Connection, form: Form) -> list[str]:
    """The columns of ``form``'s facts (:attr:`Form.target_table`) that the load fills from the staged row
    or its outcome (:data:`OUTCOME_FACT_COLUMNS`), in the table's order; the period column, which takes the
    delivery folder's period, is not among them."""
    staged = set(staging_columns(conn, form))
    return [
        c["name"]
        for c in sa.inspect(conn).get_columns(form.target_table)
        if c["name"] != form.target_period_column and (c["name"] in staged or c["name"] in OUTCOME_FACT_COLUMNS)
    ]
