"""Each build's outcome in the ledger, under the failure policy (docs/failure_policy.md).

- `run_models`: one row per dbt model per build — built, error (its SQL failed) or skipped (something it reads
  failed);
- `data_test_results`: one row per data test per build — its model, class (blocking or advisory), status and number
  of failing rows (dbt's `failures`; the rows themselves are in the warehouse's `audit` schema).

A build is identified by its run date and the moment it started (`built_at`), and by the run (`runs.run_id`) when
it is part of one. Both tables are published in the mart as `ledger_run_models` and `ledger_data_tests`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ingestion.ledger import open_ledger, transaction
from ingestion.settings import DataRoot
from warehouse.failure_policy import BuildOutcome

DDL = {
    "run_models": """
CREATE TABLE IF NOT EXISTS run_models (
    run_id INTEGER,                  -- runs.run_id; empty for a build outside a recorded run (feedback refresh)
    run_date TEXT NOT NULL,
    built_at TEXT NOT NULL,          -- when the build started (ISO timestamp, UTC): with run_date, the build
    model TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    status TEXT NOT NULL,            -- built, error, skipped
    rule_code TEXT,                  -- the rule of a rule model (W08 for int_warning_w08_…)
    message TEXT,                    -- dbt's error, for status error
    PRIMARY KEY (built_at, model)
)""",
    "data_test_results": """
CREATE TABLE IF NOT EXISTS data_test_results (
    run_id INTEGER,
    run_date TEXT NOT NULL,
    built_at TEXT NOT NULL,
    test TEXT NOT NULL,
    model TEXT,                      -- the model the test is attached to
    class TEXT NOT NULL,             -- blocking or advisory
    status TEXT NOT NULL,            -- pass, fail, error (the test could not run), skipped (its model was not built)
    failing_rows INTEGER,
    message TEXT,
    stored_failures TEXT,            -- schema.table of the failing rows in the warehouse (the latest build's)
    PRIMARY KEY (built_at, test)
)""",
}


@dataclass(frozen=True)
class BuildRecord:
    run_date: dt.date
    built_at: str
    run_id: int | None


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def record_build(root: DataRoot, build: BuildRecord, outcome: BuildOutcome) -> None:
    """Write the build's models and data tests (one transaction)."""
    head = (build.run_id, build.run_date.isoformat(), build.built_at)
    models = [(*head, m.model, m.schema, m.status, m.rule_code, m.message) for m in outcome.models.values()]
    tests = [
        (*head, t.test, t.model, t.test_class, t.status, t.failing_rows, t.message, t.stored_failures)
        for t in outcome.tests.values()
    ]
    with open_ledger(root) as conn, transaction(conn):
        for statement in DDL.values():
            conn.execute(statement)
        conn.executemany("INSERT OR REPLACE INTO run_models VALUES (?, ?, ?, ?, ?, ?, ?, ?)", models)
        conn.executemany("INSERT OR REPLACE INTO data_test_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tests)


def latest_build(root: DataRoot) -> BuildRecord | None:
    """The latest build recorded (the one the warehouse holds), or None before any."""
    if not root.ledger.exists():
        return None
    with open_ledger(root) as conn:
        conn.execute(DDL["run_models"])
        query = "SELECT run_date, built_at, run_id FROM run_models ORDER BY built_at DESC LIMIT 1"
        row = conn.execute(query).fetchone()
    return BuildRecord(dt.date.fromisoformat(row[0]), row[1], row[2]) if row else None
