"""Writing an output file so that it is either absent, the old version, or complete — never half-written.

Every file the pipeline writes (raw zone, review receipts, Data Docs results, the e-mail outbox) goes
through :func:`atomic_path`: the content is written aside, in the same folder under a temporary name
(``.<name>.<random>.part``), flushed to disk, and moved into place with :func:`os.replace`. A process
killed mid-way leaves at most a ``.part`` file, which is never read and is removed by the next write of
the same folder (:func:`remove_partials`)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from techreform.faults import fault_point

PARTIAL_SUFFIX = ".part"


@contextmanager
def atomic_path(target: Path, fault: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; when the block ends without error the file written
    there is synced and moved onto ``target`` (atomically); on error it is removed. ``fault`` names the
    kill point between writing and moving (see :mod:`techreform.faults`)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        if fault:
            fault_point(fault)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes, fault: str | None = None) -> Path:
    """Write ``data`` to ``target`` atomically; returns ``target``."""
    with atomic_path(target, fault) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: Path, text: str, fault: str | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically; returns ``target``."""
    return write_bytes(target, text.encode("utf-8"), fault)


def remove_partials(folder: Path) -> int:
    """Remove ``.part`` files a killed writer left in ``folder``; returns how many."""
    removed = 0
    if folder.is_dir():
        for leftover in folder.glob(f".*{PARTIAL_SUFFIX}"):
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed
