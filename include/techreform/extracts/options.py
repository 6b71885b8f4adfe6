"""Settings of the extracts: where they go, the disclosure-control thresholds, the bureau's address.

From the section ``extracts`` of ``TECHREFORM_CONFIG_FILE`` (all optional)::

    {"extracts": {"url": "s3://tongjiju/techreform",
                  "storage_options": {"client_kwargs": {"endpoint_url": "https://oss.example.gov.cn"}},
                  "min_enterprises": 3, "dominance_top": 2, "dominance_share": 0.85,
                  "protection_ratio": 0.10,
                  "bureau_email": "tongji@example.gov.cn", "bureau_role": "统计局"}}

The location can also be given as ``TECHREFORM_EXTRACT_URL`` (which wins over the file); without
either it is ``outputs/extracts`` in the store (``techreform.store``, ``TECHREFORM_STORAGE_URL``): the
local ``<output dir>/extracts`` by default, ``s3://…/outputs/extracts`` on an object store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from techreform.config import Settings
from techreform.options import EmailOptions, ExtractsOptions


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
        """The section ``extracts`` (read strictly by :mod:`techreform.options`) with the location and the
        sender resolved."""
        section = settings.options_for(ExtractsOptions)
        storage_options = dict(section.storage_options)
        url = settings.extract_url or section.url
        if not url:  # the store's outputs/extracts, with the store's credentials
            from techreform.store import location, store_of

            store = store_of(settings)
            url = location(store.extracts)
            storage_options = {**store.storage_options, **storage_options}
        sender = section.sender or settings.options_for(EmailOptions).sender
        return cls(
            url=str(url).rstrip("/"),
            storage_options=storage_options,
            min_enterprises=section.min_enterprises,
            dominance_top=section.dominance_top,
            dominance_share=section.dominance_share,
            protection_ratio=section.protection_ratio,
            bureau_email=section.bureau_email,
            bureau_role=section.bureau_role,
            sender=sender,
        )
