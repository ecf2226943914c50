"""One demo data root for the analysts' tests (notebooks, cookbook, simulate, read-only access), built once.

A 300-household synthetic province with the generator's bad deliveries (so the checks hold some back), run
through the whole pipeline twice: at 2026-09-30 and at 2026-10-31 (so the register carries warnings over,
red ones become overdue, and the ledger has two past runs to backtest). No workbooks are exported.

Under pytest-xdist every worker shares the same root: the first builds it under a file lock, the others wait
and reuse it. The tests only read it (the simulations run in their own scratch folder).
"""

from __future__ import annotations

import datetime as dt
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.filelock import file_lock
from ingestion.settings import DataRoot

HOUSEHOLDS = 300
SEED = 20261031
RUN_DATES = (dt.date(2026, 9, 30), dt.date(2026, 10, 31))
READY, FAILED = "ANALYST_DEMO_READY", "ANALYST_DEMO_FAILED"
# A folder to keep the demo in between sessions (developing these tests); default: this session's temp folder.
HOME_ENV = "SAFETYNET_ANALYST_DEMO"


@dataclass(frozen=True)
class AnalystDemo:
    root: DataRoot
    run_dates: tuple[dt.date, ...]
    simulate_workdir: Path  # shared scratch folder: dbt's partial parse is reused between simulations

    @property
    def mart(self) -> Path:
        from warehouse.publish import published_path

        return published_path(self.root)

    @property
    def latest(self) -> dt.date:
        return self.run_dates[-1]


def build_demo(root: DataRoot) -> None:
    from synthetic import generate_province
    from warehouse.run import run_comparison

    generate_province(
        root, households=HOUSEHOLDS, months=12, seed=SEED, run_date=RUN_DATES[-1],
        bad_deliveries=True, overwrite=True, check_truth=False,
    )  # fmt: skip
    for run_date in RUN_DATES:
        run_comparison(root, run_date, export=False, docs=run_date == RUN_DATES[-1])


def _shared_dir(factory: pytest.TempPathFactory) -> Path:
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def analyst_demo(tmp_path_factory: pytest.TempPathFactory) -> AnalystDemo:
    shared = _shared_dir(tmp_path_factory)
    home = Path(os.environ[HOME_ENV]) if os.environ.get(HOME_ENV) else shared / "analyst_demo"
    home.mkdir(parents=True, exist_ok=True)
    with file_lock(home.parent / f"{home.name}.lock"):
        if (home / FAILED).exists():
            pytest.fail(f"the analysts' demo failed to build in another worker:\n{(home / FAILED).read_text()}")
        if not (home / READY).exists():
            try:
                build_demo(DataRoot(home / "data"))
            except Exception:
                (home / FAILED).write_text(traceback.format_exc())
                raise
            (home / READY).write_text("ok\n")
    return AnalystDemo(DataRoot(home / "data"), RUN_DATES, home / "simulate")
