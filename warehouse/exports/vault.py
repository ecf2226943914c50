"""The one reader of the vault outside ingestion: names and ID numbers for the county workbooks.

Only the export step calls this (DESIGN.md, "Privacy"); what it returns goes into the workbooks and
nowhere else: never into logs, the ledger or the mart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import polars as pl

from ingestion.settings import DataRoot
from ingestion.vault import persons_path

log = logging.getLogger(__name__)

_SCHEMA = {"person_key": pl.String, "id_number": pl.String, "name": pl.String}


def identities(root: DataRoot, person_keys: Iterable[str | None]) -> pl.DataFrame:
    """person_key, id_number, name for the given keys (keys missing from the vault are absent)."""
    keys = sorted({k for k in person_keys if k})
    path = persons_path(root)
    if not keys:
        return pl.DataFrame(schema=_SCHEMA)
    if not path.exists():
        log.warning("vault %s is missing: workbooks will lack names and ID numbers", path)
        return pl.DataFrame(schema=_SCHEMA)
    found = (
        pl.scan_parquet(path)
        .select(list(_SCHEMA))
        .filter(pl.col("person_key").is_in(keys))
        .unique("person_key", keep="last")
        .collect()
        .cast(_SCHEMA)
    )
    if found.height < len(keys):
        log.warning("vault lacks %d of %d person keys", len(keys) - found.height, len(keys))
    return found
