"""Contracts → schedules: each dataset's comparison `frequency` becomes a cron in China time and a grace period;
the pools, Assets and owner the DAGs share; which month end a run is for.

Nothing here may import polars, duckdb, dbt or Great Expectations at module level (see __init__).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from airflow.sdk import Asset, CronTriggerTimetable

from ingestion.contracts import all_contracts
from ingestion.dates import CHINA_TZ_NAME, china_time
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

TIMEZONE = CHINA_TZ_NAME  # the DAGs' schedules and start dates

WAREHOUSE_POOL = "safetynet_warehouse"  # one slot: DuckDB allows one writer (build, publish)
# one slot: landings and checks share the inbox, the ledger, the vault compaction and the check results
LANDING_POOL = "safetynet_landing"
POOLS = {
    WAREHOUSE_POOL: "DuckDB warehouse: one writer at a time (dbt build, publish)",
    LANDING_POOL: "Landing and checks: one at a time (inbox, ledger, vault compaction, check results)",
}
FEEDBACK_DATASET = "feedback"
OWNER = "safetynet-data-engineering"
PUBLISHED_ASSET = Asset("safetynet://published/monitoring", group="safetynet")
EXPORTS_ASSET = Asset("safetynet://exports/workbooks", group="safetynet")
POKE_INTERVAL_ENV = "SAFETYNET_POKE_SECONDS"  # how often a waiting landing looks again (default 15 min)
RETRIES_CAP_ENV = "SAFETYNET_MAX_RETRIES"  # caps every task's retries (0 in local `airflow dags test`)


# ---------------------------------------------------------------------------- contracts and cadences


@dataclass(frozen=True)
class DatasetInfo:
    """The few contract fields the DAGs need (from ingestion.contracts: yaml and the standard library only)."""

    dataset: str
    title: str
    department: str
    kind: str
    frequency: str


@dataclass(frozen=True)
class Cadence:
    """How often a frequency is compared, and when its delivery is due."""

    frequency: str
    cron: str  # China time
    months: int  # window length in months (0: use days)
    days: int  # window length in days (weekly)
    grace: dt.timedelta  # delivery due this long after the scheduled time; zero: never late
    description: str

    @property
    def can_be_late(self) -> bool:
        return self.grace > dt.timedelta(0)


CADENCES: dict[str, Cadence] = {
    c.frequency: c
    for c in (
        Cadence("weekly", "0 6 * * 1", 0, 7, dt.timedelta(days=2),
                "every Monday 06:00 for cut-offs of the 7 days before; due by Wednesday 06:00"),
        Cadence("monthly", "0 6 1 * *", 1, 0, dt.timedelta(days=5),
                "the 1st of each month 06:00 for cut-offs in the month before; due by the 6th 06:00"),
        Cadence("quarterly", "0 6 1 1,4,7,10 *", 3, 0, dt.timedelta(days=10),
                "1 Jan/Apr/Jul/Oct 06:00 for cut-offs in the quarter before; due by the 11th 06:00"),
        Cadence("each_term", "0 6 1 5,11 *", 6, 0, dt.timedelta(days=15),
                "1 May and 1 November 06:00 (two months into each school term) for cut-offs in the "
                "6 months before; due by the 16th 06:00"),
        Cadence("any_time", "0 7 * * *", 0, 1, dt.timedelta(0),
                "daily 07:00, whatever has arrived; never late"),
    )
}  # fmt: skip
# the monitoring run: on the 8th (after the monthly due date) for the month before
MONITORING_CRON = "0 6 8 * *"


def retries(wanted: int) -> int:
    """A task's retries, capped by $SAFETYNET_MAX_RETRIES: `airflow dags test` really waits out each
    retry delay, which only slows a local test of a failing step."""
    cap = os.environ.get(RETRIES_CAP_ENV, "").strip()
    return min(wanted, int(cap)) if cap else wanted


def read_datasets(directory: Path | None = None) -> list[DatasetInfo]:
    """Every contract's dataset, title, department, kind and frequency, sorted by dataset."""
    contracts = all_contracts(directory).values()
    return [DatasetInfo(c.dataset, c.title, c.department, c.kind, c.frequency) for c in contracts]


def cadence(frequency: str) -> Cadence:
    try:
        return CADENCES[frequency]
    except KeyError:
        raise ValueError(f"unknown contract frequency {frequency!r}; expected one of {sorted(CADENCES)}") from None


def timetable(cron: str) -> CronTriggerTimetable:
    """A cron in China time; a DAG without a start date then waits for the next time when first unpaused."""
    return CronTriggerTimetable(cron, timezone=TIMEZONE, run_immediately=False)


def landing_timetable(frequency: str) -> CronTriggerTimetable:
    return timetable(cadence(frequency).cron)


def dataset_asset(dataset: str) -> Asset:
    """The Asset a landing DAG emits when a delivery of `dataset` has landed and passed its checks."""
    return Asset(f"safetynet://lake/{dataset}", group="safetynet")


def landing_dag_id(dataset: str) -> str:
    return f"safetynet_land_{dataset}"


def run_trigger_datasets(datasets: Iterable[DatasetInfo]) -> list[str]:
    """The datasets whose new deliveries, all together, trigger a monitoring run: the monthly ones.

    Weekly datasets are used by every run whenever they land; quarterly and each-term ones too rarely
    to wait for. When every monthly extract has a new delivery, the month is complete: run at once.
    """
    return sorted(d.dataset for d in datasets if d.frequency == "monthly")


# ---------------------------------------------------------------------------- dates


def month_end_before(moment: dt.datetime) -> dt.date:
    """The last day of the month before `moment`'s month, in China time (a run on 8 Nov → 31 Oct)."""
    return china_time(moment).date().replace(day=1) - dt.timedelta(days=1)


def resolve_run_date(
    requested: str | dt.date | None, logical_date: dt.datetime | None, run_after: dt.datetime | None
) -> dt.date:
    """The run date: as requested, else the month end before the logical date (or, for a run set off
    by Assets, which has no logical date, before the moment it was triggered)."""
    if isinstance(requested, dt.date):
        return requested
    if requested:
        return dt.date.fromisoformat(str(requested).strip())
    moment = logical_date or run_after
    if moment is None:
        raise ValueError("no run_date given and the run has neither a logical date nor a run_after")
    return month_end_before(moment)


def latest_run_date(root: DataRoot) -> dt.date | None:
    """The latest run date the ledger knows: its `runs` table, else the saved warning registers."""
    from warehouse.guards import latest_recorded_run

    return latest_recorded_run(root)


def feedback_run_date(
    requested: str | None, logical_date: dt.datetime | None, run_after: dt.datetime | None, root: DataRoot | None = None
) -> dt.date:
    """Feedback refreshes the register of the latest run (a new run date would raise new warnings)."""
    if requested:
        return dt.date.fromisoformat(requested)
    return latest_run_date(root or DataRoot.from_env()) or resolve_run_date(None, logical_date, run_after)
