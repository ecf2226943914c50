"""The task bodies of the DAGs: each calls the function the command line calls (ingestion.landing, expectations,
warehouse.run, warehouse.exports), importing it lazily so that parsing a DAG file stays cheap, and returns a
JSON-able result for XCom. The monitoring run's steps are `RUN_STEPS`, the same list the command line runs.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from ingestion.dates import china_today
from ingestion.settings import DataRoot
from warehouse.orchestration.deliveries import has_database_source
from warehouse.orchestration.schedules import FEEDBACK_DATASET, latest_run_date

log = logging.getLogger(__name__)

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
    record = _run_record(results)
    error = f"step {failed} did not finish: see its task log in Airflow" if failed else None
    run.finish_run(root or DataRoot.from_env(), run_id, record, failed_step=failed, error=error)
    return {
        "run_id": run_id,
        "run_date": run_date,
        "status": run.run_status(record, failed),
        "failed_step": failed,
        "steps": record.step_seconds,
    }


def _run_record(results: Mapping[str, Mapping[str, Any] | None]) -> Any:
    """The run's RunRecord from the tasks' results (XComs), as the command line makes it from its RunSummary."""
    from warehouse.run import RunRecord, open_warnings

    checks, built, exported = (results.get(step) for step in ("check", "build", "export"))
    return RunRecord(
        step_seconds={step: r["step_seconds"] for step, r in results.items() if r and "step_seconds" in r},
        files_landed=int(((results.get("land_pending") or {}).get("by_status") or {}).get("landed", 0)),
        deliveries_held=len(checks.get("held") or []) if checks is not None else None,
        warnings_raised=built.get("warnings_raised") if built is not None else None,
        warnings_open=open_warnings(built.get("warnings_by_status") or {}) if built is not None else None,
        workbooks=int(exported.get("county_workbooks") or 0) if exported is not None else None,
        reference_sources=built.get("reference_sources") or [] if built is not None else None,
        degraded=bool(built.get("degraded")) if built is not None else False,
    )


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
