"""The summary a data engineer reads after `safetynet run` (and `make demo`)."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from ingestion.settings import DataRoot
from warehouse.exports.mart import MartBusy, MartMissing, open_published
from warehouse.failure_view import read_failures, summary_lines
from warehouse.publish import published_path
from warehouse.run import RunSummary

LEVELS = ("红", "橙", "黄")


def render_run_summary(console: Console, root: DataRoot, summary: RunSummary) -> None:
    console.print(f"[bold]Comparison run {summary.run_date}[/bold]  data root {root.root}")
    console.print(_steps_table(summary))
    console.print(_landing_table(summary))
    if summary.checks is not None and summary.checks.held:
        console.print(_held_table(summary))
    if summary.build is not None:
        console.print(_warnings_table(summary))
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.build.warnings_by_status.items()))
        console.print(f"register: {statuses}")
    identification = _identification_counts(root)
    if identification:
        console.print("identification: " + ", ".join(f"{k} {v}" for k, v in identification))
    if summary.published is not None:
        _print_failures(console, root, summary)
    if summary.exports is not None:
        console.print(
            f"exports: {len(summary.exports.county_workbooks)} county workbooks, "
            f"{summary.exports.warnings_exported} open warnings → {summary.exports.folder}"
        )
    console.print(f"published: {published_path(root)}")
    if summary.docs is not None:
        console.print(f"dbt docs: {summary.docs}")


def _print_failures(console: Console, root: DataRoot, summary: RunSummary) -> None:
    """What the run could not do (docs/failure_policy.md), in Chinese: missing parts and since when, rules not
    evaluated, models that errored, advisory data tests that failed."""
    failures = read_failures(root, summary.run_date)
    if failures.degraded:
        console.print("[bold yellow]本次运行为降级运行（degraded）：以下部分未能生成，其余照常发布[/bold yellow]")
    for line in summary_lines(failures):
        console.print(f"  · {line}", soft_wrap=True)
    if summary.build is not None and not getattr(summary.build, "warnings_built", True):
        console.print("[bold yellow]本次未导出县区预警清单：预警台账（fct_warnings）未能生成[/bold yellow]")


def _steps_table(summary: RunSummary) -> Table:
    table = Table(title="steps")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for step, seconds in summary.steps.items():
        table.add_row(step, f"{seconds:.1f}")
    return table


def _landing_table(summary: RunSummary) -> Table:
    table = Table(title="landing (files this run)")
    for column in ("status", "files", "rows in", "landed", "rejected", "skipped"):
        table.add_column(column, justify="right" if column != "status" else "left")
    by_status: dict[str, list[int]] = {}
    for result in summary.landings:
        counts = by_status.setdefault(result.status, [0, 0, 0, 0, 0])
        for i, value in enumerate((1, result.rows_in, result.rows_landed, result.rows_rejected, result.rows_skipped)):
            counts[i] += value or 0
    for status, counts in sorted(by_status.items()):
        table.add_row(status, *(f"{c:,}" for c in counts))
    return table


def _held_table(summary: RunSummary) -> Table:
    table = Table(title="deliveries held back (the build used the last good delivery)")
    table.add_column("delivery")
    table.add_column("why")
    for delivery in summary.checks.held:
        table.add_row(delivery.delivery.file_name, "; ".join(delivery.reasons))
    return table


def _warnings_table(summary: RunSummary) -> Table:
    table = Table(title="warnings whose trigger holds at this run, by rule and level")
    table.add_column("rule")
    for level in LEVELS:
        table.add_column(level, justify="right")
    table.add_column("total", justify="right")
    totals: Counter[str] = Counter()
    for rule, levels in sorted(summary.build.warnings_by_rule_level.items()):
        table.add_row(rule, *(str(levels.get(level, 0)) for level in LEVELS), str(sum(levels.values())))
        totals.update(levels)
    table.add_row("[bold]all[/bold]", *(str(totals.get(level, 0)) for level in LEVELS), str(sum(totals.values())))
    return table


def _identification_counts(root: DataRoot) -> list[tuple[str, int]]:
    try:
        with open_published(root) as con:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'fct_identification'"
            ).fetchone()[0]
            if not exists:
                return []
            return con.execute(
                "SELECT result_category, count(*) FROM fct_identification GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
    except (MartMissing, MartBusy):
        return []
