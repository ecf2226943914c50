"""Threshold what-if: move a slider, see which warnings the latest run would gain or lose.

Run:  SAFETYNET_DATA=./data uv run marimo edit notebooks/threshold_whatif.py
HTML: SAFETYNET_DATA=./data uv run marimo export html notebooks/threshold_whatif.py -o whatif.html
Calls the same function as `safetynet simulate` (warehouse.simulate): each value is recomputed in a scratch
copy (about 10–30 s); the register, the warehouse and the published mart are never touched.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="阈值模拟 · threshold what-if")

with app.setup:
    import marimo as mo
    import polars as pl

    from ingestion.settings import DataRoot
    from warehouse.simulate import parse_changes, simulate

    # The thresholds offered: friendly name → (label, start, stop, step, default shown first).
    THRESHOLDS = {
        "W01.amount": ("W01 医疗支出骤增 阈值下限 (¥)", 5000, 50000, 1000, 15000),
        "W01.red": ("W01 红色预警金额 (¥)", 20000, 100000, 5000, 50000),
        "W04.amount": ("W04 灾害损失 橙色预警金额 (¥)", 2000, 50000, 1000, 10000),
        "W08.amount": ("W08(c) 自付医疗 应享未享 (¥)", 1000, 20000, 500, 5000),
        "D01.amount": ("D01 主动发现·大额医疗 (¥)", 10000, 100000, 5000, 50000),
        "D02.amount": ("D02 主动发现·灾害损失 (¥)", 5000, 100000, 5000, 30000),
    }


@app.cell
def _():
    root = DataRoot.from_env()
    mo.md(
        f"# 阈值模拟 · threshold what-if\n\nData root `{root.root}`: the latest run's warnings recomputed with one "
        "threshold changed, compared with the register the run saved."
    )
    return (root,)


@app.cell
def _():
    parameter = mo.ui.dropdown(
        options={label: name for name, (label, *_rest) in THRESHOLDS.items()},
        value=THRESHOLDS["W01.amount"][0],
        label="Threshold",
    )
    county = mo.ui.text(value="", label="County (6 digits, empty = whole province)", max_length=6)
    mo.hstack([parameter, county])
    return county, parameter


@app.cell
def _(parameter):
    _label, _start, _stop, _step, _default = THRESHOLDS[parameter.value]
    value = mo.ui.slider(start=_start, stop=_stop, step=_step, value=_default, label=_label, show_value=True,
                         debounce=True, full_width=True)  # fmt: skip
    value
    return (value,)


@app.cell
def _(county, parameter, root, value):
    # The same call as `safetynet simulate --set NAME=VALUE [--county C]`.
    changes = parse_changes([f"{parameter.value}={value.value}"])
    with mo.status.spinner(title=f"simulating {parameter.value} = {value.value} …"):
        result = simulate(root, changes, county=county.value.strip() or None)
    mo.md(
        f"**{result.changes[0]}** ({'county ' + result.county if result.county else 'whole province'}), run of "
        f"{result.run_date}: {result.by_rule()['before'].sum()} warnings as run → {result.by_rule()['after'].sum()} "
        f"simulated ({result.mode}, {result.seconds} s)."
    )
    return (result,)


@app.cell
def _(result):
    by_rule_frame = result.by_rule().filter((pl.col("before") > 0) | (pl.col("after") > 0))
    changed_frame = result.changed()
    mo.vstack([
        mo.md("## By rule and level 按规则与等级"), mo.ui.table(by_rule_frame, selection=None, page_size=20),
        mo.md(f"## Where it changes 变化的县区: {changed_frame.height} rows"),
        mo.ui.table(changed_frame, selection=None),
    ])  # fmt: skip
    return by_rule_frame, changed_frame


@app.cell
def _(result):
    # The warnings themselves that appear or disappear (keys only: the vault is not read here).
    _before = result.baseline.filter(pl.col("last_run_date") == result.run_date).select("warning_id", "level")
    _after = result.simulated.filter(pl.col("last_run_date") == result.run_date).select(
        "warning_id", "rule_code", "level", "county_code", "household_id", "evidence"
    )
    gained_warnings = _after.join(_before, on=["warning_id", "level"], how="anti")
    mo.vstack(
        [mo.md(f"## Gained warnings 新增预警: {gained_warnings.height}"), mo.ui.table(gained_warnings, selection=None)]
    )
    return (gained_warnings,)


if __name__ == "__main__":  # as a script: run every cell, print what the notebook shows
    from warehouse.notebook_script import print_results

    _, results = app.run()
    print_results(
        results,
        {
            "by_rule_frame": "By rule and level 按规则与等级",
            "changed_frame": "Where it changes 变化的县区",
            "gained_warnings": "Gained warnings 新增预警",
        },
    )
