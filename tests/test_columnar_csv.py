"""The columnar CSV reader (``readers._read_plain_csv``, pyarrow) gives exactly the table of the strict
reader (the csv module, line by line) for every file it takes, and leaves every other file to the
strict reader, which reads it or refuses it with its own message.

Each case is read twice: as ``read_csv_bytes`` reads it, and with the columnar reader switched off;
headers, encoding, rows (numbers and cells) and refusals must be equal. The cases that must be columnar
are checked to be, so the comparison is not between the strict reader and itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from techreform import readers
from techreform.limits import IngestLimits
from techreform.readers import UnreadableFile, read_csv_bytes

CSV = Path("E1_620100_2013-06.csv")


def _outcome(data: bytes, limits: IngestLimits | None, only_rows=None) -> tuple:
    try:
        table = read_csv_bytes(CSV, data, limits, only_rows)
    except UnreadableFile as exc:
        return ("refused", str(exc)), None
    return ("read", table.encoding, table.headers, table.rows, len(table), table.source_rows()), table


def _both(data: bytes, limits: IngestLimits | None = None, only_rows=None, monkeypatch=None) -> tuple:
    """(as read, as the strict reader alone reads it, whether the columnar reader took the file)."""
    taken, table = _outcome(data, limits, only_rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(readers, "_read_plain_csv", lambda *args: None)
        strict, _ = _outcome(data, limits, only_rows)
    return taken, strict, table is not None and table.columnar


HEADER = "统一社会信用代码,企业名称,报告期,工业总产值\r\n"
ROW = "91620102MA0001,兰州甲厂,2013-06,12.5\r\n"

# (name, bytes, whether the columnar reader takes it)
CASES = [
    ("plain UTF-8", (HEADER + ROW * 3).encode(), True),
    ("BOM", b"\xef\xbb\xbf" + (HEADER + ROW).encode(), True),
    ("two BOMs", b"\xef\xbb\xbf\xef\xbb\xbf" + (HEADER + ROW).encode(), True),
    ("GB18030", (HEADER + ROW * 2).encode("gb18030"), True),
    ("LF only", (HEADER + ROW * 2).replace("\r\n", "\n").encode(), True),
    ("no final line break", (HEADER + ROW).rstrip().encode(), True),
    ("the header only", HEADER.encode(), True),
    ("quoted thousands", (HEADER + 'x,"甲,乙",2013-06,"1,005.56"\r\n').encode(), True),
    ("quoted empty cell", (HEADER + 'x,"",2013-06,""\r\n').encode(), True),
    ("quoted header cell", ('"统一社会信用代码",企业名称\r\n1,"2"\r\n').encode(), True),
    ("a blank row of commas", (HEADER + ROW + ",,,\r\n" + ROW).encode(), True),
    ("a blank row of white space", (HEADER + ROW + " ,\u3000,\t,\x1c\r\n" + ROW).encode(), True),
    ("a row of zero-width space is not blank", (HEADER + "\u200b,,,\r\n").encode(), True),
    ("tab-separated, a comma in a cell", b"a\tb\tc\n1\t2,5\t3\n", True),
    ("comma-separated, a tab in a cell", b"a,b\tx,c\n1,2\t5,3\n", True),
    ("trailing delimiter", b"a,b,\n1,2,\n", True),
    ("one column, empty lines", b"a\n1\n\n2\n", True),
    ("empty line in the middle", (HEADER + ROW + "\r\n" + ROW).encode(), True),
    ("empty lines at the end", (HEADER + ROW + "\r\n\r\n").encode(), True),
    ("blank line before the header", ("\r\n" + HEADER + ROW).encode(), False),
    ("blank row before the header", (",,,\r\n" + HEADER + ROW).encode(), False),
    ("a short row", (HEADER + "x,y\r\n").encode(), False),
    ("a long row", (HEADER + "x,y,z,w,v\r\n").encode(), False),
    (
        "lone CR line ends",
        (HEADER + ROW * 2).replace("\r\n", "\r").encode(),
        False,
    ),  # the header's line ends at \n only
    ("CR inside a line", (HEADER + "x\ry,a,b,c\r\n").encode(), False),
    ("doubled quote", (HEADER + 'x,"甲""乙",2013-06,1\r\n').encode(), False),
    ("quote inside an unquoted cell", (HEADER + 'x,甲"乙",2013-06,1\r\n').encode(), False),
    ("text after a closing quote", (HEADER + 'x,"甲"乙,2013-06,1\r\n').encode(), False),
    ("quoted cell over two lines", (HEADER + 'x,"甲\r\n乙",2013-06,1\r\n').encode(), False),
    ("quoted cell swallowing rows", (HEADER + 'x,"甲,2013-06,1\r\n' + ROW + 'y",2013-06,1\r\n').encode(), False),
    ("unbalanced quote", (HEADER + 'x,"甲,2013-06,1\r\n' + ROW).encode(), False),
    ("space before a quote", (HEADER + 'x, "甲",2013-06,1\r\n').encode(), False),
    ("BOM before a quoted header", b'\xef\xbb\xbf"a",b\r\n1,2\r\n', True),
]


@pytest.mark.parametrize("name,data,columnar", CASES, ids=[c[0] for c in CASES])
def test_the_columnar_reader_reads_as_the_strict_reader_or_leaves_the_file_to_it(name, data, columnar):
    taken, strict, was_columnar = _both(data)
    assert taken == strict
    assert was_columnar is columnar


LIMIT_CASES = [
    # (name, bytes, limits, whether the columnar reader takes it)
    ("at the cell limit", b"a,b\n1,2\n3,4\n", IngestLimits(max_cells=6), True),
    ("over the cell limit", b"a,b\n1,2\n3,4\n5,6\n", IngestLimits(max_cells=6), False),
    ("at the character limit", b"a,b\n1,12345\n", IngestLimits(max_cell_chars=5), True),
    ("over the character limit", b"a,b\n1,123456\n", IngestLimits(max_cell_chars=5), False),
    ("a quoted cell over the character limit", b'a,b\n1,"123456"\n', IngestLimits(max_cell_chars=5), False),
    ("at the column limit", b"a,b,c\n1,2,3\n", IngestLimits(max_columns=3), True),
    ("over the column limit", b"a,b,c,d\n1,2,3,4\n", IngestLimits(max_columns=3), False),
]


@pytest.mark.parametrize("name,data,limits,columnar", LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_a_limit_is_kept_by_both_readers(name, data, limits, columnar):
    taken, strict, was_columnar = _both(data, limits)
    assert taken == strict
    assert was_columnar is columnar
    if not columnar:
        assert taken[0] == "refused"


def test_blank_means_python_white_space_only():
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == readers.PYTHON_WHITESPACE


def test_a_header_over_the_csv_modules_own_limit_is_left_to_the_strict_reader():
    data = b'"' + b"x" * 131_073 + b'",b\n1,2\n'
    taken, strict, was_columnar = _both(data, IngestLimits(max_cell_chars=10))
    assert taken == strict and taken[0] == "refused" and not was_columnar


def test_only_the_rows_asked_for_are_kept_with_their_numbers():
    data = (HEADER + ROW + ",,,\r\n" + ROW.replace("甲", "乙") + ROW.replace("甲", "丙")).encode()
    taken, strict, was_columnar = _both(data, only_rows={3, 4, 5})
    assert was_columnar and taken == strict
    assert [n for n, _ in taken[3]] == [4, 5]  # line 3 is blank: not a row
    assert [cells[1] for _, cells in taken[3]] == ["兰州乙厂", "兰州丙厂"]


def _long(rows: int, line_end: str = "\r\n") -> str:
    return HEADER.replace("\r\n", line_end) + "".join(f"9162{i:06d},厂{i},2013-06,{i}.5{line_end}" for i in range(rows))


LONG_CASES = [  # (name, bytes, rows asked for): a few rows of a long file, read back from the raw zone
    ("BOM, CRLF", b"\xef\xbb\xbf" + _long(40).encode(), {2, 17, 41}),
    ("GB18030, LF, no final line break, its last line", _long(40, "\n").rstrip().encode("gb18030"), {3, 41}),
    ("the header's number and numbers past the end", _long(40).encode(), {1, 5, 42, 99}),
    ("a blank line asked for", (_long(20) + ",,,\r\n" + _long(20)[len(HEADER) :]).encode(), {6, 22}),
    ("quoted cells", _long(40).replace(",2013-06,", ',"2013-06",').encode(), {4, 30}),
    ("a wider line elsewhere", _long(40).replace("厂30,", "厂30,x,").encode(), {5, 33}),
    ("a wider line asked for", _long(40).replace("厂30,", "厂30,x,").encode(), {5, 32}),
]


@pytest.mark.parametrize(("data", "only_rows"), [c[1:] for c in LONG_CASES], ids=[c[0] for c in LONG_CASES])
def test_a_few_rows_of_a_long_file_are_read_from_their_own_lines_as_the_whole_file_gives_them(data, only_rows):
    """Reading rows back: only the header's and the asked lines are parsed (readers._only_lines), and
    the rows, numbers and cells are the strict reader's, and those of the whole file read and filtered."""
    asked: list[set[int]] = []
    real = readers._only_lines

    def spy(data, text_start, rows):
        asked.append(set(rows))
        return real(data, text_start, rows)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(readers, "_only_lines", spy)
        taken, strict, _ = _both(data, only_rows=only_rows)
    assert asked == [only_rows]  # the lines alone were read (a wider one then left to the strict reader)
    assert taken == strict and taken[0] == "read"
    whole = read_csv_bytes(CSV, data)
    assert taken[3] == [(n, cells) for n, cells in whole.rows if n in only_rows]
    assert taken[3]  # some row was asked for and found


def test_rows_read_back_are_checked_against_the_limits_on_their_own_lines_only():
    """A cell over the limit on another line: the whole file is refused (as at ingest), the rows read back
    from their own lines are not — a file in the raw zone was read whole at ingest, under its limits then."""
    data = _long(40).replace("厂20,", "厂" + "长" * 50 + ",").encode()
    limits = IngestLimits(max_cell_chars=20)
    with pytest.raises(UnreadableFile):
        read_csv_bytes(CSV, data, limits)
    table = read_csv_bytes(CSV, data, limits, {5})
    assert table.columnar and [n for n, _ in table.rows] == [5]
    with pytest.raises(UnreadableFile):  # many rows asked for: the file is read whole, and refused
        read_csv_bytes(CSV, data, limits, set(range(2, 42)))


def test_a_columnar_table_is_parsed_by_slices_as_a_row_table():
    data = (HEADER + "".join(f"9162{i:06d},厂{i},2013-06,{i}.5\r\n" for i in range(7))).encode()
    table = read_csv_bytes(CSV, data)
    assert table.columnar
    rows = readers.RawTable(table.path, table.encoding, table.headers, table.rows)
    for start, stop in ((0, 3), (3, 6), (6, 9), (9, 12)):
        piece, expected = table.slice(start, stop), rows.slice(start, stop)
        assert piece.rows == expected.rows and len(piece) == len(expected)
        assert piece.source_rows() == expected.source_rows()
        assert [piece.column(i) for i in range(5)] == [expected.column(i) for i in range(5)]
        assert [piece.row(p) for p in range(len(piece))] == [expected.row(p) for p in range(len(expected))]
    assert table.column(9) == [None] * 7 == rows.column(9)


_PIECES = ["1", "甲", ",", "\t", '"', '""', "\r\n", "\n", "\r", " ", "\u3000", "\x1c", "\u200b", "x,y", '"a,b"']


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.sampled_from(["a,b,c\n", "a,b,c\r\n", "a\tb\tc\n", "统一社会信用代码,名称\r\n", "a\n"]),
    body=st.lists(st.sampled_from(_PIECES), max_size=30),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_any_file_reads_the_same_through_both_readers(header, body, encoding):
    text = header + "".join(body)
    data = text.encode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    taken, strict, _ = _both(data, IngestLimits(max_cells=40, max_cell_chars=8, max_columns=4))
    assert taken == strict


NUMBER_SPELLINGS = ["12.5", "1,005.56", "—", " 12 ", "１２．５", "1e3", "12,3a4", "", "-0", "N/A", "1234567890123456"]


def test_a_columnar_file_parses_as_the_same_file_read_row_by_row():
    """Every spelling of a number (plain, thousands, null markers, full width, refused) parses the same
    from a columnar table's arrays as from rows, errors included, across parse slices."""
    from hostile_files import E1_HEADERS, e1_csv, good_e1_rows
    from techreform.forms import form
    from techreform.ingest import parse_table_chunks
    from techreform.periods import Period

    rows = good_e1_rows(len(NUMBER_SPELLINGS) * 3)
    numeric = [h for h in E1_HEADERS if h in ("工业总产值", "主营业务收入", "从业人员平均人数")]
    assert len(numeric) == 3
    for i, row in enumerate(rows):
        for j, header in enumerate(numeric):
            row[header] = NUMBER_SPELLINGS[(i + j) % len(NUMBER_SPELLINGS)]
    data = e1_csv(rows)
    table = read_csv_bytes(CSV, data)
    assert table.columnar
    as_rows = readers.RawTable(table.path, table.encoding, table.headers, table.rows)
    e1 = form("E1")
    columnar = list(parse_table_chunks(e1, table, Period(2013, 6), chunk_rows=7))
    row_wise = list(parse_table_chunks(e1, as_rows, Period(2013, 6), chunk_rows=7))
    assert [(p.columns, p.unparsed, p.rows_received) for p in columnar] == [
        (p.columns, p.unparsed, p.rows_received) for p in row_wise
    ]
    assert sum(len(p.unparsed) for p in columnar) > 0  # the refused spellings are there
