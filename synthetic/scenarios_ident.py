"""Planted identification scenarios (docs/rules.md#identification-认定): applications covering every outcome,
单人保, 临时救助, 退出转入, no consent, corrected applications; exit reviews of households leaving 特困/低保; and the
re-delivered roster whose `_2` changes the truth.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from synthetic.applications import Applicant
from synthetic.params import ceil_cents, cents, floor_cents
from synthetic.plant import Household, Person, Plant
from synthetic.scenario_kit import OVERRIDE_CITY, OVERRIDE_COUNTY, Counties, member, spread


def am(
    who: Person, relation: str = "户主", labour: str = "有劳动能力", health: str | None = "健康",
    kind: str | None = None, grade: str | None = None, supporter: str = "有", capable: str | None = "有",
) -> dict[str, Any]:  # fmt: skip
    return {
        "person": who, "relation": relation, "labour_capacity": labour, "health": health,
        "disability_type": kind, "disability_grade": grade, "has_supporter": supporter, "supporter_capable": capable,
    }  # fmt: skip


def apply(
    p: Plant, county: str, members: list[dict[str, Any]], income: int, result: str, *, ur: str = "农村",
    assets: int = 0, cars: int = 0, extra: int = 0, medical: int | None = None, education: int | None = None,
    consent: str = "是", requested: str = "最低生活保障", origin: str = "新申请", previous: str | None = None,
    cover: list[Person] = (),
    temp: int = 0, applied_on: dt.date | None = None, village: str | None = None, app_id: str | None = None,
) -> Applicant:  # fmt: skip
    """Write one application (and its members) and record the result it must get."""
    applied_on = applied_on or p.run - dt.timedelta(days=int(p.rng.integers(3, 60)))
    village = village or p.village(county, ur)
    app_id = app_id or f"SQP{p.next_id():07d}"
    head = members[0]["person"]
    app = {
        "application_id": app_id, "applied_on": applied_on, "region_code": village,
        "urban_rural": p.urban_rural_of(village), "applicant_name": head.name, "applicant_id": head.id18,
        "requested_category": requested, "consent": consent,
        "origin": origin, "previous_household_id": previous, "member_count": len(members), "annual_income": income,
        "financial_assets": assets, "vehicle_count": cars, "extra_property_count": extra,
        "medical_expense_12m": medical, "education_expense_12m": education,
    }  # fmt: skip
    rows = [
        {
            "application_id": app_id,
            "name": m["person"].name,
            "id_number": m["person"].id18,
            **{k: v for k, v in m.items() if k != "person"},
        }  # fmt: skip
        for m in members
    ]
    cutoff = p.weekly_cutoff(applied_on)
    assert cutoff is not None
    kind = "退出转入申请" if origin == "退出转入" else "申请"
    applicant = Applicant(app, rows, cutoff, result, [c.id18 for c in cover], temp, review_kind=kind)
    p.expect_application(applicant)
    return applicant


def s12n(p: Plant, county: str, ur: str, n: int, ratio: Decimal | str = "1") -> int:
    """ratio × S × 12 × n in cents (floor)."""
    return floor_cents(Decimal(str(ratio)) * p.s(county, ur) * 12 * n)


def identification(p: Plant, counties: Counties, found: dict[str, Any]) -> None:
    _tekun(p, counties)
    _dibao(p, counties)
    _edge(p, counties)
    _rigid(p, counties)
    _consent(p, counties)
    _temporary(p, counties, found)
    _transfer(p, counties)
    _corrected(p, counties)


def _tekun(p: Plant, counties: Counties) -> None:
    for county in counties.take(2):
        p.begin("认定 特困人员: alone, aged 75, no legal supporter")
        who = p.person(county, 75)
        apply(
            p,
            county,
            [am(who, labour="无劳动能力", supporter="无", capable=None)],
            s12n(p, county, "农村", 1, "0.6"),
            "特困人员",
        )
    county = counties.one()
    p.begin("认定 特困人员 boundary: income exactly 1.3·S·12")
    who = p.person(county, 68)
    income = floor_cents(p.p("tekun_income_multiplier", county) * p.s(county, "农村") * 12)
    apply(
        p,
        county,
        [am(who, labour="无劳动能力", supporter="无", capable=None)],
        income,
        "特困人员",
        requested="特困人员",
    )
    county = counties.one()
    p.begin("认定 特困人员: a 12-year-old orphan")
    who = p.person(county, 12)
    apply(p, county, [am(who, labour="无劳动能力", supporter="无", capable=None)], 0, "特困人员", requested="特困人员")
    county = counties.one()
    p.begin("认定 特困人员: 二级 肢体 at 40, supporter without capacity")
    who = p.person(county, 40)
    apply(
        p,
        county,
        [am(who, health="残疾", kind="肢体", grade="二级", capable="无")],
        s12n(p, county, "农村", 1, "0.5"),
        "特困人员",
    )
    county = counties.one()
    p.begin("认定 near miss: 特困 requested at 40 with labour capacity → 最低生活保障")
    who = p.person(county, 40)
    apply(
        p,
        county,
        [am(who, supporter="无", capable=None)],
        s12n(p, county, "农村", 1, "0.5"),
        "最低生活保障",
        requested="特困人员",
    )
    county = counties.one()
    p.begin("认定 near miss: 三级 肢体 is not a 特困 disability → 最低生活保障")
    who = p.person(county, 42)
    apply(
        p,
        county,
        [am(who, health="残疾", kind="肢体", grade="三级", supporter="无", capable=None)],
        s12n(p, county, "农村", 1, "0.4"),
        "最低生活保障",
    )
    county = counties.one()
    p.begin("认定 near miss: aged 70 with a supporter whose capacity is empty (counts as capable) → 最低生活保障")
    who = p.person(county, 70)
    apply(p, county, [am(who, labour="无劳动能力", capable=None)], s12n(p, county, "农村", 1, "0.5"), "最低生活保障")


def _family(p: Plant, county: str, n: int, **first: Any) -> list[dict[str, Any]]:
    rows = [am(p.person(county, 41), **first)]
    relations = [("配偶", 39), ("子女", 13), ("子女", 9), ("父母", 68)]
    for relation, age in relations[: n - 1]:
        rows.append(am(p.person(county, age), relation, "有劳动能力" if 16 <= age <= 59 else "无劳动能力"))
    return rows


def _dibao(p: Plant, counties: Counties) -> None:
    county = counties.one()
    p.begin("认定 最低生活保障 boundary: income one cent below S·12·n")
    apply(p, county, _family(p, county, 3), s12n(p, county, "农村", 3) - 1, "最低生活保障")
    county = counties.one()
    p.begin("认定 near miss: income exactly S·12·n is not below S → 低保边缘家庭")
    apply(p, county, _family(p, county, 3), s12n(p, county, "农村", 3), "低保边缘家庭")
    county = counties.one()
    p.begin("认定 最低生活保障 boundary: assets exactly 24·S per person")
    assets = floor_cents(p.p("dibao_asset_months", county) * p.s(county, "农村") * 2)
    apply(p, county, _family(p, county, 2), s12n(p, county, "农村", 2, "0.5"), "最低生活保障", assets=assets)
    county = counties.one()
    p.begin("认定: 低保 income but assets of 30·S per person → 低保边缘家庭")
    apply(
        p,
        county,
        _family(p, county, 2),
        s12n(p, county, "农村", 2, "0.5"),
        "低保边缘家庭",
        assets=s12n(p, county, "农村", 2, "2.5"),
    )
    county = counties.one()
    p.begin("认定: 低保 income but one vehicle → 低保边缘家庭")
    apply(p, county, _family(p, county, 4), s12n(p, county, "农村", 4, "0.6"), "低保边缘家庭", cars=1)


def _edge(p: Plant, counties: Counties) -> None:
    county = counties.default_edge(p)
    p.begin("认定 低保边缘家庭 with 单人保 for a 重病 member, a 二级 and a 三级 精神 disability (not 三级 肢体)")
    fam = _family(p, county, 5)
    fam[1].update(health="重病")
    fam[2].update(health="残疾", disability_type="肢体", disability_grade="二级", labour_capacity="无劳动能力")
    fam[3].update(health="残疾", disability_type="精神", disability_grade="三级", labour_capacity="无劳动能力")
    fam[4].update(health="残疾", disability_type="肢体", disability_grade="三级")
    cover = [fam[i]["person"] for i in (1, 2, 3)]
    apply(p, county, fam, s12n(p, county, "农村", 5, "1.2"), "低保边缘家庭", cover=cover)
    county = counties.default_edge(p)
    p.begin("认定 低保边缘家庭: a single 重病 applicant is put forward for 单人保 himself")
    who = p.person(county, 45)
    apply(p, county, [am(who, health="重病")], s12n(p, county, "农村", 1, "1.2"), "低保边缘家庭", cover=[who])
    p.begin("认定 低保边缘家庭 in 370102 (county multiplier 2.0): income 1.9·S")
    apply(
        p,
        OVERRIDE_COUNTY,
        _family(p, OVERRIDE_COUNTY, 2),
        s12n(p, OVERRIDE_COUNTY, "城市", 2, "1.9"),
        "低保边缘家庭",
        ur="城市",
    )
    city_county = counties.in_city(OVERRIDE_CITY)
    p.begin(f"认定 低保边缘家庭 in {city_county} (city multiplier 1.6): income 1.55·S")
    apply(p, city_county, _family(p, city_county, 2), s12n(p, city_county, "农村", 2, "1.55"), "低保边缘家庭")
    county = counties.default_edge(p)
    p.begin("认定 near miss: income 1.55·S where the multiplier is the default 1.5 → 无")
    apply(p, county, _family(p, county, 2), s12n(p, county, "农村", 2, "1.55"), "无")
    county = counties.default_edge(p)
    p.begin("认定 低保边缘家庭 boundary: income exactly m·S·12·n")
    income = floor_cents(p.p("edge_income_multiplier", county) * p.s(county, "农村") * 12 * 3)
    apply(p, county, _family(p, county, 3), income, "低保边缘家庭")


def _rigid_county(p: Plant, counties: Counties) -> tuple[str, int]:
    """A county whose (m·S·12, D) leaves room for 刚性支出 (城市), and a per-person income inside it."""
    while True:
        county = counties.one()
        low = p.p("edge_income_multiplier", county) * p.s(county, "城市") * 12
        high = p.d(county, "城市")
        if low * Decimal("1.25") < high:
            return county, cents(((low + high) / 2).quantize(Decimal(1)))


def _rigid(p: Plant, counties: Counties) -> None:
    for ratio, result, name in (
        (Decimal("0.8"), "刚性支出困难家庭", "认定 刚性支出困难家庭: medical + education 80% of income"),
        (None, "刚性支出困难家庭", "认定 刚性支出困难家庭 boundary: expenses exactly r·income"),
        ("-1", "无", "认定 near miss: expenses one cent below r·income → 无"),
    ):
        county, per_person = _rigid_county(p, counties)
        p.begin(name)
        income = per_person * 2
        r = p.p("rigid_expense_ratio", county)
        need = ceil_cents(r * Decimal(income) / 100)
        expenses = (
            cents(ratio * Decimal(income) / 100) if isinstance(ratio, Decimal) else need - (1 if ratio == "-1" else 0)
        )
        education = expenses // 3
        apply(
            p,
            county,
            _family(p, county, 2),
            income,
            result,
            ur="城市",
            medical=expenses - education,
            education=education,
        )
    county = counties.one()
    p.begin("认定 无: high income, two extra dwellings")
    apply(
        p,
        county,
        _family(p, county, 3),
        s12n(p, county, "农村", 3, "4"),
        "无",
        extra=2,
        assets=s12n(p, county, "农村", 3, "5"),
    )


def _consent(p: Plant, counties: Counties) -> None:
    county = counties.one()
    p.begin("认定 without consent: 低保 requested by someone who meets 特困 → 最低生活保障")
    who = p.person(county, 71)
    apply(
        p,
        county,
        [am(who, labour="无劳动能力", supporter="无", capable=None)],
        s12n(p, county, "农村", 1, "0.5"),
        "最低生活保障",
        consent="否",
        requested="最低生活保障",
    )
    county = counties.one()
    p.begin("认定 without consent: 低保边缘 requested while meeting 低保 (a 重病 member but no 单人保)")
    fam = _family(p, county, 2)
    fam[1].update(health="重病")
    apply(p, county, fam, s12n(p, county, "农村", 2, "0.5"), "低保边缘家庭", consent="否", requested="低保边缘家庭")
    county = counties.one()
    p.begin("认定 without consent: 特困 requested by a two-person household → 无")
    apply(p, county, _family(p, county, 2), s12n(p, county, "农村", 2, "0.3"), "无", consent="否", requested="特困人员")
    county = counties.one()
    p.begin("认定 without consent: 刚性支出 requested with no income (the ratio test is met at income 0)")
    apply(p, county, _family(p, county, 2), 0, "刚性支出困难家庭", consent="否", requested="刚性支出困难家庭")
    for requested, consent in (("防止返贫监测对象", "否"), ("其他困难人员", "否")):
        county = counties.one()
        p.begin(f"认定: {requested} requested without consent → 无 (left to staff)")
        apply(
            p,
            county,
            _family(p, county, 2),
            s12n(p, county, "农村", 2, "0.5"),
            "无",
            consent=consent,
            requested=requested,
        )
    county = counties.one()
    p.begin("认定: 防止返贫监测对象 requested with consent, meeting no category → 无")
    apply(
        p, county, _family(p, county, 2), s12n(p, county, "农村", 2, "4"), "无", requested="防止返贫监测对象", extra=2
    )


def _temporary(p: Plant, counties: Counties, found: dict[str, Any]) -> None:
    threshold = lambda c: cents(p.p("temp_medical_threshold", c))  # noqa: E731
    cases = [
        ("临时救助: 低保 result with ¥25,000 medical costs", 2, 2500000 - 2000000, "最低生活保障", True),
        ("临时救助 boundary: medical costs exactly the threshold", 3, 0, "最低生活保障", True),
        ("临时救助 near miss: medical costs one cent below the threshold", 2, -1, "最低生活保障", False),
        ("临时救助 near miss: 低保边缘 result, high medical costs", 2, 1000000, "低保边缘家庭", False),
    ]
    for name, n, offset, result, due in cases:
        county = counties.default_edge(p)
        p.begin(name)
        ratio = "0.5" if result == "最低生活保障" else "1.2"
        temp = p.temp(county, "农村", n) if due else 0
        apply(
            p,
            county,
            _family(p, county, n),
            s12n(p, county, "农村", n, ratio),
            result,
            medical=threshold(county) + offset,
            temp=temp,
        )
    county = counties.one()
    p.begin("临时救助: 特困 result with high medical costs")
    who = p.person(county, 80)
    apply(p, county, [am(who, labour="无劳动能力", supporter="无", capable=None)], s12n(p, county, "农村", 1, "0.3"),
          "特困人员", medical=threshold(county) + 200000, temp=p.temp(county, "农村", 1))  # fmt: skip
    for key, label in (("w02_household", "W02"), ("w04_household", "W04")):
        hh: Household = found[key]
        p.begin(f"临时救助: an applicant whose household has an open {label} warning in this run")
        survivors = [m for m in hh.members if m.leave_k > p.T][:2]
        fam = [am(survivors[0].person)] + [
            am(m.person, "配偶" if m.relation == "配偶" else "子女", m.labour) for m in survivors[1:]
        ]
        n = len(fam)
        apply(p, hh.county, fam, s12n(p, hh.county, hh.urban_rural, n, "0.5"), "最低生活保障", ur=hh.urban_rural,
              village=hh.village, temp=p.temp(hh.county, hh.urban_rural, n))  # fmt: skip


def _transfer(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    county = counties.default_edge(p)
    p.begin("退出转入 with consent: meets 低保 but only 边缘/刚性 are reviewed → 低保边缘家庭, no 单人保")
    fam = _family(p, county, 2)
    fam[1].update(health="重病")
    old = p.household(county, "最低生活保障", [member(p, county, 50, "户主")], 8000, end_k=L - 6)
    apply(p, county, fam, s12n(p, county, "农村", 2, "0.6"), "低保边缘家庭", origin="退出转入", previous=old.hid)
    p.expect_exit(old, L - 7, L - 6, "低保边缘家庭")
    county = counties.default_edge(p)
    p.begin("退出转入 with consent: above 低保, within 边缘, a 重病 member → 低保边缘家庭 and 单人保")
    fam = _family(p, county, 3)
    fam[2].update(health="重病")
    apply(
        p, county, fam, s12n(p, county, "农村", 3, "1.3"), "低保边缘家庭", origin="退出转入", cover=[fam[2]["person"]]
    )
    county, per_person = _rigid_county(p, counties)
    p.begin("退出转入 with consent: 刚性支出")
    income = per_person
    apply(
        p,
        county,
        [am(p.person(county, 50))],
        income,
        "刚性支出困难家庭",
        ur="城市",
        origin="退出转入",
        medical=income * 7 // 10,
    )
    county, per_person = _rigid_county(p, counties)
    p.begin("退出转入 without consent: 刚性支出 requested and met")
    apply(p, county, [am(p.person(county, 48))], per_person, "刚性支出困难家庭", ur="城市", origin="退出转入",
          consent="否", requested="刚性支出困难家庭", medical=per_person * 3 // 4)  # fmt: skip
    county = counties.one()
    p.begin("退出转入 without consent: 低保 requested → 无")
    apply(p, county, _family(p, county, 2), s12n(p, county, "农村", 2, "0.5"), "无", origin="退出转入", consent="否")
    county = counties.default_edge(p)
    p.begin("退出转入 with consent: someone who would meet 特困 → 低保边缘家庭")
    who = p.person(county, 74)
    apply(
        p,
        county,
        [am(who, labour="无劳动能力", supporter="无", capable=None)],
        s12n(p, county, "农村", 1, "0.5"),
        "低保边缘家庭",
        origin="退出转入",
    )


def _corrected(p: Plant, counties: Counties) -> None:
    county = counties.default_edge(p)
    p.begin("认定: an application corrected in a later delivery (the latest version counts)")
    fam = _family(p, county, 2)
    first_day = p.run - dt.timedelta(days=45)
    first = apply(p, county, fam, s12n(p, county, "农村", 2, "0.5"), "最低生活保障", applied_on=first_day)
    first.superseded = True  # delivered, then replaced by the corrected version below
    corrected = dict(first.app, annual_income=s12n(p, county, "农村", 2, "1.2"))
    later = p.weekly_cutoff(first_day + dt.timedelta(days=15))
    assert later is not None
    p.expect_application(Applicant(corrected, [], later, "低保边缘家庭"))


def exits(p: Plant, counties: Counties) -> None:
    """Households leaving 特困/低保 between consecutive snapshots, each with its exit review result."""
    L = p.T - 1
    county = counties.default_edge(p)
    p.begin("退出复核: 低保 household absent from a snapshot → 低保边缘家庭 on income")
    hh = p.household(
        county,
        "最低生活保障",
        [member(p, county, 55, "户主"), member(p, county, 52, "配偶")],
        s12n(p, county, "农村", 2, "1.2") / 100,
        end_k=L - 5,
    )
    p.expect_exit(hh, L - 6, L - 5, "低保边缘家庭")
    county = counties.default_edge(p)
    p.begin("退出复核: 特困 household goes 停保; income above 边缘, no costs → 无")
    hh = p.household(county, "特困人员", [member(p, county, 66, "户主", labour="无劳动能力")],
                     s12n(p, county, "农村", 1, "2.2") / 100, changes=[(L - 3, {"status": "停保"})])  # fmt: skip
    p.expect_exit(hh, L - 4, L - 3, "无")
    for county, ratio, result in (
        (OVERRIDE_COUNTY, "1.8", "低保边缘家庭"),
        (counties.in_city(OVERRIDE_CITY), "1.55", "低保边缘家庭"),
        (counties.default_edge(p), "1.55", "无"),
    ):
        p.begin(f"退出复核: 低保 → 低保边缘家庭 in {county}, income {ratio}·S (county/city multiplier)")
        hh = p.household(county, "最低生活保障", [member(p, county, 47, "户主"), member(p, county, 45, "配偶")],
                         s12n(p, county, "城市", 2, ratio) / 100, urban_rural="城市",
                         changes=[(L - 2, {"category": "低保边缘家庭"})])  # fmt: skip
        p.expect_exit(hh, L - 3, L - 2, result)
    county, per_person = _rigid_county(p, counties)
    p.begin("退出复核: 低保 household 退出; members' 12-month self-paid ≥ 50% of income → 刚性支出困难家庭")
    head = member(p, county, 58, "户主")
    hh = p.household(county, "最低生活保障", [head], per_person / 100, urban_rural="城市",
                     changes=[(L - 4, {"status": "退出", "exited_on": p.day_in(L - 4, 12)})])  # fmt: skip
    p.settle(head.person, p.day_in(L - 2, 9), per_person * 6 // 10, aid=10000)
    p.expect_exit(hh, L - 5, L - 4, "刚性支出困难家庭")
    county = counties.default_edge(p)
    p.begin("退出复核 on the household as it is now: 低保 → 低保边缘家庭 with an income risen past m·S → 无")
    hh = p.household(county, "最低生活保障", [member(p, county, 44, "户主"), member(p, county, 42, "配偶")], 0)
    hh.income = floor_cents(Decimal("0.8") * p.s(hh) * 12 * 2)  # its old income would give 低保边缘家庭
    hh.changes.append((L - 3, {"category": "低保边缘家庭", "income": floor_cents(Decimal("2.4") * p.s(hh) * 24)}))
    p.expect_exit(hh, L - 4, L - 3, "无")
    county = counties.default_edge(p)
    p.begin("退出复核 on the household as it is now: 停保 with a member gone; 1.2·S for three is 1.8·S for two → 无")
    hh = p.household(county, "最低生活保障", [member(p, county, 51, "户主"), member(p, county, 49, "配偶"),
                                        member(p, county, 23, "子女", leave_k=L - 2)], 0)  # fmt: skip
    hh.income = floor_cents(Decimal("1.2") * p.s(hh) * 12 * 3)
    hh.changes.append((L - 2, {"status": "停保"}))
    p.expect_exit(hh, L - 3, L - 2, "无")
    for before, after in (("特困人员", "最低生活保障"), ("最低生活保障", "特困人员")):
        county = counties.one()
        p.begin(f"退出复核 near miss: {before} → {after} is not leaving (no exit review)")
        who = member(p, county, 67, "户主", labour="无劳动能力")
        p.household(county, before, [who], 3000, changes=[(L - 4, {"category": after})])
    county = counties.one()
    p.begin("D01, not W01: a 停保 household's member with large costs (and its exit review)")
    head = member(p, county, 46, "户主")
    hh = p.household(
        county, "最低生活保障", [head], s12n(p, county, "农村", 1, "0.5") / 100, changes=[(L - 4, {"status": "停保"})]
    )
    spread(p, [head.person], cents(p.p("d01_self_paid", county)) + 1000000, [L - 6, L - 1])
    p.expect_exit(hh, L - 5, L - 4, "低保边缘家庭")
    p.expect("D01", "黄", "", "D01", head.person)


def redelivery(p: Plant, counties: Counties) -> None:
    """The latest mz_household is re-delivered as `_2`: one household dropped, one changed."""
    L = p.T - 1
    county = counties.one()
    p.begin("Re-delivery `_2` drops a 低保 household: its member is no longer monitored (D01 and an exit review)")
    head = member(p, county, 45, "户主")
    hh = p.household(county, "最低生活保障", [head], s12n(p, county, "农村", 1, "0.5") / 100, latest_variants={2: None})
    spread(p, [head.person], cents(p.p("d01_self_paid", county)) + 1000000, [L - 3, L - 1])
    p.expect("D01", "黄", "", "D01", head.person)
    p.expect_exit(hh, L - 1, L, "低保边缘家庭")
    county = counties.one()
    p.begin("Re-delivery `_2` raises a household's income: W01's threshold rises above its costs")
    a = member(p, county, 44, "户主")
    hh = p.household(
        county, "低保边缘家庭", [a, member(p, county, 43, "配偶")], 40000, latest_variants={2: {"income": 6000000}}
    )
    p.settle(a.person, p.day_in(L - 4, 4), 2600000)
