"""The run report's charts (plotly), one function per figure, Chinese labels, a manager's glance.

Figures only: no data is read here (see figures.py) and no HTML is written (see page.py).
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from warehouse.exports.layout import LEVELS

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, WenQuanYi Micro Hei, sans-serif"
LEVEL_COLOURS = {"红": "#E8453C", "橙": "#F59A23", "黄": "#F2CC0C"}
FINDING_COLOURS = {"属实": "#2E75B6", "不属实": "#A5A5A5", "无法核实": "#7F6084"}


def _layout(fig: go.Figure, title: str, height: int = 380, left: int = 60) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 16}},
        font={"family": FONT, "size": 13},
        template="plotly_white",
        height=height,
        margin={"l": left, "r": 20, "t": 56, "b": 60},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    return fig


def level_by_type(table: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    for level in LEVELS:
        part = table.filter(pl.col("level") == level)
        fig.add_bar(
            x=part["rule_name"].to_list(),
            y=part["n"].to_list(),
            name=f"{level}色",
            marker_color=LEVEL_COLOURS[level],
            hovertemplate="%{x}<br>" + level + "色 %{y} 条<extra></extra>",
        )
    fig.update_layout(barmode="stack", yaxis_title="未结预警（条）")
    fig.update_xaxes(automargin=True)
    say_when_empty(fig, int(table["n"].sum()) == 0, "本次运行没有未结预警")
    return _layout(fig, "未结预警：按类型和等级", height=420, left=100)


def county_map(table: pl.DataFrame, counties: dict, cities: dict, province_level: int = 0) -> go.Figure:
    """Shandong's counties coloured by open warnings, the cities' borders drawn over them (geometry.py)."""
    rows = table.to_dicts()
    fig = go.Figure(go.Choropleth(
        geojson=counties, locations=[r["county_code"] for r in rows], z=[r["合计"] for r in rows],
        zmin=0, zmax=max([r["合计"] for r in rows] + [1]), colorscale="OrRd", name="未结预警",
        marker={"line": {"color": "#9A9A9A", "width": 0.4}},
        colorbar={"title": {"text": "未结"}, "thickness": 14, "len": 0.7},
        text=[f"{r['city_name']}·{r['county_name']}" for r in rows],
        customdata=[[r["红"], r["橙"], r["黄"], r["逾期"]] for r in rows],
        hovertemplate="%{text}<br>未结 %{z} 条：红 %{customdata[0]} · 橙 %{customdata[1]} · 黄 %{customdata[2]}"
                      "<br>其中逾期 %{customdata[3]}<extra></extra>",
    ))  # fmt: skip
    city_codes = [f["id"] for f in cities["features"]]
    fig.add_trace(go.Choropleth(
        geojson=cities, locations=city_codes, z=[0] * len(city_codes), showscale=False, name="市界",
        colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], marker={"line": {"color": "#333333", "width": 1.4}},
        hoverinfo="skip",
    ))  # fmt: skip
    fig.update_geos(fitbounds="locations", visible=False)
    title = "各县区未结预警（地图；粗线为市界）"
    if province_level:
        title += f"　另有省级派发 {province_level} 条"
    fig = _layout(fig, title, height=560)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 56, "b": 10})
    return fig


def say_when_empty(fig: go.Figure, empty: bool, why: str) -> go.Figure:
    """An empty chart says why in words instead of showing bare axes."""
    if not empty:
        return fig
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(showlegend=False)
    fig.add_annotation(text=why, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": 16, "color": "#666666"})  # fmt: skip
    return fig


def trend(table: pl.DataFrame) -> go.Figure:
    x = [d.isoformat() for d in table["run_date"].to_list()]
    fig = go.Figure()
    fig.add_bar(x=x, y=table["新增"].to_list(), name="本次新增", marker_color="#F59A23")
    fig.add_scatter(x=x, y=table["触发中"].to_list(), name="触发中", mode="lines+markers", line={"color": "#E8453C"})
    fig.add_scatter(
        x=x, y=table["累计已核查"].to_list(), name="累计已核查", mode="lines+markers", line={"color": "#2E75B6"}
    )
    fig.update_xaxes(type="category", title="运行日期")
    fig.update_yaxes(title="预警（条）")
    return _layout(fig, "历次运行趋势")


def by_county(table: pl.DataFrame) -> go.Figure:
    ordered = table.reverse()  # largest on top of a horizontal bar chart
    fig = go.Figure()
    fig.add_bar(
        y=ordered["label"].to_list(), x=ordered["逾期"].to_list(), name="逾期", orientation="h", marker_color="#C00000"
    )
    fig.add_bar(
        y=ordered["label"].to_list(),
        x=ordered["待核查"].to_list(),
        name="待核查",
        orientation="h",
        marker_color="#F59A23",
    )
    fig.update_layout(barmode="stack", xaxis_title="未结预警（条）")
    fig.update_yaxes(automargin=True)
    title = f"未结与逾期预警最多的县区（前 {table.height} 个）"
    say_when_empty(fig, table.is_empty(), "没有县区有未结预警")
    return _layout(fig, title, height=max(360, 26 * table.height + 140), left=160)


def answers_by_route(table: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    for finding, colour in FINDING_COLOURS.items():
        part = table.filter(pl.col("finding") == finding)
        labels = [route.replace("（", "<br>（") for route in part["route"].to_list()]  # wrap long route names
        fig.add_bar(x=labels, y=part["n"].to_list(), name=finding, marker_color=colour)
    fig.update_layout(barmode="stack", yaxis_title="已反馈预警（条）")
    fig.update_xaxes(tickangle=0, automargin=True)
    say_when_empty(fig, int(table["n"].sum()) == 0, "尚无回传的核查结果：各县区交回预警清单后，此处按处置路径统计")
    return _layout(fig, "核查反馈：按处置路径和核查结果", height=420)


def _quality_flags(row: dict) -> str:
    flags = [f"{100 * row['rejected_share']:.1f}%"]
    if row["files"] == 0:
        flags.append("未交付")
    elif row["late"]:
        flags.append("迟交")
    if row["held_back"]:
        flags.append(f"暂缓 {row['held_back']} 批")
    if row["files_rejected"]:
        flags.append(f"整文件拒收 {row['files_rejected']}")
    return " · ".join(flags)


def data_quality(table: pl.DataFrame) -> go.Figure:
    """Rejected share per dataset, red where the dataset is late or held back; the flags written beside."""
    rows = list(reversed(table.to_dicts()))  # first dataset on top
    fig = go.Figure(go.Bar(
        y=[r["title"] for r in rows], x=[round(100 * r["rejected_share"], 2) for r in rows], orientation="h",
        marker_color=["#C00000" if r["late"] or r["held_back"] else "#2E75B6" for r in rows], name="拒收率",
        text=[_quality_flags(r) for r in rows], textposition="outside", cliponaxis=False,
        customdata=[[r["rows_landed"], r["rows_rejected"], r["held_back"]] for r in rows],
        hovertemplate="%{y}<br>拒收率 %{x}%<br>入库 %{customdata[0]} 行 · 拒收 %{customdata[1]} 行"
                      "<br>暂缓使用 %{customdata[2]} 批<extra></extra>",
    ))  # fmt: skip
    top = max([100 * r["rejected_share"] for r in rows] + [1.0])
    fig.update_layout(xaxis_title="拒收行占比（%）", showlegend=False, xaxis_range=[0, top * 1.6])
    fig.update_yaxes(automargin=True)
    title = "各数据集拒收率（红色：迟交或有暂缓使用的批次）"
    return _layout(fig, title, height=max(380, 26 * table.height + 120), left=220)
