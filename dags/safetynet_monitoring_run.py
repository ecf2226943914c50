"""The monitoring-run DAG (Airflow 3): land → check → build → publish → export for one run date.

Scheduled monthly and also set off when every monthly dataset has a new Asset (AssetOrTimeSchedule).
Each task calls the function `safetynet run` calls; see warehouse.orchestration.tasks and warehouse.run.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG, AssetAll, AssetOrTimeSchedule, Param, get_current_context, setup, task, teardown

from warehouse.orchestration import schedules, tasks
from warehouse.orchestration.schedules import LANDING_POOL, OWNER, PUBLISHED_ASSET, WAREHOUSE_POOL

TRIGGERS = schedules.run_trigger_datasets(schedules.read_datasets())
BUILD_TIMEOUT = dt.timedelta(hours=2)

DOC = f"""\
### Monitoring run (低收入人口动态监测 comparison run)

Builds the household monitoring mart for a **run date**, raises the warnings, publishes the analysts'
mart (`published/monitoring.duckdb`) and writes the county workbooks (`exports/<run date>/`).

**When it runs**: on the 8th of each month at 06:00 China time (Asia/Shanghai, whatever the server's zone),
and as soon as every monthly dataset ({", ".join(f"`{d}`" for d in TRIGGERS)}) has a new Asset from its
landing DAG. **Unpausing** starts nothing at once: the DAG has no start date and its timetable waits for
the next 8th (`run_immediately=False`). After a pause that missed an 8th, unpausing creates that missed run;
`resolve_run_date` skips it when the ledger already holds that month or a later one.

**Run date**: the `run_date` param (`YYYY-MM-DD`); empty = the last day of the month before the logical
date (asset-triggered runs: before the moment they were triggered). Trigger with config
`{{"run_date": "2026-10-31"}}` to run any month; backfill with `airflow backfill create` (docs/airflow.md).

| task | what | retries | pool |
|---|---|---|---|
| resolve_run_date | (setup) the run date, shown in XCom; opens the run's row in the ledger (`runs`) | 0 | – |
| land_pending | pulls database sources to the run date; lands what is left (never fails) | 1 | `{LANDING_POOL}` |
| check | data-quality checks on new deliveries (`expectations.runner.check_pending`) | 2 | `{LANDING_POOL}` |
| build | state check (lake, vault, registers in place), then dbt build at the run date | 2 | `{WAREHOUSE_POOL}` |
| publish | atomic copy to `published/monitoring.duckdb` (idempotent) | 2 | `{WAREHOUSE_POOL}` |
| docs | the dbt docs of the models just built, beside the mart (`published/docs/`) | 1 | `{WAREHOUSE_POOL}` |
| export | county workbooks of the run date (swapped in whole; an earlier export is kept) | 1 | – |
| record_run | (teardown, runs whatever happened) closes the run's ledger row: succeeded, degraded or failed | 0 | – |

The pool `{WAREHOUSE_POOL}` has **one slot**: DuckDB allows one writer, so a build or publish of
this DAG never overlaps one of `safetynet_feedback`.
"""

with DAG(
    dag_id="safetynet_monitoring_run",
    description="Monthly comparison run: land, check, build, publish, export",
    doc_md=DOC,
    schedule=AssetOrTimeSchedule(
        timetable=schedules.timetable(schedules.MONITORING_CRON),
        assets=AssetAll(*(schedules.dataset_asset(d) for d in TRIGGERS)),
    ),
    # no start_date: with one, catchup=False would still start the latest past 8th at once on unpausing
    catchup=False,  # backfill explicitly: airflow backfill create
    max_active_runs=1,  # runs share the warehouse and the register
    params={
        "run_date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Run date",
            description="YYYY-MM-DD; empty = the month end before the logical date",
        )
    },
    tags=["safetynet", "monitoring", "monthly"],
    default_args={"owner": OWNER, "retries": schedules.retries(1), "retry_delay": dt.timedelta(minutes=2)},
) as dag:

    @setup
    @task(retries=0)  # a retry would open a second ledger row
    def resolve_run_date() -> str:
        """The run date; opens the run's row in the ledger (`runs`, status running)."""
        context = get_current_context()
        run = context["dag_run"]
        chosen = schedules.resolve_run_date(context["params"].get("run_date"), run.logical_date, run.run_after)
        tasks.skip_stale_scheduled_run(run.run_type, chosen)
        context["ti"].xcom_push(key="run_id", value=tasks.start_run(chosen.isoformat()))
        return chosen.isoformat()

    @task(pool=LANDING_POOL, multiple_outputs=False)
    def land_pending(run_date: str) -> dict:
        """Pulls every database source up to the run date, then lands the inbox."""
        return tasks.land_all(run_date=run_date)

    @task(pool=LANDING_POOL, retries=schedules.retries(2), multiple_outputs=False)
    def check() -> dict:
        return tasks.check()

    @task(
        pool=WAREHOUSE_POOL,
        retries=schedules.retries(2),
        execution_timeout=BUILD_TIMEOUT,
        multiple_outputs=False,
    )
    def build(run_date: str) -> dict:
        run_id = get_current_context()["ti"].xcom_pull(task_ids="resolve_run_date", key="run_id")
        return tasks.build(run_date, run_id=run_id)

    @task(
        pool=WAREHOUSE_POOL,
        retries=schedules.retries(2),
        outlets=[PUBLISHED_ASSET],
        multiple_outputs=False,
    )
    def publish() -> dict:
        """Publishes the mart; the run's status reads `publishing` meanwhile (in the mart's ledger_runs too)."""
        run_id = get_current_context()["ti"].xcom_pull(task_ids="resolve_run_date", key="run_id")
        return tasks.publish(run_id=run_id)

    @task(pool=WAREHOUSE_POOL, retries=schedules.retries(1), multiple_outputs=False)
    def docs(run_date: str) -> dict:
        return tasks.docs(run_date)

    @task(outlets=[schedules.EXPORTS_ASSET], multiple_outputs=False)
    def export(run_date: str) -> dict:
        return tasks.export(run_date)

    @teardown
    @task(retries=schedules.retries(1), multiple_outputs=False)
    def record_run(run_date: str) -> dict:
        """Closes the run's ledger row, whatever happened (a teardown: it does not change the run's state)."""
        ti = get_current_context()["ti"]
        results = {step: ti.xcom_pull(task_ids=step) for step in tasks.RUN_STEPS}
        return tasks.finish_run(ti.xcom_pull(task_ids="resolve_run_date", key="run_id"), run_date, results)

    run_date = resolve_run_date()
    built = build(run_date)
    exported = export(run_date)
    land_pending(run_date) >> check() >> built >> publish() >> docs(run_date) >> exported >> record_run(run_date)
