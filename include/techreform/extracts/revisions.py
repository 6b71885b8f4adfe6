"""Revisions of a period's extract: is the content new, what changed since the previous revision,
and the manifest.

A revision is compared with the latest existing one by **content digests** of its tables (values in key
order, :func:`techreform.extracts.writers.content_digest`), never by file bytes: Parquet and XLSX
files embed writer versions and times. Unchanged content → nothing is written. Changed content →
revision N+1, with, per table, the keys of the rows added, removed and changed (and which columns
changed), read against the previous revision's Parquet files as delivered."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from techreform.extracts.delivery import Store
from techreform.extracts.tables import TableSpec
from techreform.extracts.writers import canonical_rows

MAX_KEYS = 1000
"""At most this many keys per kind of change are listed in a manifest (the counts are always exact)."""


def overall_digest(digests: Mapping[str, str]) -> str:
    """One digest of all tables' content digests (by table name)."""
    text = "\n".join(f"{name}:{digest}" for name, digest in sorted(digests.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def previous_frame(store: Store, period: str, revision: int, path: str) -> pd.DataFrame | None:
    """A table of an earlier revision as delivered (its Parquet file), or ``None`` if it has none."""
    try:
        data = store.read_bytes(period, revision, path)
    except FileNotFoundError:
        return None
    table = pq.read_table(io.BytesIO(data))
    return pd.DataFrame(table.to_pylist(), columns=table.column_names, dtype=object)


def table_changes(spec: TableSpec, before: pd.DataFrame | None, after: pd.DataFrame) -> dict[str, Any]:
    """Rows added, removed and changed by key (with the changed columns)."""
    new = canonical_rows(spec, after)
    if before is None or any(c not in before.columns for c in spec.column_names):
        old: dict[tuple, tuple] = {}
    else:
        old = canonical_rows(spec, before)
    added = sorted(set(new) - set(old), key=str)
    removed = sorted(set(old) - set(new), key=str)
    changed = sorted((k for k in set(new) & set(old) if new[k] != old[k]), key=str)

    def key_of(key: tuple) -> dict[str, Any]:
        return dict(zip(spec.key, key, strict=True))

    return {
        "added": len(added),
        "removed": len(removed),
        "changed": len(changed),
        "added_keys": [key_of(k) for k in added[:MAX_KEYS]],
        "removed_keys": [key_of(k) for k in removed[:MAX_KEYS]],
        "changed_rows": [
            {
                "key": key_of(k),
                "columns": [c for c, a, b in zip(spec.column_names, old[k], new[k], strict=True) if a != b],
            }
            for k in changed[:MAX_KEYS]
        ],
        "truncated": max(len(added), len(removed), len(changed)) > MAX_KEYS,
    }


def build_manifest(
    *,
    period: str,
    revision: int,
    created_at: dt.datetime,
    pipeline_version: str,
    files: Mapping[str, bytes],
    rows: Mapping[str, int],
    tables: Mapping[str, dict[str, Any]],
    content_sha256: str,
    previous: int | None,
    changes: Mapping[str, Any],
    disclosure: Mapping[str, Any],
    location: str,
) -> bytes:
    """manifest.json: period, revision, creation time, pipeline version, every file (name, rows, bytes,
    sha256), every table's content digest, and what changed since the previous revision."""
    manifest = {
        "period": period,
        "revision": revision,
        "created_at": created_at.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "pipeline": "techreform",
        "pipeline_version": pipeline_version,
        "location": location,
        "content_sha256": content_sha256,
        "tables": dict(tables),
        "files": [
            {"name": name, "rows": rows.get(name), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(files.items())
        ],
        "changes": {"since_revision": previous, "tables": dict(changes)},
        "disclosure": dict(disclosure),
    }
    return (json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")
