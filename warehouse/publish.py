"""Publish the analysts' copy of the mart: `published/monitoring.duckdb`, replaced atomically.

The new file is built beside the old one under a temporary name and renamed over it, so a reader
never sees a half-built database, and one that has the old file open keeps reading it while the next
run builds. Only keyed data is copied: the mart holds no ID number and no name.

The published file is read-only (0444) in a folder only its owner may write (0755): an analyst's plain
connection can neither change it nor replace it. Temporary marts of a process that stopped are swept first.

A mart table the latest build could not make is kept from the previous published file and labelled in
`published_tables` (warehouse/mart_provenance.py, docs/failure_policy.md).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion import scratch
from ingestion.settings import DataRoot
from warehouse import mart_provenance
from warehouse.build_ledger import latest_build
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
# ledger table → name in the published mart (docs/outputs.md#the-published-mart)
LEDGER_TABLES = {
    "landings": "ledger_landings",
    "rejections": "ledger_rejections",
    "checks": "ledger_checks",
    "holds": "ledger_holds",
    "runs": "ledger_runs",
    "exports": "ledger_exports",
    "pulls": "ledger_pulls",
    "run_models": "ledger_run_models",
    "data_test_results": "ledger_data_tests",
    "build_refreshes": "ledger_build_refreshes",
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
            counts = _write_copy(root, tmp, target if target.exists() else None)
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


def _write_copy(root: DataRoot, tmp: Path, previous: Path | None) -> dict[str, int]:
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"ATTACH '{root.warehouse_db}' AS wh (READ_ONLY)")
        counts = {name: _copy_mart_table(con, name) for name in MART_TABLES}
        if previous is not None:
            con.execute(f"ATTACH '{previous}' AS prev (READ_ONLY)")
        counts.update(_keep_missing_tables(con, root, counts, previous is not None))
        if all(rows < 0 for rows in counts.values()):
            raise RuntimeError(f"warehouse {root.warehouse_db} holds no mart table: build first")
        mart_provenance.copy_stored_failures(con, root, latest_build(root))
        con.execute("DETACH wh")
        if previous is not None:
            con.execute("DETACH prev")
        counts.update(_copy_ledger(con, root))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {name: rows for name, rows in counts.items() if rows >= 0}


def _keep_missing_tables(
    con: duckdb.DuckDBPyConnection, root: DataRoot, counts: dict[str, int], has_previous: bool
) -> dict[str, int]:
    """Mart tables absent from the warehouse (the latest build could not make them) copied from the previous
    published file when it has them, and `published_tables`: which run built each table published."""
    build = latest_build(root)
    earlier = mart_provenance.earlier_provenance(con, "prev") if has_previous else {}
    rows, kept = [], {}
    for name, count in counts.items():
        if count >= 0:
            rows.append(mart_provenance.current(name, build, count))
            continue
        kept[name] = _copy_mart_table(con, name, catalog="prev") if has_previous else -1
        copied = kept[name] if kept[name] >= 0 else None
        rows.append(mart_provenance.kept(name, earlier.get(name), build, copied))
        log.warning(
            "%s: not built by the latest build; %s", name, "previous copy kept" if copied is not None else "absent"
        )
    kept[mart_provenance.TABLE] = mart_provenance.write_provenance(con, rows)
    return kept


def _copy_mart_table(con: duckdb.DuckDBPyConnection, name: str, catalog: str = "wh") -> int:
    """Copy one relation from whichever schema of `catalog` holds it (dbt's schema in the warehouse); -1 when
    absent."""
    found = con.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_catalog = ? AND table_name = ? "
        "ORDER BY table_schema LIMIT 1",
        [catalog, name],
    ).fetchone()
    if found is None:
        return -1
    con.execute(f'CREATE TABLE main."{name}" AS SELECT * FROM {catalog}."{found[0]}"."{name}"')
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
