"""What the Airflow DAGs need that is not a DAG definition (dags/ stays thin).

- contracts → schedules: each dataset's comparison `frequency` becomes a cron in China time, a delivery
  window (which cut-off dates a run waits for) and a grace period (when the delivery is late);
- "is it delivered yet / is it late": a delivery counts when a file for the window waits in the inbox,
  or the ledger already holds a usable landing for it;
- the deferrable `DeliverySensor` and its `DeliveryTrigger`, which wait in the triggerer, not a worker slot;
- the task bodies: each calls the function the command line calls (ingestion.landing, expectations,
  warehouse.run, warehouse.exports), importing it lazily so that parsing a DAG file stays cheap.

Nothing here may import polars, duckdb, dbt or Great Expectations at module level: the DAG processor
imports this module for every DAG file it parses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from airflow.sdk import Asset, BaseOperator, CronTriggerTimetable
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.triggers.base import BaseTrigger, TriggerEvent

from ingestion.contracts import all_contracts
from ingestion.dates import CHINA_TZ_NAME, add_months, china_time, china_today
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
# a landing that the delivery-window check may count as "arrived" (rejected or held back ones do not)
USABLE_LANDING_STATUSES = ("landed", "superseded")


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


@dataclass(frozen=True)
class DeliveryWindow:
    """A landing run waits for a delivery whose cut-off lies in [start, end], due by `due_at`."""

    dataset: str
    start: dt.date
    end: dt.date
    due_at: dt.datetime  # aware
    can_be_late: bool

    def covers(self, cutoff: dt.date | None) -> bool:
        return cutoff is not None and self.start <= cutoff <= self.end

    def describe(self) -> str:
        return f"{self.dataset} cut-off {self.start}..{self.end}, due {self.due_at:%Y-%m-%d %H:%M %Z}"


def delivery_window(
    dataset: str, frequency: str, moment: dt.datetime, grace: dt.timedelta | None = None
) -> DeliveryWindow:
    """The window of a landing run scheduled at `moment` (its logical date)."""
    plan = cadence(frequency)
    local = china_time(moment)
    run_day = local.date()
    start = add_months(run_day, -plan.months) if plan.months else run_day - dt.timedelta(days=plan.days)
    chosen = plan.grace if grace is None else grace
    return DeliveryWindow(dataset, start, run_day - dt.timedelta(days=1), local + chosen, plan.can_be_late)


# ---------------------------------------------------------------------------- delivered? late?


@dataclass(frozen=True)
class DeliveryStatus:
    window: DeliveryWindow
    pending: tuple[str, ...]  # inbox files (relative names) of the dataset with a cut-off in the window
    landed: tuple[str, ...]  # cut-offs in the window already landed (usable) per the ledger
    other_pending: tuple[str, ...]  # inbox files of the dataset outside the window (landed too)
    new_rows: bool = False  # a dataset with a database source: its exchange table has rows to pull
    problem: str | None = None  # why the database source could not be asked (one line, no credentials)

    @property
    def delivered(self) -> bool:
        return bool(self.pending or self.landed or self.new_rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.window.dataset,
            "window": [self.window.start.isoformat(), self.window.end.isoformat()],
            "due_at": self.window.due_at.isoformat(),
            "pending": list(self.pending),
            "already_landed": list(self.landed),
            "other_pending": list(self.other_pending),
            "new_rows": self.new_rows,
            "problem": self.problem,
        }


def pending_files(inbox: Path, dataset: str) -> list[tuple[str, dt.date | None]]:
    """(file name relative to the inbox, cut-off) of every delivery of `dataset` waiting in the inbox."""
    from ingestion.delivery import list_inbox  # the one parser of delivery names (docs/extracts.md#delivering-a-file)

    return [(d.file_name, d.cutoff) for d in list_inbox(inbox, dataset) if d.problem is None]


def landed_cutoffs(ledger: Path, dataset: str) -> list[dt.date]:
    """Cut-offs of `dataset` with a usable landing in the ledger (read-only; empty before any landing)."""
    if not ledger.exists():
        return []
    marks = ",".join("?" for _ in USABLE_LANDING_STATUSES)
    query = f"SELECT DISTINCT cutoff_date FROM landings WHERE dataset = ? AND status IN ({marks})"
    try:
        con = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30)
        try:
            rows = con.execute(query, (dataset, *USABLE_LANDING_STATUSES)).fetchall()
        finally:
            con.close()
    except sqlite3.Error as error:  # no landings table yet, or a schema we do not know: count nothing
        log.warning("cannot read landings of %s from %s: %s", dataset, ledger, error)
        return []
    return sorted({dt.date.fromisoformat(str(value)[:10]) for (value,) in rows if value})


def has_database_source(root: DataRoot, dataset: str) -> bool:
    """Whether `<data root>/sources/<dataset>.yaml` says the dataset is pulled from an exchange database."""
    return (root.root / "sources" / f"{dataset}.yaml").is_file()


def new_rows_status(root: DataRoot, dataset: str, through: dt.date) -> tuple[bool, str | None]:
    """(rows to pull up to `through`?, the problem when the source could not be asked)."""
    from ingestion.exchange import SourceError, has_new_rows

    try:
        return has_new_rows(root, dataset, through), None
    except SourceError as error:
        log.warning("%s", error)
        return False, str(error)


def delivery_status(root: DataRoot, window: DeliveryWindow) -> DeliveryStatus:
    """Files of the window in the inbox or landed; for a dataset with a database source, also new rows in its
    exchange table up to the window's end (the watermark check)."""
    files = pending_files(root.inbox, window.dataset)
    landed = [c for c in landed_cutoffs(root.ledger, window.dataset) if window.covers(c)]
    new_rows, problem = False, None
    if has_database_source(root, window.dataset):
        new_rows, problem = new_rows_status(root, window.dataset, window.end)
    return DeliveryStatus(
        window,
        pending=tuple(name for name, cutoff in files if window.covers(cutoff)),
        landed=tuple(c.isoformat() for c in landed),
        other_pending=tuple(name for name, cutoff in files if not window.covers(cutoff)),
        new_rows=new_rows,
        problem=problem,
    )


def is_late(status: DeliveryStatus, now: dt.datetime) -> bool:
    return status.window.can_be_late and not status.delivered and now >= status.window.due_at


def late_message(window: DeliveryWindow, inbox: Path, problem: str | None = None, database: bool = False) -> str:
    """Why the landing run is red; `database`: the dataset is pulled from an exchange database."""
    if database or problem is not None:
        return (
            f"LATE DELIVERY: no new {window.dataset} rows up to {window.end} in its exchange database by "
            f"{window.due_at:%Y-%m-%d %H:%M} (China time)"
            + (f"; the source could not be asked: {problem}" if problem else "")
            + ". Ask the department (or the sharing platform) to refresh the table; then clear this task."
        )
    return (
        f"LATE DELIVERY: no {window.dataset} delivery with a cut-off in {window.start}..{window.end} "
        f"reached {inbox} by {window.due_at:%Y-%m-%d %H:%M} (China time). Ask the department for the file; "
        f"once it is in the inbox, clear this task (or wait for the next scheduled run) to land it."
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DeliveryTrigger(BaseTrigger):
    """Polls the inbox and the ledger in the triggerer until the delivery is there or is late."""

    def __init__(
        self,
        data_root: str,
        dataset: str,
        frequency: str,
        moment: str,
        grace_seconds: float,
        poke_interval: float = 900.0,
    ):
        super().__init__()
        self.data_root = data_root
        self.dataset = dataset
        self.frequency = frequency
        self.moment = moment
        self.grace_seconds = grace_seconds
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "data_root": self.data_root,
                "dataset": self.dataset,
                "frequency": self.frequency,
                "moment": self.moment,
                "grace_seconds": self.grace_seconds,
                "poke_interval": self.poke_interval,
            },
        )

    def _window(self) -> DeliveryWindow:
        moment = dt.datetime.fromisoformat(self.moment)
        return delivery_window(self.dataset, self.frequency, moment, dt.timedelta(seconds=self.grace_seconds))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        root, window = DataRoot.from_env(self.data_root), self._window()
        while True:
            status = await asyncio.to_thread(delivery_status, root, window)
            now = _now()
            if status.delivered:
                yield TriggerEvent({"state": "delivered", **status.as_dict()})
                return
            if is_late(status, now):
                yield TriggerEvent({"state": "late", **status.as_dict()})
                return
            wait = self.poke_interval
            if window.can_be_late:
                wait = min(wait, max((window.due_at - now).total_seconds(), 0.0) + 0.01)
            await asyncio.sleep(wait)


class DeliverySensor(BaseOperator):
    """Waits for a dataset's delivery of this run's window, deferred: no worker slot while waiting.

    Returns (XCom) what it found. A delivery still missing at the due time fails the task with a
    LATE DELIVERY message and no retry: the landing run turns red in the UI, which is the signal.
    """

    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        dataset: str,
        frequency: str,
        grace: dt.timedelta | None = None,
        poke_interval: float = 900.0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.dataset = dataset
        self.frequency = frequency
        self.grace = cadence(frequency).grace if grace is None else grace
        self.poke_interval = poke_interval

    def _moment(self, context: Mapping[str, Any]) -> dt.datetime:
        run = context["dag_run"]
        return run.logical_date or run.run_after

    def execute(self, context: Any) -> dict[str, Any]:
        root = DataRoot.from_env()
        moment = self._moment(context)
        window = delivery_window(self.dataset, self.frequency, moment, self.grace)
        status = delivery_status(root, window)
        log.info("waiting for %s", window.describe())
        if status.delivered or is_late(status, _now()):
            return self.execute_complete(
                context, {"state": "delivered" if status.delivered else "late", **status.as_dict()}
            )
        poke = float(os.environ.get(POKE_INTERVAL_ENV, self.poke_interval))
        self.defer(
            trigger=DeliveryTrigger(
                str(root.root), self.dataset, self.frequency, moment.isoformat(), self.grace.total_seconds(), poke
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = event or {}
        if event.get("state") != "delivered":
            window = delivery_window(self.dataset, self.frequency, self._moment(context), self.grace)
            root = DataRoot.from_env()
            database = has_database_source(root, self.dataset)
            raise AirflowFailException(late_message(window, root.inbox, event.get("problem"), database))
        log.info(
            "delivery of %s: pending %s, already landed %s, new rows in its database %s",
            self.dataset,
            event.get("pending"),
            event.get("already_landed"),
            event.get("new_rows"),
        )
        return event


# ---------------------------------------------------------------------------- task bodies


def _timed(step: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Adds the step's wall time to its result (`step_seconds`), for the run's ledger row."""

    @functools.wraps(step)
    def timed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        started = time.perf_counter()
        result = step(*args, **kwargs)
        return {**result, "step_seconds": round(time.perf_counter() - started, 2)}

    return timed


def _field(record: Any, name: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def describe_landing(record: Any) -> dict[str, Any]:
    """A landing outcome (whatever ingestion returns) as a small JSON-able dict for XCom and logs."""
    names = (
        "file_name",
        "dataset",
        "cutoff_date",
        "seq",
        "status",
        "reason",
        "rows_in",
        "rows_landed",
        "rows_rejected",
        "rows_skipped",
        "sha256",
    )
    described = {name: _field(record, name) for name in names}
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in described.items() if v is not None}


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    by_status: dict[str, int] = {}
    for record in records:
        log.info("landing %s", record)
        by_status[str(record.get("status"))] = by_status.get(str(record.get("status")), 0) + 1
    rejected = [r.get("file_name") for r in records if r.get("status") == "rejected"]
    if rejected:
        log.warning("deliveries rejected whole: %s", rejected)
    return {
        "files": records,
        "by_status": by_status,
        "rows_landed": sum(int(r.get("rows_landed") or 0) for r in records),
    }


def land(dataset: str, found: Mapping[str, Any] | None = None, root: DataRoot | None = None) -> dict[str, Any]:
    """Land one dataset's deliveries (landing DAG): pull its database source, if it has one, up to the end of
    the window the sensor waited for (`found`, its XCom), then land its files in the inbox. A source that
    cannot be pulled fails the task with its one-line reason (nothing was landed from it)."""
    from ingestion.landing import land_inbox

    root = root or DataRoot.from_env()
    records: list[dict[str, Any]] = []
    if has_database_source(root, dataset):
        from ingestion.exchange import pull_dataset

        window = (found or {}).get("window") or [None, None]
        cutoff = dt.date.fromisoformat(window[1]) if window[1] else None
        records += _pulled(_pull_or_fail(pull_dataset, root, dataset, cutoff))
    records += [describe_landing(r) for r in land_inbox(root, dataset=dataset)]
    return _verdict(records, dataset)


def _pull_or_fail(pull: Callable[..., Any], *args: Any) -> Any:
    from ingestion.exchange import SourceError

    try:
        return pull(*args)
    except SourceError as error:
        raise AirflowFailException(f"SOURCE ERROR: {error}") from None


def _pulled(outcome: Any) -> list[dict[str, Any]]:
    log.info("pull of %s from %s: %s %s", outcome.dataset, outcome.source, outcome.status, outcome.message)
    return [describe_landing(r) for r in outcome.landings]


def _verdict(records: list[dict[str, Any]], what: str) -> dict[str, Any]:
    """Fail when files came and none could be landed (the run turns red: a rejected delivery); skip
    (nothing downstream, no Asset) when nothing new landed; else the summary."""
    summary = _summary(records)
    usable = [r for r in records if r.get("status") == "landed"]
    rejected = [r for r in records if r.get("status") == "rejected"]
    if rejected and not usable:
        reasons = "; ".join(f"{r.get('file_name')}: {r.get('reason')}" for r in rejected)
        raise AirflowFailException(f"REJECTED DELIVERY of {what}: {reasons}")
    if not usable:
        raise AirflowSkipException(f"nothing new of {what} landed ({summary['by_status'] or 'no files'})")
    return summary


@_timed
def land_all(root: DataRoot | None = None, run_date: str | None = None) -> dict[str, Any]:
    """Pull every database source up to the run date, then land whatever waits in the inbox (monitoring run).
    Never fails on a rejected file or an unreachable source: the run goes on with the last good delivery, and
    the problem shows in the ledger and the log (`source_errors`). Keeps the XCom small: counts, and the files
    that did not land."""
    from ingestion.exchange import pull_sources
    from ingestion.landing import land_inbox

    root = root or DataRoot.from_env()
    outcomes = pull_sources(root, dt.date.fromisoformat(run_date) if run_date else None)
    records = [record for outcome in outcomes for record in _pulled(outcome)]
    summary = _summary(records + [describe_landing(r) for r in land_inbox(root)])
    summary["files"] = [f for f in summary["files"] if f.get("status") != "landed"]
    summary["source_errors"] = [o.message for o in outcomes if o.status == "error"]
    return summary


def returned_workbooks(root: DataRoot) -> list[Path]:
    """Returned files in `inbox/feedback/` still under another name than a feedback delivery's (staff
    send the county workbook back as it was named: `370102_历下区_低收入人口预警清单_2026-10-31.xlsx`)."""
    from ingestion.delivery import parse_delivery

    folder = root.inbox / FEEDBACK_DATASET
    if not folder.is_dir():
        return []
    return [
        p for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in (".xlsx", ".csv") and not p.name.startswith((".", "~$"))
        and parse_delivery(p, root.inbox).dataset != FEEDBACK_DATASET
    ]  # fmt: skip


def land_feedback(root: DataRoot | None = None) -> dict[str, Any]:
    """Land returned feedback; skips (nothing downstream runs) when nothing new came back, fails when
    what came back could not be landed.

    Workbooks under their export names go through `warehouse.feedback.receive_feedback` (copied into the
    inbox under the next feedback name, county remembered, landed); their originals then move out of the
    inbox to `returned/<today>/` (owner-only), so nothing is received twice. Files already named `feedback_<date>…`
    land as any delivery.
    """
    from ingestion.landing import land_inbox
    from ingestion.private import private_dir, private_file
    from warehouse.feedback import receive_feedback

    root = root or DataRoot.from_env()
    today = china_today()  # the landing dates deliveries on China's calendar: so do we
    records = []
    for path in returned_workbooks(root):
        for receipt in receive_feedback(root, [path], today=today):
            records.append(
                {
                    **describe_landing(receipt.landing),
                    "returned_as": path.name,
                    "county_code": receipt.county_code,
                    "problems": receipt.problems.height,
                }
            )
        kept = private_dir(root.root / "returned" / today.isoformat(), place=root.root / "returned")
        private_file(path.replace(kept / path.name))  # names and ID numbers: owner-only
    records += [describe_landing(r) for r in land_inbox(root, dataset=FEEDBACK_DATASET)]
    return _verdict(records, FEEDBACK_DATASET)


@_timed
def check(root: DataRoot | None = None) -> dict[str, Any]:
    """Run the data-quality checks on newly landed deliveries, when the checks module exists."""
    root = root or DataRoot.from_env()
    try:
        from expectations.runner import check_pending
    except ImportError as error:
        log.warning("data-quality checks not available (%s): deliveries are used unchecked", error)
        return {"status": "not_available", "reason": str(error), "deliveries": 0, "held": []}
    return describe_checks(check_pending(root))


def describe_checks(summary: Any) -> dict[str, Any]:
    """A CheckSummary (expectations.runner) as a small dict: what was checked, what is held back and why."""
    checked = list(getattr(summary, "deliveries", []) or [])
    held = [
        {"dataset": _field(c.delivery, "dataset"), "file_name": _field(c.delivery, "file_name"),
         "sha256": _field(c.delivery, "sha256"), "reasons": list(getattr(c, "reasons", []))}
        for c in checked if getattr(c, "held", False)
    ]  # fmt: skip
    for item in held:
        log.warning("HELD BACK %s: %s", item["file_name"], "; ".join(item["reasons"]))
    return {
        "status": "checked",
        "deliveries": len(checked),
        "held": held,
        "failed_warnings": sum(int(getattr(c, "failed_warning", 0) or 0) for c in checked),
        "seconds": round(float(getattr(summary, "seconds", 0.0) or 0.0), 2),
        "docs": str(getattr(summary, "docs", "") or ""),
    }


def check_dataset(dataset: str, landed: Mapping[str, Any] | None, root: DataRoot | None = None) -> dict[str, Any]:
    """Checks after a landing; fails (no Asset) when the checks hold back everything just landed."""
    result = check(root)
    new = {f["sha256"] for f in (landed or {}).get("files", []) if f.get("status") == "landed" and f.get("sha256")}
    held = [h for h in result["held"] if h["dataset"] == dataset and h["sha256"] in new]
    if new and len(held) == len(new):
        reasons = "; ".join(f"{h['file_name']}: {', '.join(h['reasons'])}" for h in held)
        raise AirflowFailException(f"HELD BACK by the checks (the build keeps the last good delivery): {reasons}")
    return result


@_timed
def build(run_date: str, root: DataRoot | None = None, run_id: int | None = None) -> dict[str, Any]:
    """dbt build at the run date (warehouse.run.build_step, under the warehouse write lock), after the state
    check: on a lost lake the task fails with the line saying what is missing, and nothing is built. `run_id`
    ties the ledger's model and data-test rows to the run."""
    from ingestion.state import BrokenState
    from warehouse.build import BlockingTestFailed
    from warehouse.run import build_step, state_step

    root = root or DataRoot.from_env()
    try:
        state_step(root)
        result = build_step(root, dt.date.fromisoformat(run_date), run_id=run_id)
    except (BrokenState, BlockingTestFailed) as err:  # the same state fails again: no retry, the last mart stays
        raise AirflowFailException(str(err)) from err
    keep = (
        "run_date",
        "seconds",
        "models_built",
        "tests_passed",
        "previous_run_date",
        "warnings_raised",
        "warnings_by_status",
        "reference_sources",
        "degraded",
        "warnings_built",
    )
    described = {name: _jsonable(_field(result, name)) for name in keep}
    # the failure policy (docs/failure_policy.md): what was left out, which advisory tests failed
    described["models_left_out"] = [f"{m.model} ({m.status})" for m in _field(result, "models_left_out") or []]
    failures = _field(result, "advisory_failures") or []
    described["advisory_failures"] = {t.test: t.failing_rows for t in failures}
    return described


@_timed
def publish(root: DataRoot | None = None, run_id: int | None = None) -> dict[str, Any]:
    """Publish the mart; with the run's ledger id, its status reads `publishing` meanwhile (warehouse.run)."""
    from warehouse.run import publish_marked

    result = publish_marked(root or DataRoot.from_env(), run_id)
    return {"path": str(_field(result, "path")), "tables": _jsonable(_field(result, "tables"))}


@_timed
def docs(run_date: str, root: DataRoot | None = None) -> dict[str, Any]:
    """The dbt docs of the models just built, published beside the mart (`published/docs/`), as `safetynet run`."""
    from warehouse.run import docs_step

    return {"run_date": run_date, "docs": str(docs_step(root or DataRoot.from_env(), dt.date.fromisoformat(run_date)))}


def skip_stale_scheduled_run(run_type: Any, run_date: dt.date, root: DataRoot | None = None) -> None:
    """A scheduled run whose run date the ledger already holds, or has gone past, is skipped.

    Unpausing the DAG after a pause that missed a schedule makes the scheduler create at once the run of the
    latest missed time (catchup=False still takes the latest interval): when that month was run already, by
    hand or by `safetynet run`, it would rebuild an old month over a newer register. Manual, asset-triggered and
    backfill runs are never skipped: they ask for their date on purpose.
    """
    if getattr(run_type, "value", run_type) != "scheduled":  # DagRunType or its text
        return
    latest = latest_run_date(root or DataRoot.from_env())
    if latest is not None and run_date <= latest:
        raise AirflowSkipException(
            f"run date {run_date} is not after the latest recorded run ({latest}): nothing to do "
            "(a scheduled run created when the DAG was unpaused); trigger it with a run_date to rerun a month"
        )


@_timed
def export(run_date: str, root: DataRoot | None = None) -> dict[str, Any]:
    """County workbooks, province summary and run report of the run date (rewritten whole)."""
    from warehouse.exports import export_run
    from warehouse.exports.mart import RegisterNotBuilt

    try:
        summary = export_run(root or DataRoot.from_env(), dt.date.fromisoformat(run_date))
    except RegisterNotBuilt as skipped:  # a degraded run without fct_warnings: no workbook goes out
        log.warning("no exports: %s", skipped)
        return {"run_date": run_date, "skipped": str(skipped), "files": 0, "county_workbooks": 0}
    log.info("%s", summary)
    files = list(_field(summary, "files") or [])
    return {
        "run_date": run_date,
        "folder": str(_field(summary, "folder")),
        "files": len(files),
        "county_workbooks": sum(1 for f in files if _field(f, "kind") == "county_workbook"),
        "warnings_exported": _field(summary, "warnings_exported"),
    }


RUN_STEPS = ("land_pending", "check", "build", "publish", "docs", "export")  # the monitoring run's steps, in order


def start_run(run_date: str, root: DataRoot | None = None) -> int:
    """Opens the run's row in the ledger's `runs` (status running), as `safetynet run` does, after marking runs
    whose process died as interrupted and sweeping their debris."""
    from warehouse import run

    root = root or DataRoot.from_env()
    run.prepare_data_root(root)
    return run.start_run(root, dt.date.fromisoformat(run_date))


def finish_run(
    run_id: int, run_date: str, results: Mapping[str, Mapping[str, Any] | None], root: DataRoot | None = None
) -> dict[str, Any]:
    """Closes the run's ledger row from the steps' results (XComs): the first step without one failed."""
    from warehouse import run

    failed = next((step for step in RUN_STEPS if not results.get(step)), None)
    summary = run.RunSummary(dt.date.fromisoformat(run_date))
    summary.steps = {step: r["step_seconds"] for step, r in results.items() if r and "step_seconds" in r}
    landed = int(((results.get("land_pending") or {}).get("by_status") or {}).get("landed", 0))
    summary.landings = [SimpleNamespace(status="landed")] * landed
    # finish_run reads the step objects' attributes: give it the same names from the XCom dicts
    if (checks := results.get("check")) is not None:
        summary.checks = SimpleNamespace(held=list(checks.get("held") or []))
    if (built := results.get("build")) is not None:
        summary.build = SimpleNamespace(
            warnings_raised=built.get("warnings_raised"),
            warnings_by_status=built.get("warnings_by_status") or {},
            reference_sources=built.get("reference_sources") or [],
            degraded=bool(built.get("degraded")),
        )
    if (exported := results.get("export")) is not None:
        summary.exports = SimpleNamespace(county_workbooks=[None] * int(exported.get("county_workbooks") or 0))
    error = f"step {failed} did not finish: see its task log in Airflow" if failed else None
    run.finish_run(root or DataRoot.from_env(), run_id, summary, failed_step=failed, error=error)
    return {
        "run_id": run_id,
        "run_date": run_date,
        "status": run.run_status(summary, failed),
        "failed_step": failed,
        "steps": summary.steps,
    }


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


def _jsonable(value: Any) -> Any:
    """A result as XCom can store it: plain JSON types, else its repr (results are for people to read)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (dt.date, Path)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    return repr(value)[:2000]
