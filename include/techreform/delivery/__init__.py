"""Instant review on delivery (即报即审): each file checked when it lands, its sender told within minutes.

- :mod:`.watch` — the landing entries not yet reviewed at their current modification time (what the
  watcher's trigger polls for, and what a delivery run reviews).
- :mod:`.trigger` — :class:`~.trigger.LandingTrigger`, the ``BaseEventTrigger`` of the ``AssetWatcher``
  that schedules the DAG ``techreform_delivery`` (imported by the DAG file and by the triggerer: light).
- :mod:`.review` — one delivery run: ingest as the month's run does, check with the same suites against
  the warehouse as it stands (results kept for reuse, :mod:`techreform.validation.reuse`), receipts.
- :mod:`.receipt` — a delivery's receipt (审核回执) and a refused file's receipt, e-mailed exactly once to
  the delivering prefecture's statistics contacts (统计联络员), saying what changed since the last one.

Facts are written only by the month's run (``docs/delivery.md``).
"""
