"""Per-delivery clean frames: background (vectorised) and planted (hand-built) rows of one dataset and cut-off."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from ingestion.contracts import Contract
from synthetic import records
from synthetic.applications import Applicant
from synthetic.background_events import Events
from synthetic.background_holdings import Holdings
from synthetic.background_rosters import Rosters
from synthetic.plant import POOR, Household, Plant


class BackgroundSource:
    def __init__(self, schedule: Any, rosters: Rosters, events: Events, holdings: Holdings):
        self.schedule = schedule
        self.rosters = rosters
        self.events = events
        self.holdings = holdings

    def frame(self, spec: Contract, cutoff: dt.date) -> pl.DataFrame:
        k = self.schedule.monthly.index(cutoff) if cutoff in self.schedule.monthly else -1
        r, e = self.rosters, self.events
        makers = {
            "mz_household": lambda: r.household_frame(k),
            "mz_member": lambda: r.member_frame(k),
            "nync_monitored": lambda: r.nync_frame(k),
            "cl_disability": lambda: r.disability_frame(k),
            "mz_payment": lambda: e.payments(cutoff),
            "ybj_settlement": lambda: e.settlements(cutoff),
            "rsj_contribution": lambda: e.contributions(cutoff),
            "rsj_unemployment": lambda: e.unemployment(cutoff),
            "wjw_death": lambda: e.deaths(cutoff),
            "mz_cremation": lambda: e.cremations(cutoff),
            "yjj_disaster": lambda: e.disasters(cutoff),
            "jyt_student_aid": lambda: e.student_aid(cutoff),
            "zjt_housing_aid": lambda: e.housing_aid(cutoff),
            "gaj_vehicle": lambda: self.holdings.vehicle_frame(k),
            "zrzy_property": lambda: self.holdings.property_frame(cutoff),
            "scjg_business": lambda: self.holdings.business_frame(k),
        }
        if spec.dataset not in makers:
            return records.empty(spec)
        frame = makers[spec.dataset]()
        return records.conform(spec, frame) if frame.width else records.empty(spec)


class PlantedSource:
    def __init__(self, plant: Plant):
        self.plant = plant
        self.T = plant.T

    def seqs(self, dataset: str, cutoff: dt.date) -> list[int]:
        latest = self.plant.cutoff(self.T - 1)
        if dataset == "mz_household" and cutoff == latest and any(h.latest_variants for h in self.plant.households):
            return [1, 2]
        return [1]

    def frame(self, spec: Contract, cutoff: dt.date, seq: int = 1) -> pl.DataFrame:
        p = self.plant
        k = p.schedule.monthly.index(cutoff) if cutoff in p.schedule.monthly else -1
        rows: list[dict[str, Any]]
        if spec.dataset == "mz_household":
            rows = [r for h in p.households if (r := self._household_row(h, k, seq)) is not None]
        elif spec.dataset == "mz_member":
            rows = [r for h in p.households for r in self._member_rows(h, k)]
        elif spec.dataset == "nync_monitored":
            rows = [self._nync_row(r, k) for r in p.nync]
        elif spec.dataset == "cl_disability":
            rows = [row for since, row in p.certificates if since <= k]
        elif spec.dataset in p.snapshot_rows:
            rows = [row for since, until, row in p.snapshot_rows[spec.dataset] if since <= k < until]
        else:
            rows = [row for c, row in p.increments.get(spec.dataset, []) if c == cutoff]
            if spec.dataset == "mz_payment":
                rows += self._auto_payments(k)
        return records.from_rows(spec, rows)

    def _household_row(self, h: Household, k: int, seq: int) -> dict[str, Any] | None:
        state = h.state(k)
        if state is None:
            return None
        if k == self.T - 1 and seq in h.latest_variants:
            variant = h.latest_variants[seq]
            if variant is None:
                return None
            state = {**state, **variant}
        members = h.members_at(k)
        head = next(m.person for m, rel in members if rel == "户主")
        in_force_poor = state["status"] == "在保" and state["category"] in POOR
        return {  # a change may also move the household or give it a new 认定日期 (synthetic/quirks.py)
            "household_id": h.hid, "region_code": state.get("village", h.village),
            "urban_rural": state.get("urban_rural", h.urban_rural), "head_name": head.name,
            "head_id": head.id18, "category": state["category"], "status": state["status"],
            "recognised_on": state.get("recognised_on", h.recognised_on), "exited_on": state["exited_on"],
            "member_count": h.member_count or len(members), "annual_income": state["income"],
            "monthly_benefit": h.benefit if in_force_poor else None, "phone": None,
        }  # fmt: skip

    def _member_rows(self, h: Household, k: int) -> list[dict[str, Any]]:
        if h.state(k) is None:
            return []
        return [
            {
                "household_id": h.hid,
                "name": m.person.name,
                "id_number": m.person.id18,
                "relation": rel,
                "labour_capacity": m.labour,
                "health": m.health,
                "individual_cover": m.cover,
            }  # fmt: skip
            for m, rel in h.members_at(k)
        ]

    def _nync_row(self, row: dict[str, Any], k: int) -> dict[str, Any]:
        risk = "已消除" if row["risk_status"] == "已消除" or k >= row["cleared_k"] else "未消除"
        return {**{f: v for f, v in row.items() if f != "cleared_k"}, "risk_status": risk}

    def _auto_payments(self, k: int) -> list[dict[str, Any]]:
        p = self.plant
        out = []
        for h in p.households:
            state = h.state(k)
            if not h.auto_pay or state is None or state["status"] != "在保" or state["category"] not in POOR:
                continue
            head = next(m.person for m, rel in h.members_at(k) if rel == "户主")
            out.append({
                "payment_id": f"FFA{h.hid[-8:]}{k:03d}", "period": p.month(k), "household_id": h.hid,
                "id_number": head.id18,
                "programme": "特困供养金" if state["category"] == "特困人员" else "低保金", "amount": h.benefit,
                "paid_on": p.month(k) + dt.timedelta(days=12),
            })  # fmt: skip
        return out


class ApplicationSource:
    """Applications and their members (background and planted), by weekly delivery."""

    def __init__(self, applicants: list[Applicant]):
        self.by_cutoff: dict[dt.date, list[Applicant]] = {}
        for a in applicants:
            self.by_cutoff.setdefault(a.cutoff, []).append(a)

    def frame(self, spec: Contract, cutoff: dt.date) -> pl.DataFrame:
        apps = self.by_cutoff.get(cutoff, [])
        if spec.dataset == "mz_application":
            return records.from_rows(spec, [a.app for a in apps])
        return records.from_rows(spec, [m for a in apps for m in a.members])
