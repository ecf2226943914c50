"""Build time of the same dbt project on DuckDB and on local Spark (docs/spark.md has the figures).

    uv run --extra spark python bench/bench_engines.py --households 2000,80000 [--data DIR] [--runs 1]

For each size, generates and lands a province once (kept in <data>/engines_<N> for reruns; --data defaults to
/tmp), then times `build()` — dbt build with the data tests, register saved; for Spark also the session start,
the lake declaration and publishing the marts into DuckDB — on each engine, and prints one line per engine and
run, then a table of all of them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import time
from pathlib import Path

from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
from synthetic import generate_province
from synthetic.load import SCALE_WARNING_RATE
from warehouse.build import build

log = logging.getLogger("bench_engines")
RUN = dt.date(2026, 10, 31)


def _province(root: DataRoot, households: int) -> None:
    if root.lake.exists():
        log.info("reusing the landed province in %s", root.root)
        return
    started = time.perf_counter()
    generate_province(root, households=households, run_date=RUN, check_truth=False, warning_rate=SCALE_WARNING_RATE)
    land_inbox(root)
    log.info("generated and landed %d households in %.0f s", households, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", default="2000,80000", help="sizes, comma-separated")
    parser.add_argument("--data", type=Path, default=Path("/tmp"), help="folder of the data roots engines_<N>")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--engines", default="duckdb,spark")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    lines = []
    for households in (int(n) for n in args.households.split(",")):
        root = DataRoot((args.data / f"engines_{households}").resolve())
        _province(root, households)
        for engine in args.engines.split(","):
            for run in range(1, args.runs + 1):
                result = build(root, RUN, engine=engine)
                line = (
                    f"households={households:>7,} engine={engine:<6} run={run} seconds={result.seconds:7.1f} "
                    f"models={result.models_built} tests={result.tests_passed} warnings={result.warnings_raised}"
                )
                print(line, flush=True)
                lines.append(line)
    print("\n".join(["", "build on each engine:", *lines]))


if __name__ == "__main__":
    main()
