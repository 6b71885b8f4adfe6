"""The readers' behaviour pinned directly on bytes (issue 16, mutation testing of ``techreform.readers``):
each limit is refused at its bound and not before, with the one line that names row, column and limit;
the encodings, delimiters, blank rows and trailing empty columns are read as a delivery holds them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from techreform import readers
from techreform.limits import IngestLimits
from techreform.readers import (
    UnreadableFile,
    _column_name,
    _swallowed_line,
    check_xlsx_directory,
    detect_encoding,
    normalise_header,
    read_csv_bytes,
    read_delivery,
    read_delivery_bytes,
    read_xlsx_bytes,
)

CSV = Path("E1_620100_2013-06.csv")
XLSX = Path("E1_620100_2013-06.xlsx")


def _refusal(call, *args) -> str:
    with pytest.raises(UnreadableFile) as excinfo:
        call(*args)
    return str(excinfo.value)


def _xlsx(rows: list[list], extra_sheet: bool = False) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("报表")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    if extra_sheet:
        workbook.add_worksheet("说明").write(0, 0, "ignored")
    workbook.close()
    return buffer.getvalue()


# --- encodings and headers ---------------------------------------------------------------------------------


def test_a_bom_means_utf8_sig_and_plain_utf8_and_gbk_are_told_apart():
    assert detect_encoding("\ufeffa,b".encode()) == "utf-8-sig"
    assert detect_encoding("代码,名称".encode()) == "utf-8"
    assert detect_encoding("代码,名称".encode("gbk")) == "gb18030"
    assert detect_encoding(b"") == "utf-8"


def test_an_undecodable_file_is_refused_naming_the_byte_where_decoding_failed():
    message = _refusal(detect_encoding, b"ab\x81\x30\xff\xff")
    assert message == (
        "文件既不是 UTF-8 也不是 GB18030/GBK 编码（第 2 字节处无法解码） / "
        "the file decodes neither as UTF-8 nor as GB18030/GBK"
    )


def test_headers_compare_after_nfkc_without_bom_or_any_space():
    assert normalise_header(None) == ""
    assert normalise_header("\ufeff 统一 社会\u3000信用代码 ") == "统一社会信用代码"
    assert normalise_header("ＡＢＣ１") == "ABC1"
    assert normalise_header(2013) == "2013"


def test_columns_are_named_as_a_spreadsheet_names_them():
    assert [_column_name(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


# --- CSV -----------------------------------------------------------------------------------------------------


def test_a_csv_is_read_with_its_encoding_headers_and_spreadsheet_row_numbers():
    data = "\ufeff代码 ,名称\r\n\r\n1,甲\r\n , \r\n2,乙\r\n".encode()
    table = read_csv_bytes(CSV, data)
    assert (table.path, table.file_name, table.encoding) == (CSV, CSV.name, "utf-8-sig")
    assert table.headers == ["代码", "名称"]
    assert table.rows == [(3, ["1", "甲"]), (5, ["2", "乙"])]


def test_a_tab_separated_file_is_read_by_its_first_line_and_a_comma_file_keeps_tabs_in_cells():
    assert read_csv_bytes(CSV, b"a\tb\tc\n1\t2,5\t3\n").rows == [(2, ["1", "2,5", "3"])]
    assert read_csv_bytes(CSV, b"a,b\tx,c\n1,2\t5,3\n").rows == [(2, ["1", "2\t5", "3"])]
    # as many tabs as commas: comma
    assert read_csv_bytes(CSV, b"a\tb,c\n1\t2,3\n").headers == ["a\tb", "c"]


def test_an_empty_or_blank_csv_is_refused_as_empty():
    assert _refusal(read_csv_bytes, CSV, b"") == "文件为空 / the file is empty"
    assert _refusal(read_csv_bytes, CSV, b" \r\n\t\n") == "文件为空 / the file is empty"
    assert _refusal(read_csv_bytes, CSV, b",,\n , \n") == "文件为空 / the file is empty"


def test_a_csv_over_the_byte_limit_is_refused_naming_size_and_limit_and_one_at_the_limit_is_read():
    data = b"a,b\n1,2\n"
    limits = IngestLimits(max_file_bytes=len(data) - 1)
    assert _refusal(read_csv_bytes, CSV, data, limits) == (
        f"文件有 {len(data)} 字节，超过上限 {len(data) - 1} 字节 / the file has {len(data)} bytes, more than "
        f"the limit of {len(data) - 1} (ingest.max_file_bytes)"
    )
    assert read_csv_bytes(CSV, data, IngestLimits(max_file_bytes=len(data))).rows == [(2, ["1", "2"])]


def test_a_nul_byte_is_refused_naming_its_line_and_column():
    message = _refusal(read_csv_bytes, CSV, b"a,b,c\n1,2,3\n4,5,x\x00y\n")
    assert message == (
        "第3行 C列 / row 3, column C 含有空字符 NUL (0x00)，文件已损坏或不是文本表格 / NUL byte, "
        "the file is corrupted or not a text table"
    )
    assert _refusal(read_csv_bytes, CSV, b"\x00a,b\n").startswith("第1行 A列 / row 1, column A ")
    tab = _refusal(read_csv_bytes, CSV, b"a\tb\tc\n1,1\t2,2\t\x00\n")
    assert tab.startswith("第2行 C列 / row 2, column C ")


def test_the_cell_limit_counts_every_cell_read_including_the_header():
    data = b"a,b\n1,2\n3,4\n"
    assert read_csv_bytes(CSV, data, IngestLimits(max_cells=6)).rows == [(2, ["1", "2"]), (3, ["3", "4"])]
    assert _refusal(read_csv_bytes, CSV, data, IngestLimits(max_cells=5)) == (
        "读到第3行 / row 3 时单元格数超过上限 5 / more than 5 cells (limit ingest.max_cells)"
    )


def test_a_row_with_more_columns_than_allowed_is_refused_naming_row_and_limit():
    limits = IngestLimits(max_columns=3)
    assert read_csv_bytes(CSV, b'a,b,c\n"1",2,3\n', limits).rows == [(2, ["1", "2", "3"])]
    assert _refusal(read_csv_bytes, CSV, b'a,b,c\n"1",2,3,4\n', limits) == (
        "第2行 / row 2 有 4 列，超过上限 3 列 / 4 columns, more than the limit of 3"
    )
    # without a quote the line is refused before the csv module splits it
    assert _refusal(read_csv_bytes, CSV, b"a,b,c\n1,2,3,4\n", limits) == (
        "第2行有 4 列以上，超过上限 3 列 / line 2 has more than 3 columns (the form's plus ingest.extra_columns)"
    )


def test_a_line_wider_than_any_allowed_row_is_refused_even_with_a_quote():
    limits = IngestLimits(max_columns=2, max_cell_chars=1)  # widest row: 2 * (1 + 1) = 4 delimiters
    data = b'a,b\n"x",' + b"," * 4 + b"\n"
    assert _refusal(read_csv_bytes, CSV, data, limits).startswith("第2行有 6 列以上，超过上限 2 列")


def test_a_cell_over_the_character_limit_is_refused_naming_row_column_and_length():
    limits = IngestLimits(max_cell_chars=5)
    assert read_csv_bytes(CSV, b"a,b\n1,12345\n", limits).rows == [(2, ["1", "12345"])]
    assert _refusal(read_csv_bytes, CSV, b"a,b\n1,123456\n", limits) == (
        "第2行 B列 / row 2, column B 有 6 个字符，超过单元格上限 5 / cell longer than 5 characters"
    )


def test_an_unbalanced_quote_is_refused_naming_the_line_where_the_quoted_cell_began():
    data = b'a,b,c\n1,2,3\n4,"5,6\n7,8,9\n10,11,12\n'
    message = _refusal(read_csv_bytes, CSV, data)
    assert message.startswith("第3行开始的引号未正确闭合，其后各行（至第")
    assert "the quoted cell opened on line 3 runs to line" in message


def test_a_quote_closed_later_that_swallowed_whole_rows_is_refused_with_its_lines():
    data = b'a,b,c\n1,2,3\n4,"5\n7,8,9\n10",6\n'
    assert _refusal(read_csv_bytes, CSV, data) == (
        "第3行开始的引号未正确闭合，其后各行（至第5行）会被并入一个单元格 / unbalanced quote: the "
        "quoted cell opened on line 3 runs to line 5"
    )


def test_a_real_multi_line_remark_in_a_narrow_or_wide_table_is_read():
    assert read_csv_bytes(CSV, b'a,b,c\n1,"one\ntwo",3\n').rows == [(2, ["1", "one\ntwo", "3"])]
    assert read_csv_bytes(CSV, b'a,b\n1,"x,y\nz,w"\n').rows == [(2, ["1", "x,y\nz,w"])]


def test_a_swallowed_line_is_one_with_a_whole_rows_delimiters_after_the_first_line():
    assert _swallowed_line("x\n1,2,3", ",", 3)
    assert _swallowed_line("x\r1,2,3", ",", 3)
    assert not _swallowed_line("x\n1,2", ",", 4)
    assert not _swallowed_line("1,2,3,4", ",", 3)  # one line: nothing swallowed
    assert not _swallowed_line("x\n1,2,3", ",", 2)  # tables of fewer than 3 columns are not judged
    assert _swallowed_line("x\n1\t2\t3", "\t", 3)
    assert not _swallowed_line("x\n1\t2\t3", ",", 3)


def test_a_cell_over_the_csv_modules_field_limit_is_refused_with_our_limit():
    limits = IngestLimits(max_cell_chars=10)
    data = b'a,b\n1,"' + b"x" * 50 + b'"\n'
    message = _refusal(read_csv_bytes, CSV, data, limits)
    assert "10" in message and ("个字符" in message)


# --- XLSX ----------------------------------------------------------------------------------------------------


def test_an_xlsx_first_sheet_is_read_without_trailing_empty_header_columns_or_blank_rows():
    data = _xlsx([[" 代码", "名称", None], ["A", 1.5, "extra"], [None, None, None], ["B", 2, None]], extra_sheet=True)
    table = read_xlsx_bytes(XLSX, data)
    assert (table.encoding, table.file_name) == ("xlsx", XLSX.name)
    assert table.headers == ["代码", "名称"]
    assert table.rows == [(2, ["A", 1.5]), (4, ["B", 2])]


def test_an_xlsx_whose_first_rows_are_empty_takes_the_first_filled_row_as_header():
    data = _xlsx([[None], ["代码", "名称"], ["A", "甲"]])
    table = read_xlsx_bytes(XLSX, data)
    assert table.headers == ["代码", "名称"]
    assert table.rows == [(3, ["A", "甲"])]


def test_an_empty_xlsx_sheet_is_refused():
    assert _refusal(read_xlsx_bytes, XLSX, _xlsx([])) == "工作表为空 / the first sheet is empty"


def test_an_xlsx_over_the_byte_limit_is_refused_before_it_is_opened():
    data = _xlsx([["a"], ["1"]])
    message = _refusal(read_xlsx_bytes, XLSX, data, IngestLimits(max_file_bytes=len(data) - 1))
    assert message.startswith(f"文件有 {len(data)} 字节，超过上限 {len(data) - 1} 字节")
    assert read_xlsx_bytes(XLSX, data, IngestLimits(max_file_bytes=len(data))).rows == [(2, ["1"])]


def test_an_xlsx_cell_limit_and_column_limit_apply_to_data_rows():
    data = _xlsx([["a", "b"], ["1", "2"], ["3", "4"]])
    assert len(read_xlsx_bytes(XLSX, data, IngestLimits(max_cells=6)).rows) == 2
    assert _refusal(read_xlsx_bytes, XLSX, data, IngestLimits(max_cells=5)).startswith("读到第3行 / row 3 时")
    wide = _xlsx([["a", "b", "c", "d"], ["1", "2", "3", "4"]])
    assert _refusal(read_xlsx_bytes, XLSX, wide, IngestLimits(max_columns=3)) == (
        "第1行 / row 1 有 4 列，超过上限 3 列 / 4 columns, more than the limit of 3"
    )
    assert read_xlsx_bytes(XLSX, wide, IngestLimits(max_columns=4)).headers == ["a", "b", "c", "d"]


def test_an_xlsx_data_cell_beyond_the_headers_is_dropped():
    data = _xlsx([["a", "b"], ["1", "2", "3"]])
    assert read_xlsx_bytes(XLSX, data, IngestLimits(max_columns=3)).rows == [(2, ["1", "2"])]


def test_an_xlsx_cell_over_the_character_limit_is_refused_naming_row_and_column():
    data = _xlsx([["a", "b"], ["1", "123456"]])
    assert _refusal(read_xlsx_bytes, XLSX, data, IngestLimits(max_cell_chars=5)) == (
        "第2行 B列 / row 2, column B 有 6 个字符，超过单元格上限 5 / cell longer than 5 characters"
    )


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_the_zip_directory_total_size_is_checked_at_its_limit():
    data = _zip({"a.xml": b"x" * 1000, "b.xml": b"y" * 1000})
    check_xlsx_directory(data, IngestLimits(max_xlsx_uncompressed_bytes=2000))
    assert _refusal(check_xlsx_directory, data, IngestLimits(max_xlsx_uncompressed_bytes=1999)) == (
        "工作簿解压后有 2000 字节，超过上限 1999 / the workbook unpacks to 2000 bytes, more than "
        "ingest.max_xlsx_uncompressed_bytes"
    )


def test_a_member_over_1_mb_is_refused_by_its_compression_ratio_and_a_smaller_one_never():
    big = _zip({"xl/worksheets/sheet1.xml": b"0" * 1_000_001})
    small = _zip({"xl/worksheets/sheet1.xml": b"0" * 1_000_000})
    limits = IngestLimits(max_xlsx_compression_ratio=10)
    check_xlsx_directory(small, limits)
    member = zipfile.ZipFile(io.BytesIO(big)).infolist()[0]
    ratio = member.file_size // member.compress_size
    assert _refusal(check_xlsx_directory, big, limits) == (
        f"工作簿成员 xl/worksheets/sheet1.xml 的压缩比为 {ratio}:1，超过上限 10:1（疑似压缩炸弹） / "
        f"compression ratio {ratio}:1 beyond ingest.max_xlsx_compression_ratio (a zip bomb)"
    )
    # at exactly the ratio it passes
    check_xlsx_directory(big, IngestLimits(max_xlsx_compression_ratio=-(-member.file_size // member.compress_size)))
    stored = _zip({"xl/worksheets/sheet1.xml": b"0" * 1_000_001}, zipfile.ZIP_STORED)
    check_xlsx_directory(stored, IngestLimits(max_xlsx_compression_ratio=1))


def test_the_shared_strings_table_is_refused_over_its_size_in_any_letter_case():
    for name in ("xl/sharedStrings.xml", "xl/SHAREDSTRINGS.XML"):
        data = _zip({name: b"<sst/>" + b" " * 94}, zipfile.ZIP_STORED)
        check_xlsx_directory(data, IngestLimits(max_xlsx_shared_strings_bytes=100))
        assert _refusal(check_xlsx_directory, data, IngestLimits(max_xlsx_shared_strings_bytes=99)) == (
            "工作簿的共享字符串表有 100 字节，超过上限 99 / shared strings of 100 bytes, "
            "more than ingest.max_xlsx_shared_strings_bytes"
        )
    other = _zip({"xl/styles.xml": b" " * 100}, zipfile.ZIP_STORED)
    check_xlsx_directory(other, IngestLimits(max_xlsx_shared_strings_bytes=99))


def test_not_a_zip_is_refused_naming_the_error():
    assert _refusal(check_xlsx_directory, b"not a zip", IngestLimits()) == (
        "无法作为 XLSX 工作簿打开 / not a readable XLSX workbook (BadZipFile)"
    )
    assert _refusal(read_xlsx_bytes, XLSX, _zip({"a.txt": b"x"})).startswith("无法作为 XLSX 工作簿打开")


def test_a_numeric_cell_holding_text_is_refused_naming_the_row_after_the_last_read():
    data = _xlsx([["a", "b"], ["1", 2]])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {i.filename: archive.read(i.filename) for i in archive.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    members["xl/worksheets/sheet1.xml"] = sheet.replace("<v>2</v>", "<v>two</v>").encode()
    message = _refusal(read_xlsx_bytes, XLSX, _zip(members))
    assert message.startswith("第2行 / row 2 附近有无法读取的单元格 / unreadable cell near row 2: ValueError: ")


# --- by suffix -----------------------------------------------------------------------------------------------


def test_a_delivery_is_read_by_its_suffix_in_any_letter_case(tmp_path):
    assert read_delivery_bytes(Path("E1.CSV"), b"a\n1\n").encoding == "utf-8"
    assert read_delivery_bytes(Path("E1.XLSX"), _xlsx([["a"], [1]])).encoding == "xlsx"
    assert _refusal(read_delivery_bytes, Path("E1.xls"), b"x") == (
        "不支持的文件类型 .xls，应为 .csv 或 .xlsx / unsupported file type"
    )
    assert _refusal(read_delivery_bytes, Path("E1"), b"x") == (
        "不支持的文件类型 (无扩展名)，应为 .csv 或 .xlsx / unsupported file type"
    )
    path = tmp_path / "E1_620100_2013-06.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert read_delivery(path, IngestLimits(max_file_bytes=8)).rows == [(2, ["1", "2"])]
    assert _refusal(read_delivery, path, IngestLimits(max_file_bytes=7)).startswith("文件有 8 字节，超过上限 7 字节")
    assert read_delivery(path).headers == ["a", "b"]


def test_the_kind_of_a_delivered_file_is_decided_by_its_suffix_in_any_letter_case():
    """One place says which names are workbooks and which are read at all (ingest's copy of a workbook's
    rows and the explanations' folder ask it)."""
    workbooks = {"a.xlsx", "a.XLSX"}
    readable = workbooks | {"a.csv", "a.Csv"}
    names = readable | {"dir.xlsx/a.csv", "a.xls", "a.xlsx.csv", "xlsx", "csv", "a.txt", "a.csv.gz"}
    assert {n for n in names if readers.is_workbook(n)} == workbooks
    assert {n for n in names if readers.is_readable(n)} == readable | {"dir.xlsx/a.csv", "a.xlsx.csv"}
    assert readers.is_workbook(Path("landing/E1/2013-06/E1_620100_2013-06.Xlsx"))


# --- what the first mutation run of the readers left alive ---------------------------------------------------


def _rewrite(data: bytes, member: str, change) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {i.filename: archive.read(i.filename) for i in archive.infolist()}
    members[member] = change(members[member])
    return _zip(members)


def test_the_first_nul_byte_is_named_even_at_the_start_of_the_file_or_after_a_blank_line():
    message = _refusal(read_csv_bytes, CSV, b"a,b,c\n1,\x00,3\n4,5,\x00\n")
    assert message.startswith("第2行 B列 / row 2, column B 含有空字符")
    assert _refusal(read_csv_bytes, CSV, b"\x00a,b\n") == (
        "第1行 A列 / row 1, column A 含有空字符 NUL (0x00)，文件已损坏或不是文本表格 / NUL byte, "
        "the file is corrupted or not a text table"
    )
    assert _refusal(read_csv_bytes, CSV, b"\na,b\n1,\x00\n").startswith("第3行 B列 / row 3, column B ")
    # the column counts the delimiters of its own line only
    assert _refusal(read_csv_bytes, CSV, b"a,b,\n1,\x00\n").startswith("第2行 B列 / row 2, column B ")
    assert _refusal(read_csv_bytes, CSV, b"a,b\n,\x00\n").startswith("第2行 B列 / row 2, column B ")


def test_a_nul_character_in_an_xlsx_cell_is_refused_naming_its_row():
    data = _xlsx([["a", "b"], ["1", "x"], ["2", "y"]])
    nul = b'<c r="B3" t="inlineStr"><is><t>y&#0;</t></is></c>'  # XML 1.0 cannot carry NUL: a character reference
    data = _rewrite(data, "xl/worksheets/sheet1.xml", lambda xml: re.sub(rb'<c r="B3"[^>]*>.*?</c>', nul, xml))
    # the XML parser refuses the reference: the NUL never reaches a cell
    assert _refusal(read_xlsx_bytes, XLSX, data).startswith(
        "第3行 / row 3 附近有无法读取的单元格 / unreadable cell near"
    )


def test_a_swallowed_line_needs_a_whole_rows_delimiters_not_one_fewer():
    assert not _swallowed_line("x\n1,2,3,4", ",", 5)
    assert _swallowed_line("x\n1,2,3,4,5", ",", 5)


def test_the_delimiter_is_decided_by_the_first_line_alone_even_after_blank_lines():
    # a tab-separated header, commas in the cells below it
    assert read_csv_bytes(CSV, b"a\tb\n1,2,3,4\t5\n").rows == [(2, ["1,2,3,4", "5"])]
    assert read_csv_bytes(CSV, b"a\tb\n1,2,3,4\t5,6,7\n8\t9\n").rows == [(2, ["1,2,3,4", "5,6,7"]), (3, ["8", "9"])]
    assert read_csv_bytes(CSV, b"\r\n\na\tb\n1,2,3\t4\n").rows == [(4, ["1,2,3", "4"])]


def test_a_cell_over_the_csv_modules_own_limit_is_refused_from_the_line_it_begins_on():
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(131072)  # the module's default: our 10-character limit is below it
        limits = IngestLimits(max_cell_chars=10)
        assert _refusal(read_csv_bytes, CSV, b"a,b\n1," + b"x" * 131073 + b"\n", limits) == (
            "第2行起有单元格超过上限 10 个字符 / a cell from line 2 is longer than 10 characters"
        )
        assert _refusal(read_csv_bytes, CSV, b'"' + b"x" * 131073 + b'",b\n1,2\n', limits) == (
            "第1行起有单元格超过上限 10 个字符 / a cell from line 1 is longer than 10 characters"
        )
    finally:
        csv.field_size_limit(limit)


def test_a_character_limit_above_the_csv_modules_own_is_honoured_to_the_character():
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(131072)
        limits = IngestLimits(max_cell_chars=200_000)
        cell = "x" * 200_000
        assert read_csv_bytes(CSV, f"a,b\n1,{cell}\n".encode(), limits).rows == [(2, ["1", cell])]
        message = _refusal(read_csv_bytes, CSV, f"a,b\n1,{cell}y\n".encode(), limits)
        assert "200000" in message
    finally:
        csv.field_size_limit(limit)


def test_an_open_quote_in_the_header_is_refused_naming_line_1_and_the_csv_modules_reason():
    assert _refusal(read_csv_bytes, CSV, b'a,"b\n1,2\n') == (
        "第1行开始的引号未正确闭合，其后各行（至第2行）会被并入一个单元格 / unbalanced quote: the quoted cell "
        "opened on line 1 runs to line 2 (unexpected end of data)"
    )


def test_text_after_a_closing_quote_is_refused_not_glued_to_the_cell():
    assert _refusal(read_csv_bytes, CSV, b'a,b\n"1"x,2\n') == (
        "第2行开始的引号未正确闭合，其后各行（至第2行）会被并入一个单元格 / unbalanced quote: the quoted cell "
        "opened on line 2 runs to line 2 (',' expected after '\"')"
    )


def test_a_quoted_line_of_exactly_the_widest_row_reaches_the_column_check():
    limits = IngestLimits(max_columns=2, max_cell_chars=1)  # widest row: 4 delimiters
    assert _refusal(read_csv_bytes, CSV, b'a,b\n"x",,,,\n', limits) == (
        "第2行 / row 2 有 5 列，超过上限 2 列 / 5 columns, more than the limit of 2"
    )


def test_a_wide_sheet_is_read_only_to_one_column_past_the_limit():
    wide = _xlsx([["a", "b", "c", "d", "e", "f"], ["1", "2", "3", "4", "5", "6"]])
    assert _refusal(read_xlsx_bytes, XLSX, wide, IngestLimits(max_columns=3)) == (
        "第1行 / row 1 有 4 列，超过上限 3 列 / 4 columns, more than the limit of 3"
    )


def test_an_unreadable_xlsx_cell_is_named_with_the_readers_error_in_one_line_of_at_most_120_characters():
    data = _xlsx([["a", "b"], ["1", 2]])
    long_text = "x y " * 50
    data = _rewrite(
        data, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"<v>2</v>", f"<v>{long_text}</v>".encode())
    )
    message = _refusal(read_xlsx_bytes, XLSX, data)
    prefix = "第2行 / row 2 附近有无法读取的单元格 / unreadable cell near row 2: ValueError: "
    assert message.startswith(prefix)
    detail = message[len(prefix) :]
    assert len(detail) == 120 and detail.endswith("x y x y") and "XX" not in detail


def test_an_xlsx_formula_is_read_as_its_computed_value():
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["a", "b"])
    sheet.write_number(1, 0, 1)
    sheet.write_formula(1, 1, "=A2+1", None, 2)
    workbook.close()
    assert read_xlsx_bytes(XLSX, buffer.getvalue()).rows == [(2, [1, 2])]


def test_a_zip_that_is_no_workbook_is_refused_naming_openpyxls_error():
    assert _refusal(read_xlsx_bytes, XLSX, _zip({"a.txt": b"x"})) == (
        "无法作为 XLSX 工作簿打开 / not a readable XLSX workbook (KeyError)"
    )


def test_a_header_cell_that_normalises_to_nothing_at_the_end_is_dropped():
    table = read_xlsx_bytes(XLSX, _xlsx([["a", "b", "\ufeff"], ["1", "2", "3"]]))
    assert table.headers == ["a", "b"]
    assert table.rows == [(2, ["1", "2"])]


def test_a_delivery_read_by_suffix_keeps_its_path_and_its_limits(tmp_path):
    csv_table = read_delivery_bytes(CSV, b"a\n1\n")
    assert csv_table.path == CSV and csv_table.file_name == CSV.name
    xlsx_table = read_delivery_bytes(XLSX, _xlsx([["a"], [1]]))
    assert xlsx_table.path == XLSX and xlsx_table.file_name == XLSX.name
    few_cells = IngestLimits(max_cells=3)
    assert _refusal(read_delivery_bytes, CSV, b"a,b\n1,2\n", few_cells).startswith("读到第2行 / row 2 时")
    assert _refusal(read_delivery_bytes, XLSX, _xlsx([["a", "b"], [1, 2]]), few_cells).startswith("读到第2行")
    path = tmp_path / "E1_620100_2013-06.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert _refusal(read_delivery, path, few_cells).startswith("读到第2行 / row 2 时")


def test_a_workbook_without_a_sheet_is_refused_as_such():
    data = _rewrite(_xlsx([["a"]]), "xl/workbook.xml", lambda xml: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", xml))
    assert _refusal(read_xlsx_bytes, XLSX, data) == "工作簿没有工作表 / the workbook has no sheet"


def test_xlsx_cells_keep_the_types_they_are_stored_with():
    """The cases a faster reader (python-calamine, docs/reliability.md) gives differently: a number
    stored as ``1`` is an int, as ``2.0`` or ``1E+20`` a float; a date cell a datetime; an error cell
    its text; an empty shared string ``""`` and a missing cell ``None``; a string's spaces kept."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["int", "float", "big", "date", "error", "empty", "missing", "spaces"])
    sheet.write_number(1, 0, 1)
    sheet.write_number(1, 1, 333)  # rewritten below as 2.0
    sheet.write_number(1, 2, 444)  # rewritten below as 1E+20
    sheet.write_datetime(1, 3, dt.datetime(2013, 6, 1), workbook.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write_formula(1, 4, "=1/0", None, "#DIV/0!")
    sheet.write_string(1, 5, "")
    sheet.write_string(1, 7, "  兰州 ")
    workbook.close()
    data = _rewrite(
        buffer.getvalue(),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<v>333</v>", b"<v>2.0</v>").replace(b"<v>444</v>", b"<v>1E+20</v>"),
    )
    ((number, cells),) = read_xlsx_bytes(XLSX, data).rows
    assert number == 2
    assert [(type(c).__name__, c) for c in cells] == [
        ("int", 1),
        ("float", 2.0),
        ("float", 1e20),
        ("datetime", dt.datetime(2013, 6, 1)),
        ("str", "#DIV/0!"),
        ("str", ""),
        ("NoneType", None),
        ("str", "  兰州 "),
    ]


# --- text decoded slice by slice (DECODE_CHUNK_BYTES), the text_only fast path -----------------------------


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_a_character_cut_by_a_slice_boundary_still_decodes_and_an_unfinished_one_at_the_end_does_not(
    monkeypatch, chunk
):
    monkeypatch.setattr(readers, "DECODE_CHUNK_BYTES", chunk)
    assert detect_encoding("代码,名称\r\n".encode()) == "utf-8"
    assert detect_encoding("代码,名称\r\n".encode("gb18030")) == "gb18030"
    # an unfinished UTF-8 and GB18030 sequence at the very end: only the final decode finds it
    assert _refusal(detect_encoding, b"abc\xe4") == (
        "文件既不是 UTF-8 也不是 GB18030/GBK 编码（第 3 字节处无法解码） / "
        "the file decodes neither as UTF-8 nor as GB18030/GBK"
    )


def test_a_byte_no_encoding_decodes_far_into_the_file_is_named_by_its_position(monkeypatch):
    monkeypatch.setattr(readers, "DECODE_CHUNK_BYTES", 7)
    data = "代码,名称\n".encode("gb18030") * 300 + b"\xff"
    assert _refusal(detect_encoding, data) == (
        f"文件既不是 UTF-8 也不是 GB18030/GBK 编码（第 {len(data) - 1} 字节处无法解码） / "
        "the file decodes neither as UTF-8 nor as GB18030/GBK"
    )
    assert _refusal(detect_encoding, b"\xff" + b"a" * 50).count("第 0 字节处") == 1


@pytest.mark.parametrize("chunk", [1, 2, 4])
def test_a_bom_only_or_white_space_only_file_is_empty_in_any_slices_and_a_late_character_is_not(monkeypatch, chunk):
    monkeypatch.setattr(readers, "DECODE_CHUNK_BYTES", chunk)
    assert _refusal(read_csv_bytes, CSV, b"\xef\xbb\xbf") == "文件为空 / the file is empty"
    assert _refusal(read_csv_bytes, CSV, b"\xef\xbb\xbf \r\n\t\n   ") == "文件为空 / the file is empty"
    assert _refusal(read_csv_bytes, CSV, "\u3000 \n".encode("gb18030")) == "文件为空 / the file is empty"
    table = read_csv_bytes(CSV, b" \r\n\r\n        \n\na,b\n1,2\n")
    assert (table.headers, table.rows) == (["a", "b"], [(6, ["1", "2"])])
    assert read_csv_bytes(CSV, "  \n名".encode("gb18030")).headers == ["名"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 1 << 20])
def test_the_first_line_is_whole_across_slices_after_boms_and_blank_lines(monkeypatch, chunk):
    monkeypatch.setattr(readers, "DECODE_CHUNK_BYTES", chunk)
    # the header has more tabs than commas only counted whole; the rows after it have many commas
    data = "\r\n\r\n甲,乙\t丙\t丁\n1,2,3,4,5,6,7\t8\t9\n".encode()
    assert read_csv_bytes(CSV, data).headers == ["甲,乙", "丙", "丁"]
    data = b"\xef\xbb\xbf\n\na\tb,c,d\n1\t2\t3\t4\t5\n"
    table = read_csv_bytes(CSV, data)
    assert (table.encoding, table.headers, table.rows) == ("utf-8-sig", ["a\tb", "c", "d"], [(4, ["1\t2\t3\t4\t5"])])
    assert readers._first_line(b"\n\r\nab\tc\nd,e,f\n", "utf-8") == "ab\tc"
    assert readers._first_line(b"\xef\xbb\xbf\r\nx\r\ny", "utf-8-sig") == "x\r"
    assert readers._first_line(b"\n\n", "utf-8") == ""


def test_the_text_only_path_refuses_the_long_cell_of_a_row_naming_its_column_and_reads_one_at_the_limit():
    limits = IngestLimits(max_cell_chars=3)
    assert read_csv_bytes(CSV, b"a,b,c\n1,2,333\n,,\n", limits).rows == [(2, ["1", "2", "333"])]
    assert _refusal(read_csv_bytes, CSV, b"a,b,c\n1,2,3\n1,2,3\n4,5555,6\n", limits) == (
        "第4行 B列 / row 4, column B 有 4 个字符，超过单元格上限 3 / cell longer than 3 characters"
    )
    assert _refusal(read_csv_bytes, CSV, b"a,bbbb\n", limits) == (
        "第1行 B列 / row 1, column B 有 4 个字符，超过单元格上限 3 / cell longer than 3 characters"
    )


def test_a_one_line_record_is_never_taken_for_swallowed_rows_but_a_multi_line_one_is():
    # one physical line with a quoted cell holding every delimiter of a row: not swallowed rows
    table = read_csv_bytes(CSV, b'a,b,c\n"x,y,z",2,3\n')
    assert table.rows == [(2, ["x,y,z", "2", "3"])]
    assert _refusal(read_csv_bytes, CSV, b'a,b,c\n"x\n1,2,3\n4,5,6",2,3\n').startswith("第2行开始的引号未正确闭合")


def test_a_cell_at_the_limit_before_a_longer_one_is_not_the_one_named():
    limits = IngestLimits(max_cell_chars=3)
    assert _refusal(read_csv_bytes, CSV, b"a,b,c\n333,4444,5\n", limits) == (
        "第2行 B列 / row 2, column B 有 4 个字符，超过单元格上限 3 / cell longer than 3 characters"
    )
    assert _refusal(read_xlsx_bytes, XLSX, _xlsx([["a", "b"], ["333", "4444"]]), limits).startswith(
        "第2行 B列 / row 2, column B 有 4 个字符"
    )


def test_the_first_line_keeps_its_leading_spaces_tabs_and_letters():
    assert readers._first_line(b"\t\t\ta,b\n", "utf-8") == "\t\t\ta,b"
    assert read_csv_bytes(CSV, b"\t\t\ta,b\n").headers == ["", "", "", "a,b"]
    assert readers._first_line(b"\r\n X\ta\n", "utf-8") == " X\ta"
    assert readers._first_line(b"\nXa,b\n", "utf-8") == "Xa,b"


def test_only_the_rows_asked_for_are_kept_from_a_csv_or_a_workbook_and_every_row_is_still_checked(tmp_path):
    data = b"a,b\n1,2\n3,4\n\n5,6\n"
    assert read_csv_bytes(CSV, data, None, {3, 5}).rows == [(3, ["3", "4"]), (5, ["5", "6"])]
    assert read_delivery_bytes(CSV, data, None, {2}).rows == [(2, ["1", "2"])]
    workbook = _xlsx([["a", "b"], [1, 2], [3, 4], [5, 6]])
    assert read_xlsx_bytes(XLSX, workbook, None, {3}).rows == [(3, [3, 4])]
    assert read_delivery_bytes(XLSX, workbook, None, {2, 4}).rows == [(2, [1, 2]), (4, [5, 6])]
    assert _refusal(read_csv_bytes, CSV, b"a,b\n1,2\n3,4444\n", IngestLimits(max_cell_chars=3), {2}).startswith(
        "第3行 B列"
    )


def test_line_breaks_inside_a_quoted_cell_are_kept_as_they_were_sent():
    table = read_csv_bytes(CSV, b'a,b\r\n"x\r\ny\rz",2\r\n3,4\r')
    assert table.rows == [(2, ["x\r\ny\rz", "2"]), (3, ["3", "4"])]
