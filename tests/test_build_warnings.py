"""End to end on a small fixture lake: build() raises exactly the scenario's warnings, with the spec's identity,
dispatch, deadlines and evidence; then a user's parameter override changes W01 on the next build."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re

import duckdb
import polars as pl
import pytest
from test_build_scenario import COUNTY, EXPECTED, RUN, param, write_province
from test_build_support import session_dir, shared_root, write_override

from ingestion.reference import PARAMETERS, SHIPPED_DIR
from ingestion.settings import DataRoot
from ingestion.workdays import nth_working_day_after
from warehouse.build import build, read_register

DEADLINE_PARAMETER = {"红": "deadline_red_working_days", "橙": "deadline_orange_working_days",
                      "黄": "deadline_yellow_working_days"}  # fmt: skip


def _make(root: DataRoot) -> None:
    write_province(root)
    result = build(root, RUN)
    (root.root / "result.json").write_text(json.dumps(dataclasses.asdict(result), default=str))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataRoot, dict, pl.DataFrame]:
    """Built once per session, shared by the xdist workers (read-only from here on)."""
    root = shared_root(session_dir(tmp_path_factory.getbasetemp()), "scenario", _make)
    result = json.loads((root.root / "result.json").read_text())
    return root, result, read_register(root)


def _keys(register: pl.DataFrame) -> set[tuple[str, ...]]:
    cols = ["rule_code", "sub_case", "level", "household_id", "person_key", "episode"]
    return {tuple(v or "" for v in row) for row in register.select(cols).iter_rows()}


def test_raises_exactly_the_expected_warnings(built) -> None:
    _, _, register = built
    assert _keys(register) == EXPECTED


def test_result_counts_match_the_register(built) -> None:
    _, result, register = built
    by_rule_level = result["warnings_by_rule_level"]
    assert sum(sum(levels.values()) for levels in by_rule_level.values()) == register.height == len(EXPECTED)
    assert result["warnings_by_status"] == {"待核查": len(EXPECTED)}
    assert by_rule_level["W04"] == {"橙": 1, "红": 1, "黄": 1} and by_rule_level["W03b"] == {"橙": 1}
    assert result["models_built"] > 40 and result["previous_run_date"] is None


def test_warning_ids_are_the_spec_hash(built) -> None:
    _, _, register = built
    for row in register.iter_rows(named=True):
        sub = row["sub_case"] or ""
        digest = hashlib.sha256(f"{row['rule_code']}|{sub}|{row['subject']}|{row['episode']}".encode()).hexdigest()
        assert row["warning_id"] == f"{row['rule_code']}{sub}-{digest[:12]}"
    subjects = dict(register.select("rule_code", "subject_type").unique().iter_rows())
    assert subjects["W06"] == "person" and subjects["W02"] == "household" and subjects["D02"] == "household"


def test_dispatch(built) -> None:
    _, _, register = built
    d01 = {r["person_key"]: (r["county_code"], r["township_code"]) for r in register.filter(
        pl.col("rule_code") == "D01").iter_rows(named=True)}  # fmt: skip
    # 参保地 first, else the ID's county when in Shandong, else the province; never a township
    assert d01 == {"pM1": ("370203", None), "pM2": ("370000", None), "pM3": (COUNTY, None)}
    d02 = register.filter(pl.col("rule_code") == "D02").row(0, named=True)
    assert (d02["county_code"], d02["township_code"], d02["household_id"]) == ("370203", "370203001", None)
    w07b = register.filter((pl.col("rule_code") == "W07") & (pl.col("sub_case") == "b")).row(0, named=True)
    assert (w07b["household_id"], w07b["households"]) == ("H12", "H12|H13")
    households = register.filter(pl.col("household_id").str.starts_with("H"))
    assert set(households["township_code"]) == {COUNTY + "001"}


def test_deadlines_are_working_days_after_the_run(built) -> None:
    root, _, register = built
    for row in register.iter_rows(named=True):
        days = int(param(root, DEADLINE_PARAMETER[row["level"]], row["county_code"]))
        assert row["raised_on"] == RUN == row["first_run_date"] == row["last_run_date"]
        assert row["deadline"] == nth_working_day_after(RUN, days)


def test_evidence_and_actions_in_chinese(built) -> None:
    root, _, register = built
    floor = param(root, "w01_floor")
    w01 = register.filter(pl.col("household_id") == "H01").row(0, named=True)
    assert f"¥{floor:,.2f}" in w01["evidence"] and "家庭年收入 ¥30,000.00" in w01["evidence"]
    assert "医疗救助" in w01["suggested_action"] and w01["family"] == "进入"
    w06 = register.filter(pl.col("rule_code") == "W06").row(0, named=True)
    assert "2026-06-15" in w06["evidence"] and "低保金 ¥600.00" in w06["evidence"] and w06["family"] == "拒止"
    families = dict(register.select("rule_code", "family").unique().iter_rows())
    assert families["D01"] == families["D02"] == "发现"
    assert all(re.search(r"[\u4e00-\u9fff]", e) for e in register["evidence"])


def test_marts(built) -> None:
    root, _, _ = built
    with duckdb.connect(str(root.warehouse_db), read_only=True) as conn:
        mart = conn.sql("select * from mart_household_monitoring").pl()
        households = conn.sql("select household_id, is_monitored from dim_household").pl()
        persons = conn.sql("select person_key, is_monitored, died_on from dim_person").pl()
    monitored = {f"H{i:02d}" for i in range(1, 17) if i != 11} | {"R01"}
    assert set(mart["household_id"]) == monitored and mart.height == len(monitored)
    h08 = mart.filter(pl.col("household_id") == "H08").row(0, named=True)
    assert (h08["open_warnings"], h08["open_warnings_red"], h08["disaster_records"]) == (3, 1, 3)
    assert dict(households.iter_rows())["H17"] is False
    people = {r["person_key"]: r for r in persons.iter_rows(named=True)}
    assert people["pD1"]["died_on"] == dt.date(2026, 10, 5) and people["pA1"]["is_monitored"]


def test_parameter_override_changes_w01(tmp_path) -> None:
    """A user's rule_parameters.csv in <data root>/reference/ is used by the next build."""
    root = DataRoot(tmp_path)
    write_province(root)
    lowered = param(root, "w01_floor") - 1  # H02's 12-month total is the old floor − ¥0.01
    shipped = (SHIPPED_DIR / PARAMETERS).read_text(encoding="utf-8").rstrip("\n")
    write_override(root, PARAMETERS, f"{shipped}\nw01_floor,county,{COUNTY},2024-01-01,{lowered},测试覆盖\n")
    result = build(root, RUN)
    assert any(s["name"] == PARAMETERS and s["origin"] == "override" for s in result.reference_sources)
    w01 = read_register(root).filter(pl.col("rule_code") == "W01")
    assert set(w01["household_id"]) == {"H01", "H02", "H03", "R01"}
