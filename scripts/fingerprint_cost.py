"""CPU time of the reuse fingerprint's column digest (``techreform.validation.reuse._columns_digest``) on a
frame shaped like staged E1 rows: 500,000 rows × 25 columns (15 of floats with 5 % nulls, 3 of integers,
7 of text). Best of ``--repeat`` runs, in CPU seconds.

    .venv/bin/python scripts/fingerprint_cost.py [--rows 500000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from techreform.validation.reuse import _columns_digest


def frame_like_e1(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    columns: dict[str, object] = {}
    for i in range(15):
        columns[f"amount_{i}"] = np.where(rng.random(rows) < 0.05, np.nan, rng.random(rows) * 1e4)
    for i in range(3):
        columns[f"count_{i}"] = rng.integers(0, 1000, rows)
    for i in range(7):
        columns[f"text_{i}"] = pd.Series(rng.integers(0, 10**9, rows)).astype(str).astype(object)
    return pd.DataFrame(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = frame_like_e1(args.rows)
    times = []
    for _ in range(args.repeat):
        start = time.process_time()
        _columns_digest(frame, list(frame.columns))
        times.append(time.process_time() - start)
    print(f"{args.rows} rows × {frame.shape[1]} columns: {min(times):.2f} s of CPU (best of {args.repeat})")


if __name__ == "__main__":
    main()
