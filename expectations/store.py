"""The checks' side of the ledger: the `checks` table, pending deliveries, holds and releases.

Uses `ingestion.ledger` for the connection (WAL, busy timeout) and its `holds` table: a delivery with a
hold that is not released is not in use (`ingestion.ledger.export_deliveries`), so the build takes the
last good delivery of that dataset.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from ingestion.ledger import now

CHECKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS checks (
    sha256 TEXT NOT NULL,
    dataset TEXT NOT NULL,
    cutoff_date TEXT NOT NULL,
    seq INTEGER NOT NULL,
    suite TEXT NOT NULL,
    expectation TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning')),
    success INTEGER NOT NULL,
    observed TEXT,
    details TEXT,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (sha256, expectation)
);
CREATE INDEX IF NOT EXISTS checks_delivery ON checks (dataset, cutoff_date, seq);
"""
CHECK_COLUMNS = (
    "sha256",
    "dataset",
    "cutoff_date",
    "seq",
    "suite",
    "expectation",
    "severity",
    "success",
    "observed",
    "details",
    "checked_at",
)
LANDED = ("landed", "superseded")  # statuses whose rows are in the lake
_HELD = "EXISTS (SELECT 1 FROM holds h WHERE h.sha256 = l.sha256 AND h.released = 0)"


@dataclass(frozen=True)
class Delivery:
    """A landed delivery, as the ledger's `landings` row names it."""

    dataset: str
    cutoff_date: dt.date
    seq: int
    sha256: str
    file_name: str
    rows_landed: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Delivery:
        return cls(
            row["dataset"],
            dt.date.fromisoformat(row["cutoff_date"]),
            int(row["seq"]),
            row["sha256"],
            row["file_name"],
            int(row["rows_landed"] or 0),
        )


def ensure_checks_table(conn: sqlite3.Connection) -> None:
    conn.executescript("BEGIN IMMEDIATE;" + CHECKS_SCHEMA + "COMMIT;")


def pending(conn: sqlite3.Connection) -> list[Delivery]:
    """Landed deliveries with no check result yet (each content once), oldest cut-off first."""
    rows = conn.execute(
        f"SELECT * FROM landings l WHERE l.status IN {LANDED} AND l.sha256 IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM checks c WHERE c.sha256 = l.sha256) ORDER BY l.id"
    ).fetchall()
    unique: dict[str, Delivery] = {}
    for row in rows:
        unique.setdefault(row["sha256"], Delivery.from_row(row))
    return sorted(unique.values(), key=lambda d: (d.cutoff_date, d.dataset, d.seq))


def previous_good(conn: sqlite3.Connection, d: Delivery) -> Delivery | None:
    """The latest delivery of the same dataset before this one (by cut-off, then seq) not held back."""
    row = conn.execute(
        f"SELECT * FROM landings l WHERE l.dataset = ? AND l.status IN {LANDED} AND l.sha256 <> ? "
        f"AND (l.cutoff_date < ? OR (l.cutoff_date = ? AND l.seq < ?)) AND NOT {_HELD} "
        "ORDER BY l.cutoff_date DESC, l.seq DESC, l.id DESC LIMIT 1",
        (d.dataset, d.sha256, d.cutoff_date.isoformat(), d.cutoff_date.isoformat(), d.seq),
    ).fetchone()
    return Delivery.from_row(row) if row else None


def good_of_cutoff(conn: sqlite3.Connection, dataset: str, cutoff: dt.date) -> Delivery | None:
    """The delivery of a dataset and cut-off that counts: the highest seq not held back."""
    row = conn.execute(
        f"SELECT * FROM landings l WHERE l.dataset = ? AND l.cutoff_date = ? AND l.status IN {LANDED} "
        f"AND NOT {_HELD} ORDER BY l.seq DESC, l.id DESC LIMIT 1",
        (dataset, cutoff.isoformat()),
    ).fetchone()
    return Delivery.from_row(row) if row else None


def record(conn: sqlite3.Connection, d: Delivery, rows: list[dict], hold_reason: str | None) -> None:
    """One delivery's results (replacing any earlier ones) and its hold, in one transaction."""
    stamp = now()
    values = [
        (
            d.sha256,
            d.dataset,
            d.cutoff_date.isoformat(),
            d.seq,
            d.dataset,
            r["expectation"],
            r["severity"],
            int(bool(r["success"])),
            r.get("observed"),
            r.get("details"),
            stamp,
        )
        for r in rows
    ]
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM checks WHERE sha256 = ?", (d.sha256,))
        conn.executemany(
            f"INSERT INTO checks ({', '.join(CHECK_COLUMNS)}) VALUES ({', '.join('?' for _ in CHECK_COLUMNS)})",
            values,
        )
        if hold_reason is not None and not _is_held(conn, d.sha256):
            conn.execute(
                "INSERT INTO holds (sha256, dataset, cutoff_date, seq, reason, held_at, released) "
                "VALUES (?, ?, ?, ?, ?, ?, 0)",
                (d.sha256, d.dataset, d.cutoff_date.isoformat(), d.seq, hold_reason, stamp),
            )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _is_held(conn: sqlite3.Connection, sha256: str) -> bool:
    return conn.execute("SELECT 1 FROM holds WHERE sha256 = ? AND released = 0", (sha256,)).fetchone() is not None


def find_held(conn: sqlite3.Connection, sha256_or_file_name: str) -> list[sqlite3.Row]:
    """Unreleased holds of a delivery named by its sha256 (or a prefix of 8+ characters) or its file
    name (relative to the inbox, or the bare name)."""
    value = sha256_or_file_name.strip()
    return conn.execute(
        "SELECT h.rowid AS hold_id, h.* FROM holds h WHERE h.released = 0 AND ("
        " (length(:v) >= 8 AND substr(h.sha256, 1, length(:v)) = lower(:v))"
        " OR h.sha256 IN (SELECT l.sha256 FROM landings l WHERE l.file_name = :v"
        "  OR substr(l.file_name, -length(:v) - 1) = '/' || :v)"
        ") ORDER BY h.held_at DESC",
        {"v": value},
    ).fetchall()


def release_hold(conn: sqlite3.Connection, hold_id: int, by: str, note: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "UPDATE holds SET released = 1, released_at = ?, released_by = ?, release_note = ? WHERE rowid = ?",
        (now(), by, note, hold_id),
    )
    conn.execute("COMMIT")


def held(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every hold in force, with the delivery's file name."""
    return conn.execute(
        "SELECT h.*, (SELECT l.file_name FROM landings l WHERE l.sha256 = h.sha256 ORDER BY l.id LIMIT 1) "
        "AS file_name FROM holds h WHERE h.released = 0 ORDER BY h.held_at"
    ).fetchall()
