"""Background increments: settlements, payments, contributions, unemployment, deaths, disasters,
student aid and housing aid, one delivery at a time.

Safety margins (why the background never raises a warning; truth_check.py verifies it):
- settlements: at most ¥200 self-paid each, one a month at most per person (≤ ¥2,400 a year), so no
  household reaches W01's floor, nobody reaches W08(c)'s ¥5,000 or D01's ¥50,000;
- members of households that leave 特困/低保 have no settlements (their exit review is on income only);
- payments go to in-force 特困/低保 households; a dead payee is removed from the roster within two
  snapshots, so no payment month starts more than a month after a death (W06);
- employee-scheme contributions only for members of households that are never 特困/低保 (W05), and
  they never stop (W03(b)); monitored people register as unemployed only ≥ 4 months before the run
  date (W03(a)); the public may do anything (it is not monitored);
- disasters only for the public, never 倒塌/严重损坏 and always below ¥25,000 (D02).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from synthetic.background_rosters import Rosters
from synthetic.calendar import Schedule, add_months, age_on, month_start, previous_school_year, school_year
from synthetic.population import Population
from synthetic.rand import day, stream

EMPLOYERS = (
    "山东鲁信实业有限公司", "济南华泰建材有限公司", "青岛海通物流有限公司", "潍坊恒远机械厂",
    "临沂金源食品有限公司", "淄博新材科技有限公司", "烟台港湾服务有限公司", "济宁宏达纺织有限公司",
)  # fmt: skip
CAUSES = ("心脑血管疾病", "恶性肿瘤", "呼吸系统疾病", "意外伤害", "其他疾病", "")
HAZARDS = ("洪涝", "台风", "干旱", "地震", "风雹", "低温冷冻", "雪灾", "火灾", "地质灾害", "其他")
AID_BY_STAGE = {
    "学前教育": ("学前教育幼儿资助", 100000), "义务教育": ("生活补助", 62500), "普通高中": ("国家助学金", 100000),
    "中等职业教育": ("免学费", 200000), "高等教育": ("国家助学金", 330000),
}  # fmt: skip


def age_expr(birth: pl.Expr, on: dt.date) -> pl.Expr:
    """Completed years on `on` (vectorised calendar.age_on)."""
    before = (birth.dt.month() > on.month) | ((birth.dt.month() == on.month) & (birth.dt.day() > on.day))
    return on.year - birth.dt.year().cast(pl.Int64) - before.cast(pl.Int64)


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int64)).cast(pl.Date)


def _stage(age: int, u: float) -> str:
    if age < 6:
        return "学前教育"
    if age < 15:
        return "义务教育"
    if age < 18:
        return "中等职业教育" if u < 0.3 else "普通高中"
    return "高等教育"


class Events:
    def __init__(self, seed: int, schedule: Schedule, pop: Population, rosters: Rosters, county_names: dict[str, str]):
        self.seed = seed
        self.schedule = schedule
        self.pop = pop
        self.rosters = rosters
        self.county_names = county_names
        self.H = pop.households.height
        self._last_settlements: pl.DataFrame | None = None
        self._last_k = -1
        persons = pop.persons
        exit_members = pop.members.join(
            pop.households.filter(pl.col("exit_kind") != "").select("hid"), on="hid", how="semi", maintain_order="left"
        ).select("pid")
        deaths = pop.deaths.select("pid", "died_on")
        self.patients = (
            persons.join(exit_members, on="pid", how="anti", maintain_order="left")
            .join(deaths, on="pid", how="left", maintain_order="left")
            .join(pop.members.select("pid", "category0"), on="pid", how="left", maintain_order="left")
            .select(
                "pid",
                "id18",
                "name",
                "county",
                "died_on",
                poor=pl.col("category0").is_in(["特困人员", "最低生活保障"]).fill_null(False),
            )
        )
        self.contributors = self._contributors()
        self.registrations = self._registrations()
        self.death_records = self._death_records()

    def rng(self, *names: object) -> np.random.Generator:
        return stream(self.seed, "events", *names)

    def _k(self, cutoff: dt.date) -> int:
        return self.schedule.monthly.index(cutoff)

    # --- ybj_settlement ---------------------------------------------------------------------------------
    def settlements(self, cutoff: dt.date) -> pl.DataFrame:
        k = self._k(cutoff)
        if k != self._last_k + 1:
            raise RuntimeError("settlement deliveries must be generated in cut-off order")
        rng = self.rng("settlements", k)
        first = max(month_start(cutoff), self.schedule.window_start)
        alive = self.patients.filter(pl.col("died_on").is_null() | (pl.col("died_on") > cutoff))
        base = alive.filter(pl.Series(rng.random(alive.height) < 0.1))
        n = base.height
        self_paid = rng.integers(500, 20001, n)
        fund = (self_paid * rng.uniform(0.5, 4.0, n)).astype(np.int64)
        critical = np.where(rng.random(n) < 0.08, (self_paid * rng.uniform(0.1, 0.5, n)).astype(np.int64), 0)
        aid = np.where(
            base["poor"].to_numpy() & (rng.random(n) < 0.5), (self_paid * rng.uniform(0.1, 0.6, n)).astype(np.int64), 0
        )
        total = self_paid + fund + critical + aid + np.where(rng.random(n) < 0.003, 100, 0)  # a few parts mismatches
        settled = _dates(day(first) + (rng.random(n) * ((cutoff - first).days + 1)).astype(np.int64))
        visit = np.array(["普通门诊", "门诊慢特病", "住院"])[rng.choice(3, n, p=(0.7, 0.2, 0.1))]
        counties = base["county"].to_list()
        provider = [
            f"{self.county_names.get(c, '')}{'人民医院' if u < 0.6 else '中医医院'}"
            for c, u in zip(counties, rng.random(n))
        ]
        frame = pl.DataFrame(
            {
                "settlement_id": [f"JS{cutoff:%Y%m}{i:07d}" for i in range(n)],
                "id_number": base["id18"],
                "name": base["name"],
                "insured_region": pl.Series(counties).zip_with(
                    pl.Series(rng.random(n) < 0.85), pl.Series([None] * n, dtype=pl.String)
                ),
                "visit_type": visit,
                "provider": provider,
                "settled_on": settled,
                "total_cost": total,
                "fund_paid": fund,
                "critical_illness_paid": critical,
                "medical_aid_paid": aid,
                "self_paid": self_paid,
                "settlement_type": ["正常"] * n,
                "original_settlement_id": pl.Series([None] * n, dtype=pl.String),
            }
        )
        parts = [frame, self._reversals(frame, rng, cutoff, "R", 0.01)]
        if self._last_settlements is not None:
            parts.append(self._reversals(self._last_settlements, rng, cutoff, "P", 0.005, first))
        parts.append(self._orphans(frame, rng, cutoff))
        self._last_settlements, self._last_k = frame, k
        return pl.concat(parts)

    @staticmethod
    def _reversals(
        frame: pl.DataFrame,
        rng: np.random.Generator,
        cutoff: dt.date,
        tag: str,
        share: float,
        first: dt.date | None = None,
    ) -> pl.DataFrame:
        picked = frame.filter(pl.Series(rng.random(frame.height) < share))
        amounts = ["total_cost", "fund_paid", "critical_illness_paid", "medical_aid_paid", "self_paid"]
        start = pl.col("settled_on") if first is None else pl.lit(first)
        return picked.with_columns(
            settlement_id=pl.lit(f"JS{cutoff:%Y%m}{tag}") + pl.int_range(pl.len()).cast(pl.String).str.zfill(6),
            original_settlement_id=pl.col("settlement_id"),
            settlement_type=pl.lit("冲销"),
            settled_on=pl.min_horizontal(start + pl.duration(days=3), pl.lit(cutoff)),
            **{a: -pl.col(a) for a in amounts},
        )

    @staticmethod
    def _orphans(frame: pl.DataFrame, rng: np.random.Generator, cutoff: dt.date) -> pl.DataFrame:
        """Reversals whose original never arrived: they count their own (small, negative) amounts."""
        picked = frame.filter(pl.Series(rng.random(frame.height) < 0.002))
        amounts = ["total_cost", "fund_paid", "critical_illness_paid", "medical_aid_paid", "self_paid"]
        return picked.with_columns(
            settlement_id=pl.lit(f"JS{cutoff:%Y%m}X") + pl.int_range(pl.len()).cast(pl.String).str.zfill(6),
            original_settlement_id=pl.lit(f"JS{add_months(cutoff, -14):%Y%m}L")
            + pl.int_range(pl.len()).cast(pl.String).str.zfill(6),
            settlement_type=pl.lit("冲销"),
            **{a: -(pl.col(a) // 2) for a in amounts},
        )

    # --- mz_payment -------------------------------------------------------------------------------------
    def payments(self, cutoff: dt.date) -> pl.DataFrame:
        k = self._k(cutoff)
        rng = self.rng("payments", k)
        period = month_start(cutoff)
        hh = self.rosters.household_frame(k).filter(
            (pl.col("status") == "在保") & pl.col("category").is_in(["特困人员", "最低生活保障"])
        )
        regular = hh.select(
            household_id=pl.col("household_id"),
            id_number=pl.col("head_id"),
            programme=pl.when(pl.col("category") == "特困人员").then(pl.lit("特困供养金")).otherwise(pl.lit("低保金")),
            amount=pl.col("monthly_benefit"),
            period=pl.lit(period),
            rural=pl.col("urban_rural") == "农村",
        )
        members = self.rosters.members_at(k).select("hid", "pid", "id18")
        holders = (
            self.rosters.subsidy_holders()
            .filter(pl.col("issued_k") <= k)
            .join(members, on="pid", maintain_order="left")
        )
        subsidy = holders.select(
            household_id=pl.col("hid"), id_number=pl.col("id18"), programme=pl.lit("残疾人两项补贴"),
            amount=pl.Series(rng.integers(100, 301, holders.height) * 100), period=pl.lit(period), rural=pl.lit(False),
        )  # fmt: skip
        parts = [regular, subsidy]
        if cutoff.month in (11, 12, 1, 2):
            heat = regular.filter(pl.col("rural") & pl.Series(rng.random(regular.height) < 0.3))
            parts.append(heat.with_columns(programme=pl.lit("取暖补贴"), amount=pl.lit(30000, dtype=pl.Int64)))
        temp = regular.filter(pl.Series(rng.random(regular.height) < 0.004))
        parts.append(temp.with_columns(programme=pl.lit("临时救助金"), amount=pl.lit(150000, dtype=pl.Int64)))
        dibao = regular.filter(pl.col("programme") == "低保金")
        back = dibao.filter(pl.Series(rng.random(dibao.height) < 0.003))  # recovered overpayments
        parts.append(
            back.with_columns(amount=-(pl.col("amount") // 2), period=pl.lit(month_start(add_months(period, -1))))
        )
        frame = pl.concat(parts).drop("rural")
        n = frame.height
        paid = _dates(day(period) + rng.integers(4, min(25, cutoff.day), n))
        return frame.with_columns(payment_id=pl.Series([f"FF{cutoff:%Y%m}{i:08d}" for i in range(n)]), paid_on=paid)

    # --- rsj_contribution -------------------------------------------------------------------------------
    def _contributors(self) -> pl.DataFrame:
        rng = self.rng("contributors")
        T = len(self.schedule.monthly)
        run = self.schedule.run_date
        m = self.pop.members.join(self.pop.persons.select("pid", "id18", "name"), on="pid", maintain_order="left")
        never_poor = ~pl.col("category0").is_in(["特困人员", "最低生活保障"])
        employed = m.filter(never_poor & (pl.col("labour") == "有劳动能力") & pl.col("age").is_between(18, 55))
        employed = employed.filter(pl.Series(rng.random(employed.height) < 0.5))
        poor = m.filter(~never_poor & pl.col("age").is_between(17, 58))
        resident = poor.filter(pl.Series(rng.random(poor.height) < 0.2))
        public = self.pop.persons.filter(pl.col("role") == "public")
        public = public.filter(age_expr(pl.col("birth"), run).is_between(18, 58))
        public = public.filter(pl.Series(rng.random(public.height) < 0.35))
        n_e, n_r, n_p = employed.height, resident.height, public.height
        u = rng.random(n_p)
        start = np.where(u < 0.15, rng.integers(1, max(T, 2), n_p), 0)
        stop = np.where((u >= 0.15) & (u < 0.45), rng.integers(1, max(T, 2), n_p), T)
        frames = [
            employed.select("pid", "id18", "name").with_columns(
                scheme=pl.Series(np.where(rng.random(n_e) < 0.9, "企业职工基本养老保险", "机关事业单位养老保险")),
                base=pl.Series(rng.integers(3500, 9001, n_e) * 100),
                start_k=pl.lit(0), stop_k=pl.lit(T), skip=pl.lit(False),
            ),
            resident.select("pid", "id18", "name").with_columns(
                scheme=pl.lit("城乡居民基本养老保险"), base=pl.Series(rng.integers(100, 301, n_r) * 100),
                start_k=pl.lit(0), stop_k=pl.lit(T), skip=pl.Series(rng.random(n_r) < 0.5),
            ),
            public.select("pid", "id18", "name").with_columns(
                scheme=pl.Series(np.where(rng.random(n_p) < 0.85, "企业职工基本养老保险", "机关事业单位养老保险")),
                base=pl.Series(rng.integers(3000, 15001, n_p) * 100), start_k=pl.Series(start), stop_k=pl.Series(stop),
                skip=pl.Series(u > 0.9),
            ),
        ]  # fmt: skip
        cast = {"start_k": pl.Int64, "stop_k": pl.Int64, "base": pl.Int64}
        return pl.concat([f.cast(cast) for f in frames]).with_columns(
            employer=pl.Series(np.array(EMPLOYERS)[rng.integers(0, len(EMPLOYERS), n_e + n_r + n_p)])
        )

    def contributions(self, cutoff: dt.date) -> pl.DataFrame:
        k = self._k(cutoff)
        rows = self.contributors.filter(
            (pl.col("start_k") <= k) & (pl.col("stop_k") > k) & ~(pl.col("skip") & (pl.lit(k) % 3 == 1))
        )
        resident = pl.col("scheme") == "城乡居民基本养老保险"
        return rows.select(
            id_number=pl.col("id18"),
            name=pl.col("name"),
            period=pl.lit(month_start(cutoff)),
            scheme=pl.col("scheme"),
            wage_base=pl.col("base"),
            employer=pl.when(resident).then(None).otherwise(pl.col("employer")),
        )

    # --- rsj_unemployment -------------------------------------------------------------------------------
    def _registrations(self) -> pl.DataFrame:
        rng = self.rng("registrations")
        run = self.schedule.run_date
        start = day(self.schedule.window_start)
        latest_safe = day(add_months(run, -4))  # monitored people: well before W03(a)'s 3-month window
        working = age_expr(pl.col("birth"), run).is_between(20, 55)
        persons = self.pop.persons.filter(working)
        public = (persons["role"] == "public").to_numpy()
        share = np.where(public, 0.04, 0.01)
        picked = rng.random(persons.height) < share
        persons, public = persons.filter(pl.Series(picked)), public[picked]
        n = persons.height
        last = np.where(public, day(run) - 1, latest_safe)
        registered = start + (rng.random(n) * np.maximum(last - start, 1)).astype(np.int64)
        closes = rng.random(n) < 0.5
        closed = np.where(closes, registered + rng.integers(20, 200, n), -1)
        return persons.select("pid", "id18", "name", "county").with_columns(
            registration_id=pl.Series([f"SY{c}{i:07d}" for i, c in enumerate(persons["county"].to_list())]),
            registered_on=_dates(registered),
            closed_on=pl.when(pl.Series(closed > 0)).then(pl.Series(closed).cast(pl.Date)).otherwise(None),
            close_reason=pl.Series(
                np.array(["就业创业", "达到退休年龄", "其他"])[rng.choice(3, n, p=(0.8, 0.05, 0.15))]
            ),
            receives_benefit=pl.Series(np.array(["是", "否", ""])[rng.integers(0, 3, n)]),
        )

    def unemployment(self, cutoff: dt.date) -> pl.DataFrame:
        start = month_start(cutoff)
        regs = self.registrations
        in_month = lambda c: (pl.col(c) >= start) & (pl.col(c) <= cutoff)  # noqa: E731
        closed_by_now = pl.col("closed_on").is_not_null() & (pl.col("closed_on") <= cutoff)
        first = regs.filter(in_month("registered_on")).with_columns(
            closed_on=pl.when(closed_by_now).then(pl.col("closed_on")).otherwise(None)
        )
        later = regs.filter(in_month("closed_on") & (pl.col("registered_on") < start))
        rows = pl.concat([first, later])
        return rows.select(
            registration_id=pl.col("registration_id"),
            id_number=pl.col("id18"),
            name=pl.col("name"),
            registered_on=pl.col("registered_on"),
            closed_on=pl.col("closed_on"),
            close_reason=pl.when(pl.col("closed_on").is_not_null()).then(pl.col("close_reason")).otherwise(None),
            receives_benefit=pl.when(pl.col("receives_benefit") == "").then(None).otherwise(pl.col("receives_benefit")),
        )

    # --- wjw_death / mz_cremation -----------------------------------------------------------------------
    def _death_records(self) -> pl.DataFrame:
        rng = self.rng("death_records")
        deaths = self.pop.deaths.join(
            self.pop.persons.select("pid", "id18", "name", "county"), on="pid", maintain_order="left"
        )
        n = deaths.height
        died = deaths["died_on"].cast(pl.Int64).to_numpy()
        u = rng.random(n)
        has_wjw, has_crem = u < 0.85, (u >= 0.85) | (rng.random(n) < 0.75)
        cremated = died + rng.integers(1, 6, n)
        weekly = np.array([day(w) for w in self.schedule.weekly], dtype=np.int64)

        def delivery(ready: np.ndarray) -> np.ndarray:
            i = np.searchsorted(weekly, ready)
            return np.where(i < len(weekly), weekly[np.minimum(i, len(weekly) - 1)], -1)

        return deaths.with_columns(
            wjw_cutoff=pl.Series(np.where(has_wjw, delivery(died + rng.integers(0, 15, n)), -1)),
            crem_cutoff=pl.Series(np.where(has_crem, delivery(cremated + rng.integers(0, 29, n)), -1)),
            cremated_on=_dates(cremated),
            cause=pl.Series(np.array(CAUSES)[rng.integers(0, len(CAUSES), n)]),
            seq=pl.int_range(0, n),
        )

    def deaths(self, cutoff: dt.date) -> pl.DataFrame:
        rows = self.death_records.filter(pl.col("wjw_cutoff") == day(cutoff))
        return rows.select(
            certificate_id=pl.lit("SW") + pl.col("county") + pl.col("seq").cast(pl.String).str.zfill(7),
            name=pl.col("name"),
            id_number=pl.col("id18"),
            died_on=pl.col("died_on"),
            cause=pl.when(pl.col("cause") == "").then(None).otherwise(pl.col("cause")),
        )

    def cremations(self, cutoff: dt.date) -> pl.DataFrame:
        rows = self.death_records.filter(pl.col("crem_cutoff") == day(cutoff))
        homes = {c: f"{n}殡仪馆" for c, n in self.county_names.items()}
        return rows.select(
            cremation_id=pl.lit("HH") + pl.col("county") + pl.col("seq").cast(pl.String).str.zfill(7),
            name=pl.col("name"),
            id_number=pl.col("id18"),
            died_on=pl.col("died_on"),
            cremated_on=pl.col("cremated_on"),
            funeral_home=pl.col("county").replace_strict(homes, default=None),
        )

    # --- yjj_disaster -----------------------------------------------------------------------------------
    def disasters(self, cutoff: dt.date) -> pl.DataFrame:
        rng = self.rng("disasters", cutoff)
        public = self.pop.persons.filter(pl.col("role") == "public")
        n = max(1, round(self.H * 0.0004))
        heads = public.gather(rng.integers(0, public.height, n))
        occurred = _dates(day(cutoff) - rng.integers(0, 7, n))
        return pl.DataFrame(
            {
                "relief_id": [f"ZH{cutoff:%Y%m%d}{i:05d}" for i in range(n)],
                "hazard": np.array(HAZARDS)[rng.integers(0, len(HAZARDS), n)],
                "occurred_on": occurred,
                "head_name": heads["name"],
                "head_id": heads["id18"],
                "region_code": heads["village"],
                "people_affected": rng.integers(1, 6, n),
                "house_damage": np.where(rng.random(n) < 0.4, "一般损坏", "无"),
                "loss": rng.integers(500, 25001, n) * 100,
                "relief_paid": np.where(rng.random(n) < 0.5, rng.integers(200, 3001, n) * 100, 0),
            }
        )

    # --- jyt_student_aid --------------------------------------------------------------------------------
    def student_aid(self, cutoff: dt.date) -> pl.DataFrame:
        """Every aided child gets a record each term, except in a previous school year when the current
        one has no delivery yet (then no child could show aid last year and none this year: W08(b))."""
        rng = self.rng("student_aid", cutoff)
        year = school_year(cutoff)
        years = self.schedule.school_years
        current = school_year(self.schedule.run_date)
        following = f"{int(year[:4]) + 1}-{int(year[:4]) + 2}"
        if not (year == current or following in years):
            return pl.DataFrame()
        children = self.pop.persons.filter(pl.col("role").is_in(["member", "public"]))
        aided = children.filter(pl.Series(stream(self.seed, "aided").random(children.height) < 0.7))
        ages = [age_on(b, cutoff) for b in aided["birth"].to_list()]
        keep = [3 <= a <= 24 for a in ages]
        aided = aided.filter(pl.Series(keep))
        ages = [a for a, k in zip(ages, keep) if k]
        u = stream(self.seed, "stage").random(len(ages))
        stages = [_stage(a, x) for a, x in zip(ages, u)]
        n = aided.height
        return pl.DataFrame(
            {
                "aid_id": [f"ZZ{cutoff:%Y%m}{i:07d}" for i in range(n)],
                "name": aided["name"],
                "id_number": aided["id18"],
                "stage": stages,
                "school": [
                    f"{self.county_names.get(c, '')}{'第一' if x < 0.5 else '实验'}学校"
                    for c, x in zip(aided["county"].to_list(), rng.random(n))
                ],
                "aid_type": [AID_BY_STAGE[s][0] for s in stages],
                "amount": [AID_BY_STAGE[s][1] for s in stages],
                "school_year": [year] * n,
            },
            schema_overrides={"amount": pl.Int64},
        )

    # --- zjt_housing_aid --------------------------------------------------------------------------------
    def housing_aid(self, cutoff: dt.date) -> pl.DataFrame:
        rng = self.rng("housing", cutoff)
        k = self._k(cutoff)
        hh = self.rosters.household_frame(k)
        picked = hh.filter(pl.Series(rng.random(hh.height) < 0.006))
        if picked.height == 0:
            picked = hh.head(1)
        n = picked.height
        rural = (picked["urban_rural"] == "农村").to_numpy()
        kind = np.where(rural, "农村危房改造", np.where(rng.random(n) < 0.5, "公租房实物配租", "租赁补贴"))
        starts = _dates(day(add_months(cutoff, -3)) + rng.integers(1, 90, n))
        return pl.DataFrame(
            {
                "record_id": [f"ZF{cutoff:%Y%m}{i:06d}" for i in range(n)],
                "name": picked["head_name"],
                "id_number": picked["head_id"],
                "aid_type": kind,
                "amount": pl.Series(rng.integers(3000, 30001, n) * 100).zip_with(
                    pl.Series(kind != "公租房实物配租"), pl.Series([None] * n, dtype=pl.Int64)
                ),
                "starts_on": starts,
                "ends_on": pl.Series([None] * n, dtype=pl.Date),
            }
        )

    def previous_school_year(self) -> str:
        return previous_school_year(school_year(self.schedule.run_date))
