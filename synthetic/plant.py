"""The planted world: a small set of hand-built households, persons and records with the warnings and
identification results they must produce (the ground truth), plus helpers the scenarios use.

Planted persons have their own IDs (people.PlantedPeople) and appear in no background record, so the
truth of a scenario depends only on what the scenario itself writes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from ingestion.pseudonymise import person_key
from synthetic.applications import Applicant, born_at_age, temp_amount
from synthetic.calendar import Schedule, add_months, month_end, month_start, school_year
from synthetic.params import RunParams, cents
from synthetic.people import PlantedPeople
from synthetic.population import NEVER

POOR = ("特困人员", "最低生活保障")


@dataclass(frozen=True)
class Person:
    id18: str
    name: str
    birth: dt.date


@dataclass
class Member:
    person: Person
    relation: str
    labour: str = "有劳动能力"
    health: str | None = "健康"
    cover: str = "否"
    join_k: int = 0
    leave_k: int = NEVER  # first snapshot without this member
    relation_from: tuple[int, str] | None = None  # (k, relation) e.g. the spouse becomes 户主


@dataclass
class Household:
    hid: str
    village: str
    county: str
    urban_rural: str
    category: str
    income: int  # cents
    members: list[Member]
    recognised_on: dt.date
    status: str = "在保"
    start_k: int = 0
    end_k: int = NEVER
    changes: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # from snapshot k on
    member_count: int | None = None  # a roster 家庭人口数 that differs from the member rows
    benefit: int | None = None
    auto_pay: bool = True
    latest_variants: dict[int, dict[str, Any] | None] = field(default_factory=dict)  # seq → override / None

    def state(self, k: int) -> dict[str, Any] | None:
        if not (self.start_k <= k < self.end_k):
            return None
        state = {"category": self.category, "status": self.status, "income": self.income, "exited_on": None}
        for since, change in self.changes:
            if k >= since:
                state.update(change)
        return state

    def members_at(self, k: int) -> list[tuple[Member, str]]:
        out = []
        for m in self.members:
            if m.join_k <= k < m.leave_k:
                relation = m.relation_from[1] if m.relation_from and k >= m.relation_from[0] else m.relation
                out.append((m, relation))
        return out


@dataclass(frozen=True)
class ExpectedWarning:
    rule_code: str
    sub_case: str
    level: str
    household_id: str
    person_key: str
    episode: str
    scenario: str


@dataclass(frozen=True)
class ExpectedIdentification:
    application_id: str
    household_id: str
    review_kind: str
    result_category: str
    individual_cover_keys: str
    temp_assistance_amount: str
    from_cutoff: str
    to_cutoff: str
    scenario: str


def money(cents_value: int) -> str:
    sign = "-" if cents_value < 0 else ""
    return f"{sign}{abs(cents_value) // 100}.{abs(cents_value) % 100:02d}"


class Plant:
    """Collects planted rows per dataset and delivery, and the truth they must produce."""

    def __init__(
        self,
        schedule: Schedule,
        params: RunParams,
        villages: pl.DataFrame,
        people: PlantedPeople,
        key: bytes,
        rng: np.random.Generator,
    ):
        self.schedule = schedule
        self.params = params
        self.people = people
        self.key = key
        self.rng = rng
        self.T = len(schedule.monthly)
        self.villages = villages
        self.households: list[Household] = []
        self.nync: list[dict[str, Any]] = []
        self.certificates: list[tuple[int, dict[str, Any]]] = []  # (from_k, row)
        # rows of other snapshot datasets (gaj_vehicle, scjg_business): (from_k, to_k exclusive, row)
        self.snapshot_rows: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
        self.increments: dict[str, list[tuple[dt.date, dict[str, Any]]]] = {}
        self.applications: list[Applicant] = []
        self.warnings: list[ExpectedWarning] = []
        self.identifications: list[ExpectedIdentification] = []
        self.scenario = ""
        self.scenarios: list[str] = []
        self._ids = itertools.count(1)

    # --- naming and time --------------------------------------------------------------------------------
    def begin(self, scenario: str) -> None:
        self.scenario = scenario
        self.scenarios.append(scenario)

    def next_id(self) -> int:
        return next(self._ids)

    @property
    def run(self) -> dt.date:
        return self.schedule.run_date

    def cutoff(self, k: int) -> dt.date:
        return self.schedule.monthly[k % self.T]

    def day_in(self, k: int, day: int) -> dt.date:
        """A day of the month of snapshot k (clamped to the cut-off)."""
        cut = self.cutoff(k)
        return min(cut.replace(day=min(day, 28)), cut)

    def month(self, k: int) -> dt.date:
        return month_start(self.cutoff(k))

    def pk(self, person: Person) -> str:
        return person_key(person.id18, self.key)

    # --- places and persons -----------------------------------------------------------------------------
    def village(self, county: str, urban_rural: str = "农村") -> str:
        rows = self.villages.filter((pl.col("county") == county) & (pl.col("urban_rural") == urban_rural))
        if rows.height == 0:
            rows = self.villages.filter(pl.col("county") == county)
        return str(rows["village"][int(self.rng.integers(0, rows.height))])

    def urban_rural_of(self, village: str) -> str:
        return str(self.villages.filter(pl.col("village") == village)["urban_rural"][0])

    def person(
        self, county: str, age: int, on: dt.date | None = None, male: bool | None = None, born: dt.date | None = None
    ) -> Person:
        on = on or self.run
        born = born or born_at_age(self.rng, on, age)
        male = bool(self.rng.random() < 0.5) if male is None else male
        return Person(self.people.make_id(county, born, male), self.people.name(), born)

    def person_born(self, county: str, born: dt.date) -> Person:
        return self.person(county, 0, born=born)

    # --- households ---------------------------------------------------------------------------------------
    def household(
        self,
        county: str,
        category: str,
        members: list[Member],
        income_yuan: float | Decimal,
        urban_rural: str = "农村",
        **kw: Any,
    ) -> Household:
        village = self.village(county, urban_rural)
        hid = f"{county}9{self.next_id():07d}"
        income = cents(Decimal(str(income_yuan)))
        hh = Household(
            hid=hid, village=village, county=county, urban_rural=self.urban_rural_of(village), category=category,
            income=income, members=members,
            recognised_on=add_months(self.schedule.window_start, -int(self.rng.integers(3, 60))), **kw,
        )  # fmt: skip
        if hh.benefit is None and category in POOR:
            s = cents(self.params.s(county, hh.urban_rural))
            hh.benefit = max(s * len(members) - income // 12, s // 5) // 100 * 100
        self.households.append(hh)
        return hh

    def s(self, hh: Household | str, urban_rural: str | None = None) -> Decimal:
        if isinstance(hh, Household):
            return self.params.s(hh.county, hh.urban_rural)
        return self.params.s(hh, urban_rural or "农村")

    def d(self, county: str, urban_rural: str) -> Decimal:
        return self.params.d(county, urban_rural)

    def p(self, name: str, county: str) -> Decimal:
        return self.params.p(name, county)

    # --- increments -----------------------------------------------------------------------------------------
    def add(self, dataset: str, cutoff: dt.date | None, row: dict[str, Any]) -> None:
        if cutoff is None or cutoff > self.run:
            raise ValueError(f"{self.scenario}: a {dataset} record would be delivered after the run date")
        self.increments.setdefault(dataset, []).append((cutoff, row))

    def monthly_cutoff(self, day: dt.date) -> dt.date:
        cut = month_end(day)
        if cut not in self.schedule.monthly:
            raise ValueError(f"{self.scenario}: {day} is outside the monthly deliveries")
        return cut

    def weekly_cutoff(self, day: dt.date) -> dt.date | None:
        return self.schedule.first_cutoff_on_or_after("weekly", day)

    def settle(
        self,
        who: Person,
        when: dt.date,
        self_paid: int,
        aid: int = 0,
        visit: str = "住院",
        county: str | None = None,
        **kw: Any,
    ) -> str:
        sid = kw.pop("settlement_id", f"JS{when:%Y%m}P{self.next_id():05d}")
        fund = self_paid * 2
        row = {
            "settlement_id": sid, "id_number": who.id18, "name": who.name, "insured_region": county or who.id18[:6],
            "visit_type": visit, "provider": "山东省立医院", "settled_on": when, "total_cost": self_paid + fund + aid,
            "fund_paid": fund, "critical_illness_paid": 0, "medical_aid_paid": aid, "self_paid": self_paid,
            "settlement_type": "正常", "original_settlement_id": None,
        }  # fmt: skip
        row.update(kw)
        self.add("ybj_settlement", self.monthly_cutoff(when), row)
        return sid

    def reverse(self, who: Person, when: dt.date, original_id: str, self_paid: int, aid: int = 0) -> str:
        fund = self_paid * 2
        return self.settle(
            who, when, -self_paid, aid=-aid, settlement_type="冲销", original_settlement_id=original_id,
            fund_paid=-fund, total_cost=-(self_paid + fund + aid),
        )  # fmt: skip

    def death(
        self, who: Person, died_on: dt.date, wjw: bool = True, cremation: bool = True, crem_delay: int = 16
    ) -> None:
        n = self.next_id()
        if wjw:
            self.add("wjw_death", self.weekly_cutoff(died_on + dt.timedelta(days=2)), {
                "certificate_id": f"SWP{n:07d}", "name": who.name, "id_number": who.id18, "died_on": died_on,
                "cause": "其他疾病",
            })  # fmt: skip
        if cremation:
            self.add("mz_cremation", self.weekly_cutoff(died_on + dt.timedelta(days=crem_delay)), {
                "cremation_id": f"HHP{n:07d}", "name": who.name, "id_number": who.id18, "died_on": died_on,
                "cremated_on": died_on + dt.timedelta(days=3), "funeral_home": "济南市殡仪馆",
            })  # fmt: skip

    def pay(
        self, hh: Household, who: Person, programme: str, k: int, amount: int, delivered_k: int | None = None
    ) -> None:
        delivered = self.cutoff(k if delivered_k is None else delivered_k)
        self.add("mz_payment", delivered, {
            "payment_id": f"FFP{self.next_id():08d}", "period": self.month(k), "household_id": hh.hid,
            "id_number": who.id18, "programme": programme, "amount": amount,
            "paid_on": month_start(delivered) + dt.timedelta(days=9),
        })  # fmt: skip

    def contribute(self, who: Person, months: list[dt.date], base: int, scheme: str = "企业职工基本养老保险") -> None:
        for m in months:
            self.add("rsj_contribution", self.monthly_cutoff(m), {
                "id_number": who.id18, "name": who.name, "period": month_start(m), "scheme": scheme,
                "wage_base": base, "employer": "山东鲁信实业有限公司",
            })  # fmt: skip

    def register(self, who: Person, registered_on: dt.date, closed_on: dt.date | None = None) -> str:
        rid = f"SYP{self.next_id():07d}"
        row = {"registration_id": rid, "id_number": who.id18, "name": who.name, "registered_on": registered_on,
               "closed_on": None, "close_reason": None, "receives_benefit": "否"}  # fmt: skip
        self.add("rsj_unemployment", self.monthly_cutoff(registered_on), row)
        if closed_on is not None:  # a later version of the same registration closes it
            self.add(
                "rsj_unemployment",
                self.monthly_cutoff(closed_on),
                {**row, "closed_on": closed_on, "close_reason": "就业创业"},
            )
        return rid

    def disaster(self, head: Person, village: str, damage: str, loss: int, occurred_on: dt.date) -> str:
        rid = f"ZHP{self.next_id():07d}"
        self.add("yjj_disaster", self.weekly_cutoff(occurred_on + dt.timedelta(days=5)), {
            "relief_id": rid, "hazard": "洪涝", "occurred_on": occurred_on, "head_name": head.name,
            "head_id": head.id18, "region_code": village, "people_affected": 3, "house_damage": damage, "loss": loss,
            "relief_paid": 0,
        })  # fmt: skip
        return rid

    def certificate(
        self, who: Person, kind: str, grade: str, care: str | None, living: str | None = "是", from_k: int = 0
    ) -> None:
        kinds = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
        grades = ("一级", "二级", "三级", "四级")
        cert = f"{who.id18}{kinds.index(kind) + 1}{grades.index(grade) + 1}"
        self.certificates.append((from_k, {
            "certificate_no": cert, "name": who.name, "id_number": who.id18, "disability_type": kind,
            "disability_grade": grade, "issued_on": add_months(self.schedule.window_start, -30),
            "living_subsidy": living, "care_subsidy": care,
        }))  # fmt: skip

    def aid(self, who: Person, year: str, stage: str = "义务教育") -> None:
        terms = [t for t in self.schedule.terms if school_year(t) == year]
        if not terms:
            raise ValueError(f"{self.scenario}: no student-aid delivery for school year {year}")
        self.add("jyt_student_aid", terms[-1], {
            "aid_id": f"ZZP{self.next_id():07d}", "name": who.name, "id_number": who.id18, "stage": stage,
            "school": "济南市实验学校", "aid_type": "生活补助", "amount": 62500, "school_year": year,
        })  # fmt: skip

    def monitored_rural(
        self,
        head: Person,
        county: str,
        income_pc: int,
        member_count: int = 3,
        risk: str = "未消除",
        cleared_k: int = NEVER,
    ) -> dict[str, Any]:
        row = {
            "rural_household_id": f"{self.village(county, '农村')}{9000 + len(self.nync):04d}",
            "head_name": head.name, "head_id": head.id18, "monitoring_type": "边缘易致贫户",
            "identified_on": add_months(self.schedule.window_start, -12), "risk_status": risk,
            "member_count": member_count, "income_per_capita": income_pc, "cleared_k": cleared_k,
        }  # fmt: skip
        row["region_code"] = row["rural_household_id"][:12]
        self.nync.append(row)
        return row

    # --- truth ---------------------------------------------------------------------------------------------
    def expect(
        self, rule: str, level: str, household_id: str, episode: str, who: Person | None = None, sub: str = ""
    ) -> None:
        self.warnings.append(
            ExpectedWarning(rule, sub, level, household_id, self.pk(who) if who else "", episode, self.scenario)
        )

    def expect_application(self, applicant: Applicant) -> None:
        applicant.scenario = self.scenario
        self.applications.append(applicant)

    def expect_exit(self, hh: Household, from_k: int, to_k: int, result: str) -> None:
        self.identifications.append(
            ExpectedIdentification(
                "",
                hh.hid,
                "退出复核",
                result,
                "",
                "0.00",
                self.cutoff(from_k).isoformat(),
                self.cutoff(to_k).isoformat(),
                self.scenario,
            )
        )

    def temp(self, county: str, urban_rural: str, n: int) -> int:
        return temp_amount(self.params, county, urban_rural, n)
