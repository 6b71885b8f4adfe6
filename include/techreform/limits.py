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

    def for_columns(self, form_columns: int) -> IngestLimits:
        """These limits for a form of ``form_columns`` fields: at most that many plus the margin."""
        return replace(self, max_columns=form_columns + self.extra_columns)
