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


def table_rows(db: Path, models: list[str]) -> dict[str, list[tuple]]:
    """Every mart table and each of `models`, as sorted rows, by schema.table."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and (table_schema = ? or list_contains(?, table_name))",
            [MART_SCHEMA, models],
        ).fetchall()
        return {name: sorted(con.sql(f"select * from {name}").fetchall(), key=repr) for (name,) in names}


def differences(incremental_db: Path, full_db: Path, models: list[str]) -> list[str]:
    """What differs, one line per table (its row counts and a row of each side not in the other)."""
    a, b = table_rows(incremental_db, models), table_rows(full_db, models)
    out = [f"{t}: only in the full rebuild" for t in sorted(b.keys() - a.keys())]
    out += [f"{t}: only in the incremental warehouse" for t in sorted(a.keys() - b.keys())]
    for table in sorted(a.keys() & b.keys()):
        if a[table] != b[table]:
            extra, missing = set(a[table]) - set(b[table]), set(b[table]) - set(a[table])
            out.append(
                f"{table}: {len(a[table])} rows incremental, {len(b[table])} full; "
                f"e.g. only incremental {sorted(extra, key=repr)[:1]}, only full {sorted(missing, key=repr)[:1]}"
            )
    return out
