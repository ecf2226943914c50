"""Lay the run report out as one self-contained HTML page: plotly.js inlined, no external request,
so it opens offline from a USB stick or an e-mail attachment."""

from __future__ import annotations

import datetime as dt
from html import escape

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.offline import get_plotlyjs

from warehouse.exports.report.figures import Headline
from warehouse.exports.report.geometry import BASE_MAP_SCRIPT

_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 0;
       background: #F4F6F9; color: #222; }
header { background: #1F4E79; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
header p { margin: 0; opacity: .85; }
main { padding: 16px 32px 32px; max-width: 1280px; }
.kpis { display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; margin: 8px 0 16px; }
.kpi { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
.kpi b { display: block; font-size: 28px; }
.kpi span { color: #666; font-size: 13px; }
.kpi.alert b { color: #C00000; }
section { background: #fff; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px;
          box-shadow: 0 1px 3px rgba(0,0,0,.12); }
section h2 { font-size: 18px; margin: 4px 0 8px; }
section h3 { font-size: 15px; margin: 16px 0 4px; }
.note { color: #666; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; margin-top: 8px; }
th, td { border: 1px solid #D9D9D9; padding: 4px 8px; text-align: right; }
th { background: #EEF2F7; }
td.name, th.name { text-align: left; }
tr.bad td { background: #FDECEA; }
footer { color: #888; font-size: 12px; padding: 0 32px 24px; }
"""


def figure_div(fig: go.Figure, div_id: str) -> str:
    return pio.to_html(
        fig, full_html=False, include_plotlyjs=False, div_id=div_id,
        config={"displaylogo": False, "responsive": True, "locale": "zh-CN"},
    )  # fmt: skip


def kpis(h: Headline) -> str:
    cards = [
        ("未结预警", h.open, False), ("其中逾期", h.overdue, h.overdue > 0), ("本次新增", h.raised_this_run, False),
        ("累计已核查", h.answered, False), ("数据变化已消除", h.resolved_by_data, False),
        ("有未结预警的县区", h.counties_with_open, False),
    ]  # fmt: skip
    items = "".join(
        f'<div class="kpi{" alert" if alert else ""}"><b>{value:,}</b><span>{escape(label)}</span></div>'
        for label, value, alert in cards
    )
    return f'<div class="kpis">{items}</div>'


def html_table(frame: pl.DataFrame, names: dict[str, str], text_columns: set[str], bad: pl.Series | None = None) -> str:
    """A plain table: `names` maps frame columns to Chinese headers (and picks them, in order)."""
    head = "".join(
        f'<th class="{"name" if c in text_columns else ""}">{escape(label)}</th>' for c, label in names.items()
    )
    body = []
    flags = bad.to_list() if bad is not None else [False] * frame.height
    for row, flag in zip(frame.select(list(names)).iter_rows(named=True), flags):
        cells = "".join(
            f'<td class="{"name" if c in text_columns else ""}">{escape(_show(row[c]))}</td>' for c in names
        )
        body.append(f'<tr class="{"bad" if flag else ""}">{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{100 * value:.2f}%"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def section(title: str, *parts: str, note: str = "") -> str:
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{note_html}{''.join(parts)}</section>"


def page(run_date: dt.date, generated_at: dt.datetime, headline: Headline, sections: list[str]) -> str:
    title = f"低收入人口动态监测 运行报告 {run_date.isoformat()}"
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        f'<script type="text/javascript">{BASE_MAP_SCRIPT}</script></head><body>'  # read when the map is drawn
        f"<header><h1>{escape(title)}</h1><p>运行日期 {run_date.isoformat()} · 生成于 "
        f"{generated_at:%Y-%m-%d %H:%M}（北京时间） · 数据来源：发布库 monitoring.duckdb</p></header>"
        f"<main>{kpis(headline)}{''.join(sections)}</main>"
        "<footer>本报告只含统计数字，不含姓名和身份证号。迟交：数据集最新截止日期距运行日期超过一个报送周期加 7 天"
        "（周报 14 天、月报 38 天、季报 99 天、学期 190 天）。</footer></body></html>"
    )
