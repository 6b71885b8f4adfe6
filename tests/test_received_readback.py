"""The row as received, read back from the raw zone for failing rows (docs/performance.md, item 5), and
the sliced reads and writes of the warehouse and of staging (items 6 and 7), on SQLite and PostgreSQL."""

import gzip
import io
import json
import shutil

import pandas as pd
import pytest
import sqlalchemy as sa

from landing_files import e1_row, slice_tables, uscc_for, write_delivery
from techreform import ingest, load, readers, warehouse
from techreform.config import Settings
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.forms import SUPERVISORS as S1
from techreform.ingest import GONE_FROM_RAW_ZONE, ReadBackFailed, ingest_form_period
from techreform.load import load_form_period
from techreform.periods import Period
from techreform.pipeline import prepare_warehouse

PERIOD = Period(2013, 6)


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings)


def _rows() -> list[dict]:
    rows = [e1_row(uscc_for("620102", i), "2013-06") for i in range(1, 6)]
    rows[1] = e1_row(uscc_for("620102", 2), "2013-06", **{"工业总产值": "-15"})  # E1-H07 quarantines it
    return rows


def _quarantined(engine) -> dict[int, dict]:
    with engine.connect() as conn:
        return {n: json.loads(j) for n, j in conn.execute(sa.text("select source_row, row_json from quarantine"))}


def _received_json(engine) -> list[str]:
    with engine.connect() as conn:
        return [r for (r,) in conn.execute(sa.text("select received_json from dq_row_failure where source_row = 3"))]


def _deliver_and_ingest(settings, engine) -> None:
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", _rows())
    (outcome,) = ingest_form_period(engine, settings, E1, PERIOD).files
    assert outcome.status == "loaded"


def test_a_row_is_read_back_from_the_raw_path_recorded_at_ingest_when_the_raw_zone_moved(settings, engine, tmp_path):
    """The settings' raw folder changed after ingest: the file is read where etl_file_log says it is."""
    _deliver_and_ingest(settings, engine)
    moved = Settings.from_env(
        {
            "TECHREFORM_DATA_DIR": str(tmp_path / "data"),
            "TECHREFORM_WAREHOUSE_URL": settings.warehouse_url,
            "TECHREFORM_RAW_DIR": str(tmp_path / "elsewhere"),
        }
    )
    load_form_period(engine, moved, E1, PERIOD)
    assert _quarantined(engine)[3]["工业总产值"] == "-15"
    assert all("-15" in r for r in _received_json(engine))


def test_the_staged_rows_hold_their_raw_path_as_a_category_of_the_paths_recorded_at_ingest(settings, engine):
    """One code per row, not the path's text per row (docs/performance.md); the values are etl_file_log's."""
    _deliver_and_ingest(settings, engine)
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620200_2013-06.csv", _rows()[:3])  # other bytes
    ingest_form_period(engine, settings, E1, PERIOD)
    with engine.connect() as conn:
        staged, unparsed = load.read_staged(conn, E1, "2013-06")
        recorded = dict(conn.execute(sa.text("select file_sha256, raw_path from etl_file_log where form = 'E1'")).all())
    assert isinstance(staged["raw_path"].dtype, pd.CategoricalDtype)
    assert len(staged) == 8 and staged["raw_path"].nunique() == 2
    assert {sha: str(path) for sha, path in zip(staged["file_sha256"], staged["raw_path"])} == recorded
    assert unparsed.empty


def test_the_staged_rows_are_read_in_delivery_order_whatever_order_the_database_holds_them_in(
    settings, engine, monkeypatch
):
    """staged_rows.sql and parse_errors.sql have no order by: read_staged puts the rows, and the rows that
    did not parse, in delivery, file and row order itself (load.into_delivery_order), the same rows
    whatever order the tables hold them in."""
    _deliver_and_ingest(settings, engine)
    unreadable = {"工业总产值": "一百"}  # E1-H00: the cell does not parse
    second = [_rows()[0], e1_row(uscc_for("620102", 7), "2013-06", **unreadable), *_rows()[2:4]]
    second.append(e1_row(uscc_for("620102", 8), "2013-06", **unreadable))
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620200_2013-06.csv", second)
    ingest_form_period(engine, settings, E1, PERIOD)
    with engine.connect() as conn:
        as_staged, as_unparsed = load.read_staged(conn, E1, "2013-06")
    keys = list(load.DELIVERY_ORDER)
    assert as_staged[keys[0]].tolist() == [1] * 5 + [2] * 3
    assert as_staged["source_row"].tolist() == [2, 3, 4, 5, 6, 2, 4, 5]
    assert as_unparsed["source_row"].tolist() == [3, 6]
    with engine.begin() as conn:  # the same rows stored again, the second file first and each backwards
        for table in ("stg_enterprise_monthly", "stg_parse_error"):
            conn.execute(sa.text(f"create table shuffled as select * from {table}"))  # noqa: S608 - fixed names
            conn.execute(sa.text(f"delete from {table}"))  # noqa: S608
            conn.execute(
                sa.text(f"insert into {table} select * from shuffled order by delivery_seq desc, source_row desc")  # noqa: S608
            )
            conn.execute(sa.text("drop table shuffled"))
    with engine.connect() as conn:
        staged, unparsed = load.read_staged(conn, E1, "2013-06")
    pd.testing.assert_frame_equal(staged, as_staged)
    pd.testing.assert_frame_equal(unparsed, as_unparsed)
    real_read_frame = load.read_frame
    monkeypatch.setattr(load, "read_frame", lambda *a, **k: real_read_frame(*a, **k).iloc[::-1])  # any order
    with engine.connect() as conn:
        staged, unparsed = load.read_staged(conn, E1, "2013-06")
    pd.testing.assert_frame_equal(staged, as_staged)
    pd.testing.assert_frame_equal(unparsed, as_unparsed)


def test_rows_out_of_delivery_order_are_sorted_by_delivery_file_and_row_with_a_fresh_index():
    shuffled = pd.DataFrame(
        {
            "delivery_seq": [2, 1, 1, 2, 1, 10],
            "file_sha256": ["b" * 64, "a" * 64, "a" * 64, "b" * 64, "a" * 64, "0" * 64],
            "source_row": [3, 11, 2, 2, 9, 2],
            "value": ["b3", "a11", "a2", "b2", "a9", "c2"],
        },
        index=[5, 4, 3, 2, 1, 0],
    )
    ordered = load.into_delivery_order(shuffled.copy())
    assert ordered["value"].tolist() == ["a2", "a9", "a11", "b2", "b3", "c2"]  # 10 after 2, 11 after 9: numbers
    assert ordered.index.equals(pd.RangeIndex(6))
    assert list(ordered.columns) == list(shuffled.columns)
    given = shuffled.copy()
    load.into_delivery_order(given)
    assert given.columns.empty  # each column was taken out as it moved: the rows are not held twice
    already = load.into_delivery_order(ordered.set_axis([7, 8, 9, 10, 11, 12]))
    pd.testing.assert_frame_equal(already, ordered)
    same_seq = shuffled.assign(delivery_seq=1)  # within one delivery: by the file's sha256 as text
    assert load.into_delivery_order(same_seq)["value"].tolist() == ["c2", "a2", "a9", "a11", "b2", "b3"]
    assert load.into_delivery_order(shuffled.iloc[:0]).empty


def test_lowered_ingest_limits_do_not_refuse_reading_back_an_accepted_file(settings, engine):
    _deliver_and_ingest(settings, engine)
    lowered = settings.with_options(
        ingest={"max_file_bytes": 10, "max_cells": 5, "max_cell_chars": 1, "extra_columns": 1}
    )
    load_form_period(engine, lowered, E1, PERIOD)
    assert _quarantined(engine)[3]["工业总产值"] == "-15"


def test_a_raw_file_gone_from_the_raw_zone_leaves_a_visible_marker_not_an_empty_object(settings, engine):
    _deliver_and_ingest(settings, engine)
    shutil.rmtree(settings.raw_dir)
    load_form_period(engine, settings, E1, PERIOD)
    (marker,) = _quarantined(engine).values()
    assert list(marker) == [GONE_FROM_RAW_ZONE]
    assert "no longer in the raw zone" in marker[GONE_FROM_RAW_ZONE]


def test_a_raw_file_that_cannot_be_read_back_fails_the_load_with_one_line_naming_it(settings, engine):
    _deliver_and_ingest(settings, engine)
    (raw,) = [p for p in settings.raw_dir.rglob("*.csv")]
    raw.write_bytes(b"\x00 not the file that was accepted")
    with pytest.raises(ReadBackFailed, match=r"enterprise_monthly/2013-06/E1_620100_2013-06\.csv: .*sha256") as err:
        load_form_period(engine, settings, E1, PERIOD)
    assert "\n" not in str(err.value)
    with engine.connect() as conn:  # nothing written: the load's transaction rolled back, the task retries
        assert conn.execute(sa.text("select count(*) from quarantine")).scalar_one() == 0


def _workbook() -> bytes:
    """The rows of :func:`_rows` as a workbook: the quarantined row's output a number cell, and a column
    beyond the form's holding a date and a boolean (their text as received is the reader's)."""
    import datetime as dt

    from openpyxl import Workbook

    rows = _rows()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([*rows[0], "备注"])
    for row in rows:
        sheet.append([-15 if v == "-15" else v for v in row.values()] + [dt.datetime(2013, 7, 1, 8, 30), True])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _deliver_xlsx(settings, engine) -> None:
    folder = settings.landing_dir / E1.name / "2013-06"
    folder.mkdir(parents=True)
    (folder / "E1_620100_2013-06.xlsx").write_bytes(_workbook())
    (outcome,) = ingest_form_period(engine, settings, E1, PERIOD).files
    assert outcome.status == "loaded"


def _workbook_parsed(monkeypatch) -> list[str]:
    """Count the workbooks openpyxl parses from here on (the reader's XLSX function)."""
    from recording import record_calls

    return record_calls(monkeypatch, readers, "read_xlsx_bytes", lambda path, *args, **kwargs: path.name)


def test_a_row_of_an_xlsx_file_is_read_back_as_received(settings, engine):
    _deliver_xlsx(settings, engine)
    load_form_period(engine, settings, E1, PERIOD)
    received = _quarantined(engine)[3]
    assert received["工业总产值"] == -15
    assert received["统一社会信用代码"] == uscc_for("620102", 2)
    assert received["备注"] == "2013-07-01T08:30:00"


def test_an_xlsx_files_rows_as_received_are_read_back_from_their_copy_not_from_the_workbook_again(
    settings, engine, monkeypatch
):
    """Kept once at ingest beside the workbook (docs/performance.md); the load reads that copy and does not
    parse the workbook, and the rows are the ones the workbook's own read gives."""
    _deliver_xlsx(settings, engine)
    (copy,) = settings.raw_dir.rglob(ingest.ROWS_AS_RECEIVED_NAME)
    (workbook,) = settings.raw_dir.rglob("*.xlsx")
    assert copy.parent == workbook.parent
    parsed = _workbook_parsed(monkeypatch)
    load_form_period(engine, settings, E1, PERIOD)
    assert parsed == []
    from_copy = _quarantined(engine)
    copy.unlink()  # without the copy the workbook is read: the same rows as received
    load_form_period(engine, settings, E1, PERIOD)
    assert parsed == [workbook.name]
    assert _quarantined(engine) == from_copy and from_copy[3]["工业总产值"] == -15


def test_a_row_from_the_copy_is_the_text_the_workbooks_own_row_gives_for_every_kind_of_cell(tmp_path):
    """The copy keeps each row's cells as a JSON array (format 2); the row read back from it is
    row_as_received of the row as read from the workbook, byte for byte: text, whole and decimal numbers
    (negative zero, a large integer, NaN), booleans, dates and times, empty cells, a row shorter and a
    row longer than the header, a column without a header, text that needs escaping."""
    import datetime as dt
    import math

    headers = ["统一社会信用代码", "", "工业总产值", "备注", "日期"]
    rows = [
        (2, ["91620102MA0001", "x", 12.5, '引号"与\\反斜杠\n换行', dt.datetime(2013, 7, 1, 8, 30)]),
        (3, ["a", None, -0.0, True, dt.date(2013, 6, 30)]),
        (5, ["b", 7, 12345678901234567890, False, None]),
        (6, ["c", "", math.nan, 0.1 + 0.2]),  # shorter than the header
        (9, ["d", "y", 1e300, "", "2013-06", "past the header"]),  # longer
    ]
    table = readers.RawTable(tmp_path / "E1.xlsx", "xlsx", headers, rows)
    raw = tmp_path / "raw" / "E1.xlsx"
    raw.parent.mkdir()
    ingest.rows_as_received_path(raw).write_bytes(ingest._rows_as_received_bytes(table, "f" * 64))
    kept = ingest._kept_rows_as_received(raw, "f" * 64, {2, 3, 5, 6, 9})
    assert kept == {n: ingest.row_as_received(headers, cells, len(headers)) for n, cells in rows}
    assert json.loads(kept[9]) == {"统一社会信用代码": "d", "工业总产值": 1e300, "备注": "", "日期": "2013-06"}
    assert ingest._kept_rows_as_received(raw, "e" * 64, {2}) is None  # another file's copy
    assert ingest._kept_rows_as_received(raw, "f" * 64, {2, 4}) is None  # a row it does not hold
    copy = gzip.decompress(ingest.rows_as_received_path(raw).read_bytes()).decode()
    header, _, body = copy.partition("\n")
    for damaged in (
        f"{json.dumps([header])}\n{body}",  # a header that is not an object
        header.replace('"headers": [', '"headers": [1, ') + "\n" + body,  # a header that is not text
        header + "\n" + body.replace("\n3\t[", '\n3\t{"x": ['),  # a row that is not an array
    ):
        assert damaged != copy
        ingest.rows_as_received_path(raw).write_bytes(gzip.compress(damaged.encode()))
        assert ingest._kept_rows_as_received(raw, "f" * 64, {2, 3}) is None  # the raw file is read instead


def test_a_csv_file_gets_no_copy_of_its_rows_as_received(settings, engine):
    _deliver_and_ingest(settings, engine)
    assert list(settings.raw_dir.rglob(ingest.ROWS_AS_RECEIVED_NAME)) == []


@pytest.mark.parametrize("damage", ["truncated", "another_file", "another_format", "row_missing", "not_gzip"])
def test_a_copy_of_the_rows_as_received_that_is_not_usable_is_passed_over_for_the_workbook(
    settings, engine, monkeypatch, damage
):
    import gzip

    _deliver_xlsx(settings, engine)
    (copy,) = settings.raw_dir.rglob(ingest.ROWS_AS_RECEIVED_NAME)
    header, *lines = gzip.decompress(copy.read_bytes()).decode().split("\n")
    assert json.loads(header)["file_sha256"] == copy.parent.name and len(lines) == 5
    if damage == "truncated":
        copy.write_bytes(copy.read_bytes()[:-20])
    elif damage == "another_file":
        copy.write_bytes(gzip.compress("\n".join([header.replace(copy.parent.name, "0" * 64), *lines]).encode()))
    elif damage == "another_format":
        other = json.dumps({"file_sha256": copy.parent.name, "format": ingest.ROWS_AS_RECEIVED_FORMAT + 1})
        copy.write_bytes(gzip.compress("\n".join([other, *lines]).encode()))
    elif damage == "row_missing":  # the quarantined row (source row 3) is the second line
        copy.write_bytes(gzip.compress("\n".join([header, lines[0], *lines[2:]]).encode()))
    else:
        copy.write_bytes(b"not gzip")
    parsed = _workbook_parsed(monkeypatch)
    load_form_period(engine, settings, E1, PERIOD)
    assert len(parsed) == 1
    assert _quarantined(engine)[3]["工业总产值"] == -15


def test_a_workbook_the_database_refuses_gets_no_copy_of_its_rows_as_received(settings, engine, monkeypatch):
    """The copy is written after the file's rows are staged: a workbook rejected at staging has none."""
    real = ingest.insert_columns

    def refusing(conn, table, names, columns):
        if table in slice_tables(E1):
            raise ValueError("value too long")
        return real(conn, table, names, columns)

    monkeypatch.setattr(ingest, "insert_columns", refusing)
    folder = settings.landing_dir / E1.name / "2013-06"
    folder.mkdir(parents=True)
    (folder / "E1_620100_2013-06.xlsx").write_bytes(_workbook())
    (outcome,) = ingest_form_period(engine, settings, E1, PERIOD).files
    assert outcome.status == "rejected" and "staging failed" in outcome.message
    assert len(list(settings.raw_dir.rglob("*.xlsx"))) == 1
    assert list(settings.raw_dir.rglob(ingest.ROWS_AS_RECEIVED_NAME)) == []


def test_a_store_that_cannot_take_the_copy_leaves_the_workbook_loaded_and_read_back_from_itself(
    settings, engine, monkeypatch, caplog
):
    """The copy only saves time: a store failure writing it is a warning, not a failed ingest."""
    import logging

    real = ingest.write_bytes

    def refusing(target, data, fault=None):
        if target.name == ingest.ROWS_AS_RECEIVED_NAME:
            raise OSError("no space left on device")
        return real(target, data, fault)

    monkeypatch.setattr(ingest, "write_bytes", refusing)
    with caplog.at_level(logging.WARNING, "techreform.ingest"):
        _deliver_xlsx(settings, engine)
    (warning,) = [r.getMessage() for r in caplog.records if "rows as received is not kept" in r.getMessage()]
    assert warning.endswith("OSError: no space left on device") and "E1_620100_2013-06.xlsx" in warning
    assert list(settings.raw_dir.rglob(ingest.ROWS_AS_RECEIVED_NAME)) == []
    parsed = _workbook_parsed(monkeypatch)
    load_form_period(engine, settings, E1, PERIOD)
    assert len(parsed) == 1 and _quarantined(engine)[3]["工业总产值"] == -15


def test_the_copy_of_the_rows_as_received_is_written_once_and_its_bytes_do_not_depend_on_the_clock(
    settings, engine, monkeypatch
):
    import time

    _deliver_xlsx(settings, engine)
    (copy,) = settings.raw_dir.rglob(ingest.ROWS_AS_RECEIVED_NAME)
    (workbook,) = settings.raw_dir.rglob("*.xlsx")
    first = copy.read_bytes()
    table = readers.read_delivery_bytes(workbook, workbook.read_bytes())
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)  # another moment: gzip's header keeps no time
    assert ingest._rows_as_received_bytes(table, copy.parent.name) == first
    copy.write_bytes(b"kept earlier")
    ingest.keep_rows_as_received(workbook, table, copy.parent.name)  # an existing copy is never overwritten
    assert copy.read_bytes() == b"kept earlier"


def test_a_changed_workbook_fails_the_load_even_with_its_copy_of_the_rows_as_received(settings, engine):
    """The raw file stays the record: its sha256 is checked before its copy is used."""
    _deliver_xlsx(settings, engine)
    (workbook,) = settings.raw_dir.rglob("*.xlsx")
    workbook.write_bytes(workbook.read_bytes() + b"\0")
    with pytest.raises(ReadBackFailed, match="sha256"):
        load_form_period(engine, settings, E1, PERIOD)


def test_a_quarantined_supervisor_row_keeps_its_cells_as_received(settings, engine):
    """S1 has no GX suite: only the load fills the rows as received of its failing rows."""
    rows = [
        {"行政区划代码": "620100", "姓名": "张三", "邮箱": "zhang@example.org", "职责": "督办"},
        {"行政区划代码": "620200", "姓名": "李四", "邮箱": "not an address", "职责": ""},
        {"行政区划代码": "620300", "姓名": "王五", "邮箱": "wang@example.org", "职责": ""},
    ]
    write_delivery(settings.landing_dir, S1, "2013-06", "S1_620000_2013-06.csv", rows)
    (outcome,) = ingest_form_period(engine, settings, S1, PERIOD).files
    assert outcome.status == "loaded"
    load_form_period(engine, settings, S1, PERIOD)
    assert _quarantined(engine) == {3: {"行政区划代码": "620200", "姓名": "李四", "邮箱": "not an address", "职责": ""}}


# --- sliced reads and writes ---------------------------------------------------------------------------

_MIXED = {
    "id": [1, 2, 3, 4, 5],
    "ints_then_null": [1, 2, 3, None, None],
    "null_then_text": [None, None, None, "a", "b"],
    "text_and_numbers": ["1", "x", "2.5", "3", "y"],
    "all_null": [None] * 5,
    "reals": [1.5, None, 2.0, None, 3.25],
}


def _read_mixed(conn, tmp_path, monkeypatch, as_objects=False):
    (tmp_path / "sql").mkdir(exist_ok=True)
    (tmp_path / "sql" / "mixed.sql").write_text("select * from t_mixed order by id\n", encoding="utf-8")
    monkeypatch.setattr(warehouse, "SQL_DIR", tmp_path / "sql")
    return warehouse.read_frame(conn, "mixed", as_objects=as_objects)


@pytest.mark.parametrize("as_objects", [False, True])
def test_sliced_reads_and_writes_give_the_frame_of_unsliced_ones(settings, engine, tmp_path, monkeypatch, as_objects):
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in _MIXED.items()})
    results = []
    for rows in (None, 2):
        if rows:
            monkeypatch.setattr(warehouse, "READ_CHUNK_ROWS", rows)
            monkeypatch.setattr(warehouse, "INSERT_CHUNK_ROWS", rows)
        with engine.begin() as conn:
            conn.exec_driver_sql("drop table if exists t_mixed")
            conn.exec_driver_sql(
                "create table t_mixed (id integer, ints_then_null integer, null_then_text text, "
                "text_and_numbers text, all_null text, reals double precision)"
            )
            assert warehouse.insert_rows(conn, "t_mixed", frame) == 5
            results.append(_read_mixed(conn, tmp_path, monkeypatch, as_objects))
    whole, sliced = results
    pd.testing.assert_frame_equal(sliced, whole)
    assert str(whole["ints_then_null"].dtype) == ("object" if as_objects else "float64")
    assert whole["null_then_text"].tolist()[3:] == ["a", "b"]
    assert whole["all_null"].isna().all()


_SNAPSHOTS = {
    "stg_enterprise_monthly": "select * from stg_enterprise_monthly order by source_row",
    "stg_parse_error": "select source_row, raw_json, fields, messages from stg_parse_error order by source_row",
    "quarantine": "select * from quarantine order by source_row",
    "etl_row_outcome": "select * from etl_row_outcome order by source_row",
    "fct_enterprise_monthly": "select * from fct_enterprise_monthly order by uscc",
    "dq_row_failure": "select * from dq_row_failure order by source_row, rule_id",
}
_VOLATILE = {"received_at", "loaded_at", "validated_at", "run_id", "created_at"}


def _snapshot(engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as conn:
        out = {}
        for table, sql in _SNAPSHOTS.items():
            frame = pd.read_sql_query(sa.text(sql), conn)
            out[table] = frame.drop(columns=[c for c in frame if c in _VOLATILE])
        return out


def _forget_ingest(engine) -> None:
    with engine.begin() as conn:
        for table in ("stg_enterprise_monthly", "stg_parse_error"):
            conn.execute(sa.text(f"delete from {table}"))  # noqa: S608 - fixed names
        conn.execute(sa.text("delete from etl_file_log"))


def test_an_ingest_and_load_in_slices_of_two_rows_equals_an_unsliced_one(settings, engine, monkeypatch):
    rows = [e1_row(uscc_for("620102", i), "2013-06") for i in range(1, 8)]
    rows[0] = e1_row(uscc_for("620102", 1), "2013-06", **{"工业总产值": "-3"})  # quarantined: with the next,
    rows[1] = e1_row(uscc_for("620102", 2), "2013-06", **{"工业总产值": "-15"})  # a slice without facts
    rows[4] = e1_row(uscc_for("620102", 5), "2013-06", **{"主营业务收入": "12,3a4"})  # does not parse
    rows[5] = e1_row(uscc_for("620102", 6), "2013-06", **{"新产品产值": "7"})
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", rows)
    ingest_form_period(engine, settings, E1, PERIOD)
    load_form_period(engine, settings, E1, PERIOD)
    whole = _snapshot(engine)
    assert len(whole["quarantine"]) == 3 and len(whole["fct_enterprise_monthly"]) == 4

    _forget_ingest(engine)
    for name, module in (
        ("STAGE_CHUNK_ROWS", ingest),
        ("READ_CHUNK_ROWS", warehouse),
        ("INSERT_CHUNK_ROWS", warehouse),
    ):
        monkeypatch.setattr(module, name, 2)
    ingest_form_period(engine, settings, E1, PERIOD)
    load_form_period(engine, settings, E1, PERIOD)
    sliced = _snapshot(engine)
    for table in _SNAPSHOTS:
        pd.testing.assert_frame_equal(sliced[table], whole[table], obj=table)


def test_on_the_object_store_a_row_is_read_back_past_a_stale_listing(tmp_path, warehouse_url, s3_server):
    """The raw file was (re)written by another worker after this process listed its folder: the listing
    cache is dropped before reading, so the row is read, not taken for a file gone."""
    from techreform.store import store_of
    from test_store import s3_settings

    settings = s3_settings(tmp_path, s3_server, warehouse_url)
    engine = prepare_warehouse(settings)
    store = store_of(settings)
    landing = store.delivery_folder(E1.name, "2013-06")
    write_delivery(tmp_path / "landing", E1, "2013-06", "E1_620100_2013-06.csv", _rows())
    data = (tmp_path / "landing" / E1.name / "2013-06" / "E1_620100_2013-06.csv").read_bytes()
    s3_server.fs.pipe_file(f"{landing.path}/E1_620100_2013-06.csv", data)
    (outcome,) = ingest_form_period(engine, settings, E1, PERIOD).files
    assert outcome.status == "loaded", outcome.message
    folder = store.raw_file(E1.name, "2013-06", outcome.sha256, "x").parent
    key = f"{folder.path}/E1_620100_2013-06.csv"
    s3_server.fs.rm_file(key)  # another worker: gone ...
    s3_server.fs.pipe_file(f"{folder.path}/note.txt", b"x")
    assert [p.rsplit("/", 1)[1] for p in store.raw.fs.ls(folder.path)] == ["note.txt"]  # ... this process lists it
    s3_server.fs.pipe_file(key, data)  # ... then it is back
    load_form_period(engine, settings, E1, PERIOD)
    assert _quarantined(engine)[3]["工业总产值"] == "-15"


def test_on_the_object_store_a_workbooks_rows_as_received_are_kept_and_read_back_from_their_copy(
    tmp_path, warehouse_url, s3_server, monkeypatch
):
    from techreform.store import store_of
    from test_store import s3_settings

    settings = s3_settings(tmp_path, s3_server, warehouse_url)
    engine = prepare_warehouse(settings)
    store = store_of(settings)
    landing = store.delivery_folder(E1.name, "2013-06")
    s3_server.fs.pipe_file(f"{landing.path}/E1_620100_2013-06.xlsx", _workbook())
    (outcome,) = ingest_form_period(engine, settings, E1, PERIOD).files
    assert outcome.status == "loaded", outcome.message
    folder = store.raw_file(E1.name, "2013-06", outcome.sha256, "x").parent
    assert sorted(p.rsplit("/", 1)[1] for p in store.raw.fs.ls(folder.path, refresh=True)) == [
        "E1_620100_2013-06.xlsx",
        ingest.ROWS_AS_RECEIVED_NAME,
    ]
    parsed = _workbook_parsed(monkeypatch)
    load_form_period(engine, settings, E1, PERIOD)
    assert parsed == []
    received = _quarantined(engine)[3]
    assert received["工业总产值"] == -15 and received["备注"] == "2013-07-01T08:30:00"
