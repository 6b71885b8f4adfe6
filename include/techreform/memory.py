"""Giving memory back between the steps of a run (内存归还).

A step of a national month builds frames of hundreds of thousands of rows and frees them when it ends;
the allocators keep what was freed for later (glibc's heap in arenas it trims only from the top, pyarrow's
pool for the string columns of pandas 3 frames). Where the steps run in one process (``techreform run``,
a backfill, the benchmark), the next step then starts on top of the last one's high-water mark, and the
peak of the run is reached by stacking steps, not by any one step. :func:`release_freed_memory` hands what
is free back to the operating system after each step (:meth:`techreform.steps.Step.run`); in Airflow each
task is its own process and this changes nothing. Before each step, :func:`use_system_allocator_for_arrow`
puts pyarrow's allocations on the same heap, so that what they free is given back too.

:func:`cycle_collection_paused` pauses Python's cyclic garbage collector while a loop builds hundreds of
thousands of containers that hold no cycles (the rows of a file as read, the rows parsed, a query's
tuples): every few thousand new containers the collector would otherwise walk every object alive,
the rows built so far and every module imported — 40 % of the time of reading the register's CSV.
Reference counting still frees everything at once; only cycles wait until the loop ends.
Figures: docs/performance.md."""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any


@cache
def _glibc() -> Any:
    """glibc's ``malloc_trim``, or ``None`` where the C library is not glibc (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def use_system_allocator_for_arrow() -> None:
    """Make pyarrow allocate from the C library's heap (its ``system`` pool) instead of its own mimalloc
    pool, for the rest of the process: the string columns of pandas 3 frames then share one heap with
    Python's objects, and :func:`release_freed_memory` gives back what either freed. Measured on a
    national month on PostgreSQL: 1608 → 1485 MiB of peak RSS (docs/performance.md)."""
    import pyarrow

    if pyarrow.default_memory_pool().backend_name != "system":
        pyarrow.set_memory_pool(pyarrow.system_memory_pool())


def release_freed_memory() -> None:
    """Collect unreachable objects, then return the free memory of pyarrow's pool and of glibc's heap to
    the operating system. Nothing alive is touched: only memory already freed is given back.

    What survives the collection (the modules imported, GX's and SQLAlchemy's caches, the engines) lives
    as long as the process: it is frozen (``gc.freeze``), so that the next step's collection walks only
    the objects made since, not again the million objects of the imports (0.17 s a step after GX was
    imported; 2.9 s of a national month's run). Reference counting still frees a frozen object; only one
    in a reference cycle that becomes garbage later waits for the process to end."""
    gc.collect()
    gc.freeze()
    if "pyarrow" in sys.modules:  # only when a step used it: never imported for this
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    trim = _glibc()
    if trim is not None:
        trim(0)


@contextmanager
def memory_given_back() -> Iterator[None]:
    """The memory rules of a unit of work (a step of a run, the instant review of a delivery): pyarrow
    allocates from the system heap (:func:`use_system_allocator_for_arrow`) and what the work freed is
    given back after it (:func:`release_freed_memory`), also when it raises."""
    use_system_allocator_for_arrow()
    try:
        yield
    finally:
        release_freed_memory()


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block (it is enabled again after it, as it was);
    for loops that build many containers without cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
