"""The run report's figures, as frames: pure functions of the register, the ledger tables and reference.

Each function answers one question a manager asks; `charts.py` draws them, `page.py` lays them out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from ingestion.contracts import all_contracts
from warehouse.exports.layout import LEVELS, OPEN_STATUSES, PROVINCE_CODE, RULE_NAMES
from warehouse.exports.mart import conform, typed

# the "four routes" of 39号 §三(四) (docs/outputs.md#the-run-report) that a 处置措施 answer falls into
ROUTES: dict[str, tuple[str, ...]] = {
    "政策落实（应享未享）": ("纳入特困", "纳入低保", "单人保", "纳入低保边缘", "纳入刚性支出困难"),
    "转介部门（医疗/教育/住房/就业/临时救助）": ("医疗救助", "教育救助", "住房救助", "就业帮扶", "临时救助"),
    "一事一议（其他）": ("其他",),
    "核实后退出（停发退出、追回资金）": ("停发退出", "追回资金"),
}
NO_ACTION, NOT_GIVEN = "无需处置", "未填处置措施"
PROVINCE_LABEL = "省级派发"
# A dataset is late when its newest cut-off is older than this many days at the run date: one period
# plus a week's grace (docs/extracts.md#datasets gives the frequency, not a deadline).
LATE_AFTER_DAYS = {"weekly": 14, "monthly": 38, "quarterly": 99, "each_term": 190}


def contracts() -> pl.DataFrame:
    """dataset, title, frequency of every contract."""
    rows = [(c.dataset, c.title, c.frequency or "any_time") for c in all_contracts().values()]
    return pl.DataFrame(rows, schema=["dataset", "title", "frequency"], orient="row")


def open_only(warnings: pl.DataFrame) -> pl.DataFrame:
    return warnings.filter(pl.col("status").is_in(OPEN_STATUSES))


@dataclass(frozen=True)
class Headline:
    open: int
    overdue: int
    raised_this_run: int
    answered: int
    resolved_by_data: int
    counties_with_open: int


def headline(warnings: pl.DataFrame, run_date: dt.date) -> Headline:
    open_ = open_only(warnings)
    return Headline(
        open=open_.height,
        overdue=open_.filter(pl.col("status") == "逾期").height,
        raised_this_run=warnings.filter(pl.col("raised_on") == run_date).height,
        answered=warnings.filter(pl.col("status") == "已核查").height,
        resolved_by_data=warnings.filter(pl.col("status") == "已消除").height,
        counties_with_open=open_.filter(pl.col("county_code") != PROVINCE_CODE)["county_code"].n_unique(),
    )


def level_by_type(warnings: pl.DataFrame) -> pl.DataFrame:
    """Open warnings: rule × level counts, every rule and level present (zeros included)."""
    grid = pl.DataFrame({"rule_code": list(RULE_NAMES)}).join(pl.DataFrame({"level": list(LEVELS)}), how="cross")
    counted = open_only(warnings).group_by("rule_code", "level").agg(pl.len().alias("n"))
    return grid.join(counted, on=["rule_code", "level"], how="left").with_columns(
        pl.col("n").fill_null(0), pl.col("rule_code").replace_strict(RULE_NAMES).alias("rule_name")
    )


def by_city(warnings: pl.DataFrame, counties: pl.DataFrame) -> pl.DataFrame:
    """Open warnings per city (all 16, zeros included) and the province-level ones as 省级."""
    cities = counties.select("city_code", "city_name").unique().sort("city_code")
    placed = (
        open_only(warnings)
        .join(counties.select("county_code", "city_code"), on="county_code", how="left")
        .with_columns(pl.col("city_code").fill_null("37"))
    )
    counted = placed.group_by("city_code").agg(
        *[(pl.col("level") == level).sum().alias(level) for level in LEVELS],
        pl.len().alias("合计"),
        (pl.col("status") == "逾期").sum().alias("逾期"),
    )
    everyone = pl.concat([cities, pl.DataFrame({"city_code": ["37"], "city_name": [PROVINCE_LABEL]})])
    ranked = everyone.join(counted, on="city_code", how="left").fill_null(0)
    return ranked.sort(pl.col("city_code") == "37", "city_code")  # the province-level row last


def open_by_county(warnings: pl.DataFrame, counties: pl.DataFrame) -> pl.DataFrame:
    """Every county of regions.csv (zeros included) with its open warnings by level and the overdue: the map."""
    counted = (
        open_only(warnings)
        .group_by("county_code")
        .agg(
            *[(pl.col("level") == level).sum().alias(level) for level in LEVELS],
            pl.len().alias("合计"),
            (pl.col("status") == "逾期").sum().alias("逾期"),
        )
    )
    return (
        counties.select("county_code", "county_name", "city_name")
        .join(counted, on="county_code", how="left")
        .with_columns(pl.col(*LEVELS, "合计", "逾期").fill_null(0))
        .sort("county_code")
    )


def by_county(warnings: pl.DataFrame, counties: pl.DataFrame, top: int = 30) -> pl.DataFrame:
    """Open and overdue per county (the `top` counties with most open), labelled 市·县."""
    names = counties.select("county_code", (pl.col("city_name") + "·" + pl.col("county_name")).alias("label"))
    return (
        open_only(warnings)
        .group_by("county_code")
        .agg((pl.col("status") == "待核查").sum().alias("待核查"), (pl.col("status") == "逾期").sum().alias("逾期"))
        .join(names, on="county_code", how="left")
        .with_columns(
            pl.when(pl.col("county_code") == PROVINCE_CODE)
            .then(pl.lit(PROVINCE_LABEL))
            .otherwise(pl.col("label").fill_null(pl.col("county_code")))
            .alias("label"),
            (pl.col("待核查") + pl.col("逾期")).alias("合计"),
        )
        .sort(["合计", "逾期", "county_code"], descending=[True, True, False])
        .head(top)
    )


def run_dates(warnings: pl.DataFrame, runs: pl.DataFrame | None, run_date: dt.date) -> list[dt.date]:
    """The runs to show: the ledger's run dates, else the register's own dates, up to this run."""
    dates: set[dt.date] = {run_date}
    if runs is not None and "run_date" in runs.columns:
        dates |= {d for d in runs.select(typed(runs, "run_date", pl.Date())).to_series().to_list() if d is not None}
    for column in ("first_run_date", "last_run_date"):
        dates |= {d for d in warnings[column].to_list() if d is not None}
    return sorted(d for d in dates if d <= run_date)


def trend(warnings: pl.DataFrame, runs: pl.DataFrame | None, run_date: dt.date) -> pl.DataFrame:
    """Per run: warnings raised in it, warnings whose trigger held in it, answers received by then."""
    rows = []
    for day in run_dates(warnings, runs, run_date):
        rows.append((
            day,
            warnings.filter(pl.col("raised_on") == day).height,
            warnings.filter((pl.col("first_run_date") <= day) & (pl.col("last_run_date") >= day)).height,
            warnings.filter(pl.col("checked_on") <= day).height,
        ))  # fmt: skip
    schema = {"run_date": pl.Date, "新增": pl.Int64, "触发中": pl.Int64, "累计已核查": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def route_of(action: pl.Expr) -> pl.Expr:
    mapping = {a: route for route, actions in ROUTES.items() for a in actions} | {NO_ACTION: NO_ACTION}
    return action.replace_strict(mapping, default=NOT_GIVEN, return_dtype=pl.String)


def answers_by_route(warnings: pl.DataFrame) -> pl.DataFrame:
    """Answered warnings by route × finding (every route shown, zeros included)."""
    answered = warnings.filter(pl.col("finding").is_not_null())
    counted = answered.group_by(route_of(pl.col("action")).alias("route"), "finding").agg(pl.len().alias("n"))
    grid = pl.DataFrame({"route": [*ROUTES, NO_ACTION, NOT_GIVEN]}).join(
        pl.DataFrame({"finding": ["属实", "不属实", "无法核实"]}), how="cross"
    )
    return grid.join(counted, on=["route", "finding"], how="left").with_columns(pl.col("n").fill_null(0))


_LANDINGS = {
    "dataset": pl.String(), "cutoff_date": pl.Date(), "status": pl.String(),
    "rows_in": pl.Int64(), "rows_landed": pl.Int64(), "rows_rejected": pl.Int64(),
}  # fmt: skip
_HOLDS = {"dataset": pl.String(), "released": pl.Int64()}


def data_quality(landings: pl.DataFrame | None, holds: pl.DataFrame | None, run_date: dt.date) -> pl.DataFrame:
    """Per dataset: files, rows landed and rejected, deliveries held back, newest cut-off, late or not."""
    landed = conform(landings, _LANDINGS, "ledger_landings")
    per = landed.group_by("dataset").agg(
        pl.len().alias("files"),
        pl.col("rows_in").sum().alias("rows_in"),
        pl.col("rows_landed").filter(pl.col("status").is_in(["landed", "superseded"])).sum().alias("rows_landed"),
        pl.col("rows_rejected").sum().alias("rows_rejected"),
        (pl.col("status") == "rejected").sum().alias("files_rejected"),
        pl.col("cutoff_date").filter(pl.col("status") == "landed").max().alias("latest_cutoff"),
    )
    held = (
        conform(holds, _HOLDS, "ledger_holds")
        .filter(~pl.col("released").cast(pl.Boolean).fill_null(False))  # a released hold is in use again
        .group_by("dataset")
        .agg(pl.len().alias("held_back"))
    )
    numbers = ["files", "rows_in", "rows_landed", "rows_rejected", "files_rejected", "held_back"]
    return (
        contracts()
        .join(per, on="dataset", how="left")
        .join(held, on="dataset", how="left")
        .with_columns(pl.col(numbers).fill_null(0).cast(pl.Int64))
        .with_columns(
            pl.when(pl.col("rows_in") > 0)
            .then(pl.col("rows_rejected") / pl.col("rows_in"))
            .otherwise(0.0)
            .alias("rejected_share"),
            _late(run_date).alias("late"),
        )
        .sort("dataset")
    )


_REJECTIONS = {"dataset": pl.String(), "reason": pl.String()}


def rejection_reasons(rejections: pl.DataFrame | None, top: int = 12) -> pl.DataFrame:
    """The most frequent rejection reasons: dataset title, reason code, rejected cells."""
    counted = (
        conform(rejections, _REJECTIONS, "ledger_rejections")
        .group_by("dataset", "reason")
        .agg(pl.len().alias("rows"))
        .join(contracts().select("dataset", "title"), on="dataset", how="left")
        .with_columns(pl.col("title").fill_null(pl.col("dataset")))
    )
    return counted.sort(["rows", "dataset", "reason"], descending=[True, False, False]).head(top)


def _late(run_date: dt.date) -> pl.Expr:
    allowed = pl.col("frequency").replace_strict(LATE_AFTER_DAYS, default=None, return_dtype=pl.Int64)
    age = (pl.lit(run_date) - pl.col("latest_cutoff")).dt.total_days()
    return (
        pl.when(allowed.is_null()).then(pl.lit(False))
        .when(pl.col("latest_cutoff").is_null()).then(pl.lit(True))
        .otherwise(age > allowed)
    )  # fmt: skip
