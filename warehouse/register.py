"""The warning register between runs (docs/rules.md#warnings): kept in the ledger, not in the warehouse.

After a good build the rows of `fct_warnings` are saved in the ledger's `warning_register` table, keyed
by (run_date, warning_id). Before the next build, the register of the latest earlier run (run_date before
the new run's) is exported to `lake/_state/previous_register.parquet`, which the models read. A rerun of a
date is therefore a pure function of the lake and the ledger state before that date, and a rebuild of the
warehouse from scratch gives the same register. Each saved register is recorded in the ledger's `state` by its
number of warnings: a run checks that none has been lost before it builds (warehouse/state.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path

import polars as pl
import pyarrow as pa

from ingestion.lake import write_atomic
from ingestion.ledger import open_ledger, record_state, transaction
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

TABLE = "warning_register"

# fct_warnings' columns as the ledger keeps them (dates as ISO text in SQLite, typed again in Parquet).
_TEXT, _DATE, _AMOUNT = pa.string(), pa.date32(), pa.decimal128(14, 2)
REGISTER_SCHEMA = pa.schema(
    [
        ("run_date", _DATE),
        ("warning_id", _TEXT),
        ("rule_code", _TEXT),
        ("sub_case", _TEXT),
        ("level", _TEXT),
        ("family", _TEXT),
        ("subject_type", _TEXT),
        ("household_id", _TEXT),
        ("person_key", _TEXT),
        ("households", _TEXT),
        ("episode", _TEXT),
        ("county_code", _TEXT),
        ("township_code", _TEXT),
        ("evidence", _TEXT),
        ("suggested_action", _TEXT),
        ("raised_on", _DATE),
        ("deadline", _DATE),
        ("status", _TEXT),
        ("finding", _TEXT),
        ("action", _TEXT),
        ("checked_on", _DATE),
        ("checked_by", _TEXT),
        ("first_run_date", _DATE),
        ("last_run_date", _DATE),
        ("rule_name", _TEXT),
        ("subject", _TEXT),
        ("trigger_amount", _AMOUNT),
        ("remark", _TEXT),
    ]
)
COLUMNS = REGISTER_SCHEMA.names
_DATES = [f.name for f in REGISTER_SCHEMA if f.type == _DATE]
_QUOTED = ", ".join(f'"{c}"' for c in COLUMNS)

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    {_QUOTED.replace('",', '" TEXT,')} TEXT,
    PRIMARY KEY (run_date, warning_id)
)
"""


def _ensure(conn: sqlite3.Connection) -> None:
    conn.execute(_CREATE)


def register_item(run_date: dt.date) -> str:
    """How the ledger's `state` names the register saved for a run date (its size: the number of warnings)."""
    return f"{TABLE}/{run_date.isoformat()}"


def saved_warnings(conn: sqlite3.Connection, run_date: dt.date) -> int:
    _ensure(conn)
    return conn.execute(f"SELECT count(*) FROM {TABLE} WHERE run_date = ?", (run_date.isoformat(),)).fetchone()[0]


def previous_run_date(root: DataRoot, run_date: dt.date) -> dt.date | None:
    """The latest run before `run_date` whose register was saved, if any."""
    with open_ledger(root) as conn:
        _ensure(conn)
        row = conn.execute(f"SELECT max(run_date) FROM {TABLE} WHERE run_date < ?", (run_date.isoformat(),)).fetchone()
    return dt.date.fromisoformat(row[0]) if row and row[0] else None


def later_run_exists(root: DataRoot, run_date: dt.date) -> bool:
    """Whether a run after `run_date` saved its register (then `run_date` is a rerun of the past)."""
    with open_ledger(root) as conn:
        _ensure(conn)
        row = conn.execute(f"SELECT 1 FROM {TABLE} WHERE run_date > ? LIMIT 1", (run_date.isoformat(),)).fetchone()
    return row is not None


def load_register(root: DataRoot, run_date: dt.date) -> pl.DataFrame:
    """The register saved for one run date (zero rows when there is none), typed as REGISTER_SCHEMA."""
    with open_ledger(root) as conn:
        _ensure(conn)
        cursor = conn.execute(
            f"SELECT {_QUOTED} FROM {TABLE} WHERE run_date = ? ORDER BY warning_id",
            (run_date.isoformat(),),
        )
        rows = cursor.fetchall()
    text = pl.DataFrame([tuple(r) for r in rows], schema=dict.fromkeys(COLUMNS, pl.String), orient="row")
    return _typed(text)


def _typed(text: pl.DataFrame) -> pl.DataFrame:
    return text.with_columns(
        [pl.col(c).str.to_date() for c in _DATES] + [pl.col("trigger_amount").cast(pl.Decimal(14, 2))]
    )


def export_previous_register(root: DataRoot, run_date: dt.date) -> tuple[Path, dt.date | None]:
    """Write the latest earlier run's register to lake/_state/previous_register.parquet (zero rows if none)."""
    previous = previous_run_date(root, run_date)
    frame = (
        load_register(root, previous) if previous else _typed(pl.DataFrame(schema=dict.fromkeys(COLUMNS, pl.String)))
    )
    target = root.lake / "_state" / "previous_register.parquet"
    write_atomic(frame.to_arrow().cast(REGISTER_SCHEMA), target)
    log.info("previous register: %s (%d warnings)", previous or "none", frame.height)
    return target, previous


def save_register(root: DataRoot, run_date: dt.date, register: pl.DataFrame) -> int:
    """Replace the register rows of `run_date` in the ledger with `register` (fct_warnings of that run)."""
    missing = [c for c in COLUMNS if c not in register.columns]
    if missing:
        raise ValueError(f"register lacks column(s) {', '.join(missing)}")
    text = register.select(COLUMNS).with_columns([pl.col(c).cast(pl.String) for c in COLUMNS])
    placeholders = ", ".join("?" for _ in COLUMNS)
    with open_ledger(root) as conn:
        _ensure(conn)
        with transaction(conn):
            conn.execute(f"DELETE FROM {TABLE} WHERE run_date = ?", (run_date.isoformat(),))
            conn.executemany(
                f"INSERT INTO {TABLE} ({_QUOTED}) VALUES ({placeholders})",
                text.iter_rows(),
            )
            record_state(conn, register_item(run_date), "register", register.height, None)
    log.info("saved the register of %s: %d warnings", run_date, register.height)
    return register.height
