"""Build time and peak memory of `warehouse.build.build` on a synthetic province.

    uv run python bench/bench_build.py --households 2000 [--data bench/out/build_2000] [--runs 2]

Generates and lands the province once (reused when the data root already holds a landed lake), then builds
at the run date `--runs` times, each in a fresh child process so that its peak resident memory (ru_maxrss)
is the build's own. Prints one line per build and the register's size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

RUN = dt.date(2026, 10, 31)
_CHILD = """
import datetime as dt, json, logging, sys, time
logging.basicConfig(level=logging.WARNING)
from ingestion.settings import DataRoot
from warehouse.build import build
started = time.perf_counter()
result = build(DataRoot.from_env(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]))
print(json.dumps({"seconds": round(time.perf_counter() - started, 1), "models": result.models_built,
                  "tests": result.tests_passed, "warnings": result.warnings_raised}))
"""


def _prepare(data: Path, households: int) -> None:
    from ingestion.landing import land_inbox
    from ingestion.settings import DataRoot
    from synthetic import generate_province
    from synthetic.load import SCALE_WARNING_RATE

    root = DataRoot.from_env(data)
    if (root.lake / "_deliveries.parquet").exists():
        print(f"reusing the landed lake in {data}")
        return
    started = time.perf_counter()
    generate_province(
        root, households=households, months=12, seed=20261031, run_date=RUN, warning_rate=SCALE_WARNING_RATE
    )
    generated = time.perf_counter()
    land_inbox(root)
    print(f"generate {generated - started:.0f} s, land {time.perf_counter() - generated:.0f} s")


def _build_once(data: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data), RUN.isoformat()], check=True, capture_output=True, text=True
    )
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    # ru_maxrss of children is the largest child so far: report it only when this child raised it
    figures["peak_rss_mib"] = round(peak_kib / 1024) if peak_kib > before else f"≤ {round(before / 1024)}"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    data = args.data or Path("bench/out") / f"build_{args.households}"
    _prepare(data, args.households)
    warehouse = data / "warehouse.duckdb"
    for run in range(1, args.runs + 1):
        figures = _build_once(data)
        size = warehouse.stat().st_size / 2**20
        print(f"build {run}: {json.dumps(figures, ensure_ascii=False)}, warehouse {size:.0f} MiB")


if __name__ == "__main__":
    main()
