"""Every delivery of the history: assemble its frame, pick its file style, write it, record the outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from ingestion.contracts import Contract, all_contracts
from ingestion.settings import DataRoot
from synthetic import records
from synthetic.applications import Applicant
from synthetic.background_events import Events
from synthetic.background_holdings import Holdings
from synthetic.background_rosters import Rosters
from synthetic.calendar import Schedule
from synthetic.messy import choose_style
from synthetic.people import PlantedPeople
from synthetic.plant import ExpectedIdentification, ExpectedWarning, Plant
from synthetic.quirks import DeliveryQuirks
from synthetic.rand import stream
from synthetic.rejects import BadRows
from synthetic.sources import ApplicationSource, BackgroundSource, PlantedSource
from synthetic.store import RecordStore
from synthetic.truth import Landing, write_truth
from synthetic.writers import BadRow, Written, write_delivery

DELIVERED = (  # every dataset except feedback, which comes back from staff later; the order the generator writes them
    "mz_household", "mz_member", "mz_payment", "mz_application", "mz_application_member",
    "wjw_death", "mz_cremation", "ybj_settlement", "rsj_unemployment", "rsj_contribution",
    "yjj_disaster", "nync_monitored", "cl_disability", "jyt_student_aid", "zjt_housing_aid",
    "gaj_vehicle", "zrzy_property", "scjg_business",
)  # fmt: skip

XLSX_LIMIT = 5_000  # rows: larger deliveries are CSV (xlsxwriter writes only ~50k cells a second)
TITLES = {
    "mz_household": "低收入人口家庭名册", "mz_member": "低收入人口家庭成员", "mz_payment": "救助金发放明细",
    "mz_application": "低收入人口认定申请", "mz_application_member": "认定申请家庭成员", "wjw_death": "死亡医学证明",
    "mz_cremation": "殡葬火化信息", "ybj_settlement": "医保结算明细", "rsj_unemployment": "失业登记",
    "rsj_contribution": "社会保险缴费", "yjj_disaster": "受灾人员救助", "nync_monitored": "防止返贫监测对象",
    "cl_disability": "持证残疾人", "jyt_student_aid": "学生资助", "zjt_housing_aid": "住房救助保障",
    "gaj_vehicle": "机动车登记信息", "zrzy_property": "不动产登记信息", "scjg_business": "市场主体登记信息",
}  # fmt: skip


class Deliveries:
    def __init__(
        self, root: DataRoot, seed: int, schedule: Schedule, plant: Plant, rosters: Rosters, events: Events,
        holdings: Holdings, applicants: list[Applicant], people: PlantedPeople, counties: list[str],
        store: RecordStore | None, quirks: DeliveryQuirks | None = None,
    ) -> None:  # fmt: skip
        self.root, self.seed, self.schedule, self.store = root, seed, schedule, store
        self.quirks = quirks or DeliveryQuirks()
        self.specs = all_contracts()
        self.background = BackgroundSource(schedule, rosters, events, holdings)
        self.planted = PlantedSource(plant)
        self.apps = ApplicationSource(applicants)
        latest = schedule.monthly[-1]
        avoid = {("mz_household", latest), *self.quirks.late}  # a late delivery's rows come with the next one
        self.bad = BadRows(schedule, people, stream(seed, "bad rows"), counties, avoid=avoid)
        self.landings: list[Landing] = []
        self.rejections: list[tuple[str, int, str, str]] = []
        self.holds: list[tuple[str, str, str]] = []
        self.styles: list[dict[str, Any]] = []
        self._i = 0
        self._last_frame = pl.DataFrame()
        self._background: tuple[str, dt.date, pl.DataFrame] | None = None

    # --- one delivery -----------------------------------------------------------------------------------------
    def frame(self, spec: Contract, cutoff: dt.date, seq: int) -> pl.DataFrame:
        if spec.dataset in ("mz_application", "mz_application_member"):
            frame = self.apps.frame(spec, cutoff)
        else:
            frame = pl.concat([self._background_frame(spec, cutoff), self.planted.frame(spec, cutoff, seq)])
        return self.quirks.edit(spec, cutoff, seq, frame)

    def _background_frame(self, spec: Contract, cutoff: dt.date) -> pl.DataFrame:
        """Built once per delivery (a re-delivery `_2` starts from the same rows; increments are made in order)."""
        if self._background is None or self._background[:2] != (spec.dataset, cutoff):
            self._background = (spec.dataset, cutoff, self.background.frame(spec, cutoff))
        return self._background[2]

    def file_name(self, dataset: str, cutoff: dt.date, seq: int, fmt: str) -> str:
        rng = stream(self.seed, "placement", dataset, cutoff, seq)
        suffix = f"_{seq}" if seq > 1 or rng.random() < 0.05 else ""
        name = f"{dataset}_{cutoff:%Y%m%d}{suffix}.{fmt}"
        return f"{dataset}/{name}" if rng.random() < 0.4 else name

    def write(
        self, spec: Contract, cutoff: dt.date, seq: int, frame: pl.DataFrame, bad: list[BadRow], status: str = "landed"
    ) -> Written:
        rows = frame.height + len(bad)
        style = choose_style(self._i, rows, stream(self.seed, "style", spec.dataset, cutoff, seq), XLSX_LIMIT)
        self._i += 1
        name = self.file_name(spec.dataset, cutoff, seq, style.fmt)
        rng = stream(self.seed, "file", name)
        extras = self.quirks.extras(spec.dataset, cutoff, seq)
        written = write_delivery(
            self.root.inbox, name, spec, TITLES[spec.dataset], cutoff, frame, bad, style, rng, extras
        )
        rejected = len(written.rejections)
        self.landings.append(
            Landing(name, spec.dataset, cutoff.isoformat(), str(seq), status, rows, rows - rejected, rejected)
        )
        self.rejections += [(r.file_name, r.data_row, r.column, r.reason) for r in written.rejections]
        self.styles.append({"file_name": name, **style.describe()})
        return written

    # --- the whole history ----------------------------------------------------------------------------------------
    def write_all(self, bad_deliveries: bool) -> None:
        for dataset in DELIVERED:
            spec = self.specs[dataset]
            late: pl.DataFrame | None = None  # rows of a delivery the department did not send on time
            for cutoff in self.schedule.cutoffs(spec.frequency):
                seqs = self.quirks.seqs(dataset, cutoff, self.planted.seqs(dataset, cutoff))
                if (dataset, cutoff) in self.quirks.late:  # its increments come with the next delivery
                    late = self.frame(spec, cutoff, 1) if spec.kind == "increment" else None
                    continue
                carried, late = late, None
                for seq in seqs:
                    frame = self.frame(spec, cutoff, seq)
                    if carried is not None:  # two months at once
                        frame = pl.concat([carried, frame])
                    bad = self.bad.for_delivery(dataset, cutoff) if seq == 1 else []
                    if frame.height == 0 and not bad:
                        frame = records.from_rows(spec, [self.bad.filler(dataset, cutoff)])
                    status = "superseded" if seq < max(seqs) else "landed"
                    self.write(spec, cutoff, seq, frame, bad, status)
                    self._last_frame = frame
                    if self.store is not None:
                        self.store.put(dataset, cutoff, seq, frame)
            if bad_deliveries:
                self._bad_delivery(spec)
        self._not_a_dataset()

    def _not_a_dataset(self) -> None:
        name = f"mz_houshold_{self.schedule.run_date:%Y%m%d}.csv"  # a typo: matches no dataset
        (self.root.inbox / name).write_text("家庭编号,行政区划代码\n", encoding="utf-8")
        self.landings.append(Landing(name, "", "", "", "not_a_dataset", 0, 0, 0))

    # --- deliveries the data-quality checks must hold back (optional) -------------------------------------------
    PROBLEMS = {"mz_member": "truncated", "ybj_settlement": "amounts_x100", "mz_payment": "duplicate_keys"}

    def _bad_delivery(self, spec: Contract) -> None:
        problem = self.PROBLEMS.get(spec.dataset)
        if problem is None:
            return
        cutoff = self.schedule.monthly[-1]
        seq = max(self.planted.seqs(spec.dataset, cutoff)) + 1
        rng = stream(self.seed, "bad delivery", spec.dataset)
        frame = self._last_frame  # the last good delivery of this dataset (the latest cut-off)
        if problem == "truncated":
            frame = frame.filter(pl.Series(rng.random(frame.height) >= 0.4))
        elif problem == "amounts_x100":
            frame = frame.with_columns(pl.col(c.field) * 100 for c in spec.columns if c.kind == "amount")
        else:
            frame = pl.concat([frame, frame.filter(pl.Series(rng.random(frame.height) < 0.05))])
        for i, landing in enumerate(
            self.landings
        ):  # the good delivery is superseded at landing, then restored by the hold
            if (
                landing.dataset == spec.dataset
                and landing.cutoff_date == cutoff.isoformat()
                and landing.status == "landed"
            ):
                self.landings[i] = Landing(**{**landing.__dict__, "status": "superseded"})
        written = self.write(spec, cutoff, seq, frame, [])
        self.holds.append((written.file_name, spec.dataset, problem))

    def write_truth(
        self, warnings: list[ExpectedWarning], identifications: list[ExpectedIdentification], manifest: dict[str, Any]
    ) -> dict[str, int]:
        return write_truth(
            self.root.truth, warnings, identifications, self.rejections, self.landings, self.holds, manifest
        )
