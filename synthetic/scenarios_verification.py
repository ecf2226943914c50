"""Planted 核对 scenarios (docs/verification.md): W09 车辆超标, W10 房产超标 and W11 经营主体 at every level and
sub-case in two or more counties, near misses at each boundary (exempt vehicle types, a 注销 car, a car sold, a unit
sold, cancelled or held jointly, a shop, same-day registrations, capital one cent below the line, a 吊销 company, …),
and identification cases whose declaration hides a car, a flat or a company, plus exit reviews with registered figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from synthetic.calendar import add_months, month_end
from synthetic.params import cents
from synthetic.plant import Household, Member, Person, Plant
from synthetic.population import NEVER
from synthetic.scenario_kit import Counties, member
from synthetic.scenarios_ident import am, apply, s12n

_VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def _code(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, len(_VIN_ALPHABET))
        chars.append(_VIN_ALPHABET[r])
    return "".join(reversed(chars))


# --- records ------------------------------------------------------------------------------------------------
def k_of(p: Plant, on: dt.date) -> int:
    """The first monthly snapshot whose cut-off is on or after `on` (0 for a date before the window)."""
    return next((k for k, cut in enumerate(p.schedule.monthly) if cut >= on), p.T)


def vehicle(
    p: Plant, owner: Person, first: dt.date, vtype: str = "小型汽车", status: str = "正常", from_k: int | None = None,
    to_k: int = NEVER, vin: str | None = None,
) -> str:  # fmt: skip
    """A vehicle in the gaj_vehicle snapshots from_k … to_k − 1 (from the snapshot after its first registration)."""
    vin = vin or f"LZP{_code(p.next_id(), 14)}"
    row = {
        "vin": vin, "plate": f"鲁A{p.next_id() % 100000:05d}", "owner_name": owner.name, "owner_id": owner.id18,
        "vehicle_type": vtype, "first_registered_on": first, "status": status, "use": "非营运",
    }  # fmt: skip
    start = k_of(p, first) if from_k is None else from_k
    p.snapshot_rows.setdefault("gaj_vehicle", []).append((start, to_k, row))
    return vin


def unit_number(p: Plant, county: str) -> str:
    return f"{county}{p.next_id():06d}JC00001F00010001"


def register(
    p: Plant, unit: str, holders: list[Person], on: dt.date, kind: str = "首次登记", use: str = "住宅",
    registration_id: str | None = None,
) -> str:  # fmt: skip
    """A registration of `unit` naming `holders` (a row each), delivered with the month of its 登记日期."""
    rid = registration_id or f"BDP{p.next_id():09d}"
    delivered = month_end(on) if month_end(on) in p.schedule.monthly else p.schedule.monthly[0]
    for who in holders:
        p.add("zrzy_property", delivered, {
            "registration_id": rid, "unit_id": unit, "holder_name": who.name, "holder_id": who.id18,
            "registration_type": kind, "use": use, "floor_area": 8650, "registered_on": on,
        })  # fmt: skip
    return rid


def dwelling(p: Plant, holders: list[Person], on: dt.date, use: str = "住宅") -> str:
    """A unit first registered (首次登记) to `holders` on `on`; its number."""
    unit = unit_number(p, holders[0].id18[:6] if holders[0].id18[:2] == "37" else "370102")
    register(p, unit, holders, on, use=use)
    return unit


def business(
    p: Plant, rep: Person, etype: str, capital: int | None, established: dt.date, status: str = "存续",
    to_k: int = NEVER,
) -> str:  # fmt: skip
    """A market entity in the scjg_business snapshots (capital in cents, None = empty); its credit code."""
    code = f"{'91' if etype not in ('个体工商户', '农民专业合作社') else '92'}{rep.id18[:6]}P{_code(p.next_id(), 9)}"
    row = {
        "credit_code": code, "entity_name": f"{rep.name}经营部", "entity_type": etype, "rep_name": rep.name,
        "rep_id": rep.id18, "registered_capital": capital, "established_on": established, "status": status,
    }  # fmt: skip
    p.snapshot_rows.setdefault("scjg_business", []).append((k_of(p, established), to_k, row))
    return code


# --- helpers ------------------------------------------------------------------------------------------------
def before_window(p: Plant, years: float) -> dt.date:
    return add_months(p.schedule.window_start, -int(years * 12)) + dt.timedelta(days=11)


def in_window(p: Plant, months: int, day: int = 12) -> dt.date:
    """A day `months` months into the window (0 = its first month)."""
    return add_months(p.schedule.window_start, months) + dt.timedelta(days=day - 1)


def household(
    p: Plant, county: str, category: str, members: list[Member], recognised: dt.date, ratio: str = "0.5", **kw: Any
) -> Household:
    if recognised > p.schedule.monthly[0]:  # recognised in the window: on the rosters from the next cut-off on
        kw.setdefault("start_k", k_of(p, recognised))
    hh = p.household(county, category, members, s12n(p, county, "农村", len(members), ratio) / 100, **kw)
    hh.income = s12n(p, county, hh.urban_rural, len(members), ratio)  # the village may be urban: its own S
    hh.recognised_on = recognised
    return hh


def couple(p: Plant, county: str) -> list[Member]:
    return [member(p, county, 52, "户主"), member(p, county, 49, "配偶")]


def plant_verification(p: Plant, counties: Counties) -> None:
    w09(p, counties)
    w09_near_misses(p, counties)
    w10(p, counties)
    w10_near_misses(p, counties)
    w11(p, counties)
    w11_near_misses(p, counties)
    identification(p, counties)
    exit_reviews(p, counties)


# --- W09 车辆超标 -----------------------------------------------------------------------------------------------
def w09(p: Plant, counties: Counties) -> None:
    recognised = before_window(p, 3)
    for county in counties.take(2):
        p.begin("W09 黄: a 低保 member's car, first registered before the 认定日期")
        hh = household(p, county, "最低生活保障", couple(p, county), recognised)
        spouse = hh.members[1].person
        vehicle(p, spouse, before_window(p, 6))
        p.expect("W09", "黄", hh.hid, "W09", spouse)
    for county in counties.take(2):
        p.begin("W09 橙: a 特困 member's car first registered after the 认定日期 (bought while assisted)")
        head = member(p, county, 66, "户主", labour="无劳动能力")
        hh = household(p, county, "特困人员", [head], recognised)
        vehicle(p, head.person, in_window(p, 2), vtype="中型客车")
        p.expect("W09", "橙", hh.hid, "W09", head.person)
    county = counties.one()
    p.begin("W09 boundary: first registered on the 认定日期 itself → 黄")
    hh = household(p, county, "最低生活保障", couple(p, county), in_window(p, 1))
    vehicle(p, hh.members[0].person, in_window(p, 1))
    p.expect("W09", "黄", hh.hid, "W09", hh.members[0].person)
    county = counties.one()
    p.begin("W09 黄: a 低保边缘 household with one car more than edge_max_vehicles")
    hh = household(p, county, "低保边缘家庭", couple(p, county), recognised, ratio="1.2")
    cars = int(p.p("edge_max_vehicles", county)) + 1
    for i in range(cars):
        vehicle(p, hh.members[i % 2].person, before_window(p, 5 + i))
    p.expect("W09", "黄", hh.hid, "W09", hh.members[0].person)  # the latest (5 years back) is the head's
    county = counties.one()
    p.begin("W09 橙: a 刚性支出 household over the limit, its latest car bought while assisted")
    hh = household(p, county, "刚性支出困难家庭", couple(p, county), recognised, ratio="1.6")
    for i in range(int(p.p("edge_max_vehicles", county))):
        vehicle(p, hh.members[0].person, before_window(p, 8 + i), vtype="轻型货车")
    vehicle(p, hh.members[1].person, in_window(p, 4))
    p.expect("W09", "橙", hh.hid, "W09", hh.members[1].person)
    county = counties.one()
    p.begin("W09: two cars first registered on the same day: the owner of the greater VIN is named")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    same = before_window(p, 4)
    serial = p.next_id()
    vehicle(p, hh.members[0].person, same, vin=f"LZP{_code(serial, 13)}A")
    vehicle(p, hh.members[1].person, same, vin=f"LZP{_code(serial, 13)}B")
    p.expect("W09", "黄", hh.hid, "W09", hh.members[1].person)


def w09_near_misses(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    recognised = before_window(p, 3)
    county = counties.one()
    p.begin("W09 near miss: 低保 with a 摩托车, a 低速货车 and a 残疾人专用车 (never counted)")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    for vtype in ("摩托车", "低速货车", "残疾人专用车"):  # files may spell them 普通二轮摩托车, 三轮汽车, …
        vehicle(p, hh.members[0].person, in_window(p, 3), vtype=vtype)
    county = counties.one()
    p.begin("W09 near miss: 低保 with a car 注销 and one 报废")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    vehicle(p, hh.members[0].person, before_window(p, 9), status="注销")
    vehicle(p, hh.members[1].person, before_window(p, 12), status="报废")
    county = counties.one()
    p.begin("W09 near miss: a 正常 car that is 注销 in the latest snapshot")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    vin = vehicle(p, hh.members[0].person, before_window(p, 9), to_k=L)
    vehicle(p, hh.members[0].person, before_window(p, 9), status="注销", from_k=L, vin=vin)
    county = counties.one()
    p.begin("W09 near miss: 低保边缘 with exactly edge_max_vehicles cars")
    hh = household(p, county, "低保边缘家庭", couple(p, county), recognised, ratio="1.2")
    for i in range(int(p.p("edge_max_vehicles", county))):
        vehicle(p, hh.members[0].person, in_window(p, 5 + i))
    county = counties.one()
    p.begin("W09 near miss: a car sold two snapshots before the run date (absent from the latest)")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    vehicle(p, hh.members[1].person, before_window(p, 7), to_k=L - 1)
    county = counties.one()
    p.begin("W09 near miss: 其他困难人员 (no asset test) with two cars")
    hh = household(p, county, "其他困难人员", couple(p, county), recognised, ratio="1.5")
    vehicle(p, hh.members[0].person, before_window(p, 7))
    vehicle(p, hh.members[1].person, in_window(p, 6))
    county = counties.one()
    p.begin("W09 near miss: the car of a member who left the 低保 household before the run date")
    stay, gone = member(p, county, 55, "户主"), member(p, county, 26, "子女", leave_k=L - 2)
    household(p, county, "最低生活保障", [stay, gone], recognised)
    vehicle(p, gone.person, in_window(p, 2))
    county = counties.one()
    p.begin("W09 near miss: a 低保边缘 household 停保 (not monitored) with two cars")
    hh = household(p, county, "低保边缘家庭", couple(p, county), recognised, ratio="1.2",
                   changes=[(L - 3, {"status": "停保"})])  # fmt: skip
    vehicle(p, hh.members[0].person, before_window(p, 7))
    vehicle(p, hh.members[1].person, before_window(p, 8))
    vehicle(p, hh.members[1].person, before_window(p, 9))


# --- W10 房产超标 -----------------------------------------------------------------------------------------------
def w10(p: Plant, counties: Counties) -> None:
    recognised = before_window(p, 3)
    for county in counties.take(2):
        p.begin("W10 黄: a 低保 household holds its home (jointly) and a second dwelling since before the 认定日期")
        hh = household(p, county, "最低生活保障", couple(p, county), recognised)
        head, spouse = hh.members[0].person, hh.members[1].person
        dwelling(p, [head, spouse], before_window(p, 12))
        dwelling(p, [head], before_window(p, 8))
        p.expect("W10", "黄", hh.hid, "W10", head)
    county = counties.one()
    p.begin("W10 橙: a 特困 member's second dwelling first registered in the window")
    head = member(p, county, 67, "户主", labour="无劳动能力")
    hh = household(p, county, "特困人员", [head], recognised)
    dwelling(p, [head.person], before_window(p, 15))
    dwelling(p, [head.person], in_window(p, 3))
    p.expect("W10", "橙", hh.hid, "W10", head.person)
    county = counties.one()
    p.begin("W10 橙: a 低保 member buys a second-hand flat (转移登记 from a stranger) while assisted")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    spouse = hh.members[1].person
    dwelling(p, [hh.members[0].person], before_window(p, 14))
    seller = p.person(county, 60)
    unit = dwelling(p, [seller], before_window(p, 9))
    register(p, unit, [spouse], in_window(p, 6), kind="转移登记")
    p.expect("W10", "橙", hh.hid, "W10", spouse)
    county = counties.one()
    p.begin("W10 boundary: the second dwelling registered on the 认定日期 itself → 黄")
    hh = household(p, county, "最低生活保障", couple(p, county), in_window(p, 2))
    dwelling(p, [hh.members[0].person], before_window(p, 10))
    dwelling(p, [hh.members[1].person], in_window(p, 2))
    p.expect("W10", "黄", hh.hid, "W10", hh.members[1].person)
    county = counties.one()
    p.begin("W10 黄: a 低保边缘 household with one dwelling more than edge_max_extra_properties + 1")
    hh = household(p, county, "低保边缘家庭", couple(p, county), recognised, ratio="1.2")
    for i in range(int(p.p("edge_max_extra_properties", county)) + 2):
        dwelling(p, [hh.members[0].person], before_window(p, 10 + i))
    p.expect("W10", "黄", hh.hid, "W10", hh.members[0].person)  # the latest (10 years back)
    county = counties.one()
    p.begin("W10 橙: a 刚性支出 member named again by a 变更登记 after the 认定日期")
    hh = household(p, county, "刚性支出困难家庭", couple(p, county), recognised, ratio="1.6")
    head = hh.members[0].person
    units = [
        dwelling(p, [head], before_window(p, 10 + i)) for i in range(int(p.p("edge_max_extra_properties", county)) + 2)
    ]
    register(p, units[0], [head], in_window(p, 7), kind="变更登记")
    p.expect("W10", "橙", hh.hid, "W10", head)
    county = counties.one()
    p.begin("W10 橙: a unit transferred away and back to the member while assisted")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    head = hh.members[0].person
    dwelling(p, [head, hh.members[1].person], before_window(p, 13))
    unit = dwelling(p, [head], before_window(p, 11))
    register(p, unit, [p.person(county, 35)], before_window(p, 6), kind="转移登记")
    register(p, unit, [head], in_window(p, 4), kind="转移登记")
    p.expect("W10", "橙", hh.hid, "W10", head)
    county = counties.one()
    p.begin("W10: the latest registration names two members jointly: the smaller person key is named")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    head, spouse = hh.members[0].person, hh.members[1].person
    dwelling(p, [head], before_window(p, 13))
    dwelling(p, [head, spouse], before_window(p, 6))
    p.expect("W10", "黄", hh.hid, "W10", min((head, spouse), key=p.pk))


def w10_near_misses(p: Plant, counties: Counties) -> None:
    recognised = before_window(p, 3)
    county = counties.one()
    p.begin("W10 near miss: a 低保 home and a shop (商业 is no dwelling)")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    dwelling(p, [hh.members[0].person], before_window(p, 12))
    dwelling(p, [hh.members[0].person], in_window(p, 2), use="商业")
    county = counties.one()
    p.begin("W10 near miss: a second dwelling transferred away (转移登记) before the run date")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    dwelling(p, [hh.members[0].person], before_window(p, 12))
    unit = dwelling(p, [hh.members[1].person], before_window(p, 7))
    register(p, unit, [p.person(county, 40)], in_window(p, 5), kind="转移登记")
    county = counties.one()
    p.begin("W10 near miss: a second dwelling cancelled (注销登记): nobody holds it")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    dwelling(p, [hh.members[0].person], before_window(p, 12))
    unit = dwelling(p, [hh.members[0].person], before_window(p, 9))
    register(p, unit, [hh.members[0].person], in_window(p, 3), kind="注销登记")
    county = counties.one()
    p.begin("W10 near miss: a 低保 home held jointly by two members counts once")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    dwelling(p, [hh.members[0].person, hh.members[1].person], in_window(p, 4))
    county = counties.one()
    p.begin("W10 near miss: 低保边缘 with exactly edge_max_extra_properties extra dwellings")
    hh = household(p, county, "低保边缘家庭", couple(p, county), recognised, ratio="1.2")
    for i in range(int(p.p("edge_max_extra_properties", county)) + 1):
        dwelling(p, [hh.members[i % 2].person], before_window(p, 10 + i))
    county = counties.one()
    p.begin("W10 near miss: two registrations of a unit on one day: the later 登记业务号 (to a stranger) holds")
    hh = household(p, county, "最低生活保障", couple(p, county), recognised)
    dwelling(p, [hh.members[0].person], before_window(p, 12))
    unit, on = unit_number(p, county), in_window(p, 6)
    register(p, unit, [hh.members[1].person], on, registration_id="BDP900000001")
    register(p, unit, [p.person(county, 44)], on, kind="转移登记", registration_id="BDP900000002")


# --- W11 经营主体 ----------------------------------------------------------------------------------------------
def w11(p: Plant, counties: Counties) -> None:
    for county in counties.take(2):
        p.begin("W11(a) 橙: a 低保 member represents a 有限责任公司")
        hh = household(p, county, "最低生活保障", couple(p, county), before_window(p, 2))
        code = business(p, hh.members[1].person, "有限责任公司", 3_000_000, before_window(p, 4))
        p.expect("W11", "橙", hh.hid, f"business:{code}", hh.members[1].person, sub="a")
    county = counties.one()
    p.begin("W11(a) 橙: a 特困 member's 个人独资企业 founded in the window (capital irrelevant)")
    head = member(p, county, 61, "户主", labour="无劳动能力")
    hh = household(p, county, "特困人员", [head], before_window(p, 2))
    code = business(p, head.person, "个人独资企业", None, in_window(p, 5))
    p.expect("W11", "橙", hh.hid, f"business:{code}", head.person, sub="a")
    county = counties.one()
    p.begin("W11(b) boundary: a 个体工商户 with 注册资本 exactly w11_capital → 黄")
    hh = household(p, county, "最低生活保障", couple(p, county), before_window(p, 2))
    code = business(p, hh.members[0].person, "个体工商户", cents(p.p("w11_capital", county)), before_window(p, 3))
    p.expect("W11", "黄", hh.hid, f"business:{code}", hh.members[0].person, sub="b")
    county = counties.one()
    p.begin("W11(b) 黄: a 农民专业合作社 above w11_capital")
    hh = household(p, county, "最低生活保障", couple(p, county), before_window(p, 2))
    code = business(
        p, hh.members[1].person, "农民专业合作社", cents(p.p("w11_capital", county)) * 3, before_window(p, 5)
    )
    p.expect("W11", "黄", hh.hid, f"business:{code}", hh.members[1].person, sub="b")
    county = counties.one()
    p.begin("W11: one member represents two businesses → two warnings, (a) and (b)")
    head = member(p, county, 45, "户主")
    hh = household(p, county, "最低生活保障", [head], before_window(p, 2))
    firm = business(p, head.person, "股份有限公司", 50_000_000, before_window(p, 6))
    shop = business(p, head.person, "其他", cents(p.p("w11_capital", county)) + 1, before_window(p, 2))
    p.expect("W11", "橙", hh.hid, f"business:{firm}", head.person, sub="a")
    p.expect("W11", "黄", hh.hid, f"business:{shop}", head.person, sub="b")


def w11_near_misses(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    county = counties.one()
    p.begin("W11 near miss: a 个体工商户 one cent below w11_capital")
    hh = household(p, county, "最低生活保障", couple(p, county), before_window(p, 2))
    business(p, hh.members[0].person, "个体工商户", cents(p.p("w11_capital", county)) - 1, before_window(p, 3))
    county = counties.one()
    p.begin("W11 near miss: a 个体工商户 without 注册资本 (counts as 0)")
    hh = household(p, county, "最低生活保障", couple(p, county), before_window(p, 2))
    business(p, hh.members[1].person, "个体工商户", None, before_window(p, 3))
    county = counties.one()
    p.begin("W11 near miss: a 吊销 company and a 注销 company")
    hh = household(p, county, "最低生活保障", couple(p, county), before_window(p, 2))
    business(p, hh.members[0].person, "有限责任公司", 1_000_000, before_window(p, 6), status="吊销")
    business(p, hh.members[1].person, "合伙企业", 1_000_000, before_window(p, 6), status="注销")
    county = counties.one()
    p.begin("W11 near miss: a 低保边缘 member represents a company (W11 is for 特困/低保 only)")
    hh = household(p, county, "低保边缘家庭", couple(p, county), before_window(p, 2), ratio="1.2")
    business(p, hh.members[0].person, "有限责任公司", 5_000_000, before_window(p, 6))
    county = counties.one()
    p.begin("W11 near miss: a company deregistered and gone from the latest snapshot")
    hh = household(p, county, "最低生活保障", couple(p, county), before_window(p, 2))
    business(p, hh.members[0].person, "有限责任公司", 5_000_000, before_window(p, 6), to_k=L)


# --- identification: the 核对 before a decision -----------------------------------------------------------------
def identification(p: Plant, counties: Counties) -> None:
    applied = p.run - dt.timedelta(days=40)
    for county in counties.take(2):
        p.begin("认定 核对: declares no car, a member's car is registered → 低保边缘家庭 (核对差异)")
        a, b = p.person(county, 44), p.person(county, 41)
        vehicle(p, b, before_window(p, 5))
        apply(p, county, [am(a), am(b, relation="配偶")], s12n(p, county, "农村", 2, "0.6"), "低保边缘家庭",
              applied_on=applied)  # fmt: skip
    for county in counties.take(2):
        p.begin("认定 核对: declares no extra dwelling, the members hold two → 低保边缘家庭 (核对差异)")
        a, b = p.person(county, 47), p.person(county, 45)
        dwelling(p, [a, b], before_window(p, 11))
        dwelling(p, [b], before_window(p, 4))
        apply(p, county, [am(a), am(b, relation="配偶")], s12n(p, county, "农村", 2, "0.6"), "低保边缘家庭",
              applied_on=applied)  # fmt: skip
    county = counties.one()
    p.begin("认定 核对: declares one car, three are registered → 无 (边缘 and 刚性 limits too) (核对差异)")
    a, b = p.person(county, 50), p.person(county, 48)
    for who, years in ((a, 4), (b, 5), (b, 6)):
        vehicle(p, who, before_window(p, years))
    apply(p, county, [am(a), am(b, relation="配偶")], s12n(p, county, "农村", 2, "0.6"), "无", cars=1,
          applied_on=applied)  # fmt: skip
    county = counties.one()
    p.begin("认定 核对: an elderly applicant alone represents a company → 低保边缘家庭 (特困, 低保 fail)")
    who = p.person(county, 72)
    business(p, who, "有限责任公司", 1_000_000, before_window(p, 8))
    apply(p, county, [am(who, labour="无劳动能力", supporter="无", capable=None)], s12n(p, county, "农村", 1, "0.5"),
          "低保边缘家庭", requested="特困人员", applied_on=applied)  # fmt: skip
    county = counties.one()
    p.begin("认定 核对 near miss: the car was bought after the 申请日期 → 最低生活保障")
    L = p.T - 1
    on = p.cutoff(L - 3) + dt.timedelta(days=5)
    a = p.person(county, 39)
    vehicle(p, a, p.cutoff(L - 2) - dt.timedelta(days=3))
    apply(p, county, [am(a)], s12n(p, county, "农村", 1, "0.6"), "最低生活保障", applied_on=on)
    county = counties.one()
    p.begin("认定 核对 near miss: a member's 摩托车 and 个体工商户 do not count → 最低生活保障")
    a, b = p.person(county, 43), p.person(county, 40)
    vehicle(p, a, before_window(p, 3), vtype="摩托车")
    business(p, b, "个体工商户", cents(p.p("w11_capital", county)) * 2, before_window(p, 3))
    apply(p, county, [am(a), am(b, relation="配偶")], s12n(p, county, "农村", 2, "0.6"), "最低生活保障",
          applied_on=applied)  # fmt: skip
    county = counties.one()
    p.begin("认定 核对 near miss: declares the one car that is registered → 低保边缘家庭 (no 核对差异)")
    a = p.person(county, 46)
    vehicle(p, a, before_window(p, 4))
    apply(p, county, [am(a)], s12n(p, county, "农村", 1, "0.6"), "低保边缘家庭", cars=1, applied_on=applied)


def exit_reviews(p: Plant, counties: Counties) -> None:
    """Households leaving 低保 reviewed with the registered figures at the later cut-off."""
    L = p.T - 1
    county = counties.default_edge(p)
    p.begin("退出复核 核对: a 低保 household goes 停保 holding two cars → 无 (over the 边缘 limit)")
    hh = household(p, county, "最低生活保障", couple(p, county), before_window(p, 3), ratio="1.2",
                   changes=[(L - 3, {"status": "停保"})])  # fmt: skip
    vehicle(p, hh.members[0].person, before_window(p, 5))
    vehicle(p, hh.members[1].person, in_window(p, 3))
    p.expect_exit(hh, L - 4, L - 3, "无")
    county = counties.default_edge(p)
    p.begin("退出复核 核对 near miss: a 低保 household goes 停保 holding one car → 低保边缘家庭")
    hh = household(p, county, "最低生活保障", couple(p, county), before_window(p, 3), ratio="1.2",
                   changes=[(L - 2, {"status": "停保"})])  # fmt: skip
    vehicle(p, hh.members[1].person, before_window(p, 5))
    p.expect_exit(hh, L - 3, L - 2, "低保边缘家庭")
