"""Warnings overview: the register of the published mart by level, rule, city and over the runs.

Run:  SAFETYNET_DATA=./data uv run marimo edit notebooks/warnings_overview.py
HTML: SAFETYNET_DATA=./data uv run marimo export html notebooks/warnings_overview.py -o warnings.html
Reads `<data root>/published/monitoring.duckdb` read-only; it holds person keys, never IDs or names.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="预警总览 · warnings overview")

with app.setup:
    import duckdb
    import marimo as mo
    import plotly.express as px
    import polars as pl

    from ingestion.settings import DataRoot
    from warehouse.publish import published_path

    LEVEL_ORDER = ["红", "橙", "黄"]
    LEVEL_COLOURS = {"红": "#d62728", "橙": "#ff7f0e", "黄": "#e5c100"}
    OPEN = ("待核查", "逾期")


@app.cell
def _():
    mart = published_path(DataRoot.from_env())
    mo.stop(not mart.is_file(), mo.md(f"No published mart at `{mart}`: set SAFETYNET_DATA, or run `safetynet run`."))
    con = duckdb.connect(str(mart), read_only=True)
    run_date = con.sql("select max(run_date) from fct_warnings").fetchall()[0][0]
    mo.md(f"# 预警总览 · warnings overview\n\nPublished mart `{mart}`, run of **{run_date}**.")
    return con, run_date


@app.cell
def _():
    scope = mo.ui.radio(
        options={"open (待核查 + 逾期)": "open", "every warning in the register": "all"},
        value="open (待核查 + 逾期)",
        label="Which warnings",
    )
    scope
    return (scope,)


@app.cell
def _(con, scope):
    # One row per warning, with the city and county names of where it is dispatched (370000 = province).
    _where = f"where w.status in {OPEN}" if scope.value == "open" else ""
    warnings = con.sql(f"""
        with places as (
            select distinct county_code, county_name, city_code, city_name from dim_household
        )
        select w.warning_id, w.rule_code || coalesce(w.sub_case, '') as rule, w.rule_name, w.level, w.family,
               w.status, w.county_code,
               coalesce(p.county_name, case when w.county_code = '370000' then '省级' end) as county_name,
               coalesce(
                   p.city_name, case when w.county_code = '370000' then '省级' else left(w.county_code, 4) end
               ) as city_name,
               w.raised_on, w.deadline, w.first_run_date, w.last_run_date
        from fct_warnings as w
        left join places as p on p.county_code = w.county_code
        {_where}
    """).pl()
    mo.md(f"**{warnings.height}** warnings ({scope.value}).")
    return (warnings,)


@app.cell
def _(warnings):
    by_level = (
        warnings.group_by("level")
        .agg(pl.len().alias("warnings"))
        .with_columns(
            pl.col("level").replace_strict({level: i for i, level in enumerate(LEVEL_ORDER)}, default=9).alias("_o")
        )
        .sort("_o")
        .drop("_o")
    )
    _fig = px.bar(
        by_level, x="level", y="warnings", color="level", color_discrete_map=LEVEL_COLOURS, title="By level 按预警等级"
    )
    mo.vstack([mo.md("## By level"), _fig, mo.ui.table(by_level, selection=None)])
    return (by_level,)


@app.cell
def _(warnings):
    by_rule = warnings.pivot(
        on="level", index=["rule", "rule_name"], values="warning_id", aggregate_function="len"
    ).fill_null(0)
    by_rule = (
        by_rule.select(
            "rule",
            "rule_name",
            *[pl.col(level) if level in by_rule.columns else pl.lit(0).alias(level) for level in LEVEL_ORDER],
        )
        .with_columns(pl.sum_horizontal(LEVEL_ORDER).alias("total"))
        .sort("rule")
    )
    mo.vstack([mo.md("## By rule 按规则"), mo.ui.table(by_rule, selection=None, page_size=20)])
    return (by_rule,)


@app.cell
def _(warnings):
    by_city = warnings.group_by("city_name", "level").agg(pl.len().alias("warnings")).sort("city_name", "level")
    _fig = px.bar(
        by_city,
        x="city_name",
        y="warnings",
        color="level",
        color_discrete_map=LEVEL_COLOURS,
        category_orders={"level": LEVEL_ORDER},
        title="By city 按地市",
    )
    _top = (
        warnings.group_by("county_code", "county_name")
        .agg(pl.len().alias("warnings"))
        .sort("warnings", "county_code", descending=[True, False])
        .head(15)
    )
    mo.vstack(
        [mo.md("## Where 地区分布"), _fig, mo.md("Counties with most warnings"), mo.ui.table(_top, selection=None)]
    )
    return (by_city,)


@app.cell
def _(con):
    # Trend: warnings first raised at each run, by level (the register keeps every warning ever raised).
    trend = con.sql("""
        select raised_on as run_date, level, count(*) as raised
        from fct_warnings group by all order by run_date, level
    """).pl()
    _runs = con.sql("select run_date, status, warnings_raised, warnings_open from ledger_runs order by run_id").pl()
    _fig = px.line(
        trend,
        x="run_date",
        y="raised",
        color="level",
        markers=True,
        color_discrete_map=LEVEL_COLOURS,
        category_orders={"level": LEVEL_ORDER},
        title="Raised per run 每次比对新增预警",
    )
    mo.vstack([mo.md("## Trend 趋势"), _fig, mo.md("Runs in the ledger"), mo.ui.table(_runs, selection=None)])
    return (trend,)


@app.cell
def _(con, run_date):
    status = con.sql("""
        select status, count(*) as warnings, count(*) filter (where deadline < run_date) as past_deadline
        from fct_warnings group by status order by warnings desc
    """).pl()
    mo.vstack([mo.md(f"## Status at {run_date} 核查状态"), mo.ui.table(status, selection=None)])
    return (status,)


if __name__ == "__main__":  # as a script: run every cell, print what the notebook shows
    from warehouse.notebook_script import print_results

    _, results = app.run()
    print_results(
        results,
        {
            "by_level": "By level 按等级",
            "by_rule": "By rule 按规则",
            "by_city": "Where 地区分布",
            "trend": "Trend 趋势",
            "status": "Status 核查状态",
        },
    )
