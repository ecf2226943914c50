"""Check-step benchmark (a script, not a test): validation time as a share of landing time.

    uv run python bench/bench_checks.py [--households 200000] [--months 3] [--out bench/out]
    uv run python bench/bench_checks.py --generator   # the synthetic province of synthetic
    uv run python bench/bench_checks.py --recheck     # check the landed root of an earlier run again

A province of deliveries is written to an inbox (by default a plain one made here: rosters, payments,
settlements, contributions, disability, 防返贫, deaths, cremations and disasters for each month, at
realistic volumes per household; with --generator the project's generator), landed in one process,
then checked in another; each process reports its wall time and peak RSS.
Target (issue "Data quality"): the check step ≤ 25 % of landing time at 200,000 households.
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

import numpy as np
import polars as pl

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
COUNTIES = ["370102", "370103", "370211", "370302", "370402", "370502", "370602", "370702", "370811", "370902"]
# rows per household per month (members 2.5; payments to 特困/低保 households; a fifth of people see a doctor)
VOLUME = {
    "mz_member": 2.5,
    "mz_payment": 0.8,
    "ybj_settlement": 0.5,
    "rsj_contribution": 0.3,
    "cl_disability": 0.15,
    "nync_monitored": 0.1,
    "wjw_death": 0.003,
    "mz_cremation": 0.002,
    "yjj_disaster": 0.002,
}


def ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n valid, distinct ID numbers (sequence numbers drawn without repeats per region and birth day)."""
    region = rng.choice(COUNTIES, n)
    born = np.datetime64("1940-01-01") + rng.integers(0, 365 * 80, n).astype("timedelta64[D]")
    ymd = np.char.replace(np.datetime_as_string(born).astype("U10"), "-", "")
    seq = np.arange(n) % 1000
    first17 = np.char.add(np.char.add(region, ymd), np.char.zfill(seq.astype("U3"), 3))
    codes = first17.view("U1").reshape(n, 17).astype(np.int64)
    check = np.array(list("10X98765432"))[(codes * WEIGHTS).sum(axis=1) % 11]
    return np.unique(np.char.add(first17, check))


class Province:
    def __init__(self, households: int, seed: int = 7):
        self.rng = np.random.default_rng(seed)
        self.n = households
        self.people = ids(self.rng, int(households * 4))
        self.heads = self.people[:households]
        self.villages = np.char.add(self.rng.choice(COUNTIES, households), "001001")

    def month(self, cutoff: dt.date) -> dict[str, pl.DataFrame]:
        rng, n = self.rng, self.n
        hid = np.char.add("H", np.char.zfill(np.arange(n).astype("U7"), 7))
        member_of = rng.integers(0, n, int(n * VOLUME["mz_member"]))
        person = self.people[n : n + member_of.size]
        day = cutoff.replace(day=1)

        def sample(dataset: str) -> int:
            return max(1, int(n * VOLUME[dataset]))

        frames = {
            "mz_household": pl.DataFrame(
                {
                    "家庭编号": hid,
                    "行政区划代码": self.villages,
                    "城乡类别": rng.choice(["城市", "农村"], n),
                    "户主姓名": "张三",
                    "户主身份证号": self.heads,
                    "救助类别": rng.choice(["低保", "特困", "低保边缘"], n),
                    "保障状态": "在保",
                    "认定日期": "2021-05-01",
                    "家庭人口数": rng.integers(1, 6, n),
                    "家庭年收入": rng.integers(0, 30_000, n),
                    "月保障金额": rng.integers(300, 900, n),
                }
            ),
            "mz_member": pl.DataFrame(
                {
                    "家庭编号": hid[member_of],
                    "姓名": "李四",
                    "身份证号": person,
                    "与户主关系": rng.choice(["配偶", "子女", "父母"], member_of.size),
                    "劳动能力": "有劳动能力",
                    "健康状况": rng.choice(["健康", "慢性病", ""], member_of.size),
                }
            ),
        }
        k = sample("mz_payment")
        frames["mz_payment"] = pl.DataFrame(
            {
                "发放流水号": np.char.add(f"P{cutoff:%Y%m}", np.arange(k).astype("U8")),
                "发放年月": f"{cutoff:%Y%m}",
                "家庭编号": hid[:k],
                "领取人身份证号": self.heads[:k],
                "救助项目": "低保金",
                "发放金额": rng.integers(300, 900, k),
                "发放日期": (day + dt.timedelta(days=9)).isoformat(),
            }
        )
        k = sample("ybj_settlement")
        self_paid = rng.integers(50, 5000, k)
        fund = rng.integers(0, 8000, k)
        frames["ybj_settlement"] = pl.DataFrame(
            {
                "结算编号": np.char.add(f"S{cutoff:%Y%m}", np.arange(k).astype("U8")),
                "身份证号": self.people[rng.integers(0, self.people.size, k)],
                "姓名": "王五",
                "参保地": "370102",
                "就诊类别": rng.choice(["普通门诊", "住院"], k),
                "医疗机构名称": "乡镇卫生院",
                "结算日期": (day + dt.timedelta(days=5)).isoformat(),
                "医疗总费用": self_paid + fund,
                "统筹基金支付": fund,
                "大病保险支付": "",
                "医疗救助支付": "",
                "个人负担": self_paid,
                "结算类型": "正常",
                "原结算编号": "",
            }
        )
        k = sample("rsj_contribution")
        frames["rsj_contribution"] = pl.DataFrame(
            {
                "身份证号": self.people[-k:],
                "姓名": "赵六",
                "缴费年月": f"{cutoff:%Y%m}",
                "险种": "企业职工基本养老保险",
                "缴费基数": rng.integers(3000, 9000, k),
                "单位名称": "某公司",
            }
        )
        k = sample("cl_disability")
        cert = self.people[2 * n : 2 * n + k]
        frames["cl_disability"] = pl.DataFrame(
            {
                "残疾人证号": np.char.add(cert, "42"),
                "姓名": "孙七",
                "身份证号": cert,
                "残疾类别": "肢体",
                "残疾等级": "二级",
                "发证日期": f"2015-{cutoff.month:02d}-01",
                "享受困难残疾人生活补贴": "是",
                "享受重度残疾人护理补贴": "",
            }
        )
        k = sample("nync_monitored")
        frames["nync_monitored"] = pl.DataFrame(
            {
                "户编码": np.char.add("R", np.arange(k).astype("U8")),
                "户主姓名": "周八",
                "户主身份证号": self.people[3 * n : 3 * n + k],
                "行政区划代码": self.villages[:k],
                "监测对象类别": "边缘易致贫户",
                "识别日期": "2022-03-01",
                "风险消除情况": "未消除",
                "家庭人口数": 3,
                "家庭年人均纯收入": rng.integers(5000, 15000, k),
            }
        )
        frames |= self._events(cutoff, day, sample)
        return frames

    def _events(self, cutoff: dt.date, day: dt.date, sample) -> dict[str, pl.DataFrame]:
        rng = self.rng
        k = sample("wjw_death")
        dead = self.people[rng.integers(0, self.people.size, k)]
        died = (day + dt.timedelta(days=3)).isoformat()
        return {
            "wjw_death": pl.DataFrame(
                {
                    "证明编号": np.char.add(f"W{cutoff:%Y%m}", np.arange(k).astype("U8")),
                    "姓名": "吴九",
                    "身份证号": dead,
                    "死亡日期": died,
                    "死亡原因": "",
                }
            ),
            "mz_cremation": pl.DataFrame(
                {
                    "火化证明编号": np.char.add(f"C{cutoff:%Y%m}", np.arange(sample("mz_cremation")).astype("U8")),
                    "逝者姓名": "吴九",
                    "逝者身份证号": dead[: sample("mz_cremation")],
                    "死亡日期": died,
                    "火化日期": (day + dt.timedelta(days=6)).isoformat(),
                    "殡仪馆": "市殡仪馆",
                }
            ),
            "yjj_disaster": pl.DataFrame(
                {
                    "救助记录编号": np.char.add(f"D{cutoff:%Y%m}", np.arange(sample("yjj_disaster")).astype("U8")),
                    "灾害类型": "洪涝",
                    "灾害发生日期": died,
                    "户主姓名": "郑十",
                    "户主身份证号": self.heads[: sample("yjj_disaster")],
                    "行政区划代码": self.villages[: sample("yjj_disaster")],
                    "受灾人口数": 3,
                    "房屋受损情况": "一般损坏",
                    "直接经济损失": 8000,
                    "已发放救助金额": "",
                }
            ),
        }


def month_ends(last: dt.date, months: int) -> list[dt.date]:
    ends, current = [], last
    for _ in range(months):
        ends.append(current)
        current = current.replace(day=1) - dt.timedelta(days=1)
    return sorted(ends)


def build_inbox(inbox: Path, households: int, months: int, run_date: dt.date) -> int:
    inbox.mkdir(parents=True, exist_ok=True)
    province, rows = Province(households), 0
    for cutoff in month_ends(run_date, months):
        for dataset, frame in province.month(cutoff).items():
            frame.write_csv(inbox / f"{dataset}_{cutoff:%Y%m%d}.csv")
            rows += frame.height
    return rows


def _data_rows(path: Path) -> int:
    """Rows of a CSV file written by the generator, without its header line."""
    with open(path, "rb") as f:
        return sum(1 for _ in f) - 1


LAND = """
import json, resource, sys, time
from pathlib import Path
from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
started = time.perf_counter()
results = land_inbox(DataRoot(Path(sys.argv[1])))
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "files": len(results), "rows_landed": sum(r.rows_landed for r in results),
                  "statuses": sorted({r.status for r in results})}))
"""
CHECK = """
import json, resource, sys, time
from pathlib import Path
from expectations.runner import check_pending
from ingestion.settings import DataRoot
started = time.perf_counter()
summary = check_pending(DataRoot(Path(sys.argv[1])))
per = {}
for c in summary.deliveries:
    fig = per.setdefault(c.delivery.dataset, {"seconds": summary.dataset_seconds[c.delivery.dataset], "rows": 0,
                                              "deliveries": 0, "held": 0})
    fig["rows"] += c.delivery.rows_landed; fig["deliveries"] += 1; fig["held"] += c.held
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
                  "gx_start": summary.gx_start_seconds, "gx_wait": summary.gx_wait_seconds,
                  "docs": summary.docs_seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "deliveries": len(summary.deliveries), "held": [c.delivery.file_name for c in summary.held],
                  "reasons": [r for c in summary.held for r in c.reasons], "per_dataset": per}))
"""
FORGET = """
import shutil, sys
from pathlib import Path
from ingestion.ledger import open_ledger
from ingestion.settings import DataRoot
root = DataRoot(Path(sys.argv[1]))
with open_ledger(root) as conn:
    conn.execute("DROP TABLE IF EXISTS checks")
    conn.execute("DELETE FROM holds")
for folder in ("gx", "data_docs"):
    shutil.rmtree(root.root / folder, ignore_errors=True)
"""
GENERATE = """
import datetime as dt, sys
from pathlib import Path
from ingestion.settings import DataRoot
from synthetic import generate_province
from synthetic.load import SCALE_WARNING_RATE
generate_province(DataRoot(Path(sys.argv[1])), households=int(sys.argv[2]), months=int(sys.argv[3]),
                  run_date=dt.date.fromisoformat(sys.argv[4]), warning_rate=SCALE_WARNING_RATE)
"""


def child(code: str, *args: str) -> dict:
    env = {**os.environ, "SAFETYNET_PSEUDONYM_KEY": "cd" * 32}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"child failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def report(households: int, rows: int, land: dict, check: dict) -> None:
    print(
        f"\nprovince: {households:,} households, {land['files']} files, {rows:,} rows written, "
        f"{land['rows_landed']:,} landed ({', '.join(land['statuses'])}); load average now {os.getloadavg()[0]:.1f}"
    )
    print(f"{'step':<30}{'wall s':>9}{'cpu s':>9}{'peak RSS MB':>13}")
    print(f"{'land (ingestion)':<30}{land['wall']:>9.1f}{land['cpu']:>9.1f}{land['rss_mb']:>13,.0f}")
    print(f"{'check (expectations)':<30}{check['wall']:>9.1f}{check['cpu']:>9.1f}{check['rss_mb']:>13,.0f}")
    print(f"{'  GX import, in background':<30}{check['gx_start']:>9.1f}")
    print(f"{'  waiting for it':<30}{check['gx_wait']:>9.1f}")
    print(f"{'  Data Docs':<30}{check['docs']:>9.1f}")
    print(
        f"check / land: wall {check['wall'] / land['wall']:.1%}, cpu {check['cpu'] / land['cpu']:.1%} "
        f"(target ≤ 25 %); {check['deliveries']} deliveries checked, held: {check['held'] or 'none'}"
    )
    for reason in check["reasons"]:
        print(f"  held because {reason}")
    print(f"\n{'dataset (measure + validate)':<30}{'deliveries':>11}{'rows':>12}{'wall s':>9}{'rows/s':>12}")
    for dataset, fig in sorted(check["per_dataset"].items(), key=lambda kv: -kv[1]["seconds"]):
        print(
            f"{dataset:<30}{fig['deliveries']:>11}{fig['rows']:>12,}{fig['seconds']:>9.2f}"
            f"{fig['rows'] / max(fig['seconds'], 1e-9):>12,.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--run-date", default="2026-10-31")
    parser.add_argument("--generator", action="store_true", help="use synthetic.generate_province")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="keep the landed data root of an earlier run; forget its checks and check again",
    )
    args = parser.parse_args()
    root = (args.out / f"checks-{args.households}-{args.months}").resolve()
    if args.recheck and (root / "bench-land.json").exists():
        child(FORGET, str(root))
        land = json.loads((root / "bench-land.json").read_text())
        report(args.households, land["rows_written"], land, child(CHECK, str(root)))
        return
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    if args.generator:
        child(GENERATE, str(root), str(args.households), str(args.months), args.run_date)
        rows = sum(_data_rows(p) for p in (root / "inbox").rglob("*.csv"))
    else:
        rows = build_inbox(root / "inbox", args.households, args.months, dt.date.fromisoformat(args.run_date))
    print(f"inbox written in {time.perf_counter() - started:.1f} s")
    land = child(LAND, str(root)) | {"rows_written": rows}
    (root / "bench-land.json").write_text(json.dumps(land))
    check = child(CHECK, str(root))
    report(args.households, rows, land, check)


if __name__ == "__main__":
    main()
