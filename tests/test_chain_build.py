"""The assistance chain (一户一条救助链) on the built lake of test_identification_build: the planted household H95
shows its planted events in time order, each person's chain is numbered, and the missed / duplicated views agree
with the W08 / W07 warnings the same run raised."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from test_identification_build import identification_root, query  # noqa: F401 - the shared fixture

from ingestion.settings import DataRoot

PLANTED_H95 = [
    # (date, kind, person) in the order the chain must show them
    (dt.date(2025, 9, 1), "教育救助", "pC8"),  # school year 2025-2026, before the first roster: nearest roster
    (dt.date(2026, 8, 20), "纳入救助", None),  # 认定日期 of the first roster that lists H95
    (dt.date(2026, 9, 5), "救助金发放", "pC9"),
    (dt.date(2026, 9, 10), "医疗救助", "pC9"),
    (dt.date(2026, 9, 20), "住房救助", "pC9"),
    (dt.date(2026, 9, 25), "持证残疾", "pC9"),
    (dt.date(2026, 10, 1), "受灾救助", "pC9"),
    (dt.date(2026, 10, 15), "享受困难残疾人生活补贴", "pC9"),
    (dt.date(2026, 10, 15), "享受重度残疾人护理补贴", "pC9"),
    (dt.date(2026, 10, 31), "预警", "pC9"),  # W04 (黄) on the disaster
    (dt.date(2026, 10, 31), "预警", "pC8"),  # W08(b): aid last school year, none this one
    (dt.date(2026, 10, 31), "核查反馈", "pC9"),  # the answer to the W04 warning
]


@pytest.fixture(scope="module")
def chain(identification_root: DataRoot) -> pl.DataFrame:  # noqa: F811 - the imported fixture
    return query(identification_root, "select * from main.fct_assistance_chain")


def test_planted_household_chain_in_order(chain: pl.DataFrame) -> None:
    h95 = chain.filter(pl.col("household_id") == "H95").sort("household_event_seq")
    assert h95["household_event_seq"].to_list() == list(range(1, h95.height + 1))
    got = list(zip(h95["event_date"], h95["event_kind"], h95["person_key"]))
    assert got == PLANTED_H95


def test_planted_events_carry_department_amount_and_description(chain: pl.DataFrame) -> None:
    h95 = {row["event_kind"]: row for row in chain.filter(pl.col("household_id") == "H95").iter_rows(named=True)}
    assert h95["医疗救助"]["source_department"] == "医疗保障" and h95["医疗救助"]["amount"] == 300
    assert h95["受灾救助"]["source_department"] == "应急管理" and h95["受灾救助"]["amount"] == 800
    assert h95["教育救助"]["period"] == "2025-2026" and "生活补助" in h95["教育救助"]["description"]
    assert h95["救助金发放"]["programme"] == "低保金" and h95["救助金发放"]["period"] == "2026-09"
    assert "属实" in h95["核查反馈"]["description"]
    assert h95["纳入救助"]["category"] == "最低生活保障" and h95["纳入救助"]["source_department"] == "民政"


def test_person_chain_is_numbered_in_order(chain: pl.DataFrame) -> None:
    pc9 = chain.filter(pl.col("person_key") == "pC9").unique("event_id").sort("person_event_seq")
    assert pc9["person_event_seq"].to_list() == list(range(1, pc9.height + 1))
    assert pc9["event_date"].to_list() == sorted(pc9["event_date"].to_list())


def test_exit_appears_on_the_chain(chain: pl.DataFrame) -> None:
    h90 = chain.filter(pl.col("household_id") == "H90").sort("household_event_seq")
    assert h90["event_kind"].to_list() == ["纳入救助", "退出救助"]
    assert h90["event_date"].to_list()[-1] == dt.date(2026, 9, 30)


def _warning_keys(root: DataRoot, rule: str) -> set[tuple[str, str, str, str]]:
    frame = query(
        root, f"select household_id, person_key, sub_case, episode from main.fct_warnings where rule_code = '{rule}'"
    )
    return set(frame.iter_rows())


def test_missed_assistance_agrees_with_w08(identification_root: DataRoot) -> None:  # noqa: F811
    view = query(
        identification_root, "select household_id, person_key, sub_case, episode from main.chain_missed_assistance"
    )
    expected = _warning_keys(identification_root, "W08")
    assert set(view.iter_rows()) == expected and len(expected) >= 3
    assert ("H95", "pC8", "b", "year:2026-2027") in expected


def test_duplicated_assistance_agrees_with_w07(identification_root: DataRoot) -> None:  # noqa: F811
    view = query(
        identification_root, "select household_id, person_key, sub_case, episode from main.chain_duplicated_assistance"
    )
    expected = _warning_keys(identification_root, "W07")
    assert set(view.iter_rows()) == expected
    assert {sub for _, _, sub, _ in expected} == {"a", "b", "c"}
