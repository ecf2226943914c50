"""Helpers (no tests) for the build tests: a small fixture lake written as landing leaves it.

Rows go straight to `lake/<dataset>/cutoff=…/seq=…/<sha>.parquet` in the dataset's lake schema (no IDs, no
names: person keys are made-up strings) and each delivery gets a `landed` row in the ledger, so that
`build()` exports `_deliveries.parquet` from the ledger exactly as after a real landing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingestion.filelock import file_lock
from ingestion.lake import delivery_path, lake_schema, write_atomic
from ingestion.ledger import insert_landing, open_ledger, supersede_lower, transaction
from ingestion.pseudonymise import load_or_create_key
from ingestion.settings import DataRoot


def deliver(root: DataRoot, dataset: str, cutoff: dt.date, rows: list[dict[str, Any]], seq: int = 1) -> str:
    """Land `rows` (lake fields; missing ones null) as one delivery; returns its sha256."""
    load_or_create_key(root)  # a landing always has the pseudonymisation secret (later landings check it)
    schema = lake_schema(dataset)
    file_name = f"{dataset}_{cutoff:%Y%m%d}{'' if seq == 1 else f'_{seq}'}.csv"
    sha = hashlib.sha256(
        json.dumps([dataset, cutoff.isoformat(), seq, rows], default=str, sort_keys=True).encode()
    ).hexdigest()
    meta = {"_file": file_name, "_sha256": sha, "_cutoff": cutoff, "_seq": seq}
    full = [{**_typed(schema, row), **meta, "_data_row": i} for i, row in enumerate(rows, start=1)]
    table = pa.Table.from_pylist(full, schema=schema) if full else schema.empty_table()
    write_atomic(table, delivery_path(root, dataset, cutoff, seq, sha))
    with open_ledger(root) as conn, transaction(conn):
        supersede_lower(conn, dataset, cutoff, seq)
        insert_landing(
            conn,
            {
                "file_name": file_name, "dataset": dataset, "cutoff_date": cutoff.isoformat(), "seq": seq,
                "sha256": sha, "status": "landed", "rows_in": len(rows), "rows_landed": len(rows),
                "archived": True,
            },
        )  # fmt: skip
    return sha


def _typed(schema: pa.Schema, row: dict[str, Any]) -> dict[str, Any]:
    unknown = set(row) - set(schema.names)
    if unknown:
        raise KeyError(f"not lake fields: {sorted(unknown)}")
    out: dict[str, Any] = {}
    for f in schema:
        value = row.get(f.name)
        if value is not None and pa.types.is_decimal(f.type):
            value = Decimal(str(value)).quantize(Decimal("0.01"))
        if value is not None and pa.types.is_date(f.type) and isinstance(value, str):
            value = dt.date.fromisoformat(value)
        out[f.name] = value
    return out


def feedback_row(warning_id: str, checked_on: dt.date, finding: str = "属实", action: str = "医疗救助") -> dict:
    return {
        "warning_id": warning_id, "finding": finding, "action": action, "checked_on": checked_on,
        "checked_by": "核查员", "remark": None,
    }  # fmt: skip


def write_override(root: DataRoot, name: str, text: str) -> None:
    """A user's reference file in <data root>/reference/."""
    root.reference.mkdir(parents=True, exist_ok=True)
    (root.reference / name).write_text(text, encoding="utf-8")


def session_dir(basetemp: Path) -> Path:
    """The folder one pytest session owns: under xdist each worker's basetemp is a child of it."""
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp


def shared_root(base: Path, name: str, make: Callable[[DataRoot], None]) -> DataRoot:
    """A data root made once per test session, also across pytest-xdist workers: `base` is the session's
    folder (`session_dir`); the first caller runs `make`, the others wait for it and reuse the result.
    Treat it as read-only."""
    root = DataRoot(base / name)
    with file_lock(base / f"{name}.lock"):
        done = base / f"{name}.done"
        if not done.exists():
            shutil.rmtree(root.root, ignore_errors=True)
            make(root)
            done.touch()
    return root
