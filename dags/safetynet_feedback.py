"""The feedback DAG (Airflow 3): daily, lands returned warning workbooks and refreshes the register.

The `feedback` dataset's frequency is `any_time`, so this DAG is its landing DAG (daily) and then
rebuilds and republishes the mart at the latest run's date so answered warnings show as 已核查.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import DAG, Param, get_current_context, task

from warehouse.orchestration import schedules, tasks
from warehouse.orchestration.schedules import LANDING_POOL, OWNER, PUBLISHED_ASSET, WAREHOUSE_POOL

BUILD_TIMEOUT = dt.timedelta(hours=2)

DOC = (
    f"""\
### Feedback: returned warning workbooks (核查反馈)

Daily at 07:00 (China time). Township and county staff return the county workbook with 核查结果,
处置措施, 核查日期, 核查人 filled in. Drop it, **under any name** (usually the name it was sent under,
`370102_历下区_低收入人口预警清单_2026-10-31.xlsx`), into `$SAFETYNET_DATA/inbox/feedback/`. The DAG
receives it through `warehouse.feedback.receive_feedback` (copied into the inbox as the next
`feedback/feedback_<today>[_<seq>].xlsx`, its county remembered, landed) and moves the original out of
the inbox to `$SAFETYNET_DATA/returned/<today>/`. Files already named `feedback_<YYYYMMDD>[_<seq>].xlsx|csv`
land as they are.

| task | what | retries | pool |
|---|---|---|---|
"""
    "| land_feedback | lands returned feedback; **skipped** when nothing new came back (the rest is then skipped) "
    f"| 1 | `{LANDING_POOL}` |\n"
    "| refresh_register | rebuilds the warehouse at the latest run's date (param `run_date` to choose another) "
    f"| 2 | `{WAREHOUSE_POOL}` |\n"
    f"""\
| publish | republishes `published/monitoring.duckdb` | 2 | `{WAREHOUSE_POOL}` |

On success `land_feedback` emits `{schedules.dataset_asset(schedules.FEEDBACK_DATASET).uri}`. The warehouse pool has
one slot, so this never writes while a monitoring run builds.
"""
)

with DAG(
    dag_id="safetynet_feedback",
    description="Daily: land returned feedback, refresh the warning register",
    doc_md=DOC,
    schedule=schedules.landing_timetable("any_time"),
    start_date=pendulum.datetime(2024, 1, 1, tz=schedules.TIMEZONE),
    catchup=False,
    max_active_runs=1,
    params={
        "run_date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Register run date",
            description="YYYY-MM-DD; empty = the latest comparison run's date",
        )
    },
    tags=["safetynet", "feedback", "daily"],
    default_args={"owner": OWNER, "retries": schedules.retries(1), "retry_delay": dt.timedelta(minutes=5)},
) as dag:

    @task(
        pool=LANDING_POOL,
        outlets=[schedules.dataset_asset(schedules.FEEDBACK_DATASET)],
        multiple_outputs=False,
    )
    def land_feedback() -> dict:
        return tasks.land_feedback()

    @task(
        pool=WAREHOUSE_POOL,
        retries=schedules.retries(2),
        execution_timeout=BUILD_TIMEOUT,
        multiple_outputs=False,
    )
    def refresh_register() -> dict:
        context = get_current_context()
        run = context["dag_run"]
        run_date = schedules.feedback_run_date(context["params"].get("run_date"), run.logical_date, run.run_after)
        return tasks.build(run_date.isoformat())

    @task(
        pool=WAREHOUSE_POOL,
        retries=schedules.retries(2),
        outlets=[PUBLISHED_ASSET],
        multiple_outputs=False,
    )
    def publish() -> dict:
        return tasks.publish()

    land_feedback() >> refresh_register() >> publish()
