"""Mutation testing of the core modules with mutmut 3, one module group at a time, each against the
fast test files that cover it (SQLite only: the PostgreSQL variants of those tests exercise the same
Python).

mutmut 3 imports mutated code from ``mutants/src`` and names modules after their path; this project's
package lives in ``include/``. So each group runs in a scratch folder ``var/mutation/<group>/`` whose
``src`` is a link to ``include`` and whose ``pyproject.toml`` is the project's with a ``[tool.mutmut]``
section for that group (``only_mutate`` its modules, the test files as the test selection). SQL and
expectation files are read from the work tree (``TECHREFORM_SQL_DIR``, ``TECHREFORM_EXPECTATIONS_DIR``).

    python scripts/mutation.py                      # every group
    python scripts/mutation.py codes cells          # some groups
    python scripts/mutation.py --list
    python scripts/mutation.py --report             # the scores of the last runs, from var/mutation

The score of a module is (killed + timeout) / every mutant run, printed per module and kept in
``var/mutation/scores.json``. mutmut's own tools work in a group's folder, e.g.
``cd var/mutation/codes && ../../../.venv/bin/mutmut show <mutant>``."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "mutation"

# group → (modules under include/, test files)
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "codes": (
        ("techreform/codes.py",),
        (
            "tests/test_periods_and_codes.py",
            "tests/test_validation_uscc.py",
            "tests/test_mutants_codes_cells.py",
            "tests/test_properties.py",
        ),
    ),
    "cells": (
        ("techreform/cells.py",),
        ("tests/test_cells.py", "tests/test_mutants_codes_cells.py", "tests/test_properties.py"),
    ),
    # tests/test_mutants_readers.py pins on bytes, in milliseconds, what tests/test_hostile_files.py checks
    # through the whole ingest (about 10 s per surviving mutant on the 2-core machine: left out)
    "readers": (("techreform/readers.py",), ("tests/test_readers.py", "tests/test_mutants_readers.py")),
    # the whole module against its direct tests: the parsing core, and the file handling and staging on a
    # small store and SQLite warehouse in tmp_path (tests/test_ingest.py and test_hostile_files.py run
    # the whole ingest-validate-load chain: seconds per test)
    "ingest": (
        ("techreform/ingest.py",),
        ("tests/test_mutants_ingest.py", "tests/test_mutants_ingest_files.py"),
    ),
    # the whole load against tests/test_mutants_load.py (decide_outcomes on frames; load_form_period on a
    # small SQLite warehouse, with the GX suite replaced by chosen failures): tests/test_load.py runs the
    # whole ingest-validate-load chain for each mutant that survives, about 40 s each on the 2-core machine
    "load": (("techreform/load.py",), ("tests/test_mutants_load.py",)),
    "hb": (("techreform/validation/hb.py",), ("tests/test_validation_hb.py", "tests/test_mutants_hb.py")),
    # every form's helper columns, computed directly on small frames and a SQLite warehouse
    "derive": (("techreform/validation/derive.py",), ("tests/test_mutants_hb.py", "tests/test_mutants_derive.py")),
    "outcomes": (
        ("techreform/validation/outcomes.py",),
        # tests/test_validation_rules.py and test_validation_explanations.py reach it through the GX suites
        # and the warehouse (seconds per test): the direct tests decide
        ("tests/test_mutants_outcomes.py",),
    ),
    # the rest of validation/: the masks of the custom GX expectations on small Series; the gate, the
    # explanations and the kept check on a tiny SQLite warehouse (tests/test_validation_rules.py,
    # test_validation_explanations.py and test_delivery.py reach them through the GX suites, seconds each)
    "expectations": (
        ("techreform/validation/expectations.py",),
        ("tests/test_validation_uscc.py", "tests/test_mutants_expectations.py"),
    ),
    "gate": (("techreform/validation/gate.py",), ("tests/test_mutants_gate.py",)),
    "explanations": (("techreform/validation/explanations.py",), ("tests/test_mutants_explanations.py",)),
    "reuse": (("techreform/validation/reuse.py",), ("tests/test_mutants_reuse.py",)),
    # E1 and Q1 completeness on a tiny SQLite warehouse (tests/test_validation_pipeline.py and
    # test_annual_registry_forms.py reach it through the whole chain, seconds per test)
    "completeness": (("techreform/validation/completeness.py",), ("tests/test_mutants_completeness.py",)),
    # validate_staged and record_results, and the suites, on a few rows with E1's suite cut to six rules
    # (GX in about a second; tests/test_validation_rules.py runs every rule, seconds per form)
    "validation": (("techreform/validation/__init__.py",), ("tests/test_mutants_validation.py",)),
    "suites": (("techreform/validation/suites.py",), ("tests/test_mutants_validation.py",)),
    "supervision-rules": (
        ("techreform/supervision/rules.py",),
        (
            "tests/test_supervision_rules.py",
            "tests/test_mutants_rules.py",
            "tests/test_mutants_supervision.py",
            "tests/test_properties.py",
            "tests/test_supervision_cases.py",
        ),
    ),
    "notify": (
        ("techreform/supervision/notify.py", "techreform/supervision/delivery_log.py"),
        # tests/test_mutants_notify_period.py reaches plan_deliveries, notify_period and deliver_messages
        # with one SMTP server per module and a judged period of a few rows (about 0.3 s a test);
        # tests/test_supervision_emails.py (a server started per test, seconds each) is left out
        ("tests/test_mutants_notify.py", "tests/test_mutants_notify_period.py"),
    ),
    "indicators": (
        (
            "techreform/indicators/compute.py",
            "techreform/indicators/plan.py",
            "techreform/indicators/headline.py",
            "techreform/indicators/corrections.py",
        ),
        (
            "tests/test_indicators_edges.py",
            "tests/test_indicators_sources.py",
            "tests/test_indicators_targets.py",
            "tests/test_indicators_rerun.py",
            "tests/test_corrections_recompute.py",
            "tests/test_mutants_indicators.py",
            "tests/test_properties.py",
        ),
    ),
}
# group → mutant-name patterns (``mutmut run`` arguments) when only part of a module is run by default
# (a function reached only through the slow whole chain); ``--all-functions`` runs them too. Every group
# runs its whole modules now: each is reached by direct tests in milliseconds to a second.
FUNCTIONS: dict[str, tuple[str, ...]] = {}
PYTEST_ARGS = ["-m", "not postgres and not slow", "-p", "no:cacheprovider", "-x", "-q"]


def prepare(group: str, fresh: bool = True) -> Path:
    modules, tests = GROUPS[group]
    folder = WORK / group
    if fresh:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / "src").symlink_to(ROOT / "include", target_is_directory=True)
        (folder / "tests").symlink_to(ROOT / "tests", target_is_directory=True)
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pytest_section = project[project.index("[tool.pytest.ini_options]") :]
    pytest_section = pytest_section[: pytest_section.find("\n[", 1) + 1 or None]
    mutmut = {
        "source_paths": ["src"],
        "only_mutate": [f"src/{m}" for m in modules],
        "pytest_add_cli_args": PYTEST_ARGS,
        "pytest_add_cli_args_test_selection": list(tests),
        "use_git_change_detection": False,
    }
    lines = ["[tool.mutmut]"] + [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in mutmut.items()]
    (folder / "pyproject.toml").write_text(pytest_section.rstrip() + "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))  # fail early on a bad file
    return folder


def run_group(group: str, max_children: int, all_functions: bool = False, survivors: bool = False) -> dict:
    """Run a group from scratch, or (``survivors``) only the mutants that survived its last run, against
    the group's current test files: tests added since cannot revive a killed mutant."""
    if survivors:
        folder = WORK / group
        previous = (folder / "mutmut-results.txt").read_text(encoding="utf-8")
        names = [m.group(1) for m in re.finditer(r"^\s*(\S+__mutmut_\d+): (survived|no tests)$", previous, re.M)]
        if not names:
            return collect(group)
        (folder / "mutmut-results-before-survivors.txt").write_text(previous, encoding="utf-8")
        prepare(group, fresh=False)
        shutil.copytree(ROOT / "tests", folder / "mutants" / "tests", dirs_exist_ok=True)
    else:
        folder = prepare(group)
        names = [] if all_functions else list(FUNCTIONS.get(group, ()))
    env = {
        **os.environ,
        "TECHREFORM_SQL_DIR": str(ROOT / "include" / "sql"),
        "TECHREFORM_EXPECTATIONS_DIR": str(ROOT / "expectations"),
        "TECHREFORM_TEST_AIRFLOW_HOME": str(folder / "airflow"),
    }
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    with open(folder / "mutmut-run.log", "w", encoding="utf-8") as log:
        subprocess.run(
            [str(mutmut), "run", "--max-children", str(max_children), *names],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    seconds = time.monotonic() - started
    if survivors:  # the run time shown stays that of the full run
        print(f"   (survivors run again in {round(seconds)} s)", flush=True)
        return collect(group, None)
    return collect(group, seconds)


def collect(group: str, seconds: float | None = None) -> dict:
    """Summarise the results in a group's folder (after a run, or one left to finish on its own)."""
    folder = WORK / group
    mutmut = Path(sys.executable).with_name("mutmut")
    results = subprocess.run(
        [str(mutmut), "results", "--all", "true"], cwd=folder, capture_output=True, text=True, check=False
    )
    text = results.stdout
    before = folder / "mutmut-results-before-survivors.txt"
    if before.exists():  # a run of the survivors only: the others keep the status of the full run
        earlier = dict(re.findall(r"^\s*(\S+__mutmut_\d+): (.+)$", before.read_text(encoding="utf-8"), re.M))
        now = dict(re.findall(r"^\s*(\S+__mutmut_\d+): (.+)$", text, re.M))
        merged = {
            name: (now.get(name) if now.get(name) not in (None, "not checked") else status)
            for name, status in earlier.items()
        }
        text = "".join(f"    {name}: {status}\n" for name, status in merged.items())
    (folder / "mutmut-results.txt").write_text(text + results.stderr, encoding="utf-8")
    results = subprocess.CompletedProcess(results.args, 0, text, "")
    if seconds is None:
        previous = (
            json.loads((WORK / "scores.json").read_text(encoding="utf-8")).get(group, {})
            if (WORK / "scores.json").exists()
            else {}
        )
        seconds = previous.get("seconds")
    return summarise(group, results.stdout, seconds)


def summarise(group: str, results: str, seconds: float | None) -> dict:
    """Counts per module and status from ``mutmut results --all true``; the score is (killed + timeout) /
    (every mutant but those not run), so "no tests" (no test reaches the line) counts as a survivor."""
    by_module: dict[str, Counter] = {}
    for line in results.splitlines():
        match = re.match(r"([\w.]+)__mutmut_\d+: (.+)$", line.strip())
        if not match:
            continue
        name, status = match.groups()
        module = re.sub(r"\.(x_|xǁ).*$", "", name)
        by_module.setdefault(module, Counter())[status.strip()] += 1
    out = {"group": group, "seconds": None if seconds is None else round(seconds), "modules": {}}
    for module, counts in sorted(by_module.items()):
        killed = counts["killed"] + counts["timeout"]
        scored = sum(n for s, n in counts.items() if s not in ("skipped", "not checked"))
        out["modules"][module] = {**counts, "score": round(100 * killed / scored, 1) if scored else None}
    return out


def report(scores: dict) -> str:
    """The scores of the last run of each group as a Markdown table (mutants = those run)."""
    lines = [
        "| module | mutants | killed | timeout | survived | no tests | score | run (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for summary in scores.values():
        for module, c in summary["modules"].items():
            run = sum(v for k, v in c.items() if k not in ("score", "not checked", "skipped"))
            lines.append(
                f"| `{module}` | {run} | {c.get('killed', 0)} | {c.get('timeout', 0)} | "
                f"{c.get('survived', 0)} | {c.get('no tests', 0)} | {c['score']} % | {summary['seconds']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"groups to run (default: all): {', '.join(GROUPS)}")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--report", action="store_true", help="print the scores of the last runs and stop")
    parser.add_argument(
        "--all-functions",
        action="store_true",
        help="also the functions left out by default (FUNCTIONS: slow database round trips)",
    )
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="run again only the mutants that survived the groups' last runs (after adding tests)",
    )
    parser.add_argument(
        "--collect",
        action="store_true",
        help="do not run: summarise what is in the groups' folders (e.g. after an interrupted run)",
    )
    parser.add_argument(
        "--fail-under",
        type=float,
        default=0.0,
        help="exit 1 when a module of the groups run scores below this percentage",
    )
    args = parser.parse_args(argv)
    if args.list:
        for name, (modules, tests) in GROUPS.items():
            print(f"{name:18} {' '.join(modules)}  ←  {' '.join(tests)}")
        return 0
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {unknown}; known: {', '.join(GROUPS)}")
    WORK.mkdir(parents=True, exist_ok=True)
    scores_file = WORK / "scores.json"
    scores = json.loads(scores_file.read_text(encoding="utf-8")) if scores_file.exists() else {}
    if args.report:
        print(report(scores))
        return 0
    low = []
    for group in args.groups or list(GROUPS):
        print(f"== {group}", flush=True)
        summary = (
            collect(group) if args.collect else run_group(group, args.max_children, args.all_functions, args.survivors)
        )
        scores[group] = summary
        scores_file.write_text(json.dumps(scores, ensure_ascii=False, indent=1), encoding="utf-8")
        for module, counts in summary["modules"].items():
            print(f"   {module:45} {counts}", flush=True)
            if counts["score"] is None or counts["score"] < args.fail_under:
                low.append(module)
        print(f"   ({summary['seconds']} s)", flush=True)
    print(report({g: scores[g] for g in args.groups or list(GROUPS)}))
    if low:
        print(f"below {args.fail_under} %: {', '.join(low)}")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
