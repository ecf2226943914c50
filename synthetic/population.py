"""Background population: persons, civil-affairs households and their members, 防返贫 heads.

Everything here is vectorised (numpy/polars) so 800,000 households take seconds. Background values are
kept safely away from every rule threshold (see docs in scenarios.py and truth_check.py): the planted
scenarios are the only source of warnings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic import people
from synthetic.calendar import Schedule
from synthetic.rand import day, stream

CATEGORIES = ("最低生活保障", "特困人员", "低保边缘家庭", "刚性支出困难家庭", "其他困难人员", "防止返贫监测对象")
CATEGORY_P = (0.66, 0.14, 0.10, 0.05, 0.03, 0.02)
SIZE_P = (0.22, 0.30, 0.20, 0.15, 0.09, 0.04)
RELATIONS_LATER = ("子女", "父母", "孙子女", "兄弟姐妹", "其他")
RELATIONS_LATER_P = (0.70, 0.10, 0.15, 0.03, 0.02)
HEALTH = ("健康", "慢性病", "重病", "残疾", "")
HEALTH_P = (0.55, 0.25, 0.08, 0.10, 0.02)
EXIT_KINDS = ("absent", "停保", "退出", "低保边缘家庭")
NEVER = 10_000  # a snapshot index beyond every schedule


@dataclass
class Population:
    persons: pl.DataFrame  # pid, id18, name, birth, male, role, county, village
    households: pl.DataFrame  # one row per civil-affairs household with its timeline
    members: pl.DataFrame  # hid, pid, idx, relation, labour, health, cover, remove_k, died_on
    nync: pl.DataFrame  # 防返贫 heads with their timeline
    deaths: pl.DataFrame  # pid, died_on, kind (member | public)


def _pick_villages(villages: pl.DataFrame, counties: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random village inside each given county (row indexes into `villages`)."""
    table = (
        villages.with_row_index("i")
        .group_by("county", maintain_order=True)
        .agg(pl.col("i").min().alias("first"), pl.len().alias("n"))
    )
    lookup = dict(zip(table["county"].to_list(), zip(table["first"].to_list(), table["n"].to_list())))
    first = np.array([lookup[c][0] for c in counties], dtype=np.int64)
    count = np.array([lookup[c][1] for c in counties], dtype=np.int64)
    return first + (rng.random(len(counties)) * count).astype(np.int64)


def _births(rng: np.random.Generator, ages: np.ndarray, run_date: dt.date) -> np.ndarray:
    """Birth day numbers for ages in completed years at the run date (never a 29 February)."""
    run = day(run_date)
    born = run - (ages * 365.25).astype(np.int64) - rng.integers(1, 360, len(ages))
    dates = pl.Series(born).cast(pl.Date)
    leap = (dates.dt.month() == 2) & (dates.dt.day() == 29)
    return np.where(leap.to_numpy(), born - 1, born)


class PopulationBuilder:
    def __init__(self, seed: int, schedule: Schedule, villages: pl.DataFrame, county_table: pl.DataFrame):
        self.seed = seed
        self.schedule = schedule
        self.villages = villages
        self.county_table = county_table
        self.T = len(schedule.monthly)

    def rng(self, name: str) -> np.random.Generator:
        return stream(self.seed, "population", name)

    # --- households ---------------------------------------------------------------------------------
    def households(self, n: int) -> pl.DataFrame:
        rng = self.rng("households")
        counties = np.array(sorted(set(self.villages["county"].to_list())))
        county = counties[rng.integers(0, len(counties), n)]
        village_i = _pick_villages(self.villages, county, rng)
        category = np.array(CATEGORIES)[rng.choice(len(CATEGORIES), n, p=CATEGORY_P)]
        size = rng.choice(6, n, p=SIZE_P) + 1
        size = np.where(category == "特困人员", 1, size)
        frame = pl.DataFrame(
            {
                "hid": [f"{c}{i + 1:08d}" for i, c in enumerate(county)],
                "village": self.villages["village"].gather(village_i),
                "county": county,
                "urban_rural": self.villages["urban_rural"].gather(village_i),
                "category0": category,
                "size": size,
            }
        )
        return self._timeline(frame, rng)

    def _timeline(self, frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
        n, T = frame.height, self.T
        enter = np.where(rng.random(n) < 0.08, rng.integers(1, max(T - 1, 2), n), 0)
        poor = frame["category0"].is_in(["特困人员", "最低生活保障"]).to_numpy()
        p_exit = 0.005 * (T - 1)
        exits = poor & (rng.random(n) < p_exit) & (enter < T - 1)
        leave = np.where(exits, enter + 1 + (rng.random(n) * (T - 1 - enter)).astype(np.int64), NEVER)
        kind = np.array(EXIT_KINDS)[rng.integers(0, len(EXIT_KINDS), n)]
        kind = np.where(exits, kind, "")
        target = np.where(exits, np.where(rng.random(n) < 0.6, "低保边缘家庭", "无"), "")
        # other categories sometimes simply disappear (no exit review: they were not 特困/低保)
        gone = ~poor & (rng.random(n) < 0.03) & (enter < T - 1)
        absent = np.where(gone, enter + 1 + (rng.random(n) * (T - 1 - enter)).astype(np.int64), NEVER)
        recognised = self._recognised(rng, enter)
        return frame.with_columns(
            enter_k=pl.Series(enter, dtype=pl.Int64),
            leave_k=pl.Series(leave, dtype=pl.Int64),
            exit_kind=pl.Series(kind),
            exit_target=pl.Series(target),
            absent_k=pl.Series(absent, dtype=pl.Int64),
            recognised_on=pl.Series(recognised).cast(pl.Date),
            phone_n=pl.Series(rng.integers(0, 10**9, frame.height)),
            has_phone=pl.Series(rng.random(frame.height) < 0.8),
            income_u=pl.Series(rng.random(frame.height)),
            exited_day=pl.Series(rng.integers(1, 28, frame.height)),
        )

    def _recognised(self, rng: np.random.Generator, enter: np.ndarray) -> np.ndarray:
        cut = np.array([day(c) for c in self.schedule.monthly], dtype=np.int64)
        start = day(self.schedule.window_start)
        old = start - rng.integers(30, 8 * 365, len(enter))
        new = cut[np.minimum(enter, self.T - 1)] - rng.integers(0, 27, len(enter))
        return np.where(enter == 0, old, new)

    # --- members --------------------------------------------------------------------------------------
    def members(self, households: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng("members")
        rows = (
            households.select("hid", "size", "category0", "county", "village", "exit_kind")
            .with_columns(idx=pl.int_ranges(0, pl.col("size")))
            .explode("idx")
        )
        n = rows.height
        idx = rows["idx"].to_numpy()
        tekun = (rows["category0"] == "特困人员").to_numpy()
        head_age = np.where(tekun, rng.integers(62, 96, n), rng.integers(25, 86, n))
        head_age = np.where(tekun & (rng.random(n) < 0.15), rng.integers(20, 58, n), head_age)
        head_age = pl.Series(head_age).gather(np.repeat(np.flatnonzero(idx == 0), self._sizes(idx))).to_numpy()
        later = np.array(RELATIONS_LATER)[rng.choice(len(RELATIONS_LATER), n, p=RELATIONS_LATER_P)]
        relation = np.where(idx == 0, "户主", np.where((idx == 1) & (rng.random(n) < 0.75), "配偶", later))
        offset = {
            "户主": 0, "配偶": 0, "子女": -29, "父母": 26, "孙子女": -52, "兄弟姐妹": 0, "其他": -10,
        }  # fmt: skip
        base = np.array([offset[r] for r in relation]) + rng.integers(-6, 7, n)
        age = np.clip(head_age + np.where(idx == 0, 0, base), 1, 99)
        labour = self._labour(rng, age, tekun)
        health = np.array(HEALTH)[rng.choice(len(HEALTH), n, p=HEALTH_P)]
        exiting = (rows["exit_kind"] != "").to_numpy()
        health = np.where(exiting & np.isin(health, ["重病", "残疾"]), "慢性病", health)  # exit reviews stay simple
        cover = np.where((health == "重病") & (rng.random(n) < 0.2), "是", "否")
        return rows.select("hid", "idx", "county", "village", "category0").with_columns(
            relation=pl.Series(relation),
            age=pl.Series(age),
            labour=pl.Series(labour),
            health=pl.Series(health),
            cover=pl.Series(cover),
            role=pl.lit("member"),
        )

    @staticmethod
    def _sizes(idx: np.ndarray) -> np.ndarray:
        starts = np.flatnonzero(idx == 0)
        return np.diff(np.append(starts, len(idx)))

    @staticmethod
    def _labour(rng: np.random.Generator, age: np.ndarray, tekun: np.ndarray) -> np.ndarray:
        n = len(age)
        working = (age >= 16) & (age <= 59)
        u = rng.random(n)
        adult = np.where(u < 0.70, "有劳动能力", np.where(u < 0.88, "部分丧失劳动能力", "无劳动能力"))
        other = np.where(u < 0.9, "无劳动能力", "部分丧失劳动能力")
        out = np.where(working, adult, other)
        return np.where(tekun & working, "无劳动能力", out)

    # --- persons --------------------------------------------------------------------------------------
    def extra_people(self, n: int, name: str, min_age: int, max_age: int, rural: bool = False) -> pl.DataFrame:
        """Persons outside the roster (the public, 防返贫 heads): county, village, age."""
        rng = self.rng(name)
        villages = self.villages.filter(pl.col("urban_rural") == "农村") if rural else self.villages
        pick = rng.integers(0, villages.height, n)
        return pl.DataFrame(
            {
                "county": villages["county"].gather(pick),
                "village": villages["village"].gather(pick),
                "age": rng.integers(min_age, max_age + 1, n),
                "role": [name] * n,
            }
        )

    def persons(self, frames: list[pl.DataFrame]) -> pl.DataFrame:
        """IDs and names for every background person; pid is the row number."""
        rng = self.rng("persons")
        rows = pl.concat([f.select("county", "village", "age", "role") for f in frames])
        n = rows.height
        births = _births(rng, rows["age"].to_numpy(), self.schedule.run_date)
        male = rng.random(n) < 0.5
        elsewhere = rng.random(n) < 0.1
        region = np.where(
            elsewhere,
            np.array(people.OTHER_PROVINCE_COUNTIES)[rng.integers(0, len(people.OTHER_PROVINCE_COUNTIES), n)],
            rows["county"].to_numpy().astype(str),
        )
        ids = people.make_ids(region, births, male)
        return rows.with_columns(
            pid=pl.int_range(0, n, dtype=pl.Int64),
            id18=pl.Series(ids, dtype=pl.String),
            name=pl.Series(people.make_names(rng, n), dtype=pl.String),
            birth=pl.Series(births).cast(pl.Date),
            male=pl.Series(male),
        )

    # --- deaths ---------------------------------------------------------------------------------------
    def member_deaths(self, households: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
        """Elderly deaths in the roster: sole members (the household ends) and non-head members."""
        rng = self.rng("member_deaths")
        T = self.T
        start = self.schedule.window_start
        oldest = members.join(
            households.select("hid", "enter_k", "leave_k", "absent_k"), on="hid", maintain_order="left"
        ).filter(
            (pl.col("age") >= 63 + self.schedule.months // 12)
            & (pl.col("leave_k") == NEVER)
            & (pl.col("absent_k") == NEVER)
            & (pl.col("enter_k") <= T - 3)
            & ((pl.col("idx") > 0) | (pl.col("size_now") == 1))
        )
        dies = oldest.filter(pl.Series(rng.random(oldest.height) < 0.025))
        n = dies.height
        enter = dies["enter_k"].to_numpy()
        death_k = enter + (rng.random(n) * (T - 2 - enter)).astype(np.int64)
        cut = np.array([day(c) for c in self.schedule.monthly], dtype=np.int64)
        first = np.maximum(cut[death_k] - 27, day(start))
        died = first + (rng.random(n) * (cut[death_k] - first + 1)).astype(np.int64)
        lag = rng.integers(1, 3, n)
        return dies.select("hid", "pid", "idx").with_columns(
            died_on=pl.Series(died).cast(pl.Date),
            remove_k=pl.Series(death_k + lag, dtype=pl.Int64),
        )

    def public_deaths(self, public: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng("public_deaths")
        dies = public.filter(pl.Series(rng.random(public.height) < 0.008 * self.schedule.months / 12))
        start, end = day(self.schedule.window_start), day(self.schedule.run_date) - 3
        died = start + (rng.random(dies.height) * (end - start)).astype(np.int64)
        return dies.select("pid").with_columns(died_on=pl.Series(died).cast(pl.Date))


def build_population(
    seed: int, schedule: Schedule, villages: pl.DataFrame, county_table: pl.DataFrame, households: int
) -> Population:
    builder = PopulationBuilder(seed, schedule, villages, county_table)
    hh = builder.households(households)
    members = builder.members(hh)
    public = builder.extra_people(max(200, households // 2), "public", 1, 90)
    nync_heads = builder.extra_people(max(20, households * 6 // 100), "nync", 30, 75, rural=True)
    persons = builder.persons([members, public, nync_heads])
    members = members.with_columns(pid=pl.int_range(0, members.height, dtype=pl.Int64))
    sizes = members.group_by("hid").agg(pl.len().alias("size_now"))
    members = members.join(sizes, on="hid", how="left", maintain_order="left")
    deaths_m = builder.member_deaths(hh, members)
    members = members.join(deaths_m.select("pid", "died_on", "remove_k"), on="pid", how="left", maintain_order="left")
    members = members.with_columns(pl.col("remove_k").fill_null(NEVER))
    sole_end = deaths_m.filter(pl.col("idx") == 0).select("hid", death_end_k=pl.col("remove_k"))
    hh = hh.join(sole_end, on="hid", how="left", maintain_order="left").with_columns(
        pl.col("death_end_k").fill_null(NEVER)
    )
    public_p = persons.filter(pl.col("role") == "public")
    deaths = pl.concat(
        [
            deaths_m.select("pid", "died_on").with_columns(kind=pl.lit("member")),
            builder.public_deaths(public_p).with_columns(kind=pl.lit("public")),
        ]
    )
    heads = members.filter(pl.col("idx") == 0).select("hid", head_pid=pl.col("pid"))
    hh = hh.join(heads, on="hid", maintain_order="left")
    hh = _incomes(hh, builder.county_table, stream(seed, "population", "incomes"))
    nync = _nync(builder, persons, hh, members)
    return Population(persons=persons, households=hh, members=members, nync=nync, deaths=deaths)


def _incomes(hh: pl.DataFrame, county_table: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """家庭年收入 relative to S·12·n; households leaving 特困/低保 get an income in their exit target's zone."""
    hh = hh.join(county_table, on=["county", "urban_rural"], how="left", maintain_order="left")
    u = pl.col("income_u")
    lo_hi = {
        "特困人员": (0.2, 1.0), "最低生活保障": (0.3, 0.9), "低保边缘家庭": (1.05, 1.4),
        "刚性支出困难家庭": (1.3, 2.5), "其他困难人员": (1.0, 2.0), "防止返贫监测对象": (1.0, 2.0),
    }  # fmt: skip
    ratio = pl.lit(1.0)
    for cat, (lo, hi) in lo_hi.items():
        ratio = pl.when(pl.col("category0") == cat).then(lo + (hi - lo) * u).otherwise(ratio)
    m = pl.col("edge_m")
    ratio = (
        pl.when(pl.col("exit_target") == "低保边缘家庭")
        .then(1.05 + (0.9 * m - 1.05) * u)
        .when(pl.col("exit_target") == "无")
        .then(1.15 * m + 1.3 * m * u)
        .otherwise(ratio)
    )
    s12n = pl.col("s_cents") * 12 * pl.col("size")
    income = (ratio * s12n / 100).round(0).cast(pl.Int64) * 100  # whole yuan
    tekun_benefit = (pl.col("tekun_m") * pl.col("s_cents")).round(0).cast(pl.Int64)
    dibao_benefit = pl.max_horizontal(
        pl.col("s_cents") * pl.col("size") - income // 12, (pl.col("s_cents") * pl.col("size")) // 10
    )
    benefit = (
        pl.when(pl.col("category0") == "特困人员")
        .then(tekun_benefit)
        .when(pl.col("category0") == "最低生活保障")
        .then(dibao_benefit // 100 * 100)
        .otherwise(None)
    )
    return hh.with_columns(income=income, benefit=benefit)


def _nync(builder: PopulationBuilder, persons: pl.DataFrame, hh: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """防返贫 monitored heads: mostly their own persons, a few also heads of a rural civil-affairs household."""
    rng = builder.rng("nync")
    T = builder.T
    own = persons.filter(pl.col("role") == "nync").select("pid", "village", "county")
    rural_heads = hh.filter((pl.col("urban_rural") == "农村") & (pl.col("category0") == "最低生活保障")).select(
        pid=pl.col("head_pid"), village=pl.col("village"), county=pl.col("county")
    )
    shared = rural_heads.filter(pl.Series(rng.random(rural_heads.height) < 0.05))
    heads = pl.concat([own, shared])
    n = heads.height
    enter = np.where(rng.random(n) < 0.1, rng.integers(1, max(T - 1, 2), n), 0)
    u = rng.random(n)
    cleared_k = np.where(u < 0.15, enter + 1 + (rng.random(n) * np.maximum(T - 1 - enter, 1)).astype(np.int64), NEVER)
    cleared_k = np.where(u > 0.95, 0, cleared_k)
    cut = np.array([day(c) for c in builder.schedule.monthly], dtype=np.int64)
    identified = np.where(
        enter == 0,
        day(builder.schedule.window_start) - rng.integers(30, 4 * 365, n),
        cut[enter] - rng.integers(0, 27, n),
    )
    heads = heads.with_columns(
        rank=pl.int_range(pl.len()).over("village"),
    ).with_columns(rhid=pl.col("village") + pl.col("rank").cast(pl.String).str.zfill(4))
    return heads.with_columns(
        enter_k=pl.Series(enter, dtype=pl.Int64),
        cleared_k=pl.Series(cleared_k, dtype=pl.Int64),
        identified_on=pl.Series(identified).cast(pl.Date),
        monitoring_type=pl.Series(np.array(["脱贫不稳定户", "边缘易致贫户", "突发严重困难户"])[rng.integers(0, 3, n)]),
        member_count=pl.Series(rng.integers(1, 6, n)),
        income_pc=pl.Series(rng.integers(5000, 14000, n) * 100),
        income_missing=pl.Series(rng.random(n) < 0.05),
    )
