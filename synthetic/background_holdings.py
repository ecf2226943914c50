"""Background vehicles (gaj_vehicle), real estate (zrzy_property) and businesses (scjg_business).

Kept away from W09–W11 and from the 核对 of identification (truth_check.py and verification_check.py verify it):
- members of 特困/低保 households (those that later leave included) own only vehicles that are never counted
  (摩托车, 低速货车, 残疾人专用车, or a car 注销/报废), hold at most one dwelling (the home, sometimes jointly
  with the spouse; a second unit sold or cancelled before the window, or a shop, does not count) and represent at
  most a 个体工商户 below half of w11_capital, or a company 吊销/注销;
- members of 低保边缘/刚性支出 households own at most edge_max_vehicles counted vehicles and hold at most
  edge_max_extra_properties + 1 dwellings (one of each, when the parameters allow it);
- background applicants hold no more than they declared (registered ≤ declared: the 核对 changes nothing), and
  those built for 特困/低保 represent no company;
- the public, 防返贫 heads and households without an asset test may hold anything, and change during the window.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from synthetic.applications import Applicant
from synthetic.calendar import Schedule
from synthetic.params import RunParams, cents
from synthetic.population import NEVER, Population
from synthetic.rand import day, stream

POOR = ("特困人员", "最低生活保障")
EDGE = ("低保边缘家庭", "刚性支出困难家庭")
COUNTED_TYPES = ("小型汽车", "小型汽车", "小型汽车", "轻型货车", "中型客车", "中型货车")
EXEMPT_TYPES = ("摩托车", "摩托车", "低速货车", "残疾人专用车")
COMPANY_TYPES = ("有限责任公司", "股份有限公司", "个人独资企业", "合伙企业")
OTHER_BUSINESS_TYPES = ("个体工商户", "农民专业合作社", "其他")
_ALPHABET = np.array(list("0123456789ABCDEFGHJKLMNPRSTUVWXYZ"))  # VIN characters: no I, O, Q
_PLATE_LETTERS = np.array(list("ABCDEFGHJKLMNPQRSUVY"))
_SHOP = ("便利店", "小吃店", "五金店", "理发店", "修车铺", "水果店")
_FIRM = ("鲁信", "华泰", "恒远", "金源", "宏达", "海通", "新材", "港湾")


def base33(numbers: np.ndarray, width: int) -> list[str]:
    """Each number in VIN characters, left-padded with 0 to `width` (unique numbers → unique codes)."""
    out = []
    for n in numbers.tolist():
        chars = []
        for _ in range(width):
            n, r = divmod(n, len(_ALPHABET))
            chars.append(_ALPHABET[r])
        out.append("".join(reversed(chars)))
    return out


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int64)).cast(pl.Date)


class Holdings:
    """The three registers of the background, one delivery at a time (snapshots by k, property by cut-off)."""

    def __init__(
        self, seed: int, schedule: Schedule, population: Population, params: RunParams, applicants: list[Applicant],
        county_names: dict[str, str],
    ) -> None:  # fmt: skip
        self.seed, self.schedule, self.params, self.names = seed, schedule, params, county_names
        self.T = len(schedule.monthly)
        self.before = day(schedule.window_start) - 60  # registrations before the window end here
        owners = self._owners(population)
        applicant_owners = self._applicant_owners(applicants)
        self.vehicles = self._vehicles(owners, applicant_owners)
        self.registrations = self._registrations(owners, applicant_owners, population)
        self.businesses = self._businesses(owners, applicant_owners)

    def rng(self, *names: object) -> np.random.Generator:
        return stream(self.seed, "holdings", *names)

    # --- who may hold what ------------------------------------------------------------------------------------
    def _owners(self, pop: Population) -> pl.DataFrame:
        """Household heads (with their spouse, for joint homes), the public and 防返贫 heads, each with a group:
        poor (特困/低保), edge (低保边缘/刚性支出) or free (no asset test: anything goes)."""
        hh = pop.households.select("hid", "category0", "county")
        members = pop.members.select("hid", "pid", "idx", "relation")
        spouses = members.filter((pl.col("idx") == 1) & (pl.col("relation") == "配偶")).select(
            "hid", spouse_pid=pl.col("pid")
        )
        heads = (
            members.filter(pl.col("idx") == 0)
            .join(hh, on="hid", maintain_order="left")
            .join(spouses, on="hid", how="left", maintain_order="left")
            .select(
                "pid",
                "spouse_pid",
                group=pl.when(pl.col("category0").is_in(POOR))
                .then(pl.lit("poor"))
                .when(pl.col("category0").is_in(EDGE))
                .then(pl.lit("edge"))
                .otherwise(pl.lit("free")),
            )
        )
        others = pop.persons.filter(pl.col("role").is_in(["public", "nync"])).select(
            "pid", spouse_pid=pl.lit(None, dtype=pl.Int64), group=pl.lit("free")
        )
        persons = pop.persons.select("pid", "id18", "name", "county")
        owners = pl.concat([heads, others]).join(persons, on="pid", maintain_order="left")
        spouse_ids = persons.select(spouse_pid=pl.col("pid"), spouse_id=pl.col("id18"), spouse_name=pl.col("name"))
        return owners.join(spouse_ids, on="spouse_pid", how="left", maintain_order="left")

    def _applicant_owners(self, applicants: list[Applicant]) -> pl.DataFrame:
        """Background applicants' heads with what they declared (registered holdings never exceed it)."""
        rows = [
            (
                a.members[0]["id_number"],
                a.members[0]["name"],
                a.app["region_code"][:6],
                a.app["vehicle_count"],
                a.app["extra_property_count"],
                a.result in POOR,
            )  # fmt: skip
            for a in applicants
            if a.scenario == "background" and a.members
        ]
        schema = {
            "id18": pl.String(), "name": pl.String(), "county": pl.String(), "cars": pl.Int64(), "extra": pl.Int64(),
            "poor": pl.Boolean(),
        }  # fmt: skip
        return pl.DataFrame(rows, schema=schema, orient="row")

    def _limits(self, counties: pl.Series, name: str) -> np.ndarray:
        table = {c: int(self.params.p(name, c)) for c in counties.unique().to_list()}
        return counties.replace_strict(table, return_dtype=pl.Int64).to_numpy()

    # --- gaj_vehicle ------------------------------------------------------------------------------------------
    def _vehicles(self, owners: pl.DataFrame, applicants: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng("vehicles")
        n = owners.height
        group = owners["group"].to_numpy()
        u = rng.random(n)
        edge_ok = self._limits(owners["county"], "edge_max_vehicles") >= 1
        counted = np.where(group == "free", (u < 0.35).astype(int) + (u < 0.08), 0)
        counted = np.where((group == "edge") & edge_ok, (u < 0.3).astype(int), counted)
        exempt = (rng.random(n) < np.where(group == "poor", 0.12, 0.08)).astype(int)
        scrapped = ((group == "poor") & (rng.random(n) < 0.04)).astype(int)  # a car 注销/报废: never counted
        parts = []
        for kind, count in (("counted", counted), ("exempt", exempt), ("scrapped", scrapped)):
            picked = owners.select("id18", "name", "county", "group").gather(np.repeat(np.arange(n), count))
            parts.append(picked.with_columns(kind=pl.lit(kind)))
        a = applicants
        au = rng.random(a.height)
        a_counted = np.where(au < 0.7, a["cars"].to_numpy(), 0)
        a_exempt = ((au >= 0.7) & (au < 0.85)).astype(int)
        for kind, count in (("counted", a_counted), ("exempt", a_exempt)):
            picked = a.select("id18", "name", "county").gather(np.repeat(np.arange(a.height), count))
            parts.append(picked.with_columns(group=pl.lit("applicant"), kind=pl.lit(kind)))
        v = pl.concat(parts)
        m = v.height
        kind = v["kind"].to_numpy()
        free = (v["group"] == "free").to_numpy()
        vtype = np.where(
            kind == "exempt",
            np.array(EXEMPT_TYPES)[rng.integers(0, len(EXEMPT_TYPES), m)],
            np.array(COUNTED_TYPES)[rng.integers(0, len(COUNTED_TYPES), m)],
        )
        status = np.where(kind == "scrapped", np.where(rng.random(m) < 0.5, "注销", "报废"), "正常")
        # the public's vehicles change during the window: some bought (from snapshot k on), some 注销 or 转出
        from_k = np.where(free & (rng.random(m) < 0.08), rng.integers(1, max(self.T, 2), m), 0)
        change_k = np.where(free & (rng.random(m) < 0.05), rng.integers(1, max(self.T, 2), m), NEVER)
        later = np.where(rng.random(m) < 0.6, "注销", "转出")
        cut = np.array([day(c) for c in self.schedule.monthly], dtype=np.int64)
        old = day(dt.date(2008, 1, 1)) + (rng.random(m) * (self.before - day(dt.date(2008, 1, 1)))).astype(np.int64)
        new = cut[np.minimum(from_k, self.T - 1)] - rng.integers(0, 27, m)
        first = np.where(from_k > 0, new, old)
        plates = [f"鲁{x}{y:05d}" for x, y in zip(_PLATE_LETTERS[rng.integers(0, 20, m)], rng.integers(0, 100000, m))]
        return pl.DataFrame(
            {
                "vin": [f"LB{c}" for c in base33(np.arange(m), 15)],
                "plate": plates,
                "owner_name": v["name"],
                "owner_id": v["id18"],
                "vehicle_type": vtype,
                "first_registered_on": _dates(first),
                "status": status,
                "use": np.where(rng.random(m) < 0.85, "非营运", "营运"),
                "from_k": from_k,
                "change_k": change_k,
                "later_status": later,
            }
        )

    def vehicle_frame(self, k: int) -> pl.DataFrame:
        rows = self.vehicles.filter(pl.col("from_k") <= k)
        status = pl.when(pl.col("change_k") <= k).then(pl.col("later_status")).otherwise(pl.col("status"))
        return rows.with_columns(status=status).drop("from_k", "change_k", "later_status")

    # --- zrzy_property ----------------------------------------------------------------------------------------
    def _registrations(self, owners: pl.DataFrame, applicants: pl.DataFrame, pop: Population) -> pl.DataFrame:
        """One row per (registration, holder): homes, extra dwellings, shops, units sold or cancelled, transfers."""
        rng = self.rng("property")
        n = owners.height
        group = owners["group"].to_numpy()
        u = rng.random(n)
        edge_ok = self._limits(owners["county"], "edge_max_extra_properties") >= 1
        home = np.where(group == "poor", u < 0.6, np.where(group == "edge", u < 0.7, u < 0.55))
        extra = np.where(group == "free", (rng.random(n) < 0.3).astype(int) + (rng.random(n) < 0.1), 0)
        extra = np.where((group == "edge") & edge_ok & home, (rng.random(n) < 0.25).astype(int), extra)
        shop = rng.random(n) < 0.05
        sold = (group == "poor") & (rng.random(n) < 0.04)  # a second dwelling transferred away before the window
        cancelled = (group == "poor") & (rng.random(n) < 0.03)  # a second dwelling cancelled (注销登记)
        joint = home & owners["spouse_id"].is_not_null().to_numpy() & (rng.random(n) < 0.3)
        public = owners.filter(pl.col("group") == "free").select("id18", "name")
        units: list[pl.DataFrame] = []

        def unit_rows(mask: np.ndarray, repeat: np.ndarray | None, use: str, fate: str) -> None:
            idx = np.flatnonzero(mask) if repeat is None else np.repeat(np.arange(n), repeat)
            picked = owners.select("id18", "name", "spouse_id", "spouse_name", "county").gather(idx)
            units.append(picked.with_columns(use=pl.lit(use), fate=pl.lit(fate), joint=pl.Series(joint[idx])))

        unit_rows(home, None, "住宅", "kept")
        unit_rows(np.ones(n, bool), extra, "住宅", "kept")
        unit_rows(shop, None, "商业", "kept")
        unit_rows(sold, None, "住宅", "sold")
        unit_rows(cancelled, None, "住宅", "cancelled")
        a = applicants
        au = rng.random(a.height)
        held = np.where(au < 0.6, a["extra"].to_numpy() + 1, np.where(au < 0.8, 1, 0))
        picked = a.select("id18", "name", "county").gather(np.repeat(np.arange(a.height), held))
        units.append(
            picked.with_columns(
                spouse_id=pl.lit(None, dtype=pl.String),
                spouse_name=pl.lit(None, dtype=pl.String),
                use=pl.lit("住宅"),
                fate=pl.lit("kept"),
                joint=pl.lit(False),
            )  # fmt: skip
        )
        i = pl.int_range(pl.len(), dtype=pl.Int64)
        all_units = pl.concat(units, how="diagonal_relaxed").with_columns(  # 28 characters, unique per row
            unit_id=pl.col("county")
            + (i % 1_000_000).cast(pl.String).str.zfill(6)
            + pl.lit("GB")
            + (i // 1_000_000).cast(pl.String).str.zfill(5)
            + pl.lit("F00010001")
        )
        return self._history(all_units, public, rng)

    def _history(self, units: pl.DataFrame, public: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
        """The registrations of each unit: a 首次登记 (joint: a row per holder), then what its fate adds."""
        m = units.height
        start = day(dt.date(2005, 1, 1))
        first = start + (rng.random(m) * (self.before - 400 - start)).astype(np.int64)
        later = first + 30 + (rng.random(m) * (self.before - first - 30)).astype(np.int64)
        area = rng.integers(4000, 14000, m) * 1  # m² × 100 (amounts are in cents)
        base = units.with_columns(
            holder_id=pl.col("id18"), holder_name=pl.col("name"), floor_area=pl.Series(area),
            first_day=pl.Series(first), later_day=pl.Series(later), i=pl.int_range(pl.len()),
        )  # fmt: skip
        rows = [
            base.select("unit_id", "use", "holder_id", "holder_name", "floor_area", "i", "first_day").with_columns(
                type=pl.lit("首次登记"), day=pl.col("first_day"), seq=pl.lit(0)
            ),
            base.filter(pl.col("joint"))
            .select(
                "unit_id",
                "use",
                "floor_area",
                "i",
                "first_day",
                holder_id=pl.col("spouse_id"),
                holder_name=pl.col("spouse_name"),
            )
            .with_columns(type=pl.lit("首次登记"), day=pl.col("first_day"), seq=pl.lit(0)),  # fmt: skip
        ]
        buyers = public.sample(n=max(units.height, 1), with_replacement=True, seed=int(rng.integers(0, 2**31)))
        sold = base.with_row_index("r").filter(pl.col("fate") == "sold")
        to = buyers.gather(sold["r"]).rename({"id18": "holder_id", "name": "holder_name"})
        rows.append(
            pl.concat(
                [sold.select("unit_id", "use", "floor_area", "i", day="later_day"), to], how="horizontal"
            ).with_columns(type=pl.lit("转移登记"), seq=pl.lit(1))
        )
        cancelled = base.filter(pl.col("fate") == "cancelled")
        rows.append(
            cancelled.select(
                "unit_id", "use", "holder_id", "holder_name", "floor_area", "i", day="later_day"
            ).with_columns(type=pl.lit("注销登记"), seq=pl.lit(1))
        )
        rows.append(self._public_moves(base, public, rng))
        frame = pl.concat([r.select(*self._REG_COLUMNS) for r in rows], how="vertical_relaxed")
        cut = np.array([day(c) for c in self.schedule.monthly], dtype=np.int64)
        delivered = np.searchsorted(cut, frame["day"].to_numpy())  # the monthly delivery of the registration
        return frame.with_columns(
            registration_id=pl.lit("BDC") + pl.col("i").cast(pl.String).str.zfill(9) + pl.col("seq").cast(pl.String),
            registered_on=pl.col("day").cast(pl.Date),
            delivery_k=pl.Series(np.maximum(delivered, 0), dtype=pl.Int64),
        )

    _REG_COLUMNS = ("unit_id", "use", "holder_id", "holder_name", "floor_area", "i", "type", "day", "seq")

    def _public_moves(self, base: pl.DataFrame, public: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
        """Within the window, some of the public's units change hands (a 转移登记 to another member of the public)."""
        owned_by_public = base.join(public.select(holder_id=pl.col("id18")), on="holder_id", how="semi")
        moving = owned_by_public.filter(pl.Series(rng.random(owned_by_public.height) < 0.05))
        k = moving.height
        buyers = public.sample(n=max(k, 1), with_replacement=True, seed=int(rng.integers(0, 2**31))).head(k)
        start, end = day(self.schedule.window_start), day(self.schedule.run_date)
        days = start + (rng.random(k) * (end - start)).astype(np.int64)
        return moving.select("unit_id", "use", "floor_area", "i").with_columns(
            holder_id=buyers["id18"], holder_name=buyers["name"], type=pl.lit("转移登记"), day=pl.Series(days),
            seq=pl.lit(2),
        )  # fmt: skip

    def property_frame(self, cutoff: dt.date) -> pl.DataFrame:
        k = self.schedule.monthly.index(cutoff)
        rows = self.registrations.filter(pl.col("delivery_k") == k)
        return rows.select(
            "registration_id", "unit_id", "holder_name", "holder_id", registration_type=pl.col("type"), use="use",
            floor_area="floor_area", registered_on="registered_on",
        )  # fmt: skip

    # --- scjg_business ----------------------------------------------------------------------------------------
    def _businesses(self, owners: pl.DataFrame, applicants: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng("businesses")
        n = owners.height
        group = owners["group"].to_numpy()
        u = rng.random(n)
        small = (group == "poor") & (u < 0.05)  # a 个体工商户 well below w11_capital
        closed = (group == "poor") & (u >= 0.05) & (u < 0.07)  # a company 吊销 or 注销
        any_kind = (group != "poor") & (u < 0.1)
        a = applicants
        au = rng.random(a.height)
        a_company = ~a["poor"].to_numpy() & (au < 0.08)
        a_small = a["poor"].to_numpy() & (au < 0.06)
        parts = []
        for kind, mask, frame in (
            ("small", small, owners), ("closed", closed, owners), ("any", any_kind, owners),
            ("company", a_company, a), ("small", a_small, a),
        ):  # fmt: skip
            picked = frame.select("id18", "name", "county").filter(pl.Series(mask))
            parts.append(picked.with_columns(kind=pl.lit(kind)))
        b = pl.concat(parts)
        m = b.height
        kind = b["kind"].to_numpy()
        line = np.array([cents(self.params.p("w11_capital", c)) for c in b["county"].to_list()], dtype=np.int64)
        other = np.array(OTHER_BUSINESS_TYPES)[rng.integers(0, len(OTHER_BUSINESS_TYPES), m)]
        company = np.array(COMPANY_TYPES)[rng.integers(0, len(COMPANY_TYPES), m)]
        etype = np.where(
            kind == "small",
            "个体工商户",
            np.where(kind == "any", np.where(rng.random(m) < 0.5, company, other), company),
        )
        capital = np.where(
            kind == "small",
            (rng.random(m) * 0.5 * line).astype(np.int64) // 100 * 100,
            rng.integers(1, 500, m) * 1_000_000,
        )
        no_capital = (kind == "small") & (rng.random(m) < 0.3)  # empty 注册资本 (counts as 0)
        status = np.where(kind == "closed", np.where(rng.random(m) < 0.5, "吊销", "注销"), "存续")
        # the public's businesses change: some founded in the window, some closed
        free = kind == "any"
        from_k = np.where(free & (rng.random(m) < 0.06), rng.integers(1, max(self.T, 2), m), 0)
        change_k = np.where(free & (rng.random(m) < 0.05), rng.integers(1, max(self.T, 2), m), NEVER)
        cut = np.array([day(c) for c in self.schedule.monthly], dtype=np.int64)
        old = day(dt.date(2005, 1, 1)) + (rng.random(m) * (self.before - day(dt.date(2005, 1, 1)))).astype(np.int64)
        founded = np.where(from_k > 0, cut[np.minimum(from_k, self.T - 1)] - rng.integers(0, 27, m), old)
        prefix = np.where(np.isin(etype, COMPANY_TYPES), "91", np.where(etype == "个体工商户", "92", "93"))
        names = [
            f"{self.names.get(c, '')}{who}{_SHOP[j % len(_SHOP)]}" if t == "个体工商户"
            else f"山东{_FIRM[j % len(_FIRM)]}{'合作社' if t == '农民专业合作社' else '商贸有限公司'}"
            for c, who, t, j in zip(b["county"].to_list(), b["name"].to_list(), etype.tolist(), range(m))
        ]  # fmt: skip
        return pl.DataFrame(
            {
                "credit_code": [
                    f"{p}{c}{code}" for p, c, code in zip(prefix, b["county"].to_list(), base33(np.arange(m), 10))
                ],
                "entity_name": names,
                "entity_type": etype,
                "rep_name": b["name"],
                "rep_id": b["id18"],
                "registered_capital": pl.Series(capital).zip_with(
                    pl.Series(~no_capital), pl.Series([None] * m, dtype=pl.Int64)
                ),
                "established_on": _dates(founded),
                "status": status,
                "from_k": from_k,
                "change_k": change_k,
            }
        )

    def business_frame(self, k: int) -> pl.DataFrame:
        rows = self.businesses.filter(pl.col("from_k") <= k)
        status = pl.when(pl.col("change_k") <= k).then(pl.lit("注销")).otherwise(pl.col("status"))
        return rows.with_columns(status=status).drop("from_k", "change_k")
