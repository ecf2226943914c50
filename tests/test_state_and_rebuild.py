"""Nothing lost: a run on a lost lake is refused before it builds (register, exports and mart untouched), and
`safetynet rebuild` restores the lake, quarantine, vault and warehouse from raw/ exactly as they were; an export
of a date already exported keeps the earlier one."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from safety_fixtures import RUN_DATES, copy_root, mart_tables, province

from ingestion.settings import DataRoot
from warehouse.exports import export_run
from warehouse.publish import published_path
from warehouse.rebuild import rebuild
from warehouse.state import verify_state

LATEST = RUN_DATES[-1]


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> DataRoot:
    return province(tmp_path_factory)


def _tree(folder: Path, pattern: str = "*") -> dict[str, str]:
    """Every file under `folder` by its path and sha256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob(pattern))
        if p.is_file()
    }


def _landed_files(root: DataRoot) -> dict[str, str]:
    """The lake as landing leaves it (not the build's inputs under _reference/ and _state/)."""
    return {k: v for k, v in _tree(root.lake).items() if not k.startswith(("_reference/", "_state/"))}


def _registers(root: DataRoot) -> list[tuple]:
    con = sqlite3.connect(root.ledger)
    try:
        return con.execute("SELECT * FROM warning_register ORDER BY run_date, warning_id").fetchall()
    finally:
        con.close()


def _ledger_rows(root: DataRoot, sql: str) -> list[tuple]:
    con = sqlite3.connect(root.ledger)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _cli(root: DataRoot, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "warehouse.cli", *args, "--data", str(root.root)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "100"},
    )  # fmt: skip


def test_the_province_has_what_the_rebuild_must_reproduce(shared: DataRoot) -> None:
    statuses = dict(_ledger_rows(shared, "SELECT status, count(*) FROM landings GROUP BY status"))
    assert statuses.get("superseded", 0) >= 1 and statuses.get("landed", 0) > 100  # re-deliveries
    assert _ledger_rows(shared, "SELECT count(*) FROM holds WHERE released = 0")[0][0] >= 1  # held back
    assert [r[0] for r in _ledger_rows(shared, "SELECT DISTINCT run_date FROM warning_register")] == [
        d.isoformat() for d in RUN_DATES
    ]
    verify_state(shared)


def test_a_run_on_a_lost_lake_is_refused_before_anything_changes(shared: DataRoot, tmp_path: Path) -> None:
    root = copy_root(shared, tmp_path / "data")
    shutil.rmtree(root.lake)
    registers, exports = _registers(root), _tree(root.exports)
    mart = hashlib.sha256(published_path(root).read_bytes()).hexdigest()
    shutil.copytree(root.root / "archive", root.inbox, dirs_exist_ok=True)  # the archive copied back by hand
    done = _cli(root, "run", "--date", LATEST.isoformat())
    assert done.returncode == 4, done.stdout + done.stderr
    said = done.stderr.strip()  # one line on stderr, no traceback
    assert "\n" not in said and said.startswith("safetynet: state check failed"), said
    assert "lake" in said and "safetynet rebuild" in said, said
    assert _registers(root) == registers
    assert _tree(root.exports) == exports
    assert hashlib.sha256(published_path(root).read_bytes()).hexdigest() == mart
    assert not root.lake.exists() or not _landed_files(root)  # nothing landed on the broken state
    [(status, step)] = _ledger_rows(root, "SELECT status, failed_step FROM runs ORDER BY run_id DESC LIMIT 1")
    assert (status, step) == ("failed", "state")


def test_a_changed_lake_file_or_a_lost_register_is_refused(shared: DataRoot, tmp_path: Path) -> None:
    from ingestion.state import BrokenState

    root = copy_root(shared, tmp_path / "data")
    victim = sorted(root.lake.glob("mz_member/cutoff=*/seq=*/*.parquet"))[-1]
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(BrokenState, match=r"1 lake file changed .*safetynet rebuild"):
        verify_state(root)
    root = copy_root(shared, tmp_path / "other")
    con = sqlite3.connect(root.ledger)
    con.execute("DELETE FROM warning_register WHERE run_date = ?", (RUN_DATES[0].isoformat(),))
    con.commit()
    con.close()
    with pytest.raises(BrokenState, match=r"1 saved register missing \(warning_register/2026-09-30\).*ledger.sqlite"):
        verify_state(root)


def test_rebuild_restores_the_lake_vault_register_and_mart(shared: DataRoot, tmp_path: Path) -> None:
    root = copy_root(shared, tmp_path / "data")
    lake, quarantine = _landed_files(root), _tree(root.quarantine)
    vault = hashlib.sha256((root.vault / "persons.parquet").read_bytes()).hexdigest()
    registers, warehouse = _registers(root), mart_tables(root.warehouse_db)
    ledger_before = _ledger_rows(root, "SELECT * FROM landings ORDER BY id") + _ledger_rows(
        root, "SELECT * FROM holds ORDER BY rowid"
    )
    shutil.rmtree(root.lake)
    (root.vault / "persons.parquet").unlink()
    root.warehouse_db.unlink()

    summary = rebuild(root)

    assert summary.run_date == LATEST and summary.relanded.changed == []
    assert _landed_files(root) == lake  # byte for byte
    assert _tree(root.quarantine) == quarantine
    assert hashlib.sha256((root.vault / "persons.parquet").read_bytes()).hexdigest() == vault
    assert _registers(root) == registers
    rebuilt = mart_tables(root.warehouse_db)
    for name, frame in warehouse.items():  # row for row
        assert rebuilt[name].equals(frame), name
    published = mart_tables(published_path(root))
    for name, frame in warehouse.items():
        assert published[name].equals(frame), name
    after = _ledger_rows(root, "SELECT * FROM landings ORDER BY id") + _ledger_rows(
        root, "SELECT * FROM holds ORDER BY rowid"
    )
    assert after == ledger_before  # same delivery numbers, holds and releases
    verify_state(root)


def test_rebuild_refuses_when_the_raw_archive_is_incomplete(shared: DataRoot, tmp_path: Path) -> None:
    from ingestion.state import BrokenState

    root = copy_root(shared, tmp_path / "data")
    lake = _landed_files(root)
    next(root.raw.iterdir()).unlink()
    with pytest.raises(BrokenState, match=r"1 raw file\(s\) missing .*restore raw/"):
        rebuild(root)
    assert _landed_files(root) == lake  # nothing was rewritten


def test_an_export_of_an_exported_date_keeps_the_earlier_one(shared: DataRoot, tmp_path: Path) -> None:
    root = copy_root(shared, tmp_path / "data")
    folder = root.exports / LATEST.isoformat()
    received = _tree(folder)
    assert any(name.endswith("_低收入人口预警清单_2026-10-31.xlsx") for name in received)
    summary = export_run(root, LATEST)
    kept = [p for p in root.exports.iterdir() if p.name.startswith(f"{LATEST.isoformat()}.replaced-")]
    assert len(kept) == 1 and _tree(kept[0]) == received  # what counties received is still there, unchanged
    assert sorted(_tree(folder)) == sorted(f.path.name for f in summary.files)  # one consistent export
    paths = [Path(p) for (p,) in _ledger_rows(root, "SELECT path FROM exports")]
    assert all((root.root / p).is_file() for p in paths)  # the ledger says where every exported file is
    assert sum(1 for p in paths if p.parent.name == kept[0].name) == len(received)
    assert dt.date.fromisoformat(folder.name) == LATEST
