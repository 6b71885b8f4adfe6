"""The file handling and staging of ingestion pinned directly (issue 16, mutation testing of
``techreform.ingest`` beyond its parsing core): what lands in the raw zone, the file log, the staging
tables and ``etl_refused_entry``; the one-line messages naming the file, row, field or limit; the entries
refused unread; and the rows as received read back from the raw zone — a few rows per test, on a small
store in tmp_path and every warehouse."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

import hostile_files as h
from landing_files import e1_row, land_bytes, p1_row, slice_tables, uscc_for, write_delivery
from techreform import ingest, readers
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.forms import PROJECT_MONTHLY as P1
from techreform.ingest import (
    FileOutcome,
    ReadBackFailed,
    delivered_files,
    delivery_folder,
    fill_received,
    gone_from_raw_zone,
    ingest_form_period,
    keep_in_raw_zone,
    parse_table,
    parse_table_chunks,
    received_rows,
    row_as_received,
    sha256_of,
)
from techreform.landing import NotARegularFile, ReceivedFile
from techreform.limits import IngestLimits
from techreform.periods import Period
from techreform.pipeline import prepare_warehouse
from techreform.readers import UnreadableFile, read_delivery_bytes
from techreform.store import location

PERIOD = Period(2013, 6)
WHERE = "enterprise_monthly/2013-06"
NAME = "E1_620100_2013-06.csv"


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings)


def _land(settings, name: str, data: bytes, mtime: int = 2_000_000) -> Path:
    return land_bytes(settings.landing_dir, E1, str(PERIOD), name, data, mtime)


def _ingest(engine, settings) -> list[FileOutcome]:
    summary = ingest_form_period(engine, settings, E1, PERIOD)
    assert (summary.form, summary.period) == ("E1", "2013-06")
    return summary.files


def _select(engine, sql: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]


def _file_log(engine) -> list[dict]:
    rows = _select(engine, "select * from etl_file_log order by delivery_seq")
    for row in rows:
        received_at = dt.datetime.fromisoformat(row.pop("received_at"))
        assert received_at.utcoffset() == dt.timedelta(0) and received_at.microsecond == 0
    return rows


def _raw(settings, sha: str, name: str = NAME) -> Path:
    return settings.raw_dir / E1.name / str(PERIOD) / sha / name


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "techreform.ingest" and r.levelno == logging.ERROR]


# --- a file that loads -----------------------------------------------------------------------------------


def test_a_file_is_kept_raw_logged_and_staged_slice_by_slice_with_its_delivery(settings, engine, monkeypatch, caplog):
    monkeypatch.setattr(ingest, "STAGE_CHUNK_ROWS", 2)
    rows = [e1_row(uscc_for("620102", n), "2013-06", 填表人="张三", 电话="1") for n in (1, 2, 3)]
    rows[0]["主营业务收入"] = "12,3a4"  # does not parse: the first slice has one row of each kind
    data = write_delivery(settings.landing_dir, E1, "2013-06", NAME, rows).read_bytes()
    sha = _sha(data)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with caplog.at_level(logging.ERROR, "techreform.ingest"):
        (outcome,) = _ingest(engine, settings)
    after = dt.datetime.now(dt.UTC)
    assert outcome == FileOutcome(NAME, sha, "loaded", 3, 2, 1, ["填表人", "电话"], "")
    assert _errors(caplog) == []
    assert _raw(settings, sha).read_bytes() == data
    table = read_delivery_bytes(Path(NAME), data)
    (log,) = _select(engine, "select received_at from etl_file_log")
    assert before <= dt.datetime.fromisoformat(log["received_at"]) <= after
    assert _file_log(engine) == [
        {
            "form": "E1",
            "period": "2013-06",
            "file_sha256": sha,
            "file_name": NAME,
            "raw_path": str(_raw(settings, sha)),
            "bytes": len(data),
            "delivery_seq": 1,
            "encoding": table.encoding,
            "status": "loaded",
            "rows_received": 3,
            "extra_columns": "填表人,电话",
            "message": "",
        }
    ]
    staged = _select(
        engine,
        "select delivery_period, file_sha256, source_row, delivery_seq, raw_json, uscc, revenue"
        " from stg_enterprise_monthly order by source_row",
    )
    assert staged == [
        {
            "delivery_period": "2013-06",
            "file_sha256": sha,
            "source_row": n + 1,
            "delivery_seq": 1,
            "raw_json": "",
            "uscc": uscc_for("620102", n),
            "revenue": 1100.0,
        }
        for n in (2, 3)
    ]
    (unparsed,) = parse_table(E1, table, PERIOD).unparsed
    assert unparsed["raw_json"] and unparsed["messages"]
    assert _select(engine, "select * from stg_parse_error") == [
        {"form": "E1", "delivery_period": "2013-06", "file_sha256": sha, "delivery_seq": 1, **unparsed}
    ]


def test_a_later_delivery_gets_the_next_sequence_and_known_bytes_are_unchanged_with_their_logged_count(
    settings, engine
):
    first = h.e1_csv(h.good_e1_rows(2, county="620102"))
    _land(settings, NAME, first, mtime=1_000_000)
    _ingest(engine, settings)
    second = h.e1_csv(h.good_e1_rows(3, county="620102"))
    _land(settings, "E1_620100_2013-06_v2.csv", second, mtime=2_000_000)
    _land(settings, "E1_620100_2013-06_copy.csv", second, mtime=3_000_000)  # the same bytes twice in a folder
    outcomes = _ingest(engine, settings)
    assert outcomes == [
        FileOutcome(NAME, _sha(first), "unchanged", 2),
        FileOutcome("E1_620100_2013-06_v2.csv", _sha(second), "loaded", 3, 3),
        FileOutcome("E1_620100_2013-06_copy.csv", _sha(second), "unchanged", 3),
    ]
    assert [(r["file_name"], r["delivery_seq"]) for r in _file_log(engine)] == [
        (NAME, 1),
        ("E1_620100_2013-06_v2.csv", 2),
    ]
    counts = _select(
        engine, "select delivery_seq, count(*) as n from stg_enterprise_monthly group by delivery_seq order by 1"
    )
    assert counts == [{"delivery_seq": 1, "n": 2}, {"delivery_seq": 2, "n": 3}]


def test_a_p1_file_without_a_period_is_staged_with_its_folders_period(settings, engine):
    write_delivery(settings.landing_dir, P1, "2013-06", "P1_620100_2013-06.csv", [p1_row(1, None), p1_row(2, None)])
    (outcome,) = ingest_form_period(engine, settings, P1, PERIOD).files
    assert (outcome.status, outcome.rows_staged) == ("loaded", 2)
    staged = _select(engine, "select project_code, period from stg_project_monthly order by source_row")
    assert staged == [{"project_code": p1_row(n, None)["项目代码"], "period": "2013-06"} for n in (1, 2)]


def test_delivered_files_are_the_regular_files_of_the_delivery_folder_in_arrival_order(settings):
    assert delivery_folder(settings, E1, PERIOD) == settings.landing_dir / "enterprise_monthly" / "2013-06"
    _land(settings, "b.csv", b"x", mtime=1_000)
    _land(settings, "c.csv", b"x", mtime=2_000)
    _land(settings, "a.csv", b"x", mtime=2_000)
    _land(settings, ".partial.csv", b"x", mtime=500)
    _land(settings, "~$a.xlsx", b"x", mtime=500)
    (delivery_folder(settings, E1, PERIOD) / "sub").mkdir()
    folder = delivery_folder(settings, E1, PERIOD)
    assert delivered_files(settings, E1, PERIOD) == [folder / "b.csv", folder / "a.csv", folder / "c.csv"]


# --- files rejected ----------------------------------------------------------------------------------------


def test_a_file_missing_a_required_column_is_rejected_in_one_logged_line_kept_raw_and_a_rerun_skips_it(
    settings, engine, caplog
):
    rows = [{k: v for k, v in r.items() if k != "主营业务收入"} for r in h.good_e1_rows(2)]
    data = write_delivery(settings.landing_dir, E1, "2013-06", NAME, rows).read_bytes()
    sha = _sha(data)
    table = read_delivery_bytes(Path(NAME), data)
    with pytest.raises(UnreadableFile) as why:
        parse_table(E1, table)
    message = f"{WHERE}/{NAME}: {why.value}"
    assert "主营业务收入 (revenue)" in message
    with caplog.at_level(logging.ERROR, "techreform.ingest"):
        assert _ingest(engine, settings) == [FileOutcome(NAME, sha, "rejected", message=message)]
    assert _errors(caplog) == [message]
    assert _raw(settings, sha).read_bytes() == data
    (log,) = _file_log(engine)
    assert (log["status"], log["rows_received"], log["encoding"], log["extra_columns"], log["message"]) == (
        "rejected",
        0,
        table.encoding,
        "",
        message,
    )
    assert _select(engine, "select count(*) as n from stg_enterprise_monthly") == [{"n": 0}]
    caplog.clear()
    assert _ingest(engine, settings) == [FileOutcome(NAME, sha, "unchanged", 0, message=message)]
    assert _errors(caplog) == []


def test_a_file_of_an_unsupported_type_is_rejected_naming_it_and_logged_without_encoding(settings, engine):
    _land(settings, "E1_620100_2013-06.txt", b"a,b\r\n1,2\r\n")
    (outcome,) = _ingest(engine, settings)
    assert outcome.status == "rejected"
    assert outcome.message == (
        f"{WHERE}/E1_620100_2013-06.txt: 不支持的文件类型 .txt，应为 .csv 或 .xlsx / unsupported file type"
    )
    (log,) = _file_log(engine)
    assert (log["encoding"], log["bytes"], log["rows_received"]) == (None, 10, 0)


def test_a_file_over_the_byte_limit_is_spooled_into_the_raw_zone_and_rejected_unread(
    settings, engine, tmp_path, monkeypatch
):
    spool = tmp_path / "spool"

    prefixes = []

    @contextlib.contextmanager
    def kept_scratch(prefix: str = ""):
        prefixes.append(prefix)
        spool.mkdir(exist_ok=True)
        yield spool

    monkeypatch.setattr(ingest, "scratch_dir", kept_scratch)  # the task's scratch folder, left to look at
    settings = settings.with_options(ingest={"max_file_bytes": 100})
    data = h.e1_csv(h.good_e1_rows(1, county="620102"))
    _land(settings, NAME, data)
    message = (
        f"{WHERE}/{NAME}: 文件有 {len(data)} 字节，超过上限 100 字节，未读取 / the file has {len(data)} bytes,"
        " more than ingest.max_file_bytes = 100"
    )
    assert _ingest(engine, settings) == [FileOutcome(NAME, _sha(data), "rejected", message=message)]
    assert _raw(settings, _sha(data)).read_bytes() == data
    assert list(spool.iterdir()) == []  # the spooled copy was moved into the raw zone
    (log,) = _file_log(engine)
    assert (log["bytes"], log["encoding"], log["message"]) == (len(data), None, message)
    assert _ingest(engine, settings) == [FileOutcome(NAME, _sha(data), "unchanged", 0, message=message)]
    assert list(spool.iterdir()) == []  # known bytes: the spooled copy is removed at once
    assert prefixes == ["techreform-spool-"] * 2  # what an operator finds in the temporary folder


def test_a_file_may_have_the_configured_extra_columns_beyond_its_forms_fields_and_no_more(settings, engine):
    settings = settings.with_options(ingest={"extra_columns": 1})
    one = write_delivery(
        settings.landing_dir, E1, "2013-06", "one.csv", [e1_row(uscc_for("620102", 1), "2013-06", x1="a")]
    )
    os.utime(one, (1_000, 1_000))
    two = [e1_row(uscc_for("620102", 2), "2013-06", x1="a", x2="b")]
    data = write_delivery(settings.landing_dir, E1, "2013-06", "two.csv", two).read_bytes()
    limits = IngestLimits.from_settings(settings).for_columns(len(E1.fields))
    assert limits.max_columns == len(E1.fields) + 1
    with pytest.raises(UnreadableFile) as why:
        read_delivery_bytes(Path("two.csv"), data, limits)
    outcomes = _ingest(engine, settings)
    assert [(o.file_name, o.status, o.message) for o in outcomes] == [
        ("one.csv", "loaded", ""),
        ("two.csv", "rejected", f"{WHERE}/two.csv: {why.value}"),
    ]


GOOD = "E1_620100_2013-06_a.csv"


def _land_good_first(settings) -> None:
    """A good file that arrives (and is staged, delivery 1) before the file a test breaks."""
    _land(settings, GOOD, h.e1_csv(h.good_e1_rows(1, county="620402")), mtime=1_000)


def _failing_parse(monkeypatch, exc: BaseException, at_call: int) -> None:
    """``parse_table`` raises ``exc`` on its ``at_call``-th call for :data:`NAME` (a slice of the file;
    2 rows a slice)."""
    monkeypatch.setattr(ingest, "STAGE_CHUNK_ROWS", 2)
    real, calls = ingest.parse_table, []

    def failing(form, table, period=None):
        if table.file_name == NAME:
            calls.append(1)
            if len(calls) == at_call:
                raise exc
        return real(form, table, period)

    monkeypatch.setattr(ingest, "parse_table", failing)


MEMORY = "读取时内存不足，请拆分文件后重新报送 / out of memory while reading the file; deliver it in parts"


@pytest.mark.parametrize(
    "exc, at_call, reason",
    [
        (MemoryError(), 1, MEMORY),
        (MemoryError(), 2, MEMORY),
        (UnreadableFile("第4行 B列：坏 / bad"), 2, "第4行 B列：坏 / bad"),
        (RuntimeError("boom\nat line 2"), 1, "无法读取 / cannot read the file (RuntimeError: boom at line 2)"),
        (RuntimeError("boom"), 2, "无法读取 / cannot read the file (RuntimeError: boom)"),
    ],
)
def test_a_failure_while_parsing_any_slice_rejects_the_whole_file_in_one_line(
    settings, engine, monkeypatch, caplog, exc, at_call, reason
):
    _failing_parse(monkeypatch, exc, at_call)
    _land_good_first(settings)
    data = h.e1_csv(h.good_e1_rows(4, county="620102"))
    _land(settings, NAME, data)
    with caplog.at_level(logging.ERROR, "techreform.ingest"):
        assert _ingest(engine, settings)[1] == FileOutcome(
            NAME, _sha(data), "rejected", message=f"{WHERE}/{NAME}: {reason}"
        )
    good, log = _file_log(engine)
    assert (log["status"], log["rows_received"], log["encoding"], log["message"], log["delivery_seq"]) == (
        "rejected",
        0,
        read_delivery_bytes(Path(NAME), data).encoding,
        f"{WHERE}/{NAME}: {reason}",
        2,
    )
    assert (good["file_name"], good["status"]) == (GOOD, "loaded")
    assert _select(engine, "select count(*) as n from stg_enterprise_monthly where delivery_seq = 2") == [{"n": 0}]
    unforeseen = [r for r in caplog.records if r.getMessage() == f"{WHERE}/{NAME}: unexpected failure while reading"]
    assert [r.exc_info[1] for r in unforeseen] == ([exc] if isinstance(exc, RuntimeError) else [])


def _refusing_staging(monkeypatch, exc: Exception, sha: str) -> None:
    """The database refuses the staged rows of the file ``sha`` with ``exc``."""
    real = ingest.insert_columns

    def refusing(conn, table, names, columns):
        if table in slice_tables(E1) and sha in columns[list(names).index("file_sha256")]:
            raise exc
        return real(conn, table, names, columns)

    monkeypatch.setattr(ingest, "insert_columns", refusing)


@pytest.mark.parametrize(
    "exc, shown",
    [
        (ValueError("value too long\nDETAIL: the second line"), "ValueError: value too long"),
        (ValueError(), "ValueError: "),
    ],
)
def test_a_file_the_database_refuses_is_rejected_naming_the_error_and_the_next_file_goes_on(
    settings, engine, monkeypatch, caplog, exc, shown
):
    data = h.e1_csv(h.good_e1_rows(2, county="620102"))
    _refusing_staging(monkeypatch, exc, _sha(data))
    _land_good_first(settings)
    _land(settings, NAME, data, mtime=2_000)
    _land(settings, "E1_620100_2013-06.txt", b"x", mtime=3_000)
    with caplog.at_level(logging.ERROR, "techreform.ingest"):
        outcomes = _ingest(engine, settings)
    message = f"{WHERE}/{NAME}: 无法写入暂存表 / staging failed ({shown})"
    assert outcomes[1] == FileOutcome(NAME, _sha(data), "rejected", message=message)
    assert [o.status for o in outcomes] == ["loaded", "rejected", "rejected"]
    assert [(r["file_name"], r["status"], r["rows_received"], r["message"]) for r in _file_log(engine)] == [
        (GOOD, "loaded", 1, ""),
        (NAME, "rejected", 0, message),
        ("E1_620100_2013-06.txt", "rejected", 0, outcomes[2].message),
    ]
    (failed,) = [r for r in caplog.records if r.getMessage() == f"{WHERE}/{NAME}: staging failed"]
    assert failed.exc_info[1] is exc


def test_two_runs_racing_for_a_period_fail_loudly_and_log_nothing(settings, engine, monkeypatch):
    data = h.e1_csv(h.good_e1_rows(2, county="620102"))
    _refusing_staging(monkeypatch, sa.exc.IntegrityError("insert", {}, ValueError("duplicate key")), _sha(data))
    _land(settings, NAME, data)
    with pytest.raises(sa.exc.IntegrityError):
        _ingest(engine, settings)
    assert _file_log(engine) == []


# --- entries refused unread --------------------------------------------------------------------------------


def test_links_and_directories_are_refused_unread_recorded_once_per_name_and_kind(settings, engine, tmp_path, caplog):
    folder = delivery_folder(settings, E1, PERIOD)
    folder.mkdir(parents=True)
    (folder / "E1_link.csv").symlink_to(tmp_path)
    (folder / "E1_dir.csv").mkdir()
    link = f"{WHERE}/E1_link.csv 是符号链接而不是普通文件，未读取 / not a regular file (symlink), refused unread"
    directory = f"{WHERE}/E1_dir.csv 是目录而不是普通文件，未读取 / not a regular file (directory), refused unread"
    expected = [
        FileOutcome("E1_dir.csv", "", "refused", message=directory),
        FileOutcome("E1_link.csv", "", "refused", message=link),
    ]
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with caplog.at_level(logging.ERROR, "techreform.ingest"):
        assert _ingest(engine, settings) == expected
    assert _errors(caplog) == [directory, link]
    sql = "select form, period, entry_name, kind, message, first_seen_at from etl_refused_entry order by entry_name"
    recorded = _select(engine, sql)
    seen = {r.pop("first_seen_at") for r in recorded}
    (first_seen,) = {dt.datetime.fromisoformat(s) for s in seen}
    assert first_seen >= before and first_seen.utcoffset() == dt.timedelta(0) and first_seen.microsecond == 0
    assert recorded == [
        {"form": "E1", "period": "2013-06", "entry_name": "E1_dir.csv", "kind": "directory", "message": directory},
        {"form": "E1", "period": "2013-06", "entry_name": "E1_link.csv", "kind": "symlink", "message": link},
    ]
    assert _ingest(engine, settings) == expected  # reported again, recorded once
    assert len(_select(engine, sql)) == 2
    (folder / "E1_link.csv").unlink()
    (folder / "E1_link.csv").mkdir()  # the same name, another kind: recorded as well
    _ingest(engine, settings)
    recorded = _select(engine, "select entry_name, kind from etl_refused_entry order by entry_name, kind")
    assert [(r["entry_name"], r["kind"]) for r in recorded] == [
        ("E1_dir.csv", "directory"),
        ("E1_link.csv", "directory"),
        ("E1_link.csv", "symlink"),
    ]
    assert _file_log(engine) == []


@pytest.mark.parametrize(
    "exc, kind, reason",
    [
        (NotARegularFile(40, "符号链接，未读取 / a symbolic link, refused unread"), "symlink", None),
        (NotARegularFile(0, "命名管道而不是普通文件，未读取 / not a regular file (fifo)"), "other", None),
        (
            PermissionError(13, "Permission denied"),
            "unreadable",
            "无法打开，未读取 / cannot be opened (Permission denied)",
        ),
        (OSError(), "unreadable", "无法打开，未读取 / cannot be opened (OSError)"),
    ],
)
def test_a_file_that_cannot_be_opened_as_listed_is_refused_and_the_next_file_goes_on(
    settings, engine, monkeypatch, exc, kind, reason
):
    real = ingest.receive_file

    def failing(path, max_bytes, spool_dir):
        if path.name == NAME:
            raise exc
        return real(path, max_bytes, spool_dir)

    monkeypatch.setattr(ingest, "receive_file", failing)
    good = h.e1_csv(h.good_e1_rows(1, county="620102"))
    _land(settings, NAME, b"x", mtime=1_000)
    _land(settings, "E1_620100_2013-06_b.csv", good, mtime=2_000)
    message = f"{WHERE}/{NAME} {reason or exc.strerror}"
    assert _ingest(engine, settings) == [
        FileOutcome(NAME, "", "refused", message=message),
        FileOutcome("E1_620100_2013-06_b.csv", _sha(good), "loaded", 1, 1),
    ]
    assert _select(engine, "select entry_name, kind, message from etl_refused_entry") == [
        {"entry_name": NAME, "kind": kind, "message": message}
    ]


# --- the raw zone ------------------------------------------------------------------------------------------


def test_the_raw_zone_keeps_the_bytes_that_were_hashed_and_never_overwrites_them(sqlite_settings, tmp_path):
    settings = sqlite_settings
    sha = "ab" * 32
    target = keep_in_raw_zone(settings, E1, PERIOD, NAME, b"first", sha)
    assert target == _raw(settings, sha) and target.read_bytes() == b"first"
    spooled = tmp_path / "spooled.part"
    spooled.write_bytes(b"second")
    again = keep_in_raw_zone(settings, E1, PERIOD, NAME, ReceivedFile(sha, 6, spooled=spooled), sha)
    assert again == target and target.read_bytes() == b"first"
    assert not spooled.exists()  # the spooled copy of bytes already kept is removed
    spooled.write_bytes(b"large")
    other = keep_in_raw_zone(settings, E1, PERIOD, NAME, ReceivedFile("cd" * 32, 5, spooled=spooled), "cd" * 32)
    assert other == _raw(settings, "cd" * 32) and other.read_bytes() == b"large" and not spooled.exists()
    empty = keep_in_raw_zone(settings, E1, PERIOD, "empty.csv", b"", "ef" * 32)
    assert empty.read_bytes() == b""
    long_name = "报" * 70 + ".csv"
    cut = keep_in_raw_zone(settings, E1, PERIOD, long_name, b"x", "01" * 32)
    assert cut == _raw(settings, "01" * 32, "报" * 64 + "….csv") and cut.read_bytes() == b"x"


def test_sha256_of_is_the_hex_digest():
    assert sha256_of(b"abc") == hashlib.sha256(b"abc").hexdigest()


def test_a_file_parsed_in_slices_gives_each_slices_rows_and_a_file_without_rows_one_empty_slice(tmp_path):
    table = read_delivery_bytes(Path(NAME), h.e1_csv(h.good_e1_rows(5, county="620102")))
    slices = list(parse_table_chunks(E1, table, PERIOD, chunk_rows=2))
    assert [(s.rows_received, [r["source_row"] for r in s.staged]) for s in slices] == [
        (2, [2, 3]),
        (2, [4, 5]),
        (1, [6]),
    ]
    empty = read_delivery_bytes(Path(NAME), h.e1_csv([]))
    assert [(s.rows_received, s.staged) for s in parse_table_chunks(E1, empty, PERIOD)] == [(0, [])]
    assert [(s.rows_received, s.staged) for s in parse_table_chunks(E1, empty, PERIOD, chunk_rows=1)] == [(0, [])]
    p1 = write_delivery(tmp_path, P1, "2013-06", "P1.csv", [p1_row(n, None) for n in (1, 2, 3)]).read_bytes()
    slices = parse_table_chunks(P1, read_delivery_bytes(Path("P1.csv"), p1), "2013-06", chunk_rows=2)
    assert [[r["period"] for r in s.staged] for s in slices] == [["2013-06", "2013-06"], ["2013-06"]]


# --- rows as received, read back ---------------------------------------------------------------------------


@pytest.fixture
def kept(sqlite_settings):
    """Three E1 rows kept in the raw zone (as ingest keeps them): (settings, sha256, table as read)."""
    data = h.e1_csv(h.good_e1_rows(3, county="620102"))
    sha = _sha(data)
    keep_in_raw_zone(sqlite_settings, E1, PERIOD, NAME, data, sha)
    return sqlite_settings, sha, read_delivery_bytes(Path(NAME), data)


def _as_received(table, source_row: int) -> str:
    (cells,) = [c for n, c in table.rows if n == source_row]
    return row_as_received(table.headers, cells)


def test_rows_as_received_are_read_back_from_the_raw_zone_each_file_once(kept, monkeypatch):
    settings, sha, table = kept
    assert received_rows(settings, E1, PERIOD, []) == {}
    reads = []
    real = ingest.read_bytes
    monkeypatch.setattr(ingest, "read_bytes", lambda path: reads.append(path) or real(path))
    wanted = [(sha, NAME, 4, ""), (sha, NAME, 2, None), (sha, NAME, 4, "")]
    assert received_rows(settings, E1, "2013-06", wanted) == {
        (sha, 2): _as_received(table, 2),
        (sha, 4): _as_received(table, 4),
    }
    assert reads == [_raw(settings, sha)]


def test_a_row_is_read_back_where_ingest_recorded_its_file_and_under_limits_lifted(kept, tmp_path):
    settings, sha, table = kept
    moved = tmp_path / "elsewhere" / NAME
    moved.parent.mkdir()
    shutil.move(_raw(settings, sha), moved)
    lowered = settings.with_options(
        ingest={"max_file_bytes": 10, "max_cells": 5, "max_cell_chars": 1, "extra_columns": 1}
    )
    assert received_rows(lowered, E1, PERIOD, [(sha, NAME, 3, str(moved))]) == {(sha, 3): _as_received(table, 3)}
    wide = [e1_row(uscc_for("620102", 1), "2013-06", **{f"x{i}": "x" for i in range(50)})]
    data = write_delivery(tmp_path / "landing", E1, "2013-06", NAME, wide).read_bytes()
    widened = settings.with_options(ingest={"extra_columns": 50})  # the file was accepted under this margin
    keep_in_raw_zone(widened, E1, PERIOD, NAME, data, _sha(data))
    table = read_delivery_bytes(Path(NAME), data, IngestLimits.from_settings(widened).for_columns(len(E1.fields)))
    assert received_rows(widened, E1, PERIOD, [(_sha(data), NAME, 2, "")]) == {(_sha(data), 2): _as_received(table, 2)}


def test_rows_of_a_raw_file_gone_get_a_visible_marker_and_a_warning(kept, caplog):
    settings, sha, _ = kept
    raw = _raw(settings, sha)
    raw.unlink()
    marker = '{"(raw zone)": "文件已不在原始区 / no longer in the raw zone: ' + str(raw) + '"}'
    assert gone_from_raw_zone(str(raw)) == marker
    with caplog.at_level(logging.WARNING, "techreform.ingest"):
        found = received_rows(settings, E1, PERIOD, [(sha, NAME, 2, ""), (sha, NAME, 3, "")])
    assert found == {(sha, 2): marker, (sha, 3): marker}
    assert [r.getMessage() for r in caplog.records] == [
        f"{WHERE}/{NAME}: the raw file {raw} is gone; its rows as received are marked"
    ]
    data = h.e1_csv(h.good_e1_rows(1, county="620102"))
    keep_in_raw_zone(settings, E1, PERIOD, "other.csv", data, _sha(data))
    table = read_delivery_bytes(Path("other.csv"), data)
    found = received_rows(settings, E1, PERIOD, [(sha, NAME, 2, ""), (_sha(data), "other.csv", 2, "")])
    assert found == {(sha, 2): marker, (_sha(data), 2): _as_received(table, 2)}  # the next file is still read


def test_a_raw_file_that_was_changed_or_lacks_a_row_fails_the_read_back_in_one_line(kept):
    settings, sha, _ = kept
    raw = _raw(settings, sha)
    with pytest.raises(ReadBackFailed) as err:
        received_rows(settings, E1, PERIOD, [(sha, NAME, 9, ""), (sha, NAME, 7, ""), (sha, NAME, 2, "")])
    assert str(err.value) == f"{WHERE}/{NAME}: 原始文件中没有第 7 行 / {raw} has no row 7"
    raw.write_bytes(raw.read_bytes() + b"\r\n")
    with pytest.raises(ReadBackFailed) as err:
        received_rows(settings, E1, PERIOD, [(sha, NAME, 2, "")])
    assert str(err.value) == f"{WHERE}/{NAME}: 原始文件已被改动 / {raw} no longer has sha256 {sha}"


def test_a_raw_file_that_cannot_be_read_back_fails_naming_it_and_the_reason(kept, monkeypatch):
    settings, sha, _ = kept
    raw = _raw(settings, sha)
    data = raw.read_bytes()
    raw.unlink()
    raw.mkdir()  # the store answers, but not with the file
    with pytest.raises(IsADirectoryError) as oserror:
        raw.read_bytes()
    with pytest.raises(ReadBackFailed) as err:
        received_rows(settings, E1, PERIOD, [(sha, NAME, 2, "")])
    assert (
        str(err.value)
        == f"{WHERE}/{NAME}: 原始文件无法读回 / cannot read back {raw}: IsADirectoryError: {oserror.value}"
    )
    raw.rmdir()
    broken = data.replace(b"620102", b"\x00", 1)  # a file ingest would have refused: kept by its own sha256
    keep_in_raw_zone(settings, E1, PERIOD, NAME, broken, _sha(broken))
    with pytest.raises(UnreadableFile) as unreadable:
        read_delivery_bytes(Path(NAME), broken)
    with pytest.raises(ReadBackFailed) as err:
        received_rows(settings, E1, PERIOD, [(_sha(broken), NAME, 2, "")])
    where = _raw(settings, _sha(broken))
    assert str(err.value) == f"{WHERE}/{NAME}: 原始文件无法读回 / cannot read back {where}: {unreadable.value}"

    def exhausted(*args, **kwargs):
        raise MemoryError("no memory left")

    monkeypatch.setattr(readers, "read_delivery_bytes", exhausted)
    keep_in_raw_zone(settings, E1, PERIOD, NAME, data, sha)
    with pytest.raises(ReadBackFailed) as err:
        received_rows(settings, E1, PERIOD, [(sha, NAME, 2, "")])
    assert str(err.value) == f"{WHERE}/{NAME}: 原始文件无法读回 / cannot read back {raw}: no memory left"


def test_fill_received_fills_only_the_empty_rows_at_the_positions_asked(kept):
    settings, sha, table = kept
    frame = pd.DataFrame(
        {
            "file_sha256": [sha] * 4,
            "file_name": [NAME] * 4,
            "source_row": [2, 3, 4, 2],
            "raw_path": ["", None, float("nan"), ""],
            "raw_json": ["", None, '{"kept": 1}', ""],
        },
        index=[10, 11, 12, 13],  # positions, not labels
    )
    fill_received(settings, E1, PERIOD, frame, [0, 1, 2])
    assert frame["raw_json"].tolist() == [_as_received(table, 2), _as_received(table, 3), '{"kept": 1}', ""]
    assert json.loads(frame["raw_json"].iloc[0])["统一社会信用代码"] == uscc_for("620102", 1)


def test_fill_received_reads_the_recorded_raw_path_or_without_one_the_raw_zones_path(kept, tmp_path):
    settings, sha, table = kept
    by_name = pd.DataFrame({"file_sha256": [sha], "file_name": [NAME], "source_row": [3], "raw_json": [""]})
    fill_received(settings, E1, PERIOD, by_name, [0])
    assert by_name["raw_json"].tolist() == [_as_received(table, 3)]
    moved = tmp_path / "elsewhere.csv"
    shutil.copy(_raw(settings, sha), moved)
    by_path = pd.DataFrame(
        {"file_sha256": [sha], "file_name": [NAME], "source_row": [4], "raw_path": [str(moved)], "raw_json": [""]}
    )
    _raw(settings, sha).unlink()  # read where ingest recorded it, not where today's settings would put it
    fill_received(settings, E1, PERIOD, by_path, [0])
    assert by_path["raw_json"].tolist() == [_as_received(table, 4)]


def test_fill_received_reads_nothing_when_nothing_is_asked_or_missing(sqlite_settings):
    gone = pd.DataFrame({"file_sha256": ["ab" * 32], "file_name": [NAME], "source_row": [2], "raw_json": [""]})
    fill_received(sqlite_settings, E1, PERIOD, gone, [])
    assert gone["raw_json"].tolist() == [""]
    without = gone.drop(columns="raw_json")
    fill_received(sqlite_settings, E1, PERIOD, without, [0])
    assert list(without) == ["file_sha256", "file_name", "source_row"]
    full = gone.assign(raw_json=['{"a": 1}'])
    fill_received(sqlite_settings, E1, PERIOD, full, [0])
    assert full["raw_json"].tolist() == ['{"a": 1}']
    fill_received(sqlite_settings, E1, PERIOD, gone, [0])  # asked and missing: the file is gone
    assert json.loads(gone["raw_json"].iloc[0]) == {
        "(raw zone)": f"文件已不在原始区 / no longer in the raw zone: {_raw(sqlite_settings, 'ab' * 32)}"
    }


def test_a_row_is_read_back_from_the_object_store_where_ingest_recorded_it(tmp_path, s3_server):
    from test_store import s3_settings

    settings = s3_settings(tmp_path, s3_server)
    data = h.e1_csv(h.good_e1_rows(2, county="620102"))
    spooled = tmp_path / "spooled.part"  # a file too large to read whole is published from its spooled copy
    spooled.write_bytes(data)
    target = keep_in_raw_zone(
        settings, E1, PERIOD, NAME, ReceivedFile(_sha(data), len(data), spooled=spooled), _sha(data)
    )
    recorded = location(target)
    assert recorded.startswith("s3://") and not spooled.exists()
    table = read_delivery_bytes(Path(NAME), data)
    found = received_rows(settings, E1, PERIOD, [(_sha(data), NAME, 3, recorded)])
    assert found == {(_sha(data), 3): _as_received(table, 3)}
