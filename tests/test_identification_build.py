"""The identification engine on a small built lake: planted applications and exit reviews decided at the run
date, their traces, review deadlines, the `safetynet identify` command, and the dbt unit and data tests of the
identification and chain models (run once, on this root).

The lake is the warning scenario of test_build_scenario (W02 in H04, W04 in H08, W07, W08 …) plus, here:
applications A01–A08, an earlier roster (2026-08-31) with a household leaving 低保 (H90) and one ending with its
only member's death (H91), and a planted household (H95) whose assistance chain test_chain_build reads. Figures
come from the reference data in force (no threshold is written here as a literal).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import yaml
from test_build_scenario import COUNTY, REGION, RUN, born, household, member, write_province
from test_build_support import deliver, feedback_row, shared_root

from ingestion.lake import write_atomic
from ingestion.reference import load_reference
from ingestion.settings import DataRoot
from ingestion.workdays import calendar_frame, nth_working_day_after
from warehouse.build import PROJECT_DIR, BuildError, prepare_inputs, run_dbt

EARLY = dt.date(2026, 8, 31)
CENT = Decimal("0.01")
MY_MODEL_DIRS = (
    "models/intermediate/identification",
    "models/intermediate/chain",
    "models/marts/identification",
    "models/marts/chain",
)
# the chain views, and the marts their relationships tests point to
MY_MODELS = " ".join(
    ["+fct_identification_review_deadlines", "+chain_missed_assistance", "+chain_duplicated_assistance", "+dim_person",
     "+dim_household"]
)  # fmt: skip
# the deadline calendar written by the build may start shortly before the run date; the planted overdue
# application needs one reaching back to its 申请日期
CALENDAR = (dt.date(2025, 1, 1), dt.date(2027, 12, 31))


# ----------------------------------------------------------------------------------------- the scenario


def figures(root: DataRoot) -> dict[str, Decimal]:
    """S, D and the parameters of the scenario's county at the run date."""
    ref = load_reference(root)
    names = ("temp_medical_threshold", "temp_months_of_standard", "review_deadline_working_days",
             "edge_income_multiplier", "rigid_expense_ratio", "w04_orange_loss")  # fmt: skip
    out = {name: ref.parameter(name, COUNTY, RUN) for name in names}
    out["S"] = ref.dibao_standard(COUNTY, "城市", RUN)
    out["D"] = ref.disposable_income(COUNTY, "城市", RUN)
    return out


def application(aid: str, n: int, income: Decimal, **extra: Any) -> dict[str, Any]:
    return {
        "application_id": aid, "applied_on": RUN - dt.timedelta(days=10), "region_code": REGION,
        "urban_rural": "城市", "applicant_key": f"{aid}-p1", "applicant_birth_date": born(45),
        "requested_category": "最低生活保障", "consent": "是", "origin": "新申请", "member_count": n,
        "annual_income": income, "financial_assets": 0, "vehicle_count": 0, "extra_property_count": 0,
        "medical_expense_12m": 0, "education_expense_12m": 0, **extra,
    }  # fmt: skip


def applicant(aid: str, key: str, age: int = 45, relation: str = "户主", **extra: Any) -> dict[str, Any]:
    return {
        "application_id": aid, "person_key": key, "birth_date": born(age), "relation": relation,
        "labour_capacity": "有劳动能力", "has_supporter": "无", **extra,
    }  # fmt: skip


def write_applications(root: DataRoot) -> None:
    f = figures(root)
    s, d = f["S"], f["D"]
    deliver(root, "mz_application", RUN, [
        application("A01", 1, s * 6, medical_expense_12m=f["temp_medical_threshold"],
                    applicant_birth_date=born(70)),  # 特困, 临时救助 at the medical threshold
        application("A02", 3, s * 12 * 3 - CENT),  # 低保 one cent below; a member of H08 (W04) → 临时救助
        application("A03", 2, s * 12 * 2),  # exactly S: not 低保 → 低保边缘, 单人保 for two members
        application("A04", 2, d * 2 - CENT, consent="否", requested_category="刚性支出困难家庭",
                    medical_expense_12m=(d * 2 - CENT) * f["rigid_expense_ratio"]),  # 刚性 on its boundaries
        application("A05", 2, 0, consent="否", requested_category="其他困难人员"),  # no test → 无
        application("A06", 1, s * 6, origin="退出转入", previous_household_id="H90"),  # 边缘 only, meets 低保
        application("A07", 2, 0, vehicle_count=2, applied_on=RUN - dt.timedelta(days=60)),  # 无, overdue
        application("A08", 2, s * 12, medical_expense_12m=f["temp_medical_threshold"] - CENT),  # pD2 of H04 (W02)
    ])  # fmt: skip
    deliver(root, "mz_application_member", RUN, [
        applicant("A01", "A01-p1", age=70, labour_capacity="无劳动能力"),
        applicant("A02", "A02-p1"), applicant("A02", "pG1", relation="配偶"), applicant("A02", "A02-p3", 10, "子女"),
        applicant("A03", "A03-p1", disability_type="听力", disability_grade="二级"),
        applicant("A03", "A03-p2", relation="配偶", health="重病"),
        applicant("A04", "A04-p1"),
        applicant("A04", "A04-p2", relation="配偶", disability_type="肢体", disability_grade="三级"),
        applicant("A05", "A05-p1"), applicant("A06", "A06-p1", health="重病"),
        applicant("A07", "A07-p1"), applicant("A07", "A07-p2", relation="配偶"),
        applicant("A08", "pD2"), applicant("A08", "A08-p2", relation="配偶"),
    ])  # fmt: skip


def write_early_roster_and_chain(root: DataRoot) -> None:
    """An August roster (H90 leaves 低保 after it, H91 ends with its only member's death) and the chain household
    H95 (on every roster), with one event of each department."""
    s = figures(root)["S"]
    h95 = household("H95", "pC9", "最低生活保障", s * 6, 2, recognised_on=dt.date(2026, 8, 20))
    h95_members = [member("H95", "pC9", relation="户主"), member("H95", "pC8", age=15, relation="子女")]
    deliver(root, "mz_household", EARLY, [
        household("H90", "pX1", "最低生活保障", s * Decimal("1.2") * 12 * 2, 2),
        household("H91", "pY1", "特困人员", s * 6, 1),
        h95,
    ])  # fmt: skip
    deliver(root, "mz_member", EARLY, [
        member("H90", "pX1", relation="户主"), {**member("H90", "pX2"), "health": "重病"},
        member("H91", "pY1", age=80, labour="无劳动能力", relation="户主"), *h95_members,
    ])  # fmt: skip
    deliver(root, "wjw_death", EARLY, [
        {"certificate_id": "C91", "person_key": "pY1", "birth_date": born(80), "died_on": dt.date(2026, 8, 10)},
    ])  # fmt: skip
    for cutoff in (dt.date(2026, 9, 30), RUN):  # H95 stays on the later rosters (second deliveries: seq 2)
        deliver(root, "mz_household", cutoff, _existing(root, "mz_household", cutoff) + [h95], seq=2)
        deliver(root, "mz_member", cutoff, _existing(root, "mz_member", cutoff) + h95_members, seq=2)
    deliver(root, "mz_payment", dt.date(2026, 9, 30), [
        {"payment_id": "P95", "period": dt.date(2026, 9, 1), "household_id": "H95", "person_key": "pC9",
         "programme": "低保金", "amount": s, "paid_on": dt.date(2026, 9, 5)},
    ])  # fmt: skip
    deliver(root, "ybj_settlement", dt.date(2026, 9, 30), [
        {"settlement_id": "S95", "person_key": "pC9", "birth_date": born(45), "visit_type": "住院",
         "settled_on": dt.date(2026, 9, 10), "total_cost": 1000, "fund_paid": 500, "critical_illness_paid": 0,
         "medical_aid_paid": 300, "self_paid": 200, "settlement_type": "正常", "parts_mismatch": False},
    ])  # fmt: skip
    deliver(root, "jyt_student_aid", dt.date(2025, 9, 30), [
        {"aid_id": "J95", "person_key": "pC8", "birth_date": born(15), "stage": "义务教育", "aid_type": "生活补助",
         "amount": 500, "school_year": "2025-2026"},
    ])  # fmt: skip
    deliver(root, "zjt_housing_aid", dt.date(2026, 9, 30), [
        {"record_id": "Z95", "person_key": "pC9", "birth_date": born(45), "aid_type": "租赁补贴", "amount": 3000,
         "starts_on": dt.date(2026, 9, 20)},
    ])  # fmt: skip
    deliver(root, "yjj_disaster", dt.date(2026, 10, 7), [
        {"relief_id": "Y95", "hazard": "风雹", "occurred_on": dt.date(2026, 10, 1), "head_key": "pC9",
         "region_code": REGION, "house_damage": "一般损坏", "loss": figures(root)["w04_orange_loss"] - CENT,
         "relief_paid": 800},
    ])  # fmt: skip
    certificate = {"certificate_key": "cert95", "person_key": "pC9", "birth_date": born(45), "disability_type": "肢体",
                   "disability_grade": "二级", "issued_on": dt.date(2026, 9, 25), "living_subsidy": "是",
                   "care_subsidy": "是"}  # fmt: skip
    deliver(root, "cl_disability", dt.date(2026, 10, 15), [certificate])  # first listed with both subsidies
    deliver(root, "cl_disability", RUN, _existing(root, "cl_disability", RUN) + [certificate], seq=2)


def _existing(root: DataRoot, dataset: str, cutoff: dt.date) -> list[dict[str, Any]]:
    """The rows of the delivery already landed for (dataset, cut-off), as lake fields."""
    files = list((root.lake / dataset / f"cutoff={cutoff.isoformat()}" / "seq=1").glob("*.parquet"))
    assert len(files) == 1, files
    frame = pl.read_parquet(files[0]).drop([c for c in pl.read_parquet_schema(files[0]) if c.startswith("_")])
    return frame.to_dicts()


def _wide_calendar(root: DataRoot) -> None:
    frame = calendar_frame(*CALENDAR)
    write_atomic(frame.to_arrow(), root.lake / "_reference" / "calendar.parquet")


def _build(root: DataRoot, select: str) -> None:
    prepare_inputs(root, RUN)
    _wide_calendar(root)
    run_dbt(root, RUN, "run", select=select)


def _make(root: DataRoot) -> None:
    write_province(root)
    write_applications(root)
    write_early_roster_and_chain(root)
    _build(root, MY_MODELS)
    # answer H95's W04 warning, so that the chain shows an answer too (the id is the one this run raised)
    with duckdb.connect(str(root.warehouse_db), read_only=True) as con:
        found = con.execute(
            "select warning_id from main.fct_warnings where rule_code = 'W04' and household_id = 'H95'"
        ).fetchall()
    assert len(found) == 1, found
    deliver(root, "feedback", RUN, [feedback_row(found[0][0], RUN)])
    _build(root, "stg_feedback__feedback+")
    _run_dbt_tests(root)


def _run_dbt_tests(root: DataRoot) -> None:
    """The dbt unit and data tests of these models, run here once: dbt writes to the warehouse, so it must not
    run while other workers read it. The outcome is kept in dbt_tests.json for the tests below."""
    outcome = {}
    for kind in ("unit", "data"):
        selectors = [f"test_type:{kind},path:{folder}" for folder in MY_MODEL_DIRS]
        try:
            results = run_dbt(root, RUN, "test", select=selectors)
            outcome[kind] = {"statuses": {r.node.name: str(r.status) for r in results}, "failures": []}
        except BuildError as err:
            outcome[kind] = {"statuses": {}, "failures": err.failures or [str(err)]}
    (root.root / "dbt_tests.json").write_text(json.dumps(outcome, ensure_ascii=False), encoding="utf-8")


def session_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder shared by this session's xdist workers (the session's own temp folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def identification_root(tmp_path_factory: pytest.TempPathFactory) -> DataRoot:
    """Built once per session (shared by xdist workers); read-only for the tests."""
    return shared_root(session_base(tmp_path_factory), "identification_scenario", _make)


def query(root: DataRoot, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(root.warehouse_db), read_only=True) as con:
        return con.sql(sql).pl()


@pytest.fixture(scope="module")
def decisions(identification_root: DataRoot) -> dict[str, dict[str, Any]]:
    frame = query(identification_root, "select * from main.fct_identification")
    return {row["case_id"]: row for row in frame.iter_rows(named=True)}


# ---------------------------------------------------------------------------------------- dbt tests


def _my_unit_tests() -> set[str]:
    names = set()
    for folder in MY_MODEL_DIRS:
        for path in (PROJECT_DIR / folder).glob("*.yml"):
            names |= {u["name"] for u in yaml.safe_load(path.read_text(encoding="utf-8")).get("unit_tests", [])}
    return names


def _dbt_tests(root: DataRoot, kind: str) -> dict[str, Any]:
    return json.loads((root.root / "dbt_tests.json").read_text(encoding="utf-8"))[kind]


def test_dbt_unit_tests_of_identification_and_chain(identification_root: DataRoot) -> None:
    """One `dbt test --select test_type:unit` of these models: every unit test defined ran, and passed."""
    outcome = _dbt_tests(identification_root, "unit")
    assert outcome["failures"] == []
    assert set(outcome["statuses"]) == _my_unit_tests() and len(outcome["statuses"]) >= 20
    assert set(outcome["statuses"].values()) == {"pass"}


def test_dbt_data_tests_of_identification_and_chain(identification_root: DataRoot) -> None:
    """Keys, accepted values, and every case of the chain views a warning of the register (warning_id set)."""
    outcome = _dbt_tests(identification_root, "data")
    assert outcome["failures"] == []
    names = set(outcome["statuses"])
    assert any(n.startswith("not_null_chain_missed_assistance_warning_id") for n in names)
    assert any(n.startswith("not_null_chain_duplicated_assistance_warning_id") for n in names)
    assert set(outcome["statuses"].values()) == {"pass"}


# ------------------------------------------------------------------------------------------- decisions


def test_results_of_the_planted_applications(decisions) -> None:
    got = {case: row["result_category"] for case, row in decisions.items() if row["application_id"]}
    assert got == {
        "A01": "特困人员", "A02": "最低生活保障", "A03": "低保边缘家庭", "A04": "刚性支出困难家庭",
        "A05": "无", "A06": "低保边缘家庭", "A07": "无", "A08": "最低生活保障",
    }  # fmt: skip
    assert decisions["A06"]["review_kind"] == "退出转入申请"
    assert decisions["A06"]["review_scope"] == "低保边缘家庭 → 刚性支出困难家庭"
    assert decisions["A04"]["review_scope"] == "刚性支出困难家庭"


def test_individual_cover_keys(decisions) -> None:
    assert decisions["A03"]["individual_cover_keys"] == "A03-p1|A03-p2"  # 二级 听力 and 重病, sorted
    assert decisions["A06"]["individual_cover_keys"] is None  # meets 低保: no 单人保 though 边缘 was given
    assert decisions["A04"]["individual_cover_keys"] is None  # 三级 肢体 does not count, and the result is 刚性


def test_temporary_assistance(identification_root: DataRoot, decisions) -> None:
    f = figures(identification_root)
    per_person = f["temp_months_of_standard"] * f["S"]
    assert decisions["A01"]["temp_assistance_amount"] == per_person * 1  # medical costs at the threshold
    assert decisions["A02"]["temp_assistance_amount"] == per_person * 3  # member of H08 (W04 in this run)
    assert decisions["A08"]["temp_assistance_amount"] == per_person * 2  # member of H04 (W02), costs a cent below
    assert decisions["A03"]["temp_assistance_amount"] == 0  # 边缘: never
    assert decisions["A02"]["w02_w04_warning_ids"].startswith("W04-")
    assert decisions["A08"]["w02_w04_warning_ids"].startswith("W02-")


def test_exit_reviews(decisions) -> None:
    exits = {case: row for case, row in decisions.items() if row["review_kind"] == "退出复核"}
    assert set(exits) == {"exit:H90:2026-08-31"}  # H91 ended with its only member's death; H95 stayed
    row = exits["exit:H90:2026-08-31"]
    assert (row["application_id"], row["household_id"], row["previous_category"]) == (None, "H90", "最低生活保障")
    assert (row["from_cutoff"], row["to_cutoff"]) == (EARLY, dt.date(2026, 9, 30))
    assert row["figures_cutoff"] == EARLY  # absent from the next roster: reviewed on the last one showing it
    assert row["result_category"] == "低保边缘家庭" and row["individual_cover_keys"] == "pX2"
    assert row["temp_assistance_amount"] == 0 and row["applied_on"] is None and row["overdue"] is False


def test_review_deadlines(identification_root: DataRoot, decisions) -> None:
    days = int(figures(identification_root)["review_deadline_working_days"])
    for case in ("A01", "A07"):
        row = decisions[case]
        assert row["deadline"] == nth_working_day_after(row["applied_on"], days)
        assert row["overdue"] is (row["deadline"] < RUN)
        assert row["days_elapsed"] == (RUN - row["applied_on"]).days
    assert decisions["A07"]["overdue"] is True and decisions["A01"]["overdue"] is False
    summary = query(identification_root, "select * from main.fct_identification_review_deadlines").to_dicts()
    assert summary == [{**summary[0], "county_code": COUNTY, "open_applications": 8, "overdue_applications": 1,
                        "deadline_unknown": 0}]  # fmt: skip


# ---------------------------------------------------------------------------------------------- traces


def _trace(row: dict[str, Any]) -> list[dict[str, Any]]:
    entries = json.loads(row["trace"])
    assert [e["序号"] for e in entries] == list(range(1, len(entries) + 1))
    return entries


def test_trace_of_a_boundary_case_shows_its_figures(identification_root: DataRoot, decisions) -> None:
    """A03 (income exactly S·12·n): 特困 fails on size, 低保 fails on income at equality, 边缘 passes, then 单人保.
    特困 and 低保 end with the company test of the 核对 (docs/verification.md)."""
    entries = _trace(decisions["A03"])
    assert [e["类别"] for e in entries] == ["特困人员"] * 8 + ["最低生活保障"] * 5 + ["低保边缘家庭"] * 4 + ["单人保"]
    assert [e["检验"] for e in entries if e["检验"] == "经营主体"] == ["经营主体"] * 2
    dibao_income = entries[8]
    s = figures(identification_root)["S"]
    line = f"¥{s * 24:,.2f}"
    assert dibao_income["检验"] == "收入" and dibao_income["结果"] == "不符合"
    assert (
        dibao_income["依据"]
        == f"家庭年收入 {line} = 低保标准 ¥{s:,.2f} × 12 × 2 人 = {line}（人均月收入须低于低保标准）"
    )
    assert entries[0] == {
        "序号": 1,
        "类别": "特困人员",
        "检验": "家庭人口数",
        "依据": "家庭人口数 2 人（须为 1 人）",
        "结果": "不符合",
    }
    assert "2 名成员单独纳入最低生活保障：户主（听力残疾二级）、配偶（重病）" in entries[-1]["依据"]


def test_trace_stops_at_the_result_and_explains_temporary_assistance(decisions) -> None:
    entries = _trace(decisions["A02"])
    categories = [e["类别"] for e in entries]
    assert "低保边缘家庭" not in categories and categories[-1] == "临时救助"
    assert entries[-1]["结果"] == "符合" and "W04" in entries[-1]["依据"]
    assert all(e["结果"] == "符合" for e in entries if e["类别"] == "最低生活保障")


def test_trace_of_a_case_with_nothing_to_review(decisions) -> None:
    (note,) = _trace(decisions["A05"])
    assert note["检验"] == "审核范围" and note["结果"] == "—" and "其他困难人员" in note["依据"]


def test_trace_long_form_matches_the_json(identification_root: DataRoot, decisions) -> None:
    long = query(identification_root, "select * from main.fct_identification_trace order by case_id, entry_seq")
    for case, row in decisions.items():
        mine = long.filter(pl.col("case_id") == case)
        assert [(e["检验"], e["结果"]) for e in _trace(row)] == list(zip(mine["test_name"], mine["outcome"]))


def test_no_id_numbers_or_names_in_the_trace(decisions) -> None:
    """Traces carry figures and relations only: no 18-character ID anywhere."""
    import re

    for row in decisions.values():
        assert not re.search(r"\d{17}[\dX]", row["trace"])


# ------------------------------------------------------------------------------------------ the command


@pytest.fixture(scope="module")
def published(identification_root: DataRoot, tmp_path_factory: pytest.TempPathFactory) -> DataRoot:
    """A data root whose published mart holds this run's fct_identification (copied read-only)."""
    root = DataRoot(tmp_path_factory.mktemp("identify_cli"))
    root.published.mkdir(parents=True)
    with duckdb.connect(str(root.published / "monitoring.duckdb")) as con:
        con.execute(f"attach '{identification_root.warehouse_db}' as wh (read_only)")
        con.execute("create table fct_identification as select * from wh.main.fct_identification")
    return root


def _cli(*args: str) -> Any:
    from cli_support import invoke

    return invoke(*args)


def test_identify_lists_the_run(published: DataRoot) -> None:
    result = _cli("identify", "--date", RUN.isoformat(), "--data", str(published.root))
    assert result.exit_code == 0, result.output
    for expected in ("A01", "A08", "H90", "特困人员", "刚性支出困难家庭", "退出复核", "A03-p1…"):
        assert expected in result.output
    assert "逾期 1 件" in result.output and "单人保 3 人" in result.output


def test_identify_shows_one_trace(published: DataRoot) -> None:
    result = _cli("identify", "--date", RUN.isoformat(), "--application", "A03", "--data", str(published.root))
    assert result.exit_code == 0, result.output
    for expected in ("认定过程", "低保边缘家庭", "不符合", "单人保", "A03-p1"):
        assert expected in result.output


def test_trace_view_renders_every_entry(decisions) -> None:
    """The trace as staff read it: each test's figures in full, in order, with its outcome."""
    from rich.console import Console

    from warehouse.identify import parse_trace, trace_view

    console = Console(record=True, width=400)
    console.print(trace_view(decisions["A03"]))
    text = console.export_text()
    entries = parse_trace(decisions["A03"]["trace"])
    assert len(entries) == 18
    at = 0
    for e in entries:  # in order: each entry's figures after the previous one's (raises when missing)
        at = text.index(e.figures, at) + len(e.figures)
    assert "A03-p1、A03-p2" in text


def test_identify_refuses_another_date_and_unknown_application(published: DataRoot, tmp_path: Path) -> None:
    other = _cli("identify", "--date", "2026-09-30", "--data", str(published.root))
    assert other.exit_code == 2 and "2026-10-31" in other.output
    unknown = _cli("identify", "--date", RUN.isoformat(), "--application", "NOPE", "--data", str(published.root))
    assert unknown.exit_code == 2 and "NOPE" in unknown.output
    (tmp_path / "inbox").mkdir()  # a data root, but nothing published yet
    empty = _cli("identify", "--date", RUN.isoformat(), "--data", str(tmp_path))
    assert empty.exit_code == 2 and "no published mart" in empty.output
