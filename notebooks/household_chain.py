"""A household's assistance chain (一户一条救助链): pick a household, read its timeline and its warnings.

Run:  SAFETYNET_DATA=./data uv run marimo edit notebooks/household_chain.py
HTML: SAFETYNET_DATA=./data uv run marimo export html notebooks/household_chain.py -o chain.html
Reads `<data root>/published/monitoring.duckdb` read-only. People appear as person keys: a staff look-up in the
vault (not this notebook) turns a key back into a name.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="救助链 · assistance chain")

with app.setup:
    import duckdb
    import marimo as mo
    import plotly.express as px

    from ingestion.settings import DataRoot
    from warehouse.publish import published_path


@app.cell
def _():
    mart = published_path(DataRoot.from_env())
    mo.stop(not mart.is_file(), mo.md(f"No published mart at `{mart}`: set SAFETYNET_DATA, or run `safetynet run`."))
    con = duckdb.connect(str(mart), read_only=True)
    mo.md(f"# 一户一条救助链 · a household's assistance chain\n\nPublished mart `{mart}`.")
    return (con,)


@app.cell
def _(con):
    # Households with a chain, those with the most warnings first (the ones staff ask about).
    households = con.sql("""
        select c.household_id,
               count(*) filter (where c.event_kind = '预警') as warnings,
               count(*) as events
        from fct_assistance_chain as c
        where c.household_id is not null
        group by c.household_id
        order by warnings desc, events desc, c.household_id
    """).pl()
    picker = mo.ui.dropdown(
        options=households["household_id"].to_list(),
        value=households["household_id"][0] if households.height else None,
        searchable=True,
        label="家庭编号 (household)",
    )
    mo.vstack([mo.md(f"{households.height} households have a chain; the list starts with the most warned."), picker])
    return (picker,)


@app.cell
def _(con, picker):
    household = picker.value
    summary = con.sql(
        """
        select household_id, household_source, category, county_name, township_code, urban_rural, member_count,
               annual_income, dibao_standard, self_paid_12m, open_warnings, overdue_warnings, open_warning_rules
        from mart_household_monitoring where household_id = $household
        """,
        params={"household": household},
    ).pl()
    _found = "monitored at the run date" if summary.height else "not monitored at the run date (no row in the mart)"
    mo.vstack([mo.md(f"## 家庭 {household}: {_found}"), mo.ui.table(summary, selection=None)])
    return household, summary


@app.cell
def _(con, household):
    timeline = con.sql(
        """
        select event_date, household_event_seq, event_kind, source_department, category, programme, period,
               amount, description, person_key, reference_id
        from fct_assistance_chain
        where household_id = $household
        order by event_date, household_event_seq
        """,
        params={"household": household},
    ).pl()
    _fig = px.scatter(
        timeline,
        x="event_date",
        y="event_kind",
        color="source_department",
        hover_data=["description"],
        title=f"家庭 {household}: {timeline.height} events",
    )
    mo.vstack([mo.md("## Timeline 时间线"), _fig, mo.ui.table(timeline, selection=None, page_size=25)])
    return (timeline,)


@app.cell
def _(con, household):
    household_warnings = con.sql(
        """
        select warning_id, rule_code || coalesce(sub_case, '') as rule, rule_name, level, status, raised_on, deadline,
               evidence, finding, action
        from fct_warnings
        where household_id = $household or list_contains(string_split(coalesce(households, ''), '|'), $household)
        order by raised_on, warning_id
        """,
        params={"household": household},
    ).pl()
    mo.vstack([mo.md("## Warnings 预警"), mo.ui.table(household_warnings, selection=None)])
    return (household_warnings,)


if __name__ == "__main__":  # as a script: run every cell, print what the notebook shows
    from warehouse.notebook_script import print_results

    _, results = app.run()
    print_results(
        results,
        {
            "summary": "Household 家庭",
            "timeline": "Timeline 时间线",
            "household_warnings": "Warnings 预警",
        },
    )
