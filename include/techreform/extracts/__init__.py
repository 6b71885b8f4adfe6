"""Validated extracts for the statistics bureau (统计局), with revisions and disclosure control.

``extracts/<YYYY-MM>/r<N>/`` holds the period's tables (:mod:`.tables`) as Parquet and CSV, one XLSX
workbook (:mod:`.writers`), the public tables with disclosure control in ``public/``
(:mod:`.disclosure`), and ``manifest.json`` (:mod:`.revisions`), delivered complete or not at all to
a local folder or any fsspec store (:mod:`.delivery`); the bureau is told by e-mail (:mod:`.notify`).
See docs/extracts.md.

Modules, one job each: ``options`` (settings), ``tables`` (definitions and queries), ``writers``
(Parquet/CSV/XLSX bytes, content digests), ``disclosure`` (suppression), ``revisions`` (changes and
manifest), ``delivery`` (the store), ``notify`` (the e-mail)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from sqlalchemy.engine import Engine

import techreform
from techreform.config import Settings
from techreform.extracts.delivery import MANIFEST, Store
from techreform.extracts.disclosure import build_public
from techreform.extracts.options import ExtractOptions
from techreform.extracts.revisions import build_manifest, overall_digest, previous_frame, table_changes
from techreform.extracts.tables import PUBLIC_TABLE, TABLES, PeriodNotReady, build_tables, check_ready, typed
from techreform.extracts.writers import content_digest, csv_bytes, parquet_bytes, xlsx_bytes
from techreform.periods import Period
from techreform.store import exists, read_bytes
from techreform.warehouse import execute

__all__ = ["extract_period", "PeriodNotReady", "ExtractOptions", "Store"]

log = logging.getLogger(__name__)
WORKBOOK = "extract.xlsx"
PUBLIC_DIR = "public"
REPORT_DIR = "report"


def extract_period(
    engine: Engine, settings: Settings, period: Period | str, *, smtp: Any = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Write the period's extract as a new revision if its content changed (else nothing), then notify
    the bureau of the latest revision if it has not been told yet. Returns a small summary (XCom)."""
    period = Period.parse(period)
    key = str(period)
    options = ExtractOptions.from_settings(settings)
    store = Store(options.url, options.storage_options)
    with engine.connect() as conn:
        check_ready(conn, period)
        tables = build_tables(conn, period)
        public, suppression = build_public(conn, period, options)
    specs = {spec.name: spec for spec in TABLES}
    frames = dict(tables)
    public_name = f"{PUBLIC_DIR}/{PUBLIC_TABLE.name}"
    specs[public_name] = PUBLIC_TABLE
    frames[public_name] = typed(PUBLIC_TABLE, public)
    digests = {name: content_digest(specs[name], frame) for name, frame in frames.items()}
    report = report_files(settings, period)
    content = overall_digest({**digests, **{name: hashlib.sha256(data).hexdigest() for name, data in report.items()}})

    existing = store.revisions(key)
    latest = existing[-1] if existing else None
    if latest is not None:
        manifest = store.read_manifest(key, latest)
        if manifest.get("content_sha256") == content:
            log.info("%s: content unchanged since r%d, nothing written", key, latest)
            result = {"period": key, "revision": latest, "written": False, "location": store.location(key, latest)}
            result.update(_record_and_notify(engine, settings, options, store, key, latest, smtp))
            return result

    revision = (latest or 0) + 1
    files: dict[str, bytes] = {}
    rows: dict[str, int] = {}
    for name, frame in frames.items():
        for suffix, data in (("parquet", parquet_bytes(specs[name], frame)), ("csv", csv_bytes(specs[name], frame))):
            files[f"{name}.{suffix}"] = data
            rows[f"{name}.{suffix}"] = len(frame)
    files[WORKBOOK] = xlsx_bytes((specs[t.name], frames[t.name]) for t in TABLES)
    rows[WORKBOOK] = sum(len(frames[t.name]) for t in TABLES)
    files[f"{PUBLIC_DIR}/{PUBLIC_TABLE.name}.xlsx"] = xlsx_bytes([(PUBLIC_TABLE, frames[public_name])])
    rows[f"{PUBLIC_DIR}/{PUBLIC_TABLE.name}.xlsx"] = len(frames[public_name])
    files.update(report)  # the monthly analysis report (统计监测月报): a document, no rows

    changes = {}
    for name, frame in frames.items():
        before = previous_frame(store, key, latest, f"{name}.parquet") if latest is not None else None
        changes[name] = table_changes(specs[name], before, frame) if latest is not None else {"added": len(frame)}
    table_info = {
        name: {
            "rows": len(frame),
            "key": list(specs[name].key),
            "content_sha256": digests[name],
            "files": [f"{name}.parquet", f"{name}.csv"],
        }
        for name, frame in frames.items()
    }
    created = now or dt.datetime.now(dt.UTC)
    manifest_bytes = build_manifest(
        period=key,
        revision=revision,
        created_at=created,
        pipeline_version=techreform.__version__,
        files=files,
        rows=rows,
        tables=table_info,
        content_sha256=content,
        previous=latest,
        changes=changes,
        disclosure={
            "min_enterprises": options.min_enterprises,
            "dominance_top": options.dominance_top,
            "dominance_share": options.dominance_share,
            "protection_ratio": options.protection_ratio,
            "suppressed": suppression,
        },
        location=store.location(key, revision),
    )
    files[MANIFEST] = manifest_bytes
    location = store.publish(key, revision, files)
    log.info("%s: extract r%d written to %s", key, revision, location)
    result = {
        "period": key,
        "revision": revision,
        "written": True,
        "location": location,
        "changes": {n: {k: c.get(k, 0) for k in ("added", "removed", "changed")} for n, c in changes.items()},
    }
    result.update(_record_and_notify(engine, settings, options, store, key, revision, smtp))
    return result


def report_files(settings: Settings, period: Period) -> dict[str, bytes]:
    """The period's monthly analysis report (``report/monthly_report_<YYYY-MM>.pdf`` and ``.html``) as
    written by the step ``monthly_report``; none when it was not written. Part of the content digest, so a
    changed report makes a new revision."""
    from techreform.report import report_paths

    out = {}
    for path in report_paths(settings, period):
        if exists(path):
            out[f"{REPORT_DIR}/{path.name}"] = read_bytes(path)
    return out


def _record_and_notify(
    engine: Engine, settings: Settings, options: ExtractOptions, store: Store, period: str, revision: int, smtp: Any
) -> dict[str, Any]:
    """Record the revision in ``ext_revision`` and e-mail the bureau about it (once)."""
    from techreform.extracts.notify import notify_bureau

    raw = store.read_bytes(period, revision, MANIFEST)
    manifest = json.loads(raw)
    manifest_sha256 = hashlib.sha256(raw).hexdigest()
    with engine.begin() as conn:
        params = {
            "period": period,
            "revision": revision,
            "location": store.location(period, revision),
            "content_sha256": manifest["content_sha256"],
            "manifest_sha256": manifest_sha256,
            "created_at": manifest["created_at"],
        }
        execute(conn, "ops/extracts/delete_revision_record", params)
        execute(conn, "ops/extracts/record_revision", params)
    notified = notify_bureau(engine, settings, options, manifest, manifest_sha256, smtp)
    return {"manifest_sha256": manifest_sha256, **notified}
