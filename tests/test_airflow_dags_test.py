"""The real DAGs under `airflow dags test`: SQLite metadata DB in a temp AIRFLOW_HOME, no server.

One AIRFLOW_HOME (one `airflow db migrate`) for the module; each test has its own data root. Asserts on
what landed (ledger, lake), what was published and exported, and the Airflow run's own records (task
states, Asset events), not only on the exit code.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

if "airflow" not in sys.modules:  # this process imports airflow too (orchestration): never the user's ~/airflow
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="safetynet-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from ingestion.dates import china_time  # noqa: E402
from ingestion.idcard import make_id  # noqa: E402
from ingestion.settings import DataRoot  # noqa: E402
from warehouse.orchestration.schedules import POOLS  # noqa: E402

log = logging.getLogger(__name__)
pytestmark = pytest.mark.xdist_group("airflow")  # one AIRFLOW_HOME: keep the module on one worker (--dist loadgroup)

PROJECT = Path(__file__).resolve().parent.parent
DAGS = PROJECT / "dags"
RUN_DATE = "2026-10-31"
HOUSEHOLDS = 300
CLI_TIMEOUT = 900


@dataclass
class Airflow:
    home: Path
    env: dict[str, str]

    def run(self, *args: str, data: Path) -> subprocess.CompletedProcess:
        env = {**self.env, "SAFETYNET_DATA": str(data)}
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=env,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )

    def db(self, query: str, *params: object) -> list[tuple]:
        con = sqlite3.connect(self.home / "airflow.db")
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def task_states(self, dag_id: str) -> dict[str, str]:
        rows = self.db("SELECT task_id, state FROM task_instance WHERE dag_id = ? ORDER BY start_date", dag_id)
        return dict(rows)

    def asset_events(self, uri: str) -> int:
        query = "SELECT count(*) FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = ?"
        return self.db(query, uri)[0][0]

    def xcom(self, dag_id: str, task_id: str) -> object:
        rows = self.db(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value' "
            "ORDER BY timestamp DESC LIMIT 1",
            dag_id,
            task_id,
        )
        return json.loads(rows[0][0]) if rows else None


def _check(result: subprocess.CompletedProcess, what: str) -> None:
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Airflow:
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "GX_ANALYTICS_ENABLED": "False",
        "SAFETYNET_POKE_SECONDS": "1",
        "SAFETYNET_MAX_RETRIES": "0",  # dags test waits out retry delays: fail at once instead
    }
    af = Airflow(home, env)
    _check(af.run("db", "migrate", data=home / "unused"), "airflow db migrate")
    pools = home / "pools.json"
    pools.write_text(
        json.dumps(
            {name: {"slots": 1, "description": text, "include_deferred": False} for name, text in POOLS.items()}
        ),
        encoding="utf-8",
    )
    _check(af.run("pools", "import", str(pools), data=home / "unused"), "airflow pools import")
    slots = dict(af.db("SELECT pool, slots FROM slot_pool"))
    assert {name: slots.get(name) for name in POOLS} == dict.fromkeys(POOLS, 1)
    return af


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])


def _ledger_rows(root: DataRoot, dataset: str) -> list[sqlite3.Row]:
    con = sqlite3.connect(root.ledger)
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM landings WHERE dataset = ?", (dataset,)).fetchall()
    finally:
        con.close()


HOUSEHOLD_HEADER = [
    "家庭编号",
    "行政区划代码",
    "城乡类别",
    "户主姓名",
    "户主身份证号",
    "救助类别",
    "保障状态",
    "认定日期",
    "退出日期",
    "家庭人口数",
    "家庭年收入",
    "月保障金额",
    "联系电话",
]


def _dags_test_in_background(airflow: Airflow, data: Path, log_path: Path, *args: str) -> subprocess.Popen:
    env = {**airflow.env, "SAFETYNET_DATA": str(data)}
    with log_path.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "airflow", "dags", "test", *args],
            env=env,
            cwd=PROJECT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_for(log_path: Path, text: str, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while text not in log_path.read_text() and time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()[-4000:]
        time.sleep(0.5)
    assert text in log_path.read_text(), f"never saw {text!r}"


def test_landing_dag_waits_deferred_then_lands_and_emits_its_asset(airflow: Airflow, tmp_path: Path) -> None:
    """The sensor defers (a trigger, no worker slot); a delivery dropped meanwhile is found, landed (one bad
    row rejected), checked, and the dataset's Asset is emitted."""
    root = DataRoot.from_env(tmp_path / "data")
    root.inbox.mkdir(parents=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cutoff = china_time(now).date().replace(day=1) - dt.timedelta(days=1)  # this run's window: last month
    before = airflow.asset_events("safetynet://lake/mz_household")
    log_path = tmp_path / "dags_test.log"
    process = _dags_test_in_background(airflow, root.root, log_path, "safetynet_land_mz_household", now.isoformat())
    try:
        _wait_for(log_path, "running trigger in line", process)  # deferred: nothing delivered yet
        rows = [
            [
                f"H{i:04d}",
                "370102001001",
                "城市",
                f"户主{i}",
                make_id("370102", dt.date(1970, 1, 1 + i), i + 1),
                "低保",
                "在保",
                "2025-01-01",
                "",
                "2",
                "12000",
                "800",
                "",
            ]
            for i in range(5)
        ]
        bad_id = "123"
        rows.append(
            ["H9999", "370102001001", "城市", "坏行", bad_id, "低保", "在保", "2025-01-01", "", "1", "1", "", ""]
        )
        _write_csv(root.inbox / f"mz_household_{cutoff:%Y%m%d}.csv", HOUSEHOLD_HEADER, rows)
        assert process.wait(timeout=CLI_TIMEOUT) == 0, log_path.read_text()[-6000:]
    finally:
        if process.poll() is None:
            process.kill()
    assert "Trigger completed" in log_path.read_text()
    assert airflow.task_states("safetynet_land_mz_household") == {
        "wait_for_delivery": "success",
        "land": "success",
        "check": "success",
    }
    [landing] = _ledger_rows(root, "mz_household")
    assert (landing["status"], landing["rows_in"], landing["rows_landed"], landing["rows_rejected"]) == (
        "landed",
        6,
        5,
        1,
    )
    assert landing["cutoff_date"] == cutoff.isoformat()
    assert len(list((root.lake / "mz_household" / f"cutoff={cutoff}").rglob("*.parquet"))) == 1
    assert not (root.inbox / f"mz_household_{cutoff:%Y%m%d}.csv").exists()  # moved to the raw archive
    assert airflow.asset_events("safetynet://lake/mz_household") == before + 1
    waited = airflow.xcom("safetynet_land_mz_household", "wait_for_delivery")
    assert waited["state"] == "delivered" and waited["pending"] == [f"mz_household_{cutoff:%Y%m%d}.csv"]
    start, end = (dt.date.fromisoformat(d) for d in waited["window"])  # the month before the logical date
    assert start <= cutoff <= end == china_time(now).date() - dt.timedelta(days=1)


def test_missing_delivery_past_due_fails_as_late(airflow: Airflow, tmp_path: Path) -> None:
    root = DataRoot.from_env(tmp_path / "data")
    root.inbox.mkdir(parents=True)
    _write_csv(root.inbox / "wjw_death_20241001.csv", ["证明编号"], [])  # an old one: not this window's

    result = airflow.run("dags", "test", "safetynet_land_wjw_death", "2025-01-06", data=root.root)

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "LATE DELIVERY: no wjw_death delivery with a cut-off in 2024-12-30..2025-01-05" in output
    states = airflow.task_states("safetynet_land_wjw_death")
    assert states["wait_for_delivery"] == "failed"
    assert states.get("land") in (None, "upstream_failed")
    assert not root.ledger.exists() or not _ledger_rows(root, "wjw_death")  # nothing was landed


# ---------------------------------------------------------------- the whole monitoring run


@dataclass
class MonitoringRun:
    root: DataRoot
    result: subprocess.CompletedProcess
    seconds: float


@pytest.fixture(scope="module")
def monitoring_run(airflow: Airflow, tmp_path_factory: pytest.TempPathFactory) -> MonitoringRun:
    try:
        from synthetic import generate_province
    except ImportError as error:
        pytest.skip(f"the synthetic province generator is not available yet: {error}")
    root = DataRoot.from_env(tmp_path_factory.mktemp("province"))
    generate_province(root, households=HOUSEHOLDS, months=12, seed=20261031, run_date=dt.date.fromisoformat(RUN_DATE))
    started = time.perf_counter()
    result = airflow.run(
        "dags",
        "test",
        "safetynet_monitoring_run",
        "2026-11-08",
        "-c",
        json.dumps({"run_date": RUN_DATE}),
        data=root.root,
    )
    seconds = time.perf_counter() - started
    log.warning("airflow dags test safetynet_monitoring_run (%d households): %.1f s", HOUSEHOLDS, seconds)
    print(f"\nairflow dags test safetynet_monitoring_run ({HOUSEHOLDS} households): {seconds:.1f} s")
    return MonitoringRun(root, result, seconds)


def test_monitoring_run_end_to_end(airflow: Airflow, monitoring_run: MonitoringRun) -> None:
    import duckdb

    _check(monitoring_run.result, "monitoring-run DAG")
    root = monitoring_run.root
    states = airflow.task_states("safetynet_monitoring_run")
    steps = ["resolve_run_date", "land_pending", "check", "build", "publish", "docs", "export", "record_run"]
    assert states == dict.fromkeys(steps, "success")
    assert airflow.xcom("safetynet_monitoring_run", "resolve_run_date") == RUN_DATE
    con = sqlite3.connect(root.ledger)
    run = con.execute(
        "SELECT run_date, status, failed_step, step_seconds, warnings_raised, workbooks FROM runs"
    ).fetchall()
    con.close()
    [(run_date, status, failed_step, step_seconds, warnings_raised, workbooks)] = run  # one run, closed
    assert (run_date, status, failed_step) == (RUN_DATE, "succeeded", None)
    assert set(json.loads(step_seconds)) == {"land_pending", "check", "build", "publish", "docs", "export"}
    assert warnings_raised > 0 and workbooks > 0

    con = sqlite3.connect(root.ledger)
    landed = dict(con.execute("SELECT dataset, count(*) FROM landings WHERE status = 'landed' GROUP BY dataset"))
    ledger_files = {name for (name,) in con.execute("SELECT file_name FROM landings")}
    con.close()
    assert {"mz_household", "mz_member", "ybj_settlement", "wjw_death"} <= set(landed)
    with (root.truth / "expected_landings.csv").open(encoding="utf-8") as f:
        delivered = {row["file_name"] for row in csv.DictReader(f)}
    assert ledger_files == delivered  # every delivered file has its ledger row
    swept = airflow.xcom("safetynet_monitoring_run", "land_pending")
    left = {p.relative_to(root.inbox).as_posix() for p in root.inbox.rglob("*") if p.is_file()}
    assert left == {f["file_name"] for f in swept["files"] if f["status"] == "not_a_dataset"}  # the rest was taken

    checks = airflow.xcom("safetynet_monitoring_run", "check")
    assert checks["status"] in ("checked", "not_available")
    if checks["status"] == "checked":
        assert checks["deliveries"] >= len(landed)

    published = root.published / "monitoring.duckdb"
    con = duckdb.connect(str(published), read_only=True)
    try:
        warnings = con.execute("SELECT count(*), min(raised_on), max(raised_on) FROM fct_warnings").fetchone()
        rules = {r for (r,) in con.execute("SELECT DISTINCT rule_code FROM fct_warnings").fetchall()}
        landings = con.execute("SELECT count(*) FROM ledger_landings").fetchone()[0]
    finally:
        con.close()
    assert warnings[0] > 0, "the published mart has no warnings"
    assert warnings[1] == warnings[2] == dt.date.fromisoformat(RUN_DATE)  # one run at the run date
    assert len(rules) >= 3, rules
    assert landings >= sum(landed.values())

    exported = airflow.xcom("safetynet_monitoring_run", "export")
    workbooks = sorted((root.exports / RUN_DATE).glob("*_低收入人口预警清单_*.xlsx"))
    assert workbooks and exported["county_workbooks"] == len(workbooks)
    assert airflow.asset_events("safetynet://published/monitoring") >= 1


def test_feedback_dag_lands_a_returned_workbook(airflow: Airflow, monitoring_run: MonitoringRun) -> None:
    """A county returns its workbook with one answer; the feedback DAG lands it and the register shows it."""
    import duckdb
    from openpyxl import load_workbook

    _check(monitoring_run.result, "monitoring-run DAG (prerequisite)")
    root = monitoring_run.root
    source = sorted((root.exports / RUN_DATE).glob("3*_低收入人口预警清单_*.xlsx"))[0]
    book = load_workbook(source)
    sheet = book["预警清单"]
    header = [c.value for c in sheet[1]]
    warning_id = sheet.cell(2, header.index("预警编号") + 1).value
    answers = {"核查结果": "属实", "处置措施": "临时救助", "核查日期": "2026-11-20", "核查人": "王五"}
    for name, value in answers.items():
        sheet.cell(2, header.index(name) + 1).value = value
    returned = root.inbox / "feedback" / source.name
    returned.parent.mkdir(parents=True, exist_ok=True)
    book.save(returned)

    result = airflow.run("dags", "test", "safetynet_feedback", "2026-11-21", data=root.root)

    _check(result, "feedback DAG")
    assert airflow.task_states("safetynet_feedback") == {
        "land_feedback": "success",
        "refresh_register": "success",
        "publish": "success",
    }
    assert not returned.exists()  # received: moved out of the inbox, kept under returned/
    assert len(list((root.root / "returned").rglob(source.name))) == 1
    [landing] = [r for r in _ledger_rows(root, "feedback") if r["status"] == "landed"]
    assert landing["rows_landed"] == 1
    assert airflow.xcom("safetynet_feedback", "refresh_register")["run_date"] == RUN_DATE
    con = duckdb.connect(str(root.published / "monitoring.duckdb"), read_only=True)
    try:
        status, finding = con.execute(
            "SELECT status, finding FROM fct_warnings WHERE warning_id = ?", [warning_id]
        ).fetchone()
    finally:
        con.close()
    assert (status, finding) == ("已核查", "属实")  # the rebuild at the last run's date took the answer
