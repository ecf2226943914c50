"""The scratch data root a what-if runs in (warehouse/simulate.py): it reads the real lake, never writes it.

A scratch root is a folder laid out like a data root:

- `lake/<dataset>` are symbolic links to the real lake's dataset folders (read only by dbt);
  `lake/_deliveries.parquet`, `lake/_reference/` and `lake/_state/` are the scratch's own;
- `ledger.sqlite` is a copy of the real ledger, taken through a read-only connection, so that the
  register functions of warehouse/register.py can save simulated registers without touching the real one;
- `reference/` holds the real root's reference overrides plus a `rule_parameters.csv` with the changes;
- `warehouse.duckdb` is a copy of the real warehouse (taken under the write lock, so never half-written)
  or a fresh file that dbt builds from the lake.

The folder is kept between simulations (dbt's partial parse then saves most of its start-up) and is
locked while one simulation uses it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ingestion.filelock import file_lock
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

# The simulated value holds from this date on, so it applies to every run a backtest replays.
SIMULATED_FROM = dt.date(2000, 1, 1)
PROVINCE_SCOPE = ("province", "37")
PARAMETERS_FILE = "rule_parameters.csv"
PARAMETER_COLUMNS = ("parameter", "scope", "scope_code", "effective_from", "value", "description")
LOCK_WAIT_SECONDS = 600.0
WORKDIR_ENV = "SAFETYNET_SIMULATE_WORKDIR"  # where scratch folders go (default: the system's temp folder)


class ScratchError(RuntimeError):
    """The real data root cannot be simulated (nothing built yet, lake missing)."""


@dataclass(frozen=True)
class Override:
    """One simulated parameter value: province-wide (county None) or for one county."""

    parameter: str
    value: Decimal
    county: str | None = None


def default_workdir(root: DataRoot) -> Path:
    """One scratch folder per data root, under $SAFETYNET_SIMULATE_WORKDIR or the system's temp folder
    (not under the data root: an analyst may only read it)."""
    digest = hashlib.sha256(str(root.root).encode()).hexdigest()[:12]
    base = os.environ.get(WORKDIR_ENV) or str(Path(tempfile.gettempdir()) / "safetynet-simulate")
    return Path(base) / digest


@contextmanager
def scratch_root(workdir: Path) -> Iterator[DataRoot]:
    """The scratch root at `workdir`, locked for one simulation at a time."""
    with file_lock(workdir / ".lock", 0o600):
        yield DataRoot(workdir.resolve())


def link_lake(real: DataRoot, scratch: DataRoot) -> list[str]:
    """Point the scratch lake's dataset folders at the real ones; returns the datasets linked."""
    if not real.lake.is_dir():
        raise ScratchError(f"{real.lake} does not exist: land and build a run before simulating")
    scratch.lake.mkdir(parents=True, exist_ok=True)
    for entry in scratch.lake.iterdir():
        if entry.is_symlink():
            entry.unlink()
    linked = []
    for entry in sorted(real.lake.iterdir()):
        if entry.is_dir() and not entry.name.startswith(("_", ".")):
            (scratch.lake / entry.name).symlink_to(entry.resolve(), target_is_directory=True)
            linked.append(entry.name)
    if not linked:
        raise ScratchError(f"{real.lake} holds no landed dataset: land and build a run before simulating")
    return linked


def copy_ledger(real: DataRoot, scratch: DataRoot) -> None:
    """Copy the ledger. With no write-ahead log beside it nobody is writing: a plain file copy, checked, leaves
    no trace; otherwise SQLite's backup through a read-only connection (consistent while others write)."""
    if not real.ledger.is_file():
        raise ScratchError(f"{real.ledger} does not exist: no run to simulate")
    target = scratch.ledger
    for stale in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)
    if not real.ledger.with_name(real.ledger.name + "-wal").exists():
        shutil.copyfile(real.ledger, target)
        if _intact(target):
            return
        target.unlink()
    source = sqlite3.connect(f"file:{real.ledger}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def copy_warehouse(real: DataRoot, scratch: DataRoot) -> bool:
    """Copy the real warehouse under its write lock (so no build is half-way); False when it cannot be had."""
    from warehouse.lock import WarehouseBusy, warehouse_write_lock

    remove_warehouse(scratch)
    if not real.warehouse_db.is_file():
        return False
    try:
        with warehouse_write_lock(real, timeout=LOCK_WAIT_SECONDS):
            shutil.copyfile(real.warehouse_db, scratch.warehouse_db)
            wal = real.warehouse_db.with_name(real.warehouse_db.name + ".wal")
            if wal.is_file():
                shutil.copyfile(wal, scratch.warehouse_db.with_name(scratch.warehouse_db.name + ".wal"))
    except (PermissionError, WarehouseBusy) as err:  # a read-only analyst, or a build that will not finish
        log.warning("cannot copy the warehouse (%s): rebuilding from the lake instead", err)
        remove_warehouse(scratch)
        return False
    return True


def remove_warehouse(scratch: DataRoot) -> None:
    for path in (scratch.warehouse_db, scratch.warehouse_db.with_name(scratch.warehouse_db.name + ".wal")):
        path.unlink(missing_ok=True)


def write_overrides(real: DataRoot, scratch: DataRoot, overrides: Sequence[Override]) -> Path:
    """The real root's reference files plus the simulated parameter rows, in the scratch `reference/`."""
    from ingestion.reference import REFERENCE_FILES, SHIPPED_DIR

    if scratch.reference.exists():
        shutil.rmtree(scratch.reference)
    scratch.reference.mkdir(parents=True)
    for name in REFERENCE_FILES:
        if (real.reference / name).is_file():
            shutil.copyfile(real.reference / name, scratch.reference / name)
    source = real.reference / PARAMETERS_FILE
    rows = _read_parameters(source if source.is_file() else SHIPPED_DIR / PARAMETERS_FILE)
    for override in overrides:
        rows = [row for row in rows if not _replaced_by(row, override)] + [_row_for(override)]
    target = scratch.reference / PARAMETERS_FILE
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PARAMETER_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return target


def _read_parameters(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)]


def _replaced_by(row: dict[str, str], override: Override) -> bool:
    """A province-wide value replaces every row of the parameter (city and county ones too, so it holds
    everywhere); a county value replaces only that county's rows."""
    if row.get("parameter") != override.parameter:
        return False
    if override.county is None:
        return True
    return row.get("scope") == "county" and row.get("scope_code") == override.county


def _row_for(override: Override) -> dict[str, str]:
    scope, code = ("county", override.county) if override.county else PROVINCE_SCOPE
    return {
        "parameter": override.parameter,
        "scope": scope,
        "scope_code": code,
        "effective_from": SIMULATED_FROM.isoformat(),
        "value": format(override.value, "f"),
        "description": "safetynet simulate: what-if value",
    }


def _intact(path: Path) -> bool:
    """A copied SQLite file that opens and passes SQLite's quick check (not caught half-way through a write)."""
    try:
        conn = sqlite3.connect(path)
        try:
            return conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
