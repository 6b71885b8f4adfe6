"""Reading real delivered files: UTF-8, UTF-8 with BOM, GBK/GB18030 CSV, XLSX; encoding detected."""

import datetime as dt

import pytest
import xlsxwriter

from techreform.readers import UnreadableFile, detect_encoding, read_delivery

ROWS = [["统一社会信用代码", "企业名称", "工业总产值"], ["91620100MA74ABCDEU", "兰州石化有限公司", "1,234.5"]]


def _csv_text(rows):
    return "\r\n".join(",".join(f'"{c}"' if "," in c else c for c in r) for r in rows) + "\r\n"


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_csv_files_are_decoded_by_detected_encoding(tmp_path, encoding, detected):
    path = tmp_path / "E1_620100_2013-06.csv"
    path.write_bytes(_csv_text(ROWS).encode(encoding))
    table = read_delivery(path)
    assert table.encoding == detected
    assert table.headers == ["统一社会信用代码", "企业名称", "工业总产值"]
    assert table.rows == [(2, ["91620100MA74ABCDEU", "兰州石化有限公司", "1,234.5"])]


def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused_not_guessed():
    with pytest.raises(UnreadableFile) as excinfo:
        detect_encoding(b"\x81\x30\xff\xff\xff")
    assert "GB18030" in str(excinfo.value)


def test_blank_lines_are_skipped_but_row_numbers_stay_as_a_spreadsheet_shows_them(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("a,b\n1,2\n,\n3,4\n", encoding="utf-8")
    assert read_delivery(path).rows == [(2, ["1", "2"]), (4, ["3", "4"])]


def test_xlsx_first_sheet_is_read_with_typed_cells(tmp_path):
    path = tmp_path / "E1_620100_2013-06.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("报表")
    date_format = workbook.add_format({"num_format": "yyyy-mm"})
    sheet.write_row(0, 0, ["统一社会信用代码", "报告期", "工业总产值"])
    sheet.write_string(1, 0, "91620100MA74ABCDEU")
    sheet.write_datetime(1, 1, dt.datetime(2013, 6, 1), date_format)
    sheet.write_number(1, 2, 1234.5)
    workbook.add_worksheet("说明").write(0, 0, "ignored")
    workbook.close()
    table = read_delivery(path)
    assert table.encoding == "xlsx"
    assert table.headers == ["统一社会信用代码", "报告期", "工业总产值"]
    assert table.rows == [(2, ["91620100MA74ABCDEU", dt.datetime(2013, 6, 1), 1234.5])]


def test_a_broken_workbook_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnreadableFile) as excinfo:
        read_delivery(path)
    assert "XLSX" in str(excinfo.value)


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(UnreadableFile):
        read_delivery(path)


def test_unsupported_file_types_are_refused(tmp_path):
    path = tmp_path / "E1.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UnreadableFile) as excinfo:
        read_delivery(path)
    assert ".xls" in str(excinfo.value)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_a_csv_text_read_slice_by_slice_is_read_as_a_whole(tmp_path, monkeypatch, encoding, chunk):
    """The text is decoded a slice at a time (never whole): a character, a line break (\\r\\n) or the
    header's line cut by a slice's end changes nothing — the same table as one slice of the whole file."""
    from techreform import readers

    text = "\r\n\r\n代码\t名称\t产值\r\n91620100MA74ABCDEU\t兰州石化\t1,234.5\r旧行\t\t\n\n末行\t全角１２\t7"
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding))
    whole = read_delivery(path)
    monkeypatch.setattr(readers, "DECODE_CHUNK_BYTES", chunk)
    sliced = read_delivery(path)
    assert (sliced.encoding, sliced.headers, sliced.rows) == (whole.encoding, whole.headers, whole.rows)
    assert whole.headers == ["代码", "名称", "产值"]  # tab-delimited: found from the header's line
    assert [n for n, _ in whole.rows] == [4, 5, 7]


@pytest.mark.parametrize("chunk", [2, 1 << 20])
def test_a_csv_of_white_space_only_is_empty_whatever_its_tabs(tmp_path, monkeypatch, chunk):
    from techreform import readers

    monkeypatch.setattr(readers, "DECODE_CHUNK_BYTES", chunk)
    path = tmp_path / "f.csv"
    path.write_bytes(b" \t" * 600 + b"\r\n  \n")  # more tabs than any form has columns
    with pytest.raises(UnreadableFile, match="the file is empty"):
        read_delivery(path)
