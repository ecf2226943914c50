"""What a run could not do, in Chinese, for the run summary (CLI) and the run report's data-quality section.

Read from the published mart (docs/failure_policy.md): `published_tables` (which run built each table, since when a
newer one is missing), and the latest build of the run date in `ledger_run_models` (rules not evaluated, models that
errored) and `ledger_data_tests` (data tests that failed, with their failing rows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from ingestion.settings import DataRoot
from warehouse.exports.layout import RULE_NAMES
from warehouse.exports.mart import read_tables

# the published mart's tables as staff and analysts call them
PART_NAMES = {
    "fct_warnings": "预警台账",
    "fct_identification": "认定结果",
    "fct_identification_trace": "认定过程",
    "fct_identification_review_deadlines": "认定审核时限",
    "fct_assistance_chain": "一户一条救助链",
    "chain_missed_assistance": "救助链·应享未享",
    "chain_duplicated_assistance": "救助链·重复救助",
    "dim_household": "家庭信息",
    "dim_person": "人员信息",
    "mart_household_monitoring": "家庭监测汇总",
}
_TABLES = ["published_tables", "ledger_run_models", "ledger_data_tests"]


@dataclass(frozen=True)
class RunFailures:
    missing_parts: pl.DataFrame  # 部分, table_name, 发布版本, 缺失起始
    rules_not_evaluated: list[str]  # rule codes
    errored_models: pl.DataFrame  # 模型, 错误
    advisory_failures: pl.DataFrame  # 检查, 模型, 结果, 不符行数: advisory data tests that failed

    @property
    def degraded(self) -> bool:
        return bool(self.missing_parts.height or self.rules_not_evaluated or self.errored_models.height)


def read_failures(root: DataRoot, run_date: dt.date) -> RunFailures:
    tables = read_tables(root, _TABLES)
    models = _latest_build(tables["ledger_run_models"], run_date)
    tests = _latest_build(tables["ledger_data_tests"], run_date)
    return RunFailures(
        missing_parts=_missing_parts(tables["published_tables"]),
        rules_not_evaluated=sorted(
            {str(r) for r in models.filter(pl.col("status") != "built")["rule_code"].drop_nulls().to_list()}
        ),
        errored_models=models.filter(pl.col("status") == "error").select(
            pl.col("model").alias("模型"), pl.col("message").alias("错误")
        ),
        advisory_failures=tests.filter((pl.col("class") == "advisory") & pl.col("status").is_in(["fail", "error"]))
        .select(
            pl.col("test").alias("检查"),
            pl.col("model").alias("模型"),
            pl.col("status").replace_strict({"fail": "未通过", "error": "无法执行"}, default="未通过").alias("结果"),
            pl.col("failing_rows").cast(pl.Int64).alias("不符行数"),
        )
        .sort("检查"),
    )


def _latest_build(frame: pl.DataFrame | None, run_date: dt.date) -> pl.DataFrame:
    """Rows of the latest build of `run_date` (a rerun of the date replaces the earlier build's)."""
    if frame is None or frame.is_empty():
        return pl.DataFrame(schema={"status": pl.String, "rule_code": pl.String, "model": pl.String,
                                    "message": pl.String, "test": pl.String, "class": pl.String,
                                    "failing_rows": pl.Int64})  # fmt: skip
    of_date = frame.filter(pl.col("run_date").cast(pl.String) == run_date.isoformat())
    if of_date.is_empty():
        return of_date
    return of_date.filter(pl.col("built_at") == of_date["built_at"].max())


def _missing_parts(provenance: pl.DataFrame | None) -> pl.DataFrame:
    schema = {"部分": pl.String, "table_name": pl.String, "发布版本": pl.String, "缺失起始": pl.Date}
    if provenance is None:
        return pl.DataFrame(schema=schema)
    missing = provenance.filter(~pl.col("is_current"))
    return missing.select(
        (pl.col("table_name").replace_strict(PART_NAMES, default=pl.col("table_name"))).alias("部分"),
        "table_name",
        pl.when(pl.col("run_date").is_null())
        .then(pl.lit("发布库中没有此表"))
        .otherwise(pl.lit("沿用 ") + pl.col("run_date").cast(pl.String) + pl.lit(" 运行的版本"))
        .alias("发布版本"),
        pl.col("missing_since").alias("缺失起始"),
    ).sort("table_name")


def summary_lines(failures: RunFailures) -> list[str]:
    """One Chinese sentence per missing part, rule not evaluated, model that errored and failed data test."""
    lines = [
        f"{row['部分']}（{row['table_name']}）本次未能生成：{row['发布版本']}（自 {row['缺失起始']} 起缺少新版本）。"
        for row in failures.missing_parts.iter_rows(named=True)
    ]
    lines += [
        f"规则 {code}（{RULE_NAMES.get(code, code)}）本次未评估：其已有预警原样沿用，不因未评估而消除。"
        for code in failures.rules_not_evaluated
    ]
    errored = failures.errored_models.iter_rows(named=True)
    lines += [f"模型 {row['模型']} 运行出错：{row['错误'] or '无详细信息'}" for row in errored]
    lines += [
        f"提示性检查 {row['检查']}（{row['模型'] or '—'}）{_outcome(row['不符行数'])}（不影响本次运行）。"
        for row in failures.advisory_failures.iter_rows(named=True)
    ]
    return lines


def _outcome(failing_rows: int | None) -> str:
    if failing_rows is None:
        return "无法执行"
    return f"未通过：{failing_rows:,} 行不符，明细见发布库 audit 模式"
