"""Resource limits of ingestion (接收限额): how large a delivered file may be before it is refused unread.

A hostile or broken file must never take the pipeline's memory or time: every limit is checked before
the part it guards is read (the file's size from ``fstat``, an XLSX's uncompressed sizes from its zip
directory) or while streaming (cells, columns, characters per cell), and a file past a limit is rejected
as a whole with a message naming the limit. Defaults fit the largest real delivery with a wide margin;
a deployment changes them in the ``ingest`` section of ``TECHREFORM_CONFIG_FILE``:

| key | default | what |
|---|---|---|
| ``max_file_bytes`` | 50 000 000 | bytes of one delivered file (checked before reading) |
| ``max_cells`` | 500 000 | cells of one file, header included (rows × columns as read) |
| ``extra_columns`` | 20 | columns a file may have beyond its form's fields (extra columns are reported) |
| ``max_cell_chars`` | 10 000 | characters of one cell |
| ``max_xlsx_uncompressed_bytes`` | 100 000 000 | sum of the uncompressed sizes in an XLSX's zip directory |
| ``max_xlsx_compression_ratio`` | 100 | uncompressed ÷ compressed size of any XLSX member over 1 MB |
| ``max_xlsx_shared_strings_bytes`` | 20 000 000 | uncompressed size of an XLSX's shared-strings table (read whole) |
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from techreform.config import Settings

#: Columns a reader accepts when no form is known (explanations and other side files).
DEFAULT_MAX_COLUMNS = 64


@dataclass(frozen=True)
class IngestLimits:
    """The limits one file is read under; see the module's table."""

    max_file_bytes: int = 50_000_000
    max_cells: int = 500_000
    extra_columns: int = 20
    max_cell_chars: int = 10_000
    max_xlsx_uncompressed_bytes: int = 100_000_000
    max_xlsx_compression_ratio: int = 100
    max_xlsx_shared_strings_bytes: int = 20_000_000
    max_columns: int = DEFAULT_MAX_COLUMNS
    """Columns of a row; set from the form (:meth:`for_columns`), not from the configuration."""

    @classmethod
    def from_settings(cls, settings: Settings | None) -> IngestLimits:
        """The defaults overridden by the ``ingest`` section of the configuration (positive integers)."""
        section: dict[str, Any] = dict(settings.section("ingest")) if settings is not None else {}
        known = {f.name for f in fields(cls)} - {"max_columns"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"unknown ingest setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict[str, int] = {}
        for key, value in section.items():
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"ingest setting {key} must be a positive integer, not {value!r}")
            values[key] = value
        return cls(**values)

    def for_columns(self, form_columns: int) -> IngestLimits:
        """These limits for a form of ``form_columns`` fields: at most that many plus the margin."""
        return replace(self, max_columns=form_columns + self.extra_columns)
