"""Applications (mz_application + mz_application_member) and their expected identification.

Background applications are built *for* an outcome: each draws a target category and figures that sit
well inside that category's zone and well outside every earlier one (docs/rules.md#identification-认定), so the expected
result is known by construction; truth_check.py decides them independently and must agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from synthetic.calendar import Schedule, add_months
from synthetic.params import RunParams, cents
from synthetic.people import PlantedPeople
from synthetic.rand import stream

TARGETS = ("特困人员", "最低生活保障", "低保边缘家庭", "刚性支出困难家庭", "无")
TARGET_P = (0.12, 0.40, 0.25, 0.08, 0.15)
REQUESTABLE = ("特困人员", "最低生活保障", "低保边缘家庭", "刚性支出困难家庭")


@dataclass
class Applicant:
    """One application with its members, as clean rows, and what the review must conclude."""

    app: dict[str, Any]
    members: list[dict[str, Any]]
    cutoff: dt.date
    result: str
    cover_ids: list[str] = field(default_factory=list)
    temp_cents: int = 0
    scenario: str = "background"
    review_kind: str = "申请"
    superseded: bool = False  # a version replaced by a later delivery of the same 申请编号 (no truth row)


def born_at_age(rng: np.random.Generator, on: dt.date, age: int) -> dt.date:
    """A birth date giving completed `age` years on `on` (never 29 February, never on the day itself)."""
    born = add_months(on, -12 * age) - dt.timedelta(days=int(rng.integers(5, 350)))
    return born - dt.timedelta(days=1) if (born.month, born.day) == (2, 29) else born


def yuan(value: float) -> int:
    """Whole-yuan cents of a float amount."""
    return int(round(value)) * 100


class BackgroundApplications:
    def __init__(
        self,
        seed: int,
        schedule: Schedule,
        params: RunParams,
        villages: pl.DataFrame,
        households: int,
        people: PlantedPeople,
    ):
        self.rng = stream(seed, "applications")
        self.schedule = schedule
        self.params = params
        self.villages = villages.select("village", "county", "urban_rural").rows()
        self.people = people
        self.per_week = max(1, round(households * 0.0015))

    def build(self) -> list[Applicant]:
        out: list[Applicant] = []
        for cutoff in self.schedule.weekly:
            for i in range(self.per_week):
                out.append(self._one(cutoff, f"SQ{cutoff:%Y%m%d}{i:05d}"))
        return out

    def _person(self, county: str, on: dt.date, age: int) -> tuple[str, str]:
        rng = self.rng
        region = county if rng.random() < 0.9 else "110105"
        born = born_at_age(rng, on, age)
        return self.people.make_id(region, born, bool(rng.random() < 0.5)), self.people.name()

    def _one(self, cutoff: dt.date, app_id: str) -> Applicant:
        rng, p = self.rng, self.params
        village, county, ur = self.villages[int(rng.integers(0, len(self.villages)))]
        applied = cutoff - dt.timedelta(days=int(rng.integers(0, 7)))
        target = TARGETS[int(rng.choice(len(TARGETS), p=TARGET_P))]
        s, d = p.s(county, ur), p.d(county, ur)
        m, r = p.p("edge_income_multiplier", county), p.p("rigid_expense_ratio", county)
        if target == "刚性支出困难家庭" and Decimal("1.1") * m * s * 12 >= Decimal("0.9") * d:
            target = "无"
        n = 1 if target == "特困人员" else int(rng.choice(5, p=(0.25, 0.3, 0.25, 0.15, 0.05)) + 1)
        members = self._members(target, n, county, applied, app_id)
        figures = self._figures(target, n, s, d, m, r, county)
        consent = "是" if rng.random() < 0.75 else "否"
        requested = target if target in REQUESTABLE else REQUESTABLE[int(rng.integers(0, 4))]
        if consent == "是" and rng.random() < 0.3:
            requested = REQUESTABLE[int(rng.integers(0, 4))]
        app = {
            "application_id": app_id, "applied_on": applied, "region_code": village, "urban_rural": ur,
            "applicant_name": members[0]["name"], "applicant_id": members[0]["id_number"],
            "requested_category": requested, "consent": consent, "origin": "新申请", "previous_household_id": None,
            "member_count": n, **figures,
        }  # fmt: skip
        cover = [x["id_number"] for x in members if target == "低保边缘家庭" and _cover(x)]
        return Applicant(app, members, cutoff, target, cover)

    def _members(self, target: str, n: int, county: str, applied: dt.date, app_id: str) -> list[dict[str, Any]]:
        rng = self.rng
        rows = []
        for j in range(n):
            if j == 0:
                elderly, child = self.params.i("tekun_elderly_age", county), self.params.i("tekun_child_age", county)
                age = (
                    int(rng.integers(elderly + 6, elderly + 29))
                    if target == "特困人员"
                    else int(rng.integers(child + 12, elderly - 7))
                )
                relation = "户主"
            else:
                relation = ("配偶", "子女", "子女", "父母")[min(j - 1, 3)]
                age = {
                    "配偶": int(rng.integers(28, 55)),
                    "子女": int(rng.integers(1, 25)),
                    "父母": int(rng.integers(60, 85)),
                }[relation]
            id18, name = self._person(county, applied, age)
            row = {
                "application_id": app_id, "name": name, "id_number": id18, "relation": relation,
                "labour_capacity": "有劳动能力" if 16 <= age <= 59 else "无劳动能力",
                "health": None, "disability_type": None, "disability_grade": None,
                "has_supporter": "有", "supporter_capable": "有" if rng.random() < 0.7 else None,
            }  # fmt: skip
            if target == "特困人员":
                row.update(has_supporter="无", supporter_capable=None, labour_capacity="部分丧失劳动能力")
            elif j > 0 and rng.random() < 0.12:
                row.update(health="重病")
            elif j > 0 and rng.random() < 0.08:
                row.update(
                    health="残疾",
                    disability_type="肢体",
                    disability_grade=("一级", "二级", "四级")[int(rng.integers(0, 3))],
                )
            else:
                row.update(health=("健康", "慢性病", None)[int(rng.integers(0, 3))])
            rows.append(row)
        return rows

    def _figures(
        self, target: str, n: int, s: Decimal, d: Decimal, m: Decimal, r: Decimal, county: str
    ) -> dict[str, Any]:
        rng, p = self.rng, self.params
        sf, df, mf, rf = float(s), float(d), float(m), float(r)
        s12n = sf * 12 * n
        tekun_m = float(p.p("tekun_income_multiplier", county))
        low_assets = float(p.p("dibao_asset_months", county)) * sf * n
        edge_assets = float(p.p("edge_asset_months", county)) * sf * n
        temp = float(p.p("temp_medical_threshold", county))
        u = float(rng.random())
        if target == "特困人员":
            income, assets, cars, extra = (0.2 + 0.7 * u) * tekun_m * sf * 12, 0.5 * u * low_assets, 0, 0
        elif target == "最低生活保障":
            income, assets, cars, extra = (0.3 + 0.55 * u) * s12n, 0.5 * u * low_assets, 0, 0
        elif target == "低保边缘家庭":
            income, assets = (1.1 + (0.9 * mf - 1.1) * u) * s12n, 0.6 * u * edge_assets
            cars, extra = int(rng.integers(0, 2)), int(rng.integers(0, 2))
        elif target == "刚性支出困难家庭":
            lo, hi = 1.1 * mf * sf * 12, 0.9 * df
            income, assets = (lo + (hi - lo) * u) * n, 0.6 * u * edge_assets
            cars, extra = int(rng.integers(0, 2)), 0
        else:
            income, assets = (1.2 * mf + 1.3 * mf * u) * s12n, float(rng.random()) * 2 * edge_assets
            cars, extra = int(rng.integers(0, 3)), int(rng.integers(0, 3))
        if target == "刚性支出困难家庭":
            expenses = (1.2 * rf + 0.6 * float(rng.random())) * income
        elif target in ("特困人员", "最低生活保障"):
            expenses = min(0.4 * temp, 0.5 * float(rng.random()) * temp)
        else:
            expenses = 0.6 * rf * float(rng.random()) * income
        education = expenses * 0.3 * float(rng.random())
        medical = yuan(expenses - education)
        return {
            "annual_income": yuan(income), "financial_assets": yuan(assets), "vehicle_count": cars,
            "extra_property_count": extra,
            "medical_expense_12m": medical if medical or rng.random() < 0.5 else None,
            "education_expense_12m": yuan(education) if education >= 1 else None,
        }  # fmt: skip


def _cover(member: dict[str, Any]) -> bool:
    """单人保 candidates (docs/rules.md#identification-认定): 一/二级 disability, 三级 智力/精神, or 重病."""
    grade, kind = member.get("disability_grade"), member.get("disability_type")
    return member.get("health") == "重病" or grade in ("一级", "二级") or (grade == "三级" and kind in ("智力", "精神"))


def temp_amount(params: RunParams, county: str, urban_rural: str, n: int) -> int:
    """临时救助 during review: temp_months_of_standard · S · 家庭人口数, in cents."""
    return cents(params.p("temp_months_of_standard", county) * params.s(county, urban_rural) * n)
