"""The check step end to end: real landing of small deliveries, GX validation, holds, release, docs.

One data root is landed and checked once per module (GX takes ~7 s to import); tests that change it
work on a copy.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from expectations.runner import ReleaseError, check_pending, holds_in_force, release
from ingestion.idcard import make_id
from ingestion.landing import land_inbox
from ingestion.settings import DataRoot

HOUSEHOLD_HEADER = [
    "家庭编号",
    "行政区划代码",
    "城乡类别",
    "户主姓名",
    "户主身份证号",
    "救助类别",
    "保障状态",
    "认定日期",
    "家庭人口数",
    "家庭年收入",
    "月保障金额",
]
MEMBER_HEADER = ["家庭编号", "姓名", "身份证号", "与户主关系", "劳动能力", "健康状况"]
SETTLEMENT_HEADER = [
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
PAYMENT_HEADER = ["发放流水号", "发放年月", "家庭编号", "领取人身份证号", "救助项目", "发放金额", "发放日期"]
DISASTER_HEADER = [
    "救助记录编号",
    "灾害类型",
    "灾害发生日期",
    "户主姓名",
    "户主身份证号",
    "行政区划代码",
    "受灾人口数",
    "房屋受损情况",
    "直接经济损失",
    "已发放救助金额",
]
NAMES = ("张伟", "王芳", "李娜", "刘洋")

# the planted bad deliveries and the check that must hold each
EXPECTED_HOLDS = {
    "mz_household_20261031.csv": "row_count_vs_previous__critical",  # roster truncated by 40 %
    "ybj_settlement_20261031.csv": "median_shift__self_paid__critical",  # amounts ×100
    "mz_payment_20260930.csv": "key_unique__critical",  # 12 of 211 rows share a payment number: a doubled export
    "mz_member_20260731.csv": "reference__household_id__critical",  # members of unknown households
}


def person_id(i: int) -> str:
    """A valid, distinct ID for i < 25,000 (37 is prime to 25,000); born 1940 … 2008."""
    return make_id("370102", dt.date(1940, 1, 1) + dt.timedelta(days=37 * i % 25_000), i)


def head_id(h: int) -> str:
    return person_id(10_000 + h)


def all_ids() -> set[str]:
    """Every ID number the fixtures deliver."""
    return {person_id(i) for i in range(2_000)} | {head_id(h) for h in range(300)}


def write_csv(inbox: Path, name: str, header: list[str], rows: list[list[object]]) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    with open(inbox / name, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])


def households(n: int, month: int) -> list[list[object]]:
    return [
        [
            f"H{h:05d}",
            "370102001001",
            "城市",
            NAMES[h % 4],
            head_id(h),
            "低保",
            "在保",
            "2020-03-01",
            2,
            12_000 + h + month,
            500,
        ]
        for h in range(n)
    ]


def members(household_numbers: range, prefix: str = "H") -> list[list[object]]:
    return [
        [f"{prefix}{h:05d}", NAMES[(h + k) % 4], person_id(2 * h + k), "配偶" if k else "子女", "有劳动能力", "健康"]
        for h in household_numbers
        for k in (0, 1)
    ]


def settlements(month: dt.date, n: int, factor: int = 1, seed: int = 1) -> list[list[object]]:
    rng = random.Random(seed)
    rows: list[list[object]] = []
    for i in range(n):
        self_paid = rng.randint(100, 3000) * factor
        fund = 2 * self_paid
        settled = month + dt.timedelta(days=i % 28)
        rows.append(
            [
                f"S{month:%Y%m}{i:05d}",
                person_id(i % 150),
                NAMES[i % 4],
                "370102",
                "普通门诊",
                "某医院",
                settled.isoformat(),
                fund + self_paid,
                fund,
                0,
                0,
                self_paid,
                "正常",
                "",
            ]
        )
    original = rows[0]
    rows.append(
        [
            f"S{month:%Y%m}R0001",
            original[1],
            original[2],
            "370102",
            "普通门诊",
            "",
            original[6],
            -original[7],
            -original[8],
            0,
            0,
            -original[11],
            "冲销",
            original[0],
        ]
    )  # one reversal
    return rows


def payments(month: dt.date, n: int, duplicates: int = 0) -> list[list[object]]:
    rows: list[list[object]] = [
        [
            f"P{month:%Y%m}{i:05d}",
            f"{month:%Y%m}",
            f"H{i:05d}",
            person_id(2 * i),
            "低保金",
            600 + i % 7,
            (month + dt.timedelta(days=9)).isoformat(),
        ]
        for i in range(n)
    ]
    return rows + [list(rows[3 + 7 * i]) for i in range(duplicates)]


def disasters(n: int, huge_loss: bool) -> list[list[object]]:
    rows: list[list[object]] = [
        [f"D{i:04d}", "洪涝", "2026-10-02", NAMES[i % 4], head_id(i), "370102001001", 3, "一般损坏", 5_000 + i, 0]
        for i in range(n)
    ]
    if huge_loss:
        rows[0][8] = 80_000_000  # implausible, but only a warning
    return rows


def build_inbox(inbox: Path) -> None:
    jul, aug, sep, oct_ = (dt.date(2026, m, 1) for m in (7, 8, 9, 10))
    write_csv(inbox, "mz_household_20260731.csv", HOUSEHOLD_HEADER, households(200, 7))
    write_csv(inbox, "mz_member_20260731.csv", MEMBER_HEADER, members(range(200), prefix="X"))
    write_csv(inbox, "mz_household_20260831.csv", HOUSEHOLD_HEADER, households(200, 8))
    write_csv(inbox, "mz_member_20260831.csv", MEMBER_HEADER, members(range(200)))
    write_csv(inbox, "mz_household_20260930.csv", HOUSEHOLD_HEADER, households(205, 9))
    # three members of households the roster does not hold: a warning, not a hold
    write_csv(inbox, "mz_member_20260930.csv", MEMBER_HEADER, members(range(205)) + members(range(900, 903))[:3])
    write_csv(inbox, "mz_household_20261031.csv", HOUSEHOLD_HEADER, households(123, 10))  # 40 % cut
    write_csv(inbox, "mz_member_20261031.csv", MEMBER_HEADER, members(range(206)))
    write_csv(inbox, "ybj_settlement_20260831.csv", SETTLEMENT_HEADER, settlements(aug, 300, seed=1))
    write_csv(inbox, "ybj_settlement_20260930.csv", SETTLEMENT_HEADER, settlements(sep, 310, seed=2))
    write_csv(inbox, "ybj_settlement_20261031.csv", SETTLEMENT_HEADER, settlements(oct_, 305, factor=100, seed=3))
    # one payment exported twice (a warning: the models keep one version), then a doubled export (held)
    write_csv(inbox, "mz_payment_20260831.csv", PAYMENT_HEADER, payments(aug, 200, duplicates=1))
    write_csv(inbox, "mz_payment_20260930.csv", PAYMENT_HEADER, payments(sep, 205, duplicates=6))
    write_csv(inbox, "mz_payment_20261031.csv", PAYMENT_HEADER, payments(oct_, 206))
    write_csv(inbox, "yjj_disaster_20261031.csv", DISASTER_HEADER, disasters(12, huge_loss=True))
    del jul


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataRoot, object]:
    root = DataRoot(tmp_path_factory.mktemp("dq") / "data")
    build_inbox(root.inbox)
    landed = land_inbox(root)
    assert all(r.status == "landed" for r in landed), [(r.file_name, r.status, r.reason) for r in landed]
    return root, check_pending(root)


@pytest.fixture()
def copy_of(checked: tuple[DataRoot, object], tmp_path: Path) -> Iterator[DataRoot]:
    root, _ = checked
    target = tmp_path / "data"
    shutil.copytree(root.root, target)
    yield DataRoot(target)


def ledger_rows(root: DataRoot, sql: str, *args: object) -> list[sqlite3.Row]:
    conn = sqlite3.connect(root.ledger)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def deliveries(root: DataRoot) -> pl.DataFrame:
    return pl.read_parquet(root.lake / "_deliveries.parquet")


def test_each_planted_bad_delivery_is_held_with_its_reason(checked):
    root, summary = checked
    held = {c.delivery.file_name: c for c in summary.held}
    assert set(held) == set(EXPECTED_HOLDS)
    for file_name, check in EXPECTED_HOLDS.items():
        reasons = held[file_name].reasons
        assert any(r.startswith(f"{check}:") for r in reasons), (file_name, reasons)
    holds = ledger_rows(root, "SELECT h.*, l.file_name FROM holds h JOIN landings l USING (sha256)")
    assert {h["file_name"]: h["released"] for h in holds} == dict.fromkeys(EXPECTED_HOLDS, 0)
    for h in holds:
        assert EXPECTED_HOLDS[h["file_name"]] in h["reason"]


def test_reasons_say_what_was_compared(checked):
    _, summary = checked
    by_file = {c.delivery.file_name: c for c in summary.held}
    truncated = by_file["mz_household_20261031.csv"].reasons[0]
    assert "123 rows" in truncated and "mz_household_20260930.csv: 205 rows" in truncated
    shifted = next(r for r in by_file["ybj_settlement_20261031.csv"].reasons if r.startswith("median_shift"))
    assert "×100" in shifted or "×99" in shifted or "×10" in shifted
    assert "against ybj_settlement_20260930.csv" in shifted


def test_good_deliveries_pass(checked):
    _, summary = checked
    good = [c for c in summary.deliveries if c.delivery.file_name not in EXPECTED_HOLDS]
    assert len(good) == 11
    assert all(not c.held and c.failed_critical == 0 and c.passed > 5 for c in good)


def test_warnings_are_recorded_without_holding(checked):
    root, summary = checked
    by_file = {c.delivery.file_name: c for c in summary.deliveries}
    disaster = by_file["yjj_disaster_20261031.csv"]
    assert not disaster.held and any(w.startswith("range__loss:") for w in disaster.warnings)
    twice = by_file["mz_payment_20260831.csv"]
    assert not twice.held and any(w.startswith("key_unique:") for w in twice.warnings)
    orphans = by_file["mz_member_20260930.csv"]
    assert not orphans.held and any(w.startswith("reference__household_id__warning:") for w in orphans.warnings)
    row = ledger_rows(root, "SELECT * FROM checks WHERE expectation = 'range__loss'")[0]
    assert (row["severity"], row["success"]) == ("warning", 0)


def test_results_are_stored_one_row_per_expectation(checked):
    root, summary = checked
    for c in summary.deliveries:
        rows = ledger_rows(root, "SELECT * FROM checks WHERE sha256 = ?", c.delivery.sha256)
        assert len(rows) == c.passed + c.failed_warning + c.failed_critical
        assert {r["suite"] for r in rows} == {c.delivery.dataset}
        assert all(r["severity"] in ("critical", "warning") for r in rows)


def test_first_delivery_is_not_compared_with_a_previous_one(checked):
    root, _ = checked
    row = ledger_rows(
        root,
        "SELECT c.* FROM checks c JOIN landings l USING (sha256) WHERE l.file_name = ? "
        "AND c.expectation = 'row_count_vs_previous__critical'",
        "mz_household_20260731.csv",
    )[0]
    assert row["success"] == 1 and "no previous good delivery" in row["observed"]


def test_held_deliveries_are_not_in_use_and_the_last_good_one_is(checked):
    root, _ = checked
    frame = deliveries(root)
    in_use = dict(zip(frame["file_name"], frame["in_use"]))
    for file_name in EXPECTED_HOLDS:
        assert in_use[file_name] is False
    assert in_use["mz_household_20260930.csv"] and in_use["ybj_settlement_20260930.csv"]


def test_a_later_delivery_is_compared_with_the_last_good_one(copy_of):
    root = copy_of
    write_csv(root.inbox, "mz_household_20261031_2.csv", HOUSEHOLD_HEADER, households(207, 10))
    land_inbox(root)
    summary = check_pending(root)
    assert [c.delivery.file_name for c in summary.deliveries] == ["mz_household_20261031_2.csv"]
    only = summary.deliveries[0]
    assert not only.held
    row = ledger_rows(
        root,
        "SELECT observed FROM checks WHERE sha256 = ? AND expectation = ?",
        only.delivery.sha256,
        "row_count_vs_previous__critical",
    )[0]
    assert "mz_household_20260930.csv: 205 rows" in row["observed"]  # not the held _1
    frame = deliveries(root).filter(pl.col("dataset") == "mz_household", pl.col("in_use"))
    assert frame["file_name"].to_list()[-1] == "mz_household_20261031_2.csv"


def test_rerunning_the_check_does_not_duplicate_results(copy_of):
    root = copy_of
    before = ledger_rows(root, "SELECT COUNT(*) AS n FROM checks")[0]["n"]
    holds_before = ledger_rows(root, "SELECT COUNT(*) AS n FROM holds")[0]["n"]
    summary = check_pending(root)
    assert summary.deliveries == []
    assert ledger_rows(root, "SELECT COUNT(*) AS n FROM checks")[0]["n"] == before
    assert ledger_rows(root, "SELECT COUNT(*) AS n FROM holds")[0]["n"] == holds_before
    assert before > 15 * 10


def test_release_puts_a_held_delivery_back_in_use(copy_of):
    root = copy_of
    sha = release(root, "ybj_settlement_20261031.csv", by="王工", note="confirmed with 医保: amounts in 分")
    hold = ledger_rows(root, "SELECT * FROM holds WHERE sha256 = ?", sha)[0]
    assert (hold["released"], hold["released_by"], hold["release_note"]) == (
        1,
        "王工",
        "confirmed with 医保: amounts in 分",
    )
    assert hold["released_at"]
    in_use = deliveries(root).filter(pl.col("sha256") == sha)["in_use"].to_list()
    assert in_use == [True]
    assert "ybj_settlement_20261031.csv" not in {h.file_name for h in holds_in_force(root)}
    with pytest.raises(ReleaseError):
        release(root, "ybj_settlement_20261031.csv", by="王工", note="again")
    assert check_pending(root).deliveries == []  # a release does not re-check


def test_release_by_sha_prefix_and_refusals(copy_of):
    root = copy_of
    sha = ledger_rows(root, "SELECT sha256 FROM landings WHERE file_name = 'mz_payment_20260930.csv'")[0]["sha256"]
    with pytest.raises(ValueError):
        release(root, sha[:12], by="", note="no name")
    with pytest.raises(ReleaseError):
        release(root, "mz_payment_20261031.csv", by="王工", note="not held")
    assert release(root, sha[:12], by="王工", note="duplicate is a known re-issue") == sha


def test_no_id_number_or_name_in_check_results(checked):
    root, _ = checked
    text = json.dumps([dict(r) for r in ledger_rows(root, "SELECT * FROM checks")], ensure_ascii=False)
    text += json.dumps([dict(r) for r in ledger_rows(root, "SELECT * FROM holds")], ensure_ascii=False)
    assert not any(id18 in text for id18 in all_ids())
    assert not any(name in text for name in NAMES)


def test_data_docs_show_the_held_delivery(checked):
    root, _ = checked
    index = root.root / "data_docs" / "index.html"
    assert index.exists()
    pages = list((root.root / "data_docs" / "validations").rglob("*.html"))
    # one validation per dataset and round (a hold starts a new round for the later deliveries)
    assert len(pages) == 5 + 2
    assert any("ybj_settlement_20261031.csv" in p.read_text() for p in pages)
    suites = {p.stem for p in (root.root / "data_docs" / "expectations").rglob("*.html")}
    assert {"mz_household", "mz_member", "ybj_settlement", "mz_payment", "yjj_disaster"} <= suites
    docs = "".join(p.read_text() for p in (root.root / "data_docs").rglob("*.html"))
    assert not any(id18 in docs for id18 in all_ids())


def test_cli_check_prints_the_table_and_the_holds(copy_of, monkeypatch):
    from typer.testing import CliRunner

    from warehouse import cli
    from warehouse.cli import app

    monkeypatch.setattr(cli.console, "_width", 200)  # full width (restored to None: the width setter would pin 80)
    root = copy_of
    write_csv(
        root.inbox,
        "wjw_death_20261031.csv",
        ["证明编号", "姓名", "身份证号", "死亡日期", "死亡原因"],
        [[f"C{i}", NAMES[i % 4], person_id(i), "2026-10-01", ""] for i in range(5)],
    )
    land_inbox(root)
    result = CliRunner().invoke(app, ["check", "--data", str(root.root)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "wjw_death_20261031.csv" in result.output
    assert "mz_household_20261031.csv" in result.output and "row_count_vs_previous__critical" in result.output
    assert "Calculating Metrics" not in result.output and "great_expectations" not in result.output
    released = CliRunner().invoke(
        app,
        [
            "check",
            "--data",
            str(root.root),
            "--release",
            "mz_household_20261031.csv",
            "--by",
            "王工",
            "--note",
            "roster really shrank",
        ],
        env={"COLUMNS": "200"},
    )
    assert released.exit_code == 0, released.output
    assert "released" in released.output
    assert len(holds_in_force(root)) == len(EXPECTED_HOLDS) - 1
    refused = CliRunner().invoke(app, ["check", "--data", str(root.root), "--release", "x.csv"])
    assert refused.exit_code != 0


def test_two_check_steps_at_once_check_each_delivery_once(copy_of):
    import threading

    root = copy_of
    before = {r["expectation"] + r["sha256"] for r in ledger_rows(root, "SELECT * FROM checks")}
    conn = sqlite3.connect(root.ledger)
    with conn:
        conn.execute("DELETE FROM checks")
        conn.execute("DELETE FROM holds")
    conn.close()
    summaries: list = []
    threads = [threading.Thread(target=lambda: summaries.append(check_pending(root))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(s.deliveries) for s in summaries) == [0, 15]
    after = {r["expectation"] + r["sha256"] for r in ledger_rows(root, "SELECT * FROM checks")}
    assert after == before
    assert ledger_rows(root, "SELECT COUNT(*) AS n FROM holds")[0]["n"] == len(EXPECTED_HOLDS)
