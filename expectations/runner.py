"""Validate newly landed deliveries, hold back the bad ones, release one deliberately.

`check_pending(root)` takes every landed delivery with no result in the ledger's `checks` table yet,
measures it (Polars, `expectations.metrics`), validates the measurements against its dataset's GX
suite, records one row per expectation, and holds a delivery that fails a critical expectation (a
`holds` row, released = 0). `lake/_deliveries.parquet` is then rewritten, so the build uses the last
good delivery of a held one's dataset. Results are rendered as GX Data Docs under `<root>/data_docs/`.

Order: datasets others refer to first (mz_household before mz_member), each dataset's deliveries by
cut-off and seq. A delivery is compared with the latest earlier delivery not held back; when one
delivery of a batch is held, the later ones of its dataset are measured and validated again against
the last good one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow.parquet as pq

from expectations import metrics as mx
from expectations import store
from expectations.checks import CRITICAL, Check, metrics_of
from expectations.contract_view import contract_view, contract_views, dataset_suite
from expectations.gx_runtime import GxRuntime, Verdict
from expectations.store import Delivery
from expectations.suites import reference_targets, suite_checks
from ingestion.filelock import file_lock
from ingestion.lake import delivery_path
from ingestion.ledger import export_deliveries, open_ledger
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class DeliveryCheck:
    """One delivery's verdict."""

    delivery: Delivery
    passed: int
    failed_warning: int
    failed_critical: int
    held: bool
    reasons: list[str] = field(default_factory=list)  # failed critical checks: name and observed
    warnings: list[str] = field(default_factory=list)  # failed warnings: name and observed


@dataclass
class CheckSummary:
    deliveries: list[DeliveryCheck] = field(default_factory=list)
    seconds: float = 0.0
    gx_start_seconds: float = 0.0  # importing GX and opening its context (in the background)
    gx_wait_seconds: float = 0.0  # how long the step waited for it after measuring
    docs_seconds: float = 0.0
    dataset_seconds: dict[str, float] = field(default_factory=dict)  # measuring + validating
    docs: Path | None = None

    @property
    def held(self) -> list[DeliveryCheck]:
        return [d for d in self.deliveries if d.held]

    def __str__(self) -> str:
        return f"{len(self.deliveries)} deliveries checked, {len(self.held)} held back in {self.seconds:.1f} s"


def read_delivery(root: DataRoot, d: Delivery, columns: list[str] | None = None) -> pl.DataFrame | None:
    """A delivery's rows from the lake (only `columns` when given), None when its file is missing."""
    path = delivery_path(root, d.dataset, d.cutoff_date, d.seq, d.sha256)
    return pl.read_parquet(path, columns=columns) if path.exists() else None


class Measurer:
    """Measures the deliveries of one dataset.

    What depends on nothing but the delivery (its rows, its profile) is measured once and kept, and
    may be measured ahead, while GX is still importing. What depends on holds (the previous good
    delivery, the reference roster of the same cut-off) is looked up each time it is asked for.
    """

    def __init__(self, root: DataRoot, dataset: str, checks: list[Check]):
        self.root, self.dataset = root, dataset
        self.view, self.rules = contract_view(dataset), dataset_suite(dataset)
        self.metrics = metrics_of(checks)
        self.referring = [m for m in self.metrics if m.target is not None]
        self.plain = [m for m in self.metrics if m.target is None]
        # the columns measuring reads (`_data_row` keeps the row count if it reads no other)
        self.columns = list(
            dict.fromkeys(
                [*(c for m in self.plain for c in m.columns), *mx.profile_columns(self.view, self.rules), "_data_row"]
            )
        )
        self.own: dict[str, dict[str, mx.Measured]] = {}  # sha256 → within-delivery metrics
        self.profiles: dict[str, mx.Profile] = {}

    def measure_own(self, d: Delivery) -> bool:
        """Measure what depends on the delivery alone; False when its lake file is missing."""
        if d.sha256 in self.own:
            return True
        frame = self._read(d, self.columns)
        if frame is None:
            return False
        self.own[d.sha256] = mx.measure_delivery(frame, d.cutoff_date, self.plain, {})
        self.profiles[d.sha256] = mx.profile(frame, self.view, self.rules)
        return True

    def measure(self, d: Delivery) -> dict[str, mx.Measured] | None:
        """Every metric of a delivery; None when its lake file is missing."""
        if not self.measure_own(d):
            return None
        return (
            self.own[d.sha256]
            | self._references(d)
            | mx.compare(self.metrics, self.profiles[d.sha256], self._previous(d))
        )

    def _read(self, d: Delivery, wanted: list[str]) -> pl.DataFrame | None:
        """The wanted columns that the delivery's file has (a missing one is reported by its metric)."""
        path = delivery_path(self.root, d.dataset, d.cutoff_date, d.seq, d.sha256)
        if not path.exists():
            return None
        names = set(pq.read_schema(path).names)
        return pl.read_parquet(path, columns=[c for c in wanted if c in names])

    def _references(self, d: Delivery) -> dict[str, mx.Measured]:
        if not self.referring:
            return {}
        frame = self._read(d, [*(c for m in self.referring for c in m.columns), "_data_row"])
        assert frame is not None
        return mx.measure_delivery(frame, d.cutoff_date, self.referring, self._targets(d))

    def _previous(self, d: Delivery) -> mx.Previous | None:
        with open_ledger(self.root) as conn:
            previous = store.previous_good(conn, d)
        if previous is None:
            return None
        if previous.sha256 not in self.profiles:
            frame = self._read(previous, [*mx.profile_columns(self.view, self.rules), "_data_row"])
            if frame is None:
                return None
            self.profiles[previous.sha256] = mx.profile(frame, self.view, self.rules)
        return mx.Previous(previous.file_name, self.profiles[previous.sha256])

    def _targets(self, d: Delivery) -> dict[str, mx.Target]:
        targets = {}
        for m in self.referring:
            assert m.target is not None
            dataset, column = m.target
            with open_ledger(self.root) as conn:
                good = store.good_of_cutoff(conn, dataset, d.cutoff_date)
            frame = read_delivery(self.root, good, [column]) if good else None
            keys = None if frame is None else frame.get_column(column).unique()
            targets[m.name] = mx.Target(dataset, keys, good.file_name if good else None)
        return targets


def _metrics_frame(
    measured: dict[str, dict[str, mx.Measured]], deliveries: list[Delivery], checks: list[Check]
) -> pd.DataFrame:
    names = [m.name for m in metrics_of(checks)]
    rows = [
        {
            "delivery": d.file_name,
            "sha256": d.sha256,
            "cutoff_date": d.cutoff_date.isoformat(),
            "seq": d.seq,
            **{n: measured[d.sha256][n].value for n in names},
        }
        for d in deliveries
    ]
    frame = pd.DataFrame(rows, columns=["delivery", "sha256", "cutoff_date", "seq", *names])
    return frame.astype(dict.fromkeys(names, "float64"))  # None → NaN: GX skips it (not compared)


def _result_rows(
    checks: list[Check], measured: dict[str, mx.Measured], verdicts: dict[tuple[str, str], Verdict], sha256: str
) -> list[dict]:
    rows = []
    for c in checks:
        m, verdict = measured[c.metric.name], verdicts[(c.name, sha256)]
        details = {
            "metric": c.metric.name,
            "value": m.value,
            "low": c.low,
            "high": c.high,
            "description": c.description,
            **m.details,
        }
        if verdict.error:
            details["error"] = verdict.error
        rows.append(
            {
                "expectation": c.name,
                "severity": c.severity,
                "success": verdict.success,
                "observed": m.text,
                "details": json.dumps(details, ensure_ascii=False, default=str),
            }
        )
    return rows


def _missing_file(d: Delivery) -> list[dict]:
    return [
        {
            "expectation": "lake_file_present",
            "severity": CRITICAL,
            "success": False,
            "observed": "the landed delivery has no Parquet file in the lake",
            "details": json.dumps({"file_name": d.file_name}),
        }
    ]


def _verdict(d: Delivery, rows: list[dict]) -> DeliveryCheck:
    failed = [r for r in rows if not r["success"]]
    critical = [f"{r['expectation']}: {r['observed']}" for r in failed if r["severity"] == CRITICAL]
    warning = [f"{r['expectation']}: {r['observed']}" for r in failed if r["severity"] != CRITICAL]
    return DeliveryCheck(d, len(rows) - len(failed), len(warning), len(critical), bool(critical), critical, warning)


def _record(root: DataRoot, d: Delivery, rows: list[dict]) -> DeliveryCheck:
    verdict = _verdict(d, rows)
    with open_ledger(root) as conn:
        store.record(conn, d, rows, "; ".join(verdict.reasons) if verdict.held else None)
    if verdict.held:
        log.info("held back %s: %s", d.file_name, "; ".join(verdict.reasons))
    return verdict


def _by_arrival(d: Delivery) -> tuple:
    return (d.cutoff_date, d.seq)


def _round(
    runtime: GxRuntime, measurer: Measurer, checks: list[Check], deliveries: list[Delivery], run_name: str
) -> dict[str, list[dict]]:
    """Measure the deliveries and validate them in one GX run; sha256 → result rows."""
    measured = {d.sha256: found for d in deliveries if (found := measurer.measure(d)) is not None}
    batch = [d for d in deliveries if d.sha256 in measured]
    verdicts = (
        runtime.validate(measurer.dataset, checks, _metrics_frame(measured, batch, checks), run_name) if batch else {}
    )
    return {
        d.sha256: _result_rows(checks, measured[d.sha256], verdicts, d.sha256)
        if d.sha256 in measured
        else _missing_file(d)
        for d in deliveries
    }


def check_dataset(
    root: DataRoot, runtime: GxRuntime, measurer: Measurer, pending: list[Delivery], stamp: str
) -> list[DeliveryCheck]:
    """Check a dataset's pending deliveries in order. After a hold, the later ones are measured and
    validated again (a new round), now against the last good delivery."""
    checks = suite_checks(measurer.dataset)
    done: list[DeliveryCheck] = []
    remaining, round_no = sorted(pending, key=_by_arrival), 0
    while remaining:
        round_no += 1
        results = _round(runtime, measurer, checks, remaining, f"{stamp} {measurer.dataset} round {round_no}")
        for index, d in enumerate(remaining):
            done.append(_record(root, d, results[d.sha256]))
            if done[-1].held:
                remaining = remaining[index + 1 :]
                break
        else:
            remaining = []
    return done


class _GxStarter(threading.Thread):
    """Imports GX and opens its context (~7 s) while the main thread measures with Polars."""

    def __init__(self, root: DataRoot):
        super().__init__(name="gx-start", daemon=True)
        self.root = root
        self.runtime: GxRuntime | None = None
        self.error: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        started = time.perf_counter()
        try:
            self.runtime = GxRuntime(self.root)
        except BaseException as err:  # handed to the main thread by `result`
            self.error = err
        self.seconds = time.perf_counter() - started

    def result(self) -> GxRuntime:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.runtime is not None
        return self.runtime


def _datasets_in_order(todo: list[Delivery]) -> list[str]:
    """Datasets other datasets refer to first: their holds decide what the others are compared with."""
    first = reference_targets()
    return sorted({d.dataset for d in todo}, key=lambda name: (name not in first, name))


@contextmanager
def _one_check_at_a_time(root: DataRoot) -> Iterator[None]:
    """Landing DAGs may each start a check step: one at a time, so the second finds the first's results
    (and GX's file context is written by one process)."""
    with file_lock(root.root / "checks.lock"):
        yield


def check_pending(root: DataRoot, progress: Progress | None = None) -> CheckSummary:
    """Validate every landed delivery not checked yet; hold back those failing a critical check."""
    with _one_check_at_a_time(root):
        return _check_pending(root, progress)


def _check_pending(root: DataRoot, progress: Progress | None) -> CheckSummary:
    started = time.perf_counter()
    say = progress or (lambda message: log.info(message))
    with open_ledger(root) as conn:
        store.ensure_checks_table(conn)
        todo = [d for d in store.pending(conn) if d.dataset in contract_views()]
    summary = CheckSummary()
    if todo:
        starter = _GxStarter(root)
        starter.start()
        datasets = _datasets_in_order(todo)
        measurers = {name: Measurer(root, name, suite_checks(name)) for name in datasets}
        for number, d in enumerate(todo, 1):
            say(f"measure {number}/{len(todo)}: {d.file_name}")
            began = time.perf_counter()
            measurers[d.dataset].measure_own(d)
            spent = time.perf_counter() - began
            summary.dataset_seconds[d.dataset] = summary.dataset_seconds.get(d.dataset, 0.0) + spent
        say("starting Great Expectations …")
        waited = time.perf_counter()
        runtime = starter.result()
        summary.gx_start_seconds, summary.gx_wait_seconds = starter.seconds, time.perf_counter() - waited
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        for number, dataset in enumerate(datasets, 1):
            say(f"validate {number}/{len(datasets)}: {dataset}")
            began = time.perf_counter()
            summary.deliveries += check_dataset(
                root, runtime, measurers[dataset], [d for d in todo if d.dataset == dataset], stamp
            )
            summary.dataset_seconds[dataset] += time.perf_counter() - began
        say("writing Data Docs …")
        began = time.perf_counter()
        summary.docs = runtime.build_docs()
        summary.docs_seconds = time.perf_counter() - began
    export_deliveries(root)
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass(frozen=True)
class HoldInForce:
    file_name: str
    dataset: str
    cutoff_date: str
    sha256: str
    held_at: str
    reason: str


def holds_in_force(root: DataRoot) -> list[HoldInForce]:
    with open_ledger(root) as conn:
        rows = store.held(conn)
    return [
        HoldInForce(r["file_name"] or "", r["dataset"], r["cutoff_date"], r["sha256"], r["held_at"], r["reason"] or "")
        for r in rows
    ]


class ReleaseError(LookupError):
    """No hold in force matches what was asked to release (or more than one delivery does)."""


def release(root: DataRoot, sha256_or_file_name: str, by: str, note: str) -> str:
    """Release a held delivery deliberately; it is in use again from the next build. Returns its sha256."""
    if not by.strip() or not note.strip():
        raise ValueError("a release names who releases it (--by) and why (--note)")
    with open_ledger(root) as conn:
        matches = store.find_held(conn, sha256_or_file_name)
        shas = {m["sha256"] for m in matches}
        if len(shas) != 1:
            found = "no hold in force" if not shas else f"{len(shas)} held deliveries"
            raise ReleaseError(f"{sha256_or_file_name!r}: {found} matches; name the file or its sha256")
        for m in matches:
            store.release_hold(conn, m["hold_id"], by.strip(), note.strip())
    export_deliveries(root)
    sha = shas.pop()
    log.info("released %s by %s: %s", sha, by, note)
    return sha
