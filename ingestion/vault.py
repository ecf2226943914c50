"""The vault (`<data root>/vault/`, owner-only): ID numbers and names by person key.

Landing writes one part per delivery under `vault/parts/`; `compact` folds the parts into
`vault/persons.parquet` (person_key, id_number, name, last_seen_cutoff) under a file lock, then removes
them. This is the only module that opens the vault (tests/test_vault_door.py enforces it): landing writes through
it, the county workbooks and staff look-ups read through `identities`. What it returns goes into the workbooks and
nowhere else: never into logs, the ledger or the mart.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from ingestion.filelock import file_lock
from ingestion.lake import write_atomic
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
PART_SCHEMA = {"person_key": pl.String, "id_number": pl.String, "name": pl.String, "cutoff": pl.Date, "seq": pl.Int64}
PERSONS_SCHEMA = {"person_key": pl.String, "id_number": pl.String, "name": pl.String, "last_seen_cutoff": pl.Date}


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


def parts_dir(root: DataRoot) -> Path:
    _private_dir(root.vault)
    return _private_dir(root.vault / "parts")


def persons_path(root: DataRoot) -> Path:
    return root.vault / "persons.parquet"


def write_part(root: DataRoot, sha256: str, persons: pl.DataFrame, cutoff: dt.date, seq: int) -> Path:
    """The vault rows of one delivery (person_key, id_number, name), written atomically."""
    part = persons.with_columns(pl.lit(cutoff).alias("cutoff"), pl.lit(seq, dtype=pl.Int64).alias("seq"))
    target = parts_dir(root) / f"{sha256}.parquet"
    write_atomic(part.select(list(PART_SCHEMA)).cast(PART_SCHEMA).to_arrow(), target, mode=FILE_MODE)
    return target


@contextmanager
def _lock(root: DataRoot) -> Iterator[None]:
    _private_dir(root.vault)
    with file_lock(root.vault / ".lock", FILE_MODE):
        yield


def compact(root: DataRoot) -> int:
    """Fold every part into persons.parquet (latest name and cut-off per key); returns persons count.

    Later wins: by cut-off, then re-delivery number; the existing file counts as earliest at its cut-off; two
    names at the same cut-off and number (two departments' deliveries) resolve to the greater, so the result
    does not depend on arrival order. DuckDB aggregates out of core: a year of rosters at Shandong scale is
    tens of millions of part rows.
    """
    import duckdb

    with _lock(root):
        parts = sorted(parts_dir(root).glob("*.parquet"))
        current = persons_path(root)
        if not parts:
            return pl.scan_parquet(current).select(pl.len()).collect().item() if current.exists() else 0
        config = {"threads": os.cpu_count() or 1, "memory_limit": VAULT_MEMORY, "preserve_insertion_order": False}
        with duckdb.connect(config=config) as conn:
            conn.execute("set enable_progress_bar = false")
            merged = pl.from_arrow(conn.sql(_fold_sql(parts, current if current.exists() else None)).to_arrow_table())
        write_atomic(merged.sort("person_key").cast(PERSONS_SCHEMA).to_arrow(), current, mode=FILE_MODE)
        for part in parts:
            part.unlink(missing_ok=True)
        return merged.height


VAULT_MEMORY = "3GB"  # DuckDB's cap while folding (it spills beyond it)


def _fold_sql(parts: list[Path], current: Path | None) -> str:
    """One row per person from the parts and the current file; `version` orders cut-off, then seq."""
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
    rows = f"select person_key, id_number, name, cutoff, seq from read_parquet([{files}])"
    if current is not None:
        quoted = str(current).replace("'", "''")
        rows += f" union all select person_key, id_number, name, last_seen_cutoff, -1 from read_parquet('{quoted}')"
    return f"""
        with rows as ({rows}),
        versioned as (
            select *, (datediff('day', date '1970-01-01', cutoff)::bigint << 24) + (seq + 1) as version from rows
        )
        select
            person_key,
            arg_max(id_number, (version, id_number)) as id_number,
            arg_max(name, (version, name)) filter (where name is not null) as name,
            max(cutoff) as last_seen_cutoff
        from versioned
        group by person_key
    """  # fmt: skip


IDENTITY_SCHEMA = {"person_key": pl.String, "id_number": pl.String, "name": pl.String}


def identities(root: DataRoot, person_keys: Iterable[str | None] | None = None) -> pl.DataFrame:
    """person_key, id_number, name of the given keys (all persons when `person_keys` is None); keys missing from
    the vault are absent, and counted in the log (never the keys themselves)."""
    path = persons_path(root)
    keys = None if person_keys is None else sorted({k for k in person_keys if k})
    if keys == [] or not path.exists():
        if keys and not path.exists():
            log.warning("vault %s is missing: workbooks will lack names and ID numbers", path)
        return pl.DataFrame(schema=IDENTITY_SCHEMA)
    rows = pl.scan_parquet(path).select(list(IDENTITY_SCHEMA))
    if keys is not None:
        rows = rows.filter(pl.col("person_key").is_in(keys))
    found = rows.unique("person_key", keep="last").collect().cast(IDENTITY_SCHEMA)
    if keys is not None and found.height < len(keys):
        log.warning("vault lacks %d of %d person keys", len(keys) - found.height, len(keys))
    return found
