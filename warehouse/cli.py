"""The `safetynet` command line: one command per step of a comparison run."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ingestion.settings import DataRoot

app = typer.Typer(help="safetynet: 低收入人口动态监测 data platform.", no_args_is_help=True)
console = Console()

DataOption = typer.Option(None, "--data", help="Data root (default: $SAFETYNET_DATA or ./data).")


def _data_root(data: Optional[Path]) -> DataRoot:
    return DataRoot.from_env(data)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
def generate(
    households: int = typer.Option(2000, help="Number of civil-affairs households."),
    months: int = typer.Option(12, help="Months of history, ending at the run date."),
    seed: int = typer.Option(20261031, help="Random seed: the same seed gives the same province."),
    run_date: str = typer.Option("2026-10-31", help="Run date the ground truth holds for (YYYY-MM-DD)."),
    data: Optional[Path] = DataOption,
) -> None:
    """Generate a synthetic province: an inbox of deliveries and its ground truth."""
    from warehouse.generator import generate_province

    root = _data_root(data)
    summary = generate_province(
        root, households=households, months=months, seed=seed, run_date=dt.date.fromisoformat(run_date)
    )
    console.print(summary)


if __name__ == "__main__":
    app()
