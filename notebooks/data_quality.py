"""Data quality per department: deliveries landed, rows rejected by reason, checks failed, deliveries held.

Run:  SAFETYNET_DATA=./data uv run marimo edit notebooks/data_quality.py
HTML: SAFETYNET_DATA=./data uv run marimo export html notebooks/data_quality.py -o quality.html
Reads the ledger tables of `<data root>/published/monitoring.duckdb` read-only (raw values of ID and name
columns are never there: they stay in the owner-only quarantine).
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="数据质量 · data quality")

with app.setup:
    import duckdb
    import marimo as mo
    import plotly.express as px
    import polars as pl

    from ingestion.contracts import all_contracts
    from ingestion.settings import DataRoot
    from warehouse.publish import published_path

    # The delivering department of each dataset, as its contract's title names it (民政, 医保, …).
    DEPARTMENTS = {c.dataset: c.department_name for c in all_contracts().values()}


@app.cell
def _():
    mart = published_path(DataRoot.from_env())
    mo.stop(not mart.is_file(), mo.md(f"No published mart at `{mart}`: set SAFETYNET_DATA, or run `safetynet run`."))
    con = duckdb.connect(str(mart), read_only=True)
    tables = {r[0] for r in con.sql("select table_name from information_schema.tables").fetchall()}
    mo.md(f"# 数据质量 · data quality per department\n\nPublished mart `{mart}`.")
    return con, tables


@app.function
def department(dataset: str | None) -> str:
    return DEPARTMENTS.get(dataset or "", dataset or "—")


@app.cell
def _(con):
    landings = (
        con.sql("select * from ledger_landings")
        .pl()
        .with_columns(pl.col("dataset").map_elements(department, return_dtype=pl.String).alias("department"))
    )
    landings_by_dataset = (
        landings.group_by("department", "dataset")
        .agg(
            pl.len().alias("files"),
            (pl.col("status") == "landed").sum().alias("landed_files"),
            (pl.col("status") == "rejected").sum().alias("rejected_files"),
            pl.col("rows_in").sum(),
            pl.col("rows_landed").sum(),
            pl.col("rows_rejected").sum(),
            pl.col("landed_at").max().alias("last_landed_at"),
        )
        .with_columns((pl.col("rows_rejected") / pl.col("rows_in")).fill_nan(0).round(4).alias("rejected_share"))
        .sort("department", "dataset", nulls_last=True)
    )
    _odd = landings.filter(pl.col("status").is_in(["rejected", "not_a_dataset"])).select(
        "file_name", "dataset", "status", "reason", "landed_at"
    )
    mo.vstack([
        mo.md("## Deliveries 交付与入湖"), mo.ui.table(landings_by_dataset, selection=None),
        mo.md(f"Files rejected whole or not a dataset: {_odd.height}"), mo.ui.table(_odd, selection=None),
    ])  # fmt: skip
    return (landings_by_dataset,)


@app.cell
def _(con):
    rejections_by_reason = (
        con.sql(
            "select dataset, reason, count(*) as cells, count(distinct file_name) as files "
            "from ledger_rejections group by all"
        )
        .pl()
        .with_columns(pl.col("dataset").map_elements(department, return_dtype=pl.String).alias("department"))
        .select("department", "dataset", "reason", "cells", "files")
        .sort("cells", "dataset", "reason", descending=[True, False, False])
    )
    _fig = px.bar(
        rejections_by_reason, x="dataset", y="cells", color="reason", title="Rejected cells by reason 拒收原因"
    )
    mo.vstack([mo.md("## Rejected rows 拒收行"), _fig, mo.ui.table(rejections_by_reason, selection=None)])
    return (rejections_by_reason,)


@app.cell
def _(con, tables):
    # Checks run only once the check step has; an empty ledger table has no typed columns: cast what we read.
    failed_checks = (
        con.sql("""
            select dataset, cast(cutoff_date as varchar) as cutoff_date, expectation, severity, observed
            from ledger_checks where success = 0 order by severity, dataset, cutoff_date
        """).pl()
        if "ledger_checks" in tables
        else pl.DataFrame()
    )
    holds = (
        con.sql("""
            select cast(dataset as varchar) as dataset, cast(cutoff_date as varchar) as cutoff_date,
                   cast(seq as bigint) as seq, cast(reason as varchar) as reason, cast(held_at as varchar) as held_at,
                   cast(released as bigint) as released, cast(released_by as varchar) as released_by
            from ledger_holds order by held_at
        """).pl()
        if "ledger_holds" in tables
        else pl.DataFrame()
    )
    mo.vstack([
        mo.md(f"## Held deliveries 暂扣交付: {holds.height}"), mo.ui.table(holds, selection=None),
        mo.md(f"## Failed checks 未通过的校验: {failed_checks.height}"), mo.ui.table(failed_checks, selection=None),
    ])  # fmt: skip
    return failed_checks, holds


if __name__ == "__main__":  # as a script: run every cell, print what the notebook shows
    from warehouse.notebook_script import print_results

    _, results = app.run()
    print_results(
        results,
        {
            "landings_by_dataset": "Deliveries 交付与入湖",
            "rejections_by_reason": "Rejected rows 拒收行",
            "holds": "Held deliveries 暂扣交付",
            "failed_checks": "Failed checks 未通过的校验",
        },
    )
