"""Writing an output file so that it is either absent, the old version, or complete — never half-written.

Every file the pipeline writes (raw zone, review receipts, Data Docs, the e-mail outbox, alerts) is a
path of the store (:mod:`techreform.store`) written through :func:`write_bytes`:

- on a local store (a ``pathlib.Path``) through :func:`atomic_path`: the content is written aside, in the
  same folder under a temporary name (``.<name>.<random>.part``), flushed to disk, and moved into place
  with :func:`os.replace`. A process killed mid-way leaves at most a ``.part`` file, which is never read
  and is removed by the next write of the same folder (:func:`remove_partials`);
- on an object store (an ``upath.UPath``) as one PUT, which the store makes visible only when complete.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from techreform.faults import fault_point

PARTIAL_SUFFIX = ".part"


def is_local(path: object) -> bool:
    """Whether a store path (``techreform.store``) is on the local disk (a ``pathlib.Path``) rather than
    an object of an object store (an ``upath.UPath``)."""
    return isinstance(path, Path)


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


def write_bytes(target, data: bytes, fault: str | None = None):
    """Write ``data`` to the store path ``target`` atomically (complete or absent); returns ``target``.
    ``fault`` names the kill point between writing and publishing (:mod:`techreform.faults`)."""
    if not is_local(target):  # an object store: a single PUT is complete or absent
        if fault:
            fault_point(fault)
        target.fs.pipe_file(target.path, data)
        return target
    with atomic_path(target, fault) as tmp:
        tmp.write_bytes(data)
    return target


def write_text(target, text: str, fault: str | None = None):
    """Write ``text`` (UTF-8) to ``target`` atomically; returns ``target``."""
    return write_bytes(target, text.encode("utf-8"), fault)


def remove_partials(folder: Path) -> int:
    """Remove ``.part`` files a killed writer left in the local ``folder``; returns how many (an object
    store has none: a PUT leaves nothing half-written)."""
    removed = 0
    if is_local(folder) and folder.is_dir():
        for leftover in folder.glob(f".*{PARTIAL_SUFFIX}"):
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed
