"""Helpers (no tests): a small province at run date 2026-10-31 with one case per rule and its boundaries.

Amounts are derived from the parameters in force (ingestion.reference), never written as literals, so
the cases stay on their boundaries whatever the shipped parameters say.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from test_build_support import deliver

from ingestion.reference import load_reference
from ingestion.settings import DataRoot

RUN = dt.date(2026, 10, 31)
PREVIOUS_CUTOFF = dt.date(2026, 9, 30)
COUNTY = "370102"  # 历下区, Jinan
REGION = COUNTY + "001001"
CENT = Decimal("0.01")


def param(root: DataRoot, name: str, county: str = COUNTY, on: dt.date = RUN) -> Decimal:
    return load_reference(root).parameter(name, county, on)


def born(age: int, on: dt.date = RUN) -> dt.date:
    """A birth date giving `age` completed years on `on` (birthday a month earlier)."""
    return dt.date(on.year - age, on.month - 1 if on.month > 1 else 1, 1)


def household(hid: str, head: str, category: str, income: Decimal | int, members: int, **extra) -> dict:
    return {
        "household_id": hid, "region_code": REGION, "urban_rural": "城市", "head_key": head,
        "head_birth_date": born(45), "category": category, "status": "在保", "recognised_on": dt.date(2024, 1, 1),
        "member_count": members, "annual_income": income, **extra,
    }  # fmt: skip


def member(hid: str, key: str, age: int = 45, labour: str = "有劳动能力", relation: str = "其他") -> dict:
    return {
        "household_id": hid, "person_key": key, "birth_date": born(age), "relation": relation,
        "labour_capacity": labour, "individual_cover": "否",
    }  # fmt: skip


def settlement(sid: str, key: str, on: dt.date, self_paid: Decimal, **extra) -> dict:
    return {
        "settlement_id": sid, "person_key": key, "birth_date": born(45), "visit_type": "住院", "settled_on": on,
        "total_cost": self_paid, "fund_paid": 0, "critical_illness_paid": 0, "medical_aid_paid": 0,
        "self_paid": self_paid, "settlement_type": "正常", "parts_mismatch": False, **extra,
    }  # fmt: skip


def contribution(key: str, month: dt.date, base: Decimal | int, scheme: str = "企业职工基本养老保险") -> dict:
    return {"person_key": key, "birth_date": born(40), "period": month, "scheme": scheme, "wage_base": base}


def months_back(first: dt.date, n: int) -> dt.date:
    y, m = divmod(first.year * 12 + first.month - 1 - n, 12)
    return dt.date(y, m + 1, 1)


def write_province(root: DataRoot) -> None:
    """Land every dataset of the scenario (two snapshots for the rosters)."""

    def p(name: str) -> Decimal:
        return param(root, name)

    s = load_reference(root).dibao_standard(COUNTY, "城市", RUN)
    floor, share, red = p("w01_floor"), p("w01_income_share"), p("w01_red")
    run_month = RUN.replace(day=1)

    households = [
        household("H01", "pA1", "最低生活保障", 30000, 3),  # W01 orange exactly at the threshold
        household("H02", "pB1", "最低生活保障", 10000, 2),  # W01 one cent below: nothing
        household("H03", "pC1", "特困人员", 12000, 1),  # W01 red exactly at w01_red
        household("H04", "pD2", "最低生活保障", 8000, 2),  # W02 (the deceased left the roster)
        household("H05", "pD3", "最低生活保障", 6000, 1),  # only member dies: no W02
        household("H06", "pE2", "低保边缘家庭", 20000, 2),  # W03(a)
        household("H07", "pF1", "低保边缘家庭", 20000, 2),  # W03(b), only contributor → 橙
        household("H08", "pG1", "刚性支出困难家庭", 20000, 1),  # W04 three levels
        household("H09", "pH1", "最低生活保障", 5000, 2),  # W05 one cent above
        household("H10", "pH3", "最低生活保障", 5000, 2),  # W05 exactly at S·n: nothing
        household("H12", "pJ1", "低保边缘家庭", 9000, 1),  # W07(a) with H13
        household("H13", "pJ0", "最低生活保障", 9000, 2),
        household("H14", "pJ2", "特困人员", 9000, 1),  # W07(c) with H15
        household("H15", "pJ3", "最低生活保障", 9000, 2),
        household("H16", "pL1", "最低生活保障", 9000, 3),  # W08 a, b, c
        household("H17", "pQ1", "最低生活保障", 9000, 1, status="停保"),  # not monitored: D01 may apply
    ]
    members = [
        member("H01", "pA1", relation="户主"),
        member("H01", "pA2"),
        member("H01", "pA3"),
        member("H02", "pB1", relation="户主"),
        member("H02", "pB2"),
        member("H03", "pC1", age=70, labour="无劳动能力", relation="户主"),
        member("H04", "pD2", relation="户主"),
        member("H05", "pD3", relation="户主"),
        member("H06", "pE2", relation="户主"),
        member("H06", "pE1", age=30),
        member("H07", "pF1", relation="户主", age=40),
        member("H07", "pF2", age=12, labour="无劳动能力"),
        member("H08", "pG1", relation="户主"),
        member("H09", "pH1", relation="户主"),
        member("H09", "pH2"),
        member("H10", "pH3", relation="户主"),
        member("H10", "pH4"),
        member("H12", "pJ1", relation="户主"),
        member("H13", "pJ0", relation="户主"),
        member("H13", "pJ1"),
        member("H14", "pJ2", relation="户主"),
        member("H15", "pJ3", relation="户主"),
        member("H15", "pJ2"),
        member("H16", "pL1", relation="户主"),
        member("H16", "pL2", age=15),
        member("H16", "pL3", age=50),
        member("H17", "pQ1", relation="户主"),
    ]
    # September: pD1 (40, able to work) is still on H04's roster; pD4 (60) on H04 too; pD3 alone in H05
    september_members = members + [member("H04", "pD1", age=40), member("H04", "pD4", age=60)]
    deliver(root, "mz_household", PREVIOUS_CUTOFF, households)
    deliver(root, "mz_member", PREVIOUS_CUTOFF, september_members)
    deliver(root, "mz_household", RUN, households)
    deliver(root, "mz_member", RUN, members)

    deliver(root, "nync_monitored", RUN, [
        {"rural_household_id": "R01", "head_key": "pP1", "head_birth_date": born(50), "region_code": REGION,
         "monitoring_type": "脱贫不稳定户", "identified_on": dt.date(2025, 1, 1), "risk_status": "未消除",
         "member_count": 4, "income_per_capita": 1000},
        # head already in an in-force civil-affairs household: that one takes precedence
        {"rural_household_id": "R02", "head_key": "pA1", "head_birth_date": born(45), "region_code": REGION,
         "monitoring_type": "脱贫不稳定户", "identified_on": dt.date(2025, 1, 1), "risk_status": "未消除",
         "member_count": 3, "income_per_capita": 1000},
    ])  # fmt: skip

    in_window = RUN - dt.timedelta(days=30)
    threshold_h01 = max(floor, share * 30000)
    deliver(root, "ybj_settlement", RUN, [
        # medical aid paid on a claim: no W08(c) for these members
        settlement("S01", "pA1", in_window, threshold_h01 - 1000, medical_aid_paid=1),
        settlement("S02", "pA2", in_window, Decimal(1000)),
        settlement("S03", "pA2", in_window, Decimal(5000)),  # reversed below: counts zero
        settlement("S04", "pA2", RUN, Decimal(-5000), settlement_type="冲销", original_settlement_id="S03"),
        settlement("S05", "pA3", dt.date(2025, 10, 31), Decimal(9000)),  # one day before the window
        settlement("S06", "pB1", in_window, max(floor, share * 10000) - CENT, medical_aid_paid=1),
        settlement("S07", "pC1", in_window, red, medical_aid_paid=1),
        settlement("S08", "pP1", in_window, max(floor, share * 4000)),
        settlement("S09", "pL3", in_window, p("w08_self_paid")),
        settlement("S10", "pM1", in_window, p("d01_self_paid"), insured_region="370203"),
        settlement("S11", "pM2", in_window, p("d01_self_paid"), id_region="110101"),
        settlement("S12", "pQ1", in_window, p("d01_self_paid") - CENT, id_region=COUNTY),
        # an orphan reversal counts its own negative amount
        settlement("S13", "pM3", in_window, p("d01_self_paid") + 100, id_region=COUNTY),
        settlement("S14", "pM3", in_window, Decimal(-100), settlement_type="冲销", original_settlement_id="S99"),
    ])  # fmt: skip

    deliver(root, "wjw_death", RUN, [
        {"certificate_id": "C01", "person_key": "pD1", "birth_date": born(40), "died_on": dt.date(2026, 10, 5)},
        {"certificate_id": "C02", "person_key": "pD3", "birth_date": born(45), "died_on": dt.date(2026, 10, 6)},
        {"certificate_id": "C03", "person_key": "pD4", "birth_date": born(60), "died_on": dt.date(2026, 10, 7)},
    ])  # fmt: skip
    deliver(root, "mz_cremation", RUN, [
        # the same death from the other source, later date: the health commission's date wins
        {"cremation_id": "K01", "person_key": "pD1", "birth_date": born(40), "died_on": dt.date(2026, 10, 9)},
        {"cremation_id": "K02", "person_key": "pI1", "birth_date": born(70), "died_on": dt.date(2026, 6, 15)},
    ])  # fmt: skip

    grace_end = dt.date(2026, 7, 15)  # death date + w06_grace_months (1) — checked in the test
    deliver(root, "mz_payment", RUN, [
        {"payment_id": "P1", "period": dt.date(2026, 7, 1), "household_id": "H05", "person_key": "pI1",
         "programme": "低保金", "amount": 600, "paid_on": dt.date(2026, 7, 5)},
        {"payment_id": "P2", "period": dt.date(2026, 8, 1), "household_id": "H05", "person_key": "pI1",
         "programme": "低保金", "amount": 600, "paid_on": dt.date(2026, 8, 5)},
        {"payment_id": "P3", "period": dt.date(2026, 9, 1), "household_id": "H05", "person_key": "pI1",
         "programme": "低保金", "amount": 600, "paid_on": dt.date(2026, 9, 5)},
        {"payment_id": "P4", "period": dt.date(2026, 9, 1), "household_id": "H05", "person_key": "pI1",
         "programme": "低保金", "amount": -600, "paid_on": dt.date(2026, 9, 20)},
        {"payment_id": "P5", "period": dt.date(2026, 9, 1), "household_id": "H13", "person_key": "pK1",
         "programme": "低保金", "amount": 500, "paid_on": dt.date(2026, 9, 5)},
        {"payment_id": "P6", "period": dt.date(2026, 9, 1), "household_id": "H12", "person_key": "pK1",
         "programme": "特困供养金", "amount": 800, "paid_on": dt.date(2026, 9, 5)},
    ])  # fmt: skip
    assert grace_end.month == 7

    reg_months = int(p("w03_registration_months"))
    boundary = dt.date(2026, 7, 31)  # run date − w03_registration_months months
    assert reg_months == 3
    deliver(root, "rsj_unemployment", RUN, [
        {"registration_id": "U1", "person_key": "pE1", "birth_date": born(30), "registered_on": dt.date(2026, 8, 15)},
        {"registration_id": "U2", "person_key": "pE1", "birth_date": born(30), "registered_on": boundary},
        {"registration_id": "U3", "person_key": "pE2", "birth_date": born(45), "registered_on": dt.date(2026, 9, 1),
         "closed_on": dt.date(2026, 10, 1)},
    ])  # fmt: skip

    gap_start = months_back(run_month, int(p("w03_gap_months")) - 1)
    need = int(p("w03_min_contribution_months"))
    deliver(root, "rsj_contribution", RUN, [
        *[contribution("pF1", months_back(gap_start, i), 4000) for i in range(1, need + 1)],
        contribution("pE2", months_back(run_month, 5), 3000),  # H06 has another contributor
        contribution("pE1", months_back(run_month, 4), 3000),
        # W05: H09 one cent above S·n, H10 exactly at it
        contribution("pH1", run_month, s * 2 - 1000 + CENT),
        contribution("pH2", months_back(run_month, 1), Decimal(1000)),
        contribution("pH3", run_month, s * 2),
        contribution("pH4", run_month, Decimal(0), scheme="城乡居民基本养老保险"),
    ])  # fmt: skip

    deliver(root, "yjj_disaster", RUN, [
        {"relief_id": "Y1", "hazard": "洪涝", "occurred_on": dt.date(2026, 7, 20), "head_key": "pG1",
         "region_code": REGION, "house_damage": "倒塌", "loss": 1000, "relief_paid": 0},
        {"relief_id": "Y2", "hazard": "风雹", "occurred_on": dt.date(2026, 8, 20), "head_key": "pG1",
         "region_code": REGION, "house_damage": "一般损坏", "loss": p("w04_orange_loss"), "relief_paid": 0},
        {"relief_id": "Y3", "hazard": "火灾", "occurred_on": dt.date(2026, 9, 20), "head_key": "pG1",
         "region_code": REGION, "house_damage": "无", "loss": p("w04_orange_loss") - CENT, "relief_paid": 0},
        {"relief_id": "Y4", "hazard": "洪涝", "occurred_on": dt.date(2026, 7, 20), "head_key": "pN1",
         "region_code": "370203001001", "house_damage": "严重损坏", "loss": 100, "relief_paid": 0},
        {"relief_id": "Y5", "hazard": "洪涝", "occurred_on": dt.date(2026, 7, 20), "head_key": "pN2",
         "region_code": "370203001001", "house_damage": "一般损坏", "loss": p("d02_loss") - CENT, "relief_paid": 0},
    ])  # fmt: skip

    deliver(root, "cl_disability", RUN, [
        {"certificate_key": "cert1", "person_key": "pL1", "birth_date": born(45), "disability_type": "肢体",
         "disability_grade": "二级", "care_subsidy": None},
        {"certificate_key": "cert2", "person_key": "pL3", "birth_date": born(50), "disability_type": "肢体",
         "disability_grade": "三级", "care_subsidy": None},
    ])  # fmt: skip
    deliver(root, "jyt_student_aid", RUN, [
        {"aid_id": "J1", "person_key": "pL2", "birth_date": born(15), "stage": "义务教育", "aid_type": "生活补助",
         "amount": 500, "school_year": "2025-2026"},
    ])  # fmt: skip


# (rule_code, sub_case, level, household_id, person_key, episode) the scenario must raise, no more
EXPECTED = {
    ("W01", "", "橙", "H01", "", "W01"),
    ("W01", "", "红", "H03", "", "W01"),
    ("W01", "", "橙", "R01", "", "W01"),
    ("W02", "", "红", "H04", "pD1", "death:pD1"),
    ("W03", "a", "黄", "H06", "pE1", "registration:U1"),
    ("W03", "b", "橙", "H07", "pF1", "gap:pF1:2026-09"),
    ("W04", "", "红", "H08", "pG1", "disaster:Y1"),
    ("W04", "", "橙", "H08", "pG1", "disaster:Y2"),
    ("W04", "", "黄", "H08", "pG1", "disaster:Y3"),
    ("W05", "", "黄", "H09", "", "W05"),
    ("W06", "", "红", "H05", "pI1", "month:2026-08"),
    ("W07", "a", "橙", "H12", "pJ1", "households:H12|H13"),
    ("W07", "b", "橙", "H12", "pK1", "month:2026-09"),
    ("W07", "c", "橙", "H14", "pJ2", "households:H14|H15"),
    ("W08", "a", "黄", "H16", "pL1", "W08a"),
    ("W08", "b", "黄", "H16", "pL2", "year:2026-2027"),
    ("W08", "c", "黄", "H16", "pL3", "W08c"),
    ("D01", "", "黄", "", "pM1", "D01"),
    ("D01", "", "黄", "", "pM2", "D01"),
    ("D01", "", "黄", "", "pM3", "D01"),
    ("D02", "", "黄", "", "pN1", "disaster:Y4"),
}
