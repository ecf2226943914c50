"""DAG integrity: every file in dags/ imports cleanly, and every DAG is documented, owned and scheduled right."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

if "airflow" not in sys.modules:  # airflow reads its home at import: never the user's ~/airflow
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="safetynet-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

PROJECT = Path(__file__).resolve().parent.parent
DAGS = PROJECT / "dags"
MONITORING = "safetynet_monitoring_run"
FEEDBACK = "safetynet_feedback"
HEAVY = ("polars", "duckdb", "dbt", "great_expectations", "pandas", "pyarrow", "openpyxl", "xlsxwriter")


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS), safe_mode=True)


@pytest.fixture(scope="module")
def datasets():
    from warehouse.orchestration import schedules

    return schedules.read_datasets()


def test_every_dag_file_imports_without_error(bag) -> None:
    assert bag.import_errors == {}
    py_files = sorted(p.name for p in DAGS.glob("*.py"))
    parsed = {Path(stat.file).name for stat in bag.dagbag_stats}
    assert parsed == set(py_files), "a DAG file lacks the words 'airflow' and 'dag', so the parser skips it"
    assert all(stat.dag_num >= 1 for stat in bag.dagbag_stats)


def test_expected_dags(bag, datasets) -> None:
    from warehouse.orchestration import schedules

    landing = {schedules.landing_dag_id(d.dataset) for d in datasets if d.frequency != "any_time"}
    assert set(bag.dag_ids) == landing | {MONITORING, FEEDBACK}
    assert len(landing) == len(datasets) - 1  # every contract but feedback, which has its own DAG


def test_no_cycles_and_tasks_reachable(bag) -> None:
    for dag in bag.dags.values():
        order = list(dag.topological_sort())  # raises on a cycle
        assert len(order) == len(dag.task_dict), dag.dag_id
        roots = [t for t in dag.tasks if not t.upstream_list]
        assert len(roots) == 1, f"{dag.dag_id} should be one chain from one start, has roots {roots}"


def test_every_dag_is_documented_tagged_owned(bag) -> None:
    for dag in bag.dags.values():
        assert dag.doc_md and len(dag.doc_md) > 200, dag.dag_id
        assert "safetynet" in dag.tags, dag.dag_id
        assert dag.catchup is False, dag.dag_id
        assert dag.max_active_runs == 1, dag.dag_id
        for t in dag.tasks:
            assert t.owner == "safetynet-data-engineering", (dag.dag_id, t.task_id)
            assert t.retries is not None and t.retries <= 3, (dag.dag_id, t.task_id)


def test_landing_schedules_match_contract_frequency(bag, datasets) -> None:
    from warehouse.orchestration import schedules

    for info in datasets:
        if info.frequency == "any_time":
            dag = bag.dags[FEEDBACK]
        else:
            dag = bag.dags[schedules.landing_dag_id(info.dataset)]
            assert info.frequency in dag.tags and info.department in dag.tags
        expected = schedules.cadence(info.frequency).cron
        assert dag.timetable.expression == expected, (info.dataset, info.frequency)
        assert str(getattr(dag.timetable.timezone, "name", dag.timetable.timezone)) == "Asia/Shanghai"
    # the cadences themselves: weekly on Mondays, monthly on the 1st, quarterly 4 times, each term twice
    assert schedules.cadence("weekly").cron.endswith("* * 1")
    assert schedules.cadence("monthly").cron.split()[2:4] == ["1", "*"]
    assert len(schedules.cadence("quarterly").cron.split()[3].split(",")) == 4
    assert len(schedules.cadence("each_term").cron.split()[3].split(",")) == 2
    assert schedules.cadence("any_time").cron.split()[2:] == ["*", "*", "*"]


def test_landing_dag_shape(bag, datasets) -> None:
    from warehouse.orchestration import deliveries, schedules

    for info in datasets:
        if info.frequency == "any_time":
            continue
        dag = bag.dags[schedules.landing_dag_id(info.dataset)]
        assert [t.task_id for t in dag.topological_sort()] == ["wait_for_delivery", "land", "check"]
        wait = dag.task_dict["wait_for_delivery"]
        assert isinstance(wait, deliveries.DeliverySensor) and wait.dataset == info.dataset and wait.retries == 0
        assert dag.task_dict["land"].pool == dag.task_dict["check"].pool == schedules.LANDING_POOL
        outlets = [a.uri for a in dag.task_dict["check"].outlets]
        assert outlets == [f"safetynet://lake/{info.dataset}"]


def test_monitoring_run_dag(bag, datasets) -> None:
    from airflow.sdk import AssetAll, AssetOrTimeSchedule

    from warehouse.orchestration import schedules, tasks

    dag = bag.dags[MONITORING]
    order = [t.task_id for t in dag.topological_sort()]
    assert order == ["resolve_run_date", "land_pending", "check", "build", "publish", "docs", "export", "record_run"]
    assert dag.task_dict["resolve_run_date"].is_setup and dag.task_dict["record_run"].is_teardown
    assert not dag.task_dict["record_run"].on_failure_fail_dagrun  # the run's state is that of its steps
    assert tuple(order[1:-1]) == tasks.RUN_STEPS
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    assert dag.timetable.timetable.expression == schedules.MONITORING_CRON
    condition = dag.timetable.asset_condition
    assert isinstance(condition, AssetAll)  # all monthly datasets, not any one of them
    uris = {a.uri for a in condition.objects}
    monthly = {f"safetynet://lake/{d.dataset}" for d in datasets if d.frequency == "monthly"}
    assert uris == monthly
    assert "run_date" in dag.params
    tasks = dag.task_dict
    assert tasks["build"].pool == tasks["publish"].pool == schedules.WAREHOUSE_POOL
    assert tasks["build"].retries >= 1 and tasks["publish"].retries >= 1


def test_every_warehouse_writer_is_in_the_one_slot_pool(bag) -> None:
    from warehouse.orchestration import schedules

    writers = {
        (MONITORING, "build"), (MONITORING, "publish"), (MONITORING, "docs"),  # dbt docs opens the warehouse
        (FEEDBACK, "refresh_register"), (FEEDBACK, "publish"),
    }  # fmt: skip
    for dag_id, task_id in writers:
        assert bag.dags[dag_id].task_dict[task_id].pool == schedules.WAREHOUSE_POOL
    in_pool = {(d.dag_id, t.task_id) for d in bag.dags.values() for t in d.tasks if t.pool == schedules.WAREHOUSE_POOL}
    assert in_pool == writers
    landers = {(d.dag_id, t.task_id) for d in bag.dags.values() for t in d.tasks if t.pool == schedules.LANDING_POOL}
    assert {(MONITORING, "land_pending"), (MONITORING, "check"), (FEEDBACK, "land_feedback")} <= landers


def test_dag_files_do_no_heavy_imports() -> None:
    """Parsing the folder in a fresh interpreter loads none of the heavy data libraries."""
    result = subprocess.run(
        [sys.executable, str(PROJECT / "bench" / "bench_dag_parse.py"), "--json", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT,
        env={**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["import_errors"] == {}
    loaded = set(report["heavy_modules_loaded"])
    assert not loaded & set(HEAVY), f"DAG files import {loaded} at parse time"
    assert report["files"], report
