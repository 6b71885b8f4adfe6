"""``run_period(..., workers=N)`` (``techreform run --workers N``) runs the steps the DAG runs side by side
in this process and N − 1 worker processes, each once the steps it waits for are done; a failure stops
what has not started and is raised after the running steps end. The whole chain on two workers against
one: ``tests/test_faults.py``."""

from __future__ import annotations

import os

import pytest

from side_by_side_steps import records
from techreform.steps import STEPS, Step, StepFailedInWorker, run_period, waited_for
from techreform.warehouse import in_memory

PERIOD = "2013-06"


def _table(
    log, c_target: str = "work", b_target: str = "work", b_seconds: float = 0.0, c_seconds: float = 0.3
) -> tuple[Step, ...]:
    """a; then b and c side by side (each after a); then d after both. b, run here, waits until c has
    started in the worker: it can end only if the two ran side by side."""
    return (
        Step("a", "side_by_side_steps:work", (str(log), "a")),
        Step("b", f"side_by_side_steps:{b_target}", (str(log), "b", b_seconds, "c"), after=("a",)),
        Step("c", f"side_by_side_steps:{c_target}", (str(log), "c", c_seconds), after=("a",)),
        Step("d", "side_by_side_steps:work", (str(log), "d"), after=("b", "c")),
    )


def test_two_workers_run_the_steps_that_wait_for_each_other_in_order_and_the_others_side_by_side(
    sqlite_settings, tmp_path
):
    log = tmp_path / "steps.jsonl"
    summary = run_period(sqlite_settings, PERIOD, steps=_table(log), workers=2)
    seen = records(log)
    assert list(summary) == ["period", "a", "b", "c", "d"]
    assert summary["period"] == PERIOD and all(summary[n]["period"] == PERIOD for n in "abcd")
    # b (here) waited for c (a worker) to start, and c started before b ended: side by side
    assert seen["c", "start"]["at"] < seen["b", "end"]["at"]
    assert summary["b"]["pid"] == os.getpid() != summary["c"]["pid"]
    assert seen["a", "end"]["at"] <= min(seen["b", "start"]["at"], seen["c", "start"]["at"])
    assert seen["d", "start"]["at"] >= max(seen["b", "end"]["at"], seen["c", "end"]["at"])


def test_one_worker_runs_every_step_here_one_after_the_other(sqlite_settings, tmp_path):
    log = tmp_path / "steps.jsonl"
    table = tuple(Step(s.name, s.target, s.args[:3], after=s.after) for s in _table(log))  # b does not wait
    summary = run_period(sqlite_settings, PERIOD, steps=table)
    seen = records(log)
    assert {summary[n]["pid"] for n in "abcd"} == {os.getpid()}
    ends = [seen[n, "end"]["at"] for n in "abcd"]
    starts = [seen[n, "start"]["at"] for n in "abcd"]
    assert all(end <= start for end, start in zip(ends, starts[1:], strict=False))  # in the table's order


def test_a_warehouse_in_memory_runs_its_steps_here_whatever_the_workers(tmp_path):
    from techreform.config import Settings

    settings = Settings.from_env(
        {"TECHREFORM_DATA_DIR": str(tmp_path / "data"), "TECHREFORM_WAREHOUSE_URL": "sqlite://"}
    )
    log = tmp_path / "steps.jsonl"
    table = tuple(Step(s.name, s.target, s.args[:3], after=s.after) for s in _table(log))
    summary = run_period(settings, PERIOD, steps=table, workers=2)
    assert {summary[n]["pid"] for n in "abcd"} == {os.getpid()}
    assert in_memory("sqlite://") and in_memory("sqlite:///:memory:")
    assert not in_memory(f"sqlite:///{tmp_path / 'w.sqlite'}") and not in_memory("postgresql://h/db")


def test_a_worker_step_failing_stops_the_steps_after_it_and_its_words_cross_back(sqlite_settings, tmp_path):
    log = tmp_path / "steps.jsonl"
    with pytest.raises(StepFailedInWorker, match="BrokenOnPurpose: c: broken on purpose"):
        run_period(sqlite_settings, PERIOD, steps=_table(log, c_target="fail", b_seconds=0.5), workers=2)
    seen = records(log)
    assert ("b", "end") in seen  # the step running beside it ended
    assert ("d", "start") not in seen  # nothing after the failure started


@pytest.mark.parametrize("c_target", ["work", "fail"], ids=["worker_step_succeeds", "worker_step_fails_too"])
def test_a_step_failing_here_waits_for_the_worker_step_beside_it_and_is_the_failure_raised(
    c_target, sqlite_settings, tmp_path
):
    log = tmp_path / "steps.jsonl"
    table = _table(log, b_target="fail_plainly", c_target=c_target, c_seconds=1.0)
    with pytest.raises(ValueError, match="b: a plain failure"):
        run_period(sqlite_settings, PERIOD, steps=table, workers=2)
    seen = records(log)
    assert seen["b", "end"]["at"] < seen["c", "end"]["at"]  # the worker's step ran on and ended after b failed
    assert ("d", "start") not in seen


def test_a_worker_that_dies_fails_the_run_naming_its_step(sqlite_settings, tmp_path):
    log = tmp_path / "steps.jsonl"
    with pytest.raises(RuntimeError, match="c: its worker process ended abruptly"):
        run_period(sqlite_settings, PERIOD, steps=_table(log, c_target="die"), workers=2)
    assert ("d", "start") not in records(log)


def test_a_long_step_here_does_not_hold_back_the_steps_after_one_another_on_the_other_worker(sqlite_settings, tmp_path):
    # b (here) can end only once c2 has started: c2 is handed out after c1 ended, while b still runs; two
    # workers never run three steps at once
    log = tmp_path / "steps.jsonl"
    table = (
        Step("a", "side_by_side_steps:work", (str(log), "a")),
        Step("b", "side_by_side_steps:work", (str(log), "b", 0.0, "c2"), after=("a",)),
        Step("c1", "side_by_side_steps:work", (str(log), "c1", 0.3), after=("a",)),
        Step("c2", "side_by_side_steps:work", (str(log), "c2"), after=("a",)),
    )
    summary = run_period(sqlite_settings, PERIOD, steps=table, workers=2)
    seen = records(log)
    assert seen["c2", "start"]["at"] < seen["b", "end"]["at"]
    assert seen["c2", "start"]["at"] >= seen["c1", "end"]["at"]
    assert summary["b"]["pid"] == os.getpid() != summary["c1"]["pid"] == summary["c2"]["pid"]


def test_a_step_waits_for_a_free_worker_and_this_process_takes_it_when_its_own_is_free_first(sqlite_settings, tmp_path):
    # b (here) is short, c1 (the worker process) long: c2 is not queued behind c1 but taken here once b ends
    log = tmp_path / "steps.jsonl"
    table = (
        Step("a", "side_by_side_steps:work", (str(log), "a")),
        Step("b", "side_by_side_steps:work", (str(log), "b"), after=("a",)),
        Step("c1", "side_by_side_steps:work", (str(log), "c1", 1.0), after=("a",)),
        Step("c2", "side_by_side_steps:work", (str(log), "c2"), after=("a",)),
    )
    summary = run_period(sqlite_settings, PERIOD, steps=table, workers=2)
    seen = records(log)
    assert summary["c2"]["pid"] == summary["b"]["pid"] == os.getpid() != summary["c1"]["pid"]
    assert seen["b", "end"]["at"] <= seen["c2", "start"]["at"] < seen["c1", "end"]["at"]


def test_once_the_worker_processes_have_nothing_to_do_they_stop_and_later_steps_side_by_side_run_in_threads(
    sqlite_settings, tmp_path
):
    # a; b here and c in a worker process; d after both (nothing else ready: the worker stops); then e
    # and f side by side in this process, f waiting until e has started
    log = tmp_path / "steps.jsonl"
    table = (
        *_table(log),
        Step("e", "side_by_side_steps:work", (str(log), "e", 0.3), after=("d",)),
        Step("f", "side_by_side_steps:work", (str(log), "f", 0.0, "e"), after=("d",)),
    )
    summary = run_period(sqlite_settings, PERIOD, steps=table, workers=2)
    seen = records(log)
    assert summary["c"]["pid"] != os.getpid()  # the beginning's side by side: a worker process
    assert summary["e"]["pid"] == summary["f"]["pid"] == os.getpid()
    assert summary["e"]["thread"] != summary["f"]["thread"]
    assert seen["f", "start"]["at"] < seen["e", "end"]["at"] and seen["e", "start"]["at"] < seen["f", "end"]["at"]
    assert summary["d"]["children"] == summary["e"]["children"] == 0  # the worker process has stopped


def test_steps_that_can_never_start_fail_the_run_instead_of_waiting_forever(sqlite_settings, tmp_path):
    log = tmp_path / "steps.jsonl"
    table = (
        Step("a", "side_by_side_steps:work", (str(log), "a")),
        Step("b", "side_by_side_steps:work", (str(log), "b"), after=("c",)),
        Step("c", "side_by_side_steps:work", (str(log), "c"), after=("b",)),
    )
    with pytest.raises(RuntimeError, match="steps that can never start: b, c"):
        run_period(sqlite_settings, PERIOD, steps=table, workers=2)
    assert ("a", "end") in records(log) and ("b", "start") not in records(log)


def test_each_validation_waits_for_its_own_ingest_and_the_one_before_and_a_skipped_step_is_waited_through():
    from techreform.forms import PROCESSING_ORDER
    from techreform.steps import TASK_LABELS

    quiet = [s for s in STEPS if not s.delivers]  # techreform run --no-notify
    waits = waited_for(STEPS, quiet)
    labels = [TASK_LABELS[f.code] for f in PROCESSING_ORDER]
    assert waits["validate_load_register"] == {"ingest_register"}
    for before, label in zip(labels, labels[1:], strict=False):
        assert waits[f"validate_load_{label}"] == {f"ingest_{label}", f"validate_load_{before}"}
    # completeness beside the enterprises' validation (the register in force, who sent rows); the gate after
    # it and every validation, the receipts written beside the gate; the receipts' e-mails after both
    assert waits["review"] == {"validate_load_register", "ingest_enterprises", "ingest_products"}
    assert waits["quality_gate"] == waits["write_receipts"] == {"review", f"validate_load_{labels[-1]}"}
    assert waited_for(STEPS, STEPS)["send_receipts"] == {"write_receipts", "quality_gate"}
    # after the gate: the indicators beside the supervision; PROJECT_RED's refresh waits for both
    assert waits["compute_indicators"] == waits["supervise"] == waits["summarise"] == {"quality_gate"}
    assert waits["refresh_supervision_indicators"] == {"recompute_corrected_periods", "supervise"}
    assert "notify" not in waits and waited_for(STEPS, STEPS)["extract"] == {"notify", "summarise"}
    # a step not chosen (a delivering one in a run that e-mails nothing) is waited through
    table = (Step("a", "m:f"), Step("b", "m:f", delivers=True), Step("c", "m:f"))
    assert waited_for(table, [table[0], table[2]]) == {"a": set(), "c": {"a"}}
