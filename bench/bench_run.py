"""The whole monthly comparison run at Shandong scale, stage by stage (issue "Shandong scale").

    uv run python bench/bench_run.py                                  # tiers 2,000 / 80,000 / 800,000
    uv run python bench/bench_run.py --tiers 80000 --reuse            # reuse a tier generated earlier
    uv run python bench/bench_run.py --tiers 2000 --work /tmp/bench   # elsewhere than bench/out/run

For each tier the generator writes 13 months of deliveries ending at --run-date. The first run date is the
month before: its inbox holds 12 months of history (the full run); the last month's deliveries are held back
and delivered afterwards (the incremental run). In one invocation it measures, each in its own process:

- generate: `safetynet generate` of the tier;
- landing floor: DuckDB's plain CSV→Parquet conversion of every file of the full run's inbox (GB18030 files
  transcoded first, XLSX read by fastexcel), nothing else; run twice, the faster kept (the first run reads a
  cold page cache, and the landing right after it reads a warm one);
- full run: `run_comparison` (land → check → build → publish → docs → export), the code `safetynet run` calls,
  with wall time, CPU time and peak memory per stage (bench/stage_meter.py);
- build floor: one DuckDB scan of every lake column the models read (the columns of the dbt sources);
- incremental run: the next month's deliveries arrive, `run_comparison` at --run-date;
- the incremental run's warnings scored against the generator's truth (must be equal).

Prints a table per tier and the ratios of the targets; writes every figure to <work>/t<N>/figures.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from synthetic.load import SCALE_WARNING_RATE

ROOT = Path(__file__).resolve().parents[1]
FIRST_RUN = dt.date(2026, 9, 30)
RUN = dt.date(2026, 10, 31)
# the targets of the issue "The monthly run does the month's work" at 800,000 households
TARGET_FULL_S = 7 * 60
TARGET_PEAK_MIB = 8 * 1024
TARGET_INCREMENTAL = 0.25
TARGET_LANDING_X = 2.0
TARGET_BUILD_X = 25.0
SLOWEST_NODES = 15
FULL_STAGES = ("land", "check", "build", "publish", "docs", "export")


# ---------------------------------------------------------------- measuring a child process


def measured(args: list[str], label: str) -> tuple[dict, str]:
    """Run a child, return its wall/CPU/peak memory (os.wait4: this child's own rusage) and its stdout."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    out = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{label} failed (exit {child.returncode}): {' '.join(args)}")
    figures = {
        "stage": label,
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }
    return figures, out


def child(mode: str, *args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), f"_{mode}", *args]


# ---------------------------------------------------------------- the tier's data


def generate(tier: Path, households: int, reuse: bool) -> dict:
    generated = tier / "generated"
    saved = tier / "generate.json"
    if reuse and saved.exists() and (generated / "truth").is_dir():
        figures = json.loads(saved.read_text())
        print(f"  reusing {generated} (generated in {figures['wall_s']:.0f} s)")
        return figures
    safetynet = str(Path(sys.executable).with_name("safetynet"))
    figures, _ = measured(
        [safetynet, "generate", "--households", str(households), "--months", "13", "--run-date", RUN.isoformat(),
         "--warning-rate", str(SCALE_WARNING_RATE), "--no-check", "--overwrite", "--data", str(generated)],
        "generate",
    )  # fmt: skip
    saved.write_text(json.dumps(figures))
    return figures


def split_inbox(tier: Path) -> tuple[Path, Path]:
    """A run root hard-linked from the generated one, and the last month's deliveries moved aside."""
    from ingestion.delivery import list_inbox

    run_root, later = tier / "run", tier / "next_month"
    for folder in (run_root, later):
        shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(tier / "generated", run_root, copy_function=os.link)
    inbox = run_root / "inbox"
    for delivery in list_inbox(inbox):
        if delivery.cutoff is not None and delivery.cutoff > FIRST_RUN:
            target = later / delivery.file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            delivery.path.rename(target)
    return run_root, later


def deliver(later: Path, inbox: Path) -> None:
    for path in sorted(p for p in later.rglob("*") if p.is_file()):
        target = inbox / path.relative_to(later)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)


def inbox_size(inbox: Path) -> tuple[int, int]:
    files = [p for p in inbox.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


# ---------------------------------------------------------------- child modes


def _floor_land(inbox: str, out: str) -> None:
    """DuckDB CSV → Parquet of every file, as plainly as DuckDB allows (all columns as text)."""
    import duckdb
    import polars as pl

    out_dir = Path(out)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    conn = duckdb.connect()
    rows = 0
    for n, path in enumerate(sorted(p for p in Path(inbox).rglob("*") if p.is_file())):
        target = out_dir / f"{n}.parquet"
        if path.suffix.lower() == ".xlsx":
            frame = pl.read_excel(path, infer_schema_length=0)
            frame.write_parquet(target)
            rows += frame.height
            continue
        source = path if _is_utf8(path) else _transcoded(path, out_dir / "utf8.csv")
        rows += conn.execute(
            f"copy (select * from read_csv('{source}', all_varchar=true, header=true, strict_mode=false)) "
            f"to '{target}' (format parquet)"
        ).fetchone()[0]
    print(json.dumps({"rows": rows}))


def _is_utf8(path: Path) -> bool:
    with path.open("rb") as handle:
        try:
            handle.read(1 << 20).decode("utf-8")
        except UnicodeDecodeError as err:
            return err.start > (1 << 20) - 4  # cut inside a character at the end of the sample
    return True


def _transcoded(path: Path, target: Path) -> Path:
    with path.open(encoding="gb18030", newline="") as src, target.open("w", encoding="utf-8", newline="") as dst:
        shutil.copyfileobj(src, dst, 1 << 22)
    return target


def _floor_build(run_root: str) -> None:
    """One DuckDB scan of every lake column the models read: every column of every dbt source table."""
    import duckdb
    import yaml

    lake = Path(run_root) / "lake"
    conn = duckdb.connect()
    scanned = columns = 0
    for path in sorted((ROOT / "dbt_project" / "models" / "staging").rglob("_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                names = [c["name"] for c in table.get("columns", [])]
                files = sorted((lake / table["name"]).rglob("*.parquet")) if (lake / table["name"]).is_dir() else []
                files = [f for f in files if not f.name.startswith("_")]
                if not names or not files:
                    continue
                hashed = ", ".join(f'sum(hash("{n}"))' for n in names)
                file_list = ", ".join(f"'{f}'" for f in files)
                relation = f"read_parquet([{file_list}], union_by_name=true)"
                scanned += conn.execute(f"select count(*), {hashed} from {relation}").fetchone()[0]
                columns += len(names)
    print(json.dumps({"rows": scanned, "columns": columns}))


def _run(run_root: str, run_date: str) -> None:
    """One whole comparison run, metered per stage."""
    import logging

    sys.path.insert(0, str(ROOT / "bench"))
    from stage_meter import StageMeter, process_peak_mib

    from ingestion.settings import DataRoot
    from warehouse.run import run_comparison

    logging.basicConfig(level=logging.WARNING)
    meter = StageMeter()
    nodes: dict[str, float] = {}
    previous: list[str] = []

    def progress(stage: str) -> None:
        if previous and previous[-1] == "build":  # the build's dbt times, before docs generate replaces them
            nodes.update(_slowest_nodes(Path(run_root)))
        previous.append(stage)
        meter.start(stage)

    summary = run_comparison(DataRoot.from_env(Path(run_root)), dt.date.fromisoformat(run_date), progress=progress)
    stages = meter.stop()
    build = summary.build
    print(json.dumps({
        "stages": stages, "process_peak_mib": process_peak_mib(), "slowest_nodes": nodes,
        "refresh": build.refresh, "refresh_reason": build.refresh_reason,
        "warnings_raised": build.warnings_raised, "models": build.models_built, "tests": build.tests_passed,
        "landed_rows": sum(getattr(r, "rows_landed", 0) or 0 for r in (summary.landings or [])),
    }))  # fmt: skip


def _slowest_nodes(run_root: Path) -> dict[str, float]:
    """dbt's slowest nodes of the build just run (model or data test: seconds), for where the time goes."""
    results = json.loads((run_root / "dbt" / "target" / "run_results.json").read_text(encoding="utf-8"))["results"]
    ranked = sorted(results, key=lambda r: -r["execution_time"])[:SLOWEST_NODES]
    return {r["unique_id"].split(".", 2)[-1]: round(r["execution_time"], 1) for r in ranked}


def _score(run_root: str, run_date: str) -> None:
    """The run's warnings against the generator's truth: (expected, raised, missing, extra)."""
    import duckdb
    import polars as pl

    key = ["rule_code", "sub_case", "level", "household_id", "person_key", "episode"]
    root = Path(run_root)
    truth = pl.read_csv(root / "truth" / "expected_warnings.csv", infer_schema_length=0)
    with duckdb.connect(str(root / "published" / "monitoring.duckdb"), read_only=True) as conn:
        raised = conn.sql(f"select * from main.fct_warnings where last_run_date = '{run_date}'").pl()

    def keyed(frame: pl.DataFrame) -> set[tuple[str, ...]]:
        return {tuple(str(v) if v is not None else "" for v in row) for row in frame.select(key).iter_rows()}

    expected, got = keyed(truth), keyed(raised)
    print(json.dumps({"expected": len(expected), "raised": len(got), "missing": len(expected - got),
                      "extra": len(got - expected)}))  # fmt: skip


# ---------------------------------------------------------------- one tier


def bench_tier(work: Path, households: int, reuse: bool) -> dict:
    tier = work / f"t{households}"
    tier.mkdir(parents=True, exist_ok=True)
    print(f"\n== {households:,} households ({tier})")
    figures: dict = {"households": households, "generate": generate(tier, households, reuse)}
    run_root, later = split_inbox(tier)
    figures["inbox_files"], figures["inbox_bytes"] = inbox_size(run_root / "inbox")
    figures["landing_floor"] = landing_floor(run_root / "inbox", tier / "floor_parquet")
    figures["full"] = _metered_run(run_root, FIRST_RUN, "full run")
    floor, out = measured(child("floor_build", str(run_root)), "build floor")
    figures["build_floor"] = floor | json.loads(out.splitlines()[-1])
    deliver(later, run_root / "inbox")
    figures["incremental"] = _metered_run(run_root, RUN, "incremental run")
    _, out = measured(child("score", str(run_root), RUN.isoformat()), "score")
    figures["score"] = json.loads(out.splitlines()[-1])
    figures["lake_bytes"] = sum(p.stat().st_size for p in (run_root / "lake").rglob("*.parquet"))
    (tier / "figures.json").write_text(json.dumps(figures, indent=2))
    return figures


def landing_floor(inbox: Path, out: Path) -> dict:
    """The faster of two conversions: the first also warms the page cache, as the landing finds it warm."""
    tries = []
    for _ in range(2):
        floor, printed = measured(child("floor_land", str(inbox), str(out)), "landing floor")
        tries.append(floor | json.loads(printed.splitlines()[-1]))
    shutil.rmtree(out, ignore_errors=True)
    best = min(tries, key=lambda f: f["wall_s"])
    walls = " / ".join(f"{t['wall_s']:.1f}" for t in tries)
    print(f"  landing floor {walls} s (best kept)")
    return best | {"tries_wall_s": [t["wall_s"] for t in tries]}


def _metered_run(run_root: Path, run_date: dt.date, label: str) -> dict:
    whole, out = measured(child("run", str(run_root), run_date.isoformat()), label)
    run = json.loads(out.splitlines()[-1])
    run["whole"] = whole
    print(f"  {label} {whole['wall_s']:.1f} s, peak {whole['peak_rss_mib']:.0f} MiB")
    return run


# ---------------------------------------------------------------- report


def report(figures: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    n = figures["households"]
    table = Table(
        title=f"{n:,} households — inbox {figures['inbox_files']} files, "
        f"{figures['inbox_bytes'] / 2**20:,.0f} MiB; lake {figures['lake_bytes'] / 2**20:,.0f} MiB"
    )
    for column in ("stage", "wall s", "CPU s", "peak MiB"):
        table.add_column(column, justify="left" if column == "stage" else "right")

    def row(label: str, f: dict) -> None:
        table.add_row(label, f"{f['wall_s']:,.1f}", f"{f['cpu_s']:,.1f}", f"{f['peak_rss_mib']:,.0f}")

    row("generate (13 months)", figures["generate"])
    row("landing floor (DuckDB CSV→Parquet)", figures["landing_floor"])
    for stage in figures["full"]["stages"]:
        row(f"full · {stage['stage']}", stage)
    row("full run (process)", figures["full"]["whole"])
    row("build floor (DuckDB scan of lake columns)", figures["build_floor"])
    for stage in figures["incremental"]["stages"]:
        row(f"incremental · {stage['stage']}", stage)
    row("incremental run (process)", figures["incremental"]["whole"])
    console.print(table)
    console.print(ratios(figures))
    for run in ("full", "incremental"):
        f = figures[run]
        nodes = ", ".join(f"{name} {s:.0f}" for name, s in f["slowest_nodes"].items())
        console.print(f"{run} build ({f['refresh']}: {f['refresh_reason']}); slowest nodes, s: {nodes}")


def ratios(figures: dict) -> str:
    full = figures["full"]["whole"]
    stages = {s["stage"]: s for s in figures["full"]["stages"]}
    incremental = figures["incremental"]["whole"]["wall_s"] / full["wall_s"]
    landing = stages["land"]["wall_s"] / figures["landing_floor"]["wall_s"]
    build = stages["build"]["wall_s"] / figures["build_floor"]["wall_s"]
    peak = max(full["peak_rss_mib"], figures["incremental"]["whole"]["peak_rss_mib"])
    score = figures["score"]

    def verdict(ok: bool) -> str:
        return "[green]met[/green]" if ok else "[red]missed[/red]"

    return "\n".join([
        f"full run {full['wall_s'] / 60:.1f} min "
        f"(target ≤ 7 min at 800,000: {verdict(full['wall_s'] <= TARGET_FULL_S)})",
        f"peak memory {peak / 1024:.2f} GiB (target ≤ 8 GiB: {verdict(peak <= TARGET_PEAK_MIB)})",
        f"incremental / full {incremental:.0%} (target ≤ 25%: {verdict(incremental <= TARGET_INCREMENTAL)})",
        f"landing / floor {landing:.2f}× (target ≤ 2×: {verdict(landing <= TARGET_LANDING_X)})",
        f"build / floor {build:.1f}× (target ≤ 25×: {verdict(build <= TARGET_BUILD_X)})",
        f"warnings vs truth at {RUN}: expected {score['expected']}, raised {score['raised']}, "
        f"missing {score['missing']}, extra {score['extra']}",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiers", default="2000,80000,800000", help="household counts, comma-separated")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "run", help="where the tiers go")
    parser.add_argument("--reuse", action="store_true", help="reuse a tier's generated province if present")
    parser.add_argument("--generate-only", action="store_true", help="only generate the tiers (for a later --reuse)")
    args = parser.parse_args()
    for households in (int(n) for n in args.tiers.split(",")):
        if args.generate_only:
            tier = args.work.resolve() / f"t{households}"
            tier.mkdir(parents=True, exist_ok=True)
            print(generate(tier, households, args.reuse))
        else:
            report(bench_tier(args.work.resolve(), households, args.reuse))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        sys.path.insert(0, str(ROOT))
        {"_floor_land": _floor_land, "_floor_build": _floor_build, "_run": _run, "_score": _score}[sys.argv[1]](
            *sys.argv[2:]
        )
    else:
        main()
