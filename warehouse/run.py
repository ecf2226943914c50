"""A whole comparison run, in process: land → check → build → publish → export.

Each step is a function of its own so that the Airflow DAGs call exactly what the command line calls.
`run_comparison` chains them and records the run in the ledger.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class RunSummary:
    run_date: dt.date
    steps: dict[str, float] = field(default_factory=dict)  # step → seconds
    landings: list[Any] = field(default_factory=list)
    checks: Any = None
    build: Any = None
    published: Any = None
    exports: Any = None


def land_step(root: DataRoot, inbox: Path | None = None, progress: Callable | None = None) -> list[Any]:
    from ingestion.landing import land_inbox

    return land_inbox(root, inbox=inbox, progress=progress)


def build_step(root: DataRoot, run_date: dt.date) -> Any:
    from warehouse.build import build

    return build(root, run_date)


def publish_step(root: DataRoot) -> Any:
    from warehouse.publish import publish

    return publish(root)


def run_comparison(
    root: DataRoot, run_date: dt.date, inbox: Path | None = None, progress: Progress | None = None
) -> RunSummary:
    """Land what is in the inbox, build the mart at `run_date`, publish it."""
    summary = RunSummary(run_date)
    say = progress or (lambda message: log.info(message))
    steps: list[tuple[str, Callable[[], Any], str]] = [
        ("land", lambda: land_step(root, inbox), "landings"),
        ("build", lambda: build_step(root, run_date), "build"),
        ("publish", lambda: publish_step(root), "published"),
    ]
    for name, step, attribute in steps:
        say(f"{name} …")
        started = time.perf_counter()
        setattr(summary, attribute, step())
        summary.steps[name] = time.perf_counter() - started
    return summary
