"""The lake (docs/internals.md): its schema per dataset and atomic Parquet writing.

`lake/<dataset>/cutoff=<YYYY-MM-DD>/seq=<n>/<sha256>.parquet`, written under a temporary name in the
same folder and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.contracts import Column, Contract, all_contracts, load_contract
from ingestion.scratch import temp_path
from ingestion.settings import DataRoot

_ARROW = {
    "text": pa.string(),
    "enum": pa.string(),
    "region": pa.string(),
    "region6": pa.string(),
    "date": pa.date32(),
    "month": pa.date32(),
    "amount": pa.decimal128(14, 2),
    "int": pa.int64(),
}
METADATA = [
    pa.field("_file", pa.string()),
    pa.field("_sha256", pa.string()),
    pa.field("_cutoff", pa.date32()),
    pa.field("_seq", pa.int64()),
    pa.field("_data_row", pa.int64()),
]


def id_prefix(field_name: str) -> str:
    """`id_number` → '' (person_key, birth_date, ...); `head_id` → 'head_' (head_key, ...)."""
    if field_name == "id_number":
        return ""
    return field_name[:-2] if field_name.endswith("_id") else f"{field_name}_"


def id_key_field(field_name: str) -> str:
    prefix = id_prefix(field_name)
    return f"{prefix}key" if prefix else "person_key"


def _fields(col: Column) -> list[pa.Field]:
    if col.pii in ("name", "drop"):
        return []
    if col.pii == "keyed":
        return [pa.field(col.lake_field or f"{col.field}_key", pa.string())]
    if col.kind == "id":
        prefix = id_prefix(col.field)
        return [
            pa.field(id_key_field(col.field), pa.string()),
            pa.field(f"{prefix}birth_date", pa.date32()),
            pa.field(f"{prefix}sex", pa.string()),
            pa.field(f"{prefix}id_region", pa.string()),
        ]
    return [pa.field(col.field, _ARROW[col.kind])]


def contract_schema(contract: Contract) -> pa.Schema:
    fields: list[pa.Field] = []
    for col in contract.columns:
        fields.extend(_fields(col))
    fields.extend(pa.field(check.flag, pa.bool_()) for check in contract.parts_checks)
    return pa.schema(fields + METADATA)


def lake_schema(dataset: str) -> pa.Schema:
    """The Parquet schema of a dataset's landed rows: no IDs, no names."""
    return contract_schema(load_contract(dataset))


def _empty(schema: pa.Schema) -> pa.Table:
    # not Schema.empty_table(): that imports pandas (seconds at start-up)
    return pa.Table.from_batches([], schema=schema)


@functools.cache
def polars_schema(dataset: str) -> dict[str, pl.DataType]:
    empty = pl.from_arrow(_empty(lake_schema(dataset)))
    assert isinstance(empty, pl.DataFrame)
    return dict(empty.schema)


@functools.cache
def dictionary_columns(dataset: str) -> list[str]:
    """Low-cardinality columns worth dictionary encoding (the rest: plain, which writes faster)."""
    contract = load_contract(dataset)
    low = {c.field for c in contract.columns if c.kind in ("enum", "region", "region6") and not c.pii}
    for col in contract.columns:
        if col.kind == "id":
            prefix = id_prefix(col.field)
            low |= {f"{prefix}sex", f"{prefix}id_region"}
    return [name for name in lake_schema(dataset).names if name in low or name in ("_file", "_sha256")]


def delivery_path(root: DataRoot, dataset: str, cutoff: dt.date, seq: int, sha256: str) -> Path:
    return root.lake / dataset / f"cutoff={cutoff.isoformat()}" / f"seq={seq}" / f"{sha256}.parquet"


def write_atomic(table: pa.Table, target: Path, mode: int | None = None) -> None:
    """Write a Parquet file under a temporary name in the same folder, fsync, rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        pq.write_table(table, tmp)
        _finish(tmp, target, mode)
    finally:
        tmp.unlink(missing_ok=True)


def _finish(tmp: Path, target: Path, mode: int | None) -> None:
    # the data is on disk before the name points at it; a rename is atomic for readers and for a
    # killed process (the directory itself is not fsynced: that only matters on power loss)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, target)


_WRITERS: dict[int, ThreadPoolExecutor] = {}


def _writer_pool() -> ThreadPoolExecutor:
    """One background writer per process (threads do not survive a fork)."""
    pid = os.getpid()
    if pid not in _WRITERS:
        _WRITERS[pid] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
    return _WRITERS[pid]


class StagedParquet:
    """A Parquet file written batch by batch under a temporary name; `commit` renames it into place.

    Batches are written by one background thread (pyarrow releases the GIL), so the next batch is
    normalised while the previous one is compressed and written; at most one write is in flight.
    """

    def __init__(self, target: Path, schema: pa.Schema, mode: int | None = None, dictionary: list[str] | bool = True):
        self.target = target
        self.schema = schema
        self.mode = mode
        self.rows = 0
        target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temp_path(target)
        self._writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd", use_dictionary=dictionary)
        self._pending: Future | None = None

    def write(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow().select(self.schema.names).cast(self.schema)
        self._wait()
        self._pending = _writer_pool().submit(self._writer.write_table, table)
        self.rows += frame.height

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def commit(self) -> Path:
        self._wait()
        self._writer.close()  # zero batches still make a valid (empty) file
        _finish(self.tmp, self.target, self.mode)
        return self.target

    def discard(self) -> None:
        with contextlib.suppress(Exception):  # the file is being thrown away: a failed write does not matter
            self._wait()
        self._writer.close()
        self.tmp.unlink(missing_ok=True)


def ensure_schema_files(root: DataRoot) -> list[Path]:
    """A zero-row `lake/<dataset>/_schema.parquet` per dataset, so dbt reads datasets with no delivery."""
    written = []
    for dataset in all_contracts():
        target = root.lake / dataset / "_schema.parquet"
        schema = lake_schema(dataset)
        if target.exists() and pq.read_schema(target).equals(schema, check_metadata=False):
            continue
        write_atomic(_empty(schema), target)
        written.append(target)
    return written
