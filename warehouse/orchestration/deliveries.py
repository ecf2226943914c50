"""Is it delivered yet, is it late: a delivery counts when a file for the window waits in the inbox, the ledger
already holds a usable landing for it, or (a database source) the exchange database has new rows. The deferrable
`DeliverySensor` and its `DeliveryTrigger` wait in the triggerer, not a worker slot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException
from airflow.triggers.base import BaseTrigger, TriggerEvent

from ingestion.dates import add_months, china_time
from ingestion.settings import DataRoot
from warehouse.orchestration.schedules import POKE_INTERVAL_ENV, cadence

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------- windows


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


def landed_cutoffs(root: DataRoot, dataset: str) -> list[dt.date]:
    """Cut-offs of `dataset` with a usable landing in the ledger (read-only; empty before any landing)."""
    from ingestion import ledger  # at run time only: it imports polars, which parsing a DAG must not

    if not root.ledger.exists():
        return []
    try:
        with ledger.read_only(root) as conn:
            return ledger.usable_cutoffs(conn, dataset)
    except sqlite3.Error as error:  # no landings table yet, or a schema we do not know: count nothing
        log.warning("cannot read landings of %s from %s: %s", dataset, root.ledger, error)
        return []


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
    landed = [c for c in landed_cutoffs(root, window.dataset) if window.covers(c)]
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
