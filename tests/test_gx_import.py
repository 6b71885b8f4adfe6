"""Great Expectations imported without SciPy's statistics (``techreform.validation.gx_import``): a fresh
interpreter validates the enterprises' whole suite and projects a target as the monthly report does
(``techreform.report.projection``) without executing ``scipy.stats``, and the deferred module is the real
one on its first use."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

SCRIPT = """
import json, sys
import techreform.validation
from techreform.forms import FORMS
from techreform.options import ValidationOptions
from techreform.periods import Period
from techreform.report.projection import project
from techreform.validation import _parameters, derive, suites
from validation_fixtures import e1_row, prepare_warehouse, staged

E1, JUNE = FORMS["E1"], Period.parse("2013-06")
rows = staged("E1", "2013-06", {"a.csv": [e1_row(1), e1_row(2, employees=0.5), e1_row(3, enterprise_name=" ")]})
with prepare_warehouse("sqlite:///" + sys.argv[1]).begin() as conn:
    frame = derive.helper_columns(conn, E1, rows, JUNE, ValidationOptions())
    result = suites.run_suite(E1, frame, _parameters(conn, JUNE))
months = [Period(2011, m) for m in range(1, 13)]
projection = project(months, [100.0 * m + (40 if m % 2 else -40) for m in range(1, 13)], 5900.0, "up")
executed_before_first_use = "scipy.stats._stats_py" in sys.modules
from scipy import stats  # as any later importer would
entropy = float(stats.entropy([0.5, 0.5], [0.25, 0.75]))
print(json.dumps({
    "expectations": len(result.results),
    "failed": sorted({r.expectation_config.meta["rule_id"] for r in result.results if not r.success}),
    "interval": projection.high > projection.value > projection.low,
    "executed_before_first_use": executed_before_first_use,
    "entropy": entropy,
    "executed_after_first_use": "scipy.stats._stats_py" in sys.modules,
}))
"""


def test_a_fresh_process_validates_and_projects_without_executing_scipy_stats_and_gets_it_on_first_use(tmp_path):
    from techreform.forms import FORMS
    from techreform.validation import suites

    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "warehouse.sqlite")],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(TESTS), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["expectations"] == len(suites.suite_dict(FORMS["E1"])["expectations"])
    assert {"E1-H03", "E1-H07"} <= set(seen["failed"])  # the suite really ran: the planted defects fail
    assert seen["interval"] is True  # the projection's t quantile was taken
    assert seen["executed_before_first_use"] is False
    assert math.isclose(seen["entropy"], 0.5 * math.log(4 / 3))  # Σ p·ln(p/q) of the two distributions
    assert seen["executed_after_first_use"] is True


def test_a_module_imported_already_is_left_as_it_is():
    import scipy.stats

    from techreform.validation import gx_import

    before = sys.modules["scipy.stats"]
    assert gx_import.defer_scipy_stats() is False
    assert sys.modules["scipy.stats"] is before is scipy.stats
