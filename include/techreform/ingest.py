"""Ingestion (接收): landing folder → raw zone → file log → staging, for one form and report period.

- Every file found under ``landing/<form>/<YYYY-MM>/`` is kept unchanged in the raw zone with its sha256.
- The same bytes delivered again change nothing: a file whose sha256 is already logged for the form and
  period is skipped.
- A file that cannot be used (unreadable, empty, a required column missing) is rejected as a whole with a
  message naming the file and the column; the other files go on. A file with the header and no rows is a
  valid delivery of nothing (a prefecture with no project to report that month).
- Rows whose cells do not parse are kept in ``stg_parse_error`` with the field and the reason (rule
  ``<CODE>-H00``); the load step quarantines them. Rows that parse go to ``stg_<form>``, typed.
- Each new file is staged in one transaction with its log row: it is in the warehouse whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from techreform.cells import CellError, parse_cell
from techreform.config import Settings
from techreform.files import write_bytes
from techreform.forms import Form
from techreform.periods import Period
from techreform.readers import SUPPORTED_SUFFIXES, RawTable, UnreadableFile, normalise_header, read_delivery_bytes
from techreform.warehouse import insert_rows, query

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
    status: str  # loaded | rejected | unchanged
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

    @property
    def new_files(self) -> int:
        return sum(1 for f in self.files if f.status != "unchanged")

    def as_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "period": self.period,
            "files": [f.__dict__ for f in self.files],
        }


@dataclass
class ParsedFile:
    """The result of parsing one file against its form: staged rows and rows that did not parse."""

    extra_columns: list[str]
    staged: list[dict[str, Any]]
    unparsed: list[dict[str, Any]]
    rows_received: int


def delivery_folder(settings: Settings, form: Form, period: Period) -> Path:
    return settings.landing_dir / form.name / str(period)


def delivered_files(settings: Settings, form: Form, period: Period) -> list[Path]:
    """Files of a delivery folder in arrival order (modification time, then name); hidden and Office lock
    files are not deliveries."""
    folder = delivery_folder(settings, form, period)
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


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


def parse_table(form: Form, table: RawTable) -> ParsedFile:
    """Map headers and parse every row; raises :class:`UnreadableFile` when the file cannot be used."""
    mapping, extras, problems = map_headers(form, table.headers)
    if problems:
        raise UnreadableFile("；".join(problems))
    key_field = form.key[0]
    staged: list[dict[str, Any]] = []
    unparsed: list[dict[str, Any]] = []
    for source_row, cells in table.rows:
        as_received = {
            table.headers[i]: _cell_as_received(cells[i]) if i < len(cells) else None
            for i in range(len(table.headers))
            if table.headers[i]
        }
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        for index, name in mapping.items():
            raw = cells[index] if index < len(cells) else None
            try:
                values[name] = parse_cell(form.field(name), raw)
            except CellError as exc:
                errors.append((name, exc.reason))
        raw_json = json.dumps(as_received, ensure_ascii=False, default=str)
        if errors:
            key = values.get(key_field)
            unparsed.append({
                "source_row": source_row,
                "record_key": "" if key is None else str(key),
                "raw_json": raw_json,
                "fields": ",".join(name for name, _ in errors),
                "messages": "；".join(f"{form.field(name).label}：{reason}" for name, reason in errors),
            })
        else:
            values.update({"source_row": source_row, "raw_json": raw_json})
            staged.append(values)
    return ParsedFile(extras, staged, unparsed, len(table.rows))


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def keep_in_raw_zone(settings: Settings, form: Form, period: Period, path: Path, data: bytes, sha: str) -> Path:
    """Keep the bytes that were hashed, unchanged, at ``raw/<form>/<period>/<sha256>/<name>`` (written
    aside then moved into place; never overwritten). The bytes, not the path, are written: a file still
    being copied into the landing folder cannot end up in the raw zone under another content's hash."""
    target = settings.raw_dir / form.name / str(period) / sha / path.name
    if not target.exists():
        write_bytes(target, data)
    return target


def ingest_form_period(engine: Engine, settings: Settings, form: Form, period: Period) -> IngestSummary:
    """Ingest every new file of ``landing/<form>/<period>/``; files already logged are left as they are."""
    summary = IngestSummary(form.code, str(period))
    with engine.connect() as conn:
        known = {
            row.file_sha256: row
            for row in query(conn, "ingest/file_log_for_period", form=form.code, period=str(period))
        }
    for path in delivered_files(settings, form, period):
        data = path.read_bytes()
        sha = sha256_of(data)
        if sha in known:
            row = known[sha]
            summary.files.append(FileOutcome(path.name, sha, "unchanged", row.rows_received, message=row.message))
            continue
        outcome = _ingest_file(engine, settings, form, period, path, data, sha)
        known[sha] = outcome  # the same bytes twice in one folder count once
        summary.files.append(outcome)
        if outcome.status == "rejected":
            log.error("%s/%s/%s rejected: %s", form.name, period, path.name, outcome.message)
    return summary


def _ingest_file(engine: Engine, settings: Settings, form: Form, period: Period, path: Path, data: bytes,
                 sha: str) -> FileOutcome:
    raw_path = keep_in_raw_zone(settings, form, period, path, data, sha)
    outcome = FileOutcome(path.name, sha, "loaded")
    encoding = None
    parsed: ParsedFile | None = None
    try:
        table = read_delivery_bytes(path, data)
        encoding = table.encoding
        parsed = parse_table(form, table)
    except UnreadableFile as exc:
        outcome.status = "rejected"
        outcome.message = f"{form.name}/{period}/{path.name}: {exc}"
    if parsed is not None:
        outcome.rows_received = parsed.rows_received
        outcome.rows_staged = len(parsed.staged)
        outcome.rows_unparsed = len(parsed.unparsed)
        outcome.extra_columns = parsed.extra_columns
    with engine.begin() as conn:
        delivery_seq = query(conn, "ingest/next_delivery_seq", form=form.code, period=str(period)).scalar_one()
        insert_rows(conn, "etl_file_log", [{
            "form": form.code,
            "period": str(period),
            "file_sha256": sha,
            "file_name": path.name,
            "raw_path": str(raw_path),
            "bytes": len(data),
            "received_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "delivery_seq": delivery_seq,
            "encoding": encoding,
            "status": outcome.status,
            "rows_received": outcome.rows_received,
            "extra_columns": ",".join(outcome.extra_columns),
            "message": outcome.message,
        }])
        if parsed is not None:
            common = {"delivery_period": str(period), "file_sha256": sha, "delivery_seq": delivery_seq}
            insert_rows(conn, form.staging_table, [{**common, **row} for row in parsed.staged],
                        columns=["delivery_period", "file_sha256", "source_row", "delivery_seq", "raw_json",
                                 *form.field_names])
            insert_rows(conn, "stg_parse_error", [{**common, "form": form.code, **row} for row in parsed.unparsed],
                        columns=["form", "delivery_period", "file_sha256", "source_row", "delivery_seq",
                                 "record_key", "raw_json", "fields", "messages"])
    return outcome
