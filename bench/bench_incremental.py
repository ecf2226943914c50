"""The monthly build, incremental against a full rebuild at the same date (docs/incremental.md).

    uv run python bench/bench_incremental.py --households 2000
    nice uv run python bench/bench_incremental.py --households 80000 --reuse

A province of 13 months is generated (or reused from bench/out/run/t<N>/generated, as bench_run.py leaves it). The
inbox up to 2026-09-30 is landed and built (a full build: the first); then October's deliveries land, the data root
is copied, and each is built at 2026-10-31 in its own process: the original incrementally (the refresh policy's
choice, printed), the copy with a full refresh. Prints both builds' wall and CPU seconds and peak memory, dbt's node
seconds of the incremental models and their data tests in each, and checks that the two warehouses are equal table by
table (warehouse/compare_warehouses.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_run import FIRST_RUN, RUN, deliver, generate, split_inbox  # noqa: E402


def _build(run_root: str, run_date: str, full: str) -> None:
    """One build in this process: wall and CPU seconds, peak memory, the refresh, dbt's node times."""
    from ingestion.settings import DataRoot
    from warehouse.build import build

    root = DataRoot(Path(run_root))
    started, cpu = time.perf_counter(), time.process_time()
    result = build(root, dt.date.fromisoformat(run_date), full_refresh=full == "full")
    nodes = json.loads((root.root / "dbt" / "target" / "run_results.json").read_text(encoding="utf-8"))["results"]
    print(json.dumps({
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "refresh": result.refresh, "reason": result.refresh_reason, "warnings": result.warnings_raised,
        "node_s": {r["unique_id"]: round(r["execution_time"], 2) for r in nodes},
    }))  # fmt: skip


def _land(run_root: str) -> None:
    from ingestion.landing import land_inbox
    from ingestion.settings import DataRoot

    land_inbox(DataRoot(Path(run_root)))


def child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def history_seconds(figures: dict, models: list[str]) -> tuple[float, float]:
    """dbt's node seconds of the incremental models, and of their data tests."""
    nodes = figures["node_s"]
    built = sum(s for uid, s in nodes.items() if uid.startswith("model.") and uid.split(".")[-1] in models)
    tested = sum(s for uid, s in nodes.items() if uid.startswith("test.") and any(m in uid for m in models))
    return round(built, 1), round(tested, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "run")
    parser.add_argument("--reuse", action="store_true", help="reuse the tier's generated province if present")
    args = parser.parse_args()
    from ingestion.settings import DataRoot
    from warehouse.compare_warehouses import differences, incremental_models

    tier = args.work.resolve() / f"t{args.households}"
    tier.mkdir(parents=True, exist_ok=True)
    generate(tier, args.households, args.reuse)
    run_root, later = split_inbox(tier)
    child("_land", str(run_root))
    first = child("_build", str(run_root), FIRST_RUN.isoformat(), "policy")
    deliver(later, run_root / "inbox")
    child("_land", str(run_root))
    full_root = tier / "full_copy"
    shutil.rmtree(full_root, ignore_errors=True)
    # the landed files linked (the lake is only ever replaced, never written in place); the ledger and warehouse copied
    skip = shutil.ignore_patterns("*.duckdb*", "ledger*", "dbt")
    shutil.copytree(run_root, full_root, copy_function=os.link, ignore=skip)
    for name in ("ledger.sqlite", "warehouse.duckdb"):
        if (run_root / name).exists():
            shutil.copy2(run_root / name, full_root / name)
    incremental = child("_build", str(run_root), RUN.isoformat(), "policy")
    full = child("_build", str(full_root), RUN.isoformat(), "full")
    root = DataRoot(run_root)
    models = incremental_models(root)
    diff = differences(root.warehouse_db, DataRoot(full_root).warehouse_db, models)
    print(f"{args.households:,} households; first build at {FIRST_RUN}: {first['refresh']}, {first['wall_s']} s")
    for label, f in (("incremental", incremental), ("full refresh", full)):
        built, tested = history_seconds(f, models)
        print(
            f"{label:>12} build at {RUN}: {f['wall_s']} s wall, {f['cpu_s']} s CPU, {f['peak_mib']} MiB; "
            f"incremental models {built} node-s, their data tests {tested} node-s; {f['warnings']} warnings "
            f"({f['refresh']}: {f['reason']})"
        )
    print(f"incremental / full: {incremental['wall_s'] / full['wall_s']:.0%}")
    print("warehouses equal table by table" if not diff else "DIFFERENCES:\n" + "\n".join(diff))
    raise SystemExit(1 if diff else 0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        {"_build": _build, "_land": _land}[sys.argv[1]](*sys.argv[2:])
    else:
        main()
