"""Landing DAGs (Airflow 3): one DAG per dataset contract in ingestion/contracts/.

Each `safetynet_land_<dataset>` runs at its contract's comparison frequency, waits (deferred) for the
delivery of its window, lands it, checks it and emits the dataset's Asset, which the monitoring-run
DAG listens to. Parsing reads the contract YAML files only; all work happens in warehouse.orchestration.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import DAG, task

from warehouse.orchestration import deliveries, schedules, tasks
from warehouse.orchestration.schedules import LANDING_POOL, OWNER

START = pendulum.datetime(2024, 1, 1, tz=schedules.TIMEZONE)

DOC = """\
### Landing: {title} (`{dataset}`)

Department `{department}` · {kind} · comparison frequency **{frequency}**: {cadence}.

1. **wait_for_delivery** waits, deferred in the triggerer (no worker slot), until a `{dataset}` file whose
   cut-off lies in this run's window is in the inbox (`$SAFETYNET_DATA/inbox/{dataset}_<YYYYMMDD>[_<seq>].csv|xlsx`
   or `inbox/{dataset}/…`), or the ledger shows it already landed. When `$SAFETYNET_DATA/sources/{dataset}.yaml`
   names an exchange database (前置库), it also waits for new rows there: rows after the last pull's watermark
   up to the window's end (README, "Datasets from an exchange database"). The window is the period before the
   run's logical date ({window}); the delivery is **due {grace} after** the scheduled time.
   **A red `wait_for_delivery` with `LATE DELIVERY` in its log means the department's file (or table) is late.**
   When it arrives, clear the task (or let the next run take it).
2. **land** pulls the new rows of the database source (if any) up to the window's end, then lands every pending
   `{dataset}` file (pool `{landing_pool}`). It fails with `SOURCE ERROR` when the database cannot be pulled
   (unreachable, credentials, a missing table or column, a column type that does not fit: one line, nothing
   landed), with `REJECTED DELIVERY` when files came and none could be landed (see `ledger_landings.reason`),
   and is skipped when nothing new landed.
3. **check** runs the data-quality checks (pool `{landing_pool}`); it fails with `HELD BACK` when the checks hold
   the new delivery back (the build keeps using the last good one). On success it emits the Asset
   `{asset}`.

Re-land a corrected delivery: drop `{dataset}_<YYYYMMDD>_<seq+1>.csv` in the inbox and trigger this DAG.
"""


def _doc(info: schedules.DatasetInfo) -> str:
    plan = schedules.cadence(info.frequency)
    window = f"{plan.months} month(s)" if plan.months else f"{plan.days} day(s)"
    return DOC.format(
        title=info.title, dataset=info.dataset, department=info.department, kind=info.kind,
        frequency=info.frequency, cadence=plan.description, window=window, grace=plan.grace,
        landing_pool=LANDING_POOL, asset=schedules.dataset_asset(info.dataset).uri,
    )  # fmt: skip


def landing_dag(info: schedules.DatasetInfo) -> DAG:
    with DAG(
        dag_id=schedules.landing_dag_id(info.dataset),
        description=f"Land {info.dataset} ({info.title}), {info.frequency}",
        doc_md=_doc(info),
        schedule=schedules.landing_timetable(info.frequency),
        start_date=START,
        catchup=False,
        max_active_runs=1,  # two runs would land the same inbox files
        tags=["safetynet", "landing", info.department, info.frequency],
        default_args={
            "owner": OWNER,
            "retries": schedules.retries(1),
            "retry_delay": dt.timedelta(minutes=5),
        },
    ) as dag:
        wait = deliveries.DeliverySensor(
            task_id="wait_for_delivery", dataset=info.dataset, frequency=info.frequency, retries=0
        )

        @task(pool=LANDING_POOL, retries=schedules.retries(1), multiple_outputs=False)
        def land(found: dict | None = None) -> dict:
            """Pulls new rows and lands pending files; safe to retry: a delivery is keyed by its sha256, and a
            pull's watermark moves only with its landing."""
            return tasks.land(info.dataset, found)

        @task(
            pool=LANDING_POOL,
            outlets=[schedules.dataset_asset(info.dataset)],
            retries=schedules.retries(2),
            multiple_outputs=False,
        )
        def check(landed: dict) -> dict:
            return tasks.check_dataset(info.dataset, landed)

        landed = land(wait.output)
        check(landed)
    return dag


for _info in schedules.read_datasets():
    if _info.frequency != "any_time":  # feedback (any time) has its own DAG: safetynet_feedback.py
        globals()[schedules.landing_dag_id(_info.dataset)] = landing_dag(_info)
