"""Peak resident memory of ingesting each hostile file, against a baseline of a normal delivery.

Each case is written to a fresh data folder and ingested in its own process (``tests/hostile_probe.py``),
so every figure is that case's own peak (``ru_maxrss``). Prints the Markdown table of docs/reliability.md:

    .venv/bin/python scripts/measure_hostile_rss.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import hostile_files as h  # noqa: E402

CASES: list[tuple[str, str, Callable[[], bytes]]] = [
    ("baseline: a normal delivery (3 rows)", "E1_620400_2013-06.csv", lambda: h.e1_csv(h.good_e1_rows(3))),
    ("XLSX declaring A1:XFD20000 (2 KB)", "E1_dimension.xlsx", lambda: h.dimension_bomb(h.good_e1_rows(3))),
    ("XLSX zip bomb (sheet unpacks to 2.2 GB)", "E1_zipbomb.xlsx", lambda: h.zip_bomb(2_200_000_000)),
    ("XLSX shared-strings bomb (5 M strings)", "E1_sst.xlsx", lambda: h.shared_strings_bomb(5_000_000)),
    ("CSV with 1 000 000 columns", "E1_wide.csv", lambda: h.wide_csv(1_000_000)),
    (
        "CSV cell of 200 000 characters",
        "E1_longcell.csv",
        lambda: h.e1_csv([*h.good_e1_rows(1), *h.good_e1_rows(1, first=2)]).replace(
            b"\xe5\x85\xb0\xe5\xb7\x9e\xe6\xb5\x8b", b"x" * 200_000, 1
        ),
    ),
    ("CSV of 60 MB (over max_file_bytes)", "E1_large.csv", lambda: h.e1_csv(h.good_e1_rows(1)) + b"x" * 60_000_000),
    ("at the limits: 24 900 rows = 498 000 cells (max_cells)", "E1_cells.csv", lambda: h.at_cell_limit()),
    ("at the limits: 48 MB of 9 000-character cells (max_file_bytes)", "E1_bytes.csv", lambda: h.at_byte_limit()),
    ("at the limits: XLSX of 498 000 cells (max_cells)", "E1_cells.xlsx", lambda: h.xlsx_at_cell_limit()),
    (
        "at the limits: XLSX shared strings of 19.5 MB (max_xlsx_shared_strings_bytes)",
        "E1_sst.xlsx",
        lambda: h.shared_strings_at_limit(),
    ),
]


def measure(name: str, data: bytes) -> tuple[dict, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "landing" / "enterprise_monthly" / "2013-06"
        folder.mkdir(parents=True)
        (folder / name).write_bytes(data)
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "hostile_probe.py"), tmp, "E1", "2013-06"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT / "tests"), "PATH": "/usr/bin:/bin"},
        )
        return json.loads(done.stdout.strip().splitlines()[-1]), time.monotonic() - start


def main() -> int:
    print("| case | file size | outcome | peak RSS | over baseline | seconds |")
    print("|---|---|---|---|---|---|")
    baseline = None
    for label, name, build in CASES:
        data = build()
        result, seconds = measure(name, data)
        peak = result["peak_rss_mb"]
        baseline = peak if baseline is None else baseline
        outcome = result["files"][0]["status"]
        print(
            f"| {label} | {len(data):,} B | {outcome} | {peak:.0f} MB | {peak - baseline:+.0f} MB | {seconds:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
