"""The plain-sheet XLSX reader (``readers._plain_sheet_rows`` and ``_plain_string_table``: regular
expressions and the standard library's parser over a sheet's XML) gives exactly the table openpyxl gives
for every workbook it takes, and leaves every other workbook to openpyxl, which reads it or refuses it
with its own message.

Each case is read twice: as ``read_xlsx_bytes`` reads it, and with both plain paths switched off;
headers, rows (numbers, cells and each cell's type: ``2`` is not ``2.0``), warnings and refusals must be
equal. Which cases are plain is checked too, so the comparison is not between openpyxl and itself."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile_files import rewrite_member
from techreform import readers
from techreform.limits import IngestLimits
from techreform.readers import UnreadableFile, read_xlsx_bytes

XLSX = Path("E1_620100_2013-06.xlsx")
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ROOT = (
    b'<worksheet xmlns="' + MAIN + b'" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
)
BEFORE = b'<dimension ref="A1:C3"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
AFTER = b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
DATE_STYLE = 1  # the base workbook's second cell format: a date


def _base() -> bytes:
    """A workbook with shared strings and a date format (cell format 1), whose sheet and strings each
    case replaces."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, "a")
    sheet.write_datetime(1, 0, dt.datetime(2013, 6, 1), book.add_format({"num_format": "yyyy-mm-dd"}))
    book.close()
    return buffer.getvalue()


BASE = _base()


def sheet_xml(rows: bytes, *, root: bytes = ROOT, before: bytes = BEFORE, after: bytes = AFTER) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + root
        + before
        + b"<sheetData>"
        + rows
        + b"</sheetData>"
        + after
        + b"</worksheet>"
    )


def strings_xml(strings: list[str], preserve: bool = False) -> bytes:
    space = ' xml:space="preserve"' if preserve else ""
    items = "".join(f"<si><t{space}>{escape(text)}</t></si>" for text in strings)
    return (f'<sst xmlns="{MAIN.decode()}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>').encode()


def workbook(rows: bytes, strings: bytes | list[str] = ("代码", "名称", "产值"), **parts: bytes) -> bytes:
    table = strings if isinstance(strings, bytes) else strings_xml(list(strings))
    data = rewrite_member(BASE, SHEET, lambda _: sheet_xml(rows, **parts))
    return rewrite_member(data, STRINGS, lambda _: table)


def row(number: int, *cells: bytes, attributes: bytes = b"") -> bytes:
    return f'<row r="{number}"'.encode() + attributes + b">" + b"".join(cells) + b"</row>"


def s(reference: str, index: int) -> bytes:
    return f'<c r="{reference}" t="s"><v>{index}</v></c>'.encode()


def n(reference: str, value: str, style: int | None = None, typed: bool = False) -> bytes:
    styled = f' s="{style}"' if style is not None else ""
    kind = ' t="n"' if typed else ""
    return f'<c r="{reference}"{styled}{kind}><v>{value}</v></c>'.encode()


HEADER = row(1, s("A1", 0), s("B1", 1), s("C1", 2))


def _outcome(data: bytes, limits: IngestLimits | None, only_rows=None) -> tuple:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            table = read_xlsx_bytes(XLSX, data, limits, only_rows)
        except UnreadableFile as exc:
            return ("refused", str(exc), [str(w.message) for w in caught])
    rows = [(number, [(type(cell).__name__, cell) for cell in cells]) for number, cells in table.rows]
    return ("read", table.headers, rows, [str(w.message) for w in caught])


def _both(data: bytes, limits: IngestLimits | None = None, only_rows=None) -> tuple:
    """(as read, as openpyxl alone reads it, whether the sheet was plain, whether its strings were)."""
    plain: dict[str, bool] = {}
    sheet_rows, string_table = readers._plain_sheet_rows, readers._plain_string_table

    def sheet_spy(*args):
        result = sheet_rows(*args)
        plain["sheet"] = result is not None
        return result

    def strings_spy(source):
        result = string_table(source)
        plain["strings"] = result is not None
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(readers, "_plain_sheet_rows", sheet_spy)
        patch.setattr(readers, "_plain_string_table", strings_spy)
        taken = _outcome(data, limits, only_rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(readers, "_plain_sheet_rows", lambda *args: None)
        patch.setattr(readers, "_plain_string_table", lambda source: None)
        alone = _outcome(data, limits, only_rows)
    return taken, alone, plain.get("sheet", False), plain.get("strings", False)


BODY = row(2, s("A2", 0), n("B2", "12"), n("C2", "1.5"))

# (name, workbook, whether the sheet is plain)
CASES = [
    ("plain", workbook(HEADER + BODY), True),
    ("numbers as spelt", workbook(HEADER + row(2, n("A2", "-0"), n("B2", "2.0"), n("C2", "1E+20"))), True),
    ("more numbers", workbook(HEADER + row(2, n("A2", "007"), n("B2", "-1.25e-3"), n("C2", "5", typed=True))), True),
    ("empty cells", workbook(HEADER + row(2, b'<c r="A2" s="1"/>', b'<c r="B2" t="s"/>', n("C2", "3"))), True),
    ("a self-closing row", workbook(HEADER + b'<row r="2" spans="1:3"/>' + BODY.replace(b'"2"', b'"3"')), True),
    ("a gap in the rows", workbook(HEADER + row(5, s("A5", 1), n("B5", "1"))), True),
    ("a row numbered below the last", workbook(HEADER + row(3, n("A3", "1")) + row(2, n("A2", "2"))), True),
    ("the same row twice", workbook(HEADER + row(2, n("A2", "1")) + row(2, n("A2", "2"))), True),
    ("the same column twice", workbook(HEADER + row(2, n("A2", "1"), n("A2", "2"))), True),
    ("columns out of order", workbook(HEADER + row(2, n("C2", "1"), n("A2", "2"))), True),
    ("a cell far to the right", workbook(HEADER + row(2, n("A2", "1"), n("ZZZ2", "2"), s("XFD2", 1))), True),
    ("a cell's row not its row's", workbook(HEADER + row(2, n("A9", "1"))), True),
    ("a date", workbook(HEADER + row(2, n("A2", "41426", DATE_STYLE), n("B2", "41426.5", DATE_STYLE))), True),
    ("a date out of range", workbook(HEADER + row(2, n("A2", "1E+20", DATE_STYLE))), True),
    ("a style that is no date", workbook(HEADER + row(2, n("A2", "41426", 0))), True),
    (
        "row attributes",
        workbook(HEADER + row(2, n("A2", "1"), attributes=b' spans="1:3" ht="20.25" customHeight="1"')),
        True,
    ),
    ("a shared string out of range", workbook(HEADER + row(2, s("A2", 3))), True),
    ("out of range past the width", workbook(HEADER + row(2, s("AB2", 99))), True),
    (
        "x14ac declared",
        workbook(
            HEADER + row(2, n("A2", "1"), attributes=b' x14ac:dyDescent="0.25"'),
            root=ROOT[:-1] + b' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">',
        ),
        True,
    ),
    ("x14ac undeclared", workbook(HEADER + row(2, n("A2", "1"), attributes=b' x14ac:dyDescent="0.25"')), False),
    ("no rows", workbook(b""), True),
    ("a numeric cell holding text", workbook(HEADER + row(2, n("A2", "12a"))), False),
    ("a shared string's index not a number", workbook(HEADER + row(2, b'<c r="A2" t="s"><v>1.5</v></c>')), False),
    ("an empty value", workbook(HEADER + row(2, b'<c r="A2"><v></v></c>')), False),
    ("a formula", workbook(HEADER + row(2, b'<c r="A2"><f>1+1</f><v>2</v></c>')), False),
    ("an inline string", workbook(HEADER + row(2, b'<c r="A2" t="inlineStr"><is><t>x</t></is></c>')), False),
    ("an error cell", workbook(HEADER + row(2, b'<c r="A2" t="e"><v>#DIV/0!</v></c>')), False),
    ("a boolean", workbook(HEADER + row(2, b'<c r="A2" t="b"><v>1</v></c>')), False),
    ("a cell without its reference", workbook(HEADER + row(2, b"<c><v>1</v></c>")), False),
    ("a row without its number", workbook(HEADER + b"<row><c><v>1</v></c></row>"), False),
    ("white space between cells", workbook(HEADER + row(2, n("A2", "1"), b"\n  ", n("B2", "2"))), False),
    ("a comment", workbook(HEADER + b"<!-- x -->" + BODY), False),
    ("a comment holding rows", workbook(HEADER, before=BEFORE + b"<!--<sheetData>" + BODY + b"</sheetData>-->"), False),
    ("a character reference", workbook(HEADER + row(2, b'<c r="A2"><v>&#49;</v></c>')), False),
    ("single quotes", workbook(HEADER + row(2, b"<c r='A2'><v>1</v></c>")), False),
    ("another namespace", workbook(HEADER + BODY, root=b'<worksheet xmlns="urn:other">'), False),
    (
        "a prefixed sheet",
        workbook(HEADER + BODY, root=b'<x:worksheet xmlns:x="' + MAIN + b'" xmlns="' + MAIN + b'">'),
        False,
    ),
    ("a broken element after the rows", workbook(HEADER + BODY, after=b'<pageMargins left="x"/>'), False),
    (
        "a broken element before the rows",
        workbook(HEADER + BODY, before=b'<sheetFormatPr defaultRowHeight="x"/>'),
        False,
    ),
    ("malformed after the rows", workbook(HEADER + BODY, after=b"<pageMargins>"), False),
    ("a row outside the rows", workbook(HEADER, after=BODY), False),
    ("a processing instruction", workbook(HEADER + BODY, after=b"<?x y?>"), False),
    ("a damaged sheet", None, False),  # filled in below: a bad CRC
]


def _damaged(data: bytes, member: str) -> bytes:
    """``data`` stored without compression and one byte of ``member``'s text changed: its CRC fails."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
    damaged = bytearray(out.getvalue())
    marker = {SHEET: b"<v>12345</v>", STRINGS: "名称".encode()}[member]
    at = bytes(damaged).rindex(marker)
    damaged[at + 4] ^= 0x01
    return bytes(damaged)


# long enough that opening the workbook reads only its start (openpyxl looks for the dimension), so
# the damage is found when the rows are read
LONG = b"".join(row(i, n(f"A{i}", "12345")) for i in range(2, 4000))
CASES[-1] = ("a damaged sheet", _damaged(workbook(HEADER + LONG), SHEET), False)


@pytest.mark.parametrize("name,data,plain", CASES, ids=[c[0] for c in CASES])
def test_the_plain_reader_reads_as_openpyxl_or_leaves_the_workbook_to_it(name, data, plain):
    taken, alone, was_plain, _ = _both(data)
    assert taken == alone
    assert was_plain is plain


def test_the_cases_read_what_they_say():
    """A few of the cases above, read: the comparison is between tables that hold what they test."""
    header = ["代码", "名称", "产值"]
    taken, *_ = _both(workbook(HEADER + row(2, n("A2", "2"), n("B2", "2.0"), n("C2", "1E+20"))))
    assert taken[1] == header and taken[2] == [(2, [("int", 2), ("float", 2.0), ("float", 1e20)])]
    taken, *_ = _both(workbook(HEADER + row(4, s("A4", 1))))
    assert [number for number, _ in taken[2]] == [4]  # rows 2 and 3 are blank: not kept
    taken, *_ = _both(workbook(HEADER + row(3, n("A3", "1")) + row(2, n("A2", "2"))))
    assert taken[2] == [(3, [("int", 1), ("NoneType", None), ("NoneType", None)])]
    taken, *_ = _both(workbook(HEADER + row(2, n("A2", "41426", DATE_STYLE), n("B2", "1E+20", DATE_STYLE))))
    assert taken[2] == [(2, [("datetime", dt.datetime(2013, 6, 1)), ("str", "#VALUE!"), ("NoneType", None)])]
    assert len(taken[3]) == 1 and "B2" in taken[3][0]
    taken, *_ = _both(workbook(HEADER + row(2, s("A2", 3))))
    assert taken[0] == "refused" and "IndexError" in taken[1]


STRING_CASES = [
    # (name, shared strings, whether the table is plain)
    ("plain", strings_xml(["代码", "名称", "产值"]), True),
    ("escaped", strings_xml(["a&b", "<c>", "\"d'"]), True),
    ("white space kept", strings_xml([" a ", "\tb\n", "c\r\nd"], preserve=True), True),
    ("white space as written", strings_xml([" a ", "\tb\n", "c\r\nd"]), True),
    ("openpyxl's escapes", strings_xml(["a_x000D_b", "x005F_c", "_x005F_x000D_"]), True),
    (
        "character references",
        f'<sst xmlns="{MAIN.decode()}"><si><t>&#20195;&#x7801;</t></si><si><t>b</t></si><si><t/></si></sst>'.encode(),
        True,
    ),
    (
        "an empty string",
        f'<sst xmlns="{MAIN.decode()}"><si><t></t></si><si><t>b</t></si><si><t>c</t></si></sst>'.encode(),
        True,
    ),
    (
        "rich text",
        f'<sst xmlns="{MAIN.decode()}"><si><r><t>代</t></r><r><rPr><b/></rPr><t>码</t></r></si><si><t>b</t></si><si><t>c</t></si></sst>'.encode(),
        False,
    ),
    (
        "a phonetic run",
        f'<sst xmlns="{MAIN.decode()}"><si><t>代码</t><rPh sb="0" eb="1"><t>x</t></rPh></si><si><t>b</t></si><si><t>c</t></si></sst>'.encode(),
        False,
    ),
    ("a DTD", b"<!DOCTYPE sst []>" + strings_xml(["a", "b", "c"]), False),
    ("a comment", strings_xml(["a", "b", "c"]).replace(b"<si>", b"<!-- x --><si>", 1), False),
    ("another namespace", strings_xml(["a", "b", "c"]).replace(MAIN, b"urn:other"), False),
    ("an attribute on t", strings_xml(["a", "b", "c"]).replace(b"<t>", b'<t x="1">', 1), False),
    ("text beside t", strings_xml(["a", "b", "c"]).replace(b"<si><t>", b"<si>x<t>", 1), False),
    ("two t", strings_xml(["a", "b", "c"]).replace(b"</t></si>", b"</t><t>z</t></si>", 1), False),
]


def test_damaged_shared_strings_are_refused_as_openpyxl_refuses_them():
    taken, alone, _, strings_plain = _both(_damaged(workbook(HEADER + row(2, n("A2", "12345"))), STRINGS))
    assert taken == alone and taken[0] == "refused" and not strings_plain


@pytest.mark.parametrize("name,table,plain", STRING_CASES, ids=[c[0] for c in STRING_CASES])
def test_plain_shared_strings_are_read_as_openpyxl_reads_them(name, table, plain):
    taken, alone, was_plain, strings_plain = _both(workbook(HEADER + BODY + row(3, s("A3", 1), s("B3", 2)), table))
    assert taken == alone
    assert strings_plain is plain and was_plain


def test_a_declaration_across_two_reads_of_the_strings_is_seen():
    reader = readers._NoDeclarations(io.BytesIO(b"<sst><" + b"!-- x --></sst>"))
    assert reader.read(6) == b"<sst><"
    with pytest.raises(readers._NotPlain):
        reader.read(6)


LIMIT_CASES = [
    # (name, workbook, limits)
    (
        "a string at the character limit",
        workbook(HEADER + BODY, ["代码", "名称", "12345"]),
        IngestLimits(max_cell_chars=5),
    ),
    (
        "a string over the character limit",
        workbook(HEADER + BODY, ["代码", "名称", "123456"]),
        IngestLimits(max_cell_chars=5),
    ),
    (
        "an unused string over the limit",
        workbook(row(1, s("A1", 0)) + row(2, n("A2", "1")), ["a", "b", "123456"]),
        IngestLimits(max_cell_chars=5),
    ),
    ("at the cell limit", workbook(HEADER + BODY), IngestLimits(max_cells=6)),
    ("over the cell limit", workbook(HEADER + BODY + BODY.replace(b"2", b"3")), IngestLimits(max_cells=6)),
    ("at the column limit", workbook(HEADER + BODY), IngestLimits(max_columns=3)),
    ("over the column limit", workbook(HEADER + row(2, n("D2", "1"))), IngestLimits(max_columns=3)),
    ("a long gap", workbook(HEADER + row(5000, n("A5000", "1"))), IngestLimits(max_cells=3000)),
]


@pytest.mark.parametrize("name,data,limits", LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_a_limit_is_kept_by_both_readers(name, data, limits):
    taken, alone, was_plain, _ = _both(data, limits)
    assert taken == alone and was_plain


def test_the_limits_refuse_what_they_say():
    limits = IngestLimits(max_cell_chars=5)
    taken, *_ = _both(workbook(HEADER + BODY, ["代码", "名称", "123456"]), limits)
    assert taken[0] == "refused" and "第1行 C列" in taken[1]
    taken, *_ = _both(workbook(row(1, s("A1", 0)) + row(2, n("A2", "1")), ["a", "b", "123456"]), limits)
    assert taken[0] == "read"


def test_only_the_rows_asked_for_are_kept():
    data = workbook(HEADER + BODY + row(4, s("A4", 1)) + row(5, n("A5", "5")))
    taken, alone, was_plain, _ = _both(data, only_rows={4, 5})
    assert was_plain and taken == alone
    assert [number for number, _ in taken[2]] == [4, 5]


def test_a_sheet_over_the_size_it_reads_whole_is_left_to_openpyxl(monkeypatch):
    data = workbook(HEADER + BODY)
    monkeypatch.setattr(readers, "PLAIN_SHEET_MAX_BYTES", len(sheet_xml(HEADER + BODY)) - 1)
    taken, alone, was_plain, _ = _both(data)
    assert taken == alone and not was_plain


def test_a_sheet_with_more_than_it_copies_outside_its_rows_is_left_to_openpyxl(monkeypatch):
    data = workbook(HEADER + BODY)
    outside = len(sheet_xml(b"")) - len(b"<sheetData></sheetData>")
    monkeypatch.setattr(readers, "PLAIN_OUTLINE_MAX_BYTES", outside + len(b"<sheetData></sheetData>"))
    assert _both(data)[2]  # at the limit: plain
    monkeypatch.setattr(readers, "PLAIN_OUTLINE_MAX_BYTES", outside + len(b"<sheetData></sheetData>") - 1)
    taken, alone, was_plain, _ = _both(data)
    assert taken == alone and not was_plain


def test_a_sheet_read_in_many_chunks_is_read_as_in_one(monkeypatch):
    body = b"".join(row(i, s(f"A{i}", i % 3), n(f"B{i}", str(i)), n(f"C{i}", f"{i}.5")) for i in range(2, 60))
    whole, *_ = _both(workbook(HEADER + body))
    monkeypatch.setattr(readers, "PLAIN_CHUNK_BYTES", 50)
    taken, alone, was_plain, _ = _both(workbook(HEADER + body))
    assert was_plain and taken == alone == whole and len(taken[2]) == 58


def test_a_workbook_the_generator_writes_is_plain(tmp_path):
    from techreform.generator.writers import _write_xlsx

    path = tmp_path / "E1_620100_2013-06.xlsx"
    header = ["统一社会信用代码", "企业名称", "报告期", "工业总产值"]
    columns = [["91620102MA0001", "x"], ["兰州甲厂", None], ["2013-06", dt.date(2013, 6, 1)], [12.5, -3]]
    _write_xlsx(path, header, columns, "E1")
    taken, alone, was_plain, strings_plain = _both(path.read_bytes())
    assert taken == alone and was_plain and strings_plain
    assert taken[2][1] == (3, [("str", "x"), ("NoneType", None), ("datetime", dt.datetime(2013, 6, 1)), ("int", -3)])


def test_a_workbook_openpyxl_writes_is_left_to_openpyxl():
    """openpyxl writes its text as inline strings (no shared strings): not plain, read as before."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["代码", "名称", "产值"])
    sheet.append(["x", 1, 2.5])
    sheet.append([dt.datetime(2013, 6, 1), None, "y"])
    buffer = io.BytesIO()
    book.save(buffer)
    taken, alone, was_plain, strings_plain = _both(buffer.getvalue())
    assert taken == alone and not was_plain and not strings_plain
    assert taken[2] == [
        (2, [("str", "x"), ("int", 1), ("float", 2.5)]),
        (3, [("datetime", dt.datetime(2013, 6, 1)), ("NoneType", None), ("str", "y")]),
    ]


_NUMERALS = st.from_regex(r"-?[0-9]{1,6}(\.[0-9]{1,4})?([Ee][-+]?[0-9]{1,2})?", fullmatch=True)
_COLUMNS = st.sampled_from(["A", "B", "C", "D", "E", "AA", "ZZ"])
_TEXT = st.text(alphabet=st.sampled_from(list("ab 代码&<>\"'\t\n\r_x0D5F")), max_size=8)


@st.composite
def _cell(draw, row_number: int, strings: int) -> bytes:
    column = draw(_COLUMNS)
    reference = f"{column}{row_number}"
    kind = draw(st.sampled_from(["s", "n", "typed", "date", "empty", "empty s"]))
    if kind == "s":
        return s(reference, draw(st.integers(0, strings)))  # sometimes one past the table
    if kind == "empty":
        return f'<c r="{reference}"/>'.encode()
    if kind == "empty s":
        return f'<c r="{reference}" s="1" t="s"/>'.encode()
    if kind == "date":
        return n(reference, str(draw(st.integers(-5, 3_000_000))), DATE_STYLE)
    return n(reference, draw(_NUMERALS), typed=kind == "typed")


@st.composite
def _sheets(draw) -> tuple[bytes, bytes, int]:
    """(rows, shared strings, columns of the limit): the parts are shown when a case fails."""
    strings = draw(st.lists(_TEXT, min_size=1, max_size=6))
    numbers = draw(st.lists(st.integers(1, 12), min_size=1, max_size=8))
    rows = []
    for number in numbers:
        if draw(st.booleans()) and draw(st.booleans()):
            rows.append(f'<row r="{number}" spans="1:5"/>'.encode())
        else:
            cells = draw(st.lists(_cell(number, len(strings)), max_size=6))
            rows.append(row(number, *cells))
    return b"".join(rows), strings_xml(strings, preserve=draw(st.booleans())), draw(st.integers(2, 6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_sheets())
def test_random_plain_sheets_are_read_as_openpyxl_reads_them(case):
    rows, table, columns = case
    taken, alone, was_plain, strings_plain = _both(workbook(rows, table), IngestLimits(max_columns=columns))
    assert taken == alone
    assert was_plain and strings_plain
