"""Landing the 核对 registers (docs/verification.md): a `注册资本（万元）` header multiplies by 10,000 before rounding,
`建筑面积（平方米）` is the same column, VINs are upper-cased and must be 17 characters, the row rules of the notes
column reject with their own reasons, and plates, entity names and the raw values of the codes stay out of the lake
and the ledger (the quarantine keeps them, owner-only)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from bad_inputs.factory import make_root, person_id, write_csv, write_xlsx

from ingestion.contracts import header_key, load_contract
from ingestion.landing import land_inbox
from ingestion.readers import map_headers
from ingestion.vault import identities

BUSINESS = [
    "统一社会信用代码", "主体名称", "主体类型", "法定代表人（经营者）姓名", "法定代表人（经营者）身份证号",
    "成立日期", "登记状态",
]  # fmt: skip
VEHICLE = [
    "车辆识别代号", "号牌号码", "所有人姓名", "所有人身份证号", "车辆类型", "初次登记日期", "机动车状态", "使用性质",
]  # fmt: skip
PROPERTY = ["登记业务号", "不动产单元号", "权利人姓名", "权利人身份证号", "登记类型", "房屋用途", "登记日期"]


def _business_row(i: int, capital: str | float) -> list:
    return [f"92370102MA{i:08d}", f"张{i}便利店", "个体工商户", f"张{i}", person_id(i), "2020-05-06", "开业", capital]


def _lake(root, dataset: str) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p) for p in sorted((root.lake / dataset).rglob("*.parquet"))])


@pytest.mark.parametrize("header", ["注册资本（万元）", "注册资本(万元)", " 注册资本（万元） "])
def test_capital_in_wan_yuan_headers_match(header: str) -> None:
    hmap = map_headers([*BUSINESS, header], load_contract("scjg_business"))
    assert hmap.missing == [] and hmap.extras == []
    assert hmap.scales == {"registered_capital": "10000"}


def test_plain_and_yuan_capital_headers_are_not_scaled() -> None:
    contract = load_contract("scjg_business")
    for header in ("注册资本", "注册资本（元）", "注册资本(元)"):
        assert map_headers([*BUSINESS, header], contract).scales == {}
    assert header_key("注册资本（万元）") == "注册资本(万元)"  # not the `(元)` unit, which is dropped


def test_capital_in_wan_yuan_is_multiplied_before_rounding(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    values = ["10", "12.345678", "０.５", "", "1,000", "十万"]
    rows = [_business_row(i, v) for i, v in enumerate(values)]
    write_csv(root.inbox / "scjg_business_20261031.csv", [*BUSINESS, "注册资本（万元）"], rows)
    (result,) = land_inbox(root)
    assert (result.rows_landed, result.rows_rejected) == (5, 1)
    lake = _lake(root, "scjg_business").sort("_data_row")
    assert lake["registered_capital"].to_list() == [
        Decimal("100000.00"), Decimal("123456.78"), Decimal("5000.00"), None, Decimal("10000000.00")
    ]  # fmt: skip
    assert lake["status"].to_list() == ["存续"] * 5  # 开业 is a synonym
    conn = sqlite3.connect(root.ledger)
    assert conn.execute("SELECT column, reason, raw_value FROM rejections").fetchall() == [
        ("注册资本（万元）", "bad_amount", "十万")
    ]


def test_capital_in_wan_yuan_from_xlsx_number_cells(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    rows = [_business_row(1, 12.345678), _business_row(2, 10), _business_row(3, "0.000001")]
    write_xlsx(root.inbox / "scjg_business_20261031.xlsx", [*BUSINESS, "注册资本(万元)"], rows, title_rows=2)
    (result,) = land_inbox(root)
    assert result.rows_landed == 3
    lake = _lake(root, "scjg_business").sort("_data_row")
    assert lake["registered_capital"].to_list() == [Decimal("123456.78"), Decimal("100000.00"), Decimal("0.01")]


def test_entity_names_and_representatives_names_are_not_landed(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    write_csv(root.inbox / "scjg_business_20261031.csv", [*BUSINESS, "注册资本"], [_business_row(7, "50000")])
    land_inbox(root)
    lake = _lake(root, "scjg_business")
    assert "entity_name" not in lake.columns and "rep_name" not in lake.columns
    assert lake["rep_key"].null_count() == 0 and lake["credit_code"].to_list() == ["92370102MA00000007"]
    assert identities(root).filter(pl.col("id_number") == person_id(7))["name"].to_list() == ["张7"]
    for path in root.lake.rglob("*.parquet"):
        text = path.read_bytes()
        assert "张7便利店".encode() not in text


def _vehicle(i: int, vin: str, first: str = "2019-03-04", vtype: str = "小型轿车") -> list[str]:
    return [vin, f"鲁A{i:05d}", f"李{i}", person_id(100 + i), vtype, first, "正常", "非营运"]


def test_vins_upper_cased_and_row_rules(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    rows = [
        _vehicle(1, " lsvam4187c2184847 "),
        _vehicle(2, "LSVAM4187C218484"),  # 16 characters
        _vehicle(3, "LSVAM4187C2184849", first="2026-11-02"),  # after the cut-off
        _vehicle(4, "LSVAM4187C2184850", vtype="三轮汽车"),  # 低速货车
    ]
    write_csv(root.inbox / "gaj_vehicle" / "gaj_vehicle_20261031.csv", VEHICLE, rows)
    (result,) = land_inbox(root)
    assert (result.rows_landed, result.rows_rejected) == (2, 2)
    lake = _lake(root, "gaj_vehicle").sort("_data_row")
    assert lake["vin"].to_list() == ["LSVAM4187C2184847", "LSVAM4187C2184850"]
    assert lake["vehicle_type"].to_list() == ["小型汽车", "低速货车"]
    assert "plate" not in lake.columns and "owner_name" not in lake.columns
    conn = sqlite3.connect(root.ledger)
    rejections = conn.execute("SELECT data_row, column, reason, raw_value FROM rejections ORDER BY data_row").fetchall()
    # the VIN's raw value stays out of the ledger; a date is not identifying
    assert rejections == [(2, "车辆识别代号", "bad_length", ""), (3, "初次登记日期", "date_after_cutoff", "2026-11-02")]
    quarantined = pl.concat([pl.read_parquet(p) for p in (root.quarantine / "gaj_vehicle").rglob("*.parquet")])
    kept = {str(v) for column in quarantined.columns for v in quarantined[column].to_list()}
    assert " LSVAM4187C218484" in kept or "LSVAM4187C218484" in kept  # raw values kept there, owner-only
    for path in root.lake.rglob("*.parquet"):
        assert "鲁A00001".encode() not in path.read_bytes()


def test_property_area_header_in_square_metres_and_positive_area(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    unit = "370102001001GB00001F00010001"
    rows = [
        ["BDC1", unit, "王一", person_id(201), "首次登记", "成套住宅", "2015-01-02", "89.5"],
        ["BDC2", unit, "王二", person_id(202), "转移登记", "住宅", "2026-10-31", "0"],
        ["BDC3", unit[:-1], "王三", person_id(203), "转移登记", "住宅", "2026-10-30", "90"],
    ]
    write_csv(root.inbox / "zrzy_property_20261031.csv", [*PROPERTY, "建筑面积（平方米）"], rows)
    (result,) = land_inbox(root)
    assert (result.rows_landed, result.rows_rejected) == (1, 2)
    lake = _lake(root, "zrzy_property")
    assert lake.select("registration_id", "use", "floor_area").rows() == [("BDC1", "住宅", Decimal("89.50"))]
    conn = sqlite3.connect(root.ledger)
    assert conn.execute("SELECT data_row, column, reason, raw_value FROM rejections ORDER BY data_row").fetchall() == [
        (2, "建筑面积（平方米）", "not_positive", "0"),
        (3, "不动产单元号", "bad_length", ""),
    ]
