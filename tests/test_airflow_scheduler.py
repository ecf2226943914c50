"""The monitoring run through a real Airflow, as docs/airflow.md starts it: the environment of
scripts/airflow_env.sh, `airflow db migrate`, the pools, then api-server + scheduler + dag-processor on
127.0.0.1 (SQLite, LocalExecutor, parallelism 2). The DAG is unpaused and triggered through the public REST
API (a JWT from the simple auth manager), the test waits for the run to succeed and reads the published mart.

Robust by construction: a free port, a timeout on every wait, each process's log printed when something
fails, and every process (and its children) killed at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ingestion.settings import DataRoot

pytestmark = pytest.mark.xdist_group("airflow")  # heavy: keep it beside the other Airflow tests

PROJECT = Path(__file__).resolve().parent.parent
ENV_SCRIPT = PROJECT / "scripts" / "airflow_env.sh"
DAG_ID = "safetynet_monitoring_run"
RUN_DATE = "2026-10-31"
HOUSEHOLDS = 100
START_TIMEOUT = 240  # seconds for the API server to answer and the DAG to be parsed (slow under load)
RUN_TIMEOUT = 900  # seconds for the run: land, check, build, publish, docs, export
POOLS = {
    "safetynet_warehouse": "DuckDB warehouse: one writer at a time (build, publish)",
    "safetynet_landing": "Landing and checks: one at a time (inbox, ledger, vault)",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _documented_env(home: Path, data: Path, port: int) -> dict[str, str]:
    """The environment scripts/airflow_env.sh sets (sourced by bash, as a user does)."""
    given = {**os.environ, "AIRFLOW_HOME": str(home), "SAFETYNET_DATA": str(data), "AIRFLOW_PORT": str(port)}
    dumped = subprocess.run(
        ["bash", "-c", f'source "{ENV_SCRIPT}" && env -0'], env=given, capture_output=True, check=True, timeout=30
    ).stdout.decode()
    env = dict(item.split("=", 1) for item in dumped.split("\0") if "=" in item)
    env["SAFETYNET_MAX_RETRIES"] = "0"  # a failing step fails at once instead of waiting out its retry delay
    env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] = "5"  # see the DAG files soon after start
    return env


def _own_group_dying_with_parent() -> None:
    """In the child: its own process group (killed whole at the end, workers included), and a SIGTERM when
    the test process dies before it could stop it (Linux PR_SET_PDEATHSIG)."""
    import ctypes

    os.setsid()
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class Server:
    """The Airflow processes, their logs, and the REST API with a token."""

    def __init__(self, env: dict[str, str], logs: Path):
        self.env, self.logs = env, logs
        self.base = f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.token = ""

    def airflow(self, *args: str, timeout: float = 300) -> None:
        done = subprocess.run([sys.executable, "-m", "airflow", *args], env=self.env, cwd=PROJECT,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip
        assert done.returncode == 0, f"airflow {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args], env=self.env, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_own_group_dying_with_parent,
        )  # fmt: skip

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)

    def tail(self) -> str:
        return "\n".join(
            f"----- {path.name} -----\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.logs.glob("*"))
        )

    def request(self, method: str, path: str, body: dict | None = None, auth: bool = True) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, {"detail": error.read().decode(errors="replace")}

    def wait(self, what: str, check, timeout: float) -> object:  # noqa: ANN001 - a predicate
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                assert process.poll() is None, f"airflow {name} exited ({process.returncode}) while {what}"
            try:
                found = check()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                found = None
            if found:
                return found
            time.sleep(2)
        raise AssertionError(f"timed out after {timeout:.0f} s while {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from synthetic import generate_province

    base = tmp_path_factory.mktemp("airflow_scheduler")
    root = DataRoot(base / "data")
    generate_province(root, households=HOUSEHOLDS, months=12, seed=20261031, run_date=dt.date.fromisoformat(RUN_DATE))
    (base / "logs").mkdir()
    env = _documented_env(base / "home", root.root, _free_port())
    airflow = Server(env, base / "logs")
    try:
        airflow.airflow("db", "migrate")
        for name, description in POOLS.items():
            airflow.airflow("pools", "set", name, "1", description)
        airflow.start("api-server", "api-server")
        airflow.start("scheduler", "scheduler")
        airflow.start("dag-processor", "dag-processor")
        airflow.wait("the API server starts", lambda: airflow.request("GET", "/api/v2/monitor/health", auth=False)[0]
                     == 200, START_TIMEOUT)  # fmt: skip
        yield airflow, root
    except BaseException:
        print(airflow.tail())
        raise
    finally:
        airflow.stop()


def _token(airflow: Server) -> str:
    passwords = Path(airflow.env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
    password = json.loads(passwords.read_text())["admin"]
    status, body = airflow.request("POST", "/auth/token", {"username": "admin", "password": password}, auth=False)
    assert status in (200, 201), body
    return body["access_token"]


def test_monitoring_run_through_the_scheduler_and_the_rest_api(server):
    import duckdb

    airflow, root = server
    try:
        airflow.token = _token(airflow)
        assert airflow.request("GET", "/api/v2/dags", auth=False)[0] == 401  # the API wants the token
        airflow.wait("the DAG processor parses the DAG",
                     lambda: airflow.request("GET", f"/api/v2/dags/{DAG_ID}")[0] == 200, START_TIMEOUT)  # fmt: skip
        status, dag = airflow.request("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        assert status == 200 and dag["is_paused"] is False, dag
        status, run = airflow.request(
            "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {"run_date": RUN_DATE}}
        )
        assert status == 200, run
        started = time.monotonic()
        final = airflow.wait(
            "the monitoring run runs",
            lambda: (state := airflow.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}")[1]
                     .get("state")) in ("success", "failed") and state,
            RUN_TIMEOUT,
        )  # fmt: skip
        seconds = time.monotonic() - started
        print(f"\nmonitoring run through the scheduler ({HOUSEHOLDS} households): {seconds:.0f} s")
        _, tasks = airflow.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances")
        states = {t["task_id"]: t["state"] for t in tasks["task_instances"]}
        assert final == "success", states
        assert set(states.values()) == {"success"} and "docs" in states, states
        _, runs = airflow.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns")
        assert runs["total_entries"] == 1, "unpausing started a run of its own"  # docs/airflow.md: it does not
    except BaseException:
        print(airflow.tail())
        raise

    con = duckdb.connect(str(root.published / "monitoring.duckdb"), read_only=True)
    try:
        built_for = con.execute("SELECT max(run_date) FROM dim_household").fetchone()[0]
        warnings = con.execute("SELECT count(*) FROM fct_warnings WHERE raised_on = ?", [RUN_DATE]).fetchone()[0]
    finally:
        con.close()
    assert str(built_for) == RUN_DATE and warnings > 0
    assert (root.published / "docs" / "static_index.html").exists()  # the docs step ran
    assert list((root.exports / RUN_DATE).glob("*.xlsx"))
