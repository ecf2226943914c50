"""Build the warehouse at a run date: prepare the lake's side inputs, run `dbt build` in process, keep the register.

    build(root, run_date) -> BuildResult

1. Inputs beside the landed data (under one write lock: DuckDB allows one writer):
   - `lake/_deliveries.parquet` from the ledger (which delivery of each dataset and cut-off is in use);
   - a zero-row `lake/<dataset>/_schema.parquet` per dataset, so a dataset with no delivery still reads;
   - `lake/_reference/*.parquet`: the effective reference data (shipped seeds or the user's overrides in
     `<data root>/reference/`), parameters resolved for every county at the run date, the working-day calendar;
   - `lake/_state/previous_register.parquet`: the register of the latest earlier run, from the ledger.
2. `dbt build` of dbt_project/ with `--vars {run_date: ...}` (dbtRunner, in this process).
3. The run's `fct_warnings` saved to the ledger (`warning_register`), for the next run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ingestion.lake import ensure_schema_files, write_atomic
from ingestion.ledger import export_deliveries
from ingestion.settings import DataRoot
from warehouse.engines import Engine, publish_spark_marts, register_lake, resolve_engine, spark_session
from warehouse.lock import warehouse_write_lock
from warehouse.register import export_previous_register, later_run_exists, save_register

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
REFERENCE_DIR = "_reference"
# The calendar the deadlines are counted on: a little before the run date, and far enough after it for
# 30 working days even across Spring Festival.
CALENDAR_DAYS_BEFORE = 3 * 366  # covers the oldest open application and warning a run looks at
CALENDAR_DAYS_AFTER = 366
_FAILED = {"error", "fail", "runtime error"}
FEEDBACK_ANY_TIME = "9999-12-31"

# nodes_progress(done, total): dbt nodes (models, tests, seeds) finished so far, of those the command runs
NodesProgress = Callable[[int, int], None]


class BuildError(RuntimeError):
    """dbt build failed; the message names each failing model or test."""

    def __init__(self, message: str, failures: Sequence[str] = ()):
        super().__init__(message)
        self.failures = list(failures)


@dataclass(frozen=True)
class BuildResult:
    run_date: dt.date
    seconds: float
    models_built: int
    tests_passed: int
    previous_run_date: dt.date | None
    # warnings whose trigger held in this run: {rule_code + sub_case: {level: count}}, e.g. {"W03b": {"橙": 2}}
    warnings_by_rule_level: dict[str, dict[str, int]] = field(default_factory=dict)
    # the whole register (every warning ever raised) by status
    warnings_by_status: dict[str, int] = field(default_factory=dict)
    reference_sources: list[dict[str, str]] = field(default_factory=list)
    warehouse: Path | None = None

    @property
    def warnings_raised(self) -> int:
        return sum(sum(levels.values()) for levels in self.warnings_by_rule_level.values())


def build(
    root: DataRoot,
    run_date: dt.date,
    *,
    full_refresh: bool = False,
    select: str | Sequence[str] | None = None,
    unit_tests: bool = False,
    engine: str | None = None,
    progress: NodesProgress | None = None,
) -> BuildResult:
    """Build the warehouse at `run_date` and save the run's warning register; raise BuildError on failure.

    Data tests run with the models; dbt unit tests (which check the SQL on fixed rows, not the data) only
    when `unit_tests` is true — tests/test_dbt_unit.py runs them on their own. `engine` (else
    $SAFETYNET_ENGINE, else duckdb): on "spark" the marts are copied into the DuckDB file afterwards.
    `progress(done, total)` is told each dbt node that finishes.
    """
    engine = resolve_engine(engine)
    started = time.perf_counter()
    with warehouse_write_lock(root):
        previous, sources = prepare_inputs(root, run_date)
        if full_refresh:
            _remove_warehouse(root)
        extra = [] if unit_tests else ["--exclude", "test_type:unit"]
        results = run_dbt(
            root, run_date, "build", select=select, full_refresh=full_refresh, extra=extra, engine=engine,
            progress=progress,
        )  # fmt: skip
        built = _successful(results, "model")
        if engine == "spark":
            publish_spark_marts(spark_session(root), root)
        register = read_register(root) if "fct_warnings" in built else None
        if register is not None:
            save_register(root, run_date, register)
    result = BuildResult(
        run_date=run_date,
        seconds=round(time.perf_counter() - started, 2),
        models_built=len(built),
        tests_passed=len(_successful(results, "test")) + len(_successful(results, "unit_test")),
        previous_run_date=previous,
        warnings_by_rule_level=_by_rule_level(register, run_date),
        warnings_by_status=_by_status(register),
        reference_sources=sources,
        warehouse=root.warehouse_db,
    )
    log.info(
        "built %s in %.1f s: %d models, %d warnings raised",
        run_date,
        result.seconds,
        result.models_built,
        result.warnings_raised,
    )
    return result


def prepare_inputs(root: DataRoot, run_date: dt.date) -> tuple[dt.date | None, list[dict[str, str]]]:
    """Write everything the models read besides the landed rows; returns the previous run date and the
    reference files used."""
    root.lake.mkdir(parents=True, exist_ok=True)
    export_deliveries(root)
    ensure_schema_files(root)
    sources = write_reference(root, run_date)
    _, previous = export_previous_register(root, run_date)
    return previous, sources


def write_reference(root: DataRoot, run_date: dt.date) -> list[dict[str, str]]:
    """The effective reference data of this run as lake/_reference/<name>.parquet."""
    from ingestion.reference import load_reference
    from ingestion.workdays import calendar_frame

    reference = load_reference(root)
    frames: dict[str, pl.DataFrame] = {
        "regions": reference.regions,
        "dibao_standard": reference.dibao_standards,
        "disposable_income": reference.disposable_incomes,
        "parameters": reference.parameters_at(run_date, include_province=True).select(
            "county_code", "parameter", "value"
        ),
        "calendar": calendar_frame(
            run_date - dt.timedelta(days=CALENDAR_DAYS_BEFORE), run_date + dt.timedelta(days=CALENDAR_DAYS_AFTER)
        ),
    }
    for name, frame in frames.items():
        write_atomic(frame.to_arrow(), root.lake / REFERENCE_DIR / f"{name}.parquet")
    return reference.sources_record()


def run_dbt(
    root: DataRoot,
    run_date: dt.date,
    command: str,
    *,
    select: str | Sequence[str] | None = None,
    full_refresh: bool = False,
    extra: Sequence[str] = (),
    engine: Engine = "duckdb",
    progress: NodesProgress | None = None,
) -> list[Any]:
    """Run one dbt command in process against this data root; returns dbt's node results.

    Raises BuildError naming every failing model or test (or dbt's own error when it could not start).
    """
    from dbt.cli.main import dbtRunner

    args = [command, *_common_args(root, run_date), "--target", engine]
    if engine == "spark":  # dbt-spark's session reuses this one, with the lake declared as tables
        register_lake(spark_session(root), root)
    if select:
        args += ["--select", *([select] if isinstance(select, str) else select)]
    if full_refresh and command in ("build", "run", "seed"):
        args.append("--full-refresh")
    args += list(extra)
    log.debug("dbt %s", " ".join(args))
    with dbt_environment(root):
        try:
            outcome = dbtRunner(callbacks=[_node_counter(progress)] if progress else None).invoke(args)
        finally:
            if engine == "duckdb":
                _release_duckdb()
    results = list(getattr(outcome.result, "results", None) or [])
    failures = [_describe(r) for r in results if str(r.status) in _FAILED]
    if failures or not outcome.success:
        reason = "; ".join(failures) or str(outcome.exception or "dbt did not succeed")
        raise BuildError(f"dbt {command} at {run_date} failed: {reason}", failures)
    return results


def _node_counter(progress: NodesProgress) -> Callable[[Any], None]:
    """A dbt event callback that counts finished nodes; the total comes with the first `LogStartLine`."""
    state = {"done": 0, "total": 0}

    def on_event(event: Any) -> None:
        name = event.info.name
        if name == "LogStartLine" and not state["total"]:
            state["total"] = int(event.data.total)
        elif name == "NodeFinished":
            state["done"] += 1
            progress(state["done"], max(state["total"], state["done"]))

    return on_event


def _feedback_through(root: DataRoot, run_date: dt.date) -> str:
    """Staff answers count for the latest run as soon as they arrive (the feedback DAG refreshes it and the
    answered warnings close); a rerun of an earlier date sees only the answers delivered up to its date."""
    return run_date.isoformat() if later_run_exists(root, run_date) else FEEDBACK_ANY_TIME


def _common_args(root: DataRoot, run_date: dt.date) -> list[str]:
    work = root.root / "dbt"  # per data root: parallel test roots never share dbt's target or logs
    return [
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
        "--vars", json.dumps({"run_date": run_date.isoformat(), "feedback_through": _feedback_through(root, run_date)}),
        "--quiet",
        "--no-use-colors",
    ]  # fmt: skip


@contextmanager
def dbt_environment(root: DataRoot) -> Iterator[None]:
    """The environment profiles.yml and the sources read, set for the duration of one dbt call."""
    wanted = {
        "SAFETYNET_WAREHOUSE_DB": str(root.warehouse_db),
        "SAFETYNET_LAKE": str(root.lake),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _release_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB instance open in this process after a command; close it so that the file
    lock is released and the next reader (publish, exports, another dbt call) can open the warehouse."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()


def _describe(result: Any) -> str:
    node = result.node
    kind = getattr(node, "resource_type", "node")
    lines = [line.strip() for line in (result.message or "").splitlines() if line.strip()]
    return f"{kind} {node.name} ({result.status}): {' '.join(lines[:3]) or 'no message'}"


def _successful(results: list[Any], kind: str) -> set[str]:
    return {
        r.node.name
        for r in results
        if str(getattr(r.node, "resource_type", "")) == kind and str(r.status) in ("success", "pass")
    }


def _remove_warehouse(root: DataRoot) -> None:
    for path in (root.warehouse_db, root.warehouse_db.with_name(root.warehouse_db.name + ".wal")):
        path.unlink(missing_ok=True)


def read_register(root: DataRoot) -> pl.DataFrame:
    """fct_warnings as the build just left it."""
    import duckdb

    with duckdb.connect(str(root.warehouse_db), read_only=True) as conn:
        return conn.sql("select * from main.fct_warnings order by warning_id").pl()


def _by_rule_level(register: pl.DataFrame | None, run_date: dt.date) -> dict[str, dict[str, int]]:
    if register is None:
        return {}
    held = register.filter(pl.col("last_run_date") == run_date)
    codes = (pl.col("rule_code") + pl.col("sub_case").fill_null("")).alias("code")
    out: dict[str, dict[str, int]] = {}
    for (code, level), count in sorted(Counter(held.select(codes, "level").iter_rows()).items()):
        out.setdefault(code, {})[level] = count
    return out


def _by_status(register: pl.DataFrame | None) -> dict[str, int]:
    if register is None:
        return {}
    return dict(sorted(Counter(register["status"].to_list()).items()))
