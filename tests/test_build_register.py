"""The register across runs (docs/rules.md#warnings): same episode → same warning; 已消除, 已核查, 逾期; the W01
re-raise; a rerun of a date and a rebuild from an empty warehouse give the same register.

Runs: R1 2026-09-30 raises W01 (H01), W04 红 (H08) and W03(a) (H06). Before R2 2026-10-31 the registration is
closed and the W01 warning is answered. R2 is built again from an empty warehouse. Before R3 2026-11-30, H01's
12-month amount grows by exactly reraise_growth. Finally R1 is run again, after everything else.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from test_build_scenario import REGION, born, household, member, settlement
from test_build_support import deliver, feedback_row, session_dir, shared_root

from ingestion.reference import load_reference
from ingestion.settings import DataRoot
from ingestion.workdays import nth_working_day_after
from warehouse.build import build, read_register

R1, R2, R3 = dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 30)
ANSWERED_ON = dt.date(2026, 10, 20)
COMPARED = [
    "warning_id", "rule_code", "sub_case", "level", "household_id", "person_key", "episode", "evidence",
    "raised_on", "deadline", "status", "finding", "first_run_date", "last_run_date", "trigger_amount",
]  # fmt: skip


def _growth(root: DataRoot) -> Decimal:
    params = load_reference(root).parameters_at(R3).filter(pl.col("county_code") == REGION[:6])
    return params.filter(pl.col("parameter") == "reraise_growth")["value"].item()


def _first_run(root: DataRoot) -> None:
    deliver(root, "mz_household", R1, [
        household("H01", "pA1", "最低生活保障", 30000, 1),
        household("H06", "pE2", "低保边缘家庭", 20000, 2),
        household("H08", "pG1", "刚性支出困难家庭", 20000, 1),
    ])  # fmt: skip
    deliver(root, "mz_member", R1, [
        member("H01", "pA1", relation="户主"), member("H06", "pE2", relation="户主"), member("H06", "pE1", age=30),
        member("H08", "pG1", relation="户主"),
    ])  # fmt: skip
    floor = load_reference(root).parameter("w01_floor", REGION[:6], R1)
    deliver(root, "ybj_settlement", R1, [settlement("S1", "pA1", dt.date(2026, 9, 15), floor, medical_aid_paid=1)])
    deliver(root, "yjj_disaster", R1, [
        {"relief_id": "Y1", "hazard": "洪涝", "occurred_on": dt.date(2026, 9, 1), "head_key": "pG1",
         "region_code": REGION, "house_damage": "倒塌", "loss": 1000, "relief_paid": 0},
    ])  # fmt: skip
    deliver(root, "rsj_unemployment", R1, [
        {"registration_id": "U1", "person_key": "pE1", "birth_date": born(30), "registered_on": dt.date(2026, 9, 10)},
    ])  # fmt: skip


def _save(root: DataRoot, name: str) -> pl.DataFrame:
    register = read_register(root)
    register.write_parquet(root.root / f"{name}.parquet")
    return register


def _sequence(root: DataRoot) -> None:
    _first_run(root)
    build(root, R1)
    first = _save(root, "r1")
    w01 = first.filter(pl.col("rule_code") == "W01")["warning_id"].item()
    # before R2: the registration is closed, staff answer the W01 warning
    deliver(root, "rsj_unemployment", R2, [
        {"registration_id": "U1", "person_key": "pE1", "birth_date": born(30), "registered_on": dt.date(2026, 9, 10),
         "closed_on": dt.date(2026, 10, 15), "close_reason": "就业创业"},
    ])  # fmt: skip
    deliver(root, "feedback", R2, [feedback_row(w01, ANSWERED_ON)])
    build(root, R2)
    _save(root, "r2")
    root.warehouse_db.unlink()  # a rebuild from the lake and the ledger alone
    build(root, R2)
    _save(root, "r2_rebuilt")
    # before R3: H01's amount grows by exactly reraise_growth
    floor = first.filter(pl.col("rule_code") == "W01")["trigger_amount"].item()
    grown = settlement("S2", "pA1", dt.date(2026, 11, 10), floor * _growth(root), medical_aid_paid=1)
    deliver(root, "ybj_settlement", R3, [grown])
    build(root, R3)
    _save(root, "r3")
    build(root, R1)  # R1 again, after everything: only the lake and the ledger before R1 count
    _save(root, "r1_again")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> DataRoot:
    return shared_root(session_dir(tmp_path_factory.getbasetemp()), "register_runs", _sequence)


@pytest.fixture(scope="module")
def registers(runs: DataRoot) -> dict[str, pl.DataFrame]:
    names = ["r1", "r2", "r2_rebuilt", "r3", "r1_again"]
    return {name: pl.read_parquet(runs.root / f"{name}.parquet") for name in names}


def _by_rule(register: pl.DataFrame) -> dict[str, dict]:
    code = pl.col("rule_code") + pl.col("sub_case").fill_null("")
    return {r["code"]: r for r in register.with_columns(code.alias("code")).iter_rows(named=True)}


def test_first_run_raises_three(registers) -> None:
    first = _by_rule(registers["r1"])
    assert set(first) == {"W01", "W03a", "W04"}
    assert {r["status"] for r in first.values()} == {"待核查"}
    assert first["W04"]["deadline"] == nth_working_day_after(R1, 3)


def test_second_run_carries_the_register(registers) -> None:
    first, second = _by_rule(registers["r1"]), _by_rule(registers["r2"])
    assert set(second) == set(first)
    for code in first:  # the same episodes are the same warnings, first raised at R1
        assert second[code]["warning_id"] == first[code]["warning_id"]
        assert (second[code]["raised_on"], second[code]["first_run_date"]) == (R1, R1)
        assert second[code]["deadline"] == first[code]["deadline"]
    answered = second["W01"]
    assert (answered["status"], answered["finding"], answered["checked_on"]) == ("已核查", "属实", ANSWERED_ON)
    assert second["W01"]["last_run_date"] == R2  # its trigger still holds
    assert (second["W03a"]["status"], second["W03a"]["last_run_date"]) == ("已消除", R1)
    assert first["W04"]["deadline"] < R2 and second["W04"]["status"] == "逾期"


def test_rebuild_from_empty_warehouse_gives_the_same_register(registers) -> None:
    assert registers["r2_rebuilt"].select(COMPARED).equals(registers["r2"].select(COMPARED))


def test_rerun_of_an_earlier_date_is_unchanged_by_later_runs(registers) -> None:
    assert registers["r1_again"].select(COMPARED).equals(registers["r1"].select(COMPARED))


def test_w01_reraised_after_growth(registers, runs) -> None:
    third = registers["r3"]
    w01 = third.filter(pl.col("rule_code") == "W01").sort("first_run_date")
    assert w01["episode"].to_list() == ["W01", f"W01:{R3.isoformat()}"]
    answered, reraised = w01.row(0, named=True), w01.row(1, named=True)
    assert (answered["status"], answered["last_run_date"]) == ("已核查", R2)
    assert (reraised["status"], reraised["raised_on"], reraised["first_run_date"]) == ("待核查", R3, R3)
    assert reraised["trigger_amount"] == answered["trigger_amount"] * (1 + _growth(runs))
    statuses = dict(_by_rule(third.filter(pl.col("rule_code") != "W01")).items())
    assert statuses["W04"]["status"] == "逾期" and statuses["W03a"]["status"] == "已消除"
