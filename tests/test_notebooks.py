"""The analysts' marimo notebooks run headless against the demo mart, give what the mart says, and export to HTML."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from analyst_fixtures import AnalystDemo, analyst_demo  # noqa: F401 - the session fixture

from warehouse.simulate_scratch import WORKDIR_ENV

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, demo: AnalystDemo, monkeypatch: pytest.MonkeyPatch) -> Mapping[str, Any]:
    """Run a notebook as its script would (app.run) with the demo as data root; returns its definitions."""
    monkeypatch.setenv("SAFETYNET_DATA", str(demo.root.root))
    monkeypatch.setenv(WORKDIR_ENV, str(demo.simulate_workdir))
    spec = importlib.util.spec_from_file_location(f"notebook_{name}", NOTEBOOKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _, defs = module.app.run()
    return defs


def query(demo: AnalystDemo, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(demo.mart), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_every_notebook_is_a_marimo_app_that_reads_the_mart_read_only() -> None:
    names = sorted(p.stem for p in NOTEBOOKS.glob("*.py"))
    assert names == ["data_quality", "household_chain", "threshold_whatif", "warnings_overview"]
    for name in names:
        text = (NOTEBOOKS / f"{name}.py").read_text(encoding="utf-8")
        assert "marimo.App(" in text and 'if __name__ == "__main__":' in text
        if "duckdb.connect(" in text:
            assert text.count("duckdb.connect(") == text.count("read_only=True")


def test_warnings_overview(analyst_demo: AnalystDemo, monkeypatch: pytest.MonkeyPatch) -> None:
    defs = run_notebook("warnings_overview", analyst_demo, monkeypatch)
    ((open_total,),) = query(analyst_demo, "select count(*) from fct_warnings where status in ('待核查', '逾期')")
    assert open_total > 0
    assert defs["by_level"]["warnings"].sum() == open_total
    assert set(defs["by_level"]["level"].to_list()) <= {"红", "橙", "黄"}
    assert defs["by_rule"]["total"].sum() == open_total
    assert defs["by_city"]["warnings"].sum() == open_total
    per_rule = dict(
        query(
            analyst_demo,
            """
        select rule_code || coalesce(sub_case, ''), count(*) from fct_warnings
        where status in ('待核查', '逾期') group by all""",
        )
    )
    assert dict(defs["by_rule"].select("rule", "total").iter_rows()) == per_rule
    trend = defs["trend"]
    assert set(trend["run_date"].to_list()) == set(analyst_demo.run_dates)
    ((register,),) = query(analyst_demo, "select count(*) from fct_warnings")
    assert trend["raised"].sum() == register


def test_household_chain(analyst_demo: AnalystDemo, monkeypatch: pytest.MonkeyPatch) -> None:
    defs = run_notebook("household_chain", analyst_demo, monkeypatch)
    household = defs["household"]
    ((most_warned,),) = query(
        analyst_demo,
        """
        select household_id from fct_assistance_chain where household_id is not null group by household_id
        order by count(*) filter (where event_kind = '预警') desc, count(*) desc, household_id limit 1""",
    )
    assert household == most_warned
    timeline: pl.DataFrame = defs["timeline"]
    ((events,),) = query(analyst_demo, f"select count(*) from fct_assistance_chain where household_id = '{household}'")
    assert timeline.height == events > 0
    assert timeline["event_date"].is_sorted()
    assert "预警" in timeline["event_kind"].to_list()
    assert defs["household_warnings"].height > 0
    assert defs["summary"]["household_id"].to_list() in ([household], [])


def test_data_quality(analyst_demo: AnalystDemo, monkeypatch: pytest.MonkeyPatch) -> None:
    defs = run_notebook("data_quality", analyst_demo, monkeypatch)
    ((rows_in, rows_rejected),) = query(analyst_demo, "select sum(rows_in), sum(rows_rejected) from ledger_landings")
    landings = defs["landings_by_dataset"]
    assert landings["rows_in"].sum() == rows_in and landings["rows_rejected"].sum() == rows_rejected
    assert {"民政", "医保"} <= set(landings["department"].to_list())
    ((cells,),) = query(analyst_demo, "select count(*) from ledger_rejections")
    assert defs["rejections_by_reason"]["cells"].sum() == cells > 0
    ((holds,),) = query(analyst_demo, "select count(*) from ledger_holds")
    assert defs["holds"].height == holds > 0  # the demo's bad deliveries are held back
    ((failed,),) = query(analyst_demo, "select count(*) from ledger_checks where success = 0")
    assert defs["failed_checks"].height == failed >= holds


def test_threshold_whatif_runs_the_simulation_at_the_slider_value(
    analyst_demo: AnalystDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs = run_notebook("threshold_whatif", analyst_demo, monkeypatch)
    result = defs["result"]
    assert result.run_date == analyst_demo.latest
    assert [(c.name, c.parameter, int(c.value)) for c in result.changes] == [("W01.amount", "w01_floor", 15000)]
    by_rule: pl.DataFrame = defs["by_rule_frame"]
    assert by_rule.filter(pl.col("rule") != "W01")["gained"].sum() == 0
    gained = defs["gained_warnings"]
    assert set(gained["rule_code"].to_list()) <= {"W01"}
    assert gained.height == by_rule.filter(pl.col("rule") == "W01")["gained"].sum()
    # every gained household's trailing-12-month self-paid lies between the new and the old floor
    households = sorted(gained["household_id"].to_list())
    if households:
        rows = query(
            analyst_demo,
            "select self_paid_12m, annual_income from mart_household_monitoring where household_id in ("
            + ", ".join(f"'{h}'" for h in households)
            + ")",
        )
        assert len(rows) == len(households)
        assert all(
            max(15000, 0.5 * float(income)) <= float(paid) < max(20000, 0.5 * float(income)) for paid, income in rows
        )


def test_a_notebook_exports_to_html(analyst_demo: AnalystDemo, tmp_path: Path) -> None:
    marimo = Path(sys.executable).with_name("marimo")
    out = tmp_path / "quality.html"
    # marimo caches the session beside the notebook (notebooks/__marimo__/); with a pycache prefix it mirrors
    # that folder under the prefix instead, so the test leaves the repository clean
    env = {**os.environ, "SAFETYNET_DATA": str(analyst_demo.root.root), "PYTHONPYCACHEPREFIX": str(tmp_path / "pyc")}
    done = subprocess.run(
        [str(marimo), "export", "html", str(NOTEBOOKS / "data_quality.py"), "-o", str(out), "-f"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    html = out.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "ybj_settlement" in html and "数据质量" in html
    assert not (NOTEBOOKS / "__marimo__").exists()


SCRIPT_TITLES = {
    "data_quality": ["Deliveries 交付与入湖", "Rejected rows 拒收行", "Held deliveries 暂扣交付", "Failed checks"],
    "household_chain": ["Household 家庭", "Timeline 时间线", "Warnings 预警"],
    "threshold_whatif": ["By rule and level 按规则与等级", "Where it changes 变化的县区", "Gained warnings 新增预警"],
    "warnings_overview": ["By level 按等级", "By rule 按规则", "Where 地区分布", "Trend 趋势", "Status 核查状态"],
}


@pytest.mark.parametrize("name", sorted(SCRIPT_TITLES))
def test_every_notebook_prints_its_tables_when_run_as_a_script(analyst_demo: AnalystDemo, name: str, tmp_path) -> None:
    env = {**os.environ, "SAFETYNET_DATA": str(analyst_demo.root.root), WORKDIR_ENV: str(analyst_demo.simulate_workdir),
           "PYTHONPYCACHEPREFIX": str(tmp_path / "pyc")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(NOTEBOOKS / f"{name}.py")], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for title in SCRIPT_TITLES[name]:
        assert f"== {title}" in done.stdout, f"{name}: {title} not printed\n{done.stdout[-2000:]}"
    assert "not computed" not in done.stdout and " rows)" in done.stdout


def test_marimo_run_serves_a_notebook_that_opens_offline(analyst_demo: AnalystDemo, tmp_path: Path) -> None:
    """The way to share a notebook without a network (README): `marimo run` serves marimo's own page
    scripts from the local installation; Chromium, which can resolve no host, draws the notebook's tables."""
    import socket
    import time
    import urllib.request

    from chromium_cdp import Chromium
    from test_export_mart_fixture import require_binary

    chromium = require_binary("chromium")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    marimo = Path(sys.executable).with_name("marimo")
    env = {**os.environ, "SAFETYNET_DATA": str(analyst_demo.root.root), "PYTHONPYCACHEPREFIX": str(tmp_path / "pyc")}
    server = subprocess.Popen(
        [str(marimo), "run", str(NOTEBOOKS / "data_quality.py"), "--host", "127.0.0.1", "--port", str(port),
         "--headless", "--no-token", "--no-sandbox"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                page = urllib.request.urlopen(url, timeout=5).read().decode()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "marimo run did not start"
                time.sleep(1)
        assert "cdn.jsdelivr" not in page and "unpkg.com" not in page  # its scripts come from the server
        with Chromium(chromium, tmp_path / "profile") as browser:
            browser.open(url)
            browser.wait_for("document.body.innerText.includes('交付与入湖')", timeout=120)
            # the cells' outputs are there: the section titles and their tables (drawn in shadow roots), rows and all
            rows = (
                "Array.from(document.querySelectorAll('*')).filter(e => e.shadowRoot)"
                ".reduce((n, e) => n + e.shadowRoot.querySelectorAll('tr').length, 0)"
            )
            browser.wait_for(f"document.body.innerText.includes('拒收行') && {rows} > 5")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
