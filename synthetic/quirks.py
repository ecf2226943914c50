"""Real-world quirks (`generate_province(quirks=...)`, `safetynet generate --quirks`): patterns real department
files bring every month that a tidy generator never makes, each planted with the truth it must produce.

Two kinds of change, both confined to this module:
- planted scenarios (households, persons, records) written with the `Plant` helpers, stating their warnings and
  identification results like every other scenario, so the independent checker confirms them;
- changes to the deliveries themselves (`DeliveryQuirks`): rows dropped from or added to one delivery, an old
  cut-off re-delivered as `_2`, a department's delivery held back and sent with the next one, IDs written in
  their 15-digit form, empty rows below the data, and the user's own reference files.

Every quirk keeps within docs/extracts.md and docs/rules.md: what the platform must make of it is said there. Each one
is independent of the others, so any subset can be planted (the property test draws random mixes).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from ingestion.contracts import Contract
from ingestion.reference import REGIONS, VILLAGES, Reference
from ingestion.settings import DataRoot
from synthetic import records
from synthetic.calendar import add_months, month_start
from synthetic.params import floor_cents
from synthetic.people import PLANTED_SEQ_BASE
from synthetic.plant import Household, Member, Plant
from synthetic.scenario_kit import Counties, member, spread, w01_threshold
from synthetic.scenarios_ident import am, apply
from synthetic.writers import Extras, Legacy

Edit = Callable[[Contract, pl.DataFrame], pl.DataFrame]

# name → what it is (the rule or model it exercises). README.md and the report list the same.
QUIRKS: dict[str, str] = {
    "certificate_gap": "a 残联 certificate missing from one monthly roster and listed again (chain events)",
    "member_gap": "a member missing from one monthly mz_member roster and back (W01 counts her costs)",
    "household_split": "分户: two members leave to form a household of their own (W01 on the new one)",
    "household_merge": "合户: a 低保 household joins another and disappears (exit review on its last roster)",
    "member_moves": "a member moves to another household between snapshots (W03(a) for the one she is in now)",
    "two_counties": "the same person in two counties' rosters in the same month (W07(a), lowest 家庭编号)",
    "legacy_ids": "a month's deliveries with 15-digit IDs, 18-digit in the next (one person, one key: W01)",
    "death_dates_differ": "a death reported by both sources on different dates (the health commission's decides W06)",
    "paid_after_stop": "低保金 paid on after the household went 停保 (nothing fires; exit review on the 停保 roster)",
    "old_cutoff_redelivered": "an old settlement cut-off re-delivered months later as _2 (W01 on its corrections)",
    "back_on_dibao": "a household back on 低保 after 退出 (one exit review, monitored again, chain 重新纳入)",
    "applied_twice": "one person applying twice in the window (two applications, each decided)",
    "late_reversals": "settlements reversed in a later month's delivery, one 冲销 before its late original (W01)",
    "late_department": "a department a month late: two months in one settlement delivery; no 残联 roster this month",
    "standard_change": "a new dibao standard mid-year: W05 and an exit review use the one in force on the run date",
    "reference_files": "regions.csv with 街道/镇/乡/乡镇, township names, extra columns, BOM; a villages.csv",
    "number_reused": "a 家庭编号 reused by another family (the old family's costs do not count: W01 near miss)",
    "orphan_members": "member rows of a household the roster no longer lists (not monitored: D01, not W01)",
    "blank_rows": "empty rows below the data in XLSX and CSV files (not data rows)",
    "moved_on_exit": "a household moving county and to 城市 as it leaves 低保 (exit review on the new figures)",
    "before_window": "a settlement delivered late, dated before the 12-month window (not counted: W01 near miss)",
}
ALL_QUIRKS = frozenset(QUIRKS)


def quirk_names(quirks: bool | Iterable[str] | None) -> frozenset[str]:
    """True → every quirk; None/False → none; else the names given (unknown names are refused)."""
    if quirks is True:
        return ALL_QUIRKS
    names = frozenset(quirks or ())
    unknown = sorted(names - ALL_QUIRKS)
    if unknown:
        raise ValueError(f"unknown quirk(s) {', '.join(unknown)}; known: {', '.join(sorted(ALL_QUIRKS))}")
    return names


@dataclass
class DeliveryQuirks:
    """What the quirks change in the deliveries beyond planted rows (synthetic/deliveries.py applies it)."""

    edits: dict[tuple[str, dt.date, int], list[Edit]] = field(default_factory=dict)  # on a delivery's clean frame
    redelivered: set[tuple[str, dt.date]] = field(default_factory=set)  # delivered again as `_<seq + 1>`
    late: set[tuple[str, dt.date]] = field(default_factory=set)  # not sent: increments come with the next cut-off
    legacy: dict[tuple[str, dt.date], Legacy] = field(default_factory=dict)  # IDs written in 15-digit form
    blank_tail: bool = False  # some files end with empty rows

    def add_edit(self, dataset: str, cutoff: dt.date, seq: int, edit: Edit) -> None:
        self.edits.setdefault((dataset, cutoff, seq), []).append(edit)

    def edit(self, spec: Contract, cutoff: dt.date, seq: int, frame: pl.DataFrame) -> pl.DataFrame:
        for change in self.edits.get((spec.dataset, cutoff, seq), []):
            frame = change(spec, frame)
        return frame

    def seqs(self, dataset: str, cutoff: dt.date, seqs: list[int]) -> list[int]:
        return [*seqs, max(seqs) + 1] if (dataset, cutoff) in self.redelivered else seqs

    def extras(self, dataset: str, cutoff: dt.date, seq: int) -> Extras:
        tail = 0
        if self.blank_tail and (cutoff.toordinal() + len(dataset) + seq) % 3 == 0:
            tail = 1 + cutoff.toordinal() % 3
        return Extras(self.legacy.get((dataset, cutoff)), tail)


# --- helpers ----------------------------------------------------------------------------------------------------
def _background(id_column: str, salt: int, modulus: int) -> pl.Expr:
    """A deterministic ~1/modulus share of background persons' rows (planted persons' IDs are never picked)."""
    ids = pl.col(id_column)
    seq = ids.str.slice(14, 3).cast(pl.Int64, strict=False)
    day = ids.str.slice(12, 2).cast(pl.Int64, strict=False)
    return (seq < PLANTED_SEQ_BASE) & ((seq + 31 * day + salt) % modulus == 0)


def _drop(column: str, values: set[str]) -> Edit:
    return lambda spec, frame: frame.filter(~pl.col(column).is_in(sorted(values)))


def _add(rows: list[dict[str, Any]]) -> Edit:
    return lambda spec, frame: pl.concat([frame, records.from_rows(spec, rows)])


def _set(key: str, value: str, **columns: object) -> Edit:
    def change(spec: Contract, frame: pl.DataFrame) -> pl.DataFrame:
        hit = pl.col(key) == value
        return frame.with_columns(
            pl.when(hit).then(pl.lit(v)).otherwise(pl.col(c)).alias(c) for c, v in columns.items()
        )

    return change


def _ratio_income(p: Plant, hh: Household, ratio: str, n: int) -> int:
    """ratio × S × 12 × n in cents (floor), with the household's own county and 城乡类别."""
    return floor_cents(Decimal(ratio) * p.s(hh) * 12 * n)


def _pair(who: Member, relation: str, **kw: Any) -> Member:
    """The same person listed in another household."""
    return Member(who.person, relation, who.labour, who.health, **kw)


def _move_last(p: Plant, dataset: str, cutoff: dt.date) -> dict[str, Any]:
    """Deliver the last planted record of `dataset` with another cut-off (a record sent late or early)."""
    _, row = p.increments[dataset].pop()
    p.add(dataset, cutoff, row)
    return row


# --- the quirks -------------------------------------------------------------------------------------------------
def certificate_gap(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    county = c.one()
    p.begin("quirk certificate_gap: a 二级 certificate missing from one 残联 roster and listed again (no warning)")
    who = member(p, county, 47, "户主", labour="无劳动能力", health="残疾")
    p.household(county, "最低生活保障", [who, member(p, county, 45, "配偶")], 8000)
    p.certificate(who.person, "肢体", "二级", care="是")
    d.add_edit("cl_disability", p.cutoff(L - 3), 1, _drop("id_number", {who.person.id18}))
    for k in range(1, L):  # in real files many do: ~2 % of background certificates miss one roster each
        d.add_edit("cl_disability", p.cutoff(k), 1, _drop_background("id_number", k, 50))


def _drop_background(column: str, salt: int, modulus: int) -> Edit:
    return lambda spec, frame: frame.filter(~_background(column, salt, modulus))


def member_gap(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    county = c.one()
    p.begin("quirk member_gap: a member missing from one monthly roster and back; her costs count for W01 (橙)")
    head, back = member(p, county, 45, "户主"), member(p, county, 43, "配偶")
    hh = p.household(county, "低保边缘家庭", [head, back], 30000)
    d.add_edit("mz_member", p.cutoff(L - 3), 1, _drop("id_number", {back.person.id18}))
    threshold = w01_threshold(p, county, 30000)
    p.settle(back.person, p.day_in(L - 3, 14), threshold // 2 + 100000)
    p.settle(head.person, p.day_in(L - 1, 9), threshold - threshold // 2)
    p.expect("W01", "橙", hh.hid, "W01")
    for k in range(1, L):  # ~1 % of background members miss one roster each
        d.add_edit("mz_member", p.cutoff(k), 1, _drop_background("id_number", k, 100))


def household_split(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    k = L - 4
    county = c.one()
    p.begin("quirk household_split: 分户 — a son and his wife form their own household; his costs raise W01 there")
    son, wife = member(p, county, 31, "子女", leave_k=k), member(p, county, 30, "其他", leave_k=k)
    p.household(
        county, "低保边缘家庭", [member(p, county, 58, "户主"), member(p, county, 56, "配偶"), son, wife], 36000
    )
    new = p.household(county, "低保边缘家庭", [_pair(son, "户主"), _pair(wife, "配偶")], 20000, start_k=k)
    new.recognised_on = p.day_in(k, 8)
    threshold = w01_threshold(p, county, 20000)
    p.settle(son.person, p.day_in(k - 3, 11), threshold - 300000)  # before the split: counts for his household now
    p.settle(wife.person, p.day_in(k + 2, 11), 500000)
    p.expect("W01", "橙", new.hid, "W01")


def household_merge(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    k = L - 3
    county = c.default_edge(p)
    p.begin("quirk household_merge: 合户 — an elderly 低保 couple joins their son's household; theirs is reviewed")
    a = member(p, county, 66, "户主", labour="无劳动能力")
    b = member(p, county, 64, "配偶", labour="无劳动能力")
    gone = p.household(county, "最低生活保障", [a, b], 0, end_k=k)
    gone.income = _ratio_income(p, gone, "1.2", 2)
    host = [member(p, county, 40, "户主"), member(p, county, 38, "配偶")]
    p.household(county, "最低生活保障", [*host, _pair(a, "父母", join_k=k), _pair(b, "父母", join_k=k)], 9000)
    p.expect_exit(gone, k - 1, k, "低保边缘家庭")


def member_moves(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    k = L - 3
    county = c.one()
    p.begin("quirk member_moves: a member moves household between snapshots; her registration is W03(a) of the new")
    mover = member(p, county, 33, "子女", leave_k=k)
    p.household(county, "低保边缘家庭", [member(p, county, 60, "户主"), mover], 16000)
    now = p.household(county, "低保边缘家庭", [member(p, county, 36, "户主"), _pair(mover, "配偶", join_k=k)], 18000)
    rid = p.register(mover.person, p.run - dt.timedelta(days=35))
    p.expect("W03", "黄", now.hid, f"registration:{rid}", mover.person, sub="a")


def two_counties(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    x = c.one()
    y = next(county for county in iter(c.one, None) if county != x)
    p.begin("quirk two_counties: the same person in two counties' rosters in the run month (W07(a))")
    who = member(p, x, 52, "户主")
    a = p.household(x, "最低生活保障", [who, member(p, x, 50, "配偶")], 9000)
    b = p.household(y, "低保边缘家庭", [member(p, y, 57, "户主"), _pair(who, "兄弟姐妹", join_k=L)], 26000)
    held = sorted([a.hid, b.hid])
    p.expect("W07", "橙", held[0], "households:" + "|".join(held), who.person, sub="a")


def legacy_ids(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    county = c.one()
    p.begin("quirk legacy_ids: settlements of one person with his 15-digit ID in one month, 18 later: W01 (橙)")
    who = member(p, county, 50, "户主")
    hh = p.household(county, "低保边缘家庭", [who, member(p, county, 48, "配偶")], 26000)
    threshold = w01_threshold(p, county, 26000)
    p.settle(who.person, p.day_in(L - 6, 6), threshold // 2)
    p.settle(who.person, p.day_in(L - 2, 6), threshold - threshold // 2 + 50000)
    p.expect("W01", "橙", hh.hid, "W01")
    every_id: Legacy = lambda column: pl.lit(True)  # noqa: E731 - a legacy system exports every ID so
    d.legacy[("ybj_settlement", p.cutoff(L - 6))] = every_id
    d.legacy[("mz_member", p.cutoff(L - 2))] = every_id
    d.legacy[("mz_household", p.cutoff(L - 5))] = every_id


def death_dates_differ(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    county = c.one()
    p.begin("quirk death_dates_differ: 火化 record dates the death 25 days early; W06 goes by the 死亡医学证明")
    grace = int(p.p("w06_grace_months", county))
    only = member(p, county, 79, "户主", labour="无劳动能力")
    hh = p.household(county, "特困人员", [only], 5000, end_k=L - 2, auto_pay=False)
    died = p.day_in(L - 5, 20)
    p.death(only.person, died, cremation=False)
    early = died - dt.timedelta(days=25)
    p.add("mz_cremation", p.weekly_cutoff(died + dt.timedelta(days=16)), {
        "cremation_id": f"HHQ{p.next_id():07d}", "name": only.person.name, "id_number": only.person.id18,
        "died_on": early, "cremated_on": died + dt.timedelta(days=3), "funeral_home": "济南市殡仪馆",
    })  # fmt: skip
    for k in range(L - 6, L - 2):
        p.pay(hh, only.person, "特困供养金", k, hh.benefit or 100000)
        if p.month(k) > add_months(died, grace):  # by the cremation date one month more would fire
            p.expect("W06", "红", hh.hid, f"month:{p.month(k):%Y-%m}", only.person)


def paid_after_stop(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    county = c.default_edge(p)
    p.begin("quirk paid_after_stop: 低保金 paid three more months after 停保 (no rule fires); exit review (低保边缘)")
    head = member(p, county, 54, "户主")
    hh = p.household(county, "最低生活保障", [head, member(p, county, 52, "配偶")], 0)
    hh.income = _ratio_income(p, hh, "1.3", 2)
    hh.changes.append((L - 4, {"status": "停保"}))
    for k in (L - 4, L - 3, L - 2):
        p.pay(hh, head.person, "低保金", k, hh.benefit or 50000)
    p.expect_exit(hh, L - 5, L - 4, "低保边缘家庭")


def old_cutoff_redelivered(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    k = L - 5
    cutoff = p.cutoff(k)
    county = c.one()
    p.begin("quirk old_cutoff_redelivered: `_2` of an old cut-off lowers one claim (no W01), adds another (W01 橙)")
    first = p.household(county, "低保边缘家庭", [member(p, county, 46, "户主"), member(p, county, 44, "配偶")], 30000)
    threshold = w01_threshold(p, county, 30000)
    corrected = threshold - 200000
    lowered = p.settle(first.members[0].person, p.day_in(k, 7), threshold + 300000)
    d.add_edit(
        "ybj_settlement", cutoff, 2,
        _set("settlement_id", lowered, self_paid=corrected, fund_paid=2 * corrected, total_cost=3 * corrected),
    )  # fmt: skip
    county = c.one()
    second = p.household(county, "低保边缘家庭", [member(p, county, 41, "户主"), member(p, county, 40, "配偶")], 30000)
    only_in_2 = p.settle(second.members[0].person, p.day_in(k, 12), w01_threshold(p, county, 30000) + 100000)
    d.add_edit("ybj_settlement", cutoff, 1, _drop("settlement_id", {only_in_2}))
    d.redelivered.add(("ybj_settlement", cutoff))
    p.expect("W01", "橙", second.hid, "W01")


def back_on_dibao(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    k = L - 6
    county = c.default_edge(p)
    p.begin("quirk back_on_dibao: 退出 with a higher income, back on 低保 three months later: one exit review")
    hh = p.household(county, "最低生活保障", [member(p, county, 57, "户主"), member(p, county, 55, "配偶")], 0)
    hh.income = _ratio_income(p, hh, "0.6", 2)
    hh.changes += [
        (k, {"status": "退出", "exited_on": p.day_in(k, 9), "income": _ratio_income(p, hh, "1.2", 2)}),
        (k + 3, {"status": "在保", "exited_on": None, "income": _ratio_income(p, hh, "0.7", 2),
                 "recognised_on": p.day_in(k + 3, 5)}),
    ]  # fmt: skip
    p.expect_exit(hh, k - 1, k, "低保边缘家庭")


def applied_twice(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    county = c.default_edge(p)
    p.begin("quirk applied_twice: the same family applies twice in the window (低保, then 低保边缘 on a new income)")
    village = p.village(county)
    s = p.s(county, p.urban_rural_of(village))
    family = [am(p.person(county, 42)), am(p.person(county, 40), "配偶")]
    for days, ratio, result in ((100, "0.5", "最低生活保障"), (20, "1.3", "低保边缘家庭")):
        income = floor_cents(Decimal(ratio) * s * 12 * len(family))
        apply(p, county, family, income, result, applied_on=p.run - dt.timedelta(days=days), village=village)


def late_reversals(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    county = c.one()
    p.begin("quirk late_reversals: a claim reversed six months on, another whose 冲销 came first: no W01")
    who = member(p, county, 53, "户主").person
    p.household(county, "低保边缘家庭", [Member(who, "户主")], 20000)
    big = p.settle(who, p.day_in(L - 8, 12), 2500000)
    p.reverse(who, p.day_in(L - 2, 3), big, 2500000)
    original = p.settle(who, p.day_in(L - 5, 20), 2200000)
    _move_last(p, "ybj_settlement", p.cutoff(L - 3))  # the hospital sent the original late
    p.reverse(who, p.day_in(L - 4, 2), original, 2200000)  # its reversal arrived before it
    p.settle(who, p.day_in(L - 1, 10), w01_threshold(p, county, 20000) - 800000)


def late_department(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    p.begin("quirk late_department: 医保 a month late (two months in one delivery); 残联's run-month roster missing")
    d.late.add(("ybj_settlement", p.cutoff(L - 4)))
    d.late.add(("cl_disability", p.cutoff(L)))


def standard_change(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    found = _changed_standard(p, c)
    if found is None:
        p.begin("quirk standard_change: not planted (no dibao standard changes within the history)")
        return
    county, ur, change, old = found
    new = p.s(county, ur)
    p.begin(f"quirk standard_change: S changed on {change}; W05 per head between the old and the new S")
    a = member(p, county, 41, "户主")
    hh = p.household(county, "最低生活保障", [a, member(p, county, 39, "配偶")], 9000, urban_rural=ur)
    wage = floor_cents(old + new)  # the only wage of two members: per head halfway between old and new
    p.contribute(a.person, [add_months(month_start(p.run), -i) for i in range(3)], wage)
    if new < old:  # a lower standard: the wage per head is now above it
        p.expect("W05", "黄", hh.hid, "W05")
    p.begin(f"quirk standard_change: an exit review from before {change} is decided on the standard of the run date")
    k = max(i for i in range(1, L) if p.cutoff(i) < change)
    edge = p.p("edge_income_multiplier", county)
    members = [member(p, county, 44, "户主"), member(p, county, 43, "配偶")]
    left = p.household(county, "最低生活保障", members, 0, urban_rural=ur)
    left.income = floor_cents(edge * (old + new) / 2 * 12 * 2)  # 低保边缘 on one standard, 无 on the other
    left.changes.append((k, {"status": "停保"}))
    p.expect_exit(left, k - 1, k, "低保边缘家庭" if new > old else "无")


def _changed_standard(p: Plant, c: Counties) -> tuple[str, str, dt.date, Decimal] | None:
    """A county with the default 边缘 multiplier and villages of a 城乡类别 whose standard changed within the history
    (after the second cut-off): the county, 城乡类别, the date and the standard before it."""
    reference = p.params.reference
    changes = reference.dibao_standards.filter(
        (pl.col("effective_from") > p.cutoff(1)) & (pl.col("effective_from") <= p.run)
    )
    default = p.p("edge_income_multiplier", "370000")
    for county, ur, change in changes.select("county_code", "urban_rural", "effective_from").sort(pl.all()).rows():
        if p.p("edge_income_multiplier", county) != default or p.urban_rural_of(p.village(county, ur)) != ur:
            continue
        old = reference.dibao_standard(county, ur, change - dt.timedelta(days=1))
        if old != p.s(county, ur):
            return county, ur, change, old
    return None


def number_reused(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    county = c.default_edge(p)
    p.begin("quirk number_reused: a 家庭编号 given to another family; the first family's costs do not count (no W01)")
    old_head = member(p, county, 62, "户主")
    first = p.household(county, "最低生活保障", [old_head, member(p, county, 60, "配偶")], 0, end_k=L - 6)
    first.income = _ratio_income(p, first, "1.2", 2)
    second = p.household(
        county, "低保边缘家庭", [member(p, county, 35, "户主"), member(p, county, 33, "配偶")], 30000, start_k=L - 4
    )
    second.hid, second.recognised_on = first.hid, p.day_in(L - 4, 6)
    p.settle(old_head.person, p.day_in(L - 2, 5), w01_threshold(p, county, 30000) + 600000)  # below D01
    p.expect_exit(first, L - 7, L - 6, "低保边缘家庭")


def orphan_members(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    county = c.default_edge(p)
    p.begin("quirk orphan_members: a 低保 household dropped from mz_household but not from mz_member: D01, exit review")
    head, spouse = member(p, county, 48, "户主"), member(p, county, 46, "配偶")
    gone = p.household(county, "最低生活保障", [head, spouse], 0, end_k=L - 2)
    gone.income = _ratio_income(p, gone, "1.2", 2)
    rows = [
        {"household_id": gone.hid, "name": m.person.name, "id_number": m.person.id18, "relation": m.relation,
         "labour_capacity": m.labour, "health": m.health, "individual_cover": m.cover}
        for m in (head, spouse)
    ]  # fmt: skip
    for k in (L - 2, L - 1, L):
        d.add_edit("mz_member", p.cutoff(k), 1, _add(rows))
    spread(p, [head.person], int(p.p("d01_self_paid", county) * 100) + 500000, [L - 5, L - 1])
    p.expect("D01", "黄", "", "D01", head.person)
    p.expect_exit(gone, L - 3, L - 2, "低保边缘家庭")


def blank_rows(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    p.begin("quirk blank_rows: every third file ends with empty rows (formatted XLSX rows, lines of commas)")
    d.blank_tail = True


def moved_on_exit(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    L = p.T - 1
    k = L - 3
    here, there, village = _rural_to_urban(p, c)
    p.begin(f"quirk moved_on_exit: 停保 and moved from {here} (农村) to {there} (城市): reviewed on the new S")
    hh = p.household(here, "最低生活保障", [member(p, here, 50, "户主"), member(p, here, 47, "配偶")], 0, "农村")
    edge = p.p("edge_income_multiplier", here)
    new_s = p.s(there, p.urban_rural_of(village))
    hh.income = floor_cents(edge * (p.s(hh) + new_s) / 2 * 12 * 2)  # 无 on the old figures, 低保边缘 on the new
    hh.changes.append((k, {"status": "停保", "village": village, "urban_rural": p.urban_rural_of(village)}))
    p.expect_exit(hh, k - 1, k, "低保边缘家庭")


def _rural_to_urban(p: Plant, c: Counties) -> tuple[str, str, str]:
    """Two counties with the default 边缘 multiplier where the second's urban S is well above the first's rural S,
    and a 城市 village of the second."""
    for _ in range(4 * len(c.all)):
        here, there = c.default_edge(p), c.default_edge(p)
        rural, urban = p.village(here, "农村"), p.village(there, "城市")
        if here == there or p.urban_rural_of(rural) != "农村" or p.urban_rural_of(urban) != "城市":
            continue
        if p.s(there, "城市") > p.s(here, "农村") * Decimal("1.1"):
            return here, there, urban
    raise ValueError("moved_on_exit: no pair of counties whose urban standard is 10 % above the other's rural one")


def before_window(p: Plant, c: Counties, d: DeliveryQuirks) -> None:
    county = c.one()
    p.begin("quirk before_window: a claim dated before the 12-month window, delivered late, does not count (no W01)")
    who = member(p, county, 51, "户主").person
    p.household(county, "低保边缘家庭", [Member(who, "户主")], 20000)
    window_start = add_months(p.run, -12) + dt.timedelta(days=1)
    p.settle(who, p.monthly_cutoff(window_start), 900000)
    p.increments["ybj_settlement"][-1][1]["settled_on"] = window_start - dt.timedelta(days=20)
    p.settle(who, p.day_in(p.T - 2, 8), w01_threshold(p, county, 20000) - 500000)


PLANTERS: dict[str, Callable[[Plant, Counties, DeliveryQuirks], None]] = {
    "certificate_gap": certificate_gap, "member_gap": member_gap, "household_split": household_split,
    "household_merge": household_merge, "member_moves": member_moves, "two_counties": two_counties,
    "legacy_ids": legacy_ids, "death_dates_differ": death_dates_differ, "paid_after_stop": paid_after_stop,
    "old_cutoff_redelivered": old_cutoff_redelivered, "back_on_dibao": back_on_dibao, "applied_twice": applied_twice,
    "late_reversals": late_reversals, "late_department": late_department, "standard_change": standard_change,
    "reference_files": lambda p, c, d: None,  # written before the reference is read: write_reference_files
    "number_reused": number_reused, "orphan_members": orphan_members, "blank_rows": blank_rows,
    "moved_on_exit": moved_on_exit, "before_window": before_window,
}  # fmt: skip


def plant_quirks(p: Plant, counties: Counties, quirks: frozenset[str]) -> DeliveryQuirks:
    """Plant the chosen quirks (in a fixed order, so the same set gives the same province)."""
    deliveries = DeliveryQuirks()
    for name in sorted(quirks):
        PLANTERS[name](p, counties, deliveries)
    return deliveries


# --- reference files as users have them -------------------------------------------------------------------------
TOWNSHIPS = (("001", "街道", "城关街道"), ("002", "街道", "新华路街道"), ("101", "镇", "王庄镇"),
             ("102", "镇", "李集镇"), ("103", "乡镇", "柳河镇"), ("201", "乡", "石门乡"))  # fmt: skip


def write_regions(root: DataRoot, shipped: Reference) -> str:
    """regions.csv as the national statistical division list gives it: a row per township (街道, 镇, 乡, and one
    乡镇), their names, two extra columns, UTF-8 with a BOM."""
    rows = []
    for county, name, city, city_name in shipped.counties().iter_rows():
        for code, kind, township in TOWNSHIPS:
            rows.append({
                "统计用区划代码": f"{county}{code}000", "city_code": city, "city_name": city_name,
                "county_code": county, "county_name": name, "township_code": f"{county}{code}", "township_kind": kind,
                "township_name": township, "城乡分类代码": "111" if kind == "街道" else "220",
            })  # fmt: skip
    _write_csv(root, REGIONS, rows)
    return REGIONS


def write_villages(root: DataRoot, villages: pl.DataFrame) -> str:
    """villages.csv: a name for every village the province's rosters use (社区 in towns, 村 elsewhere)."""
    stems = "东西南北中前后"
    rows = [
        {"village_code": v, "village_name": f"{stems[i % 7]}{stems[(i // 7) % 7]}{'社区' if ur == '城市' else '村'}"}
        for i, (v, ur) in enumerate(villages.select("village", "urban_rural").iter_rows())
    ]
    _write_csv(root, VILLAGES, rows)
    return VILLAGES


def _write_csv(root: DataRoot, name: str, rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    root.reference.mkdir(parents=True, exist_ok=True)
    (root.reference / name).write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
