"""One item produced ahead: a slow producer (a file's parse, slice by slice) works in a thread on the next
item while the caller works on the current one (writes it to the warehouse).

A COPY to PostgreSQL leaves the client waiting for the server, without holding the GIL: with the next slice
parsed meanwhile, the server's work on a slice and the client's on the next overlap, on the two cores
(docs/performance.md, round 24). Memory stays bounded: at most the item the caller holds and the one being
produced."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import TypeVar

T = TypeVar("T")

_END = object()
"""What the producer's ``next`` returns when the items are exhausted."""


@contextmanager
def produced_ahead(items: Iterable[T], *, name: str = "ahead") -> Iterator[Iterator[T]]:
    """The items of ``items``, in order, each next one produced in a thread (named ``name``) while the
    caller handles the one before: at most one item ahead.

    An exception raised while producing an item is raised to the caller where that item would have come,
    after every item before it. When the block ends — exhausted, left early, or by an exception — the item
    being produced is waited for and dropped (a failure producing it too: the caller's own comes first),
    the thread stops, and ``items`` is closed if it is a generator; nothing keeps running behind the
    caller."""
    iterator = iter(items)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    pending: list[Future] = []

    def in_order() -> Iterator[T]:
        pending.append(pool.submit(next, iterator, _END))
        while True:
            item = pending.pop().result()
            if item is _END:
                return
            pending.append(pool.submit(next, iterator, _END))
            yield item

    try:
        yield in_order()
    finally:
        for future in pending:  # the caller's own exception, or none, is the one to raise
            with suppress(BaseException):
                future.result()
        pool.shutdown(wait=True)
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
