"""Rows that landing must reject, each with exactly one bad cell and an unambiguous reason code
(docs/extracts.md#reason-codes). They belong to fresh persons that appear nowhere else, so no truth depends on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from ingestion import idcard
from ingestion.contracts import all_contracts
from synthetic.calendar import Schedule, month_start, school_year
from synthetic.people import PlantedPeople
from synthetic.writers import BadRow

Row = dict[str, Any]


class BadRows:
    """Decides, per delivery, which bad rows it carries."""

    def __init__(
        self,
        schedule: Schedule,
        people: PlantedPeople,
        rng: np.random.Generator,
        counties: list[str],
        avoid: set[tuple[str, dt.date]],
    ):
        self.schedule = schedule
        self.people = people
        self.rng = rng
        self.counties = counties
        self._n = 0
        self.planned: dict[tuple[str, dt.date], list[BadRow]] = {}
        specs = all_contracts()
        for dataset, field, make_raw, reason in CATALOGUE:
            cutoffs = [c for c in schedule.cutoffs(specs[dataset].frequency) if (dataset, c) not in avoid]
            cutoff = cutoffs[int(rng.integers(0, len(cutoffs)))]
            row, person = self._row(dataset, cutoff)
            raw = make_raw(self, row, person, cutoff)
            self.planned.setdefault((dataset, cutoff), []).append(BadRow(row, field, raw, reason))

    def for_delivery(self, dataset: str, cutoff: dt.date) -> list[BadRow]:
        return self.planned.get((dataset, cutoff), [])

    def fresh(self) -> tuple[str, str, str]:
        """A new person (ID, name) and a county, used by no other record."""
        self._n += 1
        county = self.counties[int(self.rng.integers(0, len(self.counties)))]
        born = dt.date(
            1960 + int(self.rng.integers(0, 40)), int(self.rng.integers(1, 13)), int(self.rng.integers(1, 28))
        )
        return self.people.make_id(county, born, bool(self.rng.random() < 0.5)), self.people.name(), county

    def _row(self, dataset: str, cutoff: dt.date) -> tuple[Row, tuple[str, str, str]]:
        person = self.fresh()
        id18, name, county = person
        n = self._n
        village = f"{county}001001"
        rows: dict[str, Row] = {
            "mz_member": {
                "household_id": f"{county}8{n:07d}", "name": name, "id_number": id18, "relation": "子女",
                "labour_capacity": "有劳动能力", "health": "健康", "individual_cover": "否",
            },
            "ybj_settlement": {
                "settlement_id": f"JSBAD{n:06d}", "id_number": id18, "name": name, "insured_region": county,
                "visit_type": "普通门诊", "provider": "社区卫生服务中心", "settled_on": cutoff - dt.timedelta(days=3),
                "total_cost": 12000, "fund_paid": 8000, "critical_illness_paid": 0, "medical_aid_paid": 0,
                "self_paid": 4000, "settlement_type": "正常", "original_settlement_id": None,
            },
            "mz_payment": {
                "payment_id": f"FFBAD{n:06d}", "period": month_start(cutoff), "household_id": f"{county}8{n:07d}",
                "id_number": id18, "programme": "临时救助金", "amount": 50000, "paid_on": cutoff - dt.timedelta(days=5),
            },
            "mz_application": {
                "application_id": f"SQBAD{n:05d}", "applied_on": cutoff - dt.timedelta(days=2), "region_code": village,
                "urban_rural": "城市", "applicant_name": name, "applicant_id": id18,
                "requested_category": "最低生活保障", "consent": "是", "origin": "新申请", "member_count": 1,
                "annual_income": 500000, "financial_assets": 0, "vehicle_count": 0, "extra_property_count": 0,
            },
            "cl_disability": {
                "certificate_no": f"{id18}42", "name": name, "id_number": id18, "disability_type": "肢体",
                "disability_grade": "二级", "issued_on": cutoff - dt.timedelta(days=400), "living_subsidy": "否",
                "care_subsidy": "是",
            },
            "yjj_disaster": {
                "relief_id": f"ZHBAD{n:05d}", "hazard": "火灾", "occurred_on": cutoff - dt.timedelta(days=2),
                "head_name": name, "head_id": id18, "region_code": village, "people_affected": 2,
                "house_damage": "一般损坏", "loss": 300000, "relief_paid": 0,
            },
            "mz_household": {
                "household_id": f"{county}8{n:07d}", "region_code": village, "urban_rural": "城市",
                "head_name": name, "head_id": id18, "category": "最低生活保障", "status": "在保",
                "recognised_on": cutoff - dt.timedelta(days=200), "member_count": 1, "annual_income": 300000,
                "monthly_benefit": 50000,
            },
            "nync_monitored": {
                "rural_household_id": f"{village}8{n:03d}", "head_name": name, "head_id": id18,
                "region_code": village, "monitoring_type": "脱贫不稳定户",
                "identified_on": cutoff - dt.timedelta(days=300), "risk_status": "未消除", "member_count": 2,
                "income_per_capita": 800000,
            },
            "wjw_death": {
                "certificate_id": f"SWBAD{n:05d}", "name": name, "id_number": id18,
                "died_on": cutoff - dt.timedelta(days=3),
            },
            "rsj_contribution": {
                "id_number": id18, "name": name, "period": month_start(cutoff), "scheme": "企业职工基本养老保险",
                "wage_base": 400000,
            },
            "rsj_unemployment": {
                "registration_id": f"SYBAD{n:05d}", "id_number": id18, "name": name,
                "registered_on": cutoff - dt.timedelta(days=10),
            },
            "mz_cremation": {
                "cremation_id": f"HHFIL{n:05d}", "name": name, "id_number": id18,
                "died_on": cutoff - dt.timedelta(days=6), "cremated_on": cutoff - dt.timedelta(days=3),
            },
            "jyt_student_aid": {
                "aid_id": f"ZZFIL{n:05d}", "name": name, "id_number": id18, "stage": "高等教育",
                "aid_type": "国家助学金", "amount": 330000, "school_year": school_year(cutoff),
            },
            "zjt_housing_aid": {
                "record_id": f"ZFFIL{n:05d}", "name": name, "id_number": id18, "aid_type": "租赁补贴",
                "amount": 240000, "starts_on": cutoff - dt.timedelta(days=20),
            },
            "gaj_vehicle": {
                "vin": f"LFBAD{n:012d}", "plate": f"鲁Q{n:05d}", "owner_name": name, "owner_id": id18,
                "vehicle_type": "小型汽车", "first_registered_on": cutoff - dt.timedelta(days=90), "status": "正常",
                "use": "非营运",
            },
            "zrzy_property": {
                "registration_id": f"BDBAD{n:07d}", "unit_id": f"{county}{n:06d}FB00000F00010001", "holder_name": name,
                "holder_id": id18, "registration_type": "首次登记", "use": "住宅", "floor_area": 8800,
                "registered_on": cutoff - dt.timedelta(days=4),
            },
            "scjg_business": {
                "credit_code": f"92{county}FB{n:08d}", "entity_name": f"{name}便利店", "entity_type": "个体工商户",
                "rep_name": name, "rep_id": id18, "registered_capital": 3000000,
                "established_on": cutoff - dt.timedelta(days=700), "status": "存续",
            },
        }  # fmt: skip
        return rows[dataset], person

    def filler(self, dataset: str, cutoff: dt.date) -> Row:
        """A valid row of a fresh person, for a delivery that would otherwise be empty (no truth depends on it)."""
        return self._row(dataset, cutoff)[0]


def _wrong_check_digit(b: BadRows, row: Row, person: tuple[str, str, str], cutoff: dt.date) -> str:
    id18 = person[0]
    wrong = "0" if id18[17] != "0" else "1"
    return id18[:17] + wrong


def _mangled(b: BadRows, row: Row, person: tuple[str, str, str], cutoff: dt.date) -> float:
    return float(person[0][:6] + "0" * 12)  # written as 3.70102E+17 (CSV) or a number cell (XLSX)


def _bad_province(b: BadRows, row: Row, person: tuple[str, str, str], cutoff: dt.date) -> str:
    first17 = "99" + person[0][2:17]
    return first17 + idcard.check_digit(first17)


def _bad_birth(b: BadRows, row: Row, person: tuple[str, str, str], cutoff: dt.date) -> str:
    first17 = person[0][:6] + "19990230" + "123"
    return first17 + idcard.check_digit(first17)


def _mismatch(b: BadRows, row: Row, person: tuple[str, str, str], cutoff: dt.date) -> str:
    return b.fresh()[0]  # another person's valid ID: ≠ the first 18 characters of 残疾人证号


def _const(value: str) -> Callable[..., str]:
    return lambda b, row, person, cutoff: value


def _feb30(b: BadRows, row: Row, person: tuple[str, str, str], cutoff: dt.date) -> str:
    return f"{cutoff.year}-02-30"


def _after_cutoff(b: BadRows, row: Row, person: tuple[str, str, str], cutoff: dt.date) -> str:
    return (cutoff + dt.timedelta(days=3)).isoformat()


CATALOGUE: list[tuple[str, str, Callable[..., str | float], str]] = [
    ("mz_member", "id_number", _wrong_check_digit, "bad_check_digit"),
    ("ybj_settlement", "id_number", _wrong_check_digit, "bad_check_digit"),
    ("ybj_settlement", "id_number", _mangled, "id_spreadsheet_mangled"),
    ("mz_payment", "id_number", _mangled, "id_spreadsheet_mangled"),
    ("rsj_contribution", "id_number", _bad_province, "invalid_province"),
    ("rsj_unemployment", "id_number", _bad_birth, "invalid_birth_date"),
    ("mz_payment", "id_number", lambda b, r, p, c: p[0][:17], "bad_id_format"),
    ("ybj_settlement", "settled_on", _feb30, "bad_date"),
    ("mz_application", "applied_on", _feb30, "bad_date"),
    ("mz_member", "relation", _const("儿媳"), "unknown_enum"),
    ("ybj_settlement", "visit_type", _const("急诊"), "unknown_enum"),
    ("cl_disability", "disability_grade", _const("五级"), "unknown_enum"),
    ("ybj_settlement", "name", _const(""), "missing_required"),
    ("mz_payment", "paid_on", _const(""), "missing_required"),
    ("yjj_disaster", "loss", _const("-500.00"), "negative_amount"),
    ("mz_household", "annual_income", _const("-1200.00"), "negative_amount"),
    ("ybj_settlement", "self_paid", _const("-35.00"), "negative_amount"),
    ("mz_household", "member_count", _const("0"), "member_count_below_1"),
    ("nync_monitored", "member_count", _const("0"), "member_count_below_1"),
    ("wjw_death", "died_on", _after_cutoff, "death_after_cutoff"),
    ("cl_disability", "id_number", _mismatch, "id_certificate_mismatch"),
    ("rsj_contribution", "period", _const("2026-13"), "bad_month"),
    ("mz_payment", "amount", _const("壹佰元"), "bad_amount"),
    ("mz_household", "member_count", _const("三"), "bad_int"),
    ("yjj_disaster", "region_code", _const("37010"), "bad_region"),
    # the 核对 registers (docs/verification.md)
    ("gaj_vehicle", "vin", _const("LSVAM4187C218484"), "bad_length"),
    ("gaj_vehicle", "first_registered_on", _after_cutoff, "date_after_cutoff"),
    ("gaj_vehicle", "vehicle_type", _const("拖拉机"), "unknown_enum"),
    ("zrzy_property", "unit_id", _const("370102001001GB00001F0001"), "bad_length"),
    ("zrzy_property", "floor_area", _const("0"), "not_positive"),
    ("zrzy_property", "registered_on", _after_cutoff, "date_after_cutoff"),
    ("scjg_business", "rep_id", _wrong_check_digit, "bad_check_digit"),
    ("scjg_business", "status", _const("歇业"), "unknown_enum"),
    ("scjg_business", "established_on", _const(""), "missing_required"),
]
