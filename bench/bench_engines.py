"""Build time of the same dbt project on DuckDB and on local Spark (docs/spark.md has the figures).

    uv run --extra spark python bench/bench_engines.py --households 2000 [--data /tmp/bench_engines] [--runs 1]

Generates and lands a province once (kept in --data for reruns), then times `build()` — dbt build with the data
tests, register saved; for Spark also the session start, the lake declaration and publishing the marts into
DuckDB — on each engine, and prints one line per engine and run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import time
from pathlib import Path

from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
from warehouse.build import build
from warehouse.generator import generate_province

log = logging.getLogger("bench_engines")
RUN = dt.date(2026, 10, 31)


def _province(root: DataRoot, households: int) -> None:
    if root.lake.exists():
        log.info("reusing the landed province in %s", root.root)
        return
    started = time.perf_counter()
    generate_province(root, households=households, run_date=RUN, check_truth=False)
    land_inbox(root)
    log.info("generated and landed %d households in %.0f s", households, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--data", type=Path, default=None, help="data root (default /tmp/bench_engines_<N>)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--engines", default="duckdb,spark")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    root = DataRoot((args.data or Path(f"/tmp/bench_engines_{args.households}")).resolve())
    _province(root, args.households)
    for engine in args.engines.split(","):
        for run in range(1, args.runs + 1):
            result = build(root, RUN, engine=engine)
            print(
                f"engine={engine} households={args.households} run={run} seconds={result.seconds:.1f} "
                f"models={result.models_built} tests={result.tests_passed} warnings={result.warnings_raised}",
                flush=True,
            )


if __name__ == "__main__":
    main()
