"""The ledger (`<data root>/ledger.sqlite`): what was delivered, landed and rejected, with counts.

SQLite in WAL mode with a busy timeout, so parallel landing processes wait for each other instead of
failing. Ledger rows are written after the data they describe, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyarrow as pa

from ingestion.contracts import all_contracts
from ingestion.delivery import Pull
from ingestion.settings import DataRoot

BUSY_TIMEOUT_MS = 120_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS landings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    dataset TEXT,
    cutoff_date TEXT,
    seq INTEGER,
    sha256 TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    rows_in INTEGER NOT NULL DEFAULT 0,
    rows_landed INTEGER NOT NULL DEFAULT 0,
    rows_rejected INTEGER NOT NULL DEFAULT 0,
    rows_skipped INTEGER NOT NULL DEFAULT 0,
    landed_at TEXT NOT NULL,
    extra_columns TEXT,
    encoding TEXT,
    archived INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS landings_sha ON landings (sha256);
CREATE INDEX IF NOT EXISTS landings_delivery ON landings (dataset, cutoff_date, seq);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    landing_id INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    dataset TEXT,
    sha256 TEXT,
    data_row INTEGER,
    source_line INTEGER,
    "column" TEXT,
    field TEXT,
    reason TEXT NOT NULL,
    raw_value TEXT,
    message TEXT
);
CREATE INDEX IF NOT EXISTS rejections_landing ON rejections (landing_id);
CREATE TABLE IF NOT EXISTS holds (
    sha256 TEXT NOT NULL,
    dataset TEXT NOT NULL,
    cutoff_date TEXT NOT NULL,
    seq INTEGER NOT NULL,
    reason TEXT,
    held_at TEXT NOT NULL,
    released INTEGER NOT NULL DEFAULT 0,
    released_at TEXT,
    released_by TEXT,
    release_note TEXT
);
CREATE INDEX IF NOT EXISTS holds_sha ON holds (sha256);
CREATE TABLE IF NOT EXISTS state (
    item TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT,
    recorded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pulls (
    landing_id INTEGER NOT NULL,
    dataset TEXT NOT NULL,
    source TEXT NOT NULL,
    mode TEXT NOT NULL,
    watermark_column TEXT,
    watermark_from TEXT,
    watermark_to TEXT,
    rows_pulled INTEGER NOT NULL,
    pulled_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pulls_dataset ON pulls (dataset, landing_id);
"""
# `state`: what must exist for the ledger to hold true, with its size and checksum when it was written: every
# raw file (`raw/<sha256>`: its name is its checksum), lake file and quarantine file of a landing, the vault's
# folded file, the pseudonymisation secret's fingerprint (`secrets/pseudonym.key`, size 0), and each saved
# warning register (`warning_register/<run date>`, size = its rows). A run checks it before building
# (warehouse/state.py); `safetynet rebuild` restores the files from `raw/`.
STATE_KINDS = ("raw", "lake", "quarantine", "persons", "secret", "register")  # persons: the vault's folded file
# statuses of an inbox entry that is not landed and stays in the inbox: one ledger row per name, its latest outcome
UNLANDED_STATUSES = ("not_a_dataset", "refused")

LANDING_COLUMNS = [
    "file_name",
    "dataset",
    "cutoff_date",
    "seq",
    "sha256",
    "status",
    "reason",
    "rows_in",
    "rows_landed",
    "rows_rejected",
    "rows_skipped",
    "landed_at",
    "extra_columns",
]
REJECTION_COLUMNS = [
    "file_name",
    "dataset",
    "data_row",
    "source_line",
    "column",
    "field",
    "reason",
    "raw_value",
    "message",
    "sha256",
]
DELIVERIES_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("cutoff_date", pa.date32()),
        ("seq", pa.int64()),
        ("sha256", pa.string()),
        ("file_name", pa.string()),
        ("rows_landed", pa.int64()),
        ("in_use", pa.bool_()),
        ("status", pa.string()),
    ]
)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def connect(root: DataRoot) -> sqlite3.Connection:
    """Open (and create) the ledger; callers close it."""
    root.root.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(root.ledger, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a commit survives a killed process
    conn.row_factory = sqlite3.Row
    conn.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")
    return conn


@contextmanager
def open_ledger(root: DataRoot) -> Iterator[sqlite3.Connection]:
    conn = connect(root)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def read_only(root: DataRoot) -> Iterator[sqlite3.Connection]:
    """The ledger opened for reading only (nothing created or migrated): for watchers such as the delivery sensor."""
    conn = sqlite3.connect(f"file:{root.ledger}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        yield conn
    finally:
        conn.close()


USABLE_LANDING_STATUSES = ("landed", "superseded")  # a delivery the models read (rejected or duplicate ones are not)


def usable_cutoffs(conn: sqlite3.Connection, dataset: str) -> list[dt.date]:
    """Cut-offs of `dataset` with a usable landing."""
    marks = ",".join("?" for _ in USABLE_LANDING_STATUSES)
    query = f"SELECT DISTINCT cutoff_date FROM landings WHERE dataset = ? AND status IN ({marks})"
    rows = conn.execute(query, (dataset, *USABLE_LANDING_STATUSES)).fetchall()
    return sorted({dt.date.fromisoformat(str(value)[:10]) for (value,) in rows if value})


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE: take the write lock up front, so check-then-write is atomic across processes."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def landed_with_sha(conn: sqlite3.Connection, sha256: str) -> sqlite3.Row | None:
    """The earliest landing of this content that counts (landed or superseded)."""
    return conn.execute(
        "SELECT * FROM landings WHERE sha256 = ? AND status IN ('landed', 'superseded') ORDER BY id LIMIT 1",
        (sha256,),
    ).fetchone()


def same_number(conn: sqlite3.Connection, dataset: str, cutoff: dt.date, seq: int) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM landings WHERE dataset = ? AND cutoff_date = ? AND seq = ? "
        "AND status IN ('landed', 'superseded') ORDER BY id LIMIT 1",
        (dataset, cutoff.isoformat(), seq),
    ).fetchone()


def unfinished(conn: sqlite3.Connection, file_name: str, sha256: str) -> sqlite3.Row | None:
    """A landing recorded but whose inbox file was not yet moved (the process stopped in between)."""
    return conn.execute(
        "SELECT * FROM landings WHERE file_name = ? AND sha256 = ? AND archived = 0 "
        "AND status NOT IN ('not_a_dataset', 'refused') ORDER BY id DESC LIMIT 1",
        (file_name, sha256),
    ).fetchone()


def higher_seq_landed(conn: sqlite3.Connection, dataset: str, cutoff: dt.date, seq: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM landings WHERE dataset = ? AND cutoff_date = ? AND seq > ? AND status = 'landed' LIMIT 1",
        (dataset, cutoff.isoformat(), seq),
    ).fetchone()
    return row is not None


def insert_landing(conn: sqlite3.Connection, values: dict) -> int:
    """Insert one landing row; an entry left in the inbox (it names no dataset, or is refused unread) keeps one
    row: its latest outcome."""
    if values["status"] in UNLANDED_STATUSES:
        conn.execute(
            "DELETE FROM landings WHERE file_name = ? AND status IN (?, ?)", (values["file_name"], *UNLANDED_STATUSES)
        )
    columns = [*LANDING_COLUMNS, "encoding", "archived"]
    row = {c: values.get(c) for c in columns}
    row["landed_at"] = row["landed_at"] or now()
    row["archived"] = int(bool(row["archived"]))
    for count in ("rows_in", "rows_landed", "rows_rejected", "rows_skipped"):
        row[count] = int(row[count] or 0)
    cursor = conn.execute(
        f"INSERT INTO landings ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [row[c] for c in columns],
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def insert_rejections(conn: sqlite3.Connection, landing_id: int, rows: list[tuple]) -> None:
    """rows: tuples in REJECTION_COLUMNS order."""
    columns = ["landing_id", *REJECTION_COLUMNS]
    quoted = ", ".join(f'"{c}"' for c in columns)
    conn.executemany(
        f"INSERT INTO rejections ({quoted}) VALUES ({', '.join('?' for _ in columns)})",
        ((landing_id, *row) for row in rows),
    )


def supersede_lower(conn: sqlite3.Connection, dataset: str, cutoff: dt.date, seq: int) -> int:
    cursor = conn.execute(
        "UPDATE landings SET status = 'superseded' WHERE dataset = ? AND cutoff_date = ? AND seq < ? "
        "AND status = 'landed'",
        (dataset, cutoff.isoformat(), seq),
    )
    return cursor.rowcount


def record_state(conn: sqlite3.Connection, item: str, kind: str, size: int, sha256: str | None) -> None:
    """What must exist (see `state` above): recorded, or updated when it is written again."""
    assert kind in STATE_KINDS, kind
    conn.execute(
        "INSERT INTO state (item, kind, size, sha256, recorded_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (item) DO UPDATE SET kind = excluded.kind, size = excluded.size, sha256 = excluded.sha256, "
        "recorded_at = excluded.recorded_at",
        (item, kind, size, sha256, now()),
    )


def record_file(conn: sqlite3.Connection, root: DataRoot, path: Path, kind: str) -> None:
    """Record a file the platform just wrote under the data root, by its size and checksum."""
    from ingestion.rawstore import digest

    size, sha = digest(path)
    record_state(conn, path.relative_to(root.root).as_posix(), kind, size, sha)


def state_sha(conn: sqlite3.Connection, item: str) -> str | None:
    row = conn.execute("SELECT sha256 FROM state WHERE item = ?", (item,)).fetchone()
    return row["sha256"] if row else None


def recorded_state(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT item, kind, size, sha256 FROM state ORDER BY item").fetchall()


def insert_pull(conn: sqlite3.Connection, landing_id: int, pull: Pull) -> None:
    """Record what a pull from an exchange database read, in the transaction of its landing: the watermark
    moves on exactly when the delivery is committed."""
    conn.execute(
        "INSERT INTO pulls (landing_id, dataset, source, mode, watermark_column, watermark_from, watermark_to, "
        "rows_pulled, pulled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            landing_id,
            pull.dataset,
            pull.source,
            pull.mode,
            pull.watermark_column,
            pull.watermark_from,
            pull.watermark_to,
            pull.rows,
            now(),
        ),
    )


def watermark(conn: sqlite3.Connection, dataset: str) -> str | None:
    """How far the committed pulls of `dataset` have read (None: never pulled)."""
    row = conn.execute(
        "SELECT watermark_to FROM pulls WHERE dataset = ? AND watermark_to IS NOT NULL "
        "ORDER BY landing_id DESC LIMIT 1",
        (dataset,),
    ).fetchone()
    return None if row is None else row[0]


def next_seq(conn: sqlite3.Connection, dataset: str, cutoff: dt.date) -> int:
    """The delivery number after every one recorded for this dataset and cut-off, whatever its outcome."""
    row = conn.execute(
        "SELECT max(seq) FROM landings WHERE dataset = ? AND cutoff_date = ?", (dataset, cutoff.isoformat())
    ).fetchone()
    return int(row[0] or 0) + 1


def mark_archived(conn: sqlite3.Connection, landing_id: int) -> None:
    conn.execute("UPDATE landings SET archived = 1 WHERE id = ?", (landing_id,))


def read_table(root: DataRoot, name: str) -> pl.DataFrame:
    """A ledger table as a frame (for publishing into the mart). `landings` and `rejections` are the
    docs/outputs.md#ledger-tables `ledger_landings` / `ledger_rejections` (plus bookkeeping columns)."""
    with open_ledger(root) as conn:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        if exists is None:
            raise KeyError(f"the ledger has no table {name!r}")
        cursor = conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid')
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return pl.DataFrame([tuple(r) for r in rows], schema=columns, orient="row", infer_schema_length=None)


def deliveries(conn: sqlite3.Connection) -> pl.DataFrame:
    """Every landed delivery with `in_use`: the highest seq landed per dataset + cut-off, holds respected
    (a held delivery gives way to the previous good one); for a contract with `redelivery: accumulate`, and
    for increments pulled from an exchange database (each pull adds the rows changed since the one before),
    every landed delivery that is not held."""
    rows = conn.execute(
        "SELECT l.dataset, l.cutoff_date, l.seq, l.sha256, l.file_name, l.rows_landed, l.status, l.id, "
        "EXISTS (SELECT 1 FROM holds h WHERE h.sha256 = l.sha256 AND h.released = 0) AS held, "
        "EXISTS (SELECT 1 FROM pulls p WHERE p.landing_id = l.id AND p.mode = 'increment') AS pulled_increment "
        "FROM landings l WHERE l.status IN ('landed', 'superseded') ORDER BY l.id"
    ).fetchall()
    frame = pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "dataset": pl.String,
            "cutoff_date": pl.String,
            "seq": pl.Int64,
            "sha256": pl.String,
            "file_name": pl.String,
            "rows_landed": pl.Int64,
            "status": pl.String,
            "id": pl.Int64,
            "held": pl.Int64,
            "pulled_increment": pl.Int64,
        },
        orient="row",
    ).with_columns(pl.col("held").cast(pl.Boolean), pl.col("pulled_increment").cast(pl.Boolean))
    # one row per content: a duplicate delivery never lands twice, but keep the first if it ever did
    frame = frame.unique(subset=["dataset", "cutoff_date", "sha256"], keep="first", maintain_order=True)
    usable = frame.filter(~pl.col("held") & ~pl.col("pulled_increment")).sort("seq", "id", descending=True)
    chosen = usable.group_by("dataset", "cutoff_date").agg(pl.col("id").first().alias("chosen"))
    accumulate = [name for name, c in all_contracts().items() if c.redelivery == "accumulate"]
    frame = frame.join(chosen, on=["dataset", "cutoff_date"], how="left").with_columns(
        in_use=pl.when(pl.col("dataset").is_in(accumulate) | pl.col("pulled_increment"))
        .then(~pl.col("held") & (pl.col("status") == "landed"))
        .otherwise((pl.col("id") == pl.col("chosen")).fill_null(False)),
        cutoff_date=pl.col("cutoff_date").str.to_date(),
    )
    return frame.sort("dataset", "cutoff_date", "seq").select(DELIVERIES_SCHEMA.names)


def export_deliveries(root: DataRoot) -> Path:
    """Rewrite `lake/_deliveries.parquet` atomically from the ledger."""
    from ingestion.lake import write_atomic

    with open_ledger(root) as conn:
        frame = deliveries(conn)
    target = root.lake / "_deliveries.parquet"
    write_atomic(frame.to_arrow().cast(DELIVERIES_SCHEMA), target)
    return target
