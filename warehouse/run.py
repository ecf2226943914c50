"""A whole comparison run, in process: land → check → build → publish → export.

Each step is a function of its own so that the Airflow DAGs call exactly what the command line calls.
`run_comparison` chains them and records the run in the ledger (`runs`). A failed step leaves the last
published mart in place (publish only swaps in a complete file), and rerunning the same date finishes
the job with the same result: every step is idempotent. A build that had to leave models out (failure
policy, docs/failure_policy.md) still publishes the rest; the run is then `degraded`, and the county
workbooks go out whenever `fct_warnings` was built.

Around the steps (docs/internals.md, "A run's guards"): one run at a time per data root (a second is refused
with one line), runs left `running` by a killed process are marked `interrupted`, debris of stopped processes is
swept, owner-only places get their modes, and the state the ledger records is checked before anything is built
(warehouse/state.py). While the mart is published the run's status is `publishing`, so the `ledger_runs` copied
into the mart says so; the final status is written to the ledger after publishing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion import scratch, vault
from ingestion.ledger import open_ledger, transaction
from ingestion.private import tighten
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# counts(done, total, unit, detail): how far the current step is (landing: files; build: dbt nodes)
Counts = Callable[[int, int | None, str, str], None]

_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_date TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    -- running, publishing (its mart being published), succeeded, degraded (models left out: run_models),
    -- failed, interrupted (its process stopped; found by the next run)
    status TEXT NOT NULL,
    failed_step TEXT,
    error TEXT,
    step_seconds TEXT,               -- JSON {step: seconds}
    files_landed INTEGER,
    deliveries_held INTEGER,
    warnings_raised INTEGER,
    warnings_open INTEGER,
    workbooks INTEGER,
    reference_sources TEXT           -- JSON: which reference files the build used
)
"""


@dataclass
class RunSummary:
    run_date: dt.date
    steps: dict[str, float] = field(default_factory=dict)  # step → seconds
    state: Any = None
    landings: list[Any] = field(default_factory=list)
    checks: Any = None
    build: Any = None
    published: Any = None
    docs: Any = None
    exports: Any = None


@dataclass(frozen=True)
class RunRecord:
    """What a finished run's ledger row (`runs`) records, the same for the command line (from its RunSummary) and
    for the monitoring DAG (from its tasks' results)."""

    step_seconds: dict[str, float] = field(default_factory=dict)
    files_landed: int = 0
    deliveries_held: int | None = None  # None: the check step did not finish
    warnings_raised: int | None = None  # None: the build did not finish
    warnings_open: int | None = None
    workbooks: int | None = None  # county workbooks; None: no export
    reference_sources: list[Any] | None = None
    degraded: bool = False  # the build left models out (docs/failure_policy.md)

    @classmethod
    def of(cls, summary: RunSummary) -> RunRecord:
        build = summary.build
        return cls(
            step_seconds=dict(summary.steps),
            files_landed=sum(1 for r in summary.landings if getattr(r, "status", "") == "landed"),
            deliveries_held=len(summary.checks.held) if summary.checks is not None else None,
            warnings_raised=build.warnings_raised if build is not None else None,
            warnings_open=open_warnings(build.warnings_by_status) if build is not None else None,
            workbooks=len(summary.exports.county_workbooks) if summary.exports is not None else None,
            reference_sources=build.reference_sources if build is not None else None,
            degraded=bool(getattr(build, "degraded", False)),
        )


def open_warnings(warnings_by_status: dict[str, int]) -> int:
    return sum(count for status, count in warnings_by_status.items() if status in ("待核查", "逾期"))


def state_step(root: DataRoot) -> None:
    """Everything the ledger says must exist is there and unchanged, else BrokenState (before anything is built)."""
    from warehouse.state import verify_state

    verify_state(root)


def land_step(
    root: DataRoot,
    inbox: Path | None = None,
    counts: Counts | None = None,
    dataset: str | None = None,
    cutoff: dt.date | None = None,
    pull: bool = True,
) -> list[Any]:
    """Pull every exchange-database source (up to `cutoff`; unless `pull` is false), then land the inbox. A source
    that cannot be pulled is logged (one line) and the run goes on with what was landed before, as with a late file."""
    from ingestion.exchange import pull_sources
    from ingestion.landing import land_inbox

    def progress(done: int, total: int, file_name: str, rows: int) -> None:
        if counts:
            counts(done, total, "files", f"{rows:,} rows · {file_name}" if file_name else f"{rows:,} rows")

    pulled = [landing for outcome in pull_sources(root, cutoff) for landing in outcome.landings] if pull else []
    return pulled + land_inbox(root, inbox=inbox, dataset=dataset, progress=progress if counts else None)


def check_step(root: DataRoot) -> Any:
    from expectations.runner import check_pending

    return check_pending(root)


def build_step(
    root: DataRoot,
    run_date: dt.date,
    engine: str | None = None,
    run_id: int | None = None,
    counts: Counts | None = None,
) -> Any:
    from warehouse.build import build

    def progress(done: int, total: int) -> None:
        if counts:
            counts(done, total, "dbt nodes", "models and tests")

    return build(root, run_date, engine=engine, run_id=run_id, progress=progress if counts else None)


def publish_step(root: DataRoot) -> Any:
    from warehouse.publish import publish

    return publish(root)


def docs_step(root: DataRoot, run_date: dt.date) -> Any:
    """dbt docs of the models just built, published beside the mart (`published/docs/`)."""
    from warehouse.dbt_docs import generate_docs

    return generate_docs(root, run_date)


def export_step(root: DataRoot, run_date: dt.date) -> Any:
    from warehouse.exports import export_run

    return export_run(root, run_date)


def run_comparison(
    root: DataRoot,
    run_date: dt.date,
    inbox: Path | None = None,
    progress: Progress | None = None,
    export: bool = True,
    docs: bool = True,
    engine: str | None = None,
    counts: Counts | None = None,
) -> RunSummary:
    """Pull the database sources up to `run_date` and land what is in the inbox, check it, build the mart at
    `run_date` (on `engine`, else $SAFETYNET_ENGINE, else DuckDB), publish it (with its dbt docs), export the
    workbooks and the report. `progress(step)` is told each step as it starts, `counts(...)` how far landing and
    the build are."""
    summary = RunSummary(run_date)
    say = progress or (lambda message: log.info(message))
    with one_run_at_a_time(root):
        prepare_data_root(root)
        run_id = start_run(root, run_date)
        record_run_owner(root, run_id)
        steps: list[tuple[str, Callable[[], Any], str]] = [
            ("state", lambda: state_step(root), "state"),
            ("land", lambda: land_step(root, inbox, counts, cutoff=run_date), "landings"),
            ("check", lambda: check_step(root), "checks"),
            ("build", lambda: build_step(root, run_date, engine, run_id, counts), "build"),
            ("publish", lambda: publish_marked(root, run_id), "published"),
        ]
        if docs:
            steps.append(("docs", lambda: docs_step(root, run_date), "docs"))
        if export:
            steps.append(("export", lambda: export_step(root, run_date), "exports"))
        current = ""
        try:
            with scratch.work_dir(root):
                for current, step, attribute in steps:
                    if current == "export" and not warnings_built(summary):
                        say("export skipped: fct_warnings was not built")
                        continue
                    say(current)
                    started = time.perf_counter()
                    setattr(summary, attribute, step())
                    summary.steps[current] = round(time.perf_counter() - started, 2)
        except BaseException as err:
            finish_run(root, run_id, RunRecord.of(summary), failed_step=current, error=_describe(err))
            raise
        finish_run(root, run_id, RunRecord.of(summary))
    return summary


def warnings_built(summary: RunSummary) -> bool:
    """Whether this run's build made fct_warnings (else no workbook may go out: the register would be older)."""
    return summary.build is None or bool(getattr(summary.build, "warnings_built", True))


def run_status(record: RunRecord, failed_step: str | None) -> str:
    """failed (a step raised), degraded (the build left models out), else succeeded."""
    if failed_step:
        return "failed"
    return "degraded" if record.degraded else "succeeded"


def _describe(err: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(err), err)).strip()[:2000]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def start_run(root: DataRoot, run_date: dt.date) -> int:
    with open_ledger(root) as conn, transaction(conn):
        conn.execute(_RUNS_DDL)
        cursor = conn.execute(
            "INSERT INTO runs (run_date, started_at, status) VALUES (?, ?, 'running')",
            (run_date.isoformat(), _now()),
        )
        return int(cursor.lastrowid)


def finish_run(
    root: DataRoot, run_id: int, record: RunRecord, failed_step: str | None = None, error: str | None = None
) -> None:
    sources = record.reference_sources
    values = {
        "finished_at": _now(),
        "status": run_status(record, failed_step),
        "failed_step": failed_step,
        "error": error,
        "step_seconds": json.dumps(record.step_seconds),
        "files_landed": record.files_landed,
        "deliveries_held": record.deliveries_held,
        "warnings_raised": record.warnings_raised,
        "warnings_open": record.warnings_open,
        "workbooks": record.workbooks,
        "reference_sources": json.dumps(sources, ensure_ascii=False) if sources is not None else None,
    }
    assignments = ", ".join(f"{name} = ?" for name in values)
    with open_ledger(root) as conn, transaction(conn):
        conn.execute(f"UPDATE runs SET {assignments} WHERE run_id = ?", (*values.values(), run_id))


# ---------------------------------------------------------------- a run's guards


class RunBusy(RuntimeError):
    """Another comparison run (or a rebuild) holds the data root; the message is one line."""


@contextmanager
def one_run_at_a_time(root: DataRoot, what: str = "comparison run") -> Iterator[None]:
    """Hold the data root's run lock (`run.lock`) or refuse at once with RunBusy: a second `safetynet run` on the
    same data root does not wait behind the first (an Airflow task retries later)."""
    root.root.mkdir(parents=True, exist_ok=True)
    path = root.root / "run.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise RunBusy(
                f"another run is in progress on {root.root} ({holder}): this {what} was not started; "
                "try again when it has finished"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what}, pid {os.getpid()}, since {_now()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def prepare_data_root(root: DataRoot) -> None:
    """Before a run: runs whose process died are marked interrupted, their debris is swept, owner-only places get
    their modes (a data root written by an earlier version, or files copied in by hand)."""
    interrupted = mark_interrupted_runs(root)
    if interrupted:
        log.warning("run(s) %s were interrupted (their process stopped) and are marked so", interrupted)
    scratch.sweep(root)
    vault.sweep(root)
    changed = tighten(root) + vault.tighten(root)
    if changed:
        log.info("owner-only modes set on %d files and folders", changed)


_OWNERS_DDL = "CREATE TABLE IF NOT EXISTS run_owners (run_id INTEGER PRIMARY KEY, owner TEXT NOT NULL)"
OPEN_STATUSES = ("running", "publishing")


def record_run_owner(root: DataRoot, run_id: int) -> None:
    """Which process runs a run (`run_owners`): a later start can tell a run whose process died from one still going.
    Runs the Airflow DAG opens have no owner process (their tasks are separate processes) and are left alone."""
    with open_ledger(root) as conn, transaction(conn):
        conn.execute(_OWNERS_DDL)
        conn.execute("INSERT OR REPLACE INTO run_owners (run_id, owner) VALUES (?, ?)", (run_id, scratch.owner()))


def mark_interrupted_runs(root: DataRoot) -> list[int]:
    """Mark `interrupted` every open run whose owner process is gone; returns their ids."""
    with open_ledger(root) as conn, transaction(conn):
        conn.execute(_RUNS_DDL)
        conn.execute(_OWNERS_DDL)
        rows = conn.execute(
            "SELECT r.run_id, o.owner FROM runs r JOIN run_owners o USING (run_id) WHERE r.status IN (?, ?)",
            OPEN_STATUSES,
        ).fetchall()
        gone = [row["run_id"] for row in rows if not scratch.is_alive(row["owner"])]
        for run_id in gone:
            conn.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ?, "
                "error = coalesce(error, 'the process running it stopped before the run finished') WHERE run_id = ?",
                (_now(), run_id),
            )
    return gone


def set_run_status(root: DataRoot, run_id: int, status: str) -> None:
    with open_ledger(root) as conn, transaction(conn):
        conn.execute("UPDATE runs SET status = ? WHERE run_id = ?", (status, run_id))


def publish_marked(root: DataRoot, run_id: int | None) -> Any:
    """Publish with the run's status `publishing` meanwhile: the mart's copy of `ledger_runs` says the run was
    still being published (its final status is only known, and written to the ledger, after publishing)."""
    if run_id is None:
        return publish_step(root)
    set_run_status(root, run_id, "publishing")
    result = publish_step(root)
    set_run_status(root, run_id, "running")
    return result
