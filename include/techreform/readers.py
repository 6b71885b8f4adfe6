"""Reading delivered files: CSV in UTF-8 (with or without BOM) or GB18030/GBK, and XLSX (first sheet).

The encoding is detected, never guessed silently: a BOM means UTF-8; otherwise the bytes must decode
strictly as UTF-8, or else strictly as GB18030 (a superset of GBK); a file that decodes as neither is
rejected. The detected encoding is recorded with the file."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPPORTED_SUFFIXES = (".csv", ".xlsx")


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


def detect_encoding(data: bytes) -> str:
    """``utf-8-sig``, ``utf-8`` or ``gb18030``; raises :class:`UnreadableFile` if none decodes strictly."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "gb18030"
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


def _is_blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_csv_bytes(path: Path, data: bytes) -> RawTable:
    encoding = detect_encoding(data)
    text = data.decode(encoding)
    if not text.strip():
        raise UnreadableFile("文件为空 / the file is empty")
    first_line = text.lstrip("\ufeff").splitlines()[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = list(reader)
    header_index = next((i for i, r in enumerate(records) if not _is_blank(r)), None)
    if header_index is None:
        raise UnreadableFile("文件为空 / the file is empty")
    headers = [normalise_header(h) for h in records[header_index]]
    rows = [
        (i + 1, list(r))
        for i, r in enumerate(records)
        if i > header_index and not _is_blank(r)
    ]
    return RawTable(path=path, encoding=encoding, headers=headers, rows=rows)


def read_xlsx_bytes(path: Path, data: bytes) -> RawTable:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise UnreadableFile(f"无法作为 XLSX 工作簿打开 / not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        records = [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    header_index = next((i for i, r in enumerate(records) if not _is_blank(r)), None)
    if header_index is None:
        raise UnreadableFile("工作表为空 / the first sheet is empty")
    headers = [normalise_header(h) for h in records[header_index]]
    while headers and headers[-1] == "":
        headers.pop()
    rows = [
        (i + 1, r[: len(headers)])
        for i, r in enumerate(records)
        if i > header_index and not _is_blank(r[: len(headers)])
    ]
    return RawTable(path=path, encoding="xlsx", headers=headers, rows=rows)


def read_delivery_bytes(path: Path, data: bytes) -> RawTable:
    """Read a delivered file's bytes by its suffix; raises :class:`UnreadableFile`."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_bytes(path, data)
    if suffix == ".xlsx":
        return read_xlsx_bytes(path, data)
    raise UnreadableFile(f"不支持的文件类型 {suffix or '(无扩展名)'}，应为 .csv 或 .xlsx / unsupported file type")


def read_delivery(path: Path) -> RawTable:
    """Read a delivered file from disk (see :func:`read_delivery_bytes`)."""
    return read_delivery_bytes(path, Path(path).read_bytes())
