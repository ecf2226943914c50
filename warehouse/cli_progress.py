"""Progress on the terminal for the long steps: a bar with counts and elapsed time, quiet when not a terminal.

`StepProgress` is what `safetynet run` and `safetynet land` show: the current step's name, and for the
steps that can count (landing: files and rows; the build: dbt nodes done of total) a bar with `done/total`.
When the output is not a terminal (a log file, a pipe, CI) nothing is drawn: the summary printed at the
end is the record.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class StepProgress:
    """One bar per step; `step(name)` starts the next one, `count(...)` moves the current one."""

    def __init__(self, console: Console):
        self._bar = Progress(
            TextColumn("[bold]{task.fields[step]:<8}[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            TextColumn("{task.description}", style="dim"),
            console=console,
            disable=not console.is_terminal,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> StepProgress:
        self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._finish_current()
        self._bar.stop()

    def step(self, name: str) -> None:
        """Start the bar of step `name` (its total unknown until it counts)."""
        self._finish_current()
        self._task = self._bar.add_task("", total=None, step=name, unit="")

    def count(self, done: int, total: int | None, unit: str = "", detail: str = "") -> None:
        """`done` of `total` `unit` in the current step; `detail` (a file name, a count of rows) beside it."""
        if self._task is None:
            self.step("")
        assert self._task is not None
        self._bar.update(self._task, completed=done, total=total, unit=unit, description=detail, refresh=True)

    def _finish_current(self) -> None:
        if self._task is not None:
            task = self._bar.tasks[-1]
            if task.total is None:  # a step that never counted: show it as done
                self._bar.update(self._task, total=1, completed=1)
            else:
                self._bar.update(self._task, completed=task.total)
            self._task = None
