"""warehouse.orchestration: schedules from contracts, delivery windows, lateness, run dates, the trigger."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import sqlite3
import sys
import tempfile
import types
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

if "airflow" not in sys.modules:  # airflow reads its home at import: never the user's ~/airflow
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="safetynet-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from ingestion.contracts import CONTRACTS_DIR  # noqa: E402
from ingestion.dates import add_months
from ingestion.settings import DataRoot  # noqa: E402
from warehouse.orchestration import deliveries, schedules, tasks  # noqa: E402

CST = ZoneInfo("Asia/Shanghai")


def _cst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CST)


def _ledger(root: DataRoot, rows: list[tuple[str, str, str]]) -> None:
    root.root.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(root.ledger)
    con.execute("CREATE TABLE landings (file_name TEXT, dataset TEXT, cutoff_date TEXT, status TEXT)")
    con.executemany("INSERT INTO landings VALUES (?, ?, ?, ?)", [(f"{d}_{c}.csv", d, c, s) for d, c, s in rows])
    con.commit()
    con.close()


def _deliver(root: DataRoot, name: str, folder: str | None = None) -> Path:
    target = root.inbox / folder if folder else root.inbox
    target.mkdir(parents=True, exist_ok=True)
    path = target / name
    path.write_text("x\n", encoding="utf-8")
    return path


def test_every_contract_frequency_has_a_cadence() -> None:
    infos = schedules.read_datasets()
    assert len(infos) == len(list(CONTRACTS_DIR.glob("*.yaml")))
    for info in infos:
        assert info.frequency in schedules.CADENCES, info
    assert {i.dataset for i in infos} >= {"mz_household", "wjw_death", "feedback", "jyt_student_aid"}


def test_unknown_frequency_is_an_error() -> None:
    with pytest.raises(ValueError, match="fortnightly"):
        schedules.cadence("fortnightly")


@pytest.mark.parametrize(
    ("frequency", "moment", "start", "end"),
    [
        ("monthly", _cst(2026, 11, 1, 6), dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ("weekly", _cst(2026, 11, 2, 6), dt.date(2026, 10, 26), dt.date(2026, 11, 1)),
        ("quarterly", _cst(2026, 10, 1, 6), dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        ("each_term", _cst(2026, 11, 1, 6), dt.date(2026, 5, 1), dt.date(2026, 10, 31)),
        ("monthly", _cst(2026, 3, 1, 6), dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
    ],
)
def test_delivery_window(frequency: str, moment: dt.datetime, start: dt.date, end: dt.date) -> None:
    window = deliveries.delivery_window("x", frequency, moment)
    assert (window.start, window.end) == (start, end)
    assert window.due_at == moment + schedules.cadence(frequency).grace


def test_window_uses_china_time() -> None:
    # 22:00 UTC on 31 Oct is 06:00 on 1 Nov in Shandong: the October window
    window = deliveries.delivery_window("x", "monthly", dt.datetime(2026, 10, 31, 22, tzinfo=dt.UTC))
    assert (window.start, window.end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


@pytest.mark.parametrize(
    ("requested", "logical", "after", "expected"),
    [
        ("2026-06-30", None, None, dt.date(2026, 6, 30)),
        (None, _cst(2026, 11, 8, 6), None, dt.date(2026, 10, 31)),
        ("", None, _cst(2026, 3, 2, 9), dt.date(2026, 2, 28)),
        (None, dt.datetime(2026, 12, 31, 17, tzinfo=dt.UTC), None, dt.date(2026, 12, 31)),
        (dt.date(2025, 1, 31), _cst(2026, 11, 8), None, dt.date(2025, 1, 31)),
    ],
)
def test_resolve_run_date(requested, logical, after, expected) -> None:
    assert schedules.resolve_run_date(requested, logical, after) == expected


def test_resolve_run_date_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        schedules.resolve_run_date("31/10/2026", None, None)
    with pytest.raises(ValueError):
        schedules.resolve_run_date(None, None, None)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 1, 15), -6) == dt.date(2025, 7, 15)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


def test_pending_files_keep_datasets_apart(tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path)
    _deliver(root, "mz_application_20261025.csv")
    _deliver(root, "mz_application_member_20261025.csv")
    _deliver(root, "mz_application_20261025_2.xlsx", folder="mz_application")
    _deliver(root, "notes.txt")
    found = deliveries.pending_files(root.inbox, "mz_application")
    assert sorted(name for name, _ in found) == [
        "mz_application/mz_application_20261025_2.xlsx",
        "mz_application_20261025.csv",
    ]
    assert {cutoff for _, cutoff in found} == {dt.date(2026, 10, 25)}


def test_delivery_status_from_inbox_and_ledger(tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path)
    window = deliveries.delivery_window("mz_household", "monthly", _cst(2026, 11, 1, 6))
    assert not deliveries.delivery_status(root, window).delivered  # nothing anywhere, no ledger yet

    _deliver(root, "mz_household_20260930.csv")  # last month's: outside the window
    status = deliveries.delivery_status(root, window)
    assert not status.delivered and status.other_pending == ("mz_household_20260930.csv",)

    _ledger(root, [("mz_household", "2026-10-31", "rejected"), ("mz_member", "2026-10-31", "landed")])
    assert not deliveries.delivery_status(root, window).delivered  # a rejected landing is not a delivery

    _deliver(root, "mz_household_20261031.csv")
    assert deliveries.delivery_status(root, window).pending == ("mz_household_20261031.csv",)


def test_already_landed_counts_as_delivered(tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path)
    _ledger(root, [("wjw_death", "2026-10-30", "superseded"), ("wjw_death", "2026-09-01", "landed")])
    window = deliveries.delivery_window("wjw_death", "weekly", _cst(2026, 11, 2, 6))
    status = deliveries.delivery_status(root, window)
    assert status.delivered and status.landed == ("2026-10-30",) and status.pending == ()


def test_unreadable_ledger_counts_nothing(tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path)
    root.root.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(root.ledger).execute("CREATE TABLE other (x)").connection.close()
    assert deliveries.landed_cutoffs(root, "wjw_death") == []


def test_lateness() -> None:
    window = deliveries.delivery_window("wjw_death", "weekly", _cst(2026, 11, 2, 6))
    empty = deliveries.DeliveryStatus(window, (), (), ())
    assert not deliveries.is_late(empty, window.due_at - dt.timedelta(seconds=1))
    assert deliveries.is_late(empty, window.due_at)
    arrived = deliveries.DeliveryStatus(window, ("wjw_death_20261101.csv",), (), ())
    assert not deliveries.is_late(arrived, window.due_at + dt.timedelta(days=30))
    anytime = deliveries.delivery_window("feedback", "any_time", _cst(2026, 11, 2, 7))
    assert not deliveries.is_late(deliveries.DeliveryStatus(anytime, (), (), ()), _cst(2030, 1, 1))
    message = deliveries.late_message(window, Path("/data/inbox"))
    assert "LATE DELIVERY" in message and "wjw_death" in message and "2026-10-26..2026-11-01" in message


def test_run_trigger_datasets_are_the_monthly_ones() -> None:
    infos = [
        schedules.DatasetInfo("a", "", "", "snapshot", "monthly"),
        schedules.DatasetInfo("b", "", "", "", "weekly"),
        schedules.DatasetInfo("c", "", "", "", "monthly"),
    ]
    assert schedules.run_trigger_datasets(infos) == ["a", "c"]
    assert "mz_household" in schedules.run_trigger_datasets(schedules.read_datasets())


def test_describe_landing_takes_objects_and_dicts() -> None:
    class Result:
        file_name = "mz_member_20261031.csv"
        status = "landed"
        rows_landed = 12
        cutoff_date = dt.date(2026, 10, 31)

    assert tasks.describe_landing(Result()) == {
        "file_name": "mz_member_20261031.csv",
        "status": "landed",
        "rows_landed": 12,
        "cutoff_date": "2026-10-31",
    }
    assert tasks.describe_landing({"status": "rejected", "reason": "empty_file"}) == {
        "status": "rejected",
        "reason": "empty_file",
    }


def test_latest_run_date(tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path)
    assert schedules.latest_run_date(root) is None
    root.root.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(root.ledger)
    con.execute("CREATE TABLE warning_register (run_date TEXT, warning_id TEXT)")
    con.executemany("INSERT INTO warning_register VALUES (?, 'w')", [("2026-09-30",), ("2026-10-31",)])
    con.commit()
    con.close()
    assert schedules.latest_run_date(root) == dt.date(2026, 10, 31)  # from the saved registers
    con = sqlite3.connect(root.ledger)
    con.execute("CREATE TABLE runs (run_date TEXT)")
    con.execute("INSERT INTO runs VALUES ('2026-08-31')")
    con.commit()
    con.close()
    assert schedules.latest_run_date(root) == dt.date(2026, 10, 31)  # the latest of both
    assert schedules.feedback_run_date(None, _cst(2026, 12, 3), None, root) == dt.date(2026, 10, 31)
    assert schedules.feedback_run_date("2026-09-30", None, None, root) == dt.date(2026, 9, 30)

    # the run unpausing creates for the latest past schedule: skipped when that month is done already
    from airflow.sdk.exceptions import AirflowSkipException
    from airflow.utils.types import DagRunType

    for done in (dt.date(2026, 10, 31), dt.date(2026, 9, 30)):
        with pytest.raises(AirflowSkipException, match="latest recorded run"):
            tasks.skip_stale_scheduled_run(DagRunType.SCHEDULED, done, root)
    tasks.skip_stale_scheduled_run(DagRunType.SCHEDULED, dt.date(2026, 11, 30), root)  # a new month: runs
    tasks.skip_stale_scheduled_run(DagRunType.MANUAL, dt.date(2026, 9, 30), root)  # asked for: runs
    tasks.skip_stale_scheduled_run("backfill", dt.date(2026, 9, 30), root)


def _run_trigger(trigger: deliveries.DeliveryTrigger, timeout: float) -> dict:
    async def first_event() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first_event(), timeout))


def test_trigger_fires_when_the_file_arrives(tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path)
    root.inbox.mkdir(parents=True)
    moment = dt.datetime.now(dt.UTC)
    trigger = deliveries.DeliveryTrigger(str(root.root), "wjw_death", "weekly", moment.isoformat(), 3600, 0.05)
    name = f"wjw_death_{(schedules.china_time(moment).date() - dt.timedelta(days=1)):%Y%m%d}.csv"

    async def deliver_later() -> None:
        await asyncio.sleep(0.3)
        _deliver(root, name)

    async def both() -> dict:
        task = asyncio.ensure_future(deliver_later())
        async for event in trigger.run():
            await task
            return event.payload
        raise AssertionError("no event")

    payload = asyncio.run(asyncio.wait_for(both(), 10))
    assert payload["state"] == "delivered" and payload["pending"] == [name]


def test_trigger_reports_late_at_the_due_time(tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path)
    moment = dt.datetime.now(dt.UTC)
    trigger = deliveries.DeliveryTrigger(str(root.root), "wjw_death", "weekly", moment.isoformat(), 0.5, 60.0)
    started = dt.datetime.now()
    payload = _run_trigger(trigger, timeout=10)
    assert payload["state"] == "late"
    assert (dt.datetime.now() - started).total_seconds() < 5  # woke at the due time, not after a 60 s poke


def test_trigger_serializes_to_its_own_class() -> None:
    trigger = deliveries.DeliveryTrigger("/d", "wjw_death", "weekly", "2026-11-02T06:00:00+08:00", 60, 5)
    path, kwargs = trigger.serialize()
    assert path == "warehouse.orchestration.deliveries.DeliveryTrigger"
    assert deliveries.DeliveryTrigger(**kwargs).serialize() == (path, kwargs)


def test_verdict_fails_on_rejected_skips_on_nothing_new() -> None:
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    rejected = {"file_name": "wjw_death_20261101.csv", "status": "rejected", "reason": "empty_file: no rows"}
    with pytest.raises(AirflowFailException, match="REJECTED DELIVERY of wjw_death: wjw_death_20261101.csv: empty"):
        tasks._verdict([rejected], "wjw_death")
    with pytest.raises(AirflowSkipException, match="duplicate"):
        tasks._verdict([{"file_name": "x.csv", "status": "duplicate"}], "wjw_death")
    with pytest.raises(AirflowSkipException, match="no files"):
        tasks._verdict([], "wjw_death")
    landed = {"file_name": "wjw_death_20261108.csv", "status": "landed", "rows_landed": 4}
    summary = tasks._verdict([rejected, landed], "wjw_death")  # one good file: the run goes on, Asset emitted
    assert summary["by_status"] == {"rejected": 1, "landed": 1} and summary["rows_landed"] == 4


def test_check_dataset_fails_only_when_all_new_deliveries_are_held(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    held = [{"dataset": "mz_member", "file_name": "mz_member_20261031.csv", "sha256": "a", "reasons": ["volume"]}]
    monkeypatch.setattr(tasks, "check", lambda root=None: {"status": "checked", "deliveries": 2, "held": held})
    one_new = {"files": [{"status": "landed", "sha256": "a"}]}
    with pytest.raises(AirflowFailException, match="HELD BACK.*mz_member_20261031.csv: volume"):
        tasks.check_dataset("mz_member", one_new)
    two_new = {"files": [{"status": "landed", "sha256": "a"}, {"status": "landed", "sha256": "b"}]}
    assert tasks.check_dataset("mz_member", two_new)["held"] == held  # one good delivery still counts
    assert tasks.check_dataset("mz_household", one_new)["status"] == "checked"  # another dataset's hold


def test_describe_checks_lists_held_deliveries() -> None:
    @dataclasses.dataclass
    class D:
        dataset: str
        file_name: str
        sha256: str

    @dataclasses.dataclass
    class C:
        delivery: D
        held: bool
        failed_warning: int
        reasons: list

    summary = types.SimpleNamespace(
        deliveries=[C(D("a", "a_1.csv", "s1"), True, 0, ["rows -40%"]), C(D("b", "b_1.csv", "s2"), False, 2, [])],
        seconds=1.234,
        docs=None,
    )
    described = tasks.describe_checks(summary)
    assert described["deliveries"] == 2 and described["failed_warnings"] == 2 and described["seconds"] == 1.23
    assert described["held"] == [{"dataset": "a", "file_name": "a_1.csv", "sha256": "s1", "reasons": ["rows -40%"]}]


def test_land_all_keeps_only_the_files_that_did_not_land(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import ingestion.landing

    results = [{"file_name": f"f{i}.csv", "status": "landed", "rows_landed": 10} for i in range(50)]
    results.append({"file_name": "mz_houshold_20261031.csv", "status": "not_a_dataset"})
    monkeypatch.setattr(ingestion.landing, "land_inbox", lambda root, inbox=None, dataset=None: results)
    summary = tasks.land_all(DataRoot.from_env(tmp_path))
    assert summary["by_status"] == {"landed": 50, "not_a_dataset": 1} and summary["rows_landed"] == 500
    assert [f["file_name"] for f in summary["files"]] == ["mz_houshold_20261031.csv"]


def test_retries_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(schedules.RETRIES_CAP_ENV, raising=False)
    assert schedules.retries(2) == 2
    monkeypatch.setenv(schedules.RETRIES_CAP_ENV, "0")
    assert schedules.retries(2) == 0


def test_returned_workbooks_are_the_ones_not_named_as_feedback(tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path)
    returned = _deliver(root, "370102_历下区_低收入人口预警清单_2026-10-31.xlsx", folder="feedback")
    _deliver(root, "feedback_20261105.xlsx", folder="feedback")
    _deliver(root, "~$370102_历下区_低收入人口预警清单_2026-10-31.xlsx", folder="feedback")  # Excel's lock file
    _deliver(root, "notes.txt", folder="feedback")
    assert tasks.returned_workbooks(root) == [returned]


def test_run_row_records_the_failed_step(tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path)
    run_id = tasks.start_run("2026-10-31", root)
    results = {
        "land_pending": {"by_status": {"landed": 3, "rejected": 1}, "step_seconds": 1.5},
        "check": {"status": "checked", "held": [{"file_name": "a.csv"}], "step_seconds": 2.0},
        "build": None,
        "publish": None,
        "export": None,  # build failed: nothing after it ran
    }
    outcome = tasks.finish_run(run_id, "2026-10-31", results, root)
    assert outcome["status"] == "failed" and outcome["failed_step"] == "build"
    con = sqlite3.connect(root.ledger)
    row = con.execute(
        "SELECT status, failed_step, files_landed, deliveries_held, step_seconds, warnings_raised "
        "FROM runs WHERE run_id = ?",
        (run_id,),
    ).fetchone()
    con.close()
    assert row[:4] == ("failed", "build", 3, 1)
    assert json.loads(row[4]) == {"land_pending": 1.5, "check": 2.0} and row[5] is None


def test_run_row_of_a_good_run(tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path)
    run_id = tasks.start_run("2026-10-31", root)
    ok = {"step_seconds": 1.0}
    results = {
        "land_pending": {**ok, "by_status": {}},
        "check": {**ok, "held": []},
        "build": {**ok, "warnings_raised": 7, "warnings_by_status": {"待核查": 5, "逾期": 1, "已核查": 1}},
        "publish": ok,
        "docs": ok,
        "export": {**ok, "county_workbooks": 4},
    }
    assert tasks.finish_run(run_id, "2026-10-31", results, root)["status"] == "succeeded"
    con = sqlite3.connect(root.ledger)
    row = con.execute("SELECT status, warnings_raised, warnings_open, workbooks FROM runs").fetchone()
    con.close()
    assert row == ("succeeded", 7, 6, 4)
    assert schedules.latest_run_date(root) == dt.date(2026, 10, 31)


def test_run_row_of_a_degraded_run(tmp_path: Path) -> None:
    """A build that left models out (docs/failure_policy.md) is `degraded`, though every step finished."""
    root = DataRoot.from_env(tmp_path)
    run_id = tasks.start_run("2026-10-31", root)
    ok = {"step_seconds": 1.0}
    results = {
        "land_pending": {**ok, "by_status": {}},
        "check": {**ok, "held": []},
        "build": {**ok, "warnings_raised": 7, "degraded": True, "models_left_out": ["fct_assistance_chain (skipped)"]},
        "publish": ok,
        "docs": ok,
        "export": {**ok, "county_workbooks": 4},
    }
    assert set(results) == set(tasks.RUN_STEPS), "every step of the run finished"
    outcome = tasks.finish_run(run_id, "2026-10-31", results, root)
    assert (outcome["status"], outcome["failed_step"]) == ("degraded", None)
    con = sqlite3.connect(root.ledger)
    assert con.execute("SELECT status, failed_step FROM runs").fetchone() == ("degraded", None)
    con.close()
