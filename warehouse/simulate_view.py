"""Rich tables of a what-if (warehouse/simulate.py) for the `safetynet simulate` command."""

from __future__ import annotations

import polars as pl
from rich.table import Table

from ingestion.settings import DataRoot
from warehouse.simulate import Backtest, Simulation

MAX_ROWS = 60  # a terminal table, not a report: the notebook shows everything


def county_names(root: DataRoot) -> dict[str, str]:
    """County code → name from the effective reference data (370000 = the province)."""
    from ingestion.reference import PROVINCE_DISPATCH_COUNTY, load_reference

    try:
        names = dict(load_reference(root).counties().select("county_code", "county_name").iter_rows())
    except Exception:  # noqa: BLE001 - names are a nicety; codes alone still read
        names = {}
    names[PROVINCE_DISPATCH_COUNTY] = "省级"
    return names


def _signed(n: int, sign: str) -> str:
    return f"{sign}{n}" if n else "·"


def changes_line(result: Simulation | Backtest) -> str:
    """`W01.amount (w01_floor): 20000 → 15000 — the whole province`: each change with the value it replaces."""
    where = f"county {result.county} only" if result.county else "the whole province"
    shown = []
    for change in result.changes:
        name = change.name if change.name == change.parameter else f"{change.name} ({change.parameter})"
        before = result.before.get(change.parameter, "?")
        shown.append(f"{name}: {before} → {format(change.value, 'f')}")
    return "; ".join(shown) + f" — {where}"


def simulation_tables(result: Simulation, names: dict[str, str]) -> list[Table]:
    """By rule and level over the province, then by county (changed rows only)."""
    summary = Table(title=f"warnings of the run of {result.run_date}: as run → simulated", title_justify="left")
    for column in ("rule", "level", "as run", "simulated", "gained", "lost"):
        summary.add_column(column, justify="left" if column in ("rule", "level") else "right")
    for r in result.by_rule().iter_rows(named=True):
        summary.add_row(r["rule"], r["level"], str(r["before"]), str(r["after"]),
                        _signed(r["gained"], "+"), _signed(r["lost"], "−"))  # fmt: skip
    changed = result.changed()
    by_county = Table(title="by county (only where something changes)", title_justify="left")
    for column in ("county", "rule", "level", "as run", "simulated", "gained", "lost", "overdue"):
        by_county.add_column(column, justify="left" if column in ("county", "rule", "level") else "right")
    for r in changed.head(MAX_ROWS).iter_rows(named=True):
        overdue = f"{r['overdue_before']} → {r['overdue_after']}" if r["overdue_before"] != r["overdue_after"] else ""
        by_county.add_row(f"{r['county_code']} {names.get(r['county_code'], '')}".strip(), r["rule"], r["level"],
                          str(r["before"]), str(r["after"]), _signed(r["gained"], "+"), _signed(r["lost"], "−"),
                          overdue)  # fmt: skip
    if changed.height > MAX_ROWS:
        by_county.caption = f"… and {changed.height - MAX_ROWS} more rows"
    return [summary, by_county]


def totals_line(result: Simulation) -> str:
    diff = result.by_county()
    gained, lost = int(diff["gained"].sum()), int(diff["lost"].sum())
    before, after = int(diff["before"].sum()), int(diff["after"].sum())
    return (
        f"{before} warnings held at {result.run_date} → {after} simulated (+{gained} gained, −{lost} lost); "
        f"{result.mode}, {result.seconds} s. The register, the warehouse and the published mart are unchanged."
    )


def backtest_tables(result: Backtest) -> list[Table]:
    """Per run: raised and held as run and simulated; then the warnings whose raising changes."""
    per_run = Table(title="past runs replayed with the changes", title_justify="left")
    for column in ("run", "rule", "level", "raised as run", "raised simulated", "held as run", "held simulated"):
        per_run.add_column(column, justify="left" if column in ("run", "rule", "level") else "right")
    frame = result.per_run()
    differs = (
        frame.filter(
            (pl.col("raised_before") != pl.col("raised_after")) | (pl.col("held_before") != pl.col("held_after"))
        )
        if frame.height
        else frame
    )
    for r in differs.head(MAX_ROWS).iter_rows(named=True):
        per_run.add_row(r["run_date"].isoformat(), r["rule"], r["level"], str(r["raised_before"]),
                        str(r["raised_after"]), str(r["held_before"]), str(r["held_after"]))  # fmt: skip
    timeline = result.timeline().filter(pl.col("change") != "same")
    when = Table(title="warnings raised differently (when, as run → simulated)", title_justify="left")
    for column in ("change", "rule", "county", "raised as run", "raised simulated", "warnings"):
        when.add_column(column, justify="right" if column == "warnings" else "left")
    grouped = (
        timeline.group_by("change", "rule", "county_code", "raised_before", "raised_after")
        .agg(pl.len().alias("n"))
        .sort("raised_after", "raised_before", "rule", "county_code", nulls_last=True)
    )
    for r in grouped.head(MAX_ROWS).iter_rows(named=True):
        when.add_row(r["change"], r["rule"], r["county_code"], _date(r["raised_before"]), _date(r["raised_after"]),
                     str(r["n"]))  # fmt: skip
    return [per_run, when]


def _date(value: object) -> str:
    return value.isoformat() if value is not None else "—"  # type: ignore[attr-defined]
