"""What must exist under the data root, as the ledger's `state` table records it (docs/internals.md).

Landing records every file it keeps — `raw/<sha256>`, the lake file, the quarantine file — with its size and
sha256, in the transaction that records the landing; the vault records its folded file after each compaction.
`check_files(root)` finds what is missing or changed, so that a run stops before building on a lost lake
(warehouse/state.py adds the saved registers and says how to repair). The pseudonymisation secret is recorded
by its fingerprint: a landing refuses to go on with another secret, since every person key would change.

A data root landed before `state` existed has no records: a file the ledger's landings imply is adopted (recorded
as it is) the first time it is checked, and reported missing when it is not there.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from dataclasses import dataclass

from ingestion import ledger
from ingestion.lake import delivery_path
from ingestion.pseudonymise import fingerprint, load_or_create_key
from ingestion.rawstore import digest
from ingestion.settings import PSEUDONYM_KEY_ENV, DataRoot

SECRET_ITEM = "secrets/pseudonym.key"
LANDED = ("landed", "superseded")


class BrokenState(RuntimeError):
    """Something the ledger says must exist is missing or changed; the message is one line naming it and the
    repair."""


@dataclass(frozen=True)
class Problem:
    item: str  # path relative to the data root (or `warning_register/<date>`)
    kind: str  # a kind of ledger.STATE_KINDS
    what: str  # missing | changed


def checked_key(root: DataRoot) -> bytes:
    """The pseudonymisation secret, refused when it is not the one the landed deliveries were keyed with.

    Created (and its fingerprint recorded) on first use; never silently re-created once deliveries were landed."""
    with ledger.open_ledger(root) as conn:
        recorded = conn.execute("SELECT sha256 FROM state WHERE item = ?", (SECRET_ITEM,)).fetchone()
        landed = conn.execute("SELECT 1 FROM landings WHERE status IN ('landed', 'superseded') LIMIT 1").fetchone()
        if (recorded is not None or landed is not None) and not _secret_present(root):
            raise BrokenState(
                f"{SECRET_ITEM} is missing, but deliveries were landed with it: restore it from a backup (or set "
                f"{PSEUDONYM_KEY_ENV}); a new secret would give every person a new key"
            )
        key = load_or_create_key(root)
        if recorded is None:
            with ledger.transaction(conn):
                ledger.record_state(conn, SECRET_ITEM, "secret", 0, fingerprint(key))
        elif recorded["sha256"] != fingerprint(key):
            raise BrokenState(
                f"the pseudonymisation secret ({SECRET_ITEM} or {PSEUDONYM_KEY_ENV}) is not the one the landed "
                "deliveries were keyed with: restore the original secret from a backup"
            )
    return key


def _secret_present(root: DataRoot) -> bool:
    return bool(os.environ.get(PSEUDONYM_KEY_ENV)) or (root.secrets / "pseudonym.key").is_file()


def check_files(root: DataRoot) -> list[Problem]:
    """Every recorded file that is missing or changed (raw files by presence and size: they are large and
    named by their checksum, which a rebuild verifies), the secret's fingerprint, and files the landings imply."""
    problems: list[Problem] = []
    with ledger.open_ledger(root) as conn:
        recorded = {row["item"]: row for row in ledger.recorded_state(conn)}
        for row in recorded.values():
            if row["kind"] in ("raw", "lake", "quarantine", "persons"):
                problem = _check_file(root, row)
                if problem is not None:
                    problems.append(problem)
        if SECRET_ITEM in recorded:
            try:
                checked_key(root)
            except BrokenState:
                problems.append(Problem(SECRET_ITEM, "secret", "missing" if not _secret_present(root) else "changed"))
        problems += _implied(root, conn, set(recorded))
    return problems


def _check_file(root: DataRoot, row: sqlite3.Row) -> Problem | None:
    path = root.root / row["item"]
    if not path.is_file():
        return Problem(row["item"], row["kind"], "missing")
    if row["kind"] == "raw":
        return None if path.stat().st_size == row["size"] else Problem(row["item"], "raw", "changed")
    if (row["size"], row["sha256"]) != digest(path):
        return Problem(row["item"], row["kind"], "changed")
    return None


def _implied(root: DataRoot, conn: sqlite3.Connection, recorded: set[str]) -> list[Problem]:
    """Raw and lake files of landings with no record (a ledger older than `state`): adopted when present."""
    problems, adopt = [], []
    rows = conn.execute(
        "SELECT dataset, cutoff_date, seq, sha256, status FROM landings "
        "WHERE sha256 IS NOT NULL AND status NOT IN (?, ?)",
        ledger.UNLANDED_STATUSES,
    ).fetchall()
    for row in rows:
        wanted = [(root.raw / row["sha256"], "raw")]
        if row["status"] in LANDED:
            cutoff = dt.date.fromisoformat(row["cutoff_date"])
            wanted.append((delivery_path(root, row["dataset"], cutoff, row["seq"], row["sha256"]), "lake"))
        for path, kind in wanted:
            item = path.relative_to(root.root).as_posix()
            if item in recorded:
                continue
            recorded.add(item)
            if path.is_file():
                adopt.append((path, kind))
            else:
                problems.append(Problem(item, kind, "missing"))
    if adopt:
        with ledger.transaction(conn):
            for path, kind in adopt:
                if kind == "raw":
                    ledger.record_state(conn, f"raw/{path.name}", kind, path.stat().st_size, path.name)
                else:
                    ledger.record_file(conn, root, path, kind)
    return problems
