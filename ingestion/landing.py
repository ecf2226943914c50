"""Landing: every delivered file → raw archive, lake, quarantine, vault part, ledger, inbox archive.

One landing at a time per data root (`landing.lock`): two runs, or a run and a landing DAG, never race for the
same inbox file. Order per file (docs/internals.md), so that a process killed at any moment leaves nothing
half-done:
1. copy to `raw/<sha256>` (opened without following links, owner-only; temp name, fsync, rename);
2. decide: resumed, duplicate, conflicting, out of date, or read it — from `raw/<sha256>`, the bytes hashed;
3. write lake / quarantine / vault part under temporary names and rename them;
4. one ledger transaction (landing row, rejections, superseded deliveries, the files written in `state`);
5. move the inbox file to `archive/<relative path>` and mark the landing archived.
A rerun after a kill redoes 3-5 for a file whose ledger row is missing (same paths, same content)
and only 5 for one whose ledger row exists. Entries the inbox must not hold (links, FIFOs, hidden names, ...:
ingestion/delivery.py) are recorded as `refused` and left unread where they are. `reland` writes 3 again
for a landing of the ledger, from its raw file (`safetynet rebuild`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
import re
import signal
import sqlite3
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingestion import header_check, ledger, quarantine, vault
from ingestion.contracts import Contract, load_contract
from ingestion.dates import CHINA, china_today
from ingestion.delivery import Delivery, list_inbox, parse_delivery
from ingestion.filelock import file_lock
from ingestion.lake import StagedParquet, delivery_path, dictionary_columns, ensure_schema_files, lake_schema
from ingestion.normalise import MESSAGES, BatchResult, DeliveryContext, RowCheck, normalise_batch
from ingestion.rawstore import RawScan, archive_raw, digest, hash_file, move_to_archive, scan_raw
from ingestion.readers import (
    MISSING_COLUMN,
    UNREADABLE,
    FileRejected,
    SlowPathNeeded,
    Source,
    open_source,
)
from ingestion.scratch import work_dir
from ingestion.settings import DataRoot
from ingestion.state import checked_key

log = logging.getLogger(__name__)

# progress(files done, files in all, file being landed, rows read so far)
Progress = Callable[[int, int, str, int], None]


@dataclass
class LandingResult:
    file_name: str
    dataset: str | None
    cutoff_date: dt.date | None
    seq: int | None
    sha256: str | None
    status: str  # landed, superseded, duplicate, rejected, not_a_dataset, refused
    reason: str | None = None  # `<code>: <text>` for a file rejected whole / not landed
    rows_in: int = 0
    rows_landed: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    extra_columns: list[str] = field(default_factory=list)

    @property
    def reason_code(self) -> str | None:
        return self.reason.split(":", 1)[0] if self.reason else None


@dataclass
class _Outcome:
    """What reading a file produced, before anything is committed."""

    rows_in: int = 0
    rows_landed: int = 0
    rows_skipped: int = 0
    rejected_rows: int = 0
    rejections: list[pl.DataFrame] = field(default_factory=list)
    quarantine: list[pl.DataFrame] = field(default_factory=list)
    vault: list[pl.DataFrame] = field(default_factory=list)
    encoding: str | None = None
    extras: list[tuple[int, str]] = field(default_factory=list)  # unknown columns: (position, header)
    lake: Path | None = None  # the lake file written


class _Rejected(Exception):
    def __init__(
        self,
        code: str,
        text: str,
        rows_in: int,
        column: str | None = None,
        encoding: str | None = None,
        extras: list[tuple[int, str]] | None = None,
    ):
        super().__init__(text)
        self.code, self.text, self.rows_in, self.column = code, text, rows_in, column
        self.encoding, self.extras = encoding, extras or []


# ---------------------------------------------------------------- public


def land_inbox(
    root: DataRoot,
    inbox: Path | None = None,
    dataset: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> list[LandingResult]:
    """Land every file of the inbox (root and dataset folders), oldest cut-off first, seq ascending.

    Datasets are independent: with `workers` > 1 (default: $SAFETYNET_LANDING_WORKERS, else the cores, for an
    inbox of more than PARALLEL_BYTES) each dataset's files land in order in one of that many processes.
    `progress(done, total, file_name, rows)` is called before each file (per dataset when parallel) and once at
    the end; `rows` counts the rows read so far (landed, rejected and skipped).
    """
    inbox = inbox or root.inbox
    with landing_lock(root), work_dir(root) as work:
        ensure_schema_files(root)
        checked_key(root)
        deliveries = list_inbox(inbox, dataset)  # listed under the lock: another landing may just have moved files
        groups = _by_dataset(deliveries)
        workers = _worker_count(workers, deliveries, len(groups))
        if workers > 1:
            results = _land_in_parallel(root, deliveries, groups, workers, work, progress)
        else:
            results = _land_in_order(root, deliveries, work, progress)
        vault.compact(root)
        ledger.export_deliveries(root)
    if progress:
        progress(len(deliveries), len(deliveries), "", sum(r.rows_in for r in results))
    return results


@contextmanager
def landing_lock(root: DataRoot) -> Iterator[None]:
    """One landing at a time on a data root (a second one waits): the inbox, raw/ and the vault are shared."""
    with file_lock(root.root / "landing.lock", 0o600):
        yield


PARALLEL_BYTES = 256 * 2**20  # below this, starting worker processes costs more than it saves
ENV_WORKERS = "SAFETYNET_LANDING_WORKERS"


def _worker_count(asked: int | None, deliveries: list[Delivery], groups: int) -> int:
    if asked is None:
        configured = os.environ.get(ENV_WORKERS)
        if configured:
            asked = int(configured)
        elif sum(_size(d) for d in deliveries) > PARALLEL_BYTES:
            asked = min(os.cpu_count() or 1, 4)
        else:
            asked = 1
    return max(1, min(asked, groups))


def _size(delivery: Delivery) -> int:
    try:
        return delivery.path.lstat().st_size
    except FileNotFoundError:
        return 0


def _by_dataset(deliveries: list[Delivery]) -> list[list[Delivery]]:
    """Each dataset's deliveries in landing order; the biggest dataset first (so the workers finish together)."""
    groups: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        groups.setdefault(delivery.dataset or "", []).append(delivery)
    return sorted(groups.values(), key=lambda group: -sum(_size(d) for d in group))


def _land_in_order(
    root: DataRoot, deliveries: list[Delivery], work: Path, progress: Progress | None = None
) -> list[LandingResult]:
    key = checked_key(root)
    results: list[LandingResult] = []
    for n, delivery in enumerate(deliveries):
        if progress:
            progress(n, len(deliveries), delivery.file_name, sum(r.rows_in for r in results))
        try:
            results.append(_land(root, delivery, key, work))
        except FileNotFoundError:
            if delivery.path.exists():
                raise
            log.info("%s was taken by another landing process", delivery.file_name)
    return results


def _land_in_parallel(
    root: DataRoot,
    deliveries: list[Delivery],
    groups: list[list[Delivery]],
    workers: int,
    work: Path,
    progress: Progress | None,
) -> list[LandingResult]:
    """One dataset per task in a pool of processes (spawned: Polars' threads do not survive a fork); the
    workers write their temporary files into the landing process's work folder (they die with it)."""
    total, done = len(deliveries), 0
    order = {d.file_name: n for n, d in enumerate(deliveries)}  # results in landing order, as in one process
    results: list[LandingResult] = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        futures = [pool.submit(_land_in_order, root, group, work) for group in groups]
        for future in as_completed(futures):
            landed = future.result()
            done += len(landed)
            results.extend(landed)
            if progress:
                progress(done, total, landed[-1].file_name if landed else "", sum(r.rows_in for r in results))
    return sorted(results, key=lambda r: order.get(r.file_name, total))


def _die_with_parent(parent: int) -> None:
    """A landing worker ends when the landing process is killed (Linux), like the in-process path does."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # killed while this worker was starting: the signal was never armed
        os._exit(1)


def land_file(
    root: DataRoot, path: Path, inbox: Path | None = None, extra_checks: Sequence[RowCheck] = ()
) -> LandingResult:
    """Land one file of the inbox (the Airflow landing DAG lands one dataset's files one by one).

    `extra_checks` are row checks the caller adds for this file: (bad-row expression over the typed
    fields, field, reason code, message); a row they flag is rejected like any other bad row.
    """
    inbox = inbox or root.inbox
    with landing_lock(root), work_dir(root) as work:
        ensure_schema_files(root)
        delivery = parse_delivery(Path(path), inbox)
        result = _land(root, delivery, checked_key(root), work, tuple(extra_checks))
        vault.compact(root)
        ledger.export_deliveries(root)
    return result


def land_delivery(root: DataRoot, delivery: Delivery) -> LandingResult:
    """Land one delivery that is not a file of the inbox: a Parquet file of rows pulled from an exchange
    database (ingestion/exchange/), whose columns are named by the contract's headers. It goes through the
    same steps as a file; its `Pull` is recorded in the ledger transaction of its landing. The file stays where
    it is (not moved to archive/; raw/ keeps a copy): the puller removes its staged file. Under the landing lock,
    with the secret checked, as a file of the inbox."""
    with landing_lock(root), work_dir(root) as work:
        ensure_schema_files(root)
        result = _land(root, delivery, checked_key(root), work)
        vault.compact(root)
        ledger.export_deliveries(root)
    return result


# ---------------------------------------------------------------- one file


def _land(
    root: DataRoot, delivery: Delivery, key: bytes, work: Path, extra_checks: tuple[RowCheck, ...] = ()
) -> LandingResult:
    if delivery.refused is not None:
        return _refused(root, delivery)
    if delivery.dataset is None:
        return _not_a_dataset(root, delivery)
    scan = archive_raw(root, delivery.path)
    with ledger.open_ledger(root) as conn:
        resumed = ledger.unfinished(conn, delivery.file_name, scan.sha256)
        if resumed is not None:
            return _finish_move(root, conn, delivery, scan.sha256, resumed)
        contract = load_contract(delivery.dataset)
        try:
            _precheck(root, conn, delivery, scan, work)
            ctx = _context(delivery, scan, key, china_today(), extra_checks)
            outcome = _read(root, delivery, contract, scan, ctx, work)
        except _Rejected as rejected:
            return _record_rejected(root, conn, delivery, scan, rejected)
        except _Duplicate as dup:
            return _record_duplicate(root, conn, delivery, scan, dup.first)
        return _commit(root, conn, delivery, scan, outcome)


class _Duplicate(Exception):
    def __init__(self, first: sqlite3.Row):
        super().__init__("duplicate")
        self.first = first


def _precheck(root: DataRoot, conn: sqlite3.Connection, delivery: Delivery, scan: RawScan, work: Path) -> None:
    """Whole-file decisions that need no reading beyond the raw scan."""
    first = ledger.landed_with_sha(conn, scan.sha256)
    if first is not None:
        raise _Duplicate(first)
    if delivery.cutoff is None:
        raise _Rejected("bad_date", f"{delivery.problem}", _estimate(root, delivery, scan, work))
    today = china_today()
    if delivery.cutoff > today:
        raise _Rejected(
            "bad_date",
            f"cut-off date {delivery.cutoff.isoformat()} in the file name is after today ({today.isoformat()}): "
            "an extract cannot describe the future",
            _estimate(root, delivery, scan, work),
        )
    clash = ledger.same_number(conn, delivery.dataset or "", delivery.cutoff, delivery.seq)
    if clash is not None:
        raise _Rejected(
            "conflicting_delivery",
            f"delivery number {delivery.seq} of {delivery.dataset} {delivery.cutoff.isoformat()} was already landed "
            f"from {clash['file_name']} with other content (a bare file and _1 are the same number)",
            _estimate(root, delivery, scan, work),
        )


def _raw(root: DataRoot, scan: RawScan) -> Path:
    """What is read: the archived copy (exactly the bytes hashed, whatever happens to the inbox file)."""
    return root.raw / scan.sha256


def _estimate(root: DataRoot, delivery: Delivery, scan: RawScan, work: Path) -> int:
    """Data rows of a file rejected before reading: counted by reading it if it can be read."""
    try:
        with tempfile.TemporaryDirectory(dir=work, prefix="count-") as tmp:
            contract = load_contract(delivery.dataset or "")
            source = open_source(_raw(root, scan), delivery.ext, scan, contract, Path(tmp))
            return _count_rows(source)
    except Exception as err:  # counting is best effort: any failure falls back to the line estimate
        rows = getattr(err, "rows_in", None)
        return int(rows or 0)


def _count_rows(source: Source) -> int:
    try:
        return sum(b.height for b in source.batches(False))
    except SlowPathNeeded:
        return sum(b.height for b in source.batches(True))


def _context(
    delivery: Delivery, scan: RawScan, key: bytes, today: dt.date, extra_checks: tuple[RowCheck, ...]
) -> DeliveryContext:
    assert delivery.cutoff is not None
    return DeliveryContext(
        delivery.file_name, scan.sha256, delivery.cutoff, delivery.seq, key, today, extra_checks=extra_checks
    )


def _read(
    root: DataRoot, delivery: Delivery, contract: Contract, scan: RawScan, ctx: DeliveryContext, work: Path
) -> _Outcome:
    """Read the raw file and write its lake file (decoded copies live in a temporary folder of the work folder,
    removed when the file is read)."""
    assert delivery.cutoff is not None
    with tempfile.TemporaryDirectory(dir=work, prefix="read-") as tmp:
        try:
            source = open_source(_raw(root, scan), delivery.ext, scan, contract, Path(tmp))
        except FileRejected as err:
            raise _Rejected(err.reason, err.message, err.rows_in or 0) from None
        hmap = source.header
        if hmap.duplicates:
            raise _Rejected(
                UNREADABLE,
                f"header(s) {', '.join(hmap.duplicates)} appear more than once: "
                "which column holds the value is ambiguous",
                _safe_count(source),
                encoding=source.encoding,
                extras=hmap.extras,
            )
        if hmap.missing:
            raise _Rejected(
                MISSING_COLUMN,
                f"missing required column(s): {', '.join(hmap.missing)}",
                _safe_count(source),
                column=", ".join(hmap.missing),
                encoding=source.encoding,
                extras=hmap.extras,
            )
        lake = StagedParquet(
            delivery_path(root, contract.dataset, delivery.cutoff, delivery.seq, scan.sha256),
            lake_schema(contract.dataset),
            dictionary=dictionary_columns(contract.dataset),
        )
        try:
            try:
                outcome = _process(source, False, contract, ctx, lake)
            except SlowPathNeeded as why:
                log.info("%s: exact CSV reader (%s)", delivery.file_name, why)
                lake.discard()
                lake = StagedParquet(lake.target, lake.schema, dictionary=dictionary_columns(contract.dataset))
                outcome = _process(source, True, contract, ctx, lake)
        except FileRejected as err:
            lake.discard()
            raise _Rejected(
                err.reason,
                err.message,
                err.rows_in or source.estimated_rows,
                encoding=source.encoding,
                extras=hmap.extras,
            ) from None
        except BaseException:
            lake.discard()
            raise
        outcome.lake = lake.commit()
        outcome.encoding, outcome.extras = source.encoding, hmap.extras
        return outcome


def _safe_count(source: Source) -> int:
    try:
        return _count_rows(source)
    except FileRejected as err:
        return err.rows_in or source.estimated_rows


def _process(source: Source, slow: bool, contract: Contract, ctx: DeliveryContext, lake: StagedParquet) -> _Outcome:
    outcome = _Outcome()
    batches: Iterator[pl.DataFrame] = source.batches(slow)
    for result in _in_order(batches, lambda batch: normalise_batch(batch, contract, source.header, ctx)):
        lake.write(result.landed)
        _collect(outcome, result, contract)
    return outcome


_BATCH_POOLS: dict[int, ThreadPoolExecutor] = {}
IN_FLIGHT = 2  # batches normalised at once: two cores busy while memory stays bounded


def _in_order(batches: Iterator[pl.DataFrame], work: Callable[[pl.DataFrame], BatchResult]) -> Iterator[BatchResult]:
    """Normalise batches side by side (Polars releases the GIL), yielding results in file order."""
    pid = os.getpid()  # one pool per process: threads do not survive a fork
    pool = _BATCH_POOLS.setdefault(pid, ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="batch"))
    pending: deque[Future] = deque()
    try:
        for batch in batches:
            pending.append(pool.submit(work, batch))
            if len(pending) >= IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:  # on an error: let running batches finish, drop their results
            future.cancel()
        wait(pending)


def _collect(outcome: _Outcome, result: BatchResult, contract: Contract) -> None:
    outcome.rows_in += result.rows_in
    outcome.rows_landed += result.landed.height
    outcome.rows_skipped += result.rows_skipped
    outcome.rejected_rows += result.rows_rejected
    if result.rejections.height:
        outcome.rejections.append(result.rejections)
        outcome.quarantine.append(
            result.rejections.join(result.rejected_rows, left_on="data_row", right_on="_data_row", how="left").drop(
                "_source_line"
            )
        )
    if result.vault.height:
        outcome.vault.append(result.vault)


# ---------------------------------------------------------------- recording


def _private_fields(contract: Contract) -> set[str]:
    """Fields whose raw values never reach the ledger (IDs, names, other personal data)."""
    return {c.field for c in contract.columns if c.kind == "id" or c.pii is not None}


def _ledger_rejections(delivery: Delivery, sha256: str, frames: list[pl.DataFrame], contract: Contract) -> list[tuple]:
    if not frames:
        return []
    private = list(_private_fields(contract))
    frame = pl.concat(frames).with_columns(
        pl.when(pl.col("field").is_in(private) | (pl.col("field") == ""))
        .then(pl.lit(""))
        .otherwise(pl.col("raw_value"))
        .alias("raw_value"),
        pl.lit(delivery.file_name).alias("file_name"),
        pl.lit(delivery.dataset).alias("dataset"),
        pl.lit(sha256).alias("sha256"),
    )
    return frame.select(ledger.REJECTION_COLUMNS).rows()


def _write_side_files(root: DataRoot, delivery: Delivery, scan: RawScan, outcome: _Outcome) -> list[Path]:
    """The quarantine file and the vault part of a read delivery; returns the files the ledger must keep."""
    assert delivery.cutoff is not None and delivery.dataset is not None
    kept = [outcome.lake] if outcome.lake is not None else []
    rejected = quarantine.write_rows(root, delivery.dataset, scan.sha256, outcome.quarantine)
    if rejected is not None:
        kept.append(rejected)
    if outcome.vault:
        persons = pl.concat(outcome.vault).unique(subset="person_key", keep="last", maintain_order=True)
        vault.write_part(root, scan.sha256, persons, delivery.cutoff, delivery.seq)
    return kept


FileRecord = tuple[str, str, int, str]  # item, kind, size, sha256 (ledger `state`)


def file_records(root: DataRoot, scan: RawScan | None, written: list[Path]) -> list[FileRecord]:
    """The raw file (when given) and every file written for it, with sizes and checksums (hashed before the ledger
    transaction: other landing processes wait for that lock)."""
    records = [(f"raw/{scan.sha256}", "raw", scan.size, scan.sha256)] if scan is not None else []
    for path in written:
        kind = "lake" if path.is_relative_to(root.lake) else "quarantine"
        records.append((path.relative_to(root.root).as_posix(), kind, *digest(path)))
    return records


def _record_files(conn: sqlite3.Connection, records: list[FileRecord]) -> None:
    for record in records:
        ledger.record_state(conn, *record)


def _recordable_extras(root: DataRoot, extras: list[tuple[int, str]], outcome: _Outcome | None = None) -> list[str]:
    """Unknown column names as the ledger may show them: values withheld (ingestion/header_check.py)."""
    if not extras:
        return []
    known = vault.known_names(root, [header for _, header in extras])
    if outcome is not None and outcome.vault:  # names this delivery brings, not yet in the vault
        known |= set(pl.concat(outcome.vault).get_column("name").drop_nulls().to_list())
    return header_check.recordable(extras, known)


def _commit(
    root: DataRoot, conn: sqlite3.Connection, delivery: Delivery, scan: RawScan, outcome: _Outcome
) -> LandingResult:
    contract = load_contract(delivery.dataset or "")
    assert delivery.cutoff is not None
    records = file_records(root, scan, _write_side_files(root, delivery, scan, outcome))
    extras = _recordable_extras(root, outcome.extras, outcome)
    rejections = _ledger_rejections(delivery, scan.sha256, outcome.rejections, contract)
    try:
        with ledger.transaction(conn):
            first = ledger.landed_with_sha(conn, scan.sha256)
            clash = ledger.same_number(conn, contract.dataset, delivery.cutoff, delivery.seq)
            if first is not None or clash is not None:
                raise _Late(first, clash)  # another process landed it meanwhile
            # a later delivery of the cut-off replaces this one as a whole, except where deliveries add up
            replaces = contract.redelivery == "replace" and not (delivery.pull and delivery.pull.accumulates)
            status = (
                "superseded"
                if replaces and ledger.higher_seq_landed(conn, contract.dataset, delivery.cutoff, delivery.seq)
                else "landed"
            )
            result = LandingResult(
                delivery.file_name,
                contract.dataset,
                delivery.cutoff,
                delivery.seq,
                scan.sha256,
                status,
                None,
                outcome.rows_in,
                outcome.rows_landed,
                outcome.rejected_rows,
                outcome.rows_skipped,
                extras,
            )
            landing_id = ledger.insert_landing(conn, _row(result, outcome.encoding))
            ledger.insert_rejections(conn, landing_id, rejections)
            _record_files(conn, records)
            _record_pull(conn, delivery, landing_id)
            if status == "landed" and replaces:
                ledger.supersede_lower(conn, contract.dataset, delivery.cutoff, delivery.seq)
    except _Late as late:
        if late.first is not None:
            return _record_duplicate(root, conn, delivery, scan, late.first)
        return _record_rejected(
            root,
            conn,
            delivery,
            scan,
            _Rejected(
                "conflicting_delivery",
                f"delivery number {delivery.seq} was landed meanwhile from "
                f"{late.clash['file_name']} with other content",
                outcome.rows_in,
            ),
        )
    _move(root, conn, delivery, scan.sha256, landing_id)
    return result


class _Late(Exception):
    def __init__(self, first: sqlite3.Row | None, clash: sqlite3.Row | None):
        super().__init__("landed meanwhile")
        self.first, self.clash = first, clash


def _row(result: LandingResult, encoding: str | None) -> dict:
    return {
        "file_name": result.file_name,
        "dataset": result.dataset,
        "cutoff_date": result.cutoff_date.isoformat() if result.cutoff_date else None,
        "seq": result.seq,
        "sha256": result.sha256,
        "status": result.status,
        "reason": result.reason,
        "rows_in": result.rows_in,
        "rows_landed": result.rows_landed,
        "rows_rejected": result.rows_rejected,
        "rows_skipped": result.rows_skipped,
        "extra_columns": json.dumps(result.extra_columns, ensure_ascii=False) if result.extra_columns else None,
        "encoding": encoding,
    }


def _record_rejected(
    root: DataRoot, conn: sqlite3.Connection, delivery: Delivery, scan: RawScan, rejected: _Rejected
) -> LandingResult:
    text = f"{delivery.file_name}: {rejected.text}"
    result = LandingResult(
        delivery.file_name,
        delivery.dataset,
        delivery.cutoff,
        delivery.seq,
        scan.sha256,
        "rejected",
        f"{rejected.code}: {text}",
        rejected.rows_in,
        0,
        rejected.rows_in,
        0,
        _recordable_extras(root, rejected.extras),
    )
    row = (
        delivery.file_name,
        delivery.dataset,
        None,
        None,
        rejected.column or "",
        "",
        rejected.code,
        "",
        text,
        scan.sha256,
    )
    kept = quarantine.write_file_rejection(root, delivery.dataset or "_unknown", scan.sha256, rejected.code, text)
    records = file_records(root, scan, [kept])
    with ledger.transaction(conn):
        landing_id = ledger.insert_landing(conn, _row(result, rejected.encoding))
        ledger.insert_rejections(conn, landing_id, [row])
        _record_files(conn, records)
        _record_pull(conn, delivery, landing_id)
    log.warning("rejected %s", text)
    _move(root, conn, delivery, scan.sha256, landing_id)
    return result


def _record_duplicate(
    root: DataRoot, conn: sqlite3.Connection, delivery: Delivery, scan: RawScan, first: sqlite3.Row
) -> LandingResult:
    result = LandingResult(
        delivery.file_name,
        delivery.dataset,
        delivery.cutoff,
        delivery.seq,
        scan.sha256,
        "duplicate",
        f"duplicate: the same content was landed before as {first['file_name']}",
    )
    with ledger.transaction(conn):
        landing_id = ledger.insert_landing(conn, _row(result, None))
        _record_files(conn, file_records(root, scan, []))
        _record_pull(conn, delivery, landing_id)
    _move(root, conn, delivery, scan.sha256, landing_id)
    return result


def _refused(root: DataRoot, delivery: Delivery) -> LandingResult:
    """An entry the inbox must not hold: recorded with its reason, never opened, left where it is."""
    code, _, why = (delivery.refused or "").partition(": ")
    result = LandingResult(
        delivery.file_name,
        delivery.dataset,
        delivery.cutoff,
        delivery.seq if delivery.dataset else None,
        None,
        "refused",
        f"{code}: {delivery.file_name}: {why}; it stays in the inbox, unread",
    )
    return _record_left_in_inbox(root, result)


def _record_left_in_inbox(root: DataRoot, result: LandingResult) -> LandingResult:
    """The ledger row of a file left in the inbox (refused or not a dataset): counted, never read into the lake."""
    with ledger.open_ledger(root) as conn, ledger.transaction(conn):
        ledger.insert_landing(conn, _row(result, None))
    log.warning("%s", result.reason)
    return result


def _not_a_dataset(root: DataRoot, delivery: Delivery) -> LandingResult:
    sha = hash_file(delivery.path)
    result = LandingResult(
        delivery.file_name,
        None,
        None,
        None,
        sha,
        "not_a_dataset",
        f"not_a_dataset: {delivery.file_name}: {delivery.problem}; the file stays in the inbox",
    )
    return _record_left_in_inbox(root, result)


def _record_pull(conn: sqlite3.Connection, delivery: Delivery, landing_id: int) -> None:
    """A pulled delivery's watermark moves on in the transaction that records its landing, whatever the outcome
    (landed, duplicate, rejected whole): its rows are accounted for, and the next pull starts after them."""
    if delivery.pull is not None:
        ledger.insert_pull(conn, landing_id, delivery.pull)


def _move(root: DataRoot, conn: sqlite3.Connection, delivery: Delivery, sha256: str, landing_id: int) -> None:
    if delivery.pull is None and delivery.path.exists():  # a pulled file stays where it is: its puller owns it
        move_to_archive(root, delivery.path, delivery.file_name, sha256)
    with ledger.transaction(conn):
        ledger.mark_archived(conn, landing_id)


def _finish_move(
    root: DataRoot, conn: sqlite3.Connection, delivery: Delivery, sha256: str, row: sqlite3.Row
) -> LandingResult:
    """A landing recorded by a process that stopped before moving its inbox file: finish it."""
    _move(root, conn, delivery, sha256, row["id"])
    extras = json.loads(row["extra_columns"]) if row["extra_columns"] else []
    cutoff = dt.date.fromisoformat(row["cutoff_date"]) if row["cutoff_date"] else None
    return LandingResult(
        row["file_name"],
        row["dataset"],
        cutoff,
        row["seq"],
        row["sha256"],
        row["status"],
        row["reason"],
        row["rows_in"],
        row["rows_landed"],
        row["rows_rejected"],
        row["rows_skipped"],
        extras,
    )


# ---------------------------------------------------------------- rebuild


def reland(root: DataRoot, landing: sqlite3.Row, key: bytes, work: Path) -> list[Path]:
    """Write again, from `raw/<sha256>`, the files a landing of the ledger wrote: its lake file, quarantine file
    and vault part (the ledger row stays as it is). Returns the files written; raises ValueError naming the
    file when the raw file no longer gives what the ledger recorded."""
    delivery = _ledger_delivery(root, landing)
    scan = scan_raw(root, landing["sha256"])
    if landing["status"] == "rejected":
        code, _, text = (landing["reason"] or "").partition(": ")
        return [quarantine.write_file_rejection(root, delivery.dataset or "_unknown", scan.sha256, code, text)]
    contract = load_contract(delivery.dataset or "")
    ctx = _context(delivery, scan, key, _landing_day(landing), _replayed_checks(root, landing))
    try:
        outcome = _read(root, delivery, contract, scan, ctx, work)
    except _Rejected as err:
        raise ValueError(f"{landing['file_name']}: landed before, now rejected ({err.code}: {err.text})") from None
    counts = (outcome.rows_in, outcome.rows_landed, outcome.rejected_rows, outcome.rows_skipped)
    recorded = tuple(landing[c] for c in ("rows_in", "rows_landed", "rows_rejected", "rows_skipped"))
    if counts != recorded:
        raise ValueError(
            f"{landing['file_name']}: rows in/landed/rejected/skipped {counts} differ from the ledger's {recorded}"
        )
    return _write_side_files(root, delivery, scan, outcome)


def _ledger_delivery(root: DataRoot, landing: sqlite3.Row) -> Delivery:
    ext = Path(landing["file_name"]).suffix.lower().lstrip(".")
    cutoff = dt.date.fromisoformat(landing["cutoff_date"]) if landing["cutoff_date"] else None
    return Delivery(root.raw / landing["sha256"], landing["file_name"], landing["dataset"], cutoff, landing["seq"], ext)


def _landing_day(landing: sqlite3.Row) -> dt.date:
    """The day (China) the file first landed: an ID's birth date is checked against it."""
    return dt.datetime.fromisoformat(landing["landed_at"]).astimezone(CHINA).date()


_REJECTION_TEXT = re.compile(r"^data row \d+ \(line \d+\), column .*?: (?P<text>.*)$", re.S)


def _replayed_checks(root: DataRoot, landing: sqlite3.Row) -> tuple[RowCheck, ...]:
    """Row checks the caller added when the file first landed (feedback: the warning was issued, to this county)
    depend on what was published then: replay them from the rows the ledger recorded as rejected by them."""
    contract_reasons = set(MESSAGES) | {UNREADABLE}
    with ledger.open_ledger(root) as conn:
        rows = conn.execute(
            "SELECT data_row, field, reason, message FROM rejections WHERE landing_id = ? AND data_row IS NOT NULL",
            (landing["id"],),
        ).fetchall()
    checks: dict[tuple[str, str], tuple[list[int], str]] = {}
    for row in rows:
        if row["reason"] in contract_reasons:
            continue
        found = _REJECTION_TEXT.match(row["message"] or "")
        data_rows, _ = checks.setdefault((row["field"], row["reason"]), ([], found["text"] if found else ""))
        data_rows.append(row["data_row"])
    return tuple(
        (pl.col("_data_row").is_in(data_rows), field_name, reason, text)
        for (field_name, reason), (data_rows, text) in checks.items()
    )
