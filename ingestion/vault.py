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
from ingestion.private import FILE_MODE, private_dir, tighten_folder
from ingestion.scratch import sweep_folder, work_dir
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

PART_SCHEMA = {"person_key": pl.String, "id_number": pl.String, "name": pl.String, "cutoff": pl.Date, "seq": pl.Int64}
PERSONS_SCHEMA = {
    "person_key": pl.String,
    "id_number": pl.String,
    "name": pl.String,
    "last_seen_cutoff": pl.Date,
    "version": pl.Int64,  # the (cut-off, seq) the ID number was last delivered with, as one number
    "name_version": pl.Int64,  # the same for the name
}


def parts_dir(root: DataRoot) -> Path:
    return private_dir(root.vault / "parts", place=root.vault)


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
    private_dir(root.vault)
    with file_lock(root.vault / ".lock", FILE_MODE):
        sweep(root)  # whoever writes the vault first removes what stopped writers left (scratch does not reach it)
        yield


def compact(root: DataRoot, *, from_parts_only: bool = False) -> int:
    """Fold every part into persons.parquet (latest name and cut-off per key); returns persons count.

    Later wins: by cut-off, then re-delivery number (the folded file keeps the version of each value); two names
    at the same cut-off and number (two departments' deliveries) resolve to the greater, so the result depends
    neither on arrival order nor on how deliveries were grouped into landings: folding every delivery at once (a
    rebuild) gives what folding them landing by landing gave. DuckDB aggregates out of core (spilling into the
    process's work folder):
    a year of rosters at Shandong scale is tens of millions of part rows. `from_parts_only` ignores the
    existing file (a rebuild folds the parts of every delivery again).
    """
    import duckdb

    with _lock(root), work_dir(root) as work:
        parts = sorted(parts_dir(root).glob("*.parquet"))
        current = persons_path(root)
        if not parts:
            return pl.scan_parquet(current).select(pl.len()).collect().item() if current.exists() else 0
        config = {
            "threads": os.cpu_count() or 1,
            "memory_limit": VAULT_MEMORY,
            "preserve_insertion_order": False,
            "temp_directory": str(private_dir(work / "vault-fold")),
        }
        earlier = current if current.exists() and not from_parts_only else None
        with duckdb.connect(config=config) as conn:
            conn.execute("set enable_progress_bar = false")
            merged = pl.from_arrow(conn.sql(_fold_sql(parts, earlier)).to_arrow_table())
        write_atomic(merged.sort("person_key").cast(PERSONS_SCHEMA).to_arrow(), current, mode=FILE_MODE)
        _record(root, current)
        for part in parts:
            part.unlink(missing_ok=True)
        return merged.height


def _record(root: DataRoot, persons: Path) -> None:
    """The folded file's size and checksum in the ledger's `state`: a run checks that it is still there."""
    from ingestion import ledger

    with ledger.open_ledger(root) as conn, ledger.transaction(conn):
        ledger.record_file(conn, root, persons, "persons")


VAULT_MEMORY = "3GB"  # DuckDB's cap while folding (it spills beyond it)


def _version(cutoff: str, seq: str) -> str:
    """A cut-off and a re-delivery number as one orderable number (SQL)."""
    return f"(datediff('day', date '1970-01-01', {cutoff})::bigint << 24) + ({seq} + 1)"


def _fold_sql(parts: list[Path], current: Path | None) -> str:
    """One row per person from the parts and the current file, each value the one of the highest version."""
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
    version = _version("cutoff", "seq")
    rows = (
        f"select person_key, id_number, name, cutoff, {version} as version, {version} as name_version "
        f"from read_parquet([{files}])"
    )
    if current is not None:
        quoted = str(current).replace("'", "''")
        has_versions = "version" in pl.read_parquet_schema(current)
        # a file folded by an earlier version kept no versions: its values count as the earliest at their cut-off
        earliest = _version("last_seen_cutoff", "-1")
        kept = "version, name_version" if has_versions else f"{earliest}, {earliest}"
        rows += f" union all select person_key, id_number, name, last_seen_cutoff, {kept} from read_parquet('{quoted}')"
    return f"""
        with rows as ({rows})
        select
            person_key,
            arg_max(id_number, (version, id_number)) as id_number,
            arg_max(name, (name_version, name)) filter (where name is not null) as name,
            max(cutoff) as last_seen_cutoff,
            max(version) as version,
            max(name_version) filter (where name is not null) as name_version
        from rows
        group by person_key
    """  # fmt: skip


def clear_parts(root: DataRoot) -> None:
    """Drop every part not folded yet (a rebuild writes the parts of every recorded delivery again; a part of a
    landing that was never recorded must not be folded)."""
    with _lock(root):
        for part in (root.vault / "parts").glob("*.parquet"):
            part.unlink()


def sweep(root: DataRoot) -> list[Path]:
    """Temporary files a stopped process left in the vault (ingestion/scratch.py)."""
    return sweep_folder(root.vault)


def tighten(root: DataRoot) -> int:
    """The vault's folders 700 and files 600 (ingestion/private.py)."""
    return tighten_folder(root.vault)


def known_names(root: DataRoot, candidates: Iterable[str]) -> set[str]:
    """Which of `candidates` are names of persons in the vault (folded or not yet): a delivered header cell that is
    one is a value, never recorded (ingestion/header_check.py)."""
    wanted = sorted({c.strip() for c in candidates if c and c.strip()})
    files = [p for p in (persons_path(root), *sorted((root.vault / "parts").glob("*.parquet"))) if p.exists()]
    if not wanted or not files:
        return set()
    names = pl.concat([pl.scan_parquet(f).select("name") for f in files])
    found = names.filter(pl.col("name").is_in(wanted)).unique().collect()
    return set(found.get_column("name").to_list())


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
