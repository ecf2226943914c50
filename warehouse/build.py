"""Build the warehouse at a run date: prepare the lake's side inputs, run `dbt build` in process, keep the register.

    build(root, run_date) -> BuildResult

1. Inputs beside the landed data (under one write lock: DuckDB allows one writer):
   - `lake/_deliveries.parquet` from the ledger (which delivery of each dataset and cut-off is in use);
   - a zero-row `lake/<dataset>/_schema.parquet` per dataset, so a dataset with no delivery still reads;
   - `lake/_reference/*.parquet`: the effective reference data (shipped seeds or the user's overrides in
     `<data root>/reference/`), parameters resolved for every county at the run date, the working-day calendar;
   - `lake/_state/previous_register.parquet`: the register of the latest earlier run, from the ledger.
2. `dbt build` of dbt_project/ with `--vars {run_date: ...}` (dbtRunner, in this process), under the failure
   policy (warehouse/failure_policy.py, docs/failure_policy.md): a model that errors stops only what depends on it
   (a repair pass builds the register without a rule model left out, and what an advisory test that could not run
   held back), every model's and data test's outcome goes to the ledger, and a failing blocking test raises
   BlockingTestFailed. Models left out are
   dropped from the warehouse, so that nothing there is older than the build.
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
from warehouse import refresh_policy
from warehouse.build_ledger import BuildRecord, record_build
from warehouse.build_ledger import now as build_started
from warehouse.engines import (
    Engine,
    drop_duckdb_object,
    publish_spark_marts,
    register_lake,
    resolve_engine,
    spark_session,
)
from warehouse.failure_policy import (
    WARNINGS_MODEL,
    BuildOutcome,
    DataTestOutcome,
    ModelOutcome,
    blocking_message,
    failing_keys,
    outcome_of,
    repair_pass,
)
from warehouse.lock import warehouse_write_lock
from warehouse.register import export_previous_register, later_run_exists, save_register

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
# Build another copy of the dbt project (tests break one on purpose to prove the failure policy).
PROJECT_ENV = "SAFETYNET_DBT_PROJECT"
# dbt builds again what it skipped but the failure policy wants built; each pass can only leave out more
MAX_REPAIR_PASSES = 3
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


class BlockingTestFailed(BuildError):
    """A blocking data test failed: the build's marts must not be published, nor its register kept. The message is
    one line naming the test and a few failing keys."""


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
    outcome: BuildOutcome = field(default_factory=BuildOutcome)  # every model's and data test's outcome
    refresh: str = "full"  # full or incremental (warehouse/refresh_policy.py), and why
    refresh_reason: str = ""

    @property
    def warnings_raised(self) -> int:
        return sum(sum(levels.values()) for levels in self.warnings_by_rule_level.values())

    @property
    def degraded(self) -> bool:
        """Some model could not be built: the run publishes the rest and is recorded `degraded`."""
        return bool(self.outcome.models_left_out)

    @property
    def models_left_out(self) -> list[ModelOutcome]:
        return self.outcome.models_left_out

    @property
    def advisory_failures(self) -> list[DataTestOutcome]:
        return self.outcome.advisory_failures

    @property
    def warnings_built(self) -> bool:
        """fct_warnings was not left out of this build (the county workbooks may go out)."""
        return all(m.model != WARNINGS_MODEL for m in self.outcome.models_left_out)


def build(
    root: DataRoot,
    run_date: dt.date,
    *,
    full_refresh: bool = False,
    select: str | Sequence[str] | None = None,
    unit_tests: bool = False,
    data_tests: bool = True,
    engine: str | None = None,
    run_id: int | None = None,
    progress: NodesProgress | None = None,
) -> BuildResult:
    """Build the warehouse at `run_date` and save the run's warning register.

    Models that error are left out with what depends on them (the result says which: `degraded`); a failing
    blocking data test raises BlockingTestFailed, and dbt that cannot run at all BuildError. Data tests run with the
    models; dbt unit tests (which check the SQL on fixed rows, not the data) only when `unit_tests` is true —
    tests/test_dbt_unit.py runs them on their own. Without `data_tests` only the models are built (for tests that
    compare tables, such as the incremental replay). `engine` (else $SAFETYNET_ENGINE, else duckdb): on "spark" the
    marts are copied into the DuckDB file afterwards. `run_id` ties the ledger's rows to the run (`runs`);
    `progress(done, total)` is told each dbt node that finishes.
    """
    engine = resolve_engine(engine)
    started = time.perf_counter()
    record = BuildRecord(run_date, build_started(), run_id)
    with warehouse_write_lock(root):
        previous, sources = prepare_inputs(root, run_date)
        refresh = refresh_policy.decide(
            root, run_date, project=project_dir(), reference_files={s["name"]: s["sha256"] for s in sources},
            asked=full_refresh, engine=engine,
        )  # fmt: skip
        log.info("build at %s: %s refresh (%s)", run_date, refresh.mode, refresh.reason)
        if full_refresh:
            _remove_warehouse(root)
        refresh_policy.start(root, refresh, run_date=run_date, built_at=record.built_at, run_id=run_id)
        exclude = ([] if unit_tests else ["test_type:unit"]) + ([] if data_tests else ["test_type:data"])
        try:
            outcome, unit_results = _build_passes(root, run_date, select, exclude, refresh, engine, progress)
        except BaseException:
            refresh_policy.finish(root, record.built_at, "failed")
            raise
        record_build(root, record, outcome)
        if outcome.blocking_failures:
            refresh_policy.finish(root, record.built_at, "failed")
            raise BlockingTestFailed(_blocking_line(root, outcome, engine), [t.test for t in outcome.blocking_failures])
        status = "partial" if select else "degraded" if outcome.models_left_out else "built"
        refresh_policy.finish(root, record.built_at, status)
        if engine == "spark":
            publish_spark_marts(spark_session(root), root)
        drop_left_out(root, outcome.models_left_out)
        register = read_register(root) if outcome.built(WARNINGS_MODEL) else None
        if register is not None:
            save_register(root, run_date, register)
    result = BuildResult(
        run_date=run_date,
        seconds=round(time.perf_counter() - started, 2),
        models_built=sum(m.built for m in outcome.models.values()),
        tests_passed=sum(t.status == "pass" for t in outcome.tests.values()) + unit_results,
        previous_run_date=previous,
        warnings_by_rule_level=_by_rule_level(register, run_date),
        warnings_by_status=_by_status(register),
        reference_sources=sources,
        warehouse=root.warehouse_db,
        outcome=outcome,
        refresh=refresh.mode,
        refresh_reason=refresh.reason,
    )
    _log_result(result)
    return result


def _build_passes(
    root: DataRoot,
    run_date: dt.date,
    select: str | Sequence[str] | None,
    exclude: list[str],
    refresh: refresh_policy.Refresh,
    engine: Engine,
    progress: NodesProgress | None = None,
) -> tuple[BuildOutcome, int]:
    """`dbt build`, then repair passes for what dbt skipped but the policy wants built (the register without a rule
    model left out; the dependants of an advisory test that could not run). Every pass refreshes as `refresh` says:
    a skipped incremental model still holds the previous build's rows. Returns the merged outcome and the number of
    unit tests that passed."""
    history = _refresh_vars(refresh)
    results = invoke_dbt(
        root, run_date, "build", select=select, exclude=exclude, full_refresh=refresh.full, engine=engine,
        variables=history, progress=progress,
    )  # fmt: skip
    outcome = outcome_of(results)
    for _ in range(MAX_REPAIR_PASSES):
        repair = repair_pass(outcome)
        if repair is None or outcome.blocking_failures:
            break
        log.warning(
            "building again %d model(s) dbt skipped; rules not evaluated: %s; tests left out: %s",
            len(repair.select), ", ".join(repair.rules_not_evaluated) or "none", ", ".join(repair.exclude) or "none",
        )  # fmt: skip
        later = outcome_of(invoke_dbt(
            root, run_date, "build", select=repair.select, exclude=[*exclude, *repair.exclude], engine=engine,
            full_refresh=refresh.full, variables={**history, "rules_not_evaluated": list(repair.rules_not_evaluated)},
        ))  # fmt: skip
        repaired = any(m.built for m in later.models.values())
        outcome = outcome.merged_with(later)
        if not repaired:
            break
    return outcome, len(_successful(results, "unit_test"))


def _refresh_vars(refresh: refresh_policy.Refresh) -> dict[str, Any]:
    """The dbt vars of an incremental build: the run date its incremental tables were built through."""
    return {} if refresh.full or refresh.built_through is None else {"built_through": refresh.built_through.isoformat()}


def _log_result(result: BuildResult) -> None:
    log.info(
        "built %s in %.1f s: %d models, %d warnings raised",
        result.run_date, result.seconds, result.models_built, result.warnings_raised,
    )  # fmt: skip
    for model in result.models_left_out:
        log.warning("model %s not built (%s): %s", model.model, model.status, model.message or "")
    for test in result.advisory_failures:
        log.warning("advisory test %s: %s (%s failing rows)", test.test, test.status, test.failing_rows)


def drop_left_out(root: DataRoot, models: list[ModelOutcome]) -> None:
    """Drop the relations of models this build did not build, so the warehouse holds nothing older than the build
    (publishing then keeps the previous published version of a missing mart table, labelled as such)."""
    import duckdb

    if not models or not root.warehouse_db.exists():
        return
    with duckdb.connect(str(root.warehouse_db)) as conn:
        for model in models:
            drop_duckdb_object(conn, model.schema, model.model)


def _blocking_line(root: DataRoot, outcome: BuildOutcome, engine: Engine) -> str:
    """One line: the first blocking failure with a few of its stored failing keys, then the other blocking tests
    that failed, by name."""
    first, *others = outcome.blocking_failures
    line = blocking_message(first, failing_keys(_stored_rows(root, first.stored_failures, engine)))
    return line + (f"; also {', '.join(t.test for t in others)}" if others else "")


def _stored_rows(root: DataRoot, relation: str | None, engine: Engine) -> list[dict[str, Any]]:
    """A few of the failing rows dbt stored for a test (store_failures), or none when they cannot be read."""
    if not relation:
        return []
    query = f"select * from {relation} limit 3"
    try:
        if engine == "spark":
            return [row.asDict() for row in spark_session(root).sql(query).collect()]
        import duckdb

        with duckdb.connect(str(root.warehouse_db), read_only=True) as conn:
            frame = conn.sql(query)
            return [dict(zip(frame.columns, row)) for row in frame.fetchall()]
    except Exception as err:  # the message is still useful without the keys
        log.warning("cannot read the stored failures %s: %s", relation, err)
        return []


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
    from ingestion.rule_catalogue import COLUMNS as RULE_COLUMNS
    from ingestion.rule_catalogue import warning_rules
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
        "warning_rules": pl.DataFrame([vars(entry) for entry in warning_rules()], schema=list(RULE_COLUMNS)),
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

    Strict, for work outside the failure policy (simulations, tests): raises BuildError naming every model or
    test that errored or failed (advisory tests only warn), or dbt's own error when it could not start.
    """
    results = invoke_dbt(
        root, run_date, command, select=select, full_refresh=full_refresh, extra=extra, engine=engine, progress=progress
    )
    failures = [_describe(r) for r in results if str(r.status) in _FAILED]
    if failures:
        raise BuildError(f"dbt {command} at {run_date} failed: {'; '.join(failures)}", failures)
    return results


def invoke_dbt(
    root: DataRoot,
    run_date: dt.date,
    command: str,
    *,
    select: str | Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    full_refresh: bool = False,
    extra: Sequence[str] = (),
    engine: Engine = "duckdb",
    variables: dict[str, Any] | None = None,
    progress: NodesProgress | None = None,
) -> list[Any]:
    """Run one dbt command in process; returns dbt's node results, whatever their status. Raises BuildError only
    when dbt could not run (a project that does not parse, a warehouse it cannot open)."""
    from dbt.cli.main import dbtRunner

    args = [command, *_common_args(root, run_date, variables), "--target", engine]
    if engine == "spark":  # dbt-spark's session reuses this one, with the lake declared as tables
        register_lake(spark_session(root), root)
    if select:
        args += ["--select", *([select] if isinstance(select, str) else select)]
    if exclude:
        args += ["--exclude", *exclude]
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
    results = getattr(outcome.result, "results", None)
    if results is None or outcome.exception is not None:
        raise BuildError(f"dbt {command} at {run_date} could not run: {outcome.exception or 'no results'}")
    return list(results)


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


def project_dir() -> Path:
    """The dbt project to build: dbt_project/ of this repository, unless $SAFETYNET_DBT_PROJECT names a copy."""
    chosen = os.environ.get(PROJECT_ENV, "").strip()
    return Path(chosen) if chosen else PROJECT_DIR


def _common_args(root: DataRoot, run_date: dt.date, variables: dict[str, Any] | None = None) -> list[str]:
    work = root.root / "dbt"  # per data root: parallel test roots never share dbt's target or logs
    values = {"run_date": run_date.isoformat(), "feedback_through": _feedback_through(root, run_date)}
    values.update(variables or {})
    return [
        "--project-dir", str(project_dir()),
        "--profiles-dir", str(project_dir()),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
        "--vars", json.dumps(values),
        "--quiet",
        "--log-level", "none",  # dbt's own console output: failures are reported by the caller, in one line
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
