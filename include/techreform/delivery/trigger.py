"""The landing watcher's trigger: fires when files wait in ``landing/<form>/<YYYY-MM>/`` unreviewed.

:class:`LandingTrigger` is the ``BaseEventTrigger`` of the ``AssetWatcher`` on the Asset
:data:`LANDING_ASSET`, which schedules the DAG ``techreform_delivery``. It runs in the triggerer, polls
the store every ``delivery.poll_seconds`` (:func:`techreform.delivery.watch.pending_entries`, in a
thread: the store and the warehouse are read synchronously) and yields one event when entries appear
that it has not announced yet. The triggerer turns each event into an Asset event and the scheduler
into a run of the DAG (events queued while a run is active are taken together by the next run).

What Airflow 3.3 does with it (``airflow/jobs/triggerer_job_runner.py``, ``models/trigger.py``): a
watcher's trigger row stays as long as the Asset is watched; ``run()`` is consumed as a stream, so it
never returns here (a trigger that returns is created again from :meth:`serialize` at the triggerer's
next loop, and on every triggerer restart or redistribution). What it announced is kept in memory
only, so a new instance announces the still-pending entries once more, and while entries stay pending
(the month's run held their period) it fires again every ``delivery.refire_polls`` polls. Both are
harmless by design: a delivery run reviews only what is pending (recorded in ``dlv_landing_seen``),
takes the period's run lock, runs one at a time (``max_active_runs=1``), and ingestion and the e-mail
log skip what was done already. A poll that fails (the store or the warehouse unreachable) is logged
and retried at the next poll: the watcher itself does not stop.

This module is imported by the DAG file at parse time and by the triggerer: nothing heavy at import.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

LANDING_ASSET = "techreform://landing/deliveries"
"""The Asset the landing watcher raises: "files wait for review in the landing zone"."""

log = logging.getLogger(__name__)


def _prepare(settings_env: dict[str, str] | None) -> tuple[Any, Any]:
    """(settings, engine) of the watcher: the task's settings (connection ``techreform_warehouse`` or
    ``TECHREFORM_WAREHOUSE_URL``; the store's connection). The watcher only reads: the tasks create the
    schema (before any review, every landed entry is pending)."""
    from techreform.airflow_support import settings_for_task
    from techreform.warehouse import engine_for

    settings = settings_for_task(settings_env)
    return settings, engine_for(settings.warehouse_url)


def _pending(settings: Any, engine: Any) -> list[Any]:
    from techreform.delivery.watch import pending_entries

    return pending_entries(engine, settings)


class LandingTrigger(BaseEventTrigger):
    """Polls the store's landing folders; yields an event when unreviewed entries appear.

    ``poll_seconds`` / ``refire_polls``: ``None`` reads the ``delivery`` options when the trigger starts
    (so a changed option takes effect at the next triggerer restart, without re-parsing the DAG).
    ``env``: environment overrides for the settings (tests; empty in a deployment)."""

    def __init__(
        self,
        poll_seconds: float | None = None,
        refire_polls: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.poll_seconds = poll_seconds
        self.refire_polls = refire_polls
        self.env = dict(env) if env else None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"poll_seconds": self.poll_seconds, "refire_polls": self.refire_polls, "env": self.env},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        settings = engine = None
        poll, refire = self.poll_seconds or 30.0, self.refire_polls or 10
        announced: set[tuple[str, str, str, int]] = set()
        quiet_polls = 0
        while True:
            try:
                if settings is None:
                    settings, engine = await asyncio.to_thread(_prepare, self.env)
                    from techreform.options import DeliveryOptions

                    options = settings.options_for(DeliveryOptions)
                    poll = self.poll_seconds or options.poll_seconds
                    refire = self.refire_polls or options.refire_polls
                pending = await asyncio.to_thread(_pending, settings, engine)
            except Exception as exc:  # the store or warehouse unreachable: try again at the next poll
                log.warning("landing watcher: poll failed, retrying in %s s: %s", poll, exc)
                pending = None
            if pending is not None:
                keys = {e.key for e in pending}
                fresh = keys - announced
                if fresh or (keys and quiet_polls >= refire):
                    announced = keys
                    quiet_polls = 0
                    names = sorted(f"{e.form}/{e.period}/{e.name}" for e in pending)
                    yield TriggerEvent({"pending": len(keys), "new": len(fresh), "entries": names[:50]})
                else:
                    announced &= keys
                    quiet_polls += 1
            await asyncio.sleep(poll)
