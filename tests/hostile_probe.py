"""Ingest one form and period of a data folder in this process and report what happened and the peak
resident memory, as JSON on stdout: ``python tests/hostile_probe.py <data_dir> <form> <period>``.

The hostile-file tests run it in a subprocess, so that each case's peak memory (``ru_maxrss``) is its own;
``scripts/measure_hostile_rss.py`` prints the figures of docs/reliability.md with it."""

from __future__ import annotations

import json
import resource
import sys


def peak_rss_kib() -> int:
    """This process's peak resident set in KiB: ``VmHWM`` of ``/proc/self/status`` (its own address space
    since exec), else ``ru_maxrss`` (which on Linux may count the parent's memory at fork)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str]) -> int:
    data_dir, form_code, period_text = argv
    from techreform.config import Settings
    from techreform.forms import form
    from techreform.ingest import ingest_form_period
    from techreform.periods import Period
    from techreform.pipeline import prepare_warehouse

    settings = Settings.from_env({"TECHREFORM_DATA_DIR": data_dir})
    engine = prepare_warehouse(settings)
    summary = ingest_form_period(engine, settings, form(form_code), Period.parse(period_text))
    print(
        json.dumps(
            {
                "files": [{"name": f.file_name, "status": f.status, "message": f.message} for f in summary.files],
                "peak_rss_mb": round(peak_rss_kib() / 1024, 1),
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
