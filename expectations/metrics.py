"""Measure a delivery (Polars): one figure per metric of its suite, with the words that explain it.

Within-delivery metrics (duplicate keys, empty rows, unknown values, dates, ranges, shares, orphans)
come from one `select` over the delivery's rows. Cross-delivery metrics (row change, fill drop,
median ratio) compare the delivery's profile with the previous good delivery's. A metric that cannot
be measured (no previous delivery, no values, no reference roster) is None: GX passes it, and its
text says why it was not compared.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from expectations import checks as k
from expectations.checks import Metric
from expectations.contract_view import ContractView
from expectations.thresholds import THRESHOLDS as T
from ingestion.contract_suite import DatasetSuite

EXAMPLES = 5
NO_PREVIOUS = "not compared: no previous good delivery of this dataset"


@dataclass(frozen=True)
class Profile:
    """What a later delivery of the same dataset is compared with."""

    rows: int
    fill: dict[str, float] = field(default_factory=dict)  # optional column → share of filled values
    medians: dict[str, float | None] = field(default_factory=dict)  # amount → median of its basis


@dataclass(frozen=True)
class Previous:
    file_name: str
    profile: Profile


@dataclass(frozen=True)
class Target:
    """The roster a reference points to (same cut-off), or why there is none."""

    dataset: str
    keys: pl.Series | None
    file_name: str | None = None


@dataclass
class Measured:
    value: float | None
    text: str
    details: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- profiles


def optional_columns(view: ContractView) -> list[str]:
    return [c.name for c in view.columns if not c.required and not c.has_default]


def basis_expr(column: str, only_when: tuple[tuple[str, tuple[str, ...]], ...]) -> pl.Expr:
    """The amounts whose median is watched: positive, and only rows matching `only_when`."""
    amount = pl.col(column).cast(pl.Float64)
    keep = amount > 0
    for other, values in only_when:
        keep = keep & pl.col(other).is_in(list(values))
    return pl.when(keep).then(amount).otherwise(None)


def profile_columns(view: ContractView, rules: DatasetSuite) -> list[str]:
    """The columns `profile` reads (so a previous delivery is read only in part)."""
    basis = [c for b in rules.medians for c in (b.column, *(other for other, _ in b.only_when))]
    return list(dict.fromkeys([*optional_columns(view), *basis]))


def profile(frame: pl.DataFrame, view: ContractView, rules: DatasetSuite) -> Profile:
    optional = [c for c in optional_columns(view) if c in frame.columns]
    exprs = [pl.col(c).is_not_null().mean().alias(f"fill:{c}") for c in optional]
    exprs += [basis_expr(b.column, b.only_when).median().alias(f"median:{b.column}") for b in rules.medians]
    row = frame.select(exprs).row(0, named=True) if exprs and frame.height else {}
    return Profile(
        rows=frame.height,
        fill={c: float(row.get(f"fill:{c}") or 0.0) for c in optional},
        medians={b.column: _finite(row.get(f"median:{b.column}")) for b in rules.medians},
    )


def _finite(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


# ---------------------------------------------------------------- within one delivery


def age_on(born: dt.date, day: dt.date) -> int:
    """Completed years on `day`."""
    return day.year - born.year - ((born.month, born.day) > (day.month, day.day))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def born_bounds(cutoff: dt.date, youngest_age: float, oldest_age: float) -> tuple[dt.date, dt.date]:
    """Birth dates giving an age within [youngest, oldest] at the cut-off: born on or before the
    first, and after the day `oldest + 1` years before the cut-off (born on it: already oldest + 1)."""
    latest = _years_before(cutoff, int(youngest_age))
    earliest = _years_before(cutoff, int(oldest_age) + 1) + dt.timedelta(days=1)
    return latest, earliest


def _key_duplicated(columns: tuple[str, ...]) -> pl.Expr:
    return pl.struct(list(columns)).is_duplicated() if len(columns) > 1 else pl.col(columns[0]).is_duplicated()


def _outside(value: pl.Expr, low: float | None, high: float | None) -> pl.Expr:
    return (value < (low if low is not None else -math.inf)) | (value > (high if high is not None else math.inf))


def _aggregates(m: Metric, cutoff: dt.date, targets: dict[str, Target]) -> dict[str, pl.Expr]:
    """Named aggregate expressions of one metric (`<metric>:<part>`)."""
    c = pl.col(m.columns[0]) if m.columns else None
    n = m.name
    if m.kind in (k.DUPLICATE_KEY_ROWS, k.DUPLICATE_KEY_SHARE):
        return {f"{n}:count": _key_duplicated(m.columns).sum()}
    if m.kind == k.NULL_ROWS:
        return {f"{n}:count": c.null_count()}
    if m.kind == k.UNKNOWN_VALUES:
        return {f"{n}:count": (c.is_not_null() & ~c.is_in(list(m.values))).sum()}
    if m.kind in (k.DAYS_AFTER_CUTOFF, k.EARLIEST_YEAR):
        return {f"{n}:max": c.max(), f"{n}:min": c.min()}
    if m.kind == k.OUT_OF_RANGE_ROWS:
        x = c.cast(pl.Float64)
        return {f"{n}:count": _outside(x, m.low, m.high).sum(), f"{n}:min": x.min(), f"{n}:max": x.max()}
    if m.kind == k.AGE_OUT_OF_RANGE_ROWS:  # compared as birth dates: a fraction of the cost of ages
        youngest, oldest = born_bounds(cutoff, m.low or 0, m.high or 0)
        return {f"{n}:count": ((c > youngest) | (c < oldest)).sum(), f"{n}:min": c.max(), f"{n}:max": c.min()}
    if m.kind == k.SHARE_TRUE:
        return {f"{n}:count": c.cast(pl.Int64).sum()}
    if m.kind == k.MISORDERED_ROWS:
        return {f"{n}:count": (pl.col(m.columns[0]) < pl.col(m.columns[1])).sum()}
    if m.kind == k.PATTERN_MISMATCH_ROWS:
        return {f"{n}:count": (~c.cast(pl.String).str.contains(m.pattern or "")).sum()}
    if m.kind == k.ORPHAN_SHARE:
        target = targets.get(m.name)
        if target is None or target.keys is None:
            return {}
        return {f"{n}:count": (c.is_not_null() & ~c.is_in(target.keys.implode())).sum()}
    return {}


def _examples(frame: pl.DataFrame, m: Metric, targets: dict[str, Target]) -> list[Any]:
    """A few offending values (keys, codes: never an ID number or a name, which the lake lacks)."""
    c = pl.col(m.columns[0]) if m.columns else None
    if m.private:
        return []
    if m.kind in (k.DUPLICATE_KEY_ROWS, k.DUPLICATE_KEY_SHARE):
        bad = frame.filter(_key_duplicated(m.columns)).select(m.columns).unique(maintain_order=True)
        return [row if len(row) > 1 else row[0] for row in bad.head(EXAMPLES).rows()]
    if m.kind == k.UNKNOWN_VALUES:
        bad = frame.filter(c.is_not_null() & ~c.is_in(list(m.values)))
    elif m.kind == k.PATTERN_MISMATCH_ROWS:
        bad = frame.filter(~c.cast(pl.String).str.contains(m.pattern or ""))
    elif m.kind == k.ORPHAN_SHARE:
        keys = targets[m.name].keys
        assert keys is not None
        bad = frame.filter(c.is_not_null() & ~c.is_in(keys.implode()))
    else:
        return []
    return bad.get_column(m.columns[0]).unique(maintain_order=True).head(EXAMPLES).cast(pl.String).to_list()


def measure_delivery(
    frame: pl.DataFrame, cutoff: dt.date, metrics: list[Metric], targets: dict[str, Target]
) -> dict[str, Measured]:
    """Every within-delivery metric, from one pass over the rows."""
    present = set(frame.columns)
    measurable = [m for m in metrics if m.kind not in k.COMPARES_PREVIOUS and set(m.columns) <= present]
    exprs = {name: e for m in measurable for name, e in _aggregates(m, cutoff, targets).items()}
    row = frame.select(**exprs).row(0, named=True) if exprs else {}
    out: dict[str, Measured] = {}
    for m in metrics:
        if m.kind in k.COMPARES_PREVIOUS:
            continue
        if not set(m.columns) <= present:
            out[m.name] = Measured(
                None, f"not measured: {', '.join(sorted(set(m.columns) - present))} missing from the lake file"
            )
            continue
        out[m.name] = _finish(m, row, frame.height, cutoff, targets)
        if (out[m.name].value or 0) > 0 and m.kind in (
            k.DUPLICATE_KEY_ROWS,
            k.DUPLICATE_KEY_SHARE,
            k.UNKNOWN_VALUES,
            k.PATTERN_MISMATCH_ROWS,
            k.ORPHAN_SHARE,
        ):
            out[m.name].details["examples"] = _examples(frame, m, targets)
    return out


def _count(row: dict[str, Any], m: Metric) -> int:
    return int(row.get(f"{m.name}:count") or 0)


def _finish(m: Metric, row: dict[str, Any], rows: int, cutoff: dt.date, targets: dict[str, Target]) -> Measured:
    finish = _FINISH.get(m.kind)
    if finish is None:
        raise ValueError(f"unknown metric kind {m.kind!r}")
    return finish(m, row, rows, cutoff, targets)


def _rows(m: Metric, row: dict, rows: int, cutoff: dt.date, targets: dict) -> Measured:
    return Measured(float(rows), f"{rows:,} rows")


def _counted(words: str) -> Callable[..., Measured]:
    def finish(m: Metric, row: dict, rows: int, cutoff: dt.date, targets: dict) -> Measured:
        n = _count(row, m)
        return Measured(float(n), f"{n:,} of {rows:,} rows {words}")

    return finish


def _dates(m: Metric, row: dict, rows: int, cutoff: dt.date, targets: dict) -> Measured:
    latest, earliest = row.get(f"{m.name}:max"), row.get(f"{m.name}:min")
    if latest is None:
        return Measured(None, "not evaluated: the column has no values")
    if m.kind == k.DAYS_AFTER_CUTOFF:
        days = (latest - cutoff).days
        return Measured(float(days), f"latest {latest.isoformat()} ({days:+,} days from the cut-off {cutoff})")
    return Measured(float(earliest.year), f"earliest {earliest.isoformat()}")


def _ranged(m: Metric, row: dict, rows: int, cutoff: dt.date, targets: dict) -> Measured:
    n, low, high = _count(row, m), row.get(f"{m.name}:min"), row.get(f"{m.name}:max")
    if m.kind == k.AGE_OUT_OF_RANGE_ROWS and low is not None and high is not None:
        low, high = age_on(low, cutoff), age_on(high, cutoff)  # youngest and oldest birth dates
    seen = f"; observed {low:,g} … {high:,g}" if low is not None and high is not None else ""
    what = "an age" if m.kind == k.AGE_OUT_OF_RANGE_ROWS else "a value"
    return Measured(
        float(n),
        f"{n:,} of {rows:,} rows with {what} outside {m.low:,g} … {m.high:,g}{seen}",
        {"observed_min": low, "observed_max": high},
    )


def _share(m: Metric, row: dict, rows: int, cutoff: dt.date, targets: dict) -> Measured:
    if not rows:
        return Measured(None, "not evaluated: no rows")
    n = _count(row, m)
    return Measured(n / rows, f"{n / rows:.2%} of rows ({n:,} of {rows:,})")


def _orphans(m: Metric, row: dict, rows: int, cutoff: dt.date, targets: dict) -> Measured:
    target = targets.get(m.name)
    if target is None or target.keys is None:
        dataset = target.dataset if target else (m.target or ("?", ""))[0]
        return Measured(None, f"not compared: no good {dataset} delivery of cut-off {cutoff.isoformat()}")
    if not rows:
        return Measured(None, "not evaluated: no rows")
    n = _count(row, m)
    return Measured(
        n / rows, f"{n:,} of {rows:,} rows ({n / rows:.2%}) not in {target.file_name}", {"target": target.file_name}
    )


_FINISH: dict[str, Callable[..., Measured]] = {
    k.ROWS: _rows,
    k.DUPLICATE_KEY_ROWS: _counted("share a key with another row"),
    k.DUPLICATE_KEY_SHARE: _share,
    k.NULL_ROWS: _counted("empty"),
    k.UNKNOWN_VALUES: _counted("with a value outside the canonical ones"),
    k.DAYS_AFTER_CUTOFF: _dates,
    k.EARLIEST_YEAR: _dates,
    k.OUT_OF_RANGE_ROWS: _ranged,
    k.AGE_OUT_OF_RANGE_ROWS: _ranged,
    k.SHARE_TRUE: _share,
    k.MISORDERED_ROWS: _counted("with the later date first"),
    k.PATTERN_MISMATCH_ROWS: _counted("not matching the pattern"),
    k.ORPHAN_SHARE: _orphans,
}


# ---------------------------------------------------------------- against the previous delivery


def compare(metrics: list[Metric], current: Profile, previous: Previous | None) -> dict[str, Measured]:
    """The cross-delivery metrics: this delivery's profile against the previous good one's."""
    out = {}
    for m in metrics:
        if m.kind not in k.COMPARES_PREVIOUS:
            continue
        out[m.name] = Measured(None, NO_PREVIOUS) if previous is None else _against(m, current, previous)
    return out


def _against(m: Metric, now: Profile, prev: Previous) -> Measured:
    was, name = prev.profile, prev.file_name
    details: dict[str, Any] = {"previous_delivery": name}
    if m.kind in (k.ROWS_CHANGE, k.ROWS_RATIO):
        if not was.rows or (m.kind == k.ROWS_RATIO and was.rows < T.compare_min_rows):
            return Measured(None, f"not compared: {now.rows:,} rows; {name} had only {was.rows:,}", details)
        ratio = now.rows / was.rows
        value, shown = (ratio - 1, f"{ratio - 1:+.1%}") if m.kind == k.ROWS_CHANGE else (ratio, f"×{ratio:.2f}")
        text = f"{now.rows:,} rows, {shown} against {name}: {was.rows:,} rows"
        if m.kind == k.ROWS_CHANGE and abs(now.rows - was.rows) < T.snapshot_change_min_rows:
            value, text = 0.0, f"{text} (fewer than {T.snapshot_change_min_rows} rows apart: not counted)"
        return Measured(value, text, details)
    column = m.columns[0]
    if m.kind == k.FILL_DROP:
        fill, before = now.fill.get(column, 0.0), was.fill.get(column, 0.0)
        text = f"filled {fill:.1%} against {name}: {before:.1%}"
        if min(now.rows, was.rows) < T.compare_min_rows:
            return Measured(None, f"not compared: {text}, fewer than {T.compare_min_rows} rows", details)
        return Measured(before - fill, text, details)
    median, before = now.medians.get(column), was.medians.get(column)
    if median is None or not before:
        return Measured(None, f"not compared: no positive {column} in this delivery or in {name}", details)
    ratio = median / before
    return Measured(ratio, f"median {median:,.2f}, ×{ratio:.2f} against {name}: median {before:,.2f}", details)
