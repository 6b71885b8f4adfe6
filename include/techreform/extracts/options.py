"""Settings of the extracts: where they go, the disclosure-control thresholds, the bureau's address.

From the section ``extracts`` of ``TECHREFORM_CONFIG_FILE`` (all optional)::

    {"extracts": {"url": "s3://tongjiju/techreform",
                  "storage_options": {"client_kwargs": {"endpoint_url": "https://oss.example.gov.cn"}},
                  "min_enterprises": 3, "dominance_top": 2, "dominance_share": 0.85,
                  "protection_ratio": 0.10,
                  "bureau_email": "tongji@example.gov.cn", "bureau_role": "统计局"}}

The location can also be given as ``TECHREFORM_EXTRACT_URL`` (which wins over the file); without
either it is ``<output dir>/extracts``, a local folder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from techreform.config import Settings


@dataclass(frozen=True)
class ExtractOptions:
    url: str
    """fsspec URL of the extracts' root: a local folder, ``s3://bucket/prefix``, ``sftp://host/path``."""
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    """Keyword arguments of the fsspec filesystem (endpoint, credentials), e.g. for an S3-compatible store."""
    min_enterprises: int = 3
    """Primary suppression: a public cell with fewer enterprises than this is suppressed."""
    dominance_top: int = 2
    dominance_share: float = 0.85
    """Primary suppression: a cell whose ``dominance_top`` largest enterprises hold more than this share."""
    protection_ratio: float = 0.10
    """Each primarily suppressed cell must stay undetermined by at least this share of its value on both
    sides (the published cells and margins allow values ≤ v·(1-p) and ≥ v·(1+p))."""
    bureau_email: tuple[str, ...] = ()
    """Addresses notified of a new revision; none configured: the S1 supervisors whose role names
    ``bureau_role``; none of those either: no e-mail."""
    bureau_role: str = "统计局"
    sender: str = "techreform@localhost.localdomain"

    @classmethod
    def from_settings(cls, settings: Settings) -> ExtractOptions:
        section = settings.section("extracts")
        url = settings.extract_url or section.get("url") or str(settings.output_dir / "extracts")
        emails = section.get("bureau_email") or ()
        if isinstance(emails, str):
            emails = tuple(e.strip() for e in emails.split(",") if e.strip())
        sender = section.get("sender") or settings.section("email").get("sender") or cls.sender
        options = cls(
            url=str(url).rstrip("/"),
            storage_options=dict(section.get("storage_options") or {}),
            min_enterprises=int(section.get("min_enterprises", cls.min_enterprises)),
            dominance_top=int(section.get("dominance_top", cls.dominance_top)),
            dominance_share=float(section.get("dominance_share", cls.dominance_share)),
            protection_ratio=float(section.get("protection_ratio", cls.protection_ratio)),
            bureau_email=tuple(emails),
            bureau_role=str(section.get("bureau_role", cls.bureau_role)),
            sender=str(sender),
        )
        if options.min_enterprises < 1 or options.dominance_top < 1 or not 0 < options.dominance_share <= 1:
            raise ValueError("extracts: min_enterprises and dominance_top must be ≥ 1 and dominance_share in (0, 1]")
        if options.protection_ratio < 0:
            raise ValueError("extracts: protection_ratio must be ≥ 0")
        return options
