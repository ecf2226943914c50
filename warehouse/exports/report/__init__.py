"""The run report: one self-contained HTML page per run, `exports/<run date>/运行报告_<run date>.html`."""

from __future__ import annotations

import datetime as dt
import logging
import os
from html import escape
from pathlib import Path

import polars as pl

from ingestion import scratch
from ingestion.dates import CHINA
from ingestion.reference import load_reference
from ingestion.settings import DataRoot
from warehouse.exports.layout import RULE_NAMES
from warehouse.exports.mart import WARNING_COLUMNS, conform, read_tables
from warehouse.exports.report import charts, figures, geometry
from warehouse.exports.report.labels import reason_label
from warehouse.exports.report.page import figure_div, html_table, page, section
from warehouse.failure_view import RunFailures, read_failures

log = logging.getLogger(__name__)

LEDGER_TABLES = ["ledger_landings", "ledger_rejections", "ledger_holds", "ledger_runs"]
CHART_IDS = ("chart-level-type", "chart-map", "chart-trend", "chart-county", "chart-routes", "chart-quality")


def report_name(run_date: dt.date) -> str:
    return f"运行报告_{run_date.isoformat()}.html"


def render_report(root: DataRoot, run_date: dt.date) -> str:
    """The report's HTML for the published mart as it stands."""
    tables = read_tables(root, ["fct_warnings", *LEDGER_TABLES])
    warnings = conform(tables["fct_warnings"], WARNING_COLUMNS, "fct_warnings")
    counties = load_reference(root).counties()
    cities = figures.by_city(warnings, counties)
    quality = figures.data_quality(tables["ledger_landings"], tables["ledger_holds"], run_date)
    answered = warnings.filter(warnings["finding"].is_not_null()).height
    reasons = figures.rejection_reasons(tables["ledger_rejections"]).with_columns(
        pl.col("reason").map_elements(reason_label, return_dtype=pl.String).alias("reason_label")
    )
    province_level = int(cities.filter(pl.col("city_code") == "37")["合计"].sum())
    county_map = charts.county_map(
        figures.open_by_county(warnings, counties), geometry.counties(), geometry.cities(), province_level
    )
    sections = [
        section("预警概况", figure_div(charts.level_by_type(figures.level_by_type(warnings)), CHART_IDS[0])),
        section(
            "各市分布",
            figure_div(county_map, CHART_IDS[1]),
            html_table(
                cities,
                {"city_name": "市", "红": "红", "橙": "橙", "黄": "黄", "合计": "未结合计", "逾期": "其中逾期"},
                {"city_name"},
                cities["逾期"] > 0,
            ),
        ),
        section(
            "历次运行",
            figure_div(charts.trend(figures.trend(warnings, tables["ledger_runs"], run_date)), CHART_IDS[2]),
            note="新增：该次运行首次发出的预警；触发中：该次运行触发条件成立的预警；累计已核查：截至该日已回传核查结果的预警。",
        ),
        section("县区未结与逾期", figure_div(charts.by_county(figures.by_county(warnings, counties)), CHART_IDS[3])),
        section(
            "核查反馈",
            figure_div(charts.answers_by_route(figures.answers_by_route(warnings)), CHART_IDS[4]),
            note=f"已回传核查结果 {answered} 条。处置措施按四条路径归类（国办发〔2023〕39号 三(四)）。",
        ),
        section(
            "数据质量",
            figure_div(charts.data_quality(quality), CHART_IDS[5]),
            html_table(
                quality,
                {
                    "title": "数据集",
                    "files": "文件数",
                    "rows_in": "行数",
                    "rows_landed": "入库行",
                    "rows_rejected": "拒收行",
                    "rejected_share": "拒收率",
                    "files_rejected": "整文件拒收",
                    "held_back": "暂缓使用批次",
                    "latest_cutoff": "最新截止日期",
                    "late": "迟交",
                },
                {"title"},
                quality["late"] | (quality["held_back"] > 0),
            ),
            "<h3>主要拒收原因</h3>",
            html_table(
                reasons,
                {"title": "数据集", "reason_label": "拒收原因", "reason": "原因代码", "rows": "拒收单元格数"},
                {"title", "reason_label", "reason"},
            ),
            *failure_parts(read_failures(root, run_date)),
            note="原因代码即发布库 ledger_rejections 的 reason 列；整文件拒收的文件，每个数据行都计为拒收。",
        ),
    ]
    generated = dt.datetime.now(CHINA)
    return page(run_date, generated, figures.headline(warnings, run_date), sections)


def failure_parts(failures: RunFailures) -> list[str]:
    """The run's missing parts and failed data tests (docs/failure_policy.md), for the data-quality section."""
    parts = ["<h3>本次运行未能生成的部分</h3>"]
    if not failures.degraded:
        parts.append('<p class="note">无：本次运行生成了全部内容。</p>')
    if failures.missing_parts.height:
        names = {"部分": "部分", "table_name": "数据表", "发布版本": "发布库中的版本", "缺失起始": "自何时起缺少新版本"}
        parts.append(html_table(failures.missing_parts, names, {"部分", "table_name", "发布版本"}))
    for code in failures.rules_not_evaluated:
        name = RULE_NAMES.get(code, code)
        parts.append(f'<p class="note">规则 {escape(code)}（{escape(name)}）本次未评估：其已有预警原样沿用。</p>')
    if failures.errored_models.height:
        parts.append(html_table(failures.errored_models, {"模型": "出错的模型", "错误": "错误信息"}, {"模型", "错误"}))
    parts.append("<h3>提示性数据检查未通过（不影响运行）</h3>")
    if failures.advisory_failures.height:
        names = {"检查": "检查", "模型": "模型", "结果": "结果", "不符行数": "不符行数"}
        parts.append(html_table(failures.advisory_failures, names, {"检查", "模型", "结果"}))
    else:
        parts.append('<p class="note">无：全部数据检查通过。</p>')
    return parts


def write_report(root: DataRoot, run_date: dt.date, folder: Path | None = None) -> Path:
    """Write the report for `run_date` (atomically) and return its path."""
    folder = folder or root.exports / run_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / report_name(run_date)
    tmp = scratch.temp_path(path)
    try:
        tmp.write_text(render_report(root, run_date), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("run report %s", path)
    return path


__all__ = ["CHART_IDS", "render_report", "report_name", "write_report"]
