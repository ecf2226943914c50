"""The landing DAG of a dataset with a database source: its deferred sensor waits for new rows in the exchange
table (the watermark check, in the trigger), its land task pulls up to the window's end, and a source that
cannot be pulled turns the task red with one line. PostgreSQL is started here."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from bad_inputs.factory import valid_rows
from exchange_support import CONNECTION, pg, reader_url, write_secret, write_source  # noqa: F401  (fixture)

from ingestion.contracts import load_contract
from ingestion.settings import DataRoot
from warehouse.orchestration import deliveries, tasks

pytestmark = pytest.mark.xdist_group("exchange_airflow")

DEATH = load_contract("wjw_death")
# the weekly landing run of Monday 2026-11-02 06:00 (China time) waits for cut-offs 2026-10-26..2026-11-01
MOMENT = dt.datetime(2026, 11, 2, 6, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _table(server, name: str) -> str:
    columns = ", ".join(f'"{c.header}" text' for c in DEATH.columns)
    server.psql(f"drop table if exists qzk.{name}; create table qzk.{name} ({columns}, updated_at timestamp);")
    return f"qzk.{name}"


def _insert(server, table: str, start: int, n: int, moment: str) -> None:
    values = ", ".join("(" + ", ".join(f"'{v}'" for v in row) + f", '{moment}')" for row in valid_rows(DEATH, n, start))
    server.psql(f"insert into {table} values {values};")


def _root(tmp_path: Path, server, table: str) -> DataRoot:
    root = DataRoot(tmp_path / "root")
    write_source(root, "wjw_death", f"connection: {CONNECTION}\ntable: {table}\nwatermark: updated_at\n")
    write_secret(root, {CONNECTION: reader_url(server)})
    return root


def _first_event(root: DataRoot, window: deliveries.DeliveryWindow, grace: float) -> dict:
    trigger = deliveries.DeliveryTrigger(str(root.root), "wjw_death", "weekly", MOMENT.isoformat(), grace, 0.05)

    async def first() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), timeout=60))


def test_the_sensor_waits_for_new_rows_and_land_pulls_the_window(tmp_path: Path, pg) -> None:  # noqa: F811
    table = _table(pg, "airflow_deaths")
    root = _root(tmp_path, pg, table)
    window = deliveries.delivery_window("wjw_death", "weekly", MOMENT)
    assert not deliveries.delivery_status(root, window).delivered  # an empty table: keep waiting
    _insert(pg, table, 0, 3, "2026-10-30 09:00")
    _insert(pg, table, 10, 2, "2026-11-03 09:00")  # after the window: for the next run
    event = _first_event(root, window, grace=10 * 86400)
    assert (event["state"], event["new_rows"], event["problem"]) == ("delivered", True, None)
    summary = tasks.land("wjw_death", event, root)
    assert [(f["file_name"], f["rows_landed"]) for f in summary["files"]] == [
        (f"db:{CONNECTION}/wjw_death_20261101_1.parquet", 3)
    ]
    with pytest.raises(AirflowSkipException):  # run again: nothing new in the window
        tasks.land("wjw_death", event, root)
    assert deliveries.delivery_status(root, window).landed == ("2026-11-01",)


def test_an_unreachable_source_makes_the_wait_late_and_the_land_task_fail(tmp_path: Path, pg) -> None:  # noqa: F811
    table = _table(pg, "airflow_unreachable")
    root = _root(tmp_path, pg, table)
    write_secret(root, {CONNECTION: pg.tcp_url("x", "y").replace(f":{pg.port}/", ":9/")})
    window = deliveries.delivery_window("wjw_death", "weekly", MOMENT)
    event = _first_event(root, window, grace=0.0)  # already past due
    assert event["state"] == "late" and "cannot reach the database server" in event["problem"]
    message = deliveries.late_message(window, root.inbox, event["problem"], database=True)
    assert message.startswith("LATE DELIVERY: no new wjw_death rows up to 2026-11-01 in its exchange database")
    with pytest.raises(AirflowFailException, match=r"^SOURCE ERROR: wjw_death from database source qzk/"):
        tasks.land("wjw_death", {"window": ["2026-10-26", "2026-11-01"]}, root)


def test_the_monitoring_run_pulls_up_to_the_run_date_and_reports_a_failing_source(tmp_path: Path, pg) -> None:  # noqa: F811
    table = _table(pg, "airflow_run")
    root = _root(tmp_path, pg, table)
    _insert(pg, table, 0, 2, "2026-10-30 09:00")
    _insert(pg, table, 10, 1, "2026-11-03 09:00")
    summary = tasks.land_all(root, run_date="2026-10-31")
    assert summary["rows_landed"] == 2 and summary["source_errors"] == []
    write_source(root, "mz_member", f"connection: {CONNECTION}\ntable: qzk.no_such_roster\nfull_read: true\n")
    summary = tasks.land_all(root, run_date="2026-11-30")
    assert summary["rows_landed"] == 1
    assert [e.split(": ", 1)[0] for e in summary["source_errors"]] == [
        "mz_member from database source qzk/qzk.no_such_roster"
    ]
