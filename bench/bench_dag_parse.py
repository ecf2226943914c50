"""Parse time of the DAGs folder, the way Airflow's DAG processor pays it.

The processor keeps Airflow imported and parses each DAG file in a fresh forked process; so does this
script: it imports Airflow once (timed: a fixed cost, not the files'), then forks one child per file,
which parses that file alone with a DagBag and reports its time, its DAGs and tasks, and which heavy
data libraries the parse pulled in (there must be none). Target: under 1 s per file.

    uv run python bench/bench_dag_parse.py [--repeat 5] [--json] [--dags-folder DIR]

(`--dags-folder` measures another folder the same way, e.g. a trial astronomer-cosmos DAG.)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DAGS = PROJECT / "dags"
HEAVY = (
    "polars",
    "duckdb",
    "dbt",
    "great_expectations",
    "pandas",
    "pyarrow",
    "openpyxl",
    "xlsxwriter",
    "fastexcel",
    "cosmos",
)
TARGET_SECONDS = 1.0


def _parse_one(path: str, queue: mp.Queue) -> None:
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=path, safe_mode=True)
    seconds = time.perf_counter() - started
    heavy = sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))
    queue.put(
        {
            "file": Path(path).name,
            "seconds": seconds,
            "dags": len(bag.dags),
            "tasks": sum(len(d.tasks) for d in bag.dags.values()),
            "errors": bag.import_errors,
            "heavy": heavy,
        }
    )


def _round(files: list[Path]) -> list[dict]:
    ctx = mp.get_context("fork")
    results = []
    for path in files:
        queue: mp.Queue = ctx.Queue()
        child = ctx.Process(target=_parse_one, args=(str(path), queue))
        child.start()
        results.append(queue.get(timeout=300))
        child.join()
    return results


def measure(repeat: int, folder: Path = DAGS) -> dict:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="safetynet-airflow-bench-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    started = time.perf_counter()
    import airflow.sdk  # noqa: F401 - the fixed cost every parse process already paid
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401

    airflow_import = time.perf_counter() - started
    files = sorted(folder.glob("*.py"))
    rounds = [_round(files) for _ in range(repeat)]
    per_file = []
    for index, path in enumerate(files):
        runs = [r[index] for r in rounds]
        per_file.append(
            {
                "file": path.name,
                "dags": runs[0]["dags"],
                "tasks": runs[0]["tasks"],
                "median_s": statistics.median(r["seconds"] for r in runs),
                "max_s": max(r["seconds"] for r in runs),
            }
        )
    return {
        "airflow_import_s": airflow_import,
        "repeat": repeat,
        "files": per_file,
        "total_median_s": sum(f["median_s"] for f in per_file),
        "import_errors": {k: v for r in rounds for x in r for k, v in x["errors"].items()},
        "heavy_modules_loaded": sorted({m for r in rounds for x in r for m in x["heavy"]}),
        "target_s": TARGET_SECONDS,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="parse each file this many times (median)")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    parser.add_argument("--dags-folder", type=Path, default=DAGS, help="folder to measure (default: dags/)")
    args = parser.parse_args()
    report = measure(args.repeat, args.dags_folder)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"Airflow import (fixed, paid once by the DAG processor): {report['airflow_import_s']:.2f} s")
    print(f"{'file':<32} {'DAGs':>5} {'tasks':>6} {'median s':>9} {'max s':>7}  (repeat {args.repeat})")
    for f in report["files"]:
        flag = "" if f["max_s"] < TARGET_SECONDS else "  OVER TARGET"
        print(f"{f['file']:<32} {f['dags']:>5} {f['tasks']:>6} {f['median_s']:>9.3f} {f['max_s']:>7.3f}{flag}")
    print(f"{'all files':<32} {'':>5} {'':>6} {report['total_median_s']:>9.3f}")
    print(f"heavy modules loaded while parsing: {report['heavy_modules_loaded'] or 'none'}")
    print(f"import errors: {report['import_errors'] or 'none'}")
    worst = max(f["max_s"] for f in report["files"])
    return 0 if worst < TARGET_SECONDS and not report["import_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
