"""The province summary workbook: counts by city, county, rule and level, and the province-level
warnings (a D01 whose person is not from Shandong, docs/outputs.md#the-province-summary), which go nowhere else."""

from __future__ import annotations

import polars as pl

from warehouse.exports.layout import LEVELS, PROVINCE_CODE, PROVINCE_NAME, RULE_NAMES
from warehouse.exports.rows import COUNTY

_PROVINCE_PLACE = {"city_name": "省级", "county_name": f"{PROVINCE_NAME}（省级派发）"}


def with_places(rows: pl.DataFrame, counties: pl.DataFrame) -> pl.DataFrame:
    """Each row with 市 and 县区 names (province-level dispatch named as such)."""
    places = counties.select(
        pl.col("county_code").alias(COUNTY), pl.col("city_code"), pl.col("city_name"), pl.col("county_name")
    )
    return rows.join(places, on=COUNTY, how="left").with_columns(
        pl.when(pl.col(COUNTY) == PROVINCE_CODE).then(pl.lit("37")).otherwise(pl.col("city_code")).alias("city_code"),
        pl.col("city_name").fill_null(_PROVINCE_PLACE["city_name"]),
        pl.col("county_name").fill_null(_PROVINCE_PLACE["county_name"]),
    )


def _counts() -> list[pl.Expr]:
    return [
        *[(pl.col("预警等级") == level).sum().alias(level) for level in LEVELS],
        pl.len().alias("合计"),
        (pl.col("状态") == "逾期").sum().alias("其中逾期"),
    ]


def _with_total(table: pl.DataFrame, label_column: str) -> pl.DataFrame:
    numbers = [*LEVELS, "合计", "其中逾期"]
    total = table.select(
        *[pl.lit("合计" if c == label_column else "").alias(c) for c in table.columns if c not in numbers],
        *[pl.col(c).sum() for c in numbers],
    ).select(table.columns)
    return pl.concat([table, total], how="vertical_relaxed")


def by_county(placed: pl.DataFrame) -> pl.DataFrame:
    table = (
        placed.group_by("city_code", "city_name", COUNTY, "county_name")
        .agg(_counts())
        .sort("city_code", COUNTY)
        .select(
            pl.col("city_name").alias("市"),
            pl.col(COUNTY).alias("县区代码"),
            pl.col("county_name").alias("县区"),
            *LEVELS,
            "合计",
            "其中逾期",
        )  # fmt: skip
    )
    return _with_total(table, "市")


def by_city(placed: pl.DataFrame) -> pl.DataFrame:
    table = (
        placed.group_by("city_code", "city_name").agg(_counts()).sort("city_code")
        .select(pl.col("city_name").alias("市"), *LEVELS, "合计", "其中逾期")
    )  # fmt: skip
    return _with_total(table, "市")


def by_rule(placed: pl.DataFrame) -> pl.DataFrame:
    order = {code: i for i, code in enumerate(RULE_NAMES)}
    table = (
        placed.group_by("规则编号", "预警类型")
        .agg(_counts())
        .sort(pl.col("规则编号").replace_strict(order, default=len(order), return_dtype=pl.Int16))
        .select("规则编号", "预警类型", *LEVELS, "合计", "其中逾期")
    )
    return _with_total(table, "规则编号")


def by_county_rule_level(placed: pl.DataFrame) -> pl.DataFrame:
    """The long table (one row per city, county, rule, level) for pivoting."""
    return (
        placed.group_by("city_code", "city_name", COUNTY, "county_name", "规则编号", "预警类型", "预警等级")
        .agg(pl.len().alias("条数"), (pl.col("状态") == "逾期").sum().alias("其中逾期"))
        .sort("city_code", COUNTY, "规则编号", "预警等级")
        .select(
            pl.col("city_name").alias("市"),
            pl.col(COUNTY).alias("县区代码"),
            pl.col("county_name").alias("县区"),
            "规则编号",
            "预警类型",
            "预警等级",
            "条数",
            "其中逾期",
        )  # fmt: skip
    )
