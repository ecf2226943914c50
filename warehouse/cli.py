"""The `safetynet` command line: one command per step of a comparison run.

`main()` is the entry point: a mistake in what was typed (a bad date, a missing data root, an export before
any run, …) is one line on stderr and exit code 2, never a traceback (warehouse/guards.py); a failure of
the platform itself is one line and exit code 1 (`--verbose` shows the traceback). A command refused because
of what it found (another run in progress: 3; a lost lake or another broken state: 4) says so in one line too.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer
from rich.console import Console

from ingestion.settings import DataRoot
from warehouse import guards
from warehouse.guards import UserError

app = typer.Typer(
    help="safetynet: 低收入人口动态监测 data platform.", no_args_is_help=True, pretty_exceptions_enable=False
)
console = Console()
errors = Console(stderr=True)

DataOption = typer.Option(None, "--data", help="Data root (default: $SAFETYNET_DATA or ./data).")
InitOption = typer.Option(False, "--init", help="Create the data root (and its inbox/) if it does not exist yet.")
USAGE_ERROR = 2  # what click uses for a usage error: every mistake of the user's exits with it


def _data_root(data: Path | None, init: bool = False) -> DataRoot:
    return guards.data_root(data, init=init)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    verbose = any(arg in ("-v", "--verbose") for arg in (argv if argv is not None else sys.argv[1:]))
    try:
        code = app(args=argv, prog_name="safetynet", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except typer.TyperException as err:  # typer's usage errors: a missing option, a value of the wrong type
        context = getattr(err, "ctx", None)
        command = context.command_path if context is not None else "safetynet"
        message = " ".join(err.format_message().split())
        errors.print(f"{command}: {message} (see {command} --help)", markup=False, soft_wrap=True)
        return USAGE_ERROR
    except typer.Abort:
        errors.print("aborted", markup=False)
        return 130
    except Exception as err:
        if guards.is_user_error(err):
            errors.print(f"safetynet: {guards.one_line(err)}", markup=False, soft_wrap=True)
            return USAGE_ERROR
        if (refused := guards.refusal_code(err)) is not None:
            errors.print(f"safetynet: {guards.one_line(err)}", markup=False, soft_wrap=True)
            return refused
        if verbose:
            raise
        errors.print(
            f"safetynet failed: {type(err).__name__}: {guards.one_line(err)} (--verbose shows where)",
            markup=False, soft_wrap=True,
        )  # fmt: skip
        return 1
    return code if isinstance(code, int) else 0


@app.callback()
def options(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
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
    quirks: bool = typer.Option(
        False, "--quirks", help="Plant every real-world quirk (synthetic/quirks.py) with its truth."
    ),
    quirk: list[str] = typer.Option(
        [], "--quirk", help="Plant only this quirk (repeatable), e.g. --quirk certificate_gap --quirk late_department."
    ),
    check: bool | None = typer.Option(
        None, "--check/--no-check", help="Verify the truth independently (default: up to 50,000 households)."
    ),
    warning_rate: float = typer.Option(
        0.0, "--warning-rate", help="Share of the households flagged by warnings, e.g. 0.03 (synthetic/load.py)."
    ),
    data: Path | None = DataOption,
) -> None:
    """Generate a synthetic province: an inbox of deliveries and its ground truth."""
    from synthetic import generate_province

    day = guards.parse_date(run_date, "--run-date")
    if households < 1 or months < 1:
        raise UserError(f"--households {households} and --months {months} must both be at least 1")
    root = _data_root(data, init=True)  # generating makes a data root
    with console.status(f"Generating {households:,} households, {months} months to {day}…"):
        summary = generate_province(
            root, households=households, months=months, seed=seed, run_date=day,
            bad_deliveries=bad_deliveries, overwrite=overwrite, check_truth=check, quirks=quirks or quirk,
            warning_rate=warning_rate,
        )  # fmt: skip
    console.print(summary)
    console.print(f"inbox: {root.inbox}\ntruth: {root.truth}")


@app.command()
def land(
    inbox: Path | None = typer.Option(None, "--inbox", help="Inbox folder (default: <data root>/inbox)."),
    dataset: str | None = typer.Option(None, "--dataset", help="Land only this dataset's files."),
    init: bool = InitOption,
    data: Path | None = DataOption,
) -> None:
    """Land every delivered file: archive, check, normalise, pseudonymise, write the lake and the ledger."""
    from rich.table import Table

    from warehouse.cli_progress import StepProgress
    from warehouse.run import land_step

    _known_dataset(dataset)
    if inbox is not None and not inbox.is_dir():
        raise UserError(f"--inbox {inbox} is not a folder")
    root = _data_root(data, init=init)
    with StepProgress(console) as bar:
        bar.step("land")
        results = land_step(root, inbox=inbox, counts=bar.count, dataset=dataset, pull=False)  # `pull` pulls
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
def pull(
    dataset: str | None = typer.Option(None, "--dataset", help="Pull only this dataset (default: every source)."),
    cutoff: str | None = typer.Option(
        None, "--cutoff", help="Cut-off date of the pull, YYYY-MM-DD (default: today in China)."
    ),
    data: Path | None = DataOption,
) -> None:
    """Pull what is new from the exchange databases (`<data root>/sources/<dataset>.yaml`) and land it."""
    from rich.table import Table

    from ingestion.exchange import pull_sources

    root = _data_root(data)
    _known_dataset(dataset)
    day = guards.parse_date(cutoff, "--cutoff") if cutoff else None
    with console.status("pulling…"):
        outcomes = pull_sources(root, day, [dataset] if dataset else None)
    if not outcomes:
        console.print(f"no database sources in {root.root / 'sources'}")
        return
    table = Table(title=f"pulled {len(outcomes)} source(s)")
    for column in ("dataset", "source", "delivery", "landed", "rejected", "status"):
        table.add_column(column, justify="right" if column in ("landed", "rejected") else "left", no_wrap=True)
    for outcome in outcomes:
        for r in outcome.landings:
            table.add_row(outcome.dataset, outcome.source, r.file_name, str(r.rows_landed), str(r.rows_rejected),
                          r.status)  # fmt: skip
        if not outcome.landings:
            table.add_row(outcome.dataset, outcome.source, "", "", "", outcome.status)
    console.print(table)
    failed = [o for o in outcomes if o.status == "error"]
    for outcome in failed:
        console.print(f"[red]error[/red] {outcome.message}", soft_wrap=True)
    if failed:
        raise typer.Exit(1)


@app.command()
def export(
    date: str = typer.Option(..., "--date", help="Run date (YYYY-MM-DD) the published mart was built for."),
    report: bool = typer.Option(True, "--report/--no-report", help="Also write the HTML run report."),
    data: Path | None = DataOption,
) -> None:
    """Write the county warning workbooks, the province summary and the run report from the published mart."""
    from warehouse.exports import export_run

    day = guards.parse_date(date)
    root = _data_root(data)
    with console.status("exporting …") as status:
        summary = export_run(root, day, report=report, progress=status.update)
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

    from warehouse.feedback import receive_feedback

    root = _data_root(data)
    try:
        receipts = receive_feedback(root, list(files))
    except ValueError as error:  # a file that is no workbook, or not one of ours
        raise UserError(str(error)) from None
    table = Table(
        "file", "county", "inbox name", "status", "in", "landed", "rejected", "skipped", "warnings answered",
        "not issued / other county",
    )  # fmt: skip
    for r in receipts:
        counts = r.counts()
        problems = r.problems.get_column("reason").value_counts().iter_rows() if r.problems.height else []
        table.add_row(
            r.source.name, r.county_code or "?", r.inbox_name, r.status,
            *(str(counts[k]) for k in ("rows_in", "rows_landed", "rows_rejected", "rows_skipped", "warnings_answered")),
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
    from expectations.runner import check_pending, holds_in_force
    from expectations.runner import release as release_delivery

    root = _data_root(data)
    if release is not None:
        if not by or not note:
            raise UserError("--release needs --by NAME and --note TEXT")
        sha = release_delivery(root, release, by, note)  # ReleaseError: a user error (guards.USER_ERRORS)
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
    from warehouse.identify import counts_line, find_application, read_identifications, summary_table, trace_view

    run_date = guards.parse_date(date)
    frame = read_identifications(_data_root(data), run_date)  # IdentificationUnavailable: a user error
    if application is not None:
        try:
            console.print(trace_view(find_application(frame, application)))
        except KeyError as err:
            raise UserError(err.args[0]) from None
        return
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
    rerun: bool = typer.Option(
        False, "--rerun", help="Allow a run date before the latest recorded run (README: rerunning a month)."
    ),
    init: bool = InitOption,
    data: Path | None = DataOption,
) -> None:
    """A whole comparison run: land → check → build → publish → export, recorded in the ledger.

    Refused with one line (exit 3) while another run or a rebuild holds the data root; stopped before anything
    is built (exit 4) when something the ledger records is missing or changed (a lost lake: see `rebuild`)."""
    from warehouse.build import BuildError
    from warehouse.cli_progress import StepProgress
    from warehouse.run import run_comparison
    from warehouse.run_summary import render_run_summary

    day = guards.run_date(date)
    chosen_engine = _checked_engine(engine)
    if inbox is not None and not inbox.is_dir():
        raise UserError(f"--inbox {inbox} is not a folder")
    root = _data_root(data, init=init)
    guards.refuse_going_back(root, day, rerun)
    try:
        with StepProgress(console) as bar:
            summary = run_comparison(
                root, day, inbox=inbox, export=export, docs=docs, engine=chosen_engine, progress=bar.step,
                counts=bar.count,
            )  # fmt: skip
    except BuildError as err:  # a blocking test, or dbt that could not run: one line; the last published mart stays
        errors.print(str(err), markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    render_run_summary(console, root, summary)


@app.command()
def rebuild(
    engine: str | None = typer.Option(None, "--engine", help="Build on duckdb (default) or spark."),
    data: Path | None = DataOption,
) -> None:
    """Rebuild the lake, the quarantine, the vault and the warehouse from raw/ and the ledger (after a loss).

    Every delivery is landed again from the raw archive in the ledger's order (same delivery numbers, holds and
    releases), the vault is folded again, and the warehouse is built at the latest run date and published."""
    from warehouse.build import BuildError
    from warehouse.cli_progress import StepProgress
    from warehouse.rebuild import rebuild as rebuild_all

    chosen_engine = _checked_engine(engine)
    root = _data_root(data)
    try:
        with StepProgress(console) as bar:
            summary = rebuild_all(root, progress=bar.step, engine=chosen_engine, counts=bar.count)
    except BuildError as err:  # as in `run`: one line; the lake and vault are rebuilt, the last published mart stays
        errors.print(str(err), markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
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
    run_date = guards.parse_date(date) if date else None
    if county is not None and not (len(county) == 6 and county.isdigit()):
        raise UserError(f"--county {county!r}: expected a 6-digit county code such as 370102")
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
    except BuildError as err:  # the scratch build of the simulation failed: the platform's failure
        raise SimulationError(f"the simulated build failed: {err}") from None
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


def _known_dataset(dataset: str | None) -> None:
    if dataset is None:
        return
    from ingestion.contracts import all_contracts

    known = sorted(all_contracts())
    if dataset not in known:
        raise UserError(f"--dataset {dataset!r} is not a dataset; one of: {', '.join(known)}")


if __name__ == "__main__":
    sys.exit(main())
