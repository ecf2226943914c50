"""Rich tables for `safetynet check`: one row per delivery checked, then the holds in force."""

from __future__ import annotations

from rich.table import Table

from expectations.runner import CheckSummary, HoldInForce


def check_table(summary: CheckSummary) -> Table | str:
    if not summary.deliveries:
        return "no newly landed delivery to check"
    table = Table(title=str(summary), title_justify="left")
    table.add_column("delivery", no_wrap=True)
    table.add_column("dataset")
    table.add_column("cut-off")
    for column in ("passed", "warnings", "critical"):
        table.add_column(column, justify="right")
    table.add_column("held?")
    for c in summary.deliveries:
        d = c.delivery
        table.add_row(
            d.file_name,
            d.dataset,
            d.cutoff_date.isoformat(),
            str(c.passed),
            _count(c.failed_warning, "yellow"),
            _count(c.failed_critical, "red"),
            "[red]held[/red]" if c.held else "no",
        )
    if summary.docs is not None:
        table.caption = f"Data Docs: {summary.docs}"
    return table


def _count(n: int, colour: str) -> str:
    return f"[{colour}]{n}[/{colour}]" if n else "0"


def holds_table(holds: list[HoldInForce]) -> Table:
    table = Table(
        title=f"{len(holds)} delivery(ies) held back (the build uses the last good one)", title_justify="left"
    )
    for column in ("delivery", "sha256", "held at", "reason"):
        table.add_column(column, overflow="fold")
    for h in holds:
        table.add_row(h.file_name, h.sha256[:12], h.held_at[:19], h.reason)
    if holds:
        table.caption = "release one with: safetynet check --release FILE --by NAME --note TEXT"
    return table


def release_line(asked: str, sha256: str, by: str) -> str:
    return f"[green]released[/green] {asked} ({sha256[:12]}) by {by}: in use again from the next build"
