"""One run at a time, said clearly: a second `safetynet run` on the same data root is refused with one line and
the ledger stays clean; landing processes never race for a file; `export` and `identify` say one line while an
analyst holds the mart open for writing, and work beside a read-only connection."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bad_inputs.factory import headers, valid_rows, write_csv
from safety_fixtures import RUN_DATES, copy_root, province

from ingestion.contracts import load_contract
from ingestion.settings import DataRoot

LATEST = RUN_DATES[-1].isoformat()
HOLD = (
    "import sys, time, duckdb; con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro'); "
    "print('open', flush=True); time.sleep(600)"
)


def _cli(root: DataRoot, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "warehouse.cli", *args, "--data", str(root.root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "100"},
    )  # fmt: skip


def _ledger(root: DataRoot, sql: str) -> list[tuple]:
    con = sqlite3.connect(root.ledger)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_two_runs_at_once_give_one_run_and_one_clean_ledger(tmp_path_factory, tmp_path: Path) -> None:
    root = copy_root(province(tmp_path_factory), tmp_path / "data")
    delivered = []
    for dataset in ("mz_member", "mz_household", "wjw_death"):  # re-deliveries for both runs to land
        contract = load_contract(dataset)
        for seq in (7, 8):
            name = f"{dataset}_{LATEST.replace('-', '')}_{seq}.csv"
            write_csv(root.inbox / dataset / name, headers(contract), valid_rows(contract, 300, start=seq * 1000))
            delivered.append(f"{dataset}/{name}")
    landings_before = _ledger(root, "SELECT max(id) FROM landings")[0][0]
    runs_before = _ledger(root, "SELECT count(*) FROM runs")[0][0]
    first = _cli(root, "run", "--date", LATEST, "--no-docs", "--no-export")
    time.sleep(0.5)
    second = _cli(root, "run", "--date", LATEST, "--no-docs", "--no-export")
    out2, err2 = second.communicate(timeout=900)
    out1, err1 = first.communicate(timeout=900)
    (ok, _), (refused, said) = sorted([(first.returncode, err1), (second.returncode, err2)])
    assert ok == 0, err1 + err2
    assert refused == 3 and said.count("\n") == 1 and "another run is in progress" in said, said + err1 + err2
    runs = _ledger(root, "SELECT status FROM runs")
    assert len(runs) == runs_before + 1 and runs[-1] == ("succeeded",)
    new = _ledger(root, f"SELECT file_name, status FROM landings WHERE id > {landings_before} AND dataset IS NOT NULL")
    expected = [(name, "superseded" if name.endswith("_7.csv") else "landed") for name in delivered]
    assert sorted(new) == sorted(expected)  # each file landed once: no duplicate rows, no conflicting ones


LAND = (
    "import sys; from ingestion.landing import land_inbox; from ingestion.settings import DataRoot; "
    "land_inbox(DataRoot.from_env(sys.argv[1]))"
)


def test_two_landings_at_once_never_race_for_a_file(tmp_path: Path) -> None:
    root = DataRoot(tmp_path / "data")
    for dataset in ("mz_member", "mz_household", "ybj_settlement"):
        contract = load_contract(dataset)
        for k, month in enumerate(("20260831", "20260930", "20261031")):
            rows = valid_rows(contract, 400, start=1000 * k)
            write_csv(root.inbox / f"{dataset}_{month}.csv", headers(contract), rows, encoding="gb18030")
    env = {**os.environ, "SAFETYNET_PSEUDONYM_KEY": "ef" * 32, "SAFETYNET_LANDING_WORKERS": "1"}
    landings = [
        subprocess.Popen([sys.executable, "-c", LAND, str(root.root)], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for process in landings:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-2000:]
    rows = _ledger(root, "SELECT file_name, status FROM landings")
    assert sorted(rows) == sorted((p.name, "landed") for p in (root.root / "archive").rglob("*.csv"))
    assert len(rows) == 9


@pytest.fixture
def published(tmp_path_factory, tmp_path: Path) -> DataRoot:
    return copy_root(province(tmp_path_factory), tmp_path / "data")


def _hold_mart(root: DataRoot, mode: str) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root.published / "monitoring.duckdb"), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open", holder.stderr
    return holder


def test_export_and_identify_say_one_line_while_an_analyst_holds_the_mart_for_writing(published: DataRoot) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can open the 0444 mart for writing (test_owner_only shows nobody else can)")
    holder = _hold_mart(published, "rw")
    try:
        for args in (("export", "--date", LATEST), ("identify", "--date", LATEST)):
            process = _cli(published, *args)
            out, err = process.communicate(timeout=300)
            assert process.returncode == 3, out + err  # busy: try again later
            assert err.count("\n") == 1 and "held open for writing by process" in err, err
            assert "Traceback" not in err, err
    finally:
        holder.kill()
        holder.wait()


def test_export_and_identify_work_beside_an_analysts_read_only_connection(published: DataRoot) -> None:
    holder = _hold_mart(published, "ro")
    try:
        for args in (("export", "--date", LATEST, "--no-report"), ("identify", "--date", LATEST)):
            process = _cli(published, *args)
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, out + err
    finally:
        holder.kill()
        holder.wait()
