"""Publish the analysts' copy of the mart: `published/monitoring.duckdb`, replaced atomically.

The new file is built beside the old one under a temporary name and renamed over it, so a reader
never sees a half-built database, and one that has the old file open keeps reading it while the next
run builds. Only keyed data is copied: the mart holds no ID number and no name.

The published file is read-only (0444) in a folder only its owner may write (0755): an analyst's plain
connection can neither change it nor replace it. Temporary marts of a process that stopped are swept first.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion import scratch
from ingestion.settings import DataRoot
from warehouse.lock import warehouse_write_lock

log = logging.getLogger(__name__)

MART_TABLES = (
    "fct_warnings",
    "fct_identification",
    "fct_identification_trace",
    "fct_identification_review_deadlines",
    "fct_assistance_chain",
    "chain_missed_assistance",
    "chain_duplicated_assistance",
    "dim_household",
    "dim_person",
    "mart_household_monitoring",
)
REQUIRED_TABLES = ("fct_warnings", "mart_household_monitoring")
# ledger table → name in the published mart (spec/OUTPUTS.md §1)
LEDGER_TABLES = {
    "landings": "ledger_landings",
    "rejections": "ledger_rejections",
    "checks": "ledger_checks",
    "holds": "ledger_holds",
    "runs": "ledger_runs",
    "exports": "ledger_exports",
}
PUBLISHED_NAME = "monitoring.duckdb"
MART_MODE = 0o444  # read-only for everyone, its owner included
FOLDER_MODE = 0o755  # analysts read, only the platform's account writes


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: dict[str, int]  # table → rows


def published_path(root: DataRoot) -> Path:
    return root.published / PUBLISHED_NAME


def publish(root: DataRoot) -> PublishResult:
    """Copy the marts and the ledger into a fresh file, then swap it in atomically."""
    target = published_path(root)
    tmp = prepare_published_folder(root)
    try:
        with warehouse_write_lock(root):  # no build may write while we read the warehouse
            counts = _write_copy(root, tmp)
        _fsync(tmp)
        os.chmod(tmp, MART_MODE)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    log.info("published %s (%d tables)", target, len(counts))
    return PublishResult(target, counts)


def prepare_published_folder(root: DataRoot) -> Path:
    """The published folder with its mode, cleared of temporary marts whose process stopped; returns a fresh
    temporary name for the new mart."""
    root.published.mkdir(parents=True, exist_ok=True)
    os.chmod(root.published, FOLDER_MODE)
    scratch.sweep_folder(root.published, recursive=False)
    return scratch.temp_path(published_path(root))


def _write_copy(root: DataRoot, tmp: Path) -> dict[str, int]:
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"ATTACH '{root.warehouse_db}' AS wh (READ_ONLY)")
        counts = {name: _copy_mart_table(con, name) for name in MART_TABLES}
        missing = [name for name in REQUIRED_TABLES if counts[name] < 0]
        if missing:
            raise RuntimeError(f"warehouse {root.warehouse_db} lacks {', '.join(missing)}: build first")
        con.execute("DETACH wh")
        counts.update(_copy_ledger(con, root))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {name: rows for name, rows in counts.items() if rows >= 0}


def _copy_mart_table(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """Copy one relation from whichever warehouse schema dbt built it in; -1 when absent."""
    found = con.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_catalog = 'wh' AND table_name = ? "
        "ORDER BY table_schema LIMIT 1",
        [name],
    ).fetchone()
    if found is None:
        return -1
    con.execute(f'CREATE TABLE main."{name}" AS SELECT * FROM wh."{found[0]}"."{name}"')
    return con.execute(f'SELECT count(*) FROM main."{name}"').fetchone()[0]


def _copy_ledger(con: duckdb.DuckDBPyConnection, root: DataRoot) -> dict[str, int]:
    from ingestion import ledger

    counts: dict[str, int] = {}
    for table, published_name in LEDGER_TABLES.items():
        try:
            frame = ledger.read_table(root, table)
        except KeyError:  # tables such as `checks` appear only once their step has run
            continue
        arrow = frame.to_arrow()  # noqa: F841 - read by name below
        con.execute(f'CREATE TABLE main."{published_name}" AS SELECT * FROM arrow')
        counts[published_name] = frame.height
    return counts


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync(path)
