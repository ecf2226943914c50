"""Progress on the long steps: a bar with counts and elapsed time on a terminal, nothing in a log or a pipe."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from warehouse.build import _node_counter
from warehouse.cli_progress import StepProgress


def _shown(terminal: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=120, color_system=None)
    with StepProgress(console) as bar:
        bar.step("land")
        bar.count(3, 10, "files", "1,234 rows · mz_member_20261031.csv")
        console.file.flush()
        bar.step("build")
        bar.count(40, 95, "dbt nodes", "models and tests")
    return out.getvalue()


def test_a_terminal_sees_counts_and_elapsed_time():
    shown = _shown(terminal=True)
    assert "3/10" in shown and "files" in shown and "1,234 rows" in shown
    assert "95/95" in shown and "dbt nodes" in shown  # a finished step's bar is full
    assert "0:00:0" in shown  # elapsed time


def test_a_log_or_a_pipe_sees_nothing():
    assert _shown(terminal=False) == ""


def test_the_build_counts_dbt_nodes_done_of_total():
    seen = []
    on_event = _node_counter(lambda done, total: seen.append((done, total)))

    def event(name: str, **data):
        return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(**data))

    on_event(event("MainReportVersion"))
    on_event(event("LogStartLine", total=3, index=1))
    for _ in range(3):
        on_event(event("NodeFinished"))
        on_event(event("LogStartLine", total=3, index=2))  # later start lines do not reset the total
    assert seen == [(1, 3), (2, 3), (3, 3)]
