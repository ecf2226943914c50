"""Record exports (and received feedback files) in the ledger, beside landings and runs.

The ledger is SQLite (`<data root>/ledger.sqlite`, docs/internals.md); these two tables belong to the
export side: `exports` (one row per file written) and `feedback_files` (which county a returned
workbook came from, so its rows can be checked against that county's warnings).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ingestion.ledger import open_ledger, transaction
from ingestion.settings import DataRoot

_DDL = {
    "exports": "CREATE TABLE IF NOT EXISTS exports (run_date TEXT NOT NULL, kind TEXT NOT NULL, "
    "county_code TEXT, path TEXT NOT NULL, rows INTEGER NOT NULL, written_at TEXT NOT NULL)",
    "feedback_files": "CREATE TABLE IF NOT EXISTS feedback_files (file_name TEXT NOT NULL, source_name TEXT NOT NULL, "
    "county_code TEXT, sha256 TEXT NOT NULL, received_at TEXT NOT NULL)",
}


@dataclass(frozen=True)
class ExportRecord:
    run_date: dt.date
    kind: str  # county_workbook | province_workbook | run_report
    county_code: str | None
    path: str  # relative to the data root
    rows: int


@contextmanager
def _connection(root: DataRoot) -> Iterator[sqlite3.Connection]:
    """The ledger's own connection, inside one write transaction."""
    with open_ledger(root) as con, transaction(con):
        yield con


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def record_exports(root: DataRoot, records: Iterable[ExportRecord]) -> None:
    rows = [(r.run_date.isoformat(), r.kind, r.county_code, r.path, r.rows, _now()) for r in records]
    with _connection(root) as con:
        con.execute(_DDL["exports"])
        con.executemany("INSERT INTO exports VALUES (?, ?, ?, ?, ?, ?)", rows)


def move_export_records(root: DataRoot, old: Path, new: Path) -> None:
    """Exported files moved from folder `old` to `new` (an export replaced by a later one of the same date)."""
    before = old.relative_to(root.root).as_posix() + "/"
    after = new.relative_to(root.root).as_posix() + "/"
    with _connection(root) as con:
        con.execute(_DDL["exports"])
        con.execute(
            "UPDATE exports SET path = ? || substr(path, ?) WHERE substr(path, 1, ?) = ?",
            (after, len(before) + 1, len(before), before),
        )


def record_feedback_file(
    root: DataRoot, file_name: str, source_name: str, county_code: str | None, sha256: str
) -> None:
    with _connection(root) as con:
        con.execute(_DDL["feedback_files"])
        con.execute(
            "INSERT INTO feedback_files VALUES (?, ?, ?, ?, ?)", (file_name, source_name, county_code, sha256, _now())
        )


def feedback_file_county(root: DataRoot, file_name: str) -> str | None:
    """The county remembered for an inbox feedback file (its latest receipt), or None."""
    if not root.ledger.exists():
        return None
    with _connection(root) as con:
        con.execute(_DDL["feedback_files"])
        found = con.execute(
            "SELECT county_code FROM feedback_files WHERE file_name = ? ORDER BY received_at DESC, rowid DESC LIMIT 1",
            (file_name,),
        ).fetchone()
    return found[0] if found else None
