"""One item produced ahead (``techreform.ahead.produced_ahead``, the ingest's slices parsed while the slice
before is copied): every item in order, in a thread of its own, never more than one ahead of the caller; a
failure where its item would have come; nothing left running when the caller stops early or fails."""

from __future__ import annotations

import threading
import time

import pytest

from techreform.ahead import produced_ahead


class Producer:
    """Items 0..count-1 (or a failure at ``fail_at``), recording how many it produced, in which thread, and whether it was closed."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.produced = 0
        self.taken = 0
        self.threads: set[str] = set()
        self.closed = False

    def items(self):
        try:
            for i in range(self.count):
                if i == self.fail_at:
                    raise ValueError(f"item {i} cannot be produced")
                self.threads.add(threading.current_thread().name)
                self.produced += 1
                yield i
        finally:
            self.closed = True


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_every_item_in_order_the_next_produced_meanwhile_and_no_more():
    producer = Producer(6)
    got = []
    with produced_ahead(producer.items(), name="parse") as items:
        for item in items:
            producer.taken += 1
            got.append(item)
            if item < 5:  # while the caller works on this item, the next one is produced ...
                assert _wait_for(lambda: producer.produced == producer.taken + 1)
            time.sleep(0.05)  # ... and not the one after it
            assert producer.produced == min(producer.taken + 1, 6)
    assert got == list(range(6))
    assert all(name.startswith("parse") for name in producer.threads)
    assert threading.current_thread().name not in producer.threads


def test_a_failure_comes_after_every_item_before_it():
    producer = Producer(5, fail_at=3)
    got = []
    with pytest.raises(ValueError, match="item 3 cannot be produced"), produced_ahead(producer.items()) as items:
        for item in items:
            got.append(item)
    assert got == [0, 1, 2]
    assert producer.closed


def test_a_caller_that_stops_early_leaves_nothing_running():
    producer = Producer(100)
    before = threading.active_count()
    with produced_ahead(producer.items(), name="early") as items:
        for item in items:
            if item == 1:
                break
    assert producer.closed
    assert producer.produced <= 3  # the two taken and the one being produced when the caller stopped
    assert threading.active_count() == before
    assert not any(t.name.startswith("early") for t in threading.enumerate())


def test_the_callers_failure_is_the_one_raised():
    producer = Producer(4, fail_at=1)  # the item produced while the caller fails cannot be produced either

    class CallerFailed(Exception):
        pass

    with pytest.raises(CallerFailed), produced_ahead(producer.items()) as items:
        for _ in items:
            raise CallerFailed
    assert producer.closed


def test_no_items():
    with produced_ahead(iter(())) as items:
        assert list(items) == []
