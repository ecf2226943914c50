"""`safetynet rebuild`: the lake, the vault and the warehouse made again from `raw/` and the ledger.

For a data root whose lake, vault or warehouse was lost (a disk cleaned by hand, a restore gone wrong): every
delivery is landed again from the raw archive in the ledger's order (ingestion/rebuild.py), the vault is folded
again, the state is checked, and the warehouse is built from scratch at the latest run date the ledger saved a
register for, then published. The ledger is the record of what happened and is not rewritten: the same deliveries
are in use, held back and released as before, and the rebuilt register of the latest run equals the saved one.
County workbooks are not written again. Holds the run lock: no run or other rebuild at the same time.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingestion import scratch
from ingestion.landing import landing_lock
from ingestion.ledger import open_ledger
from ingestion.rebuild import RelandSummary, reland_all
from ingestion.settings import DataRoot
from warehouse.run import one_run_at_a_time, prepare_data_root

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# counts(done, total, unit, detail): as warehouse.run.Counts (deliveries re-landed, dbt nodes built)
Counts = Callable[[int, int | None, str, str], None]


@dataclass
class RebuildSummary:
    relanded: RelandSummary
    run_date: dt.date | None  # the run the warehouse was rebuilt for (None: no run was ever made)
    build: Any = None
    published: Any = None
    seconds: float = 0.0

    def __str__(self) -> str:
        built = f"warehouse rebuilt and published for the run of {self.run_date}" if self.run_date else "no run yet"
        changed = f"; {len(self.relanded.changed)} file(s) differ from their record" if self.relanded.changed else ""
        return (
            f"rebuilt from raw/: {self.relanded.deliveries} deliveries, {self.relanded.files} lake and quarantine "
            f"files, {self.relanded.persons} persons in the vault{changed}; {built} ({self.seconds:.1f} s)"
        )


def latest_register_date(root: DataRoot) -> dt.date | None:
    """The latest run date whose warning register the ledger saved."""
    with open_ledger(root) as conn:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'warning_register'").fetchone()
        row = conn.execute("SELECT max(run_date) FROM warning_register").fetchone() if exists else None
    return dt.date.fromisoformat(row[0]) if row and row[0] else None


def rebuild(
    root: DataRoot, progress: Progress | None = None, engine: str | None = None, counts: Counts | None = None
) -> RebuildSummary:
    """Re-land every delivery from raw/, fold the vault, check the state, rebuild and publish the warehouse.
    `progress(step)` is told each step as it starts, `counts(...)` how far re-landing and the build are."""
    from warehouse.build import build
    from warehouse.publish import publish
    from warehouse.state import verify_state

    say = progress or log.info
    started = time.perf_counter()

    def relanded_so_far(done: int, total: int, name: str) -> None:
        if counts:
            counts(done, total, "deliveries", name)

    def built_so_far(done: int, total: int) -> None:
        if counts:
            counts(done, total, "dbt nodes", "models and tests")

    with one_run_at_a_time(root, "rebuild"):
        prepare_data_root(root)
        with scratch.work_dir(root) as work, landing_lock(root):
            say("reland")
            relanded = reland_all(root, work, relanded_so_far)
        say("state")
        verify_state(root)
        summary = RebuildSummary(relanded, latest_register_date(root))
        if summary.run_date is not None:
            say("build")
            summary.build = build(root, summary.run_date, full_refresh=True, engine=engine, progress=built_so_far)
            say("publish")
            summary.published = publish(root)
    summary.seconds = round(time.perf_counter() - started, 1)
    log.info("%s", summary)
    return summary
