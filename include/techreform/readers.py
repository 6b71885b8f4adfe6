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
import re
import unicodedata
import zipfile
from collections.abc import Collection, Iterable, Iterator
from functools import cache
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


class RawTable:
    """A delivered table as received: headers and rows of cells, each row with its spreadsheet number
    (the header's row is 1; blank rows are not kept, so the numbers can skip).

    Held row by row (``rows``: the strict CSV reader, XLSX) or column by column (the columnar CSV
    reader, :func:`_read_plain_csv`: one pyarrow text array per column, a few bytes per cell instead
    of a Python string and a list per row). Either way :attr:`rows` gives the rows, and
    :meth:`column`, :meth:`cells`, :meth:`source_rows`, :meth:`row` and :meth:`slice` read it as parsing
    does, without building the rows of a columnar table."""

    __slots__ = ("path", "encoding", "headers", "_rows", "_columns", "_numbers")

    def __init__(
        self,
        path: Path,
        encoding: str,  # utf-8, utf-8-sig, gb18030, xlsx
        headers: list[str],
        rows: list[tuple[int, list[Any]]] | None = None,
        *,
        columns: list[Any] | None = None,
        row_numbers: Any = None,
    ) -> None:
        self.path = path
        self.encoding = encoding
        self.headers = headers
        self._rows = [] if rows is None and columns is None else rows
        self._columns = columns  # pyarrow text arrays (chunked as read), one per header, of len(row_numbers)
        self._numbers = row_numbers  # pyarrow int64 array: each columnar row's source row

    @property
    def file_name(self) -> str:
        return self.path.name

    @property
    def rows(self) -> list[tuple[int, list[Any]]]:
        """(source_row, cells) of every row; a columnar table's rows are built at each call."""
        if self._rows is not None:
            return self._rows
        cells = zip(*(column.to_pylist() for column in self._columns)) if self._columns else iter(())
        return [(number, list(values)) for number, values in zip(self._numbers.to_pylist(), cells)]

    @property
    def columnar(self) -> bool:
        """Whether the table is held column by column (the columnar CSV reader took its file)."""
        return self._rows is None

    def __len__(self) -> int:
        return len(self._rows) if self._rows is not None else len(self._numbers)

    def column(self, index: int) -> list[Any]:
        """The cells of column ``index`` (0-based), one per row; ``None`` where a row is shorter."""
        if self._rows is None:
            return self._columns[index].to_pylist() if index < len(self._columns) else [None] * len(self)
        return [cells[index] if index < len(cells) else None for _, cells in self._rows]

    def cells(self, index: int) -> Any:
        """Column ``index`` as parsing takes it (:func:`techreform.cells.parse_column`): a columnar
        table's pyarrow array as read, else :meth:`column`'s list."""
        if self._rows is None and index < len(self._columns):
            return self._columns[index]
        return self.column(index)

    def source_rows(self) -> list[int]:
        """Each row's source row, in order."""
        if self._rows is None:
            return self._numbers.to_pylist()
        return [number for number, _ in self._rows]

    def row(self, position: int) -> tuple[int, list[Any]]:
        """(source_row, cells) of the row at ``position`` (0-based, among the rows kept)."""
        if self._rows is not None:
            return self._rows[position]
        return self._numbers[position].as_py(), [column[position].as_py() for column in self._columns]

    def slice(self, start: int, stop: int) -> RawTable:
        """The rows ``start:stop`` as a table of their own (a columnar table's arrays are not copied)."""
        if self._rows is not None:
            return RawTable(self.path, self.encoding, self.headers, self._rows[start:stop])
        stop = min(stop, len(self))
        start = min(start, stop)
        return RawTable(
            self.path,
            self.encoding,
            self.headers,
            columns=[column.slice(start, stop - start) for column in self._columns],
            row_numbers=self._numbers.slice(start, stop - start),
        )


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
    is too long. ``cells_checked``: no cell can break the per-cell limits (a plain sheet whose every
    shared string is within them: its other cells are numbers and dates), so only rows and cells are
    counted."""

    def __init__(self, limits: IngestLimits, text_only: bool = False, cells_checked: bool = False):
        self.limits = limits
        self.cells = 0
        self.text_only = text_only
        self.cells_checked = cells_checked

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
        if self.cells_checked or (self.text_only and (not cells or max(map(len, cells)) <= limits.max_cell_chars)):
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
    ``only_rows`` (rows read back from the raw zone) only those source rows are kept; a file with one
    record per line that is long beside them has only their lines parsed and checked (the limits of a
    cell on those lines only: the file passed them whole at ingest), any other file is read and checked
    whole (:func:`_only_lines`)."""
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
    plain = _read_plain_csv(path, data, encoding, delimiter, first_line, limits, only_rows)
    if plain is not None:  # the columnar reader took it: the same table, read column by column
        return plain
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


PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Every character ``str.strip`` strips (``str.isspace``; the test checks the list is whole)."""
_BLANK_CELL = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in PYTHON_WHITESPACE) + "]*$"
"""A cell of white space only, or empty: blank, as :func:`_is_blank` sees it (an RE2 pattern for
pyarrow's ``match_substring_regex``)."""
_SIMPLE_QUOTED_CELL = re.compile(rb'"[^"\r\n]*"')
"""A quoted cell with no quote and no line break inside (``"1,005.56"``, as spreadsheets quote)."""


def _simple_quoting(data: bytes, delimiter: bytes, text_start: int) -> bool:
    """True when every quote character of the CSV bytes opens or closes a whole cell that holds no quote
    and no line break (:data:`_SIMPLE_QUOTED_CELL`, from the start of a line or after a delimiter to the
    end of a line or a delimiter). Such a file has one record per line, and its cells read the same
    whatever reader splits it: the quoted text is the cell. Anything else (a doubled quote, a quote
    inside a cell, a cell over several lines, text after a closing quote) is left to the strict reader."""
    quotes = data.count(b'"')
    if quotes % 2:
        return False
    paired = 0
    before = (delimiter, b"\n")
    after = (delimiter, b"\r", b"\n")
    for match in _SIMPLE_QUOTED_CELL.finditer(data):
        start, end = match.span()
        if start > text_start and data[start - 1 : start] not in before:
            return False
        if end < len(data) and data[end : end + 1] not in after:
            return False
        paired += 2
    return paired == quotes


def _read_plain_csv(
    path: Path,
    data: bytes,
    encoding: str,
    delimiter: str,
    first_line: str,
    limits: IngestLimits,
    only_rows: Collection[int] | None,
) -> RawTable | None:
    """The columnar reader: a plain CSV file read by pyarrow's CSV reader (in C++, column by column)
    into the very table :func:`read_csv_bytes`'s strict reader would give, or ``None`` to leave the
    file to the strict reader — which then reads it, or refuses it with its own message.

    A plain file: its header on the first line (no blank line before it), ending in ``\n``; quotes
    only around whole cells without quote or line break (:func:`_simple_quoting`), so one record per
    line; every line as wide as the header (pyarrow refuses the file otherwise; an empty line is a row
    of empty cells, blank); within ``max_columns``, ``max_cells`` and ``max_cell_chars``. Rows of blank
    cells are dropped and the others keep their line numbers, as the strict reader numbers records.
    NUL was refused before (:func:`read_csv_bytes`). A GB18030 file is decoded by pyarrow block by
    block (its quote, delimiter and line-break bytes are ASCII and never part of a multi-byte
    character, so the checks on the bytes hold for it too). The test: ``tests/test_columnar_csv.py``."""
    text_start = 3 if encoding == "utf-8-sig" else 0
    if not _simple_quoting(data, delimiter.encode(), text_start):
        return None
    if first_line.count(delimiter) >= limits.max_columns:
        return None  # wider than allowed (a width is at most its delimiters + 1): the strict reader refuses it
    try:
        width = len(next(csv.reader([first_line.rstrip("\r")], delimiter=delimiter)))
    except csv.Error:  # a header cell over the csv module's own limit
        return None
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    if lines * width > limits.max_cells:
        return None  # the strict reader names the row where a limit is passed

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as arrow_csv

    text = pa.py_buffer(data)[text_start:]
    line_numbers = None  # every line, numbered from 1
    if only_rows is not None and len(only_rows) * 8 < lines:  # a few rows of a long file: only their lines
        text, line_numbers = _only_lines(data, text_start, only_rows)
    names = [f"c{index}" for index in range(width)]
    try:
        table = arrow_csv.read_csv(
            pa.BufferReader(text),
            read_options=arrow_csv.ReadOptions(
                use_threads=False, column_names=names, encoding="gb18030" if encoding == "gb18030" else "utf8"
            ),
            parse_options=arrow_csv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=arrow_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError):  # a line of another width, ...: the strict reader says which
        return None
    if table.num_rows == 0:
        return None
    columns = table.columns  # chunked as read (one chunk per block): never copied whole
    del table
    if any((pc.max(pc.utf8_length(column)).as_py() or 0) > limits.max_cell_chars for column in columns):
        return None
    blank = np.ones(len(columns[0]), dtype=bool)
    for column in columns:  # a match per cell, no trimmed copy of the text
        blank &= pc.match_substring_regex(column, _BLANK_CELL).to_numpy()
    if blank[0]:
        return None  # blank lines before the header: the strict reader skips them
    headers = [normalise_header(column[0].as_py()) for column in columns]
    # each line's number: one record per line
    numbers = np.arange(1, len(blank) + 1, dtype=np.int64) if line_numbers is None else line_numbers
    keep = ~blank
    keep[0] = False  # the header
    if only_rows is not None:
        keep &= np.isin(numbers, np.fromiter(only_rows, dtype=np.int64, count=len(only_rows)))
    if keep[1:].all():  # the usual file: every line after the header is a row, no copy
        kept = [column.slice(1) for column in columns]
    else:
        mask = pa.array(keep)
        kept = [column.filter(mask) for column in columns]
    return RawTable(path, encoding, headers, columns=kept, row_numbers=pa.array(numbers[keep]))


def _only_lines(data: bytes, text_start: int, only_rows: Collection[int]) -> tuple[Any, Any]:
    """The header's line and the lines numbered ``only_rows`` of a file with one record per line (the
    columnar reader's files), as one text that pyarrow reads as it would read the whole file, and the
    numbers of its lines (numpy). Reading a few rows back from the raw zone: the lines are found by
    their line breaks (numpy over the bytes) and only they are parsed, where the whole file was parsed
    to keep a few thousand rows of half a million (docs/performance.md, round 14). A number past the
    last line or of the header is left out: the caller finds the row missing. A line break byte is never
    part of a GB18030 character, so the bytes split the same in every encoding the reader accepts."""
    import numpy as np
    import pyarrow as pa

    breaks = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
    ends = np.append(breaks + 1, len(data)) if not data.endswith(b"\n") else breaks + 1
    starts = np.concatenate(([text_start], ends[:-1]))  # line k (from 1) is data[starts[k-1]:ends[k-1]]
    wanted = sorted({int(n) for n in only_rows if 1 < int(n) <= len(ends)})
    numbers = np.array([1, *wanted], dtype=np.int64)
    pieces = []
    for number in numbers.tolist():
        line = data[starts[number - 1] : ends[number - 1]]
        pieces.append(line if line.endswith(b"\n") else line + b"\n")
    return pa.py_buffer(b"".join(pieces)), numbers


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


def _sheet_rows(rows: Iterator[Any]) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of a sheet's rows as read (openpyxl's or :func:`_plain_sheet_rows`'), streaming;
    a cell that cannot be converted (a numeric cell holding text, a shared string's index out of range)
    is refused with the row after the last one read."""
    number = 0
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
        yield number, values if type(values) is list else list(values)


_MAIN_NAMESPACE = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW_ATTRIBUTES = (
    rb'(?: spans="\d{1,5}:\d{1,5}")?(?: s="\d{1,9}")?(?: customFormat="[01]")?(?: ht="\d{1,4}(?:\.\d{1,9})?")?'
    rb'(?: customHeight="[01]")?(?: x14ac:dyDescent="\d{1,4}(?:\.\d{1,9})?")?'
)
_PLAIN_CELL = (
    rb'<c r="[A-Z]{1,3}[1-9]\d{0,8}"(?: s="\d{1,9}")?'
    rb'(?:(?: t="[sn]")?/>| t="s"><v>\d{1,10}</v></c>|(?: t="n")?><v>-?\d{1,30}(?:\.\d{1,30})?(?:[Ee][-+]?\d{1,4})?</v></c>)'
)
_PLAIN_SHEET_DATA = re.compile(
    rb'(?:<row r="[1-9]\d{0,8}"' + _ROW_ATTRIBUTES + rb"(?:/>|>(?:" + _PLAIN_CELL + rb")*+</row>))*+"
)
"""The rows of a plain sheet (工作表) as spreadsheet programs and libraries write them: each row and cell
numbered (``r``), attributes in the usual order with plain values, every cell a shared string (``t="s"``)
or a number in ``<v>``, no formula, inline string or error cell, no white space, comment or entity."""
_SHEET_TOKEN = re.compile(
    rb'<row r="(\d+)"|<c r="([A-Z]+)(\d+)"(?: s="(\d+)")?(?: t="(s)"| t="n")?(?:/>|><v>(?:(-?\d+)|([^<]+))</v>)'
)
"""A row's number, or a cell's column and row (its reference), style, ``s`` for a shared string, and
value: whole (an index or an ``int``) or not (a ``float``); in a sheet :data:`_PLAIN_SHEET_DATA` matched."""
_START_TAG = re.compile(rb"<[A-Za-z_][^>]*>")


@cache
def _column_numbers() -> dict[bytes, int]:
    """``b"A"`` → 1 … ``b"ZZZ"`` → 18278, as openpyxl numbers a cell reference's columns."""
    return {_column_name(index).encode("ascii"): index + 1 for index in range(18278)}


def _plain_sheet_rows(workbook: Any, sheet: Any, max_col: int) -> Iterator[list[Any]] | None:
    """The values of a plain sheet's rows 1, 2, … as openpyxl's read-only reader gives them (columns
    1..``max_col``; a row missing from the sheet is a row of ``None``), read from the sheet's XML by
    regular expressions (C) instead of openpyxl's parse of each cell (Python); or ``None`` when the sheet
    is not plain and openpyxl must read it.

    Plain: at most :data:`PLAIN_SHEET_MAX_BYTES`; one ``<sheetData>`` whose whole content matches
    :data:`_PLAIN_SHEET_DATA`; no ``<!`` (comment, CDATA, DOCTYPE) or processing instruction but the XML
    declaration anywhere; the document without the rows parses in openpyxl's sheet parser without error
    or row, with ``sheetData`` in the spreadsheet namespace. What openpyxl does with such a sheet is done
    here the same way: a cell's value is its shared string (``strings[int(v)]``: an index out of range is
    the same ``IndexError``) or its number (``float`` if it holds ``.``, ``E`` or ``e``, else ``int``; a
    date or a time if its style says so); a later cell of the same column replaces an earlier one; a row
    numbered below one already read is skipped; a gap in the numbers gives rows of ``None``; an empty
    cell empties its column; a cell past ``max_col`` is converted and dropped. docs/reliability.md,
    "XLSX reader"."""
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.functions import iterparse

    try:
        if workbook._archive.getinfo(sheet._worksheet_path).file_size > PLAIN_SHEET_MAX_BYTES:
            return None  # read whole here, streamed by openpyxl: a larger sheet is left to openpyxl
        xml = workbook._archive.read(sheet._worksheet_path)
    except Exception:  # a damaged member (a bad CRC …): openpyxl reads it and refuses it its own way
        return None
    start = xml.find(b"<sheetData>") + len(b"<sheetData>")
    end = xml.find(b"</sheetData>")
    declaration = 1 if xml.startswith((b"<?xml ", b"\xef\xbb\xbf<?xml ")) else 0
    if (
        start < len(b"<sheetData>")
        or end < start
        or xml.count(b"<sheetData") != 1
        or xml.count(b"</sheetData>") != 1
        or b"<!" in xml  # no DTD is parsed here (a comment hiding rows is also caught by the counts)
        or xml.count(b"<?") != declaration
        or len(xml) - (end - start) > PLAIN_OUTLINE_MAX_BYTES
        or not _PLAIN_SHEET_DATA.fullmatch(xml, start, end)
    ):
        return None
    root = _START_TAG.search(xml)
    if xml.find(b"x14ac:", start, end) >= 0 and (root is None or b'xmlns:x14ac="' not in root.group()):
        return None  # a prefix the rows use must be declared where they are (the root)
    outline = xml[:start] + xml[end:]
    try:
        tags = [element.tag for _, element in iterparse(io.BytesIO(outline))]
        if any(True for _ in WorkSheetParser(io.BytesIO(outline), [], data_only=True).parse()):
            return None
    except Exception:  # whatever openpyxl's parser raises on the rest of the sheet: it reads it
        return None
    if tags.count(f"{{{_MAIN_NAMESPACE}}}sheetData") != 1:
        return None
    return _plain_values(xml, start, end, sheet._shared_strings, max_col, workbook)


PLAIN_SHEET_MAX_BYTES = 64 << 20
"""The largest sheet XML (uncompressed) :func:`_plain_sheet_rows` reads, whole: some 120,000 rows of
twenty columns; openpyxl streams a larger one."""
PLAIN_OUTLINE_MAX_BYTES = 1 << 20
"""The most a plain sheet may hold outside its rows (views, columns, margins: a few kilobytes written by
spreadsheet programs), copied once to be parsed by openpyxl."""
PLAIN_CHUNK_BYTES = 1 << 20
"""Bytes of a plain sheet's XML whose cells are found at a time (whole rows; bounded memory)."""


def _plain_values(
    xml: bytes, start: int, end: int, strings: list[str], max_col: int, workbook: Any
) -> Iterator[list[Any]]:
    """The rows 1, 2, … of the plain sheet ``xml[start:end]`` (see :func:`_plain_sheet_rows`), numbered as
    openpyxl's read-only reader numbers them: a gap gives rows of ``None``, a row numbered below one
    already given is skipped."""
    expected = 1  # the next row number to give
    for number, values in _plain_row_elements(xml, start, end, strings, max_col, workbook):
        if number < expected:
            continue
        while expected < number:
            expected += 1
            yield [None] * max_col
        expected += 1
        yield values


def _plain_row_elements(
    xml: bytes, start: int, end: int, strings: list[str], max_col: int, workbook: Any
) -> Iterator[tuple[int, list[Any]]]:
    """(number, values of columns 1..``max_col``) of each ``<row>`` of a plain sheet as written, its cells
    found :data:`PLAIN_CHUNK_BYTES` at a time; a number styled as a date or a time (``workbook``'s styles)
    is converted as openpyxl converts it (:func:`_openpyxl_date`)."""
    columns = _column_numbers()
    dates = workbook._date_formats
    number = 0  # the row being read (0: none yet)
    values: list[Any] = []
    while start < end:
        stop = xml.find(b"<row r=", start + PLAIN_CHUNK_BYTES, end)
        stop = end if stop < 0 else stop
        for row, column, line, style, shared, whole, fraction in _SHEET_TOKEN.findall(xml, start, stop):
            if row:
                if number:
                    yield number, values
                number, values = int(row), [None] * max_col
                continue
            if whole:
                cell: Any = strings[int(whole)] if shared else int(whole)
            elif fraction:
                cell = float(fraction)
            else:
                cell = None  # an empty cell: it still replaces an earlier one of its column
            if dates and cell is not None and not shared and (int(style) if style else 0) in dates:
                cell = _openpyxl_date(cell, int(style) if style else 0, column + line, workbook)
            index = columns[column]
            if index <= max_col:
                values[index - 1] = cell
        start = stop
    if number:
        yield number, values


def _within_cell_limits(strings: list[str], limits: IngestLimits) -> bool:
    """Whether every shared string is within the per-cell limits (characters, no NUL)."""
    return all(len(text) <= limits.max_cell_chars and "\x00" not in text for text in strings)


def _openpyxl_date(serial: float, style: int, reference: bytes, workbook: Any) -> Any:
    """A number cell styled as a date or a time, as openpyxl's sheet parser converts it: a ``datetime``
    (``timedelta`` for a time style) from the workbook's epoch, or the error value ``#VALUE!`` with
    openpyxl's warning when the serial is outside the dates."""
    from warnings import warn

    from openpyxl.utils.datetime import from_excel

    try:
        return from_excel(serial, workbook.epoch, timedelta=style in workbook._timedelta_formats)
    except (OverflowError, ValueError):
        coordinate = reference.decode("ascii")
        warn(
            f"""Cell {coordinate} is marked as a date but the serial value {serial} is outside the limits for dates. The cell will be treated as an error.""",
            stacklevel=1,
        )
        return "#VALUE!"


@cache
def _workbook_reader() -> type:
    """openpyxl's workbook reader whose shared strings are read by :func:`_plain_string_table` when the
    table is plain, else by openpyxl (imported on first use)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.reader.strings import read_string_table
    from openpyxl.xml.constants import SHARED_STRINGS

    class PlainStringsReader(ExcelReader):
        def read_strings(self) -> None:
            if self.rich_text:
                return super().read_strings()
            part = self.package.find(SHARED_STRINGS)
            if part is None:
                return None
            with self.archive.open(part.PartName[1:]) as source:
                strings = _plain_string_table(source)
            if strings is None:
                with self.archive.open(part.PartName[1:]) as source:
                    strings = read_string_table(source)
            self.shared_strings = strings
            return None

    return PlainStringsReader


def _plain_string_table(source: Any) -> list[str] | None:
    """The shared strings (共享字符串) of a plain table as openpyxl reads them (``read_string_table``:
    each ``<si>``'s text, ``x005F_`` removed), or ``None`` when the table is not plain and openpyxl must
    read it. Plain: a ``<sst>`` of ``<si>`` elements, each one ``<t>`` (``xml:space`` its only
    attribute) holding text only; no DTD (``<!`` anywhere). Streamed by the standard library's parser
    (expat, as openpyxl's), each string's elements cleared once read; what openpyxl spends per string
    is its object model (``Text.from_tree``), not the parse."""
    from xml.etree.ElementTree import iterparse

    main = f"{{{_MAIN_NAMESPACE}}}"
    string, text, table = f"{main}si", f"{main}t", f"{main}sst"
    preserve = {"{http://www.w3.org/XML/1998/namespace}space": "preserve"}
    strings: list[str] = []
    try:
        for _event, element in iterparse(_NoDeclarations(source), events=("end",)):
            tag = element.tag
            if tag == text:
                if len(element) or (element.attrib and element.attrib != preserve) or element.tail is not None:
                    return None
            elif tag == string:
                if len(element) != 1 or element[0].tag != text or element.attrib or element.text is not None:
                    return None
                strings.append((element[0].text or "").replace("x005F_", ""))
                element.clear()
            elif tag != table:
                return None
    except Exception:  # not plain (_NotPlain, ParseError) or damaged (a bad CRC …): openpyxl reads it
        return None
    return strings


class _NotPlain(Exception):
    """A declaration (``<!``) in a part read by a plain path: openpyxl reads it instead."""


class _NoDeclarations:
    """A file object that refuses, while it is read, a part holding ``<!`` (a DTD, comment or CDATA),
    also across the boundary of two reads."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.last = b""

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        if b"<!" in self.last[-1:] + data[:1] or b"<!" in data:
            raise _NotPlain
        self.last = data[-1:] if data else self.last
        return data


def read_xlsx_bytes(
    path: Path, data: bytes, limits: IngestLimits | None = None, only_rows: Collection[int] | None = None
) -> RawTable:
    """Read the first sheet of an XLSX workbook under ``limits``: the zip directory is checked first, the
    sheet is streamed (openpyxl read-only, its declared dimension ignored) and only the header's columns
    are kept. With ``only_rows``, only those source rows are kept."""
    limits = limits or IngestLimits()
    if len(data) > limits.max_file_bytes:
        raise UnreadableFile(_too_large(len(data), limits))
    check_xlsx_directory(data, limits)
    try:
        reader = _workbook_reader()(io.BytesIO(data), read_only=True, data_only=True)
        reader.read()  # what load_workbook(read_only=True, data_only=True) does, shared strings read faster
        workbook = reader.wb
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, XML errors ...
        raise UnreadableFile(
            f"无法作为 XLSX 工作簿打开 / not a readable XLSX workbook ({type(exc).__name__})"
        ) from None
    try:
        if not workbook.worksheets:
            raise UnreadableFile("工作簿没有工作表 / the workbook has no sheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the declared dimension (e.g. A1:XFD20000) is not trusted
        headers: list[str] | None = None
        rows: list[tuple[int, list[Any]]] = []
        width = limits.max_columns + 1  # one more than allowed: a cell there means too many columns
        with cycle_collection_paused():  # the rows hold no cycles (techreform.memory)
            plain = _plain_sheet_rows(workbook, sheet, width)
            read = plain if plain is not None else sheet.iter_rows(min_row=1, max_col=width, values_only=True)
            budget = _Budget(
                limits, cells_checked=plain is not None and _within_cell_limits(sheet._shared_strings, limits)
            )
            for number, values in _sheet_rows(read):
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
