"""Land again, from `raw/`, everything the ledger says was landed: the lake, the quarantine and the vault rebuilt.

`reland_all(root, work)` takes the ledger's landings in their order (the id they were recorded with), reads each
file from `raw/<sha256>` (its content checked against its name) with the delivery number, cut-off and file name the
ledger recorded, and writes its lake file, quarantine file and vault part again; then the vault is folded from the
parts of every delivery. The ledger is not changed: landings, holds, releases and check results stay as they were,
so which delivery is in use is what it was. Each file's size and checksum are recorded again in `state`; they equal
the recorded ones (the same bytes in, the same Parquet out) unless the software that writes them changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingestion import ledger, vault
from ingestion.lake import ensure_schema_files
from ingestion.landing import file_records, reland
from ingestion.settings import DataRoot
from ingestion.state import BrokenState, checked_key

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
RELANDED = ("landed", "superseded", "rejected")  # what wrote files; duplicates, refused entries etc. wrote none
SHOWN = 3


@dataclass
class RelandSummary:
    deliveries: int = 0
    files: int = 0
    changed: list[str] = field(default_factory=list)  # files now differing from their recorded checksum
    persons: int = 0


def reland_all(root: DataRoot, work: Path, progress: Progress | None = None) -> RelandSummary:
    """Rebuild the lake, quarantine and vault from `raw/` as the ledger describes them (the caller holds the
    landing lock). Raises BrokenState when a raw file is missing: nothing is written then."""
    with ledger.open_ledger(root) as conn:
        landings = conn.execute(
            f"SELECT * FROM landings WHERE sha256 IS NOT NULL AND status IN ({', '.join('?' for _ in RELANDED)}) "
            "ORDER BY id",
            RELANDED,
        ).fetchall()
        before = {row["item"]: row["sha256"] for row in ledger.recorded_state(conn)}
    missing = sorted({f"raw/{row['sha256']}" for row in landings if not (root.raw / row["sha256"]).is_file()})
    if missing:
        more = ", …" if len(missing) > SHOWN else ""
        raise BrokenState(
            f"{len(missing)} raw file(s) missing ({', '.join(missing[:SHOWN])}{more}): nothing can be rebuilt "
            "without them; restore raw/ from a backup"
        )
    key = checked_key(root)
    ensure_schema_files(root)
    vault.clear_parts(root)
    summary = RelandSummary()
    for n, landing in enumerate(landings):
        if progress:
            progress(n, len(landings), landing["file_name"])
        written = reland(root, landing, key, work)
        records = file_records(root, None, written)  # the raw file's record stands: it was read, not written
        with ledger.open_ledger(root) as conn, ledger.transaction(conn):
            for item, kind, size, sha in records:
                ledger.record_state(conn, item, kind, size, sha)
        summary.changed += [item for item, _, _, sha in records if item in before and before[item] != sha]
        summary.deliveries += 1
        summary.files += len(written)
    summary.persons = vault.compact(root, from_parts_only=True)
    persons = vault.persons_path(root).relative_to(root.root).as_posix()
    with ledger.open_ledger(root) as conn:
        if persons in before and ledger.state_sha(conn, persons) != before[persons]:
            summary.changed.append(persons)
    ledger.export_deliveries(root)
    if progress:
        progress(len(landings), len(landings), "")
    if summary.changed:
        log.warning("%d rebuilt file(s) differ from their recorded checksum: %s", len(summary.changed), summary.changed)
    return summary
