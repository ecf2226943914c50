"""Checks as data: a metric measured on each delivery, and the bounds GX holds it to.

Why aggregates: Polars measures each delivery in one pass (duplicate keys, null rows, shares, medians,
the change against the previous good delivery), and GX validates the resulting metrics frame, one row
per delivery, against the suite's bounds. GX over the full pandas rows took longer than landing
itself at provincial size (bench/bench_checks.py); over the metrics frame it costs one small
validation per dataset per check step, and the thresholds still live in GX suites and Data Docs.

Suites are plain data here (GX takes seconds to import and is imported only in the check step).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["critical", "warning"]
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"

# What a metric measures (computed in `expectations.metrics`):
ROWS = "rows"  # rows in the delivery
ROWS_CHANGE = "rows_change"  # rows / previous rows − 1
ROWS_RATIO = "rows_ratio"  # rows / previous rows
DUPLICATE_KEY_ROWS = "duplicate_key_rows"  # rows whose key occurs more than once
DUPLICATE_KEY_SHARE = "duplicate_key_share"  # share of rows whose key occurs more than once
NULL_ROWS = "null_rows"
UNKNOWN_VALUES = "unknown_values"  # rows with a value outside the enum's canonical values
FILL_DROP = "fill_drop"  # previous share of filled values − this share
DAYS_AFTER_CUTOFF = "days_after_cutoff"  # latest date − cut-off, in days
EARLIEST_YEAR = "earliest_year"
OUT_OF_RANGE_ROWS = "out_of_range_rows"
AGE_OUT_OF_RANGE_ROWS = "age_out_of_range_rows"  # age at the cut-off from the ID's birth date
SHARE_TRUE = "share_true"  # share of rows with a flag set
MISORDERED_ROWS = "misordered_rows"  # rows whose later date is before the earlier one
PATTERN_MISMATCH_ROWS = "pattern_mismatch_rows"
MEDIAN_RATIO = "median_ratio"  # median / previous median (positive amounts, no reversals)
ORPHAN_SHARE = "orphan_share"  # share of rows whose reference is missing from its target
COMPARES_PREVIOUS = frozenset({ROWS_CHANGE, ROWS_RATIO, FILL_DROP, MEDIAN_RATIO})


@dataclass(frozen=True)
class Metric:
    name: str  # the metrics-frame column
    kind: str
    columns: tuple[str, ...] = ()  # delivery columns it reads
    values: tuple[str, ...] = ()  # UNKNOWN_VALUES: the canonical values
    low: float | None = None  # OUT_OF_RANGE_ROWS / AGE_OUT_OF_RANGE_ROWS: the plausible range
    high: float | None = None
    pattern: str | None = None  # PATTERN_MISMATCH_ROWS
    only_when: tuple[tuple[str, tuple[str, ...]], ...] = ()  # MEDIAN_RATIO: (column, values) of rows counted
    target: tuple[str, str] | None = None  # ORPHAN_SHARE: (dataset, column) of the same cut-off
    private: bool = False  # its offending values identify people (a VIN, a unit number): counted, never listed


@dataclass(frozen=True)
class Check:
    """One expectation: `low ≤ metric ≤ high` (a bound may be open)."""

    name: str  # unique within its suite; the `expectation` column of the ledger's `checks` table
    severity: Severity
    metric: Metric
    low: float | None
    high: float | None
    description: str = ""


def unique_names(checks: Iterable[Check]) -> list[Check]:
    """The checks, refusing two of the same name (their ledger rows would overwrite each other) and
    two metrics of one name measuring different things."""
    seen: set[str] = set()
    metrics: dict[str, Metric] = {}
    out = []
    for check in checks:
        if check.name in seen:
            raise ValueError(f"two checks named {check.name!r}")
        if metrics.setdefault(check.metric.name, check.metric) != check.metric:
            raise ValueError(f"two metrics named {check.metric.name!r}")
        seen.add(check.name)
        out.append(check)
    return out


def metrics_of(checks: Iterable[Check]) -> list[Metric]:
    return list({c.metric.name: c.metric for c in checks}.values())
