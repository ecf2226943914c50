"""Background snapshots: the monthly rosters (mz_household, mz_member), 防返贫 list and disability list.

Snapshot k is derived from the population's timeline: households enter, change category, go 停保 or
退出, disappear; members die and are removed one or two snapshots later.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from synthetic.population import NEVER, Population
from synthetic.rand import stream

DISABILITY_TYPES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
GRADES = ("一级", "二级", "三级", "四级")


def _severe(kind: pl.Expr, grade: pl.Expr) -> pl.Expr:
    """Grades that make 重度残疾人护理补贴 due (docs/rules.md#w08-应享未享, (a))."""
    return grade.is_in(["一级", "二级"]) | ((grade == "三级") & kind.is_in(["智力", "精神"]))


class Rosters:
    def __init__(self, seed: int, population: Population, monthly: tuple[dt.date, ...]):
        self.pop = population
        self.monthly = monthly
        persons = population.persons.select("pid", "id18", "name")
        hh = population.households
        end = pl.min_horizontal(
            pl.col("absent_k"),
            pl.col("death_end_k"),
            pl.when(pl.col("exit_kind") == "absent").then(pl.col("leave_k")).otherwise(NEVER),
            pl.when(pl.col("exit_kind") == "退出").then(pl.col("leave_k") + 2).otherwise(NEVER),
        )
        self.households = hh.with_columns(end_k=end).join(
            persons.rename({"pid": "head_pid", "id18": "head_id", "name": "head_name"}),
            on="head_pid",
            how="left",
            maintain_order="left",
        )
        self.members = population.members.join(persons, on="pid", how="left", maintain_order="left")
        self.disabled = self._disabled(seed)

    # --- mz_household / mz_member ---------------------------------------------------------------------
    def present(self, k: int) -> pl.DataFrame:
        return self.households.filter((pl.col("enter_k") <= k) & (pl.col("end_k") > k))

    def members_at(self, k: int) -> pl.DataFrame:
        hids = self.present(k).select("hid")
        return self.members.join(hids, on="hid", how="semi", maintain_order="left").filter(pl.col("remove_k") > k)

    def household_frame(self, k: int) -> pl.DataFrame:
        cutoff = self.monthly[k]
        left = (pl.col("leave_k") <= k) & (pl.col("leave_k") != NEVER)
        counts = self.members_at(k).group_by("hid").agg(pl.len().alias("member_count"))
        frame = self.present(k).join(counts, on="hid", how="left", maintain_order="left")
        status = (
            pl.when(left & (pl.col("exit_kind") == "停保"))
            .then(pl.lit("停保"))
            .when(left & (pl.col("exit_kind") == "退出"))
            .then(pl.lit("退出"))
            .otherwise(pl.lit("在保"))
        )
        category = (
            pl.when(left & (pl.col("exit_kind") == "低保边缘家庭"))
            .then(pl.lit("低保边缘家庭"))
            .otherwise(pl.col("category0"))
        )
        leave_month = (
            pl.col("leave_k")
            .clip(0, len(self.monthly) - 1)
            .replace_strict(dict(enumerate(self.monthly)), return_dtype=pl.Date)
        )
        exited = pl.date(leave_month.dt.year(), leave_month.dt.month(), pl.col("exited_day"))
        in_force_poor = (status == "在保") & category.is_in(["特困人员", "最低生活保障"])
        return frame.select(
            household_id=pl.col("hid"),
            region_code=pl.col("village"),
            urban_rural=pl.col("urban_rural"),
            head_name=pl.col("head_name"),
            head_id=pl.col("head_id"),
            category=category,
            status=status,
            recognised_on=pl.col("recognised_on"),
            exited_on=pl.when(left & (pl.col("exit_kind") == "退出")).then(exited).otherwise(None),
            member_count=pl.col("member_count").cast(pl.Int64),
            annual_income=pl.col("income"),
            monthly_benefit=pl.when(in_force_poor).then(pl.col("benefit")).otherwise(None),
            phone=pl.when(pl.col("has_phone"))
            .then(pl.lit("13") + pl.col("phone_n").cast(pl.String).str.zfill(9))
            .otherwise(None),
        ).with_columns(_cutoff=pl.lit(cutoff))

    def member_frame(self, k: int) -> pl.DataFrame:
        return self.members_at(k).select(
            household_id=pl.col("hid"),
            name=pl.col("name"),
            id_number=pl.col("id18"),
            relation=pl.col("relation"),
            labour_capacity=pl.col("labour"),
            health=pl.when(pl.col("health") == "").then(None).otherwise(pl.col("health")),
            individual_cover=pl.col("cover"),
        )

    # --- 防返贫 ---------------------------------------------------------------------------------------------
    def nync_frame(self, k: int) -> pl.DataFrame:
        persons = self.pop.persons.select("pid", "id18", "name")
        nync = self.pop.nync.filter(pl.col("enter_k") <= k).join(persons, on="pid", how="left", maintain_order="left")
        return nync.select(
            rural_household_id=pl.col("rhid"),
            head_name=pl.col("name"),
            head_id=pl.col("id18"),
            region_code=pl.col("village"),
            monitoring_type=pl.col("monitoring_type"),
            identified_on=pl.col("identified_on"),
            risk_status=pl.when(pl.col("cleared_k") <= k).then(pl.lit("已消除")).otherwise(pl.lit("未消除")),
            member_count=pl.col("member_count").cast(pl.Int64),
            income_per_capita=pl.when(pl.col("income_missing")).then(None).otherwise(pl.col("income_pc")),
        )

    # --- 残联 ----------------------------------------------------------------------------------------------
    def _disabled(self, seed: int) -> pl.DataFrame:
        """Certificate holders: most roster members with 健康状况 残疾, and some of the public.

        Every severe grade in the roster has the care subsidy (so W08(a) is never raised by accident).
        """
        rng = stream(seed, "disabled")
        pop = self.pop
        roster = self.members.filter(pl.col("health") == "残疾").select("pid", "category0", "remove_k")
        roster = roster.filter(pl.Series(rng.random(roster.height) < 0.85)).with_columns(in_roster=pl.lit(True))
        public = pop.persons.filter(pl.col("role") == "public").select("pid")
        public = public.filter(pl.Series(rng.random(public.height) < 0.04)).with_columns(
            category0=pl.lit(""), remove_k=pl.lit(NEVER, dtype=pl.Int64), in_roster=pl.lit(False)
        )
        holders = pl.concat([roster, public]).join(
            pop.persons.select("pid", "id18", "name"), on="pid", maintain_order="left"
        )
        n = holders.height
        T = len(self.monthly)
        kind = np.array(DISABILITY_TYPES)[rng.integers(0, len(DISABILITY_TYPES), n)]
        grade = np.array(GRADES)[rng.choice(4, n, p=(0.15, 0.25, 0.3, 0.3))]
        issued_k = np.where(rng.random(n) < 0.9, -1, rng.integers(0, max(T, 1), n))
        dead = pop.deaths.select("pid", "died_on")
        frame = holders.with_columns(
            kind=pl.Series(kind),
            grade=pl.Series(grade),
            issued_k=pl.Series(issued_k, dtype=pl.Int64),
            issue_days=pl.Series(rng.integers(30, 3000, n)),
            u=pl.Series(rng.random(n)),
            v=pl.Series(rng.random(n)),
        ).join(dead, on="pid", how="left", maintain_order="left")
        severe = _severe(pl.col("kind"), pl.col("grade"))
        poor = pl.col("category0").is_in(["特困人员", "最低生活保障"])
        care = (
            pl.when(pl.col("in_roster") & severe)
            .then(pl.lit("是"))
            .when(pl.col("u") < 0.4)
            .then(pl.lit("是"))
            .when(pl.col("u") < 0.8)
            .then(pl.lit("否"))
            .otherwise(None)
        )
        living = pl.when(poor).then(pl.lit("是")).when(pl.col("v") < 0.5).then(pl.lit("否")).otherwise(None)
        digits = pl.col("kind").replace_strict({k: str(i + 1) for i, k in enumerate(DISABILITY_TYPES)}) + pl.col(
            "grade"
        ).replace_strict({g: str(i + 1) for i, g in enumerate(GRADES)})
        return frame.with_columns(care=care, living=living, certificate_no=pl.col("id18") + digits)

    def disability_frame(self, k: int) -> pl.DataFrame:
        start = self.monthly[0]
        issue_month = (
            pl.col("issued_k")
            .clip(0, len(self.monthly) - 1)
            .replace_strict(dict(enumerate(self.monthly)), return_dtype=pl.Date)
        )
        gone_k = pl.when(pl.col("died_on").is_not_null()).then(pl.col("remove_k")).otherwise(NEVER)
        rows = self.disabled.filter((pl.col("issued_k") <= k) & (gone_k > k))
        issued = (
            pl.when(pl.col("issued_k") < 0)
            .then(pl.lit(start) - pl.duration(days=pl.col("issue_days")))
            .otherwise(issue_month - pl.duration(days=pl.col("issue_days") % 25))
        )
        return rows.select(
            certificate_no=pl.col("certificate_no"),
            name=pl.col("name"),
            id_number=pl.col("id18"),
            disability_type=pl.col("kind"),
            disability_grade=pl.col("grade"),
            issued_on=issued.cast(pl.Date),
            living_subsidy=pl.col("living"),
            care_subsidy=pl.col("care"),
        )

    def subsidy_holders(self) -> pl.DataFrame:
        """Roster certificate holders who receive 残疾人两项补贴 (pid, issued_k)."""
        return self.disabled.filter(
            pl.col("in_roster") & ((pl.col("care") == "是") | (pl.col("living") == "是"))
        ).select("pid", "issued_k")
