"""Whether a build may be incremental, or must rebuild the history-sized models in full (docs/incremental.md).

The incremental models (every roster snapshot, every payment) rebuild only the cut-offs delivered since the
previous build. That is right only while everything the previous build read up to its run date is still what this
build reads. So each build leaves its state in the ledger (`build_refreshes`): its run date, status, and three
fingerprints — the dbt project's code, the reference files, the deliveries in use up to its run date. The next build
is a full refresh, with the reason recorded, when

- there is no warehouse, or no earlier build finished (the previous one failed, crashed or built only a selection);
- the run date goes back, or repeats the previous build's date (a rerun);
- the models' code changed (models, macros, seeds, dbt_project.yml);
- a reference file changed (parameters included: they are rows of rule_parameters.csv);
- the deliveries in use at the cut-offs up to the previous build's run date differ: a held delivery released, an
  old cut-off re-delivered or replaced, a late delivery for a cut-off already built;
- it is asked for (`--full-refresh`), or the engine is Spark (which builds them as plain tables).

    decide(root, run_date, ...) -> Refresh
    start(root, refresh, ...) / finish(root, built_at, status)    # the ledger row of each build
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingestion.ledger import deliveries, open_ledger, transaction
from ingestion.settings import DataRoot

TABLE = "build_refreshes"
DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    run_id INTEGER,                  -- runs.run_id; empty for a build outside a recorded run
    run_date TEXT NOT NULL,
    built_at TEXT NOT NULL,          -- when the build started (ISO timestamp, UTC); run_models.built_at
    refresh TEXT NOT NULL,           -- full or incremental
    reason TEXT NOT NULL,            -- why full; for incremental, what the build adds
    built_through TEXT,              -- incremental: the previous build's run date, whose tables it extends
    status TEXT NOT NULL,            -- started, built, degraded, failed, partial (a selection of models)
    models_sha256 TEXT NOT NULL,     -- the dbt project's code (models, macros, seeds, dbt_project.yml)
    reference_files TEXT NOT NULL,   -- JSON {{file name: sha256}} of the reference files used
    deliveries_sha256 TEXT NOT NULL, -- the deliveries in use with a cut-off up to run_date
    PRIMARY KEY (built_at)
)"""
FINISHED = ("built", "degraded")
PROJECT_PARTS = ("models", "macros", "seeds", "dbt_project.yml")


@dataclass(frozen=True)
class Refresh:
    full: bool
    reason: str
    built_through: dt.date | None  # incremental: the run date the incremental tables were built at
    models_sha256: str
    reference_files: dict[str, str]
    deliveries_sha256: str

    @property
    def mode(self) -> str:
        return "full" if self.full else "incremental"


@dataclass(frozen=True)
class _Previous:
    run_date: dt.date
    built_at: str
    status: str
    models_sha256: str
    reference_files: dict[str, str]
    deliveries_sha256: str


def decide(
    root: DataRoot,
    run_date: dt.date,
    *,
    project: Path,
    reference_files: dict[str, str],
    asked: bool = False,
    engine: str = "duckdb",
) -> Refresh:
    """Full refresh or incremental for a build at `run_date`, with the reason (module docstring)."""
    in_use = _in_use(root)
    state = {
        "models_sha256": project_fingerprint(project),
        "reference_files": dict(sorted(reference_files.items())),
        "deliveries_sha256": deliveries_fingerprint(in_use, run_date),
    }
    previous = _previous(root)
    reason = _full_refresh_reason(root, run_date, previous, in_use, state, asked, engine)
    if reason is not None or previous is None:
        return Refresh(True, reason or "no earlier build", None, **state)
    return Refresh(False, f"cut-offs after {previous.run_date} added", previous.run_date, **state)


def _full_refresh_reason(
    root: DataRoot,
    run_date: dt.date,
    previous: _Previous | None,
    in_use: pl.DataFrame,
    state: dict,
    asked: bool,
    engine: str,
) -> str | None:
    if asked:
        return "full refresh asked for"
    if engine != "duckdb":
        return f"the {engine} engine builds every model in full"
    if not root.warehouse_db.exists():
        return "no warehouse yet"
    if previous is None:
        return "no earlier build recorded"
    if previous.status not in FINISHED:
        return f"the previous build (run date {previous.run_date}) did not finish: {previous.status}"
    if run_date < previous.run_date:
        return f"the run date goes back: {run_date} after a build at {previous.run_date}"
    if run_date == previous.run_date:
        return f"a rerun of {run_date}"
    if state["models_sha256"] != previous.models_sha256:
        return "the models' code changed (dbt project models, macros, seeds or dbt_project.yml)"
    changed = _changed_files(previous.reference_files, state["reference_files"])
    if changed:
        return f"a reference file changed: {', '.join(changed)}"
    if deliveries_fingerprint(in_use, previous.run_date) != previous.deliveries_sha256:
        return _deliveries_reason(root, previous)
    return None


def project_fingerprint(project: Path) -> str:
    """sha256 over the dbt project's code: every file under models/, macros/, seeds/ and dbt_project.yml, by path."""
    digest = hashlib.sha256()
    for part in PROJECT_PARTS:
        path = project / part
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(project)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def deliveries_fingerprint(in_use: pl.DataFrame, through: dt.date) -> str:
    """sha256 over the deliveries in use with a cut-off up to `through` (dataset, cut-off, file sha256)."""
    rows = in_use.filter(pl.col("cutoff_date") <= through).sort("dataset", "cutoff_date", "sha256")
    text = "\n".join(f"{d}|{c}|{s}" for d, c, s in rows.select("dataset", "cutoff_date", "sha256").iter_rows())
    return hashlib.sha256(text.encode()).hexdigest()


def _in_use(root: DataRoot) -> pl.DataFrame:
    with open_ledger(root) as conn:
        return deliveries(conn).filter(pl.col("in_use"))


def _changed_files(before: dict[str, str], now: dict[str, str]) -> list[str]:
    return sorted(name for name in before.keys() | now.keys() if before.get(name) != now.get(name))


def _deliveries_reason(root: DataRoot, previous: _Previous) -> str:
    """Say which deliveries changed at the cut-offs the previous build had read: released holds, then landings."""
    through = previous.run_date.isoformat()
    with open_ledger(root) as conn:
        released = conn.execute(
            "SELECT dataset, cutoff_date, seq FROM holds WHERE released = 1 AND released_at > ? AND cutoff_date <= ? "
            "ORDER BY dataset, cutoff_date",
            (previous.built_at, through),
        ).fetchall()
        landed = conn.execute(
            "SELECT dataset, cutoff_date, seq FROM landings WHERE status = 'landed' AND landed_at > ? "
            "AND cutoff_date <= ? ORDER BY dataset, cutoff_date",
            (previous.built_at, through),
        ).fetchall()
    if released:
        return "a held delivery released: " + _deliveries_text(released)
    if landed:
        return f"a cut-off up to {through} delivered again or late: " + _deliveries_text(landed)
    return f"the deliveries in use up to {through} changed (a delivery held, replaced or withdrawn)"


def _deliveries_text(rows: list) -> str:
    shown = [f"{dataset} {cutoff} _{seq}" for dataset, cutoff, seq in rows[:3]]
    return ", ".join(shown) + (f" and {len(rows) - 3} more" if len(rows) > 3 else "")


def _previous(root: DataRoot) -> _Previous | None:
    if not root.ledger.exists():
        return None
    with open_ledger(root) as conn:
        conn.execute(DDL)
        row = conn.execute(
            f"SELECT run_date, built_at, status, models_sha256, reference_files, deliveries_sha256 FROM {TABLE} "
            "ORDER BY built_at DESC LIMIT 1"
        ).fetchone()
    if row is None:
        return None
    return _Previous(dt.date.fromisoformat(row[0]), row[1], row[2], row[3], json.loads(row[4]), row[5])


def start(root: DataRoot, refresh: Refresh, *, run_date: dt.date, built_at: str, run_id: int | None) -> None:
    """The build's row, `started` until `finish` says how it ended (a crash leaves it started: the next is full)."""
    through = refresh.built_through.isoformat() if refresh.built_through else None
    values = (
        run_id, run_date.isoformat(), built_at, refresh.mode, refresh.reason, through, "started",
        refresh.models_sha256, json.dumps(refresh.reference_files, sort_keys=True), refresh.deliveries_sha256,
    )  # fmt: skip
    with open_ledger(root) as conn, transaction(conn):
        conn.execute(DDL)
        conn.execute(f"INSERT OR REPLACE INTO {TABLE} VALUES ({', '.join('?' * len(values))})", values)


def finish(root: DataRoot, built_at: str, status: str) -> None:
    with open_ledger(root) as conn, transaction(conn):
        conn.execute(f"UPDATE {TABLE} SET status = ? WHERE built_at = ?", (status, built_at))
