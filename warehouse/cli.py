"""The `safetynet` command line: one command per step of a comparison run."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import typer
from rich.console import Console

from ingestion.settings import DataRoot

app = typer.Typer(help="safetynet: 低收入人口动态监测 data platform.", no_args_is_help=True)
console = Console()

DataOption = typer.Option(None, "--data", help="Data root (default: $SAFETYNET_DATA or ./data).")


def _data_root(data: Path | None) -> DataRoot:
    return DataRoot.from_env(data)


def _refuse(message: str, code: int) -> typer.Exit:
    """Say why a command did nothing, on one line (never wrapped), and exit with `code`."""
    console.print(f"[red]{message}[/red]", soft_wrap=True, markup=True, highlight=False)
    return typer.Exit(code)


EXIT_FAILED, EXIT_BUSY, EXIT_BROKEN_STATE = 1, 3, 4


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
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty inbox and its truth."),
    bad_deliveries: bool = typer.Option(
        False, "--bad-deliveries", help="Also deliver a truncated roster, amounts ×100 and duplicated keys."
    ),
    check: bool | None = typer.Option(
        None, "--check/--no-check", help="Verify the truth independently (default: up to 50,000 households)."
    ),
    data: Path | None = DataOption,
) -> None:
    """Generate a synthetic province: an inbox of deliveries and its ground truth."""
    from synthetic import GenerationError, generate_province

    root = _data_root(data)
    try:
        with console.status(f"Generating {households:,} households, {months} months to {run_date}…"):
            summary = generate_province(
                root, households=households, months=months, seed=seed, run_date=dt.date.fromisoformat(run_date),
                bad_deliveries=bad_deliveries, overwrite=overwrite, check_truth=check,
            )  # fmt: skip
    except GenerationError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from None
    console.print(summary)
    console.print(f"inbox: {root.inbox}\ntruth: {root.truth}")


@app.command()
def land(
    inbox: Path | None = typer.Option(None, "--inbox", help="Inbox folder (default: <data root>/inbox)."),
    dataset: str | None = typer.Option(None, "--dataset", help="Land only this dataset's files."),
    data: Path | None = DataOption,
) -> None:
    """Land every delivered file: archive, check, normalise, pseudonymise, write the lake and the ledger."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from ingestion.landing import land_inbox
    from ingestion.state import BrokenState

    root = _data_root(data)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("landing", total=None)

        def progress(done: int, total: int, file_name: str) -> None:
            bar.update(task, completed=done, total=total, description=file_name or "done")

        try:
            results = land_inbox(root, inbox=inbox, dataset=dataset, progress=progress)
        except BrokenState as broken:  # the secret is missing or another one: nothing was landed
            raise _refuse(str(broken), EXIT_BROKEN_STATE) from None
        except Exception as err:  # the platform itself failed: say so and exit non-zero
            logging.getLogger("safetynet.land").exception("landing failed")
            console.print(f"[red]landing failed: {err}[/red]")
            raise typer.Exit(2) from err
    table = Table(title=f"landed {len(results)} file(s)")
    table.add_column("file", no_wrap=True)
    for column in ("dataset", "landed", "rejected", "skipped", "status"):
        table.add_column(
            column, justify="right" if column in ("landed", "rejected", "skipped") else "left", no_wrap=True
        )
    for r in results:
        table.add_row(
            r.file_name, r.dataset or "", str(r.rows_landed), str(r.rows_rejected), str(r.rows_skipped), r.status
        )
    console.print(table)
    for r in results:
        if r.status in ("rejected", "not_a_dataset", "refused"):
            console.print(f"[yellow]{r.status}[/yellow] {r.reason}")


@app.command()
def export(
    date: str = typer.Option(..., "--date", help="Run date (YYYY-MM-DD) the published mart was built for."),
    report: bool = typer.Option(True, "--report/--no-report", help="Also write the HTML run report."),
    data: Path | None = DataOption,
) -> None:
    """Write the county warning workbooks, the province summary and the run report from the published mart."""
    from warehouse.exports import export_run
    from warehouse.exports.mart import MartBusy, MartMissing, WrongRun

    root = _data_root(data)
    try:
        with console.status("exporting …") as status:
            summary = export_run(root, dt.date.fromisoformat(date), report=report, progress=status.update)
    except (MartBusy, MartMissing, WrongRun) as err:
        raise _refuse(str(err), EXIT_FAILED) from None
    from rich.table import Table

    table = Table("kind", "county", "rows", "file")
    for exported in summary.files:
        table.add_row(exported.kind, exported.county_code or "", str(exported.rows), exported.path.name)
    console.print(table)
    console.print(str(summary), soft_wrap=True)


@app.command()
def feedback(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="Returned workbooks (.xlsx) or CSV."),
    data: Path | None = DataOption,
) -> None:
    """Land returned warning workbooks as feedback; the next run closes the answered warnings."""
    from rich.table import Table

    from warehouse.exports.mart import MartBusy
    from warehouse.feedback import receive_feedback

    try:
        receipts = receive_feedback(_data_root(data), list(files))
    except (ValueError, MartBusy) as error:
        raise _refuse(str(error), EXIT_FAILED) from None
    table = Table(
        "file", "county", "inbox name", "status", "in", "landed", "rejected", "skipped", "not issued / other county"
    )
    for r in receipts:
        counts = r.counts()
        problems = r.problems.get_column("reason").value_counts().iter_rows() if r.problems.height else []
        table.add_row(
            r.source.name, r.county_code or "?", r.inbox_name, r.status,
            *(str(counts[k]) for k in ("rows_in", "rows_landed", "rows_rejected", "rows_skipped")),
            ", ".join(f"{reason} {n}" for reason, n in problems) or "-",
        )  # fmt: skip
    console.print(table)


@app.command()
def check(
    release: str | None = typer.Option(
        None, "--release", help="Release this held delivery (file name or sha256) before checking."
    ),
    by: str | None = typer.Option(None, "--by", help="Who releases it (with --release)."),
    note: str | None = typer.Option(None, "--note", help="Why it is released (with --release)."),
    data: Path | None = DataOption,
) -> None:
    """Validate newly landed deliveries (Great Expectations); hold back those failing a critical check."""
    from expectations.cli_view import check_table, holds_table, release_line
    from expectations.runner import ReleaseError, check_pending, holds_in_force
    from expectations.runner import release as release_delivery

    root = _data_root(data)
    if release is not None:
        if not by or not note:
            console.print("[red]--release needs --by NAME and --note TEXT[/red]")
            raise typer.Exit(2)
        try:
            sha = release_delivery(root, release, by, note)
        except ReleaseError as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(1) from err
        console.print(release_line(release, sha, by))
    with console.status("checking …") as status:
        summary = check_pending(root, progress=status.update)
    console.print(check_table(summary))
    console.print(holds_table(holds_in_force(root)))


@app.command()
def identify(
    date: str = typer.Option(..., "--date", help="Run date (YYYY-MM-DD) the published mart was built for."),
    application: str | None = typer.Option(None, "--application", help="Show this application's trace."),
    data: Path | None = DataOption,
) -> None:
    """认定 results of a run from the published mart: result, 单人保, 临时救助; with --application, its trace."""
    from warehouse.identify import (
        IdentificationUnavailable,
        counts_line,
        find_application,
        read_identifications,
        summary_table,
        trace_view,
    )  # fmt: skip

    run_date = dt.date.fromisoformat(date)
    try:
        frame = read_identifications(_data_root(data), run_date)
        if application is not None:
            console.print(trace_view(find_application(frame, application)))
            return
    except (IdentificationUnavailable, KeyError) as err:
        raise _refuse(err.args[0], EXIT_FAILED) from None
    console.print(summary_table(frame, run_date))
    console.print(counts_line(frame))


def _checked_engine(engine: str | None) -> str:
    """The engine to build on, refused before landing starts when it is unknown or Spark is not installed."""
    from warehouse.engines import resolve_engine, spark_available

    try:
        name = resolve_engine(engine)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--engine") from None
    if name == "spark" and (reason := spark_available()) is not None:
        raise typer.BadParameter(reason, param_hint="--engine")
    return name


@app.command()
def run(
    date: str = typer.Option(..., "--date", help="Run date (YYYY-MM-DD): the comparison is made as of this day."),
    inbox: Path | None = typer.Option(None, help="Inbox to land from (default: <data root>/inbox)."),
    export: bool = typer.Option(True, "--export/--no-export", help="Write the county workbooks and the report."),
    docs: bool = typer.Option(True, "--docs/--no-docs", help="Publish the dbt docs beside the mart."),
    engine: str | None = typer.Option(
        None,
        "--engine",
        help="Build on duckdb (default) or spark (needs `uv sync --extra spark` and Java 17); "
        "default: $SAFETYNET_ENGINE, else duckdb.",
    ),
    data: Path | None = DataOption,
) -> None:
    """A whole comparison run: land → check → build → publish → export, recorded in the ledger.

    Refused with one line (exit 3) while another run or a rebuild holds the data root; stopped before anything
    is built (exit 4) when something the ledger records is missing or changed (a lost lake: see `rebuild`)."""
    from ingestion.state import BrokenState
    from warehouse.run import RunBusy, run_comparison
    from warehouse.run_summary import render_run_summary

    root = _data_root(data)
    try:
        with console.status("starting …") as status:
            summary = run_comparison(
                root,
                dt.date.fromisoformat(date),
                inbox=inbox,
                export=export,
                docs=docs,
                engine=_checked_engine(engine),
                progress=lambda step: status.update(f"[bold]{step}[/bold] …"),
            )
    except RunBusy as busy:
        raise _refuse(str(busy), EXIT_BUSY) from None
    except BrokenState as broken:
        raise _refuse(str(broken), EXIT_BROKEN_STATE) from None
    render_run_summary(console, root, summary)


@app.command()
def rebuild(
    engine: str | None = typer.Option(None, "--engine", help="Build on duckdb (default) or spark."),
    data: Path | None = DataOption,
) -> None:
    """Rebuild the lake, the quarantine, the vault and the warehouse from raw/ and the ledger (after a loss).

    Every delivery is landed again from the raw archive in the ledger's order (same delivery numbers, holds and
    releases), the vault is folded again, and the warehouse is built at the latest run date and published."""
    from ingestion.state import BrokenState
    from warehouse.rebuild import rebuild as rebuild_all
    from warehouse.run import RunBusy

    root = _data_root(data)
    try:
        with console.status("rebuilding …") as status:
            summary = rebuild_all(root, progress=status.update, engine=_checked_engine(engine))
    except RunBusy as busy:
        raise _refuse(str(busy), EXIT_BUSY) from None
    except BrokenState as broken:
        raise _refuse(str(broken), EXIT_BROKEN_STATE) from None
    console.print(str(summary), soft_wrap=True)


@app.command()
def simulate(
    settings: list[str] = typer.Option(
        ...,
        "--set",
        help="NAME=VALUE, repeatable: W01.amount=15000, W01.share=0.4, D01.amount=40000, or a raw "
        "rule_parameters.csv name such as w01_floor.",
    ),
    county: str | None = typer.Option(None, "--county", help="Change the parameters for this county only."),
    date: str | None = typer.Option(None, "--date", help="Recompute this run (default: the latest)."),
    backtest: bool = typer.Option(
        False, "--backtest", help="Replay every past run of the ledger (up to --date) with the changes."
    ),
    workdir: Path | None = typer.Option(None, "--workdir", help="Scratch folder (default: in the temp folder)."),
    data: Path | None = DataOption,
) -> None:
    """What-if: recompute the warnings with changed thresholds; the register, warehouse and mart stay untouched."""
    from warehouse.build import BuildError
    from warehouse.simulate import SimulationError, parse_changes
    from warehouse.simulate import backtest as run_backtest
    from warehouse.simulate import simulate as run_simulation
    from warehouse.simulate_view import (
        backtest_tables,
        changes_line,
        county_names,
        simulation_tables,
        totals_line,
    )  # fmt: skip

    root = _data_root(data)
    run_date = dt.date.fromisoformat(date) if date else None
    try:
        changes = parse_changes(settings)
        with console.status("simulating …") as status:
            progress = lambda message: status.update(f"[bold]{message}[/bold] …")  # noqa: E731
            if backtest:
                history = run_backtest(root, changes, county=county, until=run_date, workdir=workdir,
                                       progress=progress)  # fmt: skip
            else:
                result = run_simulation(root, changes, county=county, run_date=run_date, workdir=workdir,
                                        progress=progress)  # fmt: skip
    except (SimulationError, BuildError) as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    if backtest:
        console.print(changes_line(history))
        for table in backtest_tables(history):
            console.print(table)
        console.print(f"{len(history.run_dates)} run(s) replayed in {history.seconds} s; nothing real was changed.")
        return
    console.print(changes_line(result))
    for table in simulation_tables(result, county_names(root)):
        console.print(table)
    console.print(totals_line(result))


if __name__ == "__main__":
    app()
