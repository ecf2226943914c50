"""Benchmark the synthetic province generator: wall time, CPU time and peak memory per size.

Each size runs in a fresh child process (so peak RSS is that size's own), into a scratch data root.

    uv run python bench/bench_generate.py                       # 2,000 and 200,000 households
    uv run python bench/bench_generate.py --sizes 2000 20000 --check
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

CHILD = """
import datetime as dt, json, resource, sys, time
from ingestion.settings import DataRoot
from synthetic import generate_province
from synthetic.load import SCALE_WARNING_RATE
root, households, check = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
started = time.perf_counter()
summary = generate_province(DataRoot.from_env(root), households=households, months=12, seed=20261031,
                            run_date=dt.date(2026, 10, 31), check_truth=check,
                            warning_rate=SCALE_WARNING_RATE)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_mb": usage.ru_maxrss / 1024, "files": summary.files, "rows": summary.rows,
                  "persons": summary.persons, "checked": summary.checked}))
"""


def run(households: int, check: bool) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix=f"bench-gen-{households}-"))
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(root), str(households), "1" if check else "0"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["inbox_mb"] = sum(p.stat().st_size for p in (root / "inbox").rglob("*") if p.is_file()) / 2**20
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 200_000])
    parser.add_argument("--check", action="store_true", help="also run the independent truth check")
    args = parser.parse_args()
    table = Table(title="generate_province, 12 months to 2026-10-31")
    for column in ("households", "files", "rows", "persons", "inbox MB", "wall s", "cpu s", "peak RSS MB", "checked"):
        table.add_column(column, justify="right", no_wrap=True)
    for households in args.sizes:
        r = run(households, args.check)
        table.add_row(
            f"{households:,}", f"{r['files']:,}", f"{r['rows']:,}", f"{r['persons']:,}", f"{r['inbox_mb']:,.0f}",
            f"{r['seconds']:,.1f}", f"{r['cpu']:,.1f}", f"{r['peak_mb']:,.0f}", "yes" if r["checked"] else "no",
        )  # fmt: skip
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
