"""Pull a dataset from its exchange database (前置库) and land what is new like a delivered file.

One pull, for a cut-off date C (default: today in China):
1. describe the source's columns and check them against the contract (every required column found, every
   type able to hold its kind, the watermark or cut-off column there) before reading a row;
2. read what is new, ordered, in Arrow batches, into a Parquet file whose columns are named by the contract's
   headers: an increment's rows with a watermark after the last committed one (and, for an update time, before
   the end of C); a dated snapshot's cut-offs after the last one pulled, up to C, one delivery each; a full
   read's whole table, as the snapshot at C;
3. hand each file to the landing (`ingestion.landing.land_delivery`) as delivery `db:<connection>/<dataset>_<C>_<seq>`:
   raw archive, contract checks, quarantine, keyed hashing, vault, lake and ledger as for a file. The
   ledger transaction that records the landing records the pull's new watermark too, so a pull killed at any
   moment is redone from the old watermark, and a repeated pull finds nothing new: each row lands once.

A per-dataset lock keeps two pulls of one dataset (a DAG and a command) from reading the same rows; the landing
itself takes the landing lock like a file of the inbox, and a run (`safetynet run`) pulls within its one run at a
time. Staged files live in the process's work folder (ingestion/scratch.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingestion import ledger, scratch
from ingestion.contracts import Contract, header_key, load_contract
from ingestion.dates import china_today
from ingestion.delivery import Delivery, Pull
from ingestion.exchange import database
from ingestion.exchange.database import quote_name, relation
from ingestion.exchange.source import Source, SourceError, connection_url, load_source, source_datasets
from ingestion.filelock import file_lock
from ingestion.landing import LandingResult, land_delivery
from ingestion.private import private_dir
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)


@dataclass
class PullOutcome:
    dataset: str
    source: str  # `<connection>/<table>`: never the URL
    status: str  # landed (one or more deliveries recorded), nothing_new, error
    message: str = ""
    landings: list[LandingResult] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    """The SELECT list of a pull: database column → contract header, and the bookkeeping column's type."""

    select: str  # `"jsbh" as "结算编号", …, "gxsj"`
    order_keys: list[str]  # quoted database columns of the contract's keys
    column: str | None  # the watermark or cut-off column (database name), if any
    column_type: str | None  # its PostgreSQL type
    column_out: str | None  # its name in the pulled rows (a contract header when the contract has it too)


def pull_sources(root: DataRoot, cutoff: dt.date | None = None, datasets: list[str] | None = None) -> list[PullOutcome]:
    """Pull every dataset with a database source (or those named); a source that fails is reported, not raised."""
    outcomes = []
    for dataset in datasets if datasets is not None else source_datasets(root):
        try:
            outcomes.append(pull_dataset(root, dataset, cutoff))
        except SourceError as err:
            log.error("%s", err)
            outcomes.append(PullOutcome(dataset, _label(root, dataset), "error", str(err)))
    return outcomes


def _label(root: DataRoot, dataset: str) -> str:
    try:
        return load_source(root, dataset).label
    except SourceError:
        return f"sources/{dataset}.yaml"


def pull_dataset(root: DataRoot, dataset: str, cutoff: dt.date | None = None) -> PullOutcome:
    """Pull what is new in `dataset`'s source up to `cutoff` and land it. Raises SourceError: the delivery being
    pulled is not landed and the watermark stays (cut-offs of a dated snapshot landed before it stay landed)."""
    source = load_source(root, dataset)
    contract = load_contract(dataset)
    cutoff = cutoff or china_today()
    if cutoff > china_today():
        raise source.error(f"cut-off {cutoff} is after today ({china_today()}): an extract cannot describe the future")
    url = connection_url(root, source)
    with file_lock(scratch.lock_path(root, f"pull-{dataset}"), mode=0o600), scratch.work_dir(root) as work:
        # staged rows hold ID numbers and names until they are landed: in this process's owner-only work folder,
        # removed when the pull ends (swept at the next start when the process was killed)
        staging = private_dir(work / "pulls")
        with database.connect(source, url) as session:
            plan = _plan(session, source, contract)
            if source.mode == "increment":
                landings = _pull_increment(root, session, source, plan, cutoff, staging)
            elif source.mode == "snapshot_cutoff":
                landings = _pull_dated_snapshots(root, session, source, plan, cutoff, staging)
            else:
                landings = _pull_whole(root, session, source, plan, cutoff, staging)
    status = "landed" if landings else "nothing_new"
    for landing in landings:
        log.info("pulled %s: %s, %d landed, %d rejected", source.label, landing.file_name, landing.rows_landed,
                 landing.rows_rejected)  # fmt: skip
    return PullOutcome(dataset, source.label, status, "" if landings else "no new rows", landings)


# ---------------------------------------------------------------------------- describe and check


def _plan(session: Any, source: Source, contract: Contract) -> _Plan:
    schema = session.schema(f"select * from {relation(source)}")
    names = list(schema.names)
    mapping = _map_columns(source, contract, names)
    types = {f.name: database.pg_type(f) for f in schema}
    misfits = [
        f"{mapping[c.field]} ({c.header}, {c.kind}) is {types[mapping[c.field]]}"
        for c in contract.columns
        if c.field in mapping and types[mapping[c.field]] not in database.FITS[c.kind]
    ]
    if misfits:
        raise source.error(f"column type(s) that cannot hold the contract's values: {'; '.join(misfits)}")
    column = source.watermark or source.cutoff_column
    column_type = None
    if column is not None:
        what = "watermark" if source.watermark else "cut-off column"
        if column not in names:
            raise source.error(f"the {what} {column} is not a column of the source (it has: {_some(names)})")
        column_type = types[column]
        allowed = database.WATERMARK_TYPES if source.watermark else database.CUTOFF_TYPES
        if column_type not in allowed:
            raise source.error(f"the {what} {column} is {column_type}; it must be one of {', '.join(sorted(allowed))}")
    select = [f"{quote_name(db)} as {quote_name(contract.column(f).header)}" for f, db in mapping.items()]
    column_out = column
    if column is not None and column in mapping.values():
        column_out = contract.column(next(f for f, db in mapping.items() if db == column)).header
    elif column is not None:
        select.append(quote_name(column))
    keys = [quote_name(mapping[k]) for k in contract.keys]
    return _Plan(", ".join(select), keys, column, column_type, column_out)


def _map_columns(source: Source, contract: Contract, names: list[str]) -> dict[str, str]:
    """contract field → database column: as `columns:` says, else by header (as files match) or field name."""
    by_key = {header_key(n): n for n in names}
    by_lower = {n.lower(): n for n in names}
    explicit = {}
    for name, db in source.columns.items():
        col = next(c for c in contract.columns if name in (c.header, c.field, c.key))
        if db not in names:
            raise source.error(f"`columns:` maps {name} to {db}, which the source lacks (it has: {_some(names)})")
        explicit[col.field] = db
    mapping = {}
    for col in contract.columns:
        db = explicit.get(col.field) or by_key.get(col.key) or by_lower.get(col.field.lower())
        if db is not None:
            mapping[col.field] = db
    missing = [f"{c.header} ({c.field})" for c in contract.columns if c.required and c.field not in mapping]
    if missing:
        raise source.error(
            f"missing required column(s) {', '.join(missing)}: no column of the source has that header or field "
            f"name; name the database column under `columns:` (it has: {_some(names)})"
        )
    return mapping


def _some(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


# ---------------------------------------------------------------------------- the three kinds of pull


def _pull_increment(
    root: DataRoot, session: Any, source: Source, plan: _Plan, cutoff: dt.date, staging: Path
) -> list[LandingResult]:
    assert plan.column is not None and plan.column_out is not None
    with ledger.open_ledger(root) as conn:
        last = ledger.watermark(conn, source.dataset)
    where, params = _increment_filter(plan.column, plan.column_type, last, cutoff)
    sql = (
        f"select {plan.select} from {relation(source)} as pulled where {where} "
        f"order by {quote_name(plan.column)}, {', '.join(plan.order_keys)}"
    )
    staged = _stage(root, session, source, sql, params, cutoff, staging, track=plan.column_out)
    if staged is None:
        return []
    pull = Pull(source.dataset, source.label, source.mode, plan.column, last, staged.highest, staged.rows)
    return [_land(root, staged.delivery(source.dataset, pull))]


def _increment_filter(column: str, kind: str | None, last: str | None, cutoff: dt.date) -> tuple[str, list[str]]:
    """Rows after the last watermark and, for an update time, no later than the cut-off day (China time)."""
    quoted = quote_name(column)
    conditions, params = [f"{quoted} is not null"], []
    if last is not None:
        params.append(last)
        conditions.append(f"{quoted} > cast(${len(params)} as {kind})")
    bound = {
        "date": (cutoff.isoformat(), "<="),
        "timestamp": (f"{cutoff + dt.timedelta(days=1)} 00:00:00", "<"),
        "timestamptz": (f"{cutoff + dt.timedelta(days=1)} 00:00:00+08:00", "<"),
    }.get(kind or "")
    if bound is not None:
        params.append(bound[0])
        conditions.append(f"{quoted} {bound[1]} cast(${len(params)} as {kind})")
    return " and ".join(conditions), params


def _pull_dated_snapshots(
    root: DataRoot, session: Any, source: Source, plan: _Plan, cutoff: dt.date, staging: Path
) -> list[LandingResult]:
    """One delivery per cut-off in the table after the last one pulled, up to `cutoff`, oldest first."""
    assert plan.column is not None
    with ledger.open_ledger(root) as conn:
        last = ledger.watermark(conn, source.dataset)
    after = dt.date.fromisoformat(last) if last else dt.date.min
    due = {d: v for d, v in _cutoffs(session, source, plan.column).items() if after < d <= cutoff}
    landings = []
    for day in sorted(due):
        values = due[day]  # the column's values that name this day (a timestamp column may hold several)
        marks = ", ".join(f"cast(${n} as {plan.column_type})" for n in range(1, len(values) + 1))
        sql = (
            f"select {plan.select} from {relation(source)} as pulled "
            f"where {quote_name(plan.column)} in ({marks}) order by {', '.join(plan.order_keys)}"
        )
        staged = _stage(root, session, source, sql, values, day, staging)
        if staged is None:  # its rows were deleted since the cut-offs were listed
            continue
        pull = Pull(source.dataset, source.label, source.mode, plan.column, last, day.isoformat(), staged.rows)
        landings.append(_land(root, staged.delivery(source.dataset, pull)))
        last = day.isoformat()
    return landings


def _cutoffs(session: Any, source: Source, column: str) -> dict[dt.date, list[str]]:
    """The table's distinct cut-off values by the date each names (text and numbers as YYYYMMDD or YYYY-MM-DD)."""
    quoted = quote_name(column)
    found = session.table(
        f"select distinct {quoted} as cutoff from {relation(source)} as pulled where {quoted} is not null"
    )
    dates: dict[dt.date, list[str]] = {}
    for value in found.column("cutoff").to_pylist():
        day = _as_date(value)
        if day is None:
            raise source.error(f"the cut-off column {column} holds {value!r}, which is not a date")
        dates.setdefault(day, []).append(_as_param(value))
    return dates


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for form in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def _as_param(value: Any) -> str:
    """A value as text the database casts back to the column's type exactly."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _pull_whole(
    root: DataRoot, session: Any, source: Source, plan: _Plan, cutoff: dt.date, staging: Path
) -> list[LandingResult]:
    sql = f"select {plan.select} from {relation(source)} as pulled order by {', '.join(plan.order_keys)}"
    staged = _stage(root, session, source, sql, [], cutoff, staging, empty=True)
    assert staged is not None
    pull = Pull(source.dataset, source.label, source.mode, None, None, None, staged.rows)
    return [_land(root, staged.delivery(source.dataset, pull))]


def _land(root: DataRoot, delivery: Delivery) -> LandingResult:
    """Land a staged pull, then drop the staged file (raw/ has its copy; a kill in between leaves it in the work
    folder of a dead process, swept at the next start: its watermark never moved, the rerun pulls it again)."""
    result = land_delivery(root, delivery)
    delivery.path.unlink(missing_ok=True)
    return result


# ---------------------------------------------------------------------------- staging a pulled file


@dataclass(frozen=True)
class _Staged:
    path: Path  # <staging>/<dataset>_<cutoff>_<seq>.parquet
    name: str  # the delivery's name in the ledger: db:<connection>/<dataset>_<cutoff>_<seq>.parquet
    cutoff: dt.date
    seq: int
    rows: int
    highest: str | None  # the largest value of the tracked (watermark) column, as text

    def delivery(self, dataset: str, pull: Pull) -> Delivery:
        return Delivery(self.path, self.name, dataset, self.cutoff, self.seq, "parquet", pull=pull)


def _stage(
    root: DataRoot,
    session: Any,
    source: Source,
    sql: str,
    params: list[str],
    cutoff: dt.date,
    staging: Path,
    track: str | None = None,
    empty: bool = False,
) -> _Staged | None:
    """Stream the rows into `<staging>/<dataset>_<cutoff>_<seq>.parquet` (written under a temporary name),
    tracking the largest value of the column `track`. No rows: None, unless `empty` (a roster, `sql` without
    parameters) asks for an empty delivery."""
    with ledger.open_ledger(root) as conn:
        seq = ledger.next_seq(conn, source.dataset, cutoff)
    name = f"{source.dataset}_{cutoff:%Y%m%d}_{seq}.parquet"
    target = staging / name
    partial = staging / f"{name}.partial"
    rows, highest, writer = 0, None, None
    try:
        for batch in session.batches(sql, params):
            if writer is None:
                schema = database.plain(batch.schema)
                writer = pq.ParquetWriter(partial, schema, compression="zstd")
            writer.write_batch(database.plain_batch(batch, schema))
            rows += batch.num_rows
            if track is not None and batch.num_rows:
                highest = _max(highest, pc.max(batch.column(track)).as_py())
        if writer is None and empty:  # an empty roster is still a delivery: the checks judge it
            writer = pq.ParquetWriter(partial, database.plain(session.schema(sql)), compression="zstd")
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        return None
    partial.replace(target)
    top = None if highest is None else _as_param(highest)
    return _Staged(target, f"db:{source.connection}/{name}", cutoff, seq, rows, top)


def _max(current: Any, candidate: Any) -> Any:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


# ---------------------------------------------------------------------------- anything new? (Airflow)


def has_new_rows(root: DataRoot, dataset: str, through: dt.date) -> bool:
    """Would a pull with cut-off `through` find something? An increment: a row after the watermark (an update
    time: up to the end of `through`); dated snapshots: a cut-off after the last pulled, up to `through`; a full
    read: always (the table is the current roster). Raises SourceError like a pull."""
    source = load_source(root, dataset)
    if source.mode == "snapshot_full":
        return True
    contract = load_contract(dataset)
    with database.connect(source, connection_url(root, source)) as session:
        plan = _plan(session, source, contract)
        with ledger.open_ledger(root) as conn:
            last = ledger.watermark(conn, dataset)
        assert plan.column is not None
        if source.mode == "snapshot_cutoff":
            after = dt.date.fromisoformat(last) if last else dt.date.min
            return any(after < day <= through for day in _cutoffs(session, source, plan.column))
        where, params = _increment_filter(plan.column, plan.column_type, last, through)
        probe = session.table(f"select 1 as found from {relation(source)} as pulled where {where} limit 1", params)
        return probe.num_rows > 0
