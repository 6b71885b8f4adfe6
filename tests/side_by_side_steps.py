"""Step functions for ``tests/test_steps_side_by_side.py``: each records in a JSON-lines log where (process)
and when it started and ended, so that a test can see which steps ran side by side. Importable by the
worker processes ``run_period`` starts (they are given the parent's ``sys.path``)."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

WAIT_LIMIT_SECONDS = 60.0
"""How long a step waits for another one to start before it gives up (a test then fails on its records)."""


def _write(log: str, name: str, event: str) -> None:
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"name": name, "event": event, "pid": os.getpid(), "at": time.time()}) + "\n")


def records(log: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The log's records by (step name, ``start`` | ``end``)."""
    if not log.exists():
        return {}
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return {(row["name"], row["event"]): row for row in rows}


def work(ctx: Any, log: str, name: str, seconds: float = 0.0, until_started: str | None = None) -> dict[str, Any]:
    """Record the start, wait until step ``until_started`` has started (if given, at most
    :data:`WAIT_LIMIT_SECONDS`), sleep ``seconds``, record the end; the summary names the process, the
    thread and how many worker processes the process had when the step ended."""
    _write(log, name, "start")
    waited_from = time.monotonic()
    while until_started and (until_started, "start") not in records(Path(log)):
        if time.monotonic() - waited_from > WAIT_LIMIT_SECONDS:
            break
        time.sleep(0.02)
    time.sleep(seconds)
    _write(log, name, "end")
    return {
        "name": name,
        "pid": os.getpid(),
        "thread": threading.get_ident(),
        "children": len(multiprocessing.active_children()),  # worker processes of this process alive now
        "period": str(ctx.period),
    }


class BrokenOnPurpose(RuntimeError):
    """An exception whose class cannot be rebuilt from its ``args`` (two required arguments), as some of
    the package's are: it does not cross from a worker process to its parent as it is."""

    def __init__(self, step: str, why: str) -> None:
        super().__init__(f"{step}: {why}")
        self.step, self.why = step, why


def fail(ctx: Any, log: str, name: str, seconds: float = 0.0, until_started: str | None = None) -> None:
    """Do :func:`work`, then raise :class:`BrokenOnPurpose`."""
    work(ctx, log, name, seconds, until_started)
    raise BrokenOnPurpose(name, "broken on purpose")


def fail_plainly(ctx: Any, log: str, name: str, seconds: float = 0.0, until_started: str | None = None) -> None:
    """Do :func:`work`, then raise a :class:`ValueError`."""
    work(ctx, log, name, seconds, until_started)
    raise ValueError(f"{name}: a plain failure")


def die(ctx: Any, log: str, name: str, seconds: float = 0.0, until_started: str | None = None) -> None:
    """Record the start and end the process at once, as a killed worker."""
    _write(log, name, "start")
    os._exit(3)
