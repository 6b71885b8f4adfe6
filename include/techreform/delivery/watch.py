"""The landing entries not yet reviewed: what the watcher polls for and a delivery run takes.

An entry of ``landing/<form>/<YYYY-MM>/`` (a regular file, or a link or special entry that ingestion
refuses unread) is identified by (form, period, name, modification time): a file written again gets a
new modification time and is reviewed again (by its sha256, ingestion then tells new content from the
same bytes). Listed are the ``delivery.recent_periods`` newest period folders of each form (of periods begun: folders made ahead are left out); an entry is
pending until a delivery run has reviewed it and recorded it in ``dlv_landing_seen``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.forms import PROCESSING_ORDER, Form
from techreform.landing import scan_delivery_folder
from techreform.options import DeliveryOptions
from techreform.periods import Period
from techreform.store import list_folders, store_of
from techreform.warehouse import has_table, insert_rows, query


@dataclass(frozen=True)
class LandedEntry:
    """One entry of a delivery folder at one modification time."""

    form: str
    period: str
    name: str
    mtime_ns: int
    kind: str

    @property
    def key(self) -> tuple[str, str, str, int]:
        return self.form, self.period, self.name, self.mtime_ns


def recent_periods(settings: Settings, form: Form, count: int, now: dt.datetime | None = None) -> list[Period]:
    """The ``count`` newest period folders of ``form`` in the landing zone, of periods begun by ``now``
    (China time): folders made ahead for coming months are not deliveries yet and never push the
    current month out of the window."""
    current = Period.of_datetime(now or dt.datetime.now(dt.UTC))
    periods = []
    for child in list_folders(store_of(settings).landing / form.name):
        try:
            period = Period.parse(child.name)
        except ValueError:
            continue
        if period <= current:
            periods.append(period)
    return sorted(periods)[-count:] if count > 0 else []


def landed_entries(settings: Settings, now: dt.datetime | None = None) -> list[LandedEntry]:
    """Every entry of the recent delivery folders of every form, in processing order."""
    count = settings.options_for(DeliveryOptions).recent_periods
    store = store_of(settings)
    out: list[LandedEntry] = []
    for form in PROCESSING_ORDER:
        for period in recent_periods(settings, form, count, now):
            listing = scan_delivery_folder(store.delivery_folder(form.name, str(period)))
            for entry in [*listing.files, *listing.refused]:
                out.append(LandedEntry(form.code, str(period), entry.name, int(entry.mtime_ns), entry.kind))
    return out


def pending_entries(engine: Engine, settings: Settings, now_ns: int | None = None) -> list[LandedEntry]:
    """The landed entries no delivery run has reviewed at their current modification time, and that
    have settled on a local store (unchanged for ``delivery.settle_seconds``: not a file still being
    copied in)."""
    landed = landed_entries(settings)
    if store_of(settings).local:  # an object store shows an upload only once it is whole
        settle_ns = int(settings.options_for(DeliveryOptions).settle_seconds * 1e9)
        now_ns = time.time_ns() if now_ns is None else now_ns
        landed = [e for e in landed if e.mtime_ns <= now_ns - settle_ns]
    if not landed:
        return []
    with engine.connect() as conn:
        if not has_table(conn, "dlv_landing_seen"):
            return landed
        oldest = min(e.period for e in landed)
        seen = {
            (r.form, r.period, r.entry_name, int(r.mtime_ns))
            for r in query(conn, "ops/reviews/landing_seen_since", oldest=oldest)
        }
    return [e for e in landed if e.key not in seen]


def mark_seen(engine: Engine, entries: Iterable[LandedEntry], outcomes: dict[str, tuple[str, str]]) -> int:
    """Record ``entries`` as reviewed; ``outcomes``: entry name → (ingestion status, sha256)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    rows = [
        {
            "form": e.form,
            "period": e.period,
            "entry_name": e.name,
            "mtime_ns": e.mtime_ns,
            "kind": e.kind,
            "file_sha256": outcomes.get(e.name, ("", ""))[1],
            "status": outcomes.get(e.name, ("unseen", ""))[0],
            "reviewed_at": now,
        }
        for e in entries
    ]
    if not rows:
        return 0
    with engine.begin() as conn:
        known = {
            (r.form, r.period, r.entry_name, int(r.mtime_ns))
            for r in query(conn, "ops/reviews/landing_seen_since", oldest=min(r["period"] for r in rows))
        }
        fresh = [r for r in rows if (r["form"], r["period"], r["entry_name"], r["mtime_ns"]) not in known]
        insert_rows(conn, "dlv_landing_seen", fresh)
    return len(fresh)
