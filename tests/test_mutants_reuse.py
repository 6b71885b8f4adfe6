"""The reuse of a kept check (审核结果复用) on a tiny warehouse, pinned directly (issue 16, mutation testing of
``techreform.validation.reuse``): what the fingerprint's three parts take in and leave out, values that
print alike but differ in type, the kept results given back as they were, and what is kept.
``tests/test_delivery.py`` reaches it through the delivery DAG and the month's load (seconds per test)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from techreform.forms import FORMS
from techreform.options import ValidationOptions
from techreform.periods import Period
from techreform.validation import outcomes
from techreform.validation.reuse import (
    GROUPED_COLUMNS,
    Fingerprint,
    _columns_digest,
    _kept,
    _type_tags,
    fingerprint,
)
from techreform.validation.reuse import check as check_to_keep
from techreform.warehouse import engine_for
from validation_fixtures import e1_row, prepare_warehouse, sha_of, staged

E1, P1 = FORMS["E1"], FORMS["P1"]
JUNE = Period(2013, 6)
PARAMETERS = {"period": "2013-06", "county_divisions": [["620102", "", ""]]}


def _frame() -> pd.DataFrame:
    """Staged E1 rows of two files (a.csv twice, then b.csv) with a helper column, as checked."""
    frame = staged("E1", "2013-06", {"a.csv": [e1_row(1), e1_row(2)], "b.csv": [e1_row(3)]})
    frame["raw_path"] = "raw/E1/2013-06/a.csv"
    frame["_prev_revenue"] = [900.0, None, 800.0]
    return frame


def _digest(values) -> str:
    return _columns_digest(pd.DataFrame({"a": values}), ["a"])


def test_values_that_print_alike_but_differ_in_type_have_different_digests():
    # pandas hashes an object column's values through str() (nulls apart): these collided before the
    # type tags (a number delivered as text and as a number must not reuse each other's check)
    assert _digest([1]) != _digest(["1"])
    assert _digest([True]) != _digest(["True"])
    assert _digest([1.5]) != _digest(["1.5"])
    assert _digest([dt.date(2013, 6, 1)]) != _digest(["2013-06-01"])
    assert _digest(["x", 1]) != _digest(["x", "1"])  # a mixed column: each value's type
    assert _digest([1, "1"]) != _digest(["1", 1])
    # nulls are hashed apart from text by pandas itself; pinned all the same
    assert _digest([None]) != _digest(["None"])
    assert _digest([None, 1]) != _digest(["None", 1])


def test_equal_values_have_equal_digests_and_nan_is_null_like_none():
    assert _digest(["x", None, "y"]) == _digest(["x", None, "y"])
    assert _digest([1.5, None]) == _digest([1.5, np.nan])
    assert _digest([1, "x"]) == _digest([1, "x"])
    assert _digest(["x"]) != _digest(["y"])
    assert _digest(["x", "y"]) != _digest(["y", "x"])


def test_the_type_tags_are_the_columns_kind_and_its_nulls_or_each_values_type_when_mixed():
    assert _type_tags(pd.Series(["x", None, "y"], dtype=object)) == b"string\x00" + np.packbits([0, 1, 0]).tobytes()
    assert _type_tags(pd.Series([1, "1", None], dtype=object)) == (
        b"mixed-integer\x00" + np.packbits([0, 0, 1]).tobytes() + b"\x00int\x00str"
    )


def test_a_columns_digest_takes_the_row_count_the_names_and_values_but_not_column_order_or_index():
    frame = pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]})
    digest = _columns_digest(frame, ["a", "b"])
    assert _columns_digest(frame, ["b", "a"]) == digest
    assert _columns_digest(frame.set_axis([7, 3]), ["a", "b"]) == digest
    assert _columns_digest(frame.rename(columns={"b": "c"}), ["a", "c"]) != digest
    assert _columns_digest(pd.DataFrame({"a": ["y", "x"], "b": [2.0, 1.0]}), ["a", "b"]) != digest
    assert _columns_digest(frame, ["a"]) != digest
    assert _columns_digest(frame.iloc[:0], []) != _columns_digest(frame, [])  # the row count alone
    expected = hashlib.sha256(b"2")
    # text held by pyarrow: its null mask, its values' ends from 0 and its UTF-8 bytes, as stored
    text = hashlib.sha256(np.packbits([False, False]).tobytes() + np.array([0, 1, 2], dtype=np.int64).tobytes() + b"xy")
    expected.update(b"\x00a\x00" + b"text:" + text.digest())
    expected.update(b"\x00b\x00" + b"native:<f8")  # numbers: hashed as stored, under their dtype
    expected.update(pd.util.hash_pandas_object(frame["b"], index=False).to_numpy().tobytes())
    assert digest == expected.hexdigest()


def test_numbers_hashed_as_stored_never_digest_like_their_text_or_another_dtype():
    def one(values, dtype=None) -> str:
        return _columns_digest(pd.DataFrame({"v": pd.Series(values, dtype=dtype)}), ["v"])

    assert one([1.5, np.nan]) == one([1.5, np.nan])
    assert one([1.5, 2.0]) != one(["1.5", "2.0"], dtype=object)
    assert one([1, 2]) != one(["1", "2"], dtype=object)
    assert one([1, 2], dtype="int64") != one([1.0, 2.0], dtype="float64")
    assert one([True, False]) != one([1, 0])
    assert one([1.0, 2.0]) != one([2.0, 1.0])


def test_text_held_by_pyarrow_is_digested_from_its_buffers_by_value_null_and_boundary():
    def text(values) -> pd.Series:
        return pd.Series(values, dtype="str")

    def one(series: pd.Series) -> str:
        return _columns_digest(pd.DataFrame({"t": series}), ["t"])

    names = [f"企业{i}" if i % 3 else None for i in range(10)]
    assert one(text(names)) == one(text(list(names)))
    # the same values in several chunks, or a slice of a longer column, digest as one contiguous column
    assert one(pd.concat([text(names[:4]), text(names[4:])], ignore_index=True)) == one(text(names))
    assert one(text(["x", *names])[1:].reset_index(drop=True)) == one(text(names))
    assert one(text(["", "b"])) != one(text([None, "b"]))  # an empty value is not a missing one
    assert one(text(["ab", "c"])) != one(text(["a", "bc"]))  # where one value ends
    assert one(text(["a", "b"])) != one(text(["b", "a"]))
    assert one(text(["a", None])) != one(text([None, "a"]))
    assert one(text(["1", "2"])) != one(pd.Series([1, 2]))  # text never digests like numbers
    assert one(text([None, None])) != one(text([None]))  # the row count


def test_a_fingerprint_names_the_parts_that_changed_and_its_value_digests_all_three():
    one = Fingerprint("r", "c", "s")
    assert one.changes_from(Fingerprint("r", "c", "s")) == []
    assert one.changes_from(Fingerprint("x", "c", "y")) == ["rows", "suite"]
    assert one.changes_from(Fingerprint("r", "x", "s")) == ["context"]
    assert one.value == hashlib.sha256(b"r|c|s").hexdigest()


def test_the_rows_part_is_the_staged_values_without_the_raw_copy_and_the_context_the_helpers_and_parameters():
    options = ValidationOptions()
    frame = _frame()
    base = fingerprint(E1, frame, PARAMETERS, options)
    moved = frame.assign(raw_path="s3://bucket/raw/a.csv", raw_json="{}")
    assert fingerprint(E1, moved, PARAMETERS, options) == base
    changed = frame.copy()
    changed.loc[1, "revenue"] = 951.0
    assert fingerprint(E1, changed, PARAMETERS, options).changes_from(base) == ["rows"]
    assert fingerprint(E1, frame.assign(file_name="c.csv"), PARAMETERS, options).changes_from(base) == ["rows"]
    helper = frame.assign(_prev_revenue=[900.0, 1.0, 800.0])
    assert fingerprint(E1, helper, PARAMETERS, options).changes_from(base) == ["context"]
    assert fingerprint(E1, frame.assign(_new=1), PARAMETERS, options).changes_from(base) == ["context"]
    other = {**PARAMETERS, "county_divisions": [["620102", "2014-01", ""]]}
    assert fingerprint(E1, frame, other, options).changes_from(base) == ["context"]
    assert fingerprint(E1, frame, {"x": JUNE}, options) == fingerprint(E1, frame, {"x": "2013-06"}, options)
    reordered = dict(reversed(list(PARAMETERS.items())))
    assert list(reordered) != list(PARAMETERS)
    assert fingerprint(E1, frame, reordered, options) == base  # the parameters, not their order
    expected_rows = [c for c in frame.columns if not c.startswith("_") and c not in ("raw_path", "raw_json")]
    assert base.rows == _columns_digest(frame, expected_rows)


def test_the_suite_part_is_the_forms_suite_and_the_options_the_check_depends_on():
    frame, options = _frame(), ValidationOptions()
    base = fingerprint(E1, frame, PARAMETERS, options)
    for name, value in (("hb_u", 0.4), ("hb_a", 0.1), ("hb_c", 10.0), ("hb_min_group", 5)):
        changed = ValidationOptions(**{name: value})
        assert fingerprint(E1, frame, PARAMETERS, changed).changes_from(base) == ["suite"], name
    for name, value in (("hard_fail_threshold", 0.5), ("completeness_floor", 0.1), ("data_docs", False)):
        assert fingerprint(E1, frame, PARAMETERS, ValidationOptions(**{name: value})) == base, name
    assert fingerprint(P1, frame, PARAMETERS, options).changes_from(base) == ["suite"]


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings.warehouse_url)


GROUPED = pd.DataFrame(
    [[1, "E1-S01", "soft", "revenue", "E1-S01（核实性审核）：收入 950"], [0, "E1-H01", "hard", "uscc", "代码错"]],
    columns=GROUPED_COLUMNS,
)
COUNTS = pd.DataFrame([["E1-H01", "hard", 3, 1], ["E1-S01", "soft", 3, 1]], columns=outcomes.COUNT_COLUMNS)


class _Suite:
    """Stands for running the GX suite: counts its runs, returns the given results."""

    def __init__(self, grouped=GROUPED, counts=COUNTS):
        self.runs, self.grouped, self.counts = 0, grouped, counts

    def __call__(self):
        self.runs += 1
        return self.grouped, self.counts, "gx result"


def check(conn, *args):
    """:func:`check_to_keep` with its new check kept at once, as ``validate_staged`` keeps it by default:
    ``(grouped, counts, GX result, reused)``."""
    grouped, counts, gx_result, to_keep = check_to_keep(conn, *args)
    if to_keep is not None:
        to_keep.write(conn)
    return grouped, counts, gx_result, to_keep is None


def _kept_rows(engine):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text("select * from dq_review_check order by form, period"))]


def test_a_check_is_run_and_kept_then_reused_while_nothing_changed(engine, caplog):
    options, frame, suite = ValidationOptions(), _frame(), _Suite()
    caplog.set_level(logging.INFO, logger="techreform.validation.reuse")
    with engine.begin() as conn:
        first = check(conn, E1, JUNE, frame, PARAMETERS, options, suite)
    assert suite.runs == 1 and first[2] == "gx result" and first[3] is False
    assert first[0] is GROUPED and first[1] is COUNTS
    [kept] = _kept_rows(engine)
    current = fingerprint(E1, frame, PARAMETERS, options)
    assert {k: kept[k] for k in ("form", "period", "fingerprint", "rows_digest", "context_digest", "suite_digest")} == {
        "form": "E1",
        "period": "2013-06",
        "fingerprint": current.value,
        "rows_digest": current.rows,
        "context_digest": current.context,
        "suite_digest": current.suite,
    }
    assert kept["files"] == f"{sha_of('2013-06', 'a.csv')},{sha_of('2013-06', 'b.csv')}"
    checked_at = dt.datetime.fromisoformat(kept["checked_at"])
    assert checked_at.utcoffset() == dt.timedelta(0) and checked_at.microsecond == 0
    assert abs(dt.datetime.now(dt.UTC) - checked_at) < dt.timedelta(minutes=5)
    assert "收入 950" in kept["result_json"]
    assert json.loads(kept["result_json"]) == {
        "grouped": [
            [1, "E1-S01", "soft", "revenue", "E1-S01（核实性审核）：收入 950"],
            [0, "E1-H01", "hard", "uscc", "代码错"],
        ],
        "rule_counts": [["E1-H01", "hard", 3, 1], ["E1-S01", "soft", 3, 1]],
    }
    caplog.clear()
    with engine.begin() as conn:
        grouped, counts, gx_result, reused = check(conn, E1, JUNE, frame.copy(), PARAMETERS, options, suite)
    assert suite.runs == 1 and reused is True and gx_result is None
    pd.testing.assert_frame_equal(grouped, GROUPED)
    pd.testing.assert_frame_equal(counts, COUNTS)
    assert str(grouped["position"].dtype) == "int64"
    assert caplog.messages == ["E1 2013-06: checked before against the same rows and context, results reused"]


def test_a_changed_input_is_checked_again_saying_what_changed_and_replaces_the_kept_check(engine, caplog):
    options, frame = ValidationOptions(), _frame()
    with engine.begin() as conn:
        check(conn, E1, JUNE, frame, PARAMETERS, options, _Suite())
        check(conn, E1, Period(2013, 5), frame, PARAMETERS, options, _Suite())
    caplog.set_level(logging.INFO, logger="techreform.validation.reuse")
    again, changed = _Suite(grouped=GROUPED.iloc[:1]), frame.assign(_prev_revenue=1.0, revenue=1.0)
    with engine.begin() as conn:
        out = check(conn, E1, JUNE, changed, PARAMETERS, ValidationOptions(hb_u=0.3), again)
    assert again.runs == 1 and out[3] is False
    assert caplog.messages == ["E1 2013-06: checked again, changed since the last check: rows, context, suite"]
    kept = _kept_rows(engine)
    assert [(k["form"], k["period"]) for k in kept] == [("E1", "2013-05"), ("E1", "2013-06")]
    assert kept[1]["fingerprint"] == fingerprint(E1, changed, PARAMETERS, ValidationOptions(hb_u=0.3)).value
    assert json.loads(kept[1]["result_json"])["grouped"] == [[1, "E1-S01", "soft", "revenue", GROUPED.iloc[0, 4]]]
    assert kept[0]["fingerprint"] == fingerprint(E1, frame, PARAMETERS, options).value
    caplog.clear()
    with engine.begin() as conn:  # only the context changes now: only it is named
        check(conn, E1, JUNE, changed.assign(_prev_revenue=2.0), PARAMETERS, ValidationOptions(hb_u=0.3), _Suite())
    assert caplog.messages == ["E1 2013-06: checked again, changed since the last check: context"]
    caplog.clear()
    with engine.begin() as conn:  # then only the rows
        check(
            conn,
            E1,
            JUNE,
            changed.assign(_prev_revenue=2.0, revenue=2.0),
            PARAMETERS,
            ValidationOptions(hb_u=0.3),
            _Suite(),
        )
    assert caplog.messages == ["E1 2013-06: checked again, changed since the last check: rows"]


def test_a_check_of_another_period_or_form_is_not_reused_and_a_frame_without_files_keeps_none(engine):
    options, frame = ValidationOptions(), _frame()
    with engine.begin() as conn:
        check(conn, E1, JUNE, frame, PARAMETERS, options, _Suite())
        july, p1 = _Suite(), _Suite()
        check(conn, E1, Period(2013, 7), frame, PARAMETERS, options, july)
        check(conn, P1, JUNE, frame.drop(columns=["file_sha256"]), PARAMETERS, options, p1)
    assert (july.runs, p1.runs) == (1, 1)
    files = {(k["form"], k["period"]): k["files"] for k in _kept_rows(engine)}
    assert sorted(files) == [("E1", "2013-06"), ("E1", "2013-07"), ("P1", "2013-06")]  # each kept its own
    assert files["P1", "2013-06"] == ""


def test_nothing_is_kept_before_the_table_exists_or_for_a_check_not_made(tmp_path, engine):
    bare = engine_for(f"sqlite:///{tmp_path / 'bare.sqlite'}")
    with bare.connect() as conn:
        assert _kept(conn, E1, "2013-06") is None
    with engine.connect() as conn:
        assert _kept(conn, E1, "2013-06") is None


# --- a text column held by pyarrow, digested from its buffers (_arrow_text_bytes) --------------------------


def test_a_pyarrow_text_column_digests_by_its_values_not_how_they_are_stored():
    import pyarrow as pa

    from techreform.validation.reuse import _arrow_text_bytes

    values = ["甲", None, "", "乙丙", "x"]
    plain = _arrow_text_bytes(pd.Series(values, dtype="str"))
    assert len(plain) == 32
    # chunked, sliced (an offset into its buffers), small or large string offsets: the same digest
    chunked = pa.chunked_array([pa.array(values[:2], pa.string()), pa.array(values[2:], pa.string())])
    assert _arrow_text_bytes(pd.Series(pd.arrays.ArrowStringArray(chunked))) == plain
    longer = pa.array(["前", "后后", *values, "尾"], pa.large_string()).slice(2, len(values))
    assert _arrow_text_bytes(pd.Series(pd.arrays.ArrowStringArray(longer))) == plain
    small = pa.array(["前", *values], pa.string()).slice(1)
    assert _arrow_text_bytes(pd.Series(pd.arrays.ArrowStringArray(small))) == plain
    # a null is not the empty text, nor is one value's end moved to the next one
    assert _arrow_text_bytes(pd.Series(["甲", "", "", "乙丙", "x"], dtype="str")) != plain
    assert _arrow_text_bytes(pd.Series(["甲", None, "", "乙", "丙x"], dtype="str")) != plain
    assert _arrow_text_bytes(pd.Series(["甲", None, "", "乙丙", "y"], dtype="str")) != plain


def test_an_all_null_or_empty_or_all_empty_text_column_has_its_own_digest():
    from techreform.validation.reuse import _arrow_text_bytes

    expected_all_null = hashlib.sha256(np.packbits(np.ones(3, dtype=bool)).tobytes())
    expected_all_null.update(np.zeros(4, dtype=np.int64).tobytes())
    assert _arrow_text_bytes(pd.Series([None, None, None], dtype="str")) == expected_all_null.digest()
    expected_empty = hashlib.sha256(np.packbits(np.zeros(0, dtype=bool)).tobytes())
    expected_empty.update(np.zeros(1, dtype=np.int64).tobytes())
    assert _arrow_text_bytes(pd.Series([], dtype="str")) == expected_empty.digest()
    expected_blank = hashlib.sha256(np.packbits(np.zeros(2, dtype=bool)).tobytes())
    expected_blank.update(np.zeros(3, dtype=np.int64).tobytes())
    assert _arrow_text_bytes(pd.Series(["", ""], dtype="str")) == expected_blank.digest()
    expected = hashlib.sha256(np.packbits(np.array([False, True, False])).tobytes())
    expected.update(np.array([0, 1, 1, 4], dtype=np.int64).tobytes())
    expected.update("a乙".encode())
    assert _arrow_text_bytes(pd.Series(["a", None, "乙"], dtype="str")) == expected.digest()


def test_a_null_slots_bytes_and_a_slices_offset_into_its_buffers_are_not_digested():
    import pyarrow as pa

    from techreform.validation.reuse import _arrow_text_bytes

    def series(array) -> pd.Series:
        return pd.Series(pd.arrays.ArrowStringArray(array))

    # a null slot that still spans bytes ("cd"): Arrow leaves them undefined, so they are not hashed
    offsets = pa.py_buffer(np.array([0, 2, 4, 5], dtype=np.int64).tobytes())
    validity = pa.py_buffer(np.packbits([1, 0, 1], bitorder="little").tobytes())
    with_bytes = pa.Array.from_buffers(pa.large_string(), 3, [validity, offsets, pa.py_buffer(b"abcde")])
    assert _arrow_text_bytes(series(with_bytes)) == _arrow_text_bytes(pd.Series(["ab", None, "e"], dtype="str"))
    # a slice without nulls is digested from its own offsets and bytes, not its buffers' neighbours
    sliced = pa.array(["前", "a", "bc", "尾"], pa.large_string()).slice(1, 2)
    assert _arrow_text_bytes(series(sliced)) == _arrow_text_bytes(pd.Series(["a", "bc"], dtype="str"))


def test_a_columns_digest_does_not_depend_on_the_frames_index():
    frame = pd.DataFrame(
        {
            "when": [dt.date(2013, 6, 1), None],
            "mixed": [1, "1"],
            "text": pd.Series(["甲", None], dtype="str"),
            "amount": [1.5, 2.0],
        }
    )
    moved = frame.set_axis([7, 3])
    columns = ["when", "mixed", "text", "amount"]
    assert _columns_digest(moved, columns) == _columns_digest(frame, columns)
    for name in columns:
        assert _columns_digest(moved, [name]) == _columns_digest(frame, [name])
