"""The rows of a warning workbook: open warnings joined to households, places and the vault.

Pure frame-to-frame functions; the vault's names and IDs are joined in here and leave only into the
workbook writer.
"""

from __future__ import annotations

import polars as pl

from warehouse.exports.layout import HEADERS, LEVEL_RANK, OPEN_STATUSES, RULE_NAMES

# internal columns carried beside the Chinese ones (not written to the workbook)
COUNTY = "_county_code"
TOWNSHIP = "_township_code"
EPISODE = "_episode"
SUBJECT = "_person_key"
WARNINGS = "_warnings"  # how many warnings a workbook row stands for (several once monthly ones are merged)
MONTHLY_EPISODE = "month:"  # docs/outputs.md#sheet-预警清单: W06 and W07(b) raise one warning per payment month
ID_SEPARATOR = "\n"  # the 预警编号 of a merged row: one number per line


def open_warnings(warnings: pl.DataFrame) -> pl.DataFrame:
    return warnings.filter(pl.col("status").is_in(OPEN_STATUSES))


def _label(code: pl.Expr, names: dict[str, str]) -> pl.Expr:
    """A place's name where reference data knows it, else its code (demo townships are invented)."""
    if not names:
        return code
    return code.replace_strict(names, default=code, return_dtype=pl.String)


def _person(people: pl.DataFrame, key: str, prefix: str) -> pl.DataFrame:
    return people.select(
        pl.col("person_key").alias(key),
        pl.col("name").alias(f"{prefix}_name"),
        pl.col("id_number").alias(f"{prefix}_id"),
    )


def workbook_rows(
    warnings: pl.DataFrame,
    households: pl.DataFrame,
    people: pl.DataFrame,
    township_names: dict[str, str] | None = None,
    village_names: dict[str, str] | None = None,
) -> pl.DataFrame:
    """One row per open warning, with the workbook's Chinese columns in order plus internal keys."""
    joined = (
        open_warnings(warnings)
        .join(
            households.select("household_id", "category", "region_code", "head_person_key"),
            on="household_id",
            how="left",
        )
        # D02: no household; the record's head is the subject and stands as the head
        .with_columns(
            pl.when(pl.col("head_person_key").is_null() & (pl.col("subject_type") == "household"))
            .then(pl.col("person_key"))
            .otherwise(pl.col("head_person_key"))
            .alias("head_person_key")
        )
        .join(_person(people, "head_person_key", "head"), on="head_person_key", how="left")
        .join(_person(people, "person_key", "subject"), on="person_key", how="left")
    )
    return joined.select(
        pl.col("warning_id").alias("预警编号"),
        pl.col("level").alias("预警等级"),
        pl.col("rule_code").replace_strict(RULE_NAMES, default=pl.col("rule_code")).alias("预警类型"),
        pl.col("rule_code").alias("规则编号"),
        pl.col("sub_case").alias("子类"),
        _label(pl.col("township_code"), township_names or {}).alias("乡镇(街道)"),
        _label(pl.col("region_code"), village_names or {}).alias("村(社区)"),
        pl.col("household_id").alias("家庭编号"),
        pl.col("head_name").alias("户主姓名"),
        pl.col("head_id").alias("户主身份证号"),
        pl.col("subject_name").alias("对象姓名"),
        pl.col("subject_id").alias("对象身份证号"),
        pl.col("category").alias("救助类别"),
        pl.col("evidence").alias("触发依据"),
        pl.lit(None, dtype=pl.String).alias("涉及月份"),
        pl.col("raised_on").alias("首次预警日期"),
        pl.col("deadline").alias("核查期限"),
        pl.col("status").alias("状态"),
        pl.col("suggested_action").alias("建议措施"),
        *[pl.lit(None, dtype=pl.String).alias(h) for h in HEADERS[HEADERS.index("核查结果") :]],
        pl.col("county_code").alias(COUNTY),
        pl.col("township_code").alias(TOWNSHIP),
        pl.col("episode").alias(EPISODE),
        pl.col("person_key").alias(SUBJECT),
        pl.lit(1, dtype=pl.UInt32).alias(WARNINGS),
    ).pipe(_in_order)


def _level_rank(level: pl.Expr) -> pl.Expr:
    return level.replace_strict(LEVEL_RANK, default=len(LEVEL_RANK), return_dtype=pl.Int8)


def _in_order(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.sort(pl.col("核查期限"), _level_rank(pl.col("预警等级")), pl.col("预警编号"), nulls_last=True)


def merge_monthly(rows: pl.DataFrame) -> pl.DataFrame:
    """One workbook row per subject and rule where the rule raises a warning per month (W06, W07(b)).

    The row lists every month (涉及月份) and every warning number (预警编号, one per line), the evidence
    of each month, the earliest raised date and deadline, the highest level, and 逾期 when any month is
    overdue: staff check the person once and one answer closes them all (the feedback model applies it to
    each number).
    """
    monthly = pl.col(EPISODE).fill_null("").str.starts_with(MONTHLY_EPISODE)
    singles, repeated = rows.filter(~monthly), rows.filter(monthly)
    if repeated.is_empty():
        return rows
    group = ["规则编号", "子类", SUBJECT, "家庭编号", COUNTY, TOWNSHIP]
    ordered = repeated.with_columns(pl.col(EPISODE).str.strip_prefix(MONTHLY_EPISODE).alias("_month")).sort("_month")
    merged = ordered.group_by(group, maintain_order=True).agg(
        pl.col("预警编号").str.join(ID_SEPARATOR),
        pl.col("预警等级").sort_by(_level_rank(pl.col("预警等级"))).first(),
        pl.col("触发依据").str.join(ID_SEPARATOR),
        pl.col("_month").str.join("、").alias("涉及月份"),
        pl.col("首次预警日期").min(),
        pl.col("核查期限").min(),
        pl.when((pl.col("状态") == "逾期").any()).then(pl.lit("逾期")).otherwise(pl.lit("待核查")).alias("状态"),
        pl.col(EPISODE).first(),
        pl.col(WARNINGS).sum(),
        pl.exclude(*group, "预警编号", "预警等级", "触发依据", "涉及月份", "首次预警日期", "核查期限", "状态",
                   EPISODE, WARNINGS, "_month").first(),
    )  # fmt: skip
    return _in_order(pl.concat([singles, merged.select(rows.columns)], how="vertical_relaxed"))


def split_warning_ids(cell: pl.Expr) -> pl.Expr:
    """The warning numbers a returned 预警编号 cell holds (a merged row lists several; any of these
    separators, as a spreadsheet or a clerk may leave them)."""
    return cell.str.replace_all(r"[\s,，、;；]+", " ").str.strip_chars().str.split(" ")


def summary_by_township(rows: pl.DataFrame, no_township: str = "（无乡镇）") -> pl.DataFrame:
    """汇总: counts by township × type × level, with the overdue among them, and a total row."""
    counted = (
        rows.with_columns(pl.col("乡镇(街道)").fill_null(no_township))
        .group_by("乡镇(街道)", "预警类型", "规则编号")
        .agg(
            *[(pl.col("预警等级") == level).sum().alias(level) for level in LEVEL_RANK],
            pl.len().alias("合计"),
            (pl.col("状态") == "逾期").sum().alias("其中逾期"),
        )
        .sort("乡镇(街道)", "规则编号")
        .drop("规则编号")
    )
    total = counted.select(
        pl.lit("合计").alias("乡镇(街道)"),
        pl.lit("").alias("预警类型"),
        *[pl.col(c).sum() for c in (*LEVEL_RANK, "合计", "其中逾期")],
    )
    return pl.concat([counted, total], how="vertical_relaxed")
