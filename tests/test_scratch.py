"""Temporary files belong to a process: what a stopped process left is swept, what a live one is writing is not;
runs whose process stopped are marked interrupted; the pseudonymisation secret is never silently replaced."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bad_inputs.factory import headers, make_root, valid_rows, write_csv

from ingestion import scratch
from ingestion.contracts import load_contract
from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
from ingestion.state import BrokenState
from warehouse import run
from warehouse.publish import prepare_published_folder

OWNER = "import sys; from ingestion import scratch; print(scratch.owner())"


def _dead_owner() -> str:
    """The owner token of a process that has ended."""
    done = subprocess.run([sys.executable, "-c", OWNER], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_an_owner_is_alive_while_its_process_runs() -> None:
    assert scratch.is_alive(scratch.owner())
    assert not scratch.is_alive(_dead_owner())
    pid, _, ticks = scratch.owner().partition("-")
    assert not scratch.is_alive(f"{pid}-{int(ticks) + 1}")  # the same pid, another process (a reused id)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_sweep_removes_what_stopped_processes_left_and_nothing_else(tmp_path: Path) -> None:
    root = DataRoot(tmp_path)
    dead, live = _dead_owner(), scratch.owner()
    left = [
        _touch(root.lake / "mz_member" / "cutoff=2026-10-31" / "seq=1" / f".a.parquet.{dead}.0f0f.tmp"),
        _touch(root.published / f".monitoring.duckdb.{dead}.0f0f.tmp"),
        _touch(root.published / f".monitoring.duckdb.{dead}.0f0f.tmp.wal"),
        _touch(root.raw / f".delivery.{dead}.0f0f.tmp"),
        _touch(root.exports / f".2026-10-31.{dead}.0f0f.tmp" / "370102_历下区_低收入人口预警清单_2026-10-31.xlsx"),
        _touch(root.root / ".work" / dead / "read-1" / "decoded.csv"),
        _touch(root.root / ".work" / "tmpk2j3h4" / "decoded.csv"),  # an earlier version's work folder
        _touch(root.raw / f".tmp-{'ab' * 16}"),  # an earlier version's raw copy
        _touch(root.published / ".monitoring.duckdb.999999999.tmp"),  # an earlier version's mart, pid gone
    ]
    kept = [
        _touch(root.lake / "mz_member" / f".b.parquet.{live}.0f0f.tmp"),
        _touch(root.root / ".work" / live / "decoded.csv"),
        _touch(root.lake / "mz_member" / "cutoff=2026-10-31" / "seq=1" / "a.parquet"),
        _touch(root.inbox / f".mz_member_20261031.csv.{dead}.0f0f.tmp"),  # the inbox is the departments'
    ]
    removed = scratch.sweep(root)
    folders = [left[4].parent, root.root / ".work" / dead, root.root / ".work" / "tmpk2j3h4"]  # removed whole
    assert sorted(removed) == sorted([*left[:4], *folders, *left[7:]])
    assert all(not p.exists() for p in left) and all(p.exists() for p in kept)


def test_a_work_folder_lives_as_long_as_its_outermost_use(tmp_path: Path) -> None:
    root = DataRoot(tmp_path)
    stale = _touch(root.root / ".work" / _dead_owner() / "decoded.csv")
    with scratch.work_dir(root) as outer:
        assert not stale.exists()  # swept when the work folder was opened
        assert outer.stat().st_mode & 0o777 == 0o700
        with scratch.work_dir(root) as inner:
            assert inner == outer
        assert outer.exists()
    assert not outer.exists()


def test_publishing_sweeps_stale_temporary_marts(tmp_path: Path) -> None:
    root = DataRoot(tmp_path)
    stale = _touch(root.published / f".monitoring.duckdb.{_dead_owner()}.0f0f.tmp")
    mine = _touch(root.published / f".monitoring.duckdb.{scratch.owner()}.0f0f.tmp")
    fresh = prepare_published_folder(root)
    assert not stale.exists() and mine.exists() and not fresh.exists()
    assert fresh.parent == root.published and scratch.owner() in fresh.name
    assert root.published.stat().st_mode & 0o777 == 0o755


def test_runs_whose_process_stopped_are_marked_interrupted(tmp_path: Path) -> None:
    root = DataRoot(tmp_path)
    gone = run.start_run(root, dt.date(2026, 9, 30))
    alive = run.start_run(root, dt.date(2026, 10, 31))
    airflow = run.start_run(root, dt.date(2026, 10, 31))  # opened by the DAG: no owner process
    run.record_run_owner(root, alive)
    run.record_run_owner(root, gone)
    con = sqlite3.connect(root.ledger)
    con.execute("UPDATE run_owners SET owner = ? WHERE run_id = ?", (_dead_owner(), gone))
    con.execute("UPDATE runs SET status = 'publishing' WHERE run_id = ?", (gone,))
    con.commit()
    assert run.mark_interrupted_runs(root) == [gone]
    statuses = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
    con.close()
    assert statuses == {gone: "interrupted", alive: "running", airflow: "running"}


def test_a_lost_secret_is_never_replaced_by_a_new_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAFETYNET_PSEUDONYM_KEY", raising=False)
    root = make_root(tmp_path)
    contract = load_contract("mz_member")
    write_csv(root.inbox / "mz_member_20260930.csv", headers(contract), valid_rows(contract, 3))
    land_inbox(root)
    key = root.secrets / "pseudonym.key"
    original = key.read_text()
    key.unlink()
    write_csv(root.inbox / "mz_member_20261031.csv", headers(contract), valid_rows(contract, 3, start=10))
    with pytest.raises(BrokenState, match="pseudonym.key is missing"):
        land_inbox(root)
    assert not key.exists() and (root.inbox / "mz_member_20261031.csv").exists()
    key.write_text("00" * 32)  # another secret: every person key would change
    with pytest.raises(BrokenState, match="not the one the landed deliveries were keyed with"):
        land_inbox(root)
    key.write_text(original)
    assert [r.status for r in land_inbox(root)] == ["landed"]


def test_the_vault_sweeps_its_own_debris(tmp_path: Path) -> None:
    """scratch does not reach the vault (the vault builds on scratch); a run's preparation sweeps it through its
    own module, as any write of the vault does under the vault's lock."""
    from warehouse.run import prepare_data_root

    root = DataRoot(tmp_path)
    stale = _touch(root.vault / f".persons.parquet.{_dead_owner()}.0f0f.tmp")
    mine = _touch(root.vault / f".persons.parquet.{scratch.owner()}.0f0f.tmp")
    assert stale not in scratch.sweep(root) and stale.exists()
    prepare_data_root(root)
    assert not stale.exists() and mine.exists()


def test_an_ended_process_not_yet_reaped_is_not_alive() -> None:
    """A killed landing's worker may stay a zombie (its new parent does not reap it): its debris is swept."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import os; print(os.getpid(), flush=True)"], stdout=subprocess.PIPE
    )
    pid = int(child.stdout.readline())
    token = f"{pid}-{scratch._start_ticks(pid)}"  # noqa: SLF001
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":  # ended, not yet waited for
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not scratch.is_alive(token)
    child.wait()
    assert not scratch.is_alive(token)
