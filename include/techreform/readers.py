"""Reading delivered files: CSV in UTF-8 (with or without BOM) or GB18030/GBK, and XLSX (first sheet).

The encoding is detected, never guessed silently: a BOM means UTF-8; otherwise the bytes must decode
strictly as UTF-8, or else strictly as GB18030 (a superset of GBK); a file that decodes as neither is
rejected. The detected encoding is recorded with the file.

Every file is read under :class:`~techreform.limits.IngestLimits`, streaming, and refused as soon as it
passes one: bytes, cells, columns (the form's plus a margin), characters per cell, and for XLSX the
uncompressed sizes and compression ratios of its zip directory, checked before anything is unpacked.
A CSV is parsed strictly: an unbalanced quote, which would swallow the rows after it into one cell, is
refused with the line where the quoted cell began. A NUL byte (0x00) is refused with its row and
column: no real delivery carries one (it marks a UTF-16 or binary file, or a corrupted copy), and
PostgreSQL cannot store it in text."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import zipfile
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from techreform.limits import IngestLimits
from techreform.memory import cycle_collection_paused

CSV_SUFFIX = ".csv"
WORKBOOK_SUFFIX = ".xlsx"
SUPPORTED_SUFFIXES = (CSV_SUFFIX, WORKBOOK_SUFFIX)
"""The kinds of delivered file that are read, by suffix in any case (the one place that decides it)."""


def _suffix(name: str | PurePath) -> str:
    return PurePath(name).suffix.lower()


def is_workbook(name: str | PurePath) -> bool:
    """Whether a delivered file of this name is read as a workbook (XLSX)."""
    return _suffix(name) == WORKBOOK_SUFFIX


def is_readable(name: str | PurePath) -> bool:
    """Whether a delivered file of this name is of a kind that is read (CSV or XLSX)."""
    return _suffix(name) in SUPPORTED_SUFFIXES


class UnreadableFile(ValueError):
    """The file as a whole cannot be used; the message names the file and says why (Chinese and English)."""


@dataclass
class RawTable:
    """A delivered table as received: headers and rows of cells, each row with its spreadsheet number."""

    path: Path
    encoding: str  # utf-8, utf-8-sig, gb18030, xlsx
    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # (source_row, cells); header row is 1

    @property
    def file_name(self) -> str:
        return self.path.name


DECODE_CHUNK_BYTES = 1 << 20
"""Bytes decoded at a time where a file's text is checked or read (never the whole text at once: a
national register of 70 MB is 140–280 MB as a Python string)."""


def _decoded_slices(data: bytes, encoding: str) -> Iterator[str]:
    """The text of ``data`` decoded strictly as ``encoding``, :data:`DECODE_CHUNK_BYTES` at a time (the
    last slice decoded as final); raises :class:`UnicodeDecodeError` where the bytes do not decode."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    view = memoryview(data)
    for start in range(0, len(view), DECODE_CHUNK_BYTES):
        yield decoder.decode(view[start : start + DECODE_CHUNK_BYTES], final=start + DECODE_CHUNK_BYTES >= len(view))
    if not view:
        yield decoder.decode(b"", final=True)


def _decodes(data: bytes, encoding: str) -> bool:
    """True when ``data`` decodes strictly as ``encoding``, checked slice by slice (no whole text made)."""
    try:
        for _ in _decoded_slices(data, encoding):
            pass
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(data: bytes) -> str:
    """``utf-8-sig``, ``utf-8`` or ``gb18030``; raises :class:`UnreadableFile` if none decodes strictly."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if _decodes(data, "utf-8"):
        return "utf-8"
    if _decodes(data, "gb18030"):
        return "gb18030"
    try:
        data.decode("gb18030")  # only to name the byte where it fails
        raise AssertionError("gb18030 decoded whole but not slice by slice")  # pragma: no cover
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"文件既不是 UTF-8 也不是 GB18030/GBK 编码（第 {exc.start} 字节处无法解码） / "
            "the file decodes neither as UTF-8 nor as GB18030/GBK"
        ) from None


def normalise_header(text: Any) -> str:
    """Headers compare after NFKC (full-width → half-width), trimming and dropping inner spaces."""
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "").strip().replace(" ", "").replace("\u3000", "")


def _is_blank(cells: Iterable[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _column_name(index: int) -> str:
    """0 → ``A``, 26 → ``AA``: columns as a spreadsheet names them."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _where(row: int, column: int | None = None) -> str:
    """``第17行 C列 / row 17, column C`` (column 0-based)."""
    if column is None:
        return f"第{row}行 / row {row}"
    return f"第{row}行 {_column_name(column)}列 / row {row}, column {_column_name(column)}"


class _Budget:
    """Counts the cells of one file against its limits while it is read; raises :class:`UnreadableFile`.

    ``text_only``: every cell is a ``str`` and the file's bytes were already searched for NUL (a CSV
    file: in UTF-8 and GB18030 a NUL character is only ever the byte 0x00), so a row whose longest cell
    is within the limit needs no look at each cell — the per-cell loop runs only to name the cell that
    is too long."""

    def __init__(self, limits: IngestLimits, text_only: bool = False):
        self.limits = limits
        self.cells = 0
        self.text_only = text_only

    def row(self, number: int, cells: list[Any]) -> None:
        limits = self.limits
        if len(cells) > limits.max_columns:
            raise UnreadableFile(
                f"{_where(number)} 有 {len(cells)} 列，超过上限 {limits.max_columns} 列 / "
                f"{len(cells)} columns, more than the limit of {limits.max_columns}"
            )
        self.cells += len(cells)
        if self.cells > limits.max_cells:
            raise UnreadableFile(
                f"读到{_where(number)} 时单元格数超过上限 {limits.max_cells} / "
                f"more than {limits.max_cells} cells (limit ingest.max_cells)"
            )
        if self.text_only and (not cells or max(map(len, cells)) <= limits.max_cell_chars):
            return
        for index, cell in enumerate(cells):
            if isinstance(cell, str):
                if len(cell) > limits.max_cell_chars:
                    raise UnreadableFile(
                        f"{_where(number, index)} 有 {len(cell)} 个字符，超过单元格上限 "
                        f"{limits.max_cell_chars} / cell longer than {limits.max_cell_chars} characters"
                    )
                if "\x00" in cell:
                    raise UnreadableFile(
                        f"{_where(number, index)} 含有空字符 NUL (0x00)，文件已损坏或不是文本表格 / NUL byte in a cell"
                    )


def _nul_position(data: bytes, delimiter: bytes) -> tuple[int, int] | None:
    """(line, 0-based column) of the first NUL byte of CSV bytes, or ``None``; the column counts
    delimiters on that line (exact unless a quoted cell before it holds the delimiter)."""
    at = data.find(b"\x00")
    if at < 0:
        return None
    line_start = data.rfind(b"\n", 0, at) + 1
    return data.count(b"\n", 0, at) + 1, data.count(delimiter, line_start, at)


def _swallowed_line(cell: str, delimiter: str, width: int) -> bool:
    """True when a multi-line cell holds a line that looks like a whole row of the table (at least
    ``width - 1`` delimiters): the mark of a quote left open that ate the rows after it."""
    if width < 3 or ("\n" not in cell and "\r" not in cell):
        return False
    return any(line.count(delimiter) >= width - 1 for line in cell.splitlines()[1:])


def read_csv_bytes(
    path: Path, data: bytes, limits: IngestLimits | None = None, only_rows: Collection[int] | None = None
) -> RawTable:
    """Read CSV bytes (encoding detected, delimiter comma or tab) under ``limits``, strictly. With
    ``only_rows``, every row is read and checked but only those source rows are kept."""
    limits = limits or IngestLimits()
    if len(data) > limits.max_file_bytes:
        raise UnreadableFile(_too_large(len(data), limits))
    encoding = detect_encoding(data)
    if _only_whitespace(data, encoding):
        raise UnreadableFile("文件为空 / the file is empty")
    first_line = _first_line(data, encoding)  # the header's line: blank lines before it are skipped
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    nul = _nul_position(data, delimiter.encode())
    if nul is not None:
        raise UnreadableFile(
            f"{_where(*nul)} 含有空字符 NUL (0x00)，文件已损坏或不是文本表格 / NUL byte, "
            "the file is corrupted or not a text table"
        )
    if csv.field_size_limit() <= limits.max_cell_chars:
        csv.field_size_limit(limits.max_cell_chars + 1)  # our own limit, with its own message, decides
    # the text is decoded line by line as the rows are read (the whole text is never in memory)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(_lines(text, delimiter, limits), delimiter=delimiter, strict=True)
    budget = _Budget(limits, text_only=True)  # NUL was searched for in the bytes above
    headers: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    record_number = 0
    last_line = 0
    try:
        with cycle_collection_paused():  # the rows hold no cycles (techreform.memory)
            for record in reader:
                record_number += 1
                first_line_of_record, last_line = last_line + 1, reader.line_num
                budget.row(record_number, record)
                # only a record over several physical lines can hold a cell with a line break (_lines
                # splits at every \r and \n), so only such a record can have swallowed rows
                if (
                    headers is not None
                    and last_line > first_line_of_record
                    and any(_swallowed_line(c, delimiter, len(headers)) for c in record)
                ):
                    raise UnreadableFile(_open_quote(first_line_of_record, last_line))
                if _is_blank(record):
                    continue
                if headers is None:
                    headers = [normalise_header(h) for h in record]
                elif only_rows is None or record_number in only_rows:
                    rows.append((record_number, record))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise UnreadableFile(
                f"第{last_line + 1}行起有单元格超过上限 {limits.max_cell_chars} 个字符 / a cell from "
                f"line {last_line + 1} is longer than {limits.max_cell_chars} characters"
            ) from None
        raise UnreadableFile(_open_quote(last_line + 1, reader.line_num, str(exc))) from None
    if headers is None:
        raise UnreadableFile("文件为空 / the file is empty")
    return RawTable(path=path, encoding=encoding, headers=headers, rows=rows)


def _only_whitespace(data: bytes, encoding: str) -> bool:
    """True when the text is empty or white space only, decoded slice by slice until a character that is
    not (in the first slice, for any real file)."""
    return not any(piece.strip() for piece in _decoded_slices(data, encoding))


def _first_line(data: bytes, encoding: str) -> str:
    """The first line of the text after the BOMs and line breaks it starts with (up to its ``\n``),
    decoded slice by slice until that line is whole (the header's line: a few hundred bytes)."""
    pieces: list[str] = []
    for piece in _decoded_slices(data, encoding):
        if not pieces:
            piece = piece.lstrip("\ufeff\r\n")
            if not piece:
                continue
        pieces.append(piece)
        if "\n" in piece:
            break
    return "".join(pieces).split("\n", 1)[0]


def _lines(text: Iterable[str], delimiter: str, limits: IngestLimits) -> Iterator[str]:
    """The physical lines of ``text`` (ends kept; a text stream opened with ``newline=""`` splits at
    ``\r\n``, ``\r`` and ``\n``), lazily, refusing one that is too wide before the csv
    module splits it: a line without a quote and with more delimiters than the allowed columns is a row
    with too many columns, or a swallowed row (see :func:`_swallowed_line`); a line with more than the
    widest possible row (every cell at the character limit) is refused too. So no line costs more than a
    bounded list of cells."""
    widest = limits.max_columns * (limits.max_cell_chars + 1)
    for number, line in enumerate(text, start=1):
        delimiters = line.count(delimiter)
        if (delimiters >= limits.max_columns and '"' not in line) or delimiters > widest:
            raise UnreadableFile(
                f"第{number}行有 {delimiters + 1} 列以上，超过上限 {limits.max_columns} 列 / line {number} has "
                f"more than {limits.max_columns} columns (the form's plus ingest.extra_columns)"
            )
        yield line


def _open_quote(first: int, last: int, detail: str = "") -> str:
    """The message for a quoted cell that begins on line ``first`` and does not close properly."""
    why = f" ({detail})" if detail else ""
    return (
        f"第{first}行开始的引号未正确闭合，其后各行（至第{last}行）会被并入一个单元格 / unbalanced quote: the "
        f"quoted cell opened on line {first} runs to line {last}{why}"
    )


def _too_large(size: int, limits: IngestLimits) -> str:
    return (
        f"文件有 {size} 字节，超过上限 {limits.max_file_bytes} 字节 / the file has {size} bytes, more than "
        f"the limit of {limits.max_file_bytes} (ingest.max_file_bytes)"
    )


def check_xlsx_directory(data: bytes, limits: IngestLimits) -> None:
    """Refuse a workbook whose zip directory declares more than the limits allow, before unpacking any of
    it: total uncompressed size, the compression ratio of any member over 1 MB, the shared strings.
    (Python's zipfile never unpacks a member beyond the size its directory declares.)"""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableFile(
            f"无法作为 XLSX 工作簿打开 / not a readable XLSX workbook ({type(exc).__name__})"
        ) from None
    total = sum(m.file_size for m in members)
    if total > limits.max_xlsx_uncompressed_bytes:
        raise UnreadableFile(
            f"工作簿解压后有 {total} 字节，超过上限 {limits.max_xlsx_uncompressed_bytes} / the workbook "
            f"unpacks to {total} bytes, more than ingest.max_xlsx_uncompressed_bytes"
        )
    for member in members:
        if member.file_size > 1_000_000 and member.file_size > limits.max_xlsx_compression_ratio * max(
            member.compress_size, 1
        ):
            ratio = member.file_size // max(member.compress_size, 1)
            raise UnreadableFile(
                f"工作簿成员 {member.filename} 的压缩比为 {ratio}:1，超过上限 "
                f"{limits.max_xlsx_compression_ratio}:1（疑似压缩炸弹） / compression ratio {ratio}:1 "
                "beyond ingest.max_xlsx_compression_ratio (a zip bomb)"
            )
        if (
            member.filename.lower().endswith("sharedstrings.xml")
            and member.file_size > limits.max_xlsx_shared_strings_bytes
        ):
            raise UnreadableFile(
                f"工作簿的共享字符串表有 {member.file_size} 字节，超过上限 "
                f"{limits.max_xlsx_shared_strings_bytes} / shared strings of {member.file_size} bytes, "
                "more than ingest.max_xlsx_shared_strings_bytes"
            )


def _sheet_rows(sheet: Any, max_col: int) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values of columns 1..max_col) of a read-only sheet, streaming; a cell that openpyxl
    cannot convert (a numeric cell holding text) is refused with the row after the last one read."""
    number = 0
    rows = sheet.iter_rows(min_row=1, max_col=max_col, values_only=True)
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except UnreadableFile:
            raise
        except Exception as exc:  # ValueError from a numeric cell holding text, XML errors ...
            raise UnreadableFile(
                f"{_where(number + 1)} 附近有无法读取的单元格 / unreadable cell near row {number + 1}: "
                f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
            ) from None
        number += 1
        yield number, list(values)


def read_xlsx_bytes(
    path: Path, data: bytes, limits: IngestLimits | None = None, only_rows: Collection[int] | None = None
) -> RawTable:
    """Read the first sheet of an XLSX workbook under ``limits``: the zip directory is checked first, the
    sheet is streamed (openpyxl read-only, its declared dimension ignored) and only the header's columns
    are kept. With ``only_rows``, only those source rows are kept."""
    from openpyxl import load_workbook

    limits = limits or IngestLimits()
    if len(data) > limits.max_file_bytes:
        raise UnreadableFile(_too_large(len(data), limits))
    check_xlsx_directory(data, limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, XML errors ...
        raise UnreadableFile(
            f"无法作为 XLSX 工作簿打开 / not a readable XLSX workbook ({type(exc).__name__})"
        ) from None
    try:
        if not workbook.worksheets:
            raise UnreadableFile("工作簿没有工作表 / the workbook has no sheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the declared dimension (e.g. A1:XFD20000) is not trusted
        budget = _Budget(limits)
        headers: list[str] | None = None
        rows: list[tuple[int, list[Any]]] = []
        width = limits.max_columns + 1  # one more than allowed: a cell there means too many columns
        with cycle_collection_paused():  # the rows hold no cycles (techreform.memory)
            for number, values in _sheet_rows(sheet, width):
                if headers is None:
                    while values and _is_blank(values[-1:]):
                        values.pop()
                    budget.row(number, values)
                    if values:
                        headers = [normalise_header(h) for h in values]
                        width = len(headers)
                    continue
                values = values[:width]
                budget.row(number, values)
                if not _is_blank(values) and (only_rows is None or number in only_rows):
                    rows.append((number, values))
    finally:
        workbook.close()
    if headers is None:
        raise UnreadableFile("工作表为空 / the first sheet is empty")
    while headers and headers[-1] == "":
        headers.pop()
    return RawTable(path=path, encoding="xlsx", headers=headers, rows=[(n, r[: len(headers)]) for n, r in rows])


def read_delivery_bytes(
    path: Path, data: bytes, limits: IngestLimits | None = None, only_rows: Collection[int] | None = None
) -> RawTable:
    """Read a delivered file's bytes by its suffix under ``limits``; raises :class:`UnreadableFile`.
    ``only_rows``: keep only these source rows (reading a row back from the raw zone)."""
    suffix = _suffix(path)
    if suffix == CSV_SUFFIX:
        return read_csv_bytes(path, data, limits, only_rows)
    if suffix == WORKBOOK_SUFFIX:
        return read_xlsx_bytes(path, data, limits, only_rows)
    raise UnreadableFile(f"不支持的文件类型 {suffix or '(无扩展名)'}，应为 .csv 或 .xlsx / unsupported file type")


def read_delivery(path: Path, limits: IngestLimits | None = None) -> RawTable:
    """Read a delivered file from disk (see :func:`read_delivery_bytes`); a file over the byte limit is
    refused from its size, unread."""
    limits = limits or IngestLimits()
    size = Path(path).stat().st_size
    if size > limits.max_file_bytes:
        raise UnreadableFile(_too_large(size, limits))
    return read_delivery_bytes(path, Path(path).read_bytes(), limits)
