"""Hostile deliveries for the hardening tests (and ``scripts/measure_hostile_rss.py``): files built to break a
reader — bombs, over-long cells, broken quotes, lying workbooks — as bytes, small on disk."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable

import xlsxwriter

from landing_files import e1_row, uscc_for

E1_HEADERS = list(e1_row("x", "2013-06").keys())


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def e1_csv(rows: list[dict[str, object]]) -> bytes:
    """An E1 CSV with Chinese headers."""
    return csv_bytes([E1_HEADERS, *[[str(r.get(h, "")) for h in E1_HEADERS] for r in rows]])


def good_e1_rows(count: int, county: str = "620402", first: int = 1) -> list[dict[str, object]]:
    return [e1_row(uscc_for(county, n), "2013-06", region=county) for n in range(first, first + count)]


def xlsx_bytes(headers: list[str], rows: list[list[object]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("报表")
    sheet.write_row(0, 0, headers)
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, row)
    workbook.close()
    return buffer.getvalue()


def e1_xlsx(rows: list[dict[str, object]]) -> bytes:
    return xlsx_bytes(E1_HEADERS, [[r.get(h, "") for h in E1_HEADERS] for r in rows])


def rewrite_member(data: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    """The workbook ``data`` with one zip member's bytes changed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, change(content) if info.filename == member else content)
    return out.getvalue()


def dimension_bomb(rows: list[dict[str, object]]) -> bytes:
    """A small, valid workbook whose sheet declares the dimension ``A1:XFD20000`` (16 384 × 20 000 cells)."""
    import re

    return rewrite_member(
        e1_xlsx(rows),
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD20000"/>', xml),
    )


def numeric_cell_holding_text(rows: list[dict[str, object]]) -> bytes:
    """A workbook whose first data row has a numeric cell (``t="n"``) holding the text ``12a``."""

    def change(xml: bytes) -> bytes:
        start = xml.index(b'<c r="F2"')
        end = xml.index(b"</c>", start)
        return xml[:start] + b'<c r="F2" t="n"><v>12a</v>' + xml[end:]

    return rewrite_member(e1_xlsx(rows), "xl/worksheets/sheet1.xml", change)


def zip_bomb(uncompressed_bytes: int) -> bytes:
    """A workbook whose sheet unpacks to about ``uncompressed_bytes`` of identical rows of 100 cells."""
    base = zipfile.ZipFile(io.BytesIO(e1_xlsx(good_e1_rows(1))))
    row = b"<row>" + b'<c t="inlineStr"><is><t>AAAAAAAAAA</t></is></c>' * 100 + b"</row>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in base.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, base.read(info))
                continue
            xml = base.read(info)
            head, tail = xml.split(b"<sheetData>")[0] + b"<sheetData>", b"</sheetData>" + xml.split(b"</sheetData>")[1]
            member = zipfile.ZipInfo(info.filename)
            member.compress_type = zipfile.ZIP_DEFLATED
            with target.open(member, "w", force_zip64=True) as sheet:
                sheet.write(head)
                block = row * (1_000_000 // len(row))
                for _ in range(max(1, uncompressed_bytes // len(block))):
                    sheet.write(block)
                sheet.write(tail)
    return out.getvalue()


def shared_strings_bomb(count: int) -> bytes:
    """A workbook whose shared-strings table holds ``count`` one-character strings."""
    data = e1_xlsx(good_e1_rows(1))

    def change(xml: bytes) -> bytes:
        head, rest = xml.split(b"<si>", 1)
        return head + b"<si><t>x</t></si>" * count + b"<si>" + rest

    return rewrite_member(data, "xl/sharedStrings.xml", change)


def wide_csv(columns: int) -> bytes:
    """A CSV whose header row has ``columns`` columns."""
    return (",".join(E1_HEADERS + [f"c{i}" for i in range(columns - len(E1_HEADERS))]) + "\r\n").encode()


def at_cell_limit() -> bytes:
    """A valid E1 CSV just under the default ``max_cells`` (24 900 rows × 20 columns): the most a file may
    cost in cells."""
    return e1_csv(good_e1_rows(24_900, county="620102"))


def at_byte_limit() -> bytes:
    """A valid E1 CSV just under the default ``max_file_bytes``, of long cells (1 790 names of 9 000
    characters): the most a file may cost in characters."""
    rows = good_e1_rows(1_790, county="620102")
    for row in rows:
        row["企业名称"] = "厂" * 9_000
    return e1_csv(rows)


def xlsx_at_cell_limit() -> bytes:
    """:func:`at_cell_limit` as a workbook."""
    return e1_xlsx(good_e1_rows(24_900, county="620102"))


def shared_strings_at_limit() -> bytes:
    """A valid workbook whose shared-strings table is just under the default limit (19.5 MB) of distinct
    strings that compress poorly (ratio about 3:1): the most a shared-strings table may cost."""
    import random
    import string

    rnd = random.Random(8)

    def change(xml: bytes) -> bytes:
        head, tail = xml.split(b"</sst>")
        extra = b"".join(
            b"<si><t>" + "".join(rnd.choices(string.ascii_letters, k=12)).encode() + b"</t></si>"
            for _ in range(19_500_000 // 29)
        )
        return head + extra + b"</sst>" + tail

    return rewrite_member(e1_xlsx(good_e1_rows(3)), "xl/sharedStrings.xml", change)
