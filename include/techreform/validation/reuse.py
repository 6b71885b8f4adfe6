"""Reuse of a check's results (审核结果复用): the suite is not run twice on the same input.

A check of a form and period runs the form's GX suite on the staged rows with their helper columns
(:mod:`techreform.validation.derive`: earlier periods, the register in force, P1 of the period, the
Hidiroglou–Berthelot fences over the period's rows) and the code lists. Its **fingerprint** is the digest
of exactly that input, in three parts, so that a log line can say what changed:

- ``rows``: the staged rows as delivered (every file's sha256, delivery order, row numbers, values);
- ``context``: what the rows were checked against — every helper column and the suite's parameters
  (code lists, period); a register snapshot loaded later, a corrected earlier period or P1 loaded since
  change it;
- ``suite``: the form's suite file and the ``validation`` options the check depends on (:data:`CHECK_OPTIONS`).

The latest check of each (form, period) is kept in ``dq_review_check`` with the suite's results (the
failures by (position, rule) and the rule counts, before explanations are applied: explanations are
matched again each time, they are cheap and may arrive later). :func:`check` returns the kept results
when the fingerprint is unchanged and runs the suite otherwise (the caller then keeps the new results):
the delivery DAG's instant review and the month's run call it alike, so the month's run does not
validate again what the instant review validated against the same warehouse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from techreform.forms import Form
from techreform.options import ValidationOptions
from techreform.periods import Period
from techreform.validation import outcomes, suites
from techreform.warehouse import delete_where, has_table, insert_rows, read_frame

log = logging.getLogger(__name__)

GROUPED_COLUMNS = ["position", "rule_id", "severity", "field", "message"]
CHECK_OPTIONS = ("hb_u", "hb_a", "hb_c", "hb_min_group")
"""The ``validation`` options a check depends on (the Hidiroglou–Berthelot parameters of E1-S08; the
others decide what happens after the check: thresholds, deadlines, Data Docs)."""


@dataclass(frozen=True)
class Fingerprint:
    """What a check ran on: the staged rows, the context they were checked against, the suite."""

    rows: str
    context: str
    suite: str

    @property
    def value(self) -> str:
        return hashlib.sha256(f"{self.rows}|{self.context}|{self.suite}".encode()).hexdigest()

    def changes_from(self, other: Fingerprint) -> list[str]:
        """Which parts differ from ``other`` (``rows``, ``context``, ``suite``)."""
        return [name for name, value in asdict(self).items() if asdict(other)[name] != value]


def _type_tags(column: pd.Series) -> bytes:
    """What the hashes of an object column's values cannot tell apart: ``hash_pandas_object`` hashes
    the values that are not text through ``str()``, which spells 1 and "1", True and "True", a date and
    its ISO text alike. So which values are null, and the kind of the others: one kind for the whole
    column when its values share one (found vectorised, ``infer_dtype``), else each value's type."""
    null = column.isna().to_numpy(dtype=bool)
    kind = pd.api.types.infer_dtype(column, skipna=True)
    tags = kind.encode() + b"\x00" + np.packbits(null).tobytes()
    if kind.startswith("mixed"):  # several types: each value's (a rare column, a Python loop)
        tags += b"\x00" + "\x00".join(type(value).__name__ for value in column[~null]).encode()
    return tags


def _columns_digest(frame: pd.DataFrame, columns: list[str]) -> str:
    """The digest of ``columns`` of ``frame``, in name order: the row count, then per column its name,
    its values' hashes and their types (:func:`_type_tags`)."""
    digest = hashlib.sha256()
    digest.update(str(len(frame)).encode())
    for name in sorted(columns):
        digest.update(b"\x00" + name.encode("utf-8") + b"\x00")
        series = frame[name]
        if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf":
            # numbers and booleans hashed as they are stored (str() of 500,000 floats costs seconds),
            # under their dtype's name: never alike with text, nor with another dtype's same values
            digest.update(b"native:" + series.dtype.str.encode())
            digest.update(pd.util.hash_pandas_object(series, index=False).to_numpy().tobytes())
            continue
        if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
            digest.update(b"text:" + _arrow_text_bytes(series))  # as pyarrow stores it: no Python objects
            continue
        column = series.astype(object).where(series.notna(), None)
        digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
        digest.update(_type_tags(column))
    return digest.hexdigest()


def _arrow_text_bytes(series: pd.Series) -> bytes:
    """The digest of a column of text held by pyarrow (pandas 3's ``str``), from its buffers as stored:
    which values are null, each value's length (the offsets, from 0) and the values' UTF-8 bytes. No
    Python object per value is made (a national month's text columns are 500,000 values each)."""
    import pyarrow.compute as pc

    from techreform.arrowtext import text_array, text_bytes

    array = text_array(series)
    digest = hashlib.sha256(np.packbits(array.is_null().to_numpy(zero_copy_only=False)).tobytes())
    filled = pc.fill_null(array, "")  # a null slot's bytes are not defined by Arrow: none are hashed
    ends, content = text_bytes(filled)
    digest.update(ends.tobytes())
    digest.update(content)
    return digest.digest()


NOT_CHECKED = ("raw_path", "raw_json")
"""Staged columns the suite never reads: left out of the rows' digest."""


@cache
def _code_digest() -> str:
    """The code that checks: this package's sources (custom expectations, helper columns, outcomes and
    messages) and the Great Expectations version — a check made by other code is not reused."""
    digest = hashlib.sha256(metadata.version("great_expectations").encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()


def fingerprint(form: Form, frame: pd.DataFrame, parameters: dict[str, Any], options: ValidationOptions) -> Fingerprint:
    """The fingerprint of a check of ``frame`` (staged rows with helper columns, index 0..n−1)."""
    helper = [c for c in frame.columns if c.startswith("_")]
    # the rows as checked: their values and where they came from (file sha256, row); not where the raw
    # file is kept (raw_path, which differs from one store to another) nor its copy as received
    rows = [c for c in frame.columns if not c.startswith("_") and c not in NOT_CHECKED]
    context = hashlib.sha256(
        (_columns_digest(frame, helper) + json.dumps(parameters, sort_keys=True, default=str)).encode()
    ).hexdigest()
    checking = {name: value for name, value in asdict(options).items() if name in CHECK_OPTIONS}
    suite = hashlib.sha256(
        suites.suite_path(form).read_bytes()
        + json.dumps(checking, sort_keys=True, default=str).encode()
        + _code_digest().encode()
    ).hexdigest()
    return Fingerprint(_columns_digest(frame, rows), context, suite)


def _kept(conn: Connection, form: Form, period: str) -> dict[str, Any] | None:
    if not has_table(conn, "dq_review_check"):
        return None
    frame = read_frame(conn, "ops/reviews/latest_check", form=form.code, period=period)
    return None if frame.empty else frame.iloc[0].to_dict()


@dataclass(frozen=True)
class CheckToKeep:
    """A new check's row of ``dq_review_check``, not yet written (:func:`check`)."""

    form: str
    period: str
    row: dict[str, Any]

    def write(self, conn: Connection) -> None:
        """Keep the check: replace its form and period's row of ``dq_review_check``."""
        delete_where(conn, "dq_review_check", form=self.form, period=self.period)
        insert_rows(conn, "dq_review_check", [self.row])


def check(
    conn: Connection,
    form: Form,
    period: Period,
    frame: pd.DataFrame,
    parameters: dict[str, Any],
    options: ValidationOptions,
    run: Callable[[], tuple[pd.DataFrame, pd.DataFrame, Any]],
) -> tuple[pd.DataFrame, pd.DataFrame, Any, CheckToKeep | None]:
    """``(failures by (position, rule), rule counts, GX result or None, check to keep or None)`` of the
    check of ``frame``: the kept results when the fingerprint is the kept one's (then nothing to keep:
    reused), else ``run()``'s and the new check to keep, which the caller writes
    (:meth:`CheckToKeep.write`) in the same transaction, as late as it likes. On SQLite the transaction
    takes the database's one write lock at its first write and holds it to the commit, so a load writes
    the check after its own work in Python (the rows as received read back, the outcomes decided) and
    not while it does it (docs/performance.md, round 20)."""
    p = str(period)
    current = fingerprint(form, frame, parameters, options)
    kept = _kept(conn, form, p)
    if kept is not None and kept["fingerprint"] == current.value:
        result = json.loads(kept["result_json"])
        grouped = pd.DataFrame(result["grouped"], columns=GROUPED_COLUMNS)
        grouped["position"] = grouped["position"].astype(int)
        counts = pd.DataFrame(result["rule_counts"], columns=outcomes.COUNT_COLUMNS)
        log.info("%s %s: checked before against the same rows and context, results reused", form.code, p)
        return grouped, counts, None, None
    if kept is not None:
        before = Fingerprint(kept["rows_digest"], kept["context_digest"], kept["suite_digest"])
        log.info(
            "%s %s: checked again, changed since the last check: %s",
            form.code,
            p,
            ", ".join(current.changes_from(before)),
        )
    grouped, counts, gx_result = run()
    # the files checked, in order of first appearance (pandas' unique: not a Python text per row)
    files = ",".join(map(str, frame["file_sha256"].unique())) if "file_sha256" in frame else ""
    row = {
        "form": form.code,
        "period": p,
        "fingerprint": current.value,
        "rows_digest": current.rows,
        "context_digest": current.context,
        "suite_digest": current.suite,
        "files": files,
        "checked_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "result_json": json.dumps(
            {
                "grouped": json.loads(grouped[GROUPED_COLUMNS].to_json(orient="values", force_ascii=False)),
                "rule_counts": json.loads(counts[outcomes.COUNT_COLUMNS].to_json(orient="values")),
            },
            ensure_ascii=False,
        ),
    }
    return grouped, counts, gx_result, CheckToKeep(form.code, p, row)
