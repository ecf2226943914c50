"""The quarantine (`<data root>/quarantine/<dataset>/<sha256>.parquet`, owner-only).

Rejected rows with every raw value as delivered (IDs and names included: hence owner-only), the data row,
the source line, the column, the field, the reason code and a message; one row per bad cell.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingestion.lake import write_atomic
from ingestion.private import FILE_MODE, private_dir
from ingestion.settings import DataRoot


def _folder(root: DataRoot, dataset: str) -> Path:
    return private_dir(root.quarantine / dataset, place=root.quarantine)


def path_for(root: DataRoot, dataset: str, sha256: str) -> Path:
    return root.quarantine / dataset / f"{sha256}.parquet"


def write_rows(root: DataRoot, dataset: str, sha256: str, frames: list[pl.DataFrame]) -> Path | None:
    """The rejected rows of a delivery (nothing is written when none was rejected)."""
    if not frames:
        return None
    frame = pl.concat(frames, how="diagonal_relaxed").sort("data_row", "field")
    target = _folder(root, dataset) / f"{sha256}.parquet"
    write_atomic(frame.to_arrow(), target, mode=FILE_MODE)
    return target


def write_file_rejection(root: DataRoot, dataset: str, sha256: str, reason: str, message: str) -> Path:
    """A file rejected whole: one row with its reason (the file itself is in `raw/<sha256>`)."""
    frame = pl.DataFrame(
        {
            "data_row": [None],
            "source_line": [None],
            "column": [""],
            "field": [""],
            "reason": [reason],
            "raw_value": [""],
            "message": [message],
            "raw_file": [f"raw/{sha256}"],
        },
        schema={
            "data_row": pl.Int64,
            "source_line": pl.Int64,
            "column": pl.String,
            "field": pl.String,
            "reason": pl.String,
            "raw_value": pl.String,
            "message": pl.String,
            "raw_file": pl.String,
        },
    )
    target = _folder(root, dataset) / f"{sha256}.parquet"
    write_atomic(frame.to_arrow(), target, mode=FILE_MODE)
    return target
