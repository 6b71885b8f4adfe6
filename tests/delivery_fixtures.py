"""A small generated province for the instant review's tests (2013-01 and 2013-02, CSV, with defects)."""

from __future__ import annotations

from pathlib import Path

PERIOD = "2013-02"


def generate_province(out: Path, defect_rate: float) -> Path:
    from techreform.generator import GeneratorConfig, generate

    generate(
        out,
        GeneratorConfig(
            enterprises=60,
            projects=20,
            first_period="2013-01",
            last_period=PERIOD,
            defect_rate=defect_rate,
            file_formats=(("csv-utf8-sig", 1.0),),
        ),
    )
    return out
