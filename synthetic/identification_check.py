"""Identification decided independently from the delivered applications and rosters.

The rules: docs/rules.md#identification-认定 and docs/rules.md#who-is-monitored.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import polars as pl

from synthetic.calendar import age_on
from synthetic.truth_check import Checker, IdentKey

ORDER = ("特困人员", "最低生活保障", "低保边缘家庭", "刚性支出困难家庭")
POOR = ORDER[:2]
TRANSFER = ("低保边缘家庭", "刚性支出困难家庭")


def _cover(m: dict[str, Any]) -> bool:
    grade, kind = m.get("disability_grade"), m.get("disability_type")
    return m.get("health") == "重病" or grade in ("一级", "二级") or (grade == "三级" and kind in ("智力", "精神"))


def _tekun_person(m: dict[str, Any], applied: dt.date, elderly: int, child: int) -> bool:
    id18 = m["id_number"]
    age = age_on(dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14])), applied)
    grade, kind = m.get("disability_grade"), m.get("disability_type")
    disabled = (
        (kind in ("智力", "精神") and grade in ("一级", "二级", "三级"))
        or (kind == "肢体" and grade in ("一级", "二级"))
        or (kind == "视力" and grade == "一级")
    )
    return age >= elderly or age < child or disabled or m.get("labour_capacity") == "无劳动能力"


class Review:
    def __init__(self, c: Checker, county: str, ur: str):
        self.p = lambda name: c.p(name, county)
        self.S = c.s(county, ur)
        self.D = c.ref.disposable_income(county, ur, c.R)

    def asset_low(self, assets: int, cars: int, extra: int, n: int) -> bool:
        return assets <= self.p("dibao_asset_months") * self.S * n * 100 and cars == 0 and extra == 0

    def asset_edge(self, assets: int, cars: int, extra: int, n: int) -> bool:
        return (
            assets <= self.p("edge_asset_months") * self.S * n * 100
            and cars <= self.p("edge_max_vehicles")
            and extra <= self.p("edge_max_extra_properties")
        )

    def dibao_income(self, income: int, n: int) -> bool:
        return income < self.S * 12 * n * 100

    def edge_income(self, income: int, n: int) -> bool:
        return income <= self.p("edge_income_multiplier") * self.S * 12 * n * 100

    def rigid(self, income: int, n: int, expenses: int) -> bool:
        return income < self.D * n * 100 and expenses >= self.p("rigid_expense_ratio") * income


def identify(c: Checker) -> set[IdentKey]:
    return _applications(c) | _exits(c)


def _belongs(c: Checker) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for row in c.latest_hh.iter_rows(named=True):
        out[row["head_id"]].add(row["household_id"])
    for row in c.latest_members.iter_rows(named=True):
        out[row["id_number"]].add(row["household_id"])
    for pid, hids in c.person_hh.items():
        out[pid] |= hids
    return out


def _applications(c: Checker) -> set[IdentKey]:
    apps = c.store.increments("mz_application", c.R)
    rows = c.store.increments("mz_application_member", c.R)
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in rows.iter_rows(named=True):
        members[m["application_id"]].append(m)
    open_hh = {w[3] for w in c.warnings if w[0] in ("W02", "W04")}
    belongs = _belongs(c)
    out: set[IdentKey] = set()
    for app in apps.iter_rows(named=True):
        out.add(_decide(c, app, members[app["application_id"]], open_hh, belongs))
    return out


def _decide(
    c: Checker, app: dict[str, Any], members: list[dict[str, Any]], open_hh: set[str], belongs: dict[str, set[str]]
) -> IdentKey:
    county, ur = app["region_code"][:6], app["urban_rural"]
    rv = Review(c, county, ur)
    n, income = app["member_count"], app["annual_income"]
    assets, cars, extra = app["financial_assets"], app["vehicle_count"], app["extra_property_count"]
    # the 核对 (docs/verification.md): the larger of declared and registered; a company fails 特困 and 低保
    registered = c.registers.figures({m["id_number"] for m in members} | {app["applicant_id"]}, app["applied_on"])
    cars, extra = max(cars, registered.vehicles), max(extra, registered.extra_dwellings)
    no_company = not registered.represents_company
    expenses = (app["medical_expense_12m"] or 0) + (app["education_expense_12m"] or 0)
    person = (
        members[0] if len(members) == 1 else next((m for m in members if m["id_number"] == app["applicant_id"]), None)
    )
    supporter_ok = person is not None and (person["has_supporter"] == "无" or person["supporter_capable"] == "无")
    tests = {
        "特困人员": lambda: n == 1 and person is not None and supporter_ok
        and _tekun_person(person, app["applied_on"], int(rv.p("tekun_elderly_age")), int(rv.p("tekun_child_age")))
        and income <= rv.p("tekun_income_multiplier") * rv.S * 12 * n * 100 and rv.asset_low(assets, cars, extra, n)
        and no_company,
        "最低生活保障": lambda: rv.dibao_income(income, n) and rv.asset_low(assets, cars, extra, n) and no_company,
        "低保边缘家庭": lambda: rv.edge_income(income, n) and rv.asset_edge(assets, cars, extra, n),
        "刚性支出困难家庭": lambda: rv.rigid(income, n, expenses) and rv.asset_edge(assets, cars, extra, n),
    }  # fmt: skip
    transfer = app["origin"] == "退出转入"
    allowed = TRANSFER if transfer else ORDER
    if app["consent"] == "是":
        order = list(allowed)
    else:
        order = [app["requested_category"]] if app["requested_category"] in allowed else []
    result = next((cat for cat in order if tests[cat]()), "无")
    keys = ""
    if result == "低保边缘家庭" and not tests["最低生活保障"]():
        keys = "|".join(sorted(c.pk(m["id_number"]) for m in members if _cover(m)))
    temp = 0
    if result in ("特困人员", "最低生活保障"):
        ids = {m["id_number"] for m in members} | {app["applicant_id"]}
        linked = any(belongs.get(i, set()) & open_hh for i in ids)
        if (app["medical_expense_12m"] or 0) >= rv.p("temp_medical_threshold") * 100 or linked:
            temp = int((rv.p("temp_months_of_standard") * rv.S * n * 100).to_integral_value())
    kind = "退出转入申请" if transfer else "申请"
    return (app["application_id"], "", kind, result, keys, _money(temp), "", "")


def _exits(c: Checker) -> set[IdentKey]:
    """Households leaving 特困/低保 between consecutive snapshots, each reviewed as it is now
    (docs/rules.md#identification-认定)."""
    out: set[IdentKey] = set()
    snaps = c.hh_snaps
    for (a_cut, a), (b_cut, b) in zip(snaps, snaps[1:]):
        before = a.filter((pl.col("status") == "在保") & pl.col("category").is_in(POOR))
        listed_after = {r["household_id"]: r for r in b.iter_rows(named=True)}
        for row in before.iter_rows(named=True):
            hid = row["household_id"]
            after = listed_after.get(hid)
            if after is not None and after["status"] == "在保" and after["category"] in POOR:
                continue  # still assisted, or moved between 特困 and 低保: not leaving
            if all(p in c.died and c.died[p] <= b_cut for p in _people(c, a_cut, row)):
                continue  # the household ended with its last member's death
            # the latest snapshot that shows the household: the later one when it is still listed
            figures, cut = (after, b_cut) if after is not None else (row, a_cut)
            out.add(_exit_review(c, figures, _people(c, cut, figures), a_cut, b_cut))
    return out


def _people(c: Checker, cutoff: dt.date, row: dict[str, Any]) -> dict[str, str | None]:
    """A household's people in one snapshot (its member rows plus its head), with their 健康状况."""
    members = c._members_at(cutoff).filter(pl.col("household_id") == row["household_id"])
    people: dict[str, str | None] = dict(members.select("id_number", "health").iter_rows())
    people.setdefault(row["head_id"], None)
    return people


def _exit_review(
    c: Checker, row: dict[str, Any], people: dict[str, str | None], a_cut: dt.date, b_cut: dt.date
) -> IdentKey:
    county, ur = row["region_code"][:6], row["urban_rural"]
    rv = Review(c, county, ur)
    n, income = row["member_count"], row["annual_income"]
    medical = sum(c.self_paid.get(p, 0) for p in people)
    held = c.registers.figures(set(people), b_cut)  # registered, at the later cut-off; the roster has no assets: 0
    if rv.edge_income(income, n) and rv.asset_edge(0, held.vehicles, held.extra_dwellings, n):
        result = "低保边缘家庭"
    elif rv.rigid(income, n, medical) and rv.asset_edge(0, held.vehicles, held.extra_dwellings, n):
        result = "刚性支出困难家庭"
    else:
        result = "无"
    dibao = rv.dibao_income(income, n) and rv.asset_low(0, held.vehicles, held.extra_dwellings, n)
    keys = ""
    if result == "低保边缘家庭" and not (dibao and not held.represents_company):
        keys = "|".join(sorted(c.pk(p) for p, health in people.items() if health == "重病"))
    return ("", row["household_id"], "退出复核", result, keys, _money(0), a_cut.isoformat(), b_cut.isoformat())


def _money(cents: int | Decimal) -> str:
    value = int(cents)
    return f"{value // 100}.{value % 100:02d}"
