"""The vault (`<data root>/vault/`, owner-only): ID numbers and names by person key.

Landing writes one part per delivery under `vault/parts/`; `compact` folds the parts into
`vault/persons.parquet` (person_key, id_number, name, last_seen_cutoff) under a file lock, then removes
them. This is the only module that writes the vault; only exports and staff look-ups read it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from ingestion.lake import write_atomic
from ingestion.settings import DataRoot

DIR_MODE = 0o700
FILE_MODE = 0o600
PART_SCHEMA = {"person_key": pl.String, "id_number": pl.String, "name": pl.String, "cutoff": pl.Date,
               "seq": pl.Int64}
PERSONS_SCHEMA = {"person_key": pl.String, "id_number": pl.String, "name": pl.String,
                  "last_seen_cutoff": pl.Date}


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
    fd = os.open(root.vault / ".lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def compact(root: DataRoot) -> int:
    """Fold every part into persons.parquet (latest name and cut-off per key); returns persons count."""
    with _lock(root):
        parts = sorted(parts_dir(root).glob("*.parquet"))
        current = persons_path(root)
        frames = []
        if current.exists():
            old = pl.read_parquet(current)
            frames.append(old.select("person_key", "id_number", "name",
                                     pl.col("last_seen_cutoff").alias("cutoff"), pl.lit(-1, dtype=pl.Int64).alias("seq")))
        frames.extend(pl.read_parquet(p).cast(PART_SCHEMA) for p in parts)
        if not parts:
            return frames[0].height if frames else 0
        merged = (
            pl.concat(frames)
            .sort("cutoff", "seq", maintain_order=True)
            .group_by("person_key", maintain_order=True)
            .agg(
                pl.col("id_number").last(),
                pl.col("name").drop_nulls().last(),
                pl.col("cutoff").max().alias("last_seen_cutoff"),
            )
            .sort("person_key")
        )
        write_atomic(merged.cast(PERSONS_SCHEMA).to_arrow(), current, mode=FILE_MODE)
        for part in parts:
            part.unlink(missing_ok=True)
        return merged.height


def read_persons(root: DataRoot) -> pl.DataFrame:
    """The vault's persons (for exports and staff look-ups only)."""
    path = persons_path(root)
    if not path.exists():
        return pl.DataFrame(schema=PERSONS_SCHEMA)
    return pl.read_parquet(path)
