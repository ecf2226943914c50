"""Which run built each table of the published mart, under the failure policy (docs/failure_policy.md).

A mart table the latest build could not make (its model errored, or something it reads did) is kept from the
previous published file, so that analysts' queries keep working on the last good version; `published_tables` says,
per mart table, the run that built the copy published and since which run a newer one is missing. With no earlier
copy the table is absent (its row says so). The failing rows of this build's failed data tests are published too,
in the schema `audit`, beside `ledger_data_tests`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import astuple, dataclass

import duckdb

from ingestion.settings import DataRoot
from warehouse.build_ledger import BuildRecord

log = logging.getLogger(__name__)

TABLE = "published_tables"
AUDIT_SCHEMA = "audit"
DDL = f"""
CREATE TABLE main.{TABLE} (
    table_name VARCHAR NOT NULL,
    run_date DATE,          -- the run whose build made the published copy (empty: no copy published)
    built_at VARCHAR,       -- when that build started (ISO timestamp, UTC)
    is_current BOOLEAN NOT NULL,
    missing_since DATE,     -- the first run whose build could not make it (empty when current)
    row_count BIGINT
)"""


@dataclass(frozen=True)
class TableProvenance:
    table_name: str
    run_date: dt.date | None
    built_at: str | None
    is_current: bool
    missing_since: dt.date | None
    row_count: int | None


def current(name: str, build: BuildRecord | None, rows: int) -> TableProvenance:
    return TableProvenance(name, build.run_date if build else None, build.built_at if build else None, True, None, rows)


def kept(name: str, earlier: TableProvenance | None, build: BuildRecord | None, rows: int | None) -> TableProvenance:
    """A table the latest build did not make: the earlier copy's origin (rows None: there was none to keep)."""
    since = earlier.missing_since if earlier is not None and not earlier.is_current else None
    since = since or (build.run_date if build else None)
    if earlier is None or rows is None:
        return TableProvenance(name, None, None, False, since, rows)
    return TableProvenance(name, earlier.run_date, earlier.built_at, False, since, rows)


def earlier_provenance(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, TableProvenance]:
    """`published_tables` of the previous published file attached as `catalog` (empty when it has none)."""
    found = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_catalog = ? AND table_name = ?", [catalog, TABLE]
    ).fetchone()
    if found is None:
        return {}
    rows = con.execute(
        f"SELECT table_name, run_date, built_at, is_current, missing_since, row_count FROM {catalog}.main.{TABLE}"
    ).fetchall()
    return {row[0]: TableProvenance(*row) for row in rows}


def write_provenance(con: duckdb.DuckDBPyConnection, rows: list[TableProvenance]) -> int:
    con.execute(DDL)
    con.executemany(f"INSERT INTO main.{TABLE} VALUES (?, ?, ?, ?, ?, ?)", [astuple(r) for r in rows])
    return len(rows)


def copy_stored_failures(con: duckdb.DuckDBPyConnection, root: DataRoot, build: BuildRecord | None) -> int:
    """Copy the failing rows of the build's failed data tests (attached warehouse `wh`) into schema `audit`."""
    from ingestion.ledger import open_ledger

    if build is None:
        return 0
    with open_ledger(root) as conn:
        relations = conn.execute(
            "SELECT stored_failures FROM data_test_results WHERE built_at = ? AND status = 'fail' "
            "AND stored_failures IS NOT NULL ORDER BY test",
            (build.built_at,),
        ).fetchall()
    copied = 0
    for (relation,) in relations:
        schema, name = relation.split(".", 1)
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {AUDIT_SCHEMA}")
            con.execute(f'CREATE TABLE {AUDIT_SCHEMA}."{name}" AS SELECT * FROM wh."{schema}"."{name}"')
            copied += 1
        except duckdb.Error as err:  # e.g. a Spark build: its stored failures stay in Spark
            log.warning("stored failures %s not published: %s", relation, err)
    return copied
