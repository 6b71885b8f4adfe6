"""Giving memory back between steps, and the collector paused in loops without cycles (techreform.memory)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

import pytest

from techreform import memory

# A child process that builds and frees what a step leaves behind (frames of text, rows as Python lists,
# a little of it kept, interleaved) and prints its RSS in MiB after ``release`` or after a plain collection.
_STEP_LEFTOVERS = textwrap.dedent(
    """
    import gc, sys
    import pandas as pd

    def rss():
        return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

    kept = []
    for i in range(6):
        frame = pd.DataFrame({f"c{j}": [f"value {k} {j}" for k in range(200_000)] for j in range(5)})
        rows = frame.astype(object).values.tolist()
        kept.append(rows[::1000])
        del frame, rows
    if sys.argv[1] == "release":
        from techreform.memory import release_freed_memory

        release_freed_memory()
    else:
        gc.collect()
    print(round(rss()))
    """
)


def _rss_after(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _STEP_LEFTOVERS, mode], capture_output=True, text=True, check=True, timeout=120
    )
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_memory_a_step_freed_goes_back_to_the_system_after_the_step():
    collected_only = _rss_after("collect")
    released = _rss_after("release")
    # a collection alone keeps the freed heap in the process; the release hands it back
    assert released < collected_only - 20, (released, collected_only)


def test_every_step_of_a_run_releases_what_it_freed(monkeypatch):
    from techreform.steps import RunContext, Step

    calls: list[str] = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda: calls.append("released"))
    monkeypatch.setattr("techreform.steps.step_guard", lambda ctx, name: _noop())
    step = Step("a_step", "tests.test_memory:_a_step_function")
    assert step.run(RunContext(settings=None, engine=None, period=None)) == "done"
    assert calls == ["released"]


def test_a_step_that_raises_still_releases_what_it_freed(monkeypatch):
    from techreform.steps import RunContext, Step

    calls: list[str] = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda: calls.append("released"))
    monkeypatch.setattr("techreform.steps.step_guard", lambda ctx, name: _noop())
    with pytest.raises(RuntimeError, match="a step failed"):
        Step("a_step", "tests.test_memory:_a_failing_step_function").run(
            RunContext(settings=None, engine=None, period=None)
        )
    assert calls == ["released"]


def test_the_delivery_review_task_follows_the_same_memory_rules(monkeypatch):
    import pyarrow

    from techreform.delivery import review

    seen: list[str] = []
    calls: list[str] = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda: calls.append("released"))
    monkeypatch.setattr("techreform.airflow_support.settings_for_task", lambda: None)
    monkeypatch.setattr("techreform.airflow_support.run_owner", lambda: "owner")
    monkeypatch.setattr("techreform.pipeline.prepare_warehouse", lambda settings: None)
    monkeypatch.setattr("techreform.supervision.mailer.smtp_config_from_airflow", lambda: None)

    def review_deliveries(engine, settings, smtp, owner):
        seen.append(pyarrow.default_memory_pool().backend_name)
        return {"reviewed": 0}

    monkeypatch.setattr(review, "review_deliveries", review_deliveries)
    pyarrow.set_memory_pool(pyarrow.mimalloc_memory_pool())
    assert review.review_as_task() == {"reviewed": 0}
    assert seen == ["system"]  # the review itself allocates from the heap that is given back
    assert calls == ["released"]


def test_a_step_makes_pyarrow_allocate_from_the_heap_that_is_given_back(monkeypatch):
    import pyarrow

    from techreform.steps import RunContext, Step

    monkeypatch.setattr("techreform.steps.step_guard", lambda ctx, name: _noop())
    pyarrow.set_memory_pool(pyarrow.mimalloc_memory_pool())  # pyarrow's default on Linux wheels
    Step("a_step", "tests.test_memory:_a_step_function").run(RunContext(settings=None, engine=None, period=None))
    assert pyarrow.default_memory_pool().backend_name == "system"


def _a_step_function(ctx) -> str:
    return "done"


def _a_failing_step_function(ctx) -> str:
    raise RuntimeError("a step failed")


class _noop:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_collector_is_paused_inside_the_block_and_enabled_again_after_it():
    assert gc.isenabled()
    with memory.cycle_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), memory.cycle_collection_paused():
        raise RuntimeError("a file refused mid-read")
    assert gc.isenabled()


def test_a_collector_disabled_before_the_block_stays_disabled_after_it():
    gc.disable()
    try:
        with memory.cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_survives_the_release_is_frozen_and_the_garbage_before_it_is_collected():
    """After a step, the next collections do not walk again what lived through it (the imports, the
    caches): it is frozen; a reference cycle that was garbage at the release is freed, not frozen."""
    import weakref

    from techreform.memory import release_freed_memory

    class Node:
        pass

    kept = Node()
    kept.me = kept
    dropped = Node()
    dropped.me = dropped
    dropped_ref = weakref.ref(dropped)
    del dropped
    assert any(o is kept for o in gc.get_objects())  # tracked, in a generation the collector walks
    release_freed_memory()
    assert dropped_ref() is None
    assert gc.get_freeze_count() > 0
    assert not any(o is kept for o in gc.get_objects())  # frozen: walked by no collection
