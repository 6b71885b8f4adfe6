"""Ingestion (接收): landing folder → raw zone → file log → staging, for one form and report period.

- Every file found under ``landing/<form>/<YYYY-MM>/`` is kept unchanged in the raw zone with its sha256.
- The same bytes delivered again change nothing: a file whose sha256 is already logged for the form and
  period is skipped.
- A file that cannot be used (unreadable, empty, a required column missing, past a limit of
  :mod:`techreform.limits`, refused by the database) is rejected as a whole with one line naming the file
  and, where known, the row, column or field; it is logged by its sha256, the other files go on and a
  rerun does not try it again. Links, directories and special files are refused unread
  (:mod:`techreform.landing`). A file with the header and no rows is a
  valid delivery of nothing (a prefecture with no project to report that month).
- Rows whose cells do not parse are kept in ``stg_parse_error`` with the field and the reason (rule
  ``<CODE>-H00``); the load step quarantines them. Rows that parse go to ``stg_<form>``, typed.
- Each new file is staged in one transaction with its log row: it is in the warehouse whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import itertools
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from techreform import readers
from techreform.ahead import produced_ahead
from techreform.cells import parse_column
from techreform.config import Settings
from techreform.files import write_bytes
from techreform.forms import Form
from techreform.landing import LandingEntry, NotARegularFile, ReceivedFile, receive_file, scan_delivery_folder
from techreform.limits import IngestLimits
from techreform.memory import cycle_collection_paused
from techreform.periods import Period
from techreform.readers import RawTable, UnreadableFile, is_workbook, normalise_header, read_delivery_bytes
from techreform.store import StorePath, at_location, exists, location, put_file, read_bytes, scratch_dir, store_of
from techreform.warehouse import insert_columns, insert_rows, query, run_script

log = logging.getLogger(__name__)

PARSE_RULE_SUFFIX = "-H00"
_UNIT_SUFFIX_RE = re.compile(r"^(.*?)\((.+)\)$")


def parse_rule_id(form: Form) -> str:
    """The rule id of cells that cannot be read as their type: ``E1-H00`` (an addition to the contract)."""
    return f"{form.code}{PARSE_RULE_SUFFIX}"


@dataclass
class FileOutcome:
    file_name: str
    sha256: str
    status: str  # loaded | rejected | unchanged | refused (not a regular file, never read)
    rows_received: int = 0
    rows_staged: int = 0
    rows_unparsed: int = 0
    extra_columns: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class IngestSummary:
    form: str
    period: str
    files: list[FileOutcome] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "period": self.period,
            "files": [f.__dict__ for f in self.files],
        }


@dataclass
class ParsedFile:
    """The result of parsing one file against its form: the staged rows, held column by column, and the
    rows that did not parse.

    ``columns``: the parsed values of the staged rows by field (the fields of the file's headers, and
    ``period`` or ``year`` where a row took the delivery folder's), in row order, and their
    ``source_row``. Columns all the way to the staging insert: no dict per row (docs/performance.md)."""

    extra_columns: list[str]
    columns: dict[str, list[Any]]
    unparsed: list[dict[str, Any]]
    rows_received: int

    @property
    def rows_staged(self) -> int:
        return len(self.columns.get("source_row", ()))

    @property
    def staged(self) -> list[dict[str, Any]]:
        """The staged rows as dicts: ``{field: value, ..., "source_row": n, "raw_json": ""}`` (a field the
        file lacks is no key)."""
        names = list(self.columns)
        return [{**dict(zip(names, values)), "raw_json": ""} for values in zip(*self.columns.values())]

    def staged_columns(self, names: list[str], constants: dict[str, Any]) -> list[list[Any]]:
        """The staged rows column by column, in the order of ``names``: a parsed column, else the value
        ``constants`` gives (the delivery's period, file and sequence, the empty ``raw_json``) on every
        row, else ``None``."""
        count = self.rows_staged
        return [self.columns[name] if name in self.columns else [constants.get(name)] * count for name in names]


def delivery_folder(settings: Settings, form: Form, period: Period):
    """``landing/<form>/<YYYY-MM>/`` in the store (:mod:`techreform.store`)."""
    return store_of(settings).delivery_folder(form.name, str(period))


def delivered_files(settings: Settings, form: Form, period: Period) -> list[Path]:
    """Regular files of a delivery folder in arrival order (modification time, then name); hidden and
    Office lock files are not deliveries, and links or special files are not files (see
    :func:`techreform.landing.scan_delivery_folder`)."""
    return [entry.path for entry in scan_delivery_folder(delivery_folder(settings, form, period)).files]


def map_headers(form: Form, headers: list[str]) -> tuple[dict[int, str], list[str], list[str]]:
    """Column index → field name; extra headers; problems (missing required or duplicated fields).

    A header matches a field by its canonical name or Chinese header (表头), after NFKC; a trailing unit
    in parentheses that equals the field's unit is accepted (``工业总产值(万元)``)."""
    known = {normalise_header(k): v for k, v in form.header_map().items()}
    mapping: dict[int, str] = {}
    extras: list[str] = []
    for index, header in enumerate(headers):
        name = known.get(header)
        if name is None:
            match = _UNIT_SUFFIX_RE.match(header)
            if match and match.group(1) in known and form.field(known[match.group(1)]).unit == match.group(2):
                name = known[match.group(1)]
        if name is None:
            if header:
                extras.append(header)
            continue
        if name in mapping.values():
            return {}, extras, [f"字段 {form.field(name).label} 出现了不止一列 / the column appears twice"]
        mapping[index] = name
    present = set(mapping.values())
    missing = [f for f in form.required_fields if f.name not in present]
    problems = [f"缺少必填列 {f.label} / required column {f.name} is missing" for f in missing]
    return mapping, extras, problems


def _cell_as_received(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


_AS_RECEIVED_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
"""One encoder for every row (``json.dumps`` with options builds a new one per call); same output."""


def parse_table(form: Form, table: RawTable, folder_period: Period | str | None = None) -> ParsedFile:
    """Map headers and parse every row; raises :class:`UnreadableFile` when the file cannot be used.

    Cells are parsed column by column (:func:`techreform.cells.parse_column`, the rules of
    :func:`~techreform.cells.parse_cell`), then put together row by row.

    For a form whose files need not carry the period (:attr:`Form.period_from_folder`, P1, Q1), a row
    without one takes ``folder_period`` (the delivery folder's); a row that carries one keeps it, and the
    form's rule compares it with the folder. Likewise a form's ``year`` (:attr:`Form.year_from_folder`, A1).

    A staged row's ``raw_json`` is empty: the row as received is in the raw zone, by file and
    ``source_row``, and is read back only for the rows a message needs (:func:`received_rows`). A row
    that did not parse keeps its ``raw_json`` (``stg_parse_error``), encoded here."""
    mapping, extras, problems = map_headers(form, table.headers)
    if problems:
        raise UnreadableFile("；".join(problems))
    return _parse_rows(form, table, mapping, extras, folder_period)


def parse_table_chunks(
    form: Form, table: RawTable, folder_period: Period | str | None = None, chunk_rows: int = 50_000
) -> Iterator[ParsedFile]:
    """:func:`parse_table` by slices of at most ``chunk_rows`` rows (bounded memory: one slice's row
    dicts at a time; the generator holds ``table``, so its cells as read stay until the last slice). A
    file without rows gives one empty slice; ``rows_received`` is the slice's."""
    for start in range(0, max(len(table), 1), chunk_rows):
        yield parse_table(form, table.slice(start, start + chunk_rows), folder_period)


def _parse_rows(
    form: Form, table: RawTable, mapping: dict[int, str], extras: list[str], folder_period: Period | str | None
) -> ParsedFile:
    with cycle_collection_paused():  # the parsed rows hold no cycles (techreform.memory)
        default_period = str(folder_period) if folder_period is not None and form.period_from_folder else None
        default_year = Period.parse(folder_period).year if folder_period is not None and form.year_from_folder else None
        key_field = form.key[0]
        count = len(table)
        width = len(table.headers)
        parsed: dict[str, tuple[list[Any], dict[int, str]]] = {}
        for index, name in mapping.items():
            parsed[name] = parse_column(form.field(name), table.cells(index))
        names = list(parsed)
        errors_by_row: dict[int, list[tuple[str, str]]] = {}
        for name in names:
            for position, reason in parsed[name][1].items():
                errors_by_row.setdefault(position, []).append((name, reason))
        value_columns = [parsed[name][0] for name in names]
        unparsed: list[dict[str, Any]] = []
        for position in sorted(errors_by_row):  # the few rows that did not parse, each with its key as parsed
            source_row, cells = table.row(position)
            errors = errors_by_row[position]
            failed = {name for name, _ in errors}
            key = None if key_field in failed or key_field not in parsed else parsed[key_field][0][position]
            unparsed.append(
                {
                    "source_row": source_row,
                    "record_key": "" if key is None else str(key),
                    "raw_json": row_as_received(table.headers, cells, width),
                    "fields": ",".join(name for name, _ in errors),
                    "messages": "；".join(f"{form.field(name).label}：{reason}" for name, reason in errors),
                }
            )
        columns = dict(zip(names, value_columns))
        columns["source_row"] = table.source_rows()
        if errors_by_row:  # the staged rows' values only
            kept = [position for position in range(count) if position not in errors_by_row]
            columns = {name: [values[i] for i in kept] for name, values in columns.items()}
        staged_count = len(columns["source_row"])
        for name, default in (("period", default_period), ("year", default_year)):
            if default is None:
                continue
            if name in columns:
                columns[name] = [default if value is None else value for value in columns[name]]
            else:
                columns[name] = [default] * staged_count
        return ParsedFile(extras, columns, unparsed, count)


def row_as_received(headers: list[str], cells: list[Any], width: int | None = None) -> str:
    """``{header: cell as received}`` of one row as JSON text (cells past a short row are null; dates
    in ISO form; named headers only)."""
    width = len(headers) if width is None else width
    if len(cells) < width:
        cells = [*cells, *([None] * (width - len(cells)))]
    return _AS_RECEIVED_JSON.encode(
        {h: v if type(v := cells[i]) is str else _cell_as_received(v) for i, h in enumerate(headers) if h}
    )


class ReadBackFailed(RuntimeError):
    """A row as received cannot be read back from a raw file that is there (one line naming the file
    and the reason): the task fails and is retried rather than storing the row without its cells."""


GONE_FROM_RAW_ZONE = "(raw zone)"
"""The key of the marker a row as received gets when its file is no longer in the raw zone:
``{"(raw zone)": "文件已不在原始区 / no longer in the raw zone: <location>"}`` (docs/performance.md)."""


def gone_from_raw_zone(where: str) -> str:
    """The row as received of a row whose raw file is gone (a visible marker, never an empty object)."""
    return _AS_RECEIVED_JSON.encode({GONE_FROM_RAW_ZONE: f"文件已不在原始区 / no longer in the raw zone: {where}"})


ROWS_AS_RECEIVED_NAME = "rows-as-received.jsonl.gz"
"""Beside an XLSX file in the raw zone (``raw/<form>/<period>/<sha256>/``): its rows as received,
written once at ingest (:func:`keep_rows_as_received`)."""

ROWS_AS_RECEIVED_FORMAT = 2
"""The version of that copy's text: a copy of another version is not used. Version 2 (round 14) keeps each
row's cells as a JSON array under the file's headers, from which :func:`row_as_received` makes the rows
read back; version 1 kept every row's ``{header: cell}`` text, twice the CPU to write for rows that are
almost never read (docs/performance.md)."""


def rows_as_received_path(raw_path: StorePath) -> StorePath:
    """Where the copy of the rows as received of the raw file at ``raw_path`` is kept (its folder)."""
    return raw_path.parent / ROWS_AS_RECEIVED_NAME


def keep_rows_as_received(raw_path: StorePath, table: RawTable, sha: str) -> None:
    """Keep, beside an XLSX file loaded into staging, each of its rows as received
    (:func:`row_as_received`), one line ``<source_row>\t<json>`` per row under a header line naming the
    file's sha256 and the format; gzip, written once (never overwritten), after the file's rows are
    staged (a rejected workbook gets none). The copy only saves time: if the store cannot take it, a
    warning says so and the file's rows are read from the workbook when needed.

    The rows of a quarantined row are read back from the raw zone (:func:`received_rows`). For a CSV
    file that is a second read of its text; for a workbook it is openpyxl parsing every cell again for a
    few hundred rows, several seconds per file at national size (docs/performance.md), so a workbook's
    rows are read back from this copy instead. The raw file stays the record: its sha256 is checked at
    every read-back, and without a usable copy the file itself is read."""
    target = rows_as_received_path(raw_path)
    try:
        if not exists(target):
            write_bytes(target, _rows_as_received_bytes(table, sha))
    except Exception as exc:  # the file is staged and logged: without a copy its rows are read from it
        log.warning(
            "%s: its copy of the rows as received is not kept: %s: %s", location(raw_path), type(exc).__name__, exc
        )


def _rows_as_received_bytes(table: RawTable, sha: str) -> bytes:
    """The copy's bytes: the same for the same table (gzip's mtime 0). A header line (the file's sha256,
    the format, the headers), then ``<source_row>\t<the row's cells as a JSON array>`` per row: its cells
    up to the header's width, each as :func:`row_as_received` writes it, so that the row made from the
    array when it is read back (:func:`_kept_rows_as_received`) is the same text."""
    width = len(table.headers)
    encode = _AS_RECEIVED_JSON.encode
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=1, mtime=0) as out:
        header = {"file_sha256": sha, "format": ROWS_AS_RECEIVED_FORMAT, "headers": table.headers}
        out.write(json.dumps(header, ensure_ascii=False).encode())
        for source_row, cells in table.rows:
            received = [v if type(v) is str else _cell_as_received(v) for v in cells[:width]]
            out.write(f"\n{source_row}\t{encode(received)}".encode())
    return buffer.getvalue()


def _kept_rows_as_received(raw_path: StorePath, sha: str, numbers: set[int]) -> dict[int, str] | None:
    """The rows ``numbers`` from the copy beside the raw file (:func:`keep_rows_as_received`), or
    ``None`` when there is no usable copy (none, damaged, of another file or format, a row missing):
    then the raw file itself is read."""
    try:
        text = gzip.decompress(read_bytes(rows_as_received_path(raw_path))).decode("utf-8")
    except FileNotFoundError:
        return None
    except Exception:  # damaged (gzip's CRC, truncated), unreadable: the raw file is the record
        log.warning("%s: its copy of the rows as received is not usable; reading the file", location(raw_path))
        return None
    header, _, body = text.partition("\n")
    try:
        kept = json.loads(header)
        if not isinstance(kept, dict):
            return None
        headers = kept.get("headers")
        if (
            kept.get("file_sha256") != sha
            or kept.get("format") != ROWS_AS_RECEIVED_FORMAT
            or not isinstance(headers, list)
            or not all(isinstance(h, str) for h in headers)
        ):
            return None
        found = {}
        for line in body.split("\n"):
            number, _, row = line.partition("\t")
            if int(number) in numbers:
                cells = json.loads(row)
                if not isinstance(cells, list):
                    return None
                found[int(number)] = row_as_received(headers, cells, len(headers))
    except ValueError:
        return None
    return found if numbers.issubset(found) else None


def received_rows(
    settings: Settings, form: Form, period: Period | str, wanted: Iterable[tuple[str, str, int, str]]
) -> dict[tuple[str, int], str]:
    """The rows as received (``{header: cell}`` JSON, as :func:`row_as_received`) of ``wanted``
    ``(file_sha256, file_name, source_row, raw_path)`` of the delivery folder ``period``, read back from
    the raw zone, each file once. ``raw_path`` is the location recorded at ingest
    (``etl_file_log.raw_path``; empty: the raw zone's path under today's settings). The file is read
    under :meth:`IngestLimits.for_accepted_file` after its sha256 is checked. A file no longer in the
    raw zone gives :func:`gone_from_raw_zone` for its rows; any other failure raises
    :class:`ReadBackFailed`."""
    by_file: dict[tuple[str, str, str], set[int]] = {}
    for sha, name, source_row, raw_path in wanted:
        by_file.setdefault((sha, name, raw_path or ""), set()).add(int(source_row))
    if not by_file:
        return {}
    limits = IngestLimits.from_settings(settings).for_accepted_file().for_columns(len(form.fields))
    store = store_of(settings)
    out: dict[tuple[str, int], str] = {}
    for (sha, name, raw_path), numbers in by_file.items():
        path = (
            at_location(store, raw_path)
            if raw_path
            else store.raw_file(form.name, str(period), sha, raw_zone_name(name))
        )
        where = f"{form.name}/{period}/{name}"
        try:
            data = read_bytes(path)
        except FileNotFoundError:
            log.warning("%s: the raw file %s is gone; its rows as received are marked", where, location(path))
            out.update({(sha, n): gone_from_raw_zone(location(path)) for n in numbers})
            continue
        except Exception as exc:  # the store unreachable, permissions ...: retry rather than lose the cells
            raise ReadBackFailed(
                log_line(f"{where}: 原始文件无法读回 / cannot read back {location(path)}: {type(exc).__name__}: {exc}")
            ) from exc
        if sha256_of(data) != sha:
            raise ReadBackFailed(log_line(f"{where}: 原始文件已被改动 / {location(path)} no longer has sha256 {sha}"))
        kept = _kept_rows_as_received(path, sha, numbers) if is_workbook(name) else None
        if kept is not None:  # a workbook's rows, kept at ingest: openpyxl need not parse it again
            out.update({(sha, n): row for n, row in kept.items()})
            continue
        try:
            table = readers.read_delivery_bytes(Path(name), data, limits, only_rows=numbers)
        except (UnreadableFile, MemoryError) as exc:
            raise ReadBackFailed(
                log_line(f"{where}: 原始文件无法读回 / cannot read back {location(path)}: {exc}")
            ) from exc
        del data
        width = len(table.headers)
        rows = table.rows  # a columnar table's rows are built at each reading of ``rows``: once here
        for source_row, cells in rows:
            if source_row in numbers:
                out[(sha, source_row)] = row_as_received(table.headers, cells, width)
        missing = sorted(numbers.difference(n for n, _ in rows))
        if missing:
            raise ReadBackFailed(
                log_line(f"{where}: 原始文件中没有第 {missing[0]} 行 / {location(path)} has no row {missing[0]}")
            )
    return out


def fill_received(settings: Settings, form: Form, period: Period | str, frame: Any, positions: Any) -> None:
    """Fill, in place, the empty ``raw_json`` of ``frame``'s rows at ``positions`` (row positions, not
    index labels) from the raw zone (:func:`received_rows`); rows staged with their JSON keep it.
    ``frame`` has ``file_sha256``, ``file_name``, ``source_row``, ``raw_json`` and, from
    ``staged_rows.sql``, ``raw_path`` (the file's location recorded at ingest)."""
    if "raw_json" not in frame or not len(positions):
        return
    raw = frame["raw_json"].to_numpy(dtype=object)
    need = sorted({int(p) for p in positions if not (isinstance(raw[p], str) and raw[p])})
    if not need:
        return
    # the file columns of the rows to fill only: a Python object per cell of the needed rows, not of the
    # period's (a 1M-row month: about 400 MB of sha256s, names and paths for some ten thousand rows;
    # docs/performance.md, item 18)
    shas = frame["file_sha256"].iloc[need].to_numpy(dtype=object)
    names = frame["file_name"].iloc[need].to_numpy(dtype=object)  # its suffix says how to read the file
    paths = frame["raw_path"].iloc[need].to_numpy(dtype=object) if "raw_path" in frame else [""] * len(need)
    numbers = frame["source_row"].iloc[need].to_numpy()
    found = received_rows(
        settings,
        form,
        period,
        ((shas[i], names[i], numbers[i], paths[i] if isinstance(paths[i], str) else "") for i in range(len(need))),
    )
    for i, p in enumerate(need):
        raw[p] = found[(shas[i], int(numbers[i]))]
    frame["raw_json"] = raw


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def log_line(text: str, limit: int = 600) -> str:
    """A message as the file log and the task log keep it: one line, no NUL, at most ``limit`` characters."""
    text = " ".join(text.replace("\x00", "\\x00").split())
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates from odd names
    return text if len(text) <= limit else text[: limit - 1] + "…"


def raw_zone_name(name: str, max_bytes: int = 200) -> str:
    """``name`` as a raw-zone file name: unchanged, unless its shown form (non-UTF-8 bytes written as
    ``\\xNN`` are four times longer) would pass the file system's 255-byte limit; then its stem is cut
    and ``…`` marks the cut (the suffix stays; the sha256 folder keeps it unique)."""
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix, dot = name, "", ""
    while len((stem + "…" + dot + suffix).encode("utf-8")) > max_bytes:
        stem = stem[:-1]
    return stem + "…" + dot + suffix


def keep_in_raw_zone(
    settings: Settings, form: Form, period: Period, name: str, received: ReceivedFile | bytes, sha: str
) -> Path:
    """Keep the bytes that were hashed, unchanged, at ``raw/<form>/<period>/<sha256>/<name>`` (written
    aside then moved into place; never overwritten). The bytes, not the path, are written: a file still
    being copied into the landing folder cannot end up in the raw zone under another content's hash. A
    file too large to read was copied while it was hashed (in the task's scratch folder); that copy is
    published to the store. The raw zone is in the store (:mod:`techreform.store`)."""
    if isinstance(received, bytes):
        received = ReceivedFile(sha, len(received), data=received)
    target = store_of(settings).raw_file(form.name, str(period), sha, raw_zone_name(name))
    if exists(target):
        if received.spooled is not None:
            received.spooled.unlink(missing_ok=True)
        return target
    if received.spooled is not None:
        put_file(target, received.spooled)
    else:
        write_bytes(target, received.data or b"")
    return target


def ingest_form_period(engine: Engine, settings: Settings, form: Form, period: Period) -> IngestSummary:
    """Ingest every new file of ``landing/<form>/<period>/``; files already logged are left as they are.

    Each file is isolated: whatever goes wrong reading, parsing or staging it (a limit, a broken
    workbook, a database error, memory) rejects that file with one line naming it, logged in
    ``etl_file_log`` by its sha256, so the rest of the delivery goes on and a rerun skips it. Entries
    that are not regular files are refused unread and recorded in ``etl_refused_entry``."""
    summary = IngestSummary(form.code, str(period))
    limits = IngestLimits.from_settings(settings).for_columns(len(form.fields))
    with engine.connect() as conn:
        known = {
            row.file_sha256: row
            for row in query(conn, "staging/files/file_log_for_period", form=form.code, period=str(period))
        }
    listing = scan_delivery_folder(delivery_folder(settings, form, period))
    for entry in listing.refused:
        summary.files.append(_refuse(engine, form, period, entry, entry.refusal))
    # a too-large file is hashed into this task's scratch folder, then published to the raw zone
    with scratch_dir("techreform-spool-") as spool:  # removed afterwards, whatever happens
        for entry in listing.files:
            try:
                received = receive_file(entry.path, limits.max_file_bytes, spool)
            except NotARegularFile as exc:  # became a link or a special file after the listing
                refused = LandingEntry(entry.path, entry.name, "symlink" if exc.errno else "other")
                summary.files.append(_refuse(engine, form, period, refused, f"{entry.name} {exc.strerror}"))
                continue
            except OSError as exc:  # permission denied, I/O error ...: nothing was read, no sha256 to log it by
                unreadable = LandingEntry(entry.path, entry.name, "unreadable")
                summary.files.append(
                    _refuse(
                        engine,
                        form,
                        period,
                        unreadable,
                        f"{entry.name} 无法打开，未读取 / cannot be opened ({exc.strerror or type(exc).__name__})",
                    )
                )
                continue
            sha = received.sha256
            if sha in known:
                if received.spooled is not None:
                    received.spooled.unlink(missing_ok=True)
                row = known[sha]
                summary.files.append(FileOutcome(entry.name, sha, "unchanged", row.rows_received, message=row.message))
                continue
            outcome = _ingest_file(engine, settings, form, period, entry.name, received, limits)
            known[sha] = outcome  # the same bytes twice in one folder count once
            summary.files.append(outcome)
            if outcome.status == "rejected":
                log.error("%s", outcome.message)
    return summary


def _refuse(engine: Engine, form: Form, period: Period, entry: LandingEntry, reason: str) -> FileOutcome:
    """Record an entry refused unread (once per name and kind) and log one line naming it."""
    message = log_line(f"{form.name}/{period}/{reason}")
    log.error("%s", message)
    with engine.begin() as conn:
        seen = {
            (r.entry_name, r.kind)
            for r in query(conn, "staging/files/refused_entries_for_period", form=form.code, period=str(period))
        }
        if (entry.name, entry.kind) not in seen:
            insert_rows(
                conn,
                "etl_refused_entry",
                [
                    {
                        "form": form.code,
                        "period": str(period),
                        "entry_name": entry.name,
                        "kind": entry.kind,
                        "first_seen_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                        "message": message,
                    }
                ],
            )
    return FileOutcome(entry.name, "", "refused", message=message)


STAGE_CHUNK_ROWS = 50_000
"""Rows parsed and staged at a time within one file's transaction (bounded memory; docs/performance.md)."""


class _ParseFailed(Exception):
    """A slice of a file failed to parse while it was being staged: the file is rejected with ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _read(name: str, received: ReceivedFile, limits: IngestLimits) -> RawTable:
    if received.data is None:
        raise UnreadableFile(
            f"文件有 {received.size} 字节，超过上限 {limits.max_file_bytes} 字节，未读取 / the file "
            f"has {received.size} bytes, more than ingest.max_file_bytes = {limits.max_file_bytes}"
        )
    return read_delivery_bytes(Path(name), received.data, limits)


def _parse_failure(where: str, exc: BaseException) -> str:
    if isinstance(exc, UnreadableFile):
        return log_line(f"{where}: {exc}")
    if isinstance(exc, MemoryError):
        return log_line(
            f"{where}: 读取时内存不足，请拆分文件后重新报送 / out of memory while reading the file; deliver it in parts"
        )
    log.error("%s: unexpected failure while reading", where, exc_info=exc)
    return log_line(f"{where}: 无法读取 / cannot read the file ({type(exc).__name__}: {exc})")


def _guarded(chunks: Iterator[ParsedFile], where: str) -> Iterator[ParsedFile]:
    """The slices of ``chunks``; a failure while parsing one becomes :class:`_ParseFailed`."""
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except Exception as exc:  # this file only (MemoryError included)
            raise _ParseFailed(_parse_failure(where, exc)) from exc
        yield chunk


def _ingest_file(
    engine: Engine,
    settings: Settings,
    form: Form,
    period: Period,
    name: str,
    received: ReceivedFile,
    limits: IngestLimits,
) -> FileOutcome:
    """Read one file, then parse and stage it slice by slice (:data:`STAGE_CHUNK_ROWS`) in one
    transaction with its log row."""
    sha = received.sha256
    raw_path = keep_in_raw_zone(settings, form, period, name, received, sha)
    outcome = FileOutcome(name, sha, "loaded")
    encoding: str | None = None
    chunks: Iterator[ParsedFile] | None = None
    where = f"{form.name}/{period}/{name}"
    try:
        table = _read(name, received, limits)
        encoding = table.encoding
        received.data = None  # the bytes are in the raw zone; free them before parsing
        parts = parse_table_chunks(form, table, period, STAGE_CHUNK_ROWS)
        first = next(parts)  # the header's check and the first slice
        outcome.extra_columns = first.extra_columns
        outcome.rows_received = len(table)
        # the table's cells as read stay in memory until the last slice is staged (``parts`` holds the
        # table); what the slices bound is the parsed rows: one slice's row dicts at a time
        chunks = _guarded(itertools.chain([first], parts), where)
    except Exception as exc:  # unreadable, a limit, memory, a reader failure: this file only
        chunks = None
        outcome.status, outcome.message = "rejected", _parse_failure(where, exc)
    received.data = None
    log_row = {
        "form": form.code,
        "period": str(period),
        "file_sha256": sha,
        "file_name": name,
        "raw_path": location(raw_path),
        "bytes": received.size,
        "encoding": encoding,
    }
    try:
        _stage(engine, form, period, log_row, outcome, chunks)
    except sa.exc.IntegrityError:
        raise  # two runs racing for the same period: fail loudly (see etl_file_log's keys)
    except _ParseFailed as exc:  # a slice failed to parse: nothing of the file was kept; reject it
        outcome = FileOutcome(name, sha, "rejected", message=exc.message)
        _stage(engine, form, period, log_row, outcome, None)
    except Exception as exc:  # the database refused a value of this file: reject it, keep the others
        log.exception("%s: staging failed", where)
        outcome = FileOutcome(
            name,
            sha,
            "rejected",
            message=log_line(
                f"{where}: 无法写入暂存表 / staging failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
            ),
        )
        _stage(engine, form, period, log_row, outcome, None)
    if outcome.status == "loaded" and is_workbook(name):
        keep_rows_as_received(raw_path, table, sha)
    return outcome


def _stage(
    engine: Engine,
    form: Form,
    period: Period,
    log_row: dict[str, Any],
    outcome: FileOutcome,
    chunks: Iterable[ParsedFile] | None,
) -> None:
    """Log one file and stage its rows, slice by slice, in one transaction: in the warehouse whole or
    not at all. ``outcome``'s staged and unparsed counts are completed here.

    On SQLite the slices are first parsed into the connection's own TEMP tables
    (``staging/files/aside_tables.sqlite.sql``), and the file's one transaction then logs it and copies
    them in (``staged_from_aside``, ``parse_errors_from_aside``): SQLite has one write lock per database,
    held from a transaction's first write to its commit, and a file parsed inside it kept every other
    writer waiting for the whole parse (the enterprises' ingest waiting for the register's; docs/
    performance.md, round 20). PostgreSQL's writers do not wait for each other: there the slices go
    straight to the staging table."""
    if chunks is not None and engine.dialect.name == "sqlite":
        _stage_aside(engine, form, period, log_row, outcome, chunks)
        return
    with engine.begin() as conn:
        delivery_seq = _log_file(conn, form, period, log_row, outcome)
        if chunks is None:
            return
        common = {"delivery_period": str(period), "file_sha256": outcome.sha256, "delivery_seq": delivery_seq}
        with produced_ahead(chunks, name="parse") as slices:  # the next slice parsed while this one is copied
            for parsed in slices:
                _insert_slice(conn, form, parsed, common, outcome, (form.staging_table, "stg_parse_error"))


STAGED_COLUMNS = ("delivery_period", "file_sha256", "source_row", "delivery_seq", "raw_json")
"""The columns of every staging table before the form's fields."""
PARSE_ERROR_COLUMNS = (
    "form",
    "delivery_period",
    "file_sha256",
    "source_row",
    "delivery_seq",
    "record_key",
    "raw_json",
    "fields",
    "messages",
)
"""The columns of ``stg_parse_error`` a slice's rows that did not parse fill."""
STAGED_ASIDE = ("staged_aside", "parse_errors_aside")
"""Where a slice goes on SQLite before the file's transaction (its rows, its rows that did not parse): the
TEMP tables of ``aside_tables.sqlite.sql``; elsewhere, the form's staging table and ``stg_parse_error``."""


def _log_file(conn: Connection, form: Form, period: Period, log_row: dict[str, Any], outcome: FileOutcome) -> int:
    """Log the file (``etl_file_log``) as the next delivery of its form and period; its ``delivery_seq``."""
    delivery_seq = query(conn, "staging/files/next_delivery_seq", form=form.code, period=str(period)).scalar_one()
    insert_rows(
        conn,
        "etl_file_log",
        [
            {
                **log_row,
                "received_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                "delivery_seq": delivery_seq,
                "status": outcome.status,
                "rows_received": outcome.rows_received,
                "extra_columns": ",".join(outcome.extra_columns),
                "message": outcome.message,
            }
        ],
    )
    return int(delivery_seq)


def _insert_slice(
    conn: Connection,
    form: Form,
    parsed: ParsedFile,
    common: dict[str, Any],
    outcome: FileOutcome,
    into: tuple[str, str],
) -> None:
    """Insert one parsed slice of a file — its staged rows and its rows that did not parse, with the
    file's ``common`` values — into ``into`` (the staging table and ``stg_parse_error``, or on SQLite first
    :data:`STAGED_ASIDE`), and count them in ``outcome``."""
    staging_table, errors_table = into
    staged_columns = [*STAGED_COLUMNS, *form.field_names]
    insert_columns(
        conn,
        staging_table,
        staged_columns,
        parsed.staged_columns(staged_columns, {**common, "raw_json": ""}),
    )
    insert_rows(
        conn,
        errors_table,
        [{**common, "form": form.code, **row} for row in parsed.unparsed],
        columns=list(PARSE_ERROR_COLUMNS),
    )
    outcome.rows_staged += parsed.rows_staged
    outcome.rows_unparsed += len(parsed.unparsed)


def _stage_aside(
    engine: Engine,
    form: Form,
    period: Period,
    log_row: dict[str, Any],
    outcome: FileOutcome,
    chunks: Iterable[ParsedFile],
) -> None:
    """SQLite: parse ``chunks`` into the connection's TEMP tables (no lock on the warehouse), then log the
    file and copy its rows into the staging tables in one transaction (see :func:`_stage`). The TEMP
    tables are dropped whatever happens; a failure while parsing leaves nothing of the file."""
    tables = {"staging_table": form.staging_table}
    with engine.connect() as conn:  # one connection: the TEMP tables are its own
        try:
            with conn.begin():
                run_script(conn, "staging/files/aside_tables", tables=tables)
            with conn.begin():  # writes the TEMP database only
                common = {"delivery_period": str(period), "file_sha256": outcome.sha256, "delivery_seq": 0}
                for parsed in chunks:
                    _insert_slice(conn, form, parsed, common, outcome, STAGED_ASIDE)
            with conn.begin():  # the file's one transaction on the warehouse
                delivery_seq = _log_file(conn, form, period, log_row, outcome)
                staged = [c for c in (*STAGED_COLUMNS, *form.field_names) if c != "delivery_seq"]
                query(
                    conn,
                    "staging/files/staged_from_aside",
                    tables={**tables, "columns": staged},
                    delivery_seq=delivery_seq,
                )
                query(
                    conn,
                    "staging/files/parse_errors_from_aside",
                    tables={"columns": [c for c in PARSE_ERROR_COLUMNS if c != "delivery_seq"]},
                    delivery_seq=delivery_seq,
                )
        finally:
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                run_script(conn, "staging/files/drop_aside_tables")
