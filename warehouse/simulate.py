"""Threshold what-if: recompute a run's warnings with changed rule parameters, touching nothing real.

    changes = parse_changes(["W01.amount=15000"])
    result = simulate(root, changes, county=None, run_date=None)   # the latest run
    result.by_county()      # gained / lost per county, rule and level
    history = backtest(root, changes)                               # every past run, in order

The simulation runs in a scratch data root (warehouse/simulate_scratch.py) whose `reference/` carries the
changed parameters. For the run the warehouse was last built at, it copies the warehouse and rebuilds only
the models between the parameters and `fct_warnings`; for any other run date it builds `+fct_warnings` from
the lake into an empty scratch file. The baseline is the register the run saved in the ledger, so the
comparison is "this run as it was" against "this run with other thresholds". The real warehouse, ledger,
register and published mart are only ever read.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from ingestion.settings import DataRoot
from warehouse.simulate_scratch import Override, ScratchError

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

# Friendly names (RULE.what) → rule_parameters.csv names. Raw names of these parameters work too.
FRIENDLY_NAMES: dict[str, str] = {
    "W01.amount": "w01_floor",
    "W01.share": "w01_income_share",
    "W01.red": "w01_red",
    "W03.months": "w03_registration_months",
    "W03.lookback": "w03_lookback_months",
    "W03.min_months": "w03_min_contribution_months",
    "W03.gap": "w03_gap_months",
    "W04.amount": "w04_orange_loss",
    "W05.months": "w05_months",
    "W05.tekun": "w05_tekun_multiplier",
    "W06.grace": "w06_grace_months",
    "W08.age_min": "w08_student_age_min",
    "W08.age_max": "w08_student_age_max",
    "W08.amount": "w08_self_paid",
    "W09.vehicles": "edge_max_vehicles",
    "W10.dwellings": "edge_max_extra_properties",
    "W11.capital": "w11_capital",
    "D01.amount": "d01_self_paid",
    "D02.amount": "d02_loss",
    "age.min": "working_age_min",
    "age.max": "working_age_max",
    "deadline.red": "deadline_red_working_days",
    "deadline.orange": "deadline_orange_working_days",
    "deadline.yellow": "deadline_yellow_working_days",
    "medical.months": "medical_window_months",
    "reraise.growth": "reraise_growth",
    "reraise.months": "reraise_months",
}
WARNING_PARAMETERS = frozenset(FRIENDLY_NAMES.values())
# dbt selection: for the run the warehouse holds, only what lies between the parameters and the register
SELECT_CHANGED = "stg_reference__parameters+,+fct_warnings"
SELECT_ALL = "+fct_warnings"
LEVELS = ("红", "橙", "黄")
PROVINCE_COUNTY = "370000"


class SimulationError(ValueError):
    """A what-if that cannot be run as asked; the message says why (and lists valid names)."""


@dataclass(frozen=True)
class Change:
    """One `--set NAME=VALUE`: the name as given, the parameter it means, and the value."""

    name: str
    parameter: str
    value: Decimal

    def __str__(self) -> str:
        shown = self.name if self.name == self.parameter else f"{self.name} ({self.parameter})"
        return f"{shown} = {format(self.value, 'f')}"


def valid_names() -> list[str]:
    return sorted(FRIENDLY_NAMES, key=str.lower) + sorted(WARNING_PARAMETERS)


def parse_changes(settings: Iterable[str]) -> list[Change]:
    """`["W01.amount=15000", "d01_self_paid=40000"]` → changes; SimulationError on a bad name or value."""
    changes: dict[str, Change] = {}
    for setting in settings:
        name, sep, raw = setting.partition("=")
        if not sep or not name.strip() or not raw.strip():
            raise SimulationError(f"--set {setting!r}: expected NAME=VALUE, e.g. W01.amount=15000")
        change = Change(name.strip(), resolve_name(name.strip()), parse_value(name.strip(), raw.strip()))
        if change.parameter in changes:
            raise SimulationError(f"{change.parameter} is set twice ({changes[change.parameter].name}, {name})")
        changes[change.parameter] = change
    if not changes:
        raise SimulationError("nothing to simulate: give at least one --set NAME=VALUE")
    return list(changes.values())


def resolve_name(name: str) -> str:
    """A friendly name (any case) or a raw parameter name → the parameter of rule_parameters.csv."""
    folded = {friendly.lower(): raw for friendly, raw in FRIENDLY_NAMES.items()}
    if name.lower() in folded:
        return folded[name.lower()]
    if name in WARNING_PARAMETERS:
        return name
    from ingestion.reference import shipped_parameters

    if name in shipped_parameters():
        raise SimulationError(
            f"{name} is an identification parameter: it changes no warning (simulate recomputes warnings only). "
            f"Valid names: {', '.join(valid_names())}"
        )
    raise SimulationError(f"unknown parameter {name!r}. Valid names: {', '.join(valid_names())}")


def parse_value(name: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw.replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise SimulationError(f"{name}={raw}: not a number") from None
    if not value.is_finite() or value < 0:
        raise SimulationError(f"{name}={raw}: must be a number ≥ 0")
    return value


def _check_county(county: str | None) -> None:
    if county is not None and not (len(county) == 6 and county.isdigit()):
        raise SimulationError(f"--county {county!r}: expected a 6-digit county code such as 370102")


def _overrides(changes: Sequence[Change], county: str | None) -> list[Override]:
    return [Override(c.parameter, c.value, county) for c in changes]


# --- comparison ---------------------------------------------------------------------------------------


def held_at(register: pl.DataFrame, run_date: dt.date) -> pl.DataFrame:
    """Warnings whose trigger holds at the run (last_run_date = run date): warning_id, county, rule, level."""
    return register.filter(pl.col("last_run_date") == run_date).select(
        "warning_id",
        pl.col("county_code").fill_null(PROVINCE_COUNTY),
        (pl.col("rule_code") + pl.col("sub_case").fill_null("")).alias("rule"),
        "level",
        (pl.col("status") == "逾期").alias("overdue"),
    )


def compare_warnings(before: pl.DataFrame, after: pl.DataFrame, run_date: dt.date) -> pl.DataFrame:
    """Per county, rule (with sub-case) and level: warnings before and after, gained and lost, overdue.

    A warning whose level changes is lost at its old level and gained at its new one.
    """
    joined = (
        held_at(before, run_date)
        .join(held_at(after, run_date), on="warning_id", how="full", coalesce=True, suffix="_after")
        .with_columns(
            pl.coalesce("county_code_after", "county_code").alias("county"),
            pl.coalesce("rule_after", "rule").alias("rule_any"),
        )
    )
    old, new = pl.col("level"), pl.col("level_after")
    keys = ["county_code", "rule", "level"]
    parts = [
        _count(joined, old, old.is_not_null(), "before"),
        _count(joined, new, new.is_not_null(), "after"),
        _count(joined, new, new.is_not_null() & (old.is_null() | (old != new)), "gained"),
        _count(joined, old, old.is_not_null() & (new.is_null() | (old != new)), "lost"),
        _count(joined, old, pl.col("overdue").fill_null(False), "overdue_before"),
        _count(joined, new, pl.col("overdue_after").fill_null(False), "overdue_after"),
    ]
    out = parts[0]
    for part in parts[1:]:
        out = out.join(part, on=keys, how="full", coalesce=True)
    counts = ["before", "after", "gained", "lost", "overdue_before", "overdue_after"]
    return _sorted(out.with_columns(pl.col(counts).fill_null(0)).select(*keys, *counts))


def _count(joined: pl.DataFrame, level: pl.Expr, mask: pl.Expr, name: str) -> pl.DataFrame:
    return (
        joined.filter(mask)
        .group_by(pl.col("county").alias("county_code"), pl.col("rule_any").alias("rule"), level.alias("level"))
        .agg(pl.len().cast(pl.Int64).alias(name))
    )


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    rank = pl.col("level").replace_strict({lvl: i for i, lvl in enumerate(LEVELS)}, default=len(LEVELS))
    return frame.sort("county_code", "rule", rank)


def by_rule(diff: pl.DataFrame) -> pl.DataFrame:
    """The per-county comparison summed over counties: rule, level, before, after, gained, lost."""
    counts = [c for c in diff.columns if c not in ("county_code", "rule", "level")]
    summed = diff.group_by("rule", "level").agg(pl.col(counts).sum())
    return _sorted(summed.with_columns(pl.lit("").alias("county_code"))).drop("county_code")


# --- one run ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    run_date: dt.date
    changes: list[Change]
    county: str | None
    mode: str  # "copy": the warehouse copied, parameter-dependent models rebuilt; "rebuild": from the lake
    baseline: pl.DataFrame  # the register the run saved (ledger)
    simulated: pl.DataFrame  # fct_warnings recomputed with the changes
    seconds: float
    before: dict[str, str] = field(default_factory=dict)  # parameter → the value(s) in force at the run

    def by_county(self) -> pl.DataFrame:
        return compare_warnings(self.baseline, self.simulated, self.run_date)

    def by_rule(self) -> pl.DataFrame:
        return by_rule(self.by_county())

    def changed(self) -> pl.DataFrame:
        diff = self.by_county()
        return diff.filter(
            (pl.col("gained") > 0) | (pl.col("lost") > 0) | (pl.col("overdue_before") != pl.col("overdue_after"))
        )


def simulate(
    root: DataRoot,
    changes: Sequence[Change],
    *,
    county: str | None = None,
    run_date: dt.date | None = None,
    workdir: Path | None = None,
    progress: Progress | None = None,
) -> Simulation:
    """Recompute the warnings of `run_date` (default: the latest run) with `changes`."""
    from warehouse.simulate_scratch import default_workdir, scratch_root

    _check_county(county)
    say = progress or (lambda message: log.info(message))
    started = time.perf_counter()
    with scratch_root(workdir or default_workdir(root)) as scratch:
        say("copying the ledger")
        dates = _prepare(root, scratch, changes, county)
        date = _pick_date(dates, run_date)
        baseline = _register(scratch, date)
        mode = _build(root, scratch, date, say, fast=True)
        simulated = _read_simulated(scratch)
    before = values_in_force(root, changes, county, date)
    seconds = round(time.perf_counter() - started, 1)
    return Simulation(date, list(changes), county, mode, baseline, simulated, seconds, before)


def _prepare(root: DataRoot, scratch: DataRoot, changes: Sequence[Change], county: str | None) -> list[dt.date]:
    """Link the lake, copy the ledger, write the overrides; returns the run dates with a saved register."""
    from warehouse.simulate_scratch import copy_ledger, link_lake, write_overrides

    try:
        link_lake(root, scratch)
        copy_ledger(root, scratch)
    except ScratchError as err:
        raise SimulationError(str(err)) from None
    write_overrides(root, scratch, _overrides(changes, county))
    dates = run_dates(scratch)
    if not dates:
        raise SimulationError(f"the ledger of {root.root} holds no run's register: run `safetynet run` first")
    return dates


def _pick_date(dates: list[dt.date], wanted: dt.date | None) -> dt.date:
    if wanted is None:
        return dates[-1]
    if wanted not in dates:
        shown = ", ".join(d.isoformat() for d in dates)
        raise SimulationError(f"no run at {wanted} in the ledger; runs: {shown}")
    return wanted


def run_dates(root: DataRoot) -> list[dt.date]:
    """Run dates whose register the ledger holds, restricted to succeeded runs when it records runs."""
    from ingestion.ledger import open_ledger

    with open_ledger(root) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "warning_register" not in tables:
            return []
        saved = {r[0] for r in conn.execute("SELECT DISTINCT run_date FROM warning_register")}
        if "runs" in tables:
            succeeded = {r[0] for r in conn.execute("SELECT run_date FROM runs WHERE status = 'succeeded'")}
            saved = saved & succeeded if saved & succeeded else saved
    return sorted(dt.date.fromisoformat(d) for d in saved)


def _register(scratch: DataRoot, run_date: dt.date) -> pl.DataFrame:
    from warehouse.register import load_register

    return load_register(scratch, run_date)


def _build(root: DataRoot, scratch: DataRoot, run_date: dt.date, say: Progress, *, fast: bool) -> str:
    """Build the scratch register at `run_date`; returns the mode used."""
    from warehouse.simulate_scratch import copy_warehouse, remove_warehouse

    _write_inputs(scratch, run_date)
    if fast:
        say("copying the warehouse")
        if copy_warehouse(root, scratch) and _warehouse_run_date(scratch) == run_date:
            say(f"recomputing the warnings of {run_date}")
            _run_dbt(scratch, run_date, SELECT_CHANGED)
            return "copy"
    remove_warehouse(scratch)
    say(f"building the warnings of {run_date} from the lake")
    _run_dbt(scratch, run_date, SELECT_ALL)
    return "rebuild"


def _write_inputs(scratch: DataRoot, run_date: dt.date) -> None:
    """What the build writes beside the landed rows, here into the scratch lake."""
    from ingestion.ledger import export_deliveries
    from ingestion.reference import ReferenceError
    from warehouse.build import write_reference
    from warehouse.register import export_previous_register

    export_deliveries(scratch)
    try:
        write_reference(scratch, run_date)
    except ReferenceError as err:
        raise SimulationError(f"the changed parameters are not valid: {err}") from None
    export_previous_register(scratch, run_date)


def _run_dbt(scratch: DataRoot, run_date: dt.date, select: str) -> None:
    from warehouse.build import run_dbt

    run_dbt(scratch, run_date, "run", select=select)


def _warehouse_run_date(scratch: DataRoot) -> dt.date | None:
    import duckdb

    try:
        with duckdb.connect(str(scratch.warehouse_db), read_only=True) as conn:
            row = conn.execute("SELECT max(run_date) FROM main.fct_warnings").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def _read_simulated(scratch: DataRoot) -> pl.DataFrame:
    from warehouse.build import read_register

    return read_register(scratch)


# --- backtest -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backtest:
    changes: list[Change]
    county: str | None
    run_dates: list[dt.date]
    baselines: dict[dt.date, pl.DataFrame] = field(repr=False)
    simulated: dict[dt.date, pl.DataFrame] = field(repr=False)
    seconds: float = 0.0
    before: dict[str, str] = field(default_factory=dict)  # parameter → the value(s) in force at the last run

    def per_run(self) -> pl.DataFrame:
        """For each run, rule and level: warnings raised (first raised at that run) and held, as run and simulated."""
        frames = []
        for date in self.run_dates:
            actual = _raised_and_held(self.baselines[date], date).rename(
                {"raised": "raised_before", "held": "held_before"}
            )
            sim = _raised_and_held(self.simulated[date], date).rename({"raised": "raised_after", "held": "held_after"})
            joined = actual.join(sim, on=["rule", "level"], how="full", coalesce=True)
            frames.append(joined.with_columns(pl.lit(date).alias("run_date")))
        if not frames:
            return pl.DataFrame()
        counts = ["raised_before", "raised_after", "held_before", "held_after"]
        out = pl.concat(frames, how="diagonal_relaxed").with_columns(pl.col(counts).fill_null(0).cast(pl.Int64))
        rank = pl.col("level").replace_strict({lvl: i for i, lvl in enumerate(LEVELS)}, default=len(LEVELS))
        return out.select("run_date", "rule", "level", *counts).sort("run_date", "rule", rank)

    def timeline(self) -> pl.DataFrame:
        """Every warning raised in either history: when it was raised as run and as simulated, and the change
        (gained: only simulated; lost: only as run; earlier / later; same)."""
        actual = _first_raised(self.baselines).rename({"raised_on": "raised_before", "level": "level_before"})
        sim = _first_raised(self.simulated).rename({"raised_on": "raised_after", "level": "level_after"})
        keys = ["warning_id", "rule", "county_code"]
        joined = actual.join(sim, on=keys, how="full", coalesce=True)
        before, after = pl.col("raised_before"), pl.col("raised_after")
        change = (
            pl.when(before.is_null()).then(pl.lit("gained"))
            .when(after.is_null()).then(pl.lit("lost"))
            .when(after < before).then(pl.lit("earlier"))
            .when(after > before).then(pl.lit("later"))
            .otherwise(pl.lit("same"))
        )  # fmt: skip
        return joined.with_columns(change.alias("change")).sort("warning_id")


def _raised_and_held(register: pl.DataFrame, run_date: dt.date) -> pl.DataFrame:
    rule = (pl.col("rule_code") + pl.col("sub_case").fill_null("")).alias("rule")
    return register.group_by(rule, "level").agg(
        (pl.col("raised_on") == run_date).sum().cast(pl.Int64).alias("raised"),
        (pl.col("last_run_date") == run_date).sum().cast(pl.Int64).alias("held"),
    )


def _first_raised(registers: dict[dt.date, pl.DataFrame]) -> pl.DataFrame:
    """Each warning of a history with the run that first raised it and its level then."""
    frames = [
        register.filter(pl.col("raised_on") == date).select(
            "warning_id",
            (pl.col("rule_code") + pl.col("sub_case").fill_null("")).alias("rule"),
            pl.col("county_code").fill_null(PROVINCE_COUNTY),
            "level",
            "raised_on",
        )
        for date, register in sorted(registers.items())
    ]
    schema = {"warning_id": pl.String, "rule": pl.String, "county_code": pl.String, "level": pl.String,
              "raised_on": pl.Date}  # fmt: skip
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).sort("raised_on").unique("warning_id", keep="first")


def backtest(
    root: DataRoot,
    changes: Sequence[Change],
    *,
    county: str | None = None,
    until: dt.date | None = None,
    workdir: Path | None = None,
    progress: Progress | None = None,
) -> Backtest:
    """Replay every past run of the ledger (up to `until`) in order with `changes`, each run carrying the
    simulated register of the one before, as the real runs did."""
    from warehouse.register import save_register
    from warehouse.simulate_scratch import default_workdir, scratch_root

    _check_county(county)
    say = progress or (lambda message: log.info(message))
    started = time.perf_counter()
    with scratch_root(workdir or default_workdir(root)) as scratch:
        dates = [d for d in _prepare(root, scratch, changes, county) if until is None or d <= until]
        if not dates:
            raise SimulationError(f"no run at or before {until} in the ledger")
        baselines = {date: _register(scratch, date) for date in dates}
        simulated: dict[dt.date, pl.DataFrame] = {}
        for i, date in enumerate(dates, start=1):
            say(f"run {i}/{len(dates)}: {date}")
            _build(root, scratch, date, say, fast=False)
            simulated[date] = _read_simulated(scratch)
            save_register(scratch, date, simulated[date])  # the scratch ledger: the next run carries it on
    before = values_in_force(root, changes, county, dates[-1])
    return Backtest(list(changes), county, dates, baselines, simulated, round(time.perf_counter() - started, 1), before)


def values_in_force(root: DataRoot, changes: Sequence[Change], county: str | None, on: dt.date) -> dict[str, str]:
    """What each changed parameter is now, at the run date: the county's value with `county`, else the
    province's values (one value, or the range when city or county overrides differ)."""
    from ingestion.reference import load_reference

    resolved = load_reference(root).parameters_at(on)
    shown = {}
    for change in changes:
        rows = resolved.filter(pl.col("parameter") == change.parameter)
        if county is not None:
            rows = rows.filter(pl.col("county_code") == county)
        values = sorted({Decimal(v).normalize() for v in rows["value"].to_list()})
        if not values:
            shown[change.parameter] = "?"
        elif len(values) == 1:
            shown[change.parameter] = format(values[0], "f")
        else:
            shown[change.parameter] = f"{format(values[0], 'f')}–{format(values[-1], 'f')} (by county)"
    return shown
