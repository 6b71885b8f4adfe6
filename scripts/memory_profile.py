"""Where the peak memory of the chain is (not a test): ``techreform run`` of one month, as the benchmark's
``project-<engine>`` contender runs it, with a sampler thread that reads the process's RSS every
``--interval`` seconds and, at each new high-water mark, records the main thread's stack (the project's
frames). The report lists the high-water marks with the step and the line that was running, so the peak
is named by code, not guessed.

Usage::

    .venv/bin/python scripts/memory_profile.py --data var/benchmark-national --engine sqlite
    .venv/bin/python scripts/memory_profile.py --data var/bench-100k --engine postgresql --tracemalloc

With ``--tracemalloc`` the Python allocations alive at the highest mark are listed too (by line, top 25;
tracemalloc slows the run several times: use a smaller month). The peak RSS of the whole process (from
``getrusage``) is printed at the end; ``scripts/benchmark.py`` remains the measurement of record.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
import traceback
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def rss_bytes() -> int:
    """The process's resident set size now (``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * PAGE


def project_stack(frame) -> list[str]:
    """The project's frames of a stack, outermost first, as ``module:line function``."""
    out = []
    for entry in traceback.extract_stack(frame):
        if "techreform" in entry.filename and "site-packages" not in entry.filename or "scripts" in entry.filename:
            out.append(f"{Path(entry.filename).name}:{entry.lineno} {entry.name}")
    return out[-8:]


class Sampler(threading.Thread):
    """Records (seconds, RSS, stack of the main thread) at each new RSS high of at least ``step`` bytes."""

    def __init__(self, interval: float, step: int, snapshot: bool) -> None:
        super().__init__(daemon=True)
        self.interval, self.step, self.snapshot = interval, step, snapshot
        self.marks: list[tuple[float, int, list[str]]] = []
        self.high = 0
        self.top: tracemalloc.Snapshot | None = None
        self.stop = threading.Event()
        self.main_id = threading.main_thread().ident
        self.started = time.perf_counter()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            rss = rss_bytes()
            if rss < self.high + self.step:
                continue
            self.high = rss
            frame = sys._current_frames().get(self.main_id)
            self.marks.append((time.perf_counter() - self.started, rss, project_stack(frame) if frame else []))
            # not kept until the next mark: a frame held here keeps its callers and all their locals
            # alive after they return (the frames of a finished step, hundreds of MiB of rows)
            del frame
            if self.snapshot:
                self.top = tracemalloc.take_snapshot()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a month made by techreform-generate")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between RSS samples")
    parser.add_argument("--step", type=int, default=16, help="MiB above the last mark for a new mark")
    parser.add_argument("--tracemalloc", action="store_true", help="list the allocations alive at the peak")
    args = parser.parse_args()

    import benchmark

    if args.tracemalloc:
        tracemalloc.start(12)
    sampler = Sampler(args.interval, args.step * MIB, args.tracemalloc)
    sampler.start()
    try:
        benchmark.child_project(args.data.resolve(), args.engine)
    finally:
        sampler.stop.set()
        sampler.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nhigh-water marks of RSS ({args.engine}, {args.data}):")
    for seconds, rss, stack in sampler.marks:
        print(f"{seconds:8.1f} s {rss / MIB:7.0f} MiB  {' > '.join(stack[-4:])}")
    if sampler.top is not None:
        print("\nPython allocations alive at the highest mark (tracemalloc, by line):")
        for stat in sampler.top.statistics("traceback")[:25]:
            frames = [f"{Path(f.filename).name}:{f.lineno}" for f in stat.traceback if "techreform" in f.filename]
            print(f"{stat.size / MIB:8.1f} MiB {stat.count:9d} blocks  {' > '.join(frames[-4:]) or stat.traceback[-1]}")
    print(f"\npeak RSS (getrusage): {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
