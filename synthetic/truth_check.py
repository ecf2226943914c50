"""An independent evaluation of docs/rules.md over the generated records (plain Python over the clean rows).

It knows nothing of the scenarios: it reads what was delivered (RecordStore), applies every warning rule
and the identification rules at the run date, and returns what a correct platform must produce. The
generator compares this with the truth it planted; any difference (a background row that fires by
accident, a scenario that does not fire as planned) fails the generation.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from ingestion.pseudonymise import person_key
from ingestion.reference import Reference
from synthetic.calendar import add_months, age_on, month_start, previous_school_year, school_year
from synthetic.store import RecordStore
from synthetic.verification_check import Registers, raise_warnings

POOR = ("特困人员", "最低生活保障")
EMPLOYEE = ("企业职工基本养老保险", "机关事业单位养老保险")
WarningKey = tuple[str, str, str, str, str, str]  # rule, sub, level, household, person key, episode
IdentKey = tuple[str, str, str, str, str, str, str, str]


@dataclass
class Household:
    hid: str
    county: str
    urban_rural: str
    category: str | None
    income: int  # cents
    member_count: int
    members: set[str] = field(default_factory=set)


@dataclass
class CheckResult:
    warnings: set[WarningKey]
    identifications: set[IdentKey]


class Checker:
    def __init__(self, store: RecordStore, reference: Reference, run_date: dt.date, key: bytes):
        self.store, self.ref, self.R, self.key = store, reference, run_date, key
        self.warnings: set[WarningKey] = set()

    # --- helpers ------------------------------------------------------------------------------------------
    def p(self, name: str, county: str) -> Decimal:
        return self.ref.parameter(name, county, self.R)

    def s(self, county: str, ur: str) -> Decimal:
        return self.ref.dibao_standard(county, ur, self.R)

    def pk(self, id18: str) -> str:
        return person_key(id18, self.key)

    def working(self, birth_of: str, on: dt.date, county: str) -> bool:
        age = age_on(_birth(birth_of), on)
        return int(self.p("working_age_min", county)) <= age <= int(self.p("working_age_max", county))

    def raise_(self, rule: str, sub: str, level: str, hid: str, id18: str | None, episode: str) -> None:
        self.warnings.add((rule, sub, level, hid, self.pk(id18) if id18 else "", episode))

    # --- data --------------------------------------------------------------------------------------------------
    def load(self) -> None:
        R = self.R
        self.hh_snaps = self.store.snapshots("mz_household", R)
        self.mem_snaps = dict(self.store.snapshots("mz_member", R))
        cutoff, latest = self.hh_snaps[-1]
        self.latest_hh = latest
        self.latest_members = self._members_at(cutoff)
        self.monitored: dict[str, Household] = {}
        self.person_hh: dict[str, set[str]] = defaultdict(set)
        for row in latest.filter(pl.col("status") == "在保").iter_rows(named=True):
            hh = Household(row["household_id"], row["region_code"][:6], row["urban_rural"], row["category"],
                           row["annual_income"], row["member_count"], {row["head_id"]})  # fmt: skip
            self.monitored[hh.hid] = hh
        for row in self.latest_members.iter_rows(named=True):
            if row["household_id"] in self.monitored:
                self.monitored[row["household_id"]].members.add(row["id_number"])
        for hh in self.monitored.values():
            for pid in hh.members:
                self.person_hh[pid].add(hh.hid)
        self._rural()
        self._deaths()
        self._settlements()
        self.contrib = self.store.increments("rsj_contribution", R)

    def _members_at(self, cutoff: dt.date) -> pl.DataFrame:
        if cutoff in self.mem_snaps:
            return self.mem_snaps[cutoff]
        earlier = [c for c in self.mem_snaps if c <= cutoff]
        return self.mem_snaps[max(earlier) if earlier else min(self.mem_snaps)]

    def _rural(self) -> None:
        snaps = self.store.snapshots("nync_monitored", self.R)
        if not snaps:
            return
        for row in snaps[-1][1].filter(pl.col("risk_status") == "未消除").iter_rows(named=True):
            if self.person_hh.get(row["head_id"]):
                continue  # an in-force civil-affairs household takes precedence
            income = (row["income_per_capita"] or 0) * row["member_count"]
            hh = Household(
                row["rural_household_id"],
                row["region_code"][:6],
                "农村",
                None,
                income,
                row["member_count"],
                {row["head_id"]},
            )
            self.monitored[hh.hid] = hh
            self.person_hh[row["head_id"]].add(hh.hid)

    def _deaths(self) -> None:
        self.died: dict[str, dt.date] = {}
        for row in self.store.increments("mz_cremation", self.R).iter_rows(named=True):
            self.died[row["id_number"]] = row["died_on"]
        for row in self.store.increments("wjw_death", self.R).iter_rows(named=True):
            self.died[row["id_number"]] = row["died_on"]  # the health commission's date wins

    def _settlements(self) -> None:
        rows = self.store.increments("ybj_settlement", self.R)
        ids = set(rows["settlement_id"].to_list())
        cancelled = set()
        for row in rows.filter(pl.col("settlement_type") == "冲销").iter_rows(named=True):
            if row["original_settlement_id"] in ids:
                cancelled |= {row["settlement_id"], row["original_settlement_id"]}
        start = add_months(self.R, -12) + dt.timedelta(days=1)
        self.self_paid: dict[str, int] = defaultdict(int)
        self.had_aid: dict[str, bool] = defaultdict(bool)
        self.last_region: dict[str, tuple[dt.date, str, str]] = {}
        for row in rows.iter_rows(named=True):
            if row["settlement_id"] in cancelled or not (start <= row["settled_on"] <= self.R):
                continue
            pid = row["id_number"]
            self.self_paid[pid] += row["self_paid"]
            self.had_aid[pid] |= (row["medical_aid_paid"] or 0) != 0
            if row["insured_region"]:
                mark = (row["settled_on"], row["settlement_id"], row["insured_region"])
                if pid not in self.last_region or mark > self.last_region[pid]:
                    self.last_region[pid] = mark

    # --- rules ---------------------------------------------------------------------------------------------------
    def w01(self) -> None:
        for hh in self.monitored.values():
            amount = sum(self.self_paid.get(m, 0) for m in hh.members)
            threshold = max(self.p("w01_floor", hh.county) * 100, self.p("w01_income_share", hh.county) * hh.income)
            if amount >= threshold:
                level = "红" if amount >= self.p("w01_red", hh.county) * 100 else "橙"
                self.raise_("W01", "", level, hh.hid, None, "W01")

    def w02(self) -> None:
        cutoffs = [c for c, _ in self.hh_snaps]
        by_snapshot: dict[int, dict[str, dt.date]] = defaultdict(dict)
        for id18, died in self.died.items():
            earlier = [i for i, c in enumerate(cutoffs) if c <= died]
            by_snapshot[earlier[-1] if earlier else 0][id18] = died
        for i, deaths in by_snapshot.items():
            cutoff, snap = self.hh_snaps[i]
            inforce = snap.filter(pl.col("status") == "在保").select("household_id", "head_id", "region_code")
            members = self._members_at(cutoff).join(inforce.select("household_id"), on="household_id", how="semi")
            persons = pl.concat(
                [
                    members.select("household_id", pid=pl.col("id_number")),
                    inforce.select("household_id", pid=pl.col("head_id")),
                ]
            ).unique()
            size = dict(persons.group_by("household_id").len().iter_rows())
            labour = {
                (r[0], r[1]): r[2] for r in members.select("household_id", "id_number", "labour_capacity").iter_rows()
            }
            county = dict(inforce.select("household_id", pl.col("region_code").str.slice(0, 6)).iter_rows())
            dead = persons.filter(pl.col("pid").is_in(list(deaths)))
            for hid, id18 in dead.iter_rows():
                died = deaths[id18]
                if size[hid] >= 2 and labour.get((hid, id18)) == "有劳动能力" and self.working(id18, died, county[hid]):
                    self.raise_("W02", "", "红", hid, id18, f"death:{self.pk(id18)}")

    def _employee_months(self, id18: str) -> dict[dt.date, int]:
        rows = self.contrib_by_person.get(id18, [])
        out: dict[dt.date, int] = defaultdict(int)
        for period, scheme, base in rows:
            if scheme in EMPLOYEE:
                out[period] += base
        return out

    def w03(self) -> None:
        self.contrib_by_person: dict[str, list[tuple[dt.date, str, int]]] = defaultdict(list)
        for row in self.contrib.iter_rows(named=True):
            self.contrib_by_person[row["id_number"]].append((row["period"], row["scheme"], row["wage_base"]))
        regs = self.store.increments("rsj_unemployment", self.R)
        for row in regs.iter_rows(named=True):
            for hid in self.person_hh.get(row["id_number"], ()):
                hh = self.monitored[hid]
                n = int(self.p("w03_registration_months", hh.county))
                on = row["registered_on"]
                open_ = row["closed_on"] is None or row["closed_on"] > self.R
                if add_months(self.R, -n) < on <= self.R and open_ and self.working(row["id_number"], on, hh.county):
                    level = "橙" if self._only_contributor(hh, row["id_number"], month_start(on)) else "黄"
                    self.raise_("W03", "a", level, hid, row["id_number"], f"registration:{row['registration_id']}")
        run_month = month_start(self.R)
        for hid, hh in self.monitored.items():
            gap_n = int(self.p("w03_gap_months", hh.county))
            look = int(self.p("w03_lookback_months", hh.county))
            need = int(self.p("w03_min_contribution_months", hh.county))
            gap = [add_months(run_month, -i) for i in range(gap_n)]
            first = gap[-1]
            reference = [add_months(first, -i) for i in range(1, look + 1)]
            for m in hh.members:
                months = self._employee_months(m)
                if any(g in months for g in gap) or sum(r in months for r in reference) < need:
                    continue
                if self.working(m, first, hh.county):
                    level = "橙" if self._only_contributor(hh, m, first) else "黄"
                    self.raise_("W03", "b", level, hid, m, f"gap:{self.pk(m)}:{first:%Y-%m}")

    def _only_contributor(self, hh: Household, id18: str, event: dt.date) -> bool:
        window = {add_months(event, -i) for i in range(1, 13)}
        mine = any(m in window for m in self._employee_months(id18))
        others = any(any(m in window for m in self._employee_months(o)) for o in hh.members if o != id18)
        return mine and not others

    def w04_d02(self) -> None:
        for row in self.store.increments("yjj_disaster", self.R).iter_rows(named=True):
            head = row["head_id"]
            severe = row["house_damage"] in ("倒塌", "严重损坏")
            hids = self.person_hh.get(head, set())
            for hid in hids:
                county = self.monitored[hid].county
                level = "红" if severe else "橙" if row["loss"] >= self.p("w04_orange_loss", county) * 100 else "黄"
                self.raise_("W04", "", level, hid, head, f"disaster:{row['relief_id']}")
            if not hids and (severe or row["loss"] >= self.p("d02_loss", row["region_code"][:6]) * 100):
                self.raise_("D02", "", "黄", "", head, f"disaster:{row['relief_id']}")

    def w05(self) -> None:
        run_month = month_start(self.R)
        for hh in self.monitored.values():
            if hh.category not in POOR:
                continue
            months = [add_months(run_month, -i) for i in range(int(self.p("w05_months", hh.county)))]
            total = 0
            for m in hh.members:
                bases = self._employee_months(m)
                latest = next((bases[x] for x in months if x in bases), 0)
                total += latest
            limit = self.s(hh.county, hh.urban_rural) * hh.member_count * 100
            if hh.category == "特困人员":
                limit *= self.p("w05_tekun_multiplier", hh.county)
            if total > limit:
                self.raise_("W05", "", "黄", hh.hid, None, "W05")

    def w06_w07b(self) -> None:
        pay = self.store.increments("mz_payment", self.R)
        net: dict[tuple[str, str, dt.date], int] = defaultdict(int)
        homes: dict[tuple[str, str, dt.date], set[str]] = defaultdict(set)
        for row in pay.iter_rows(named=True):
            k = (row["id_number"], row["programme"], row["period"])
            net[k] += row["amount"]
            homes[k].add(row["household_id"])
        fired: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
        for (pid, programme, period), amount in net.items():
            if amount <= 0 or programme not in ("低保金", "特困供养金", "残疾人两项补贴") or pid not in self.died:
                continue
            if period > add_months(self.died[pid], int(self.p("w06_grace_months", "370000"))):
                fired[(pid, period)] |= homes[(pid, programme, period)]
        for (pid, period), hids in fired.items():
            self.raise_("W06", "", "红", min(hids), pid, f"month:{period:%Y-%m}")
        for (pid, programme, period), amount in net.items():
            other = (pid, "特困供养金", period)
            if programme == "低保金" and amount > 0 and net.get(other, 0) > 0:
                hids = homes[(pid, programme, period)] | homes[other]
                self.raise_("W07", "b", "橙", min(hids), pid, f"month:{period:%Y-%m}")

    def w07ac(self) -> None:
        mz = {h: hh for h, hh in self.monitored.items() if hh.category is not None}
        held: dict[str, set[str]] = defaultdict(set)
        for hid, hh in mz.items():
            for m in hh.members:
                held[m].add(hid)
        for pid, hids in held.items():
            if len(hids) < 2:
                continue
            cats = {mz[h].category for h in hids}
            sub = "c" if {"特困人员", "最低生活保障"} <= cats else "a"
            ordered = sorted(hids)
            self.raise_("W07", sub, "橙", ordered[0], pid, "households:" + "|".join(ordered))

    def w08(self) -> None:
        snaps = self.store.snapshots("cl_disability", self.R)
        certs = snaps[-1][1] if snaps else pl.DataFrame({"id_number": []})
        by_person = defaultdict(list)
        for row in certs.iter_rows(named=True):
            by_person[row["id_number"]].append(row)
        aid_years: dict[str, set[str]] = defaultdict(set)
        for row in self.store.increments("jyt_student_aid", self.R).iter_rows(named=True):
            aid_years[row["id_number"]].add(row["school_year"])
        current = school_year(self.R)
        previous = previous_school_year(current)
        subjects: dict[str, set[str]] = defaultdict(set)
        for hid, hh in self.monitored.items():
            if hh.category in POOR:
                for m in hh.members:
                    subjects[m].add(hid)
        for pid, hids in subjects.items():
            hid = min(hids)
            county = self.monitored[hid].county
            for c in by_person.get(pid, []):
                due = c["disability_grade"] in ("一级", "二级") or (
                    c["disability_grade"] == "三级" and c["disability_type"] in ("智力", "精神")
                )
                if due and c["care_subsidy"] != "是":
                    self.raise_("W08", "a", "黄", hid, pid, "W08a")
            age = age_on(_birth(pid), self.R)
            lo, hi = int(self.p("w08_student_age_min", county)), int(self.p("w08_student_age_max", county))
            if lo <= age <= hi and previous in aid_years[pid] and current not in aid_years[pid]:
                self.raise_("W08", "b", "黄", hid, pid, f"year:{current}")
            if self.self_paid.get(pid, 0) >= self.p("w08_self_paid", county) * 100 and not self.had_aid.get(pid, False):
                self.raise_("W08", "c", "黄", hid, pid, "W08c")

    def d01(self) -> None:
        for pid, amount in self.self_paid.items():
            if pid in self.person_hh:
                continue
            county = self.last_region[pid][2] if pid in self.last_region else pid[:6]
            county = county if county.startswith("37") else "370000"
            if amount >= self.p("d01_self_paid", county) * 100:
                self.raise_("D01", "", "黄", "", pid, "D01")

    def run(self) -> set[WarningKey]:
        self.load()
        self.registers = Registers(self.store, self.R)  # docs/verification.md: vehicles, dwellings, businesses
        for rule in (
            self.w01,
            self.w02,
            self.w03,
            self.w04_d02,
            self.w05,
            self.w06_w07b,
            self.w07ac,
            self.w08,
            self.d01,
            lambda: raise_warnings(self),
        ):
            rule()
        return self.warnings


def _birth(id18: str) -> dt.date:
    return dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
