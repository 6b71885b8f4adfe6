"""DAG integrity: every DAG imports cleanly and carries what operators rely on."""

import ast
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[1] / "dags"
HEAVY_MODULES = {"pandas", "great_expectations", "pyarrow", "sqlalchemy", "openpyxl", "numpy", "techreform"}
# the step table; the watcher's trigger; the DAGs' task defaults
LIGHT_PACKAGE_MODULES = {"techreform.steps", "techreform.delivery.trigger", "techreform.airflow_support"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(DAGS))


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"techreform_monthly", "techreform_delivery"} <= set(dagbag.dags)


def test_every_dag_has_tags_an_owner_docs_and_at_least_two_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.doc_md and len(dag.doc_md) > 200, dag_id
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", (dag_id, task.task_id)
            assert task.retries >= 2, (dag_id, task.task_id)


def test_the_monthly_dag_processes_one_calendar_month_in_shanghai_time(dagbag):
    import pendulum
    from airflow.timetables.interval import CronDataIntervalTimetable

    dag = dagbag.dags["techreform_monthly"]
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    assert str(dag.timetable.timezone) in ("Asia/Shanghai", "Timezone('Asia/Shanghai')")
    scheduler_view = CronDataIntervalTimetable(dag.timetable.expression, timezone=dag.timetable.timezone)
    interval = scheduler_view.infer_manual_data_interval(run_after=pendulum.datetime(2013, 7, 1, tz="Asia/Shanghai"))
    assert interval.start == pendulum.datetime(2013, 6, 1, tz="Asia/Shanghai")
    assert interval.end == pendulum.datetime(2013, 7, 1, tz="Asia/Shanghai")
    assert dag.max_active_runs == 1


def test_the_monthly_dag_loads_projects_before_enterprises_and_supervises_after_the_gate(dagbag):
    dag = dagbag.dags["techreform_monthly"]
    upstream = {t.task_id: t.get_flat_relative_ids(upstream=True) for t in dag.tasks}
    assert "validate_load_projects" in upstream["validate_load_enterprises"]
    assert "validate_load_register" in upstream["validate_load_projects"]
    assert "quality_gate" in upstream["compute_indicators"]
    assert "quality_gate" in upstream["supervise"]
    assert "supervise" in upstream["notify"]


def test_dag_files_import_nothing_heavy_at_module_level():
    for path in DAGS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name in LIGHT_PACKAGE_MODULES:
                    continue
                assert name.split(".")[0] not in HEAVY_MODULES, f"{path.name} imports {name} at module level"


@pytest.mark.parametrize("module", sorted(LIGHT_PACKAGE_MODULES))
def test_what_the_dags_import_at_parse_time_imports_nothing_heavy(module):
    import subprocess
    import sys

    # what Airflow itself loads (the trigger's base class brings Airflow's own SQLAlchemy) is not ours
    probe = (
        "import sys, airflow.sdk, airflow.triggers.base; "
        f"heavy = {sorted(HEAVY_MODULES - {'techreform'})!r}; "
        "before = {m for m in heavy if m in sys.modules}; "
        f"import {module}; "
        "print(sorted(m for m in heavy if m in sys.modules and m not in before))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", (module, done.stdout)


def test_the_step_table_is_whole_at_parse_time():
    from techreform.steps import STEPS

    assert len(STEPS) >= 15


def test_the_dag_has_one_task_per_step_wired_as_the_table_says(dagbag):
    from techreform.steps import STEPS, upstream

    dag = dagbag.dags["techreform_monthly"]
    names = [s.name for s in STEPS]
    assert set(names) <= set(dag.task_dict)
    for step in STEPS:
        expected = set(upstream(step)) or {"wait_for_deliveries"}
        assert dag.task_dict[step.name].upstream_task_ids - {"report_period"} == expected, step.name
    # the table's order is one the DAG allows (the CLI runs it as is)
    for index, name in enumerate(names):
        assert dag.task_dict[name].get_flat_relative_ids(upstream=True) & set(names) <= set(names[:index]), name
    assert "wait_for_deliveries" in dag.task_dict[names[0]].get_flat_relative_ids(upstream=True)
    for step in STEPS:
        assert {a.uri for a in dag.task_dict[step.name].outlets} == set(step.outlets)


def test_the_forms_ingest_in_parallel_and_validate_in_order_each_after_its_own_ingest(dagbag):
    from techreform.forms import PROCESSING_ORDER
    from techreform.steps import TASK_LABELS

    dag = dagbag.dags["techreform_monthly"]
    labels = [TASK_LABELS[f.code] for f in PROCESSING_ORDER]
    assert labels[:4] == ["register", "supervisors", "projects", "enterprises"]  # the register first, E1 after P1
    ingests = {f"ingest_{label}" for label in labels}
    for name in ingests:
        assert dag.task_dict[name].upstream_task_ids - {"report_period"} == {"prepare_warehouse"}
        assert not dag.task_dict[name].get_flat_relative_ids(upstream=True) & (ingests - {name})
    validations = [f"validate_load_{label}" for label in labels]
    # the register is validated as soon as it is staged, while the other forms' files are still staged
    assert dag.task_dict[validations[0]].upstream_task_ids - {"report_period"} == {"ingest_register"}
    for label, before, after in zip(labels[1:], validations, validations[1:], strict=False):
        assert dag.task_dict[after].upstream_task_ids - {"report_period"} == {before, f"ingest_{label}"}
    # completeness reads the register in force and who sent rows (E1's and Q1's): beside E1's validation
    assert dag.task_dict["review"].upstream_task_ids - {"report_period"} == {
        "validate_load_register",
        "ingest_enterprises",
        "ingest_products",
    }
    for name in ("quality_gate", "write_receipts"):
        assert dag.task_dict[name].upstream_task_ids - {"report_period"} == {"review", validations[-1]}


def test_the_delivery_dag_runs_on_the_landing_watchers_asset_one_run_at_a_time(dagbag):
    from techreform.delivery.trigger import LANDING_ASSET, LandingTrigger

    dag = dagbag.dags["techreform_delivery"]
    assert dag.max_active_runs == 1
    assets = list(dag.timetable.asset_condition.objects)
    assert [a.uri for a in assets] == [LANDING_ASSET]
    watchers = [w for asset in assets for w in asset.watchers]
    assert len(watchers) == 1 and isinstance(watchers[0].trigger, LandingTrigger)
    assert [t.task_id for t in dag.tasks] == ["review_deliveries"]


def test_the_watchers_trigger_imports_nothing_heavy_beyond_airflows_trigger_base():
    import subprocess
    import sys

    probe = (
        "import sys, airflow.triggers.base; "
        f"before = {{m for m in {sorted(HEAVY_MODULES - {'techreform'})!r} if m in sys.modules}}; "
        "import techreform.delivery.trigger as t; "
        f"heavy = sorted(m for m in {sorted(HEAVY_MODULES - {'techreform'})!r} if m in sys.modules and m not in before); "
        "print(t.LandingTrigger().serialize()[0], heavy)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    path, heavy = done.stdout.strip().split(" ", 1)
    assert path == "techreform.delivery.trigger.LandingTrigger" and heavy == "[]", done.stdout
