"""Two warehouses compared table by table, row for row: an incremental build against a full rebuild at the same date
(tests/test_incremental_equals_full.py, bench/bench_incremental.py; docs/incremental.md).

    differences(incremental_db, full_db, incremental_models) -> ["table: what differs", ...]   # [] when equal

Compared: every table of the mart schema (`main`: the register, the chain, identification …) and every incremental
model wherever it lives.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from ingestion.settings import DataRoot

MART_SCHEMA = "main"


def incremental_models(root: DataRoot) -> list[str]:
    """The models dbt built as incremental in this data root's latest dbt invocation (its manifest)."""
    manifest = json.loads((root.root / "dbt" / "target" / "manifest.json").read_text(encoding="utf-8"))
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    )


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, models: list[str]) -> set[str]:
    """schema.table of every mart table and each of `models` in one attached warehouse."""
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables where table_catalog = ? "
        "and table_type = 'BASE TABLE' and (table_schema = ? or list_contains(?, table_name))",
        [catalog, MART_SCHEMA, models],
    ).fetchall()
    return {name for (name,) in rows}


def differences(incremental_db: Path, full_db: Path, models: list[str]) -> list[str]:
    """What differs, one line per table: rows of one side missing from the other, as multisets (EXCEPT ALL both
    ways, NULLs equal), with an example of each."""
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach '{incremental_db}' as incremental (read_only)")
        con.execute(f"attach '{full_db}' as full_rebuild (read_only)")
        a, b = _tables(con, "incremental", models), _tables(con, "full_rebuild", models)
        out = [f"{t}: only in the full rebuild" for t in sorted(b - a)]
        out += [f"{t}: only in the incremental warehouse" for t in sorted(a - b)]
        for table in sorted(a & b):
            only_a = f"select * from incremental.{table} except all select * from full_rebuild.{table}"
            only_b = f"select * from full_rebuild.{table} except all select * from incremental.{table}"
            extra = con.execute(f"select count(*) from ({only_a})").fetchall()[0][0]
            missing = con.execute(f"select count(*) from ({only_b})").fetchall()[0][0]
            if extra or missing:
                out.append(
                    f"{table}: {extra} rows only incremental, e.g. {con.execute(only_a + ' limit 1').fetchall()}; "
                    f"{missing} only in the full rebuild, e.g. {con.execute(only_b + ' limit 1').fetchall()}"
                )
    return out
