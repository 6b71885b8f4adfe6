"""Resource limits of ingestion (接收限额): how large a delivered file may be before it is refused unread.

A hostile or broken file must never take the pipeline's memory or time: every limit is checked before
the part it guards is read (the file's size from ``fstat``, an XLSX's uncompressed sizes from its zip
directory) or while streaming (cells, columns, characters per cell), and a file past a limit is rejected
as a whole with a message naming the limit. Defaults fit the largest real delivery with a wide margin;
a deployment changes them in the ``ingest`` section of ``TECHREFORM_CONFIG_FILE``
(:class:`techreform.options.IngestOptions`, listed in ``docs/configuration.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from techreform.config import Settings
from techreform.options import IngestOptions

#: Columns a reader accepts when no form is known (explanations and other side files).
DEFAULT_MAX_COLUMNS = 64
#: A limit no file reaches (see :meth:`IngestLimits.for_accepted_file`).
_NO_LIMIT = 1 << 62


@dataclass(frozen=True)
class IngestLimits(IngestOptions):
    """The limits one file is read under: the ``ingest`` options and the columns of its form."""

    max_columns: int = DEFAULT_MAX_COLUMNS
    """Columns of a row; set from the form (:meth:`for_columns`), not from the configuration."""

    @classmethod
    def from_settings(cls, settings: Settings | None) -> IngestLimits:
        """The ``ingest`` options of the configuration (the defaults without settings)."""
        options = settings.options_for(IngestOptions) if settings is not None else IngestOptions()
        return cls(**{f.name: getattr(options, f.name) for f in fields(IngestOptions)})

    def for_accepted_file(self) -> IngestLimits:
        """These limits for reading back a file the raw zone kept when it was accepted (its sha256
        checked against the one recorded): the limits of size (bytes, cells, characters of a cell, an
        XLSX's uncompressed sizes) are lifted — the file passed those in force at ingest, today's may be
        lower, and they would only refuse a file already in the warehouse (its memory stays bounded by
        the limits it passed). The limit of columns is kept at the larger of today's and the default (a
        reader's work per row depends on it); a file it refuses fails the read-back loudly
        (``docs/performance.md``, the row as received)."""
        lifted = {
            name: _NO_LIMIT
            for name in (
                "max_file_bytes",
                "max_cells",
                "max_cell_chars",
                "max_xlsx_uncompressed_bytes",
                "max_xlsx_compression_ratio",
                "max_xlsx_shared_strings_bytes",
            )
        }
        return replace(self, extra_columns=max(self.extra_columns, IngestOptions.extra_columns), **lifted)

    def for_columns(self, form_columns: int) -> IngestLimits:
        """These limits for a form of ``form_columns`` fields: at most that many plus the margin."""
        return replace(self, max_columns=form_columns + self.extra_columns)
