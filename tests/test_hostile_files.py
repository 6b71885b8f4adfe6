"""Hostile and broken files (issue 8, files half): each one is isolated — the file is rejected (or, where
the contract allows, read) with one line naming it, the other files of the delivery still load, input rows =
accepted + quarantined, and a rerun does not stumble on it again. On SQLite and on PostgreSQL; the memory
bounds run each case in a subprocess and compare its peak RSS with a normal delivery's."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import hostile_files as h
from landing_files import e1_row, land_bytes, p1_row, slice_tables, uscc_for, write_delivery
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.forms import PROJECT_MONTHLY as P1
from techreform.landing import NotARegularFile, display_name, receive_file
from techreform.limits import IngestLimits
from techreform.periods import Period
from techreform.pipeline import ingest_step, prepare_warehouse, process_form
from techreform.reports import rejected_files

PERIOD = Period(2013, 6)
GOOD = "E1_620400_2013-06.csv"
TESTS = Path(__file__).resolve().parent
MEMORY_MARGIN_MB = 200


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings)


def _rows(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).fetchall()


def _folder(settings, form=E1) -> Path:
    folder = settings.landing_dir / form.name / str(PERIOD)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _deliver(settings, name: str | bytes, data: bytes, form=E1, mtime: int = 2_000_000) -> Path:
    name = os.fsdecode(name) if isinstance(name, bytes) else name
    return land_bytes(settings.landing_dir, form, str(PERIOD), name, data, mtime)


def _deliver_good(settings) -> None:
    _deliver(settings, GOOD, h.e1_csv(h.good_e1_rows(2)), mtime=1_000_000)


def _log(engine, name: str):
    rows = _rows(
        engine, "select status, message, rows_received, file_sha256 from etl_file_log where file_name = :n", n=name
    )
    assert len(rows) == 1, f"{name} logged {len(rows)} times"
    return rows[0]


def _assert_rest_of_delivery_goes_on(engine, settings, hostile: str, *, must_name: tuple[str, ...] = ()) -> str:
    """Run the form; the hostile file is rejected with one line naming it (and ``must_name``), the good file
    loads, input rows = accepted + quarantined, and a rerun changes nothing. Returns the message."""
    result = process_form(engine, settings, "E1", PERIOD)
    good = _log(engine, GOOD)
    assert (good.status, good.rows_received) == ("loaded", 2)
    bad = _log(engine, hostile)
    assert bad.status == "rejected"
    assert "\n" not in bad.message and "\r" not in bad.message and hostile in bad.message
    for part in must_name:
        assert part in bad.message, bad.message
    assert [m for m in result["rejected"] if hostile in m] == [bad.message]
    load = result["load"]
    assert load["received"] == load["accepted"] + load["quarantined"] == 2
    assert _rows(engine, "select count(*) from etl_row_outcome")[0][0] == 2
    assert _rows(engine, "select count(*) from fct_enterprise_monthly")[0][0] == 2
    files_before = _rows(engine, "select file_name, status, delivery_seq from etl_file_log order by delivery_seq")
    again = process_form(engine, settings, "E1", PERIOD)
    assert again["new_files"] == 0
    assert (
        _rows(engine, "select file_name, status, delivery_seq from etl_file_log order by delivery_seq") == files_before
    )
    return bad.message


# --- 1. P1 files as the contract defines them ---------------------------------------------------------------


def test_a_p1_file_without_a_period_column_takes_its_folders_period(settings, engine):
    write_delivery(settings.landing_dir, P1, "2013-06", "P1_620100_2013-06.csv", [p1_row(1, None), p1_row(2, None)])
    result = process_form(engine, settings, "P1", PERIOD)
    assert [m for m in result["rejected"]] == []
    assert (result["load"]["received"], result["load"]["accepted"]) == (2, 2)
    assert _rows(engine, "select distinct period from fct_project_monthly") == [("2013-06",)]
    assert _rows(engine, "select distinct period from stg_project_monthly") == [("2013-06",)]


def test_a_p1_file_that_carries_a_period_is_checked_against_its_folder(settings, engine):
    write_delivery(
        settings.landing_dir,
        P1,
        "2013-06",
        "P1_620100_2013-06.csv",
        [p1_row(1, "2013-06"), p1_row(2, "2013年6月"), p1_row(3, "2013-05"), p1_row(4, "")],
    )
    result = process_form(engine, settings, "P1", PERIOD)
    load = result["load"]
    assert (load["received"], load["accepted"], load["quarantined"]) == (4, 3, 1)
    quarantined = _rows(engine, "select source_row, rule_ids from quarantine")
    assert [(r.source_row, "P1-H08" in r.rule_ids) for r in quarantined] == [(4, True)]


def test_an_e1_file_without_a_period_column_is_still_rejected_naming_it(settings, engine):
    rows = [{k: v for k, v in e1_row(uscc_for("620102", 1), "2013-06").items() if k != "报告期"}]
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", rows)
    result = process_form(engine, settings, "E1", PERIOD)
    assert len(result["rejected"]) == 1 and "报告期 (period)" in result["rejected"][0]


# --- 3. numbers ------------------------------------------------------------------------------------------------


def test_infinite_nan_overlong_numbers_are_h00_and_minus_zero_is_zero_on_every_warehouse(settings, engine):
    county = "620102"
    rows = [
        e1_row(uscc_for(county, 1), "2013-06", **{"主营业务收入": "1e309"}),
        e1_row(uscc_for(county, 2), "2013-06", **{"主营业务收入": "inf"}),
        e1_row(uscc_for(county, 3), "2013-06", **{"工业总产值": "nan"}),
        e1_row(uscc_for(county, 4), "2013-06", **{"工业总产值": "1234567890123.456"}),
        e1_row(uscc_for(county, 5), "2013-06", **{"利润总额": "-0", "技术改造投资完成额": "-0.00"}),
    ]
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", rows)
    load = process_form(engine, settings, "E1", PERIOD)["load"]
    assert (load["received"], load["accepted"], load["quarantined"]) == (5, 1, 4)
    quarantine = _rows(engine, "select source_row, rule_ids, messages from quarantine order by source_row")
    assert [r.rule_ids for r in quarantine] == ["E1-H00"] * 4
    for row, value in zip(quarantine, ["1e309", "inf", "nan", "1234567890123.456"]):
        assert f"“{value}”" in row.messages
    ((profit, investment),) = _rows(engine, "select profit, techreform_investment from fct_enterprise_monthly")
    assert profit == 0 and math.copysign(1.0, profit) == 1.0
    assert investment == 0 and math.copysign(1.0, investment) == 1.0
    assert _rows(engine, "select count(*) from fct_enterprise_monthly where cast(profit as text) like '-%'")[0][0] == 0


# --- 4. one bad file never stops the period ---------------------------------------------------------------------


def test_a_csv_cell_over_the_csv_modules_field_limit_rejects_only_its_file(settings, engine):
    _deliver_good(settings)
    rows = h.good_e1_rows(2, county="620102")
    rows[1]["企业名称"] = "厂" * 200_000
    _deliver(settings, "E1_620100_2013-06.csv", h.e1_csv(rows))
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("第3行",))


def test_a_cell_over_the_character_limit_is_named_by_row_and_column(settings, engine):
    _deliver_good(settings)
    rows = h.good_e1_rows(2, county="620102")
    rows[0]["企业名称"] = "厂" * 10_001
    _deliver(settings, "E1_620100_2013-06.csv", h.e1_csv(rows))
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("第2行 B列", "10000"))


@pytest.mark.parametrize(
    ("raw_name", "shown"),
    [
        ("E1_620100_兰州.csv".encode("gbk"), "E1_620100_兰州.csv"),  # a Windows archive's GBK name
        (b"E1_620100_\xff\xfe.csv", "E1_620100_\\xff\\xfe.csv"),  # bytes of no encoding
        (b"E1_620100_a\nb.csv", "E1_620100_a\\x0ab.csv"),  # a line break in the name
    ],
)
def test_a_file_name_that_is_not_utf8_is_shown_readably_and_the_file_is_read(settings, engine, raw_name, shown):
    _deliver_good(settings)
    _deliver(settings, raw_name, h.e1_csv(h.good_e1_rows(1, county="620102")))
    result = process_form(engine, settings, "E1", PERIOD)
    assert result["rejected"] == []
    logged = _log(engine, shown)
    assert (logged.status, logged.rows_received) == ("loaded", 1)
    raw = settings.raw_dir / "enterprise_monthly" / "2013-06" / logged.file_sha256 / shown
    assert raw.read_bytes() == h.e1_csv(h.good_e1_rows(1, county="620102"))
    assert result["load"]["accepted"] == 3
    assert process_form(engine, settings, "E1", PERIOD)["new_files"] == 0


def test_a_long_name_of_undecodable_bytes_still_fits_the_raw_zone(settings, engine):
    raw_name = b"E1_620100_" + b"\xff" * 200 + b".csv"  # 214 bytes on disk, 1 000 characters shown
    _deliver_good(settings)
    _deliver(settings, raw_name, h.e1_csv(h.good_e1_rows(1, county="620102")))
    result = process_form(engine, settings, "E1", PERIOD)
    assert result["rejected"] == [] and result["load"]["accepted"] == 3
    shown = display_name(os.fsdecode(raw_name))
    logged = _log(engine, shown)
    kept = list((settings.raw_dir / "enterprise_monthly" / "2013-06" / logged.file_sha256).iterdir())
    assert len(kept) == 1 and kept[0].name.endswith("….csv") and len(kept[0].name.encode()) <= 200


def test_an_xlsx_numeric_cell_holding_text_rejects_only_its_file_naming_the_row(settings, engine):
    _deliver_good(settings)
    _deliver(settings, "E1_620100_2013-06.xlsx", h.numeric_cell_holding_text(h.good_e1_rows(2, county="620102")))
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.xlsx", must_name=("第2行", "12a"))


def test_a_nul_byte_in_a_csv_cell_rejects_the_file_naming_row_and_column(settings, engine):
    _deliver_good(settings)
    data = h.e1_csv(h.good_e1_rows(2, county="620102"))
    name = "兰州测试化工有限公司".encode()
    second = data.index(name, data.index(name) + 1)
    _deliver(settings, "E1_620100_2013-06.csv", data[:second] + b"\x00" + data[second:])
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("第3行 B列", "NUL"))


def test_a_nul_character_in_an_xlsx_cell_rejects_the_file_naming_the_row(settings, engine):
    import re

    _deliver_good(settings)
    data = h.e1_xlsx(h.good_e1_rows(2, county="620102"))
    nul_cell = b'<c r="B3" t="inlineStr"><is><t>\xe5\x85\xb0&#0;</t></is></c>'  # XML 1.0 cannot carry NUL
    data = h.rewrite_member(
        data, "xl/worksheets/sheet1.xml", lambda xml: re.sub(rb'<c r="B3"[^>]*>.*?</c>', nul_cell, xml)
    )
    _deliver(settings, "E1_620100_2013-06.xlsx", data)
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.xlsx", must_name=("第3行",))


def test_a_memory_error_while_reading_rejects_only_that_file(settings, engine, monkeypatch):
    import techreform.ingest as ingest

    real = ingest.parse_table

    def exhausted(form, table, period=None):
        if table.file_name == "E1_620100_2013-06.csv":
            raise MemoryError
        return real(form, table, period)

    monkeypatch.setattr(ingest, "parse_table", exhausted)
    _deliver_good(settings)
    _deliver(settings, "E1_620100_2013-06.csv", h.e1_csv(h.good_e1_rows(2, county="620102")))
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("内存不足", "memory"))


def test_an_unforeseen_reader_failure_rejects_only_that_file(settings, engine, monkeypatch):
    import techreform.ingest as ingest

    real = ingest.read_delivery_bytes

    def broken(path, data, limits=None):
        if path.name == "E1_620100_2013-06.csv":
            raise KeyError("no such part")
        return real(path, data, limits)

    monkeypatch.setattr(ingest, "read_delivery_bytes", broken)
    _deliver_good(settings)
    _deliver(settings, "E1_620100_2013-06.csv", h.e1_csv(h.good_e1_rows(2, county="620102")))
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("KeyError",))


def test_a_value_the_database_refuses_rejects_only_that_file_and_stages_none_of_it(settings, engine, monkeypatch):
    import techreform.ingest as ingest

    real = ingest.insert_columns

    def refusing(conn, table, names, columns):
        if table in slice_tables(E1) and target in columns[list(names).index("file_sha256")]:
            raise sa.exc.DataError("insert", {}, ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
        return real(conn, table, names, columns)

    monkeypatch.setattr(ingest, "insert_columns", refusing)
    _deliver_good(settings)
    data = h.e1_csv(h.good_e1_rows(2, county="620102"))
    import hashlib

    target = hashlib.sha256(data).hexdigest()
    _deliver(settings, "E1_620100_2013-06.csv", data)
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("DataError", "staging"))
    assert _rows(engine, "select count(*) from stg_enterprise_monthly where file_sha256 = :s", s=target)[0][0] == 0


# --- 5. unbalanced quotes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("closing", ["", "later"])
def test_an_unbalanced_quote_rejects_the_file_naming_the_line(settings, engine, closing):
    _deliver_good(settings)
    rows = h.good_e1_rows(4, county="620102")
    lines = h.e1_csv(rows).decode().split("\r\n")
    lines[2] = lines[2].replace("兰州测试化工有限公司", '"兰州测试化工有限公司', 1)  # line 3 opens a quote
    if closing:
        lines[4] = lines[4].replace("兰州测试化工有限公司", '兰州测试化工有限公司"', 1)  # closed two lines later
    _deliver(settings, "E1_620100_2013-06.csv", "\r\n".join(lines).encode())
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("第3行", "quote"))


def test_a_quote_closed_where_a_cell_may_end_still_cannot_swallow_rows(settings, engine):
    _deliver_good(settings)
    lines = h.e1_csv(h.good_e1_rows(4, county="620102")).decode().split("\r\n")
    lines[2] = lines[2].replace(",", ',"', 1)  # line 3: the second cell opens a quote ...
    lines[4] = lines[4].replace(",", '",', 1)  # ... closed properly two lines later
    _deliver(settings, "E1_620100_2013-06.csv", "\r\n".join(lines).encode())
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("第3行",))


def test_a_real_multi_line_remark_is_still_read(tmp_path):
    from techreform.readers import read_delivery

    path = tmp_path / "P1.csv"
    path.write_bytes(h.csv_bytes([["项目代码", "存在问题及说明", "项目状态"], ["x", "第一，资金\n第二，用地", "在建"]]))
    assert read_delivery(path).rows == [(2, ["x", "第一，资金\n第二，用地", "在建"])]


# --- 6. bounded resources ---------------------------------------------------------------------------------------


def test_a_workbook_declaring_a_huge_dimension_is_read_as_what_it_holds(settings, engine):
    _deliver_good(settings)
    _deliver(settings, "E1_620100_2013-06.xlsx", h.dimension_bomb(h.good_e1_rows(3, county="620102")))
    result = process_form(engine, settings, "E1", PERIOD)
    assert result["rejected"] == []
    assert _log(engine, "E1_620100_2013-06.xlsx").rows_received == 3
    assert result["load"]["accepted"] == 5


@pytest.mark.slow
def test_a_zip_bomb_is_refused_from_its_zip_directory(settings, engine):
    _deliver_good(settings)
    _deliver(settings, "E1_620100_2013-06.xlsx", h.zip_bomb(300_000_000))
    _assert_rest_of_delivery_goes_on(
        engine, settings, "E1_620100_2013-06.xlsx", must_name=("max_xlsx_uncompressed_bytes",)
    )


def test_a_highly_compressed_member_is_refused_by_its_ratio(settings, engine):
    _deliver_good(settings)
    _deliver(settings, "E1_620100_2013-06.xlsx", h.zip_bomb(20_000_000))
    _assert_rest_of_delivery_goes_on(
        engine, settings, "E1_620100_2013-06.xlsx", must_name=("xl/worksheets/sheet1.xml", "max_xlsx_compression_ratio")
    )


def test_a_shared_strings_bomb_is_refused_before_it_is_unpacked(settings, engine):
    _deliver_good(settings)
    _deliver(settings, "E1_620100_2013-06.xlsx", h.shared_strings_bomb(2_000_000))
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.xlsx", must_name=("sharedStrings",))


def test_a_large_shared_strings_table_of_modest_ratio_is_refused_by_its_size(tmp_path):
    from techreform.readers import UnreadableFile, read_delivery

    path = tmp_path / "E1.xlsx"
    path.write_bytes(h.shared_strings_bomb(200_000))
    with pytest.raises(UnreadableFile) as excinfo:
        read_delivery(path, IngestLimits(max_xlsx_shared_strings_bytes=1_000_000, max_xlsx_compression_ratio=10_000))
    assert "max_xlsx_shared_strings_bytes" in str(excinfo.value)


def test_a_csv_with_a_million_columns_is_refused_naming_the_limit(settings, engine):
    _deliver_good(settings)
    _deliver(settings, "E1_620100_2013-06.csv", h.wide_csv(1_000_000))
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("第1行", "40"))


def test_a_data_row_wider_than_the_form_is_refused_even_with_quotes(settings, engine):
    _deliver_good(settings)
    rows = h.good_e1_rows(2, county="620102")
    data = h.e1_csv(rows) + ('"x",' * 100 + "\r\n").encode()
    _deliver(settings, "E1_620100_2013-06.csv", data)
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("第4行", "101"))


def test_a_file_over_the_byte_limit_is_kept_and_logged_but_never_read(settings, engine, tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # the task's scratch folder
    settings = settings.with_options(ingest={"max_file_bytes": 5_000})
    _deliver_good(settings)
    data = h.e1_csv(h.good_e1_rows(40, county="620102"))
    assert len(data) > 5_000
    _deliver(settings, "E1_620100_2013-06.csv", data)
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("max_file_bytes", "5000"))
    logged = _log(engine, "E1_620100_2013-06.csv")
    import hashlib

    assert logged.file_sha256 == hashlib.sha256(data).hexdigest()
    raw = settings.raw_dir / "enterprise_monthly" / "2013-06" / logged.file_sha256 / "E1_620100_2013-06.csv"
    assert raw.read_bytes() == data
    assert not any(scratch.rglob("*")), "the spooled copy was moved into the raw zone, the scratch removed"


def test_a_file_over_the_cell_limit_is_refused(settings, engine):
    settings = settings.with_options(ingest={"max_cells": 100})
    _deliver_good(settings)
    _deliver(settings, "E1_620100_2013-06.csv", h.e1_csv(h.good_e1_rows(10, county="620102")))
    _assert_rest_of_delivery_goes_on(engine, settings, "E1_620100_2013-06.csv", must_name=("max_cells",))


def test_ingest_limits_come_from_the_configuration_and_are_checked(sqlite_settings):
    limits = IngestLimits.from_settings(sqlite_settings.with_options(ingest={"max_cells": 10, "extra_columns": 2}))
    assert (limits.max_cells, limits.for_columns(20).max_columns) == (10, 22)
    assert IngestLimits.from_settings(sqlite_settings) == IngestLimits()
    with pytest.raises(ValueError, match="max_cels"):
        IngestLimits.from_settings(sqlite_settings.with_options(ingest={"max_cels": 10}))
    with pytest.raises(ValueError, match="positive"):
        IngestLimits.from_settings(sqlite_settings.with_options(ingest={"max_cells": -1}))


def _probe(data_dir: Path) -> dict:
    done = subprocess.run(
        [sys.executable, str(TESTS / "hostile_probe.py"), str(data_dir), "E1", str(PERIOD)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=TESTS.parent,
        env={**os.environ, "PYTHONPATH": str(TESTS)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


MEMORY_CASES = {
    "dimension A1:XFD20000": ("E1_dimension.xlsx", lambda: h.dimension_bomb(h.good_e1_rows(3)), "loaded"),
    "zip bomb (2.2 GB)": ("E1_zipbomb.xlsx", lambda: h.zip_bomb(2_200_000_000), "rejected"),
    "shared-strings bomb": ("E1_sst.xlsx", lambda: h.shared_strings_bomb(5_000_000), "rejected"),
    "1M-column CSV": ("E1_wide.csv", lambda: h.wide_csv(1_000_000), "rejected"),
    "200k-character cell": ("E1_cell.csv", lambda: h.e1_csv(h.good_e1_rows(1)) + b"x" * 200_000, "rejected"),
    "60 MB file": ("E1_large.csv", lambda: h.e1_csv(h.good_e1_rows(1)) + b"x" * 60_000_000, "rejected"),
    "a file at the cell limit": ("E1_cells.csv", h.at_cell_limit, "loaded"),
    "a file at the byte limit": ("E1_bytes.csv", h.at_byte_limit, "loaded"),
    "a workbook at the cell limit": ("E1_cells.xlsx", h.xlsx_at_cell_limit, "loaded"),
    "a workbook at the shared-strings limit": ("E1_sst.xlsx", h.shared_strings_at_limit, "loaded"),
}


@pytest.fixture(scope="module")
def baseline_rss_mb(tmp_path_factory) -> float:
    data_dir = tmp_path_factory.mktemp("baseline")
    folder = data_dir / "landing" / "enterprise_monthly" / str(PERIOD)
    folder.mkdir(parents=True)
    (folder / GOOD).write_bytes(h.e1_csv(h.good_e1_rows(3)))
    result = _probe(data_dir)
    assert [f["status"] for f in result["files"]] == ["loaded"]
    return result["peak_rss_mb"]


@pytest.mark.slow
@pytest.mark.parametrize("case", list(MEMORY_CASES))
def test_a_hostile_file_costs_at_most_200_mb_over_a_normal_delivery(tmp_path, baseline_rss_mb, case):
    name, build, status = MEMORY_CASES[case]
    folder = tmp_path / "landing" / "enterprise_monthly" / str(PERIOD)
    folder.mkdir(parents=True)
    (folder / name).write_bytes(build())
    result = _probe(tmp_path)
    assert [f["status"] for f in result["files"]] == [status]
    assert result["peak_rss_mb"] <= baseline_rss_mb + MEMORY_MARGIN_MB, (case, result["peak_rss_mb"], baseline_rss_mb)


# --- 7. links and special files ---------------------------------------------------------------------------------


def test_links_directories_and_fifos_are_refused_unread_and_recorded(settings, engine, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_bytes(h.e1_csv(h.good_e1_rows(1, county="620102")))
    _deliver_good(settings)
    folder = _folder(settings)
    (folder / "E1_link.csv").symlink_to(secret)
    (folder / "E1_passwd.csv").symlink_to("/etc/passwd")
    (folder / "E1_dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    (folder / "E1_folder.csv").mkdir()
    os.mkfifo(folder / "E1_pipe.csv")
    result = process_form(engine, settings, "E1", PERIOD)
    refused = {
        "E1_link.csv": "symlink",
        "E1_passwd.csv": "symlink",
        "E1_dangling.csv": "symlink",
        "E1_folder.csv": "directory",
        "E1_pipe.csv": "fifo",
    }
    recorded = _rows(engine, "select entry_name, kind, message from etl_refused_entry order by entry_name")
    assert {r.entry_name: r.kind for r in recorded} == refused
    assert all(r.entry_name in r.message and "\n" not in r.message for r in recorded)
    assert sorted(m.split("/", 2)[2].split(" ")[0] for m in result["rejected"]) == sorted(refused)
    assert _rows(engine, "select file_name from etl_file_log") == [(GOOD,)]
    raw_files = [p.name for p in settings.raw_dir.rglob("*") if p.is_file()]
    assert raw_files == [GOOD]
    assert (result["load"]["received"], result["load"]["accepted"]) == (2, 2)
    assert set(rejected_files(settings, PERIOD)["file_name"]) == set(refused)
    again = ingest_step(engine, settings, "E1", PERIOD)
    assert again["new_files"] == 0 and len(again["rejected"]) == len(refused)
    assert len(_rows(engine, "select * from etl_refused_entry")) == len(refused)


def test_a_file_that_cannot_be_opened_is_refused_and_recorded(settings, engine, monkeypatch):
    import techreform.ingest as ingest

    real = ingest.receive_file

    def denied(path, max_bytes, spool_dir):
        if path.name == "E1_620100_2013-06.csv":
            raise PermissionError(13, "Permission denied")
        return real(path, max_bytes, spool_dir)

    monkeypatch.setattr(ingest, "receive_file", denied)
    _deliver_good(settings)
    _deliver(settings, "E1_620100_2013-06.csv", h.e1_csv(h.good_e1_rows(1, county="620102")))
    result = process_form(engine, settings, "E1", PERIOD)
    assert len(result["rejected"]) == 1 and "E1_620100_2013-06.csv" in result["rejected"][0]
    assert "Permission denied" in result["rejected"][0]
    assert _rows(engine, "select entry_name, kind from etl_refused_entry") == [("E1_620100_2013-06.csv", "unreadable")]
    assert (result["load"]["received"], result["load"]["accepted"]) == (2, 2)


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(tmp_path):
    target = tmp_path / "target.csv"
    target.write_bytes(b"a,b\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    with pytest.raises(NotARegularFile):
        receive_file(link, 1_000, tmp_path / "spool")
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(NotARegularFile):
        receive_file(tmp_path / "pipe.csv", 1_000, tmp_path / "spool")


def test_a_delivery_folder_that_is_a_link_is_not_read(settings, engine, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / GOOD).write_bytes(h.e1_csv(h.good_e1_rows(2)))
    (settings.landing_dir / E1.name).mkdir(parents=True)
    (settings.landing_dir / E1.name / str(PERIOD)).symlink_to(elsewhere)
    result = ingest_step(engine, settings, "E1", PERIOD)
    assert result["new_files"] == 0
    assert _rows(engine, "select count(*) from etl_file_log")[0][0] == 0


def test_display_names_are_readable_and_single_line():
    assert display_name(os.fsdecode("兰州.csv".encode("gb18030"))) == "兰州.csv"
    assert display_name(os.fsdecode(b"a\xffb.csv")) == "a\\xffb.csv"
    assert display_name("a\tb\x7f.csv") == "a\\x09b\\x7f.csv"
