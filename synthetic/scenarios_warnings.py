"""Planted warning scenarios: every rule of docs/rules.md#warnings at each level and sub-case, in several counties,
with near misses at the boundaries that must NOT fire. Each function states its truth explicitly.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from synthetic.calendar import add_months, month_start, previous_school_year, school_year
from synthetic.params import ceil_cents, cents
from synthetic.plant import Member, Plant
from synthetic.scenario_kit import (
    Counties,
    born_for_age_at,
    member,
    months,
    run_month,
    spread,
    w01_threshold,
    window_months,
)  # fmt: skip

log = logging.getLogger(__name__)


def episode_month(day: dt.date) -> str:
    return f"month:{day:%Y-%m}"


# --- W01 ---------------------------------------------------------------------------------------------------
def w01(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    for county in counties.take(2):
        p.begin("W01 橙: members' 12-month self-paid = threshold + ¥6,000")
        hh = p.household(county, "低保边缘家庭", [member(p, county, 48, "户主"), member(p, county, 46, "配偶")], 24000)
        spread(p, [m.person for m in hh.members], w01_threshold(p, county, 24000) + 600000, [L - 10, L - 6, L - 2])
        p.expect("W01", "橙", hh.hid, "W01")
    for county in counties.take(2):
        p.begin("W01 红: ≥ ¥50,000 (低保, medical aid on every claim so W08(c) stays quiet)")
        hh = p.household(
            county,
            "最低生活保障",
            [member(p, county, 52, "户主"), member(p, county, 50, "配偶"), member(p, county, 14, "子女")],
            12000,
        )
        spread(p, [m.person for m in hh.members[:2]], cents(p.p("w01_red", county)) + 200000, [L - 7, L - 1], aid=50000)
        p.expect("W01", "红", hh.hid, "W01")
    county = counties.one()
    p.begin("W01 boundary: exactly the threshold (max(floor, 50% of ¥50,000)) fires 橙")
    hh = p.household(county, "低保边缘家庭", [member(p, county, 41, "户主"), member(p, county, 39, "配偶")], 50000)
    spread(p, [hh.members[0].person], w01_threshold(p, county, 50000), [L - 3, L])
    p.expect("W01", "橙", hh.hid, "W01")


def w01_near_misses(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    county = counties.one()
    p.begin("W01 near miss: one cent below the threshold")
    hh = p.household(county, "刚性支出困难家庭", [member(p, county, 44, "户主"), member(p, county, 40, "配偶")], 44000)
    spread(p, [m.person for m in hh.members], w01_threshold(p, county, 44000) - 1, [L - 9, L - 4])
    county = counties.one()
    p.begin("W01 near miss: a ¥30,000 claim reversed (冲销) in a later month")
    hh = p.household(county, "低保边缘家庭", [member(p, county, 55, "户主")], 20000)
    who = hh.members[0].person
    big = p.settle(who, p.day_in(L - 8, 10), 3000000)
    p.reverse(who, p.day_in(L - 5, 3), big, 3000000)
    p.settle(who, p.day_in(L - 2, 20), 800000)
    county = counties.one()
    p.begin("W01 near miss: ¥23,000 less a reversal whose original never arrived (¥4,000)")
    hh = p.household(county, "低保边缘家庭", [member(p, county, 57, "户主")], 20000)
    who = hh.members[0].person
    p.settle(who, p.day_in(L - 6, 8), 2300000)
    p.reverse(who, p.day_in(L - 1, 8), f"JS{add_months(p.run, -15):%Y%m}LOST{p.next_id():04d}", 400000)
    county = counties.one()
    p.begin("W01 near miss: a member who left the household before the run date does not count")
    stay = member(p, county, 50, "户主")
    gone = member(p, county, 24, "子女", leave_k=L - 5)
    hh = p.household(county, "低保边缘家庭", [stay, gone], 30000)
    p.settle(stay.person, p.day_in(L - 2, 5), 1500000)
    p.settle(gone.person, p.day_in(L - 7, 5), 1000000)


def w01_rural(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    county = counties.one()
    p.begin("W01 橙 for a 防返贫 household: 家庭年收入 = 人均纯收入 × 家庭人口数")
    head = p.person(county, 51)
    row = p.monitored_rural(head, county, income_pc=600000, member_count=3)
    p.settle(head, p.day_in(L - 5, 12), w01_threshold(p, county, 18000) + 100000)
    p.expect("W01", "橙", row["rural_household_id"], "W01")


# --- W02 ---------------------------------------------------------------------------------------------------
def w02(p: Plant, counties: Counties) -> dict[str, object]:
    L = p.T - 1
    found: dict[str, object] = {}
    for i, county in enumerate(counties.take(2)):
        p.begin("W02: a working-age 有劳动能力 spouse dies (both sources) and is removed from the roster")
        k = L - 4
        spouse = member(p, county, 44, "配偶", leave_k=k + 1)
        hh = p.household(
            county, "低保边缘家庭", [member(p, county, 47, "户主"), spouse, member(p, county, 12, "子女")], 30000
        )
        p.death(spouse.person, p.day_in(k, 12), crem_delay=12 + 7 * i)
        p.expect("W02", "红", hh.hid, f"death:{p.pk(spouse.person)}", spouse.person)
        found.setdefault("w02_household", hh)
    county = counties.one()
    p.begin("W02: death known only from the cremation record")
    k = L - 3
    spouse = member(p, county, 38, "配偶", leave_k=k + 2)
    hh = p.household(county, "低保边缘家庭", [member(p, county, 40, "户主"), spouse], 26000)
    p.death(spouse.person, p.day_in(k, 6), wjw=False)
    p.expect("W02", "红", hh.hid, f"death:{p.pk(spouse.person)}", spouse.person)
    county = counties.one()
    p.begin("W02: the head dies; the spouse becomes 户主; the household is 停保 at the run date")
    k = L - 5
    head = member(p, county, 50, "户主", leave_k=k + 1)
    spouse = member(p, county, 49, "配偶", relation_from=(k + 1, "户主"))
    hh = p.household(
        county,
        "低保边缘家庭",
        [head, spouse, member(p, county, 70, "父母")],
        28000,
        changes=[(L - 1, {"status": "停保"})],
    )
    p.death(head.person, p.day_in(k, 20))
    p.expect("W02", "红", hh.hid, f"death:{p.pk(head.person)}", head.person)
    county = counties.one()
    p.begin("W02: the death precedes every snapshot (the earliest snapshot is in force)")
    died = p.schedule.window_start + dt.timedelta(days=4)
    spouse = member(p, county, 36, "配偶", leave_k=1)
    hh = p.household(county, "低保边缘家庭", [member(p, county, 37, "户主"), spouse], 22000)
    p.death(spouse.person, died)
    p.expect("W02", "红", hh.hid, f"death:{p.pk(spouse.person)}", spouse.person)
    county = counties.one()
    p.begin("W02 boundary: aged 59 on the day of death (60th birthday the next day) fires")
    died = p.day_in(L - 2, 14)
    who = p.person_born(county, born_for_age_at(died, 60, 1))
    hh = p.household(county, "低保边缘家庭", [member(p, county, 62, "户主"), Member(who, "配偶", leave_k=L)], 20000)
    p.death(who, died)
    p.expect("W02", "红", hh.hid, f"death:{p.pk(who)}", who)
    return found


def w02_near_misses(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    county = counties.one()
    p.begin("W02 near miss: aged 60 on the day of death")
    died = p.day_in(L - 2, 16)
    who = p.person_born(county, born_for_age_at(died, 60, 0))
    p.household(county, "低保边缘家庭", [member(p, county, 63, "户主"), Member(who, "配偶", leave_k=L)], 20000)
    p.death(who, died)
    county = counties.one()
    p.begin("W02 near miss: working age but 部分丧失劳动能力")
    spouse = member(p, county, 45, "配偶", labour="部分丧失劳动能力", leave_k=L - 1)
    p.household(county, "低保边缘家庭", [member(p, county, 46, "户主"), spouse], 21000)
    p.death(spouse.person, p.day_in(L - 3, 9))
    for category in ("低保边缘家庭", "最低生活保障"):
        county = counties.one()
        p.begin(f"W02 near miss: the only member dies ({category}); the household ends, so no exit review either")
        k = L - 4
        only = member(p, county, 45, "户主")
        p.household(county, category, [only], 9000, end_k=k + 1)
        p.death(only.person, p.day_in(k, 11))


# --- W03 ---------------------------------------------------------------------------------------------------
def w03a(p: Plant, counties: Counties) -> None:
    registered = p.run - dt.timedelta(days=40)
    event = month_start(registered)
    g1 = run_month(p, -1)
    all_months = window_months(p)
    for county in counties.take(2):
        p.begin("W03(a) 黄: registered 40 days ago, still open, never contributed")
        a = member(p, county, 33, "户主")
        hh = p.household(county, "低保边缘家庭", [a, member(p, county, 31, "配偶")], 30000)
        rid = p.register(a.person, registered)
        p.expect("W03", "黄", hh.hid, f"registration:{rid}", a.person, sub="a")
    county = counties.one()
    p.begin("W03(a) 橙: the only contributor (5 months before registering: too few for W03(b))")
    a = member(p, county, 36, "户主")
    hh = p.household(county, "低保边缘家庭", [a, member(p, county, 35, "配偶", labour="无劳动能力")], 26000)
    p.contribute(a.person, [add_months(event, -i) for i in range(6, 1, -1)], 420000)
    rid = p.register(a.person, registered)
    p.expect("W03", "橙", hh.hid, f"registration:{rid}", a.person, sub="a")
    for county in counties.take(2):
        p.begin("W03(a) and W03(b) together, both 橙: 8 months of contributions, then none and a registration")
        a = member(p, county, 41, "户主")
        hh = p.household(county, "低保边缘家庭", [a, member(p, county, 12, "子女")], 32000)
        p.contribute(a.person, months(p, -9, -2), 510000)
        rid = p.register(a.person, registered)
        p.expect("W03", "橙", hh.hid, f"registration:{rid}", a.person, sub="a")
        p.expect("W03", "橙", hh.hid, f"gap:{p.pk(a.person)}:{g1:%Y-%m}", a.person, sub="b")
    county = counties.one()
    p.begin("W03(a) 黄: another member also contributes (continuously)")
    a, b = member(p, county, 30, "户主"), member(p, county, 29, "配偶")
    hh = p.household(county, "低保边缘家庭", [a, b], 36000)
    p.contribute(a.person, [add_months(event, -i) for i in range(6, 1, -1)], 400000)
    p.contribute(b.person, all_months, 450000)
    rid = p.register(a.person, registered)
    p.expect("W03", "黄", hh.hid, f"registration:{rid}", a.person, sub="a")


def w03a_near_misses(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    registered = p.run - dt.timedelta(days=40)
    county = counties.one()
    p.begin("W03(a) near miss: registered exactly 3 months before the run date")
    a = member(p, county, 34, "户主")
    p.household(county, "低保边缘家庭", [a], 15000)
    p.register(a.person, add_months(p.run, -int(p.p("w03_registration_months", county))))
    county = counties.one()
    p.begin("W03(a) near miss: registered last month, closed by a later version of the registration")
    a = member(p, county, 37, "户主")
    p.household(county, "低保边缘家庭", [a], 15000)
    p.register(a.person, p.run - dt.timedelta(days=50), closed_on=p.run - dt.timedelta(days=10))
    county = counties.one()
    p.begin("W03(a) near miss: aged 60 on the registration date")
    who = p.person_born(county, born_for_age_at(registered, 60, 0))
    p.household(county, "低保边缘家庭", [Member(who, "户主", "有劳动能力")], 15000)
    p.register(who, registered)
    county = counties.one()
    p.begin("W03(a) near miss: member of a 停保 household (not monitored)")
    a = member(p, county, 39, "户主")
    p.household(county, "低保边缘家庭", [a], 15000, changes=[(L - 6, {"status": "停保"})])
    p.register(a.person, registered)


def w03b(p: Plant, counties: Counties) -> None:
    g1 = run_month(p, -1)
    all_months = window_months(p)
    county = counties.one()
    p.begin("W03(b) 黄: 7 months then a gap; another member contributes")
    a, b = member(p, county, 42, "户主"), member(p, county, 40, "配偶")
    hh = p.household(county, "低保边缘家庭", [a, b], 40000)
    p.contribute(a.person, months(p, -8, -2), 480000)
    p.contribute(b.person, all_months, 390000)
    p.expect("W03", "黄", hh.hid, f"gap:{p.pk(a.person)}:{g1:%Y-%m}", a.person, sub="b")
    county = counties.one()
    p.begin("W03(b) boundary: exactly 6 of 12 months, the only contributor: 橙")
    a = member(p, county, 45, "户主")
    hh = p.household(county, "低保边缘家庭", [a, member(p, county, 70, "父母")], 30000)
    p.contribute(a.person, months(p, -7, -2), 500000)
    p.expect("W03", "橙", hh.hid, f"gap:{p.pk(a.person)}:{g1:%Y-%m}", a.person, sub="b")
    near = {
        "W03(b) near miss: only 5 of 12 months": (months(p, -6, -2), "企业职工基本养老保险"),
        "W03(b) near miss: contributes again in the run month": (
            months(p, -9, -3) + [run_month(p)],
            "企业职工基本养老保险",
        ),
        "W03(b) near miss: 城乡居民 scheme does not count": (months(p, -10, -2), "城乡居民基本养老保险"),
    }
    for name, (when, scheme) in near.items():
        county = counties.one()
        p.begin(name)
        a = member(p, county, 43, "户主")
        p.household(county, "低保边缘家庭", [a], 30000)
        p.contribute(a.person, when, 450000 if scheme.startswith("企业") else 30000, scheme=scheme)


# --- W04 / D02 -----------------------------------------------------------------------------------------
def w04(p: Plant, counties: Counties) -> dict[str, object]:
    L = p.T - 1
    found: dict[str, object] = {}
    cases = [  # loss: cents, or an offset (cents) from the county's orange threshold
        ("W04 红 by 倒塌 (record head = household head)", "倒塌", 500000, "红", 0),
        ("W04 红 by 严重损坏, matched on a member who is not the household head", "严重损坏", 300000, "红", 1),
        ("W04 橙 boundary: 一般损坏 with loss exactly the orange threshold", "一般损坏", ("orange", 0), "橙", 0),
        ("W04 黄: 一般损坏 one cent below the orange threshold", "一般损坏", ("orange", -1), "黄", 0),
        ("W04 黄: 无 damage, small loss", "无", 200000, "黄", 1),
    ]
    for i, (name, damage, amount, level, who_i) in enumerate(cases):
        for county in counties.take(2 if i < 2 else 1):
            p.begin(name)
            orange = cents(p.p("w04_orange_loss", county))
            loss = orange + amount[1] if isinstance(amount, tuple) else amount
            category = "最低生活保障" if i == 0 else "低保边缘家庭"
            hh = p.household(county, category, [member(p, county, 56, "户主"), member(p, county, 53, "配偶")], 14000)
            who = hh.members[who_i].person
            rid = p.disaster(who, hh.village, damage, loss, p.day_in(L - 3 + i % 3, 6))
            p.expect("W04", level, hh.hid, f"disaster:{rid}", who)
            if i == 0:
                found.setdefault("w04_household", hh)
    county = counties.one()
    p.begin("W04 橙 for a 防返贫 household")
    head = p.person(county, 58)
    row = p.monitored_rural(head, county, income_pc=700000)
    rid = p.disaster(head, row["region_code"], "一般损坏", 1500000, p.day_in(L - 6, 18))
    p.expect("W04", "橙", row["rural_household_id"], f"disaster:{rid}", head)
    return found


def d02(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    for name, damage, offset, fires in [  # offset from the county's d02_loss (None: a fixed ¥8,000 / ¥2,000)
        ("D02: public household 倒塌", "倒塌", None, True),
        ("D02: public household 严重损坏", "严重损坏", None, True),
        ("D02 boundary: 一般损坏 with loss exactly d02_loss (¥30,000)", "一般损坏", 0, True),
        ("D02 near miss: 一般损坏 with loss one cent below d02_loss", "一般损坏", -1, False),
    ]:
        county = counties.one()
        p.begin(name)
        loss = 500000 if offset is None else cents(p.p("d02_loss", county)) + offset
        head = p.person(county, 47)
        rid = p.disaster(head, p.village(county), damage, loss, p.day_in(L - 2, 9))
        if fires:
            p.expect("D02", "黄", "", f"disaster:{rid}", head)
    county = counties.one()
    p.begin("D02: head of a 退出 household (not monitored) with 倒塌")
    a = member(p, county, 61, "户主")
    hh = p.household(
        county, "低保边缘家庭", [a], 16000, changes=[(L - 3, {"status": "退出", "exited_on": p.day_in(L - 3, 5)})]
    )
    rid = p.disaster(a.person, hh.village, "倒塌", 600000, p.day_in(L - 1, 2))
    p.expect("D02", "黄", "", f"disaster:{rid}", a.person)
    county = counties.one()
    p.begin("D02: a 防返贫 head whose risk is 已消除 (not monitored)")
    head = p.person(county, 49)
    row = p.monitored_rural(head, county, income_pc=900000, risk="已消除")
    rid = p.disaster(head, row["region_code"], "严重损坏", 400000, p.day_in(L - 4, 22))
    p.expect("D02", "黄", "", f"disaster:{rid}", head)


# --- W05 ---------------------------------------------------------------------------------------------------
def w05(p: Plant, counties: Counties) -> None:
    every = window_months(p)
    for county in counties.take(2):
        p.begin("W05 低保: wage base / 家庭人口数 above S")
        a = member(p, county, 40, "户主")
        hh = p.household(
            county, "最低生活保障", [a, member(p, county, 38, "配偶", labour="无劳动能力")], 10000, urban_rural="城市"
        )
        p.contribute(a.person, every, cents(p.s(hh) * 2) + 10000)
        p.expect("W05", "黄", hh.hid, "W05")
    county = counties.one()
    p.begin("W05 低保: two contributors whose bases add up above S·n")
    a, b = member(p, county, 35, "户主"), member(p, county, 34, "配偶")
    hh = p.household(county, "最低生活保障", [a, b], 9000)
    for who in (a, b):
        p.contribute(who.person, every, cents(p.s(hh) * Decimal("1.2")))
    p.expect("W05", "黄", hh.hid, "W05")
    county = counties.one()
    p.begin("W05 特困: above 1.3·S")
    a = member(p, county, 45, "户主", labour="无劳动能力")
    hh = p.household(county, "特困人员", [a], 6000)
    p.contribute(a.person, every, ceil_cents(p.s(hh) * p.p("w05_tekun_multiplier", county)) + 5000)
    p.expect("W05", "黄", hh.hid, "W05")


def w05_near_misses(p: Plant, counties: Counties) -> None:
    every = window_months(p)
    county = counties.one()
    p.begin("W05 near miss: exactly S·n (strictly greater is required)")
    a = member(p, county, 41, "户主")
    hh = p.household(county, "最低生活保障", [a, member(p, county, 10, "子女")], 8000)
    p.contribute(a.person, every, cents(p.s(hh) * 2))
    county = counties.one()
    p.begin("W05 near miss: 特困 between S and 1.3·S")
    a = member(p, county, 46, "户主", labour="无劳动能力")
    hh = p.household(county, "特困人员", [a], 6000)
    p.contribute(a.person, every, cents(p.s(hh) * Decimal("1.2")))
    county = counties.one()
    p.begin("W05 near miss: high base long ago, low base in the last 3 months (the latest counts)")
    a = member(p, county, 39, "户主")
    hh = p.household(county, "最低生活保障", [a], 7000)
    p.contribute(a.person, every[:-3], 900000)
    p.contribute(a.person, every[-3:], cents(p.s(hh) / 2))
    county = counties.one()
    p.begin("W05 near miss: the roster's 家庭人口数 (3) divides, not the 2 member rows")
    a = member(p, county, 42, "户主")
    hh = p.household(county, "最低生活保障", [a, member(p, county, 15, "子女")], 9000, member_count=3)
    p.contribute(a.person, every, cents(p.s(hh) * Decimal("2.5")))
    county = counties.one()
    p.begin("W05 near miss: a high 城乡居民 base does not count")
    a = member(p, county, 44, "户主")
    hh = p.household(county, "最低生活保障", [a], 8000)
    p.contribute(a.person, every, 800000, scheme="城乡居民基本养老保险")


# --- W06 ---------------------------------------------------------------------------------------------------
def w06(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    for county in counties.take(2):
        p.begin("W06: 特困 member died; 特困供养金 keeps being paid (one warning per month)")
        grace = int(p.p("w06_grace_months", county))
        only = member(p, county, 76, "户主", labour="无劳动能力")
        hh = p.household(county, "特困人员", [only], 5000)
        died = p.day_in(L - 6, 10)
        p.death(only.person, died)
        for k in range(p.T):
            if p.month(k) > add_months(died, grace):
                p.expect("W06", "红", hh.hid, episode_month(p.month(k)), only.person)
    county = counties.one()
    p.begin("W06: 残疾人两项补贴 paid to a disabled member after death")
    grace = int(p.p("w06_grace_months", county))
    dead = member(p, county, 78, "父母", leave_k=L - 1)
    hh = p.household(county, "最低生活保障", [member(p, county, 52, "户主"), dead], 9000)
    died = p.day_in(L - 5, 20)
    p.death(dead.person, died)
    p.certificate(dead.person, "肢体", "一级", care="是")
    for k in range(L - 5, L - 1):
        p.pay(hh, dead.person, "残疾人两项补贴", k, 20000)
        if p.month(k) > add_months(died, grace):
            p.expect("W06", "红", hh.hid, episode_month(p.month(k)), dead.person)
    county = counties.one()
    p.begin("W06 near miss: death on the 1st; the month that begins exactly one month later does not fire")
    only = member(p, county, 81, "户主", labour="无劳动能力")
    p.household(county, "特困人员", [only], 4000, end_k=L)
    p.death(only.person, p.month(L - 2))
    county = counties.one()
    p.begin("W06 near miss: a post-death payment netted to zero by a recovery")
    only = member(p, county, 80, "户主", labour="无劳动能力")
    hh = p.household(county, "特困人员", [only], 4000, end_k=L - 4, auto_pay=False)
    p.death(only.person, p.day_in(L - 6, 15))
    for k in (L - 6, L - 5, L - 4):
        p.pay(hh, only.person, "特困供养金", k, hh.benefit or 100000)
    p.pay(hh, only.person, "特困供养金", L - 4, -(hh.benefit or 100000), delivered_k=L - 3)


# --- W07 ---------------------------------------------------------------------------------------------------
def w07(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    for first, second in (("最低生活保障", "低保边缘家庭"), ("最低生活保障", "最低生活保障")):
        x, y = counties.take(2)
        p.begin(f"W07(a): one person in two in-force households ({first} and {second})")
        who = p.person(x, 30)
        a = p.household(x, first, [member(p, x, 58, "户主"), Member(who, "子女")], 10000)
        b = p.household(y, second, [Member(who, "户主")], 15000)
        ids = sorted([a.hid, b.hid])
        p.expect("W07", "橙", ids[0], "households:" + "|".join(ids), who, sub="a")
    x, y = counties.take(2)
    p.begin("W07(c): one person in a 特困 household and a 低保 household (reported once, as c)")
    who = p.person(x, 72)
    a = p.household(x, "特困人员", [Member(who, "户主", "无劳动能力")], 5000)
    b = p.household(y, "最低生活保障", [member(p, y, 45, "户主"), Member(who, "父母", "无劳动能力")], 9000)
    ids = sorted([a.hid, b.hid])
    p.expect("W07", "橙", ids[0], "households:" + "|".join(ids), who, sub="c")
    for county in counties.take(2):
        p.begin("W07(b): 低保金 and 特困供养金 for the same month")
        head = member(p, county, 55, "户主")
        hh = p.household(county, "最低生活保障", [head], 8000)
        p.pay(hh, head.person, "特困供养金", L - 3, 90000)
        p.expect("W07", "橙", hh.hid, episode_month(p.month(L - 3)), head.person, sub="b")
    county = counties.one()
    p.begin("W07(b) near miss: the 特困供养金 of that month is recovered (net zero)")
    head = member(p, county, 57, "户主")
    hh = p.household(county, "最低生活保障", [head], 8000)
    p.pay(hh, head.person, "特困供养金", L - 2, 90000)
    p.pay(hh, head.person, "特困供养金", L - 2, -90000, delivered_k=L - 1)
    x, y = counties.take(2)
    p.begin("W07 near miss: the second household is 停保")
    who = p.person(x, 33)
    p.household(x, "低保边缘家庭", [member(p, x, 60, "户主"), Member(who, "子女")], 20000)
    p.household(y, "低保边缘家庭", [Member(who, "户主")], 15000, changes=[(L - 3, {"status": "停保"})])
    x, y = counties.take(2)
    p.begin("W07 near miss: the person moved between households (never both in the latest snapshot)")
    who = p.person(x, 27)
    p.household(x, "低保边缘家庭", [member(p, x, 59, "户主"), Member(who, "子女", leave_k=L - 2)], 20000)
    p.household(y, "低保边缘家庭", [member(p, y, 28, "户主"), Member(who, "配偶", join_k=L - 2)], 21000)


# --- W08 ---------------------------------------------------------------------------------------------------
def w08a(p: Plant, counties: Counties) -> None:
    certificates = [
        ("W08(a): 一级 肢体, care subsidy 否", "肢体", "一级", "否", True, "最低生活保障"),
        ("W08(a): 三级 精神, care subsidy empty (counts as ≠ 是)", "精神", "三级", None, True, "特困人员"),
        ("W08(a): 二级 智力, care subsidy 否", "智力", "二级", "否", True, "最低生活保障"),
        ("W08(a) near miss: 三级 肢体 is not due the care subsidy", "肢体", "三级", "否", False, "最低生活保障"),
        ("W08(a) near miss: 二级 视力 already with the care subsidy", "视力", "二级", "是", False, "最低生活保障"),
        ("W08(a) near miss: 一级 in a 低保边缘 household", "听力", "一级", "否", False, "低保边缘家庭"),
    ]
    for name, kind, grade, care, fires, category in certificates:
        county = counties.one()
        p.begin(name)
        who = member(p, county, 50, "户主", labour="无劳动能力", health="残疾")
        members = [who] if category == "特困人员" else [who, member(p, county, 48, "配偶")]
        hh = p.household(county, category, members, 6000)
        p.certificate(who.person, kind, grade, care)
        if fires:
            p.expect("W08", "黄", hh.hid, "W08a", who.person, sub="a")


def w08b(p: Plant, counties: Counties) -> None:
    current = school_year(p.run)
    previous = previous_school_year(current)
    years = p.schedule.school_years
    if previous not in years:
        log.warning("W08(b) not planted: no student-aid delivery of school year %s in the history", previous)
    else:
        children = [
            ("W08(b): aged 10, aid last school year, none this year", 10, [previous], True, "最低生活保障"),
            ("W08(b) boundary: aged 22, aid last year only", 22, [previous], True, "特困人员"),
            ("W08(b) boundary: aged 6, aid last year only (学前)", 6, [previous], True, "最低生活保障"),
            ("W08(b) near miss: aged 23", 23, [previous], False, "最低生活保障"),
            ("W08(b) near miss: in a 低保边缘 household", 12, [previous], False, "低保边缘家庭"),
        ]
        if current in years:
            children.append(("W08(b) near miss: aid in both years", 11, [previous, current], False, "最低生活保障"))
        for name, age, aided, fires, category in children:
            county = counties.one()
            p.begin(name)
            child = member(p, county, age, "户主" if category == "特困人员" else "子女", labour="无劳动能力")
            members = [child] if category == "特困人员" else [member(p, county, 44, "户主"), child]
            hh = p.household(county, category, members, 7000)
            for year in aided:
                p.aid(child.person, year, "学前教育" if age <= 6 and year == previous else "义务教育")
            if fires:
                p.expect("W08", "黄", hh.hid, f"year:{current}", child.person, sub="b")


def w08c(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    medical = [  # amounts in cents; None = the county's w08_self_paid, "-1" = one cent below it
        ("W08(c): ¥5,200 self-paid, no medical aid", [200000, 170000, 150000], [0, 0, 0], True),
        ("W08(c) boundary: exactly w08_self_paid (¥5,000)", [None], [0], True),
        ("W08(c) near miss: ¥6,000 but one claim had medical aid", [300000, 300000], [0, 15000], False),
        ("W08(c) near miss: one cent below w08_self_paid", ["-1"], [0], False),
    ]
    for name, spec, aids, fires in medical:
        county = counties.one()
        p.begin(name)
        limit = cents(p.p("w08_self_paid", county))
        amounts = [limit if a is None else limit - 1 if a == "-1" else a for a in spec]
        who = member(p, county, 47, "户主")
        hh = p.household(county, "最低生活保障", [who, member(p, county, 45, "配偶")], 9000)
        for i, (amount, aid) in enumerate(zip(amounts, aids)):
            p.settle(who.person, p.day_in(L - 1 - 3 * i, 7), amount, aid=aid)
        if fires:
            p.expect("W08", "黄", hh.hid, "W08c", who.person, sub="c")


# --- D01 ---------------------------------------------------------------------------------------------------
def d01(p: Plant, counties: Counties) -> None:
    L = p.T - 1
    for name, offsets, fires in [  # offsets from the county's d01_self_paid, in cents
        ("D01: a person in no household, ¥5,000 above d01_self_paid", [-2000000, 2500000], True),
        ("D01 boundary: exactly d01_self_paid (¥50,000)", [0], True),
        ("D01 near miss: one cent below d01_self_paid", [-1], False),
    ]:
        county = counties.one()
        p.begin(name)
        limit = cents(p.p("d01_self_paid", county))
        parts = [limit + offsets[0]] + list(offsets[1:])
        who = p.person(county, 62)
        for i, amount in enumerate(parts):
            p.settle(who, p.day_in(L - 2 - 4 * i, 12), amount)
        if fires:
            p.expect("D01", "黄", "", "D01", who)
    county = counties.one()
    p.begin("D01 near miss: a ¥60,000 claim reversed")
    who = p.person(county, 66)
    big = p.settle(who, p.day_in(L - 5, 12), 6000000)
    p.reverse(who, p.day_in(L - 5, 25), big, 6000000)
    p.settle(who, p.day_in(L - 3, 1), 1000000)
    county = counties.one()
    p.begin("D01: a 防返贫 head whose risk is 已消除 (not monitored)")
    limit = cents(p.p("d01_self_paid", county))
    head = p.person(county, 54)
    p.monitored_rural(head, county, income_pc=800000, risk="已消除")
    p.settle(head, p.day_in(L - 6, 3), limit + 200000)
    p.expect("D01", "黄", "", "D01", head)
