"""Read the published mart (docs/outputs.md#the-published-mart) read-only, into Polars frames.

The file is replaced atomically after each run, so a reader opens it, copies what it needs and closes
it at once; nothing here writes to it. `open_published` is how the platform's own commands open it (exports,
identify, feedback checks, the run summary): read-only, and when another process holds it open for writing
(possible only for root: the file is 0444), the command says so in one line instead of failing with a traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

PUBLISHED_FILE = "monitoring.duckdb"

WARNING_COLUMNS: dict[str, pl.DataType] = {
    "warning_id": pl.String(), "rule_code": pl.String(), "sub_case": pl.String(), "level": pl.String(),
    "family": pl.String(), "subject_type": pl.String(), "household_id": pl.String(),
    "person_key": pl.String(), "households": pl.String(), "episode": pl.String(),
    "county_code": pl.String(), "township_code": pl.String(), "evidence": pl.String(),
    "suggested_action": pl.String(), "raised_on": pl.Date(), "deadline": pl.Date(),
    "status": pl.String(), "finding": pl.String(), "action": pl.String(), "checked_on": pl.Date(),
    "checked_by": pl.String(), "first_run_date": pl.Date(), "last_run_date": pl.Date(),
}  # fmt: skip
HOUSEHOLD_COLUMNS: dict[str, pl.DataType] = {
    "household_id": pl.String(), "category": pl.String(), "region_code": pl.String(),
    "county_code": pl.String(), "township_code": pl.String(), "head_person_key": pl.String(),
}  # fmt: skip


class MartMissing(FileNotFoundError):
    """No published mart yet: run `safetynet run` (or build and publish) first."""


def published_path(root: DataRoot) -> Path:
    return root.published / PUBLISHED_FILE


class MartBusy(RuntimeError):
    """Another process holds the published mart open for writing; the message is one line."""


@contextmanager
def open_published(root: DataRoot) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published mart, closed on leaving; MartMissing or MartBusy (one line)."""
    path = published_path(root)
    if not path.exists():
        raise MartMissing(f"no published mart at {path}: run the pipeline first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as err:
        if "Could not set lock" not in str(err):
            raise
        holder = re.search(r"\(PID (\d+)\)", str(err))
        who = f"process {holder.group(1)}" if holder else "another process"
        raise MartBusy(
            f"the published mart {path} is held open for writing by {who}: close that connection (analysts "
            "open the mart with read_only=True) and try again"
        ) from None
    try:
        yield con
    finally:
        con.close()


def read_tables(root: DataRoot, names: list[str]) -> dict[str, pl.DataFrame | None]:
    """Each named table as a frame, or None when the mart does not have it."""
    with open_published(root) as con:
        present = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return {name: con.sql(f'SELECT * FROM "{name}"').pl() if name in present else None for name in names}


def conform(frame: pl.DataFrame | None, columns: dict[str, pl.DataType], table: str) -> pl.DataFrame:
    """Exactly `columns`, typed; a column the mart lacks is null (logged), extra columns are dropped."""
    if frame is None:
        log.warning("published mart has no %s", table)
        return pl.DataFrame(schema=columns)
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        log.warning("published %s lacks columns %s", table, ", ".join(missing))
    filled = frame.with_columns([pl.lit(None, dtype=columns[name]).alias(name) for name in missing])
    return filled.select([typed(filled, name, dtype) for name, dtype in columns.items()])


def typed(frame: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    """Column `name` as `dtype`; ISO text becomes a date (SQLite ledger tables hold dates as text)."""
    if dtype == pl.Date() and frame.schema[name] == pl.String():
        return pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    return pl.col(name).cast(dtype)


class WrongRun(ValueError):
    """The published mart was built for another run date than the one asked for."""


class RegisterNotBuilt(WrongRun):
    """The run could not build fct_warnings: the published register is an earlier run's (no workbook goes out)."""


def check_run_date(warnings: pl.DataFrame, dim_household: pl.DataFrame | None, run_date: dt.date) -> None:
    """Refuse to export run D from a mart built for another run: statuses and overdue depend on it."""
    built = None
    if dim_household is not None and "run_date" in dim_household.columns and dim_household.height:
        built = dim_household.select(typed(dim_household, "run_date", pl.Date())).to_series().max()
    if built is not None and built != run_date:
        raise WrongRun(
            f"the published mart is for run {built}, not {run_date}: export {built}, or run {run_date} first"
        )
    latest = warnings["last_run_date"].max() if warnings.height else None
    if built is None and latest is not None and latest > run_date:
        raise WrongRun(f"the published mart holds runs up to {latest}, not {run_date}: export {latest}")


def check_register_run(register: pl.DataFrame, run_date: dt.date) -> None:
    """Refuse a register another run built: a degraded run that could not build fct_warnings publishes the previous
    one (docs/failure_policy.md), and its warnings must not go out again as this run's."""
    if "run_date" not in register.columns or register.is_empty():
        return
    built = register.select(typed(register, "run_date", pl.Date())).to_series().max()
    if built != run_date:
        raise RegisterNotBuilt(f"the published fct_warnings is of run {built}, not {run_date}: not built by this run")


def warnings_and_households(root: DataRoot, run_date: dt.date | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The warning register and the household dimension, conformed to the columns exports use."""
    tables = read_tables(root, ["fct_warnings", "dim_household"])
    if tables["fct_warnings"] is None:
        raise MartMissing(f"published mart {published_path(root)} has no fct_warnings")
    warnings = conform(tables["fct_warnings"], WARNING_COLUMNS, "fct_warnings")
    dim = tables["dim_household"]
    if run_date is not None:
        check_register_run(tables["fct_warnings"], run_date)
        check_run_date(warnings, dim, run_date)
    if dim is not None and "head_person_key" not in dim.columns and "head_key" in dim.columns:
        dim = dim.rename({"head_key": "head_person_key"})  # the mart names it after the lake column
    households = conform(dim, HOUSEHOLD_COLUMNS, "dim_household")
    return warnings, households.unique("household_id", keep="first")
