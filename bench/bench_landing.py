"""Landing benchmark (a script, not a test): a large messy `ybj_settlement` CSV, UTF-8 and GB18030,
landed in full; DuckDB's plain CSV → Parquet conversion of the same UTF-8 file as the yardstick.

    uv run python bench/bench_landing.py [--rows 5000000] [--out bench/out]
    uv run python bench/bench_landing.py --inbox DATA/inbox   # a generated province's inbox, as land_inbox lands it

Each measurement runs in its own process, which reports its wall time, CPU time and peak RSS (VmHWM).
The machine is shared: compare the ratios of one run, and the CPU seconds, rather than absolute walls.
Target (issue "Ingestion"): full landing ≤ 2 × DuckDB's conversion, peak memory < 3 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
COUNTIES = [
    "370102",
    "370103",
    "370211",
    "370302",
    "370402",
    "370502",
    "370602",
    "370702",
    "370811",
    "370902",
    "371002",
    "371102",
    "371302",
    "371402",
    "371502",
    "371602",
    "371702",
]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰")
PROVIDERS = ["山东省立医院", "齐鲁医院", "济南市中心医院", "青岛大学附属医院", "乡镇卫生院", "社区卫生服务中心"]
HEADER = [
    "结算编号",
    "身份证号",
    "姓名",
    "参保地",
    "就诊类别",
    "医疗机构名称",
    "结算日期",
    "医疗总费用",
    "统筹基金支付",
    "大病保险支付",
    "医疗救助支付",
    "个人负担",
    "结算类型",
    "原结算编号",
]
FULL = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    region = rng.choice(COUNTIES, n)
    born = np.datetime64("1940-01-01") + rng.integers(0, 365 * 80, n).astype("timedelta64[D]")
    ymd = np.datetime_as_string(born).astype("U10")
    seq = rng.integers(0, 1000, n)
    first17 = np.char.add(np.char.add(region, np.char.replace(ymd, "-", "")), np.char.zfill(seq.astype("U3"), 3))
    codes = first17.view("U1").reshape(n, 17).astype(np.int64)
    check = np.array(list("10X98765432"))[(codes * WEIGHTS).sum(axis=1) % 11]
    return np.char.add(first17, check)


def _money(frame: pl.DataFrame, column: str, form: np.ndarray) -> pl.Expr:
    cents = pl.col(column)
    text = (cents.abs() // 100).cast(pl.String) + "." + (cents.abs() % 100).cast(pl.String).str.zfill(2)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    grouped = text.str.replace(r"^(\d{1,3})(\d{3})\.", "$1,$2.")
    f = pl.lit(pl.Series(form))
    return (
        pl.when(f == 1)
        .then(sign + grouped)
        .when(f == 2)
        .then(sign + text + "元")
        .when(f == 3)
        .then(sign + "￥" + text)
        .when(f == 4)
        .then(sign + text.str.replace_many(list("0123456789."), list("０１２３４５６７８９．")))
        .otherwise(sign + text)
        .alias(column)
    )


def build_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Realistic messy settlements: mixed date and amount forms, ID variants, reversals, a few bad rows."""
    rng = np.random.default_rng(seed)
    persons = max(rows // 10, 1)
    ids = _ids(rng, persons)
    names = np.char.add(rng.choice(SURNAMES, persons), rng.choice(GIVEN, persons))
    who = rng.integers(0, persons, rows)
    id_text = pl.Series(ids[who])
    id_form = rng.choice(6, rows, p=[0.9, 0.03, 0.03, 0.015, 0.015, 0.01])
    day = np.datetime64("2026-01-01") + rng.integers(0, 300, rows).astype("timedelta64[D]")
    date_form = rng.choice(5, rows, p=[0.6, 0.2, 0.1, 0.05, 0.05])
    kind = rng.choice(20, rows)
    reversal = kind == 0
    self_paid = rng.integers(500, 2_000_000, rows)
    fund = rng.integers(0, 3_000_000, rows)
    crit = np.where(rng.random(rows) < 0.2, rng.integers(0, 500_000, rows), 0)
    aid = np.where(rng.random(rows) < 0.1, rng.integers(0, 200_000, rows), 0)
    total = self_paid + fund + crit + aid + np.where(rng.random(rows) < 0.03, 1234, 0)
    sign = np.where(reversal, -1, 1)
    frame = pl.DataFrame(
        {
            "seq": np.arange(rows),
            "id": id_text,
            "form": id_form,
            "name": names[who],
            "region": np.where(rng.random(rows) < 0.1, "", rng.choice(COUNTIES, rows)),
            "visit": rng.choice(["普通门诊", "门诊慢特病", "住院", " 住院 "], rows),
            "provider": rng.choice(PROVIDERS, rows),
            "day": day,
            "dform": date_form,
            "total": total * sign,
            "fund": fund * sign,
            "crit": crit * sign,
            "aid": aid * sign,
            "self": self_paid * sign,
            "reversal": reversal,
            "blank_crit": rng.random(rows) < 0.3,
            "bad": rng.random(rows) < 0.002,
        }
    )
    money_form = rng.choice(5, rows, p=[0.7, 0.1, 0.1, 0.05, 0.05])
    d = pl.col("day")
    out = frame.select(
        ("JS" + pl.col("seq").cast(pl.String).str.zfill(10)).alias("结算编号"),
        pl.when(pl.col("bad"))
        .then(pl.lit("3.70102E+17"))
        .when(pl.col("form") == 1)
        .then(pl.col("id").str.to_lowercase())
        .when(pl.col("form") == 2)
        .then(" " + pl.col("id") + " ")
        .when((pl.col("form") == 3) & (pl.col("id").str.slice(6, 2) == "19"))
        .then(pl.col("id").str.slice(0, 6) + pl.col("id").str.slice(8, 9))
        .when(pl.col("form") == 4)
        .then(pl.col("id").str.replace_many(list("0123456789"), list("０１２３４５６７８９")))
        .when(pl.col("form") == 5)
        .then(pl.col("id").str.slice(0, 17) + "0")
        .otherwise(pl.col("id"))
        .alias("身份证号"),
        pl.col("name").alias("姓名"),
        pl.col("region").alias("参保地"),
        pl.col("visit").alias("就诊类别"),
        pl.col("provider").alias("医疗机构名称"),
        pl.when(pl.col("dform") == 1)
        .then(d.dt.strftime("%Y/%-m/%-d"))
        .when(pl.col("dform") == 2)
        .then(d.dt.strftime("%Y%m%d"))
        .when(pl.col("dform") == 3)
        .then(d.dt.strftime("%Y年%-m月%-d日"))
        .when(pl.col("dform") == 4)
        .then(d.dt.strftime("%Y-%m-%d 10:30:00"))
        .otherwise(d.dt.strftime("%Y-%m-%d"))
        .alias("结算日期"),
        _money(frame, "total", money_form).alias("医疗总费用"),
        _money(frame, "fund", money_form).alias("统筹基金支付"),
        pl.when(pl.col("blank_crit"))
        .then(pl.lit(""))
        .otherwise(_money(frame, "crit", money_form))
        .alias("大病保险支付"),
        _money(frame, "aid", money_form).alias("医疗救助支付"),
        _money(frame, "self", money_form).alias("个人负担"),
        pl.when(pl.col("reversal"))
        .then(pl.lit("冲销"))
        .when(pl.col("seq") % 7 == 0)
        .then(pl.lit(""))
        .otherwise(pl.lit("正常"))
        .alias("结算类型"),
        pl.when(pl.col("reversal"))
        .then("JS" + (pl.col("seq") - 1).cast(pl.String).str.zfill(10))
        .otherwise(pl.lit(""))
        .alias("原结算编号"),
    )
    out.write_csv(path)


def to_gb18030(source: Path, target: Path) -> None:
    with open(source, encoding="utf-8", newline="") as src, open(target, "w", encoding="gb18030", newline="") as dst:
        shutil.copyfileobj(src, dst, 16 << 20)


LAND = """
import json, sys, time
from pathlib import Path
from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
started = time.perf_counter()
[result] = land_inbox(DataRoot(Path(sys.argv[1])))
wall = time.perf_counter() - started
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"wall": wall, "cpu": time.process_time(), "rss_mb": int(hwm) / 1024, "rows_in": result.rows_in,
                  "landed": result.rows_landed, "rejected": result.rows_rejected, "status": result.status}))
"""
DUCK = """
import json, sys, time, duckdb
started = time.perf_counter()
duckdb.sql(f"COPY (SELECT * FROM read_csv('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet)")
wall = time.perf_counter() - started
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"wall": wall, "cpu": time.process_time(), "rss_mb": int(hwm) / 1024}))
"""


INBOX = """
import json, resource, sys, time
from pathlib import Path
from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
started = time.perf_counter()
results = land_inbox(DataRoot(Path(sys.argv[1])))
wall = time.perf_counter() - started
own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": max(own.ru_maxrss, workers.ru_maxrss) / 1024,
                  "rows_in": sum(r.rows_in for r in results), "files": len(results)}))
"""


def _whole_inbox(inbox: Path, out: Path) -> None:
    """A generated inbox landed in a fresh root (hard links), beside bench_run.py's landing floor of the same files."""
    floor_started, before = time.perf_counter(), os.times()
    floor = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("bench_run.py")), "_floor_land", str(inbox), str(out / "floor")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    floor_wall, after = time.perf_counter() - floor_started, os.times()
    floor_cpu = after.children_user + after.children_system - before.children_user - before.children_system
    floor_rows = json.loads(floor.stdout.strip().splitlines()[-1])["rows"]
    root = out / "root-inbox"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(inbox, root / "inbox", copy_function=os.link)
    landed = _child(INBOX, str(root))
    print(f"landing floor (DuckDB CSV→Parquet): {floor_rows:,} rows in {floor_wall:.1f} s, {floor_cpu:.1f} CPU s")
    print(
        f"landing: {landed['files']} files, {landed['rows_in']:,} rows in {landed['wall']:.1f} s, "
        f"{landed['cpu']:.1f} CPU s (workers included), peak {landed['rss_mb']:,.0f} MB; "
        f"{landed['wall'] / floor_wall:.2f}× the floor's wall"
    )


def _child(code: str, *args: str) -> dict:
    env = {**os.environ, "SAFETYNET_PSEUDONYM_KEY": "cd" * 32}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _land(out: Path, source: Path, label: str) -> dict:
    root = out / f"root-{label}"
    shutil.rmtree(root, ignore_errors=True)
    (root / "inbox").mkdir(parents=True)
    os.link(source, root / "inbox" / "ybj_settlement_20261031.csv")
    return _child(LAND, str(root))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--inbox", type=Path, help="land this generated inbox instead of one settlement file")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build_csv(args.build, args.rows)
        return
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.inbox:
        _whole_inbox(args.inbox.resolve(), out)
        return
    utf8, gb = out / f"settlements-{args.rows}-utf8.csv", out / f"settlements-{args.rows}-gb18030.csv"
    if not utf8.exists():  # built in a child: the parent stays small (building takes GBs)
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--build", str(utf8), "--rows", str(args.rows)], check=True)
        print(f"built {utf8.name}: {utf8.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s")
    if not gb.exists():
        to_gb18030(utf8, gb)
    duck = _child(DUCK, str(utf8), str(out / "duckdb.parquet"))
    figures = {
        "duckdb copy (utf-8)": duck,
        "land utf-8": _land(out, utf8, "utf8"),
        "land gb18030": _land(out, gb, "gb18030"),
    }
    print(f"{'what':<22}{'rows/s':>12}{'wall s':>9}{'cpu s':>8}{'peak RSS MB':>13}{'× duckdb':>10}  counts")
    for label, fig in figures.items():
        counts = (
            ""
            if "landed" not in fig
            else f"in {fig['rows_in']:,} landed {fig['landed']:,} rejected {fig['rejected']:,} ({fig['status']})"
        )
        print(
            f"{label:<22}{args.rows / fig['wall']:>12,.0f}{fig['wall']:>9.1f}{fig['cpu']:>8.1f}{fig['rss_mb']:>13,.0f}"
            f"{fig['wall'] / duck['wall']:>10.2f}  {counts}"
        )


if __name__ == "__main__":
    main()
