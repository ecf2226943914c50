"""docs/verification.md decided independently from the delivered records (plain Python, like truth_check.py): what a
person holds on a date (§2), W09 车辆超标, W10 房产超标 and W11 经营主体 (§3), and the registered figures of the
核对 in identification (§4)."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from synthetic.truth_check import Checker

EXEMPT = ("摩托车", "低速货车", "残疾人专用车")
COMPANIES = ("有限责任公司", "股份有限公司", "个人独资企业", "合伙企业")
POOR = ("特困人员", "最低生活保障")
ASSET_TESTED = ("特困人员", "最低生活保障", "低保边缘家庭", "刚性支出困难家庭")


@dataclass(frozen=True)
class Vehicle:
    vin: str
    owner: str  # ID number
    first_registered_on: dt.date


@dataclass(frozen=True)
class Registration:
    registered_on: dt.date
    registration_id: str
    kind: str
    use: str
    holders: frozenset[str]  # ID numbers


@dataclass(frozen=True)
class Figures:
    """What the registers show for some people on a date (§4)."""

    vehicles: int
    extra_dwellings: int
    represents_company: bool


class Registers:
    """The three registers as delivered (the latest delivery per cut-off, the latest version per key)."""

    def __init__(self, store: Any, run_date: dt.date):
        self.vehicle_cutoffs, self.vehicles = self._by_owner(store.snapshots("gaj_vehicle", run_date), "owner_id")
        self.business_cutoffs, self.businesses = self._by_owner(store.snapshots("scjg_business", run_date), "rep_id")
        self.units: dict[str, list[Registration]] = defaultdict(list)
        self.units_of: dict[str, set[str]] = defaultdict(set)
        rows = store.increments("zrzy_property", run_date)
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in rows.iter_rows(named=True) if rows.height else ():
            groups[(row["unit_id"], row["registration_id"])].append(row)
            self.units_of[row["holder_id"]].add(row["unit_id"])
        for (unit, rid), parts in groups.items():
            first = parts[0]
            holders = frozenset(r["holder_id"] for r in parts)
            self.units[unit].append(
                Registration(first["registered_on"], rid, first["registration_type"], first["use"], holders)
            )
        for registrations in self.units.values():
            registrations.sort(key=lambda r: (r.registered_on, r.registration_id))

    @staticmethod
    def _by_owner(snapshots: list[tuple[dt.date, pl.DataFrame]], owner: str) -> tuple[list[dt.date], list[dict]]:
        cutoffs, indexes = [], []
        for cutoff, frame in snapshots:
            index: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in frame.iter_rows(named=True):
                index[row[owner]].append(row)
            cutoffs.append(cutoff)
            indexes.append(index)
        return cutoffs, indexes

    @staticmethod
    def _in_force(cutoffs: list[dt.date], indexes: list[dict], on: dt.date) -> dict[str, list[dict[str, Any]]]:
        """The latest snapshot with cut-off ≤ on (empty before the first)."""
        i = bisect.bisect_right(cutoffs, on) - 1
        return indexes[i] if i >= 0 else {}

    def vehicles_on(self, people: Iterable[str], on: dt.date) -> list[Vehicle]:
        """Counted vehicles: 正常, first registered by `on`, not 摩托车/低速货车/残疾人专用车."""
        snapshot = self._in_force(self.vehicle_cutoffs, self.vehicles, on)
        return [
            Vehicle(row["vin"], who, row["first_registered_on"])
            for who in set(people)
            for row in snapshot.get(who, [])
            if row["status"] == "正常" and row["first_registered_on"] <= on and row["vehicle_type"] not in EXEMPT
        ]

    def dwellings_on(self, people: Iterable[str], on: dt.date) -> dict[str, Registration]:
        """Units whose latest registration by `on` is no 注销登记, is 住宅, and names one of `people`."""
        people = set(people)
        held = {}
        for unit in {u for who in people for u in self.units_of.get(who, ())}:
            registrations = self.units[unit]
            i = bisect.bisect_right([r.registered_on for r in registrations], on) - 1
            if i < 0:
                continue
            latest = registrations[i]
            if latest.kind != "注销登记" and latest.use == "住宅" and latest.holders & people:
                held[unit] = latest
        return held

    def businesses_on(self, people: Iterable[str], on: dt.date) -> list[dict[str, Any]]:
        """Businesses `people` represent: 存续 and founded by `on`."""
        snapshot = self._in_force(self.business_cutoffs, self.businesses, on)
        return [
            row
            for who in set(people)
            for row in snapshot.get(who, [])
            if row["status"] == "存续" and row["established_on"] <= on
        ]

    def figures(self, people: Iterable[str], on: dt.date) -> Figures:
        people = set(people)
        dwellings = len(self.dwellings_on(people, on))
        companies = [b for b in self.businesses_on(people, on) if b["entity_type"] in COMPANIES]
        return Figures(len(self.vehicles_on(people, on)), max(dwellings - 1, 0), bool(companies))


def raise_warnings(c: Checker) -> None:
    """W09, W10, W11 at the run date over the in-force civil-affairs households (members = roster + head)."""
    registers: Registers = c.registers
    recognised = dict(c.latest_hh.select("household_id", "recognised_on").iter_rows())
    for hh in c.monitored.values():
        if hh.category not in ASSET_TESTED:
            continue
        poor = hh.category in POOR
        since = recognised[hh.hid]
        cars = registers.vehicles_on(hh.members, c.R)
        if len(cars) > (0 if poor else int(c.p("edge_max_vehicles", hh.county))):
            latest = max(cars, key=lambda v: (v.first_registered_on, v.vin))
            level = "橙" if any(v.first_registered_on > since for v in cars) else "黄"
            c.raise_("W09", "", level, hh.hid, latest.owner, "W09")
        units = list(registers.dwellings_on(hh.members, c.R).values())
        if len(units) - 1 > (0 if poor else int(c.p("edge_max_extra_properties", hh.county))):
            latest_unit = max(units, key=lambda r: (r.registered_on, r.registration_id))
            person = min(latest_unit.holders & hh.members, key=c.pk)
            level = "橙" if any(r.registered_on > since for r in units) else "黄"
            c.raise_("W10", "", level, hh.hid, person, "W10")
        if poor:
            line = c.p("w11_capital", hh.county) * 100
            for row in registers.businesses_on(hh.members, c.R):
                episode = f"business:{row['credit_code']}"
                if row["entity_type"] in COMPANIES:
                    c.raise_("W11", "a", "橙", hh.hid, row["rep_id"], episode)
                elif (row["registered_capital"] or 0) >= line:
                    c.raise_("W11", "b", "黄", hh.hid, row["rep_id"], episode)
