"""The run report: one self-contained HTML file whose every chart draws in headless Chromium."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser

import pytest
from test_export_mart_fixture import RUN_DATE, build, require_binary

from ingestion.settings import DataRoot
from warehouse.exports.report import CHART_IDS, report_name, write_report
from warehouse.exports.report.figures import answers_by_route, by_city, data_quality, trend

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--window-size=1300,4200",
    "--virtual-time-budget=20000", "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no host resolves
]  # fmt: skip


def _has_area(d: str) -> bool:
    """True when an SVG path's absolute points span both axes (a zero-height bar does not)."""
    xs, ys = [], []
    for command, args in re.findall(r"([MLHVACZ])([^MLHVACZ]*)", d):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", args)]
        if command in "MLC" and numbers:
            xs += numbers[0::2]
            ys += numbers[1::2]
        elif command == "A" and len(numbers) >= 7:
            xs.append(numbers[5])
            ys.append(numbers[6])
        elif command == "H":
            xs += numbers
        elif command == "V":
            ys += numbers
    return bool(xs and ys) and max(xs) > min(xs) and max(ys) > min(ys)


class _ChartScan(HTMLParser):
    """For each chart div: its main-svg count, trace groups, and drawn shapes (paths with an area) in traces."""

    def __init__(self, ids):
        super().__init__()
        self.ids = set(ids)
        self.stack: list[tuple[str, str | None, bool]] = []  # (tag, chart id, inside a trace)
        self.found = {i: {"svg": 0, "traces": 0, "shapes": 0} for i in ids}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        chart, in_trace = (self.stack[-1][1], self.stack[-1][2]) if self.stack else (None, False)
        if a.get("id") in self.ids:
            chart = a["id"]
        classes = (a.get("class") or "").split()
        if chart:
            if tag == "svg" and "main-svg" in classes:
                self.found[chart]["svg"] += 1
            if tag == "g" and "trace" in classes:
                self.found[chart]["traces"] += 1
                in_trace = True
            if in_trace and tag == "path" and _has_area(a.get("d") or ""):
                self.found[chart]["shapes"] += 1
        if tag not in ("path", "rect", "br", "meta", "img", "input", "line", "circle", "image", "use"):
            self.stack.append((tag, chart, in_trace))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = DataRoot(tmp_path_factory.mktemp("report"))
    people = build(root)
    return root, people, write_report(root, RUN_DATE)


def test_report_is_one_self_contained_file(report):
    _, people, path = report
    assert path.name == report_name(RUN_DATE) == "运行报告_2026-10-31.html"
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|<img[^>]+src=", html)  # nothing fetched
    library_end = html.index("</script>")  # the inlined plotly.js names URLs it never fetches for our charts
    assert "Plotly.newPlot" not in html[:library_end] and not re.search(r"https?://", html[library_end:])
    assert "Plotly.newPlot" in html and len(html) > 1_000_000  # plotly.js inlined
    assert all(f'id="{i}"' in html for i in CHART_IDS)
    assert not any(p.id_number in html or p.name in html for p in people.values())  # no names, no IDs
    assert '<td class="name">身份证号校验位错误</td><td class="name">bad_check_digit</td>' in html  # reasons in Chinese


def test_every_chart_draws_in_headless_chromium(report, tmp_path):
    chromium = require_binary("chromium")
    _, _, path = report
    done = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    scan = _ChartScan(CHART_IDS)
    scan.feed(done.stdout)
    for chart, seen in scan.found.items():
        assert seen["svg"] >= 1, f"{chart}: no main-svg"
        assert seen["traces"] >= 1 and seen["shapes"] >= 1, f"{chart}: nothing plotted ({seen})"
    counties = re.findall(r'<path class="choroplethlocation"[^>]*d="M', done.stdout)
    assert len(counties) == 136 + 16, "the map draws every county and every city border"


def test_figures_answer_the_managers_questions(report):
    root, _, _ = report
    from ingestion.reference import load_reference
    from warehouse.exports.mart import WARNING_COLUMNS, conform, read_tables

    tables = read_tables(root, ["fct_warnings", "ledger_landings", "ledger_holds", "ledger_runs"])
    warnings = conform(tables["fct_warnings"], WARNING_COLUMNS, "fct_warnings")
    cities = by_city(warnings, load_reference(root).counties())
    assert cities.height == 17  # 16 cities and the province-level row
    assert dict(zip(cities["city_name"], cities["合计"]))["济南市"] == 7
    routes = {(r["route"], r["finding"]): r["n"] for r in answers_by_route(warnings).iter_rows(named=True)}
    assert routes[("转介部门（医疗/教育/住房/就业/临时救助）", "属实")] == 1  # 临时救助
    assert routes[("无需处置", "不属实")] == 1
    runs = trend(warnings, tables["ledger_runs"], RUN_DATE)
    assert runs["run_date"].to_list()[-1] == RUN_DATE and runs.height == 3
    assert runs["新增"].to_list() == [3, 2, 8]
    quality = {
        r["dataset"]: r
        for r in data_quality(tables["ledger_landings"], tables["ledger_holds"], RUN_DATE).iter_rows(named=True)
    }
    assert quality["ybj_settlement"]["rows_rejected"] == 20 and quality["ybj_settlement"]["held_back"] == 1
    assert quality["wjw_death"]["late"] and not quality["mz_household"]["late"]  # weekly, last cut-off 2026-08-15
    assert quality["yjj_disaster"]["files_rejected"] == 1 and not quality["feedback"]["late"]


def test_report_without_run_history_still_draws_a_trend(tmp_path):
    root = DataRoot(tmp_path)
    build(root, with_ledger_runs=False)
    html = write_report(root, RUN_DATE).read_text(encoding="utf-8")
    assert 'id="chart-trend"' in html


def test_data_quality_reads_empty_ledger_tables_and_text_dates():
    import datetime as dt

    import polars as pl

    # an empty SQLite table reaches the mart with untyped (null) columns; a filled one with ISO text dates
    empty = pl.DataFrame([], schema=["dataset", "cutoff_date", "status", "rows_in", "rows_landed", "rows_rejected"])
    holds = pl.DataFrame([], schema=["sha256", "dataset", "cutoff_date", "seq", "reason", "released"])
    quality = data_quality(empty, holds, RUN_DATE)
    assert quality.height == 19 and quality["files"].sum() == 0  # every contract, the 核对 registers included
    assert {"gaj_vehicle", "zrzy_property", "scjg_business"} <= set(quality["dataset"])
    landed = pl.DataFrame(
        {"dataset": ["mz_member"], "cutoff_date": ["2026-10-31"], "status": ["landed"], "rows_in": [3],
         "rows_landed": [2], "rows_rejected": [1]}
    )  # fmt: skip
    row = data_quality(landed, None, RUN_DATE).filter(pl.col("dataset") == "mz_member").row(0, named=True)
    assert row["latest_cutoff"] == dt.date(2026, 10, 31) and not row["late"] and row["rejected_share"] == 1 / 3


# --- Chinese glyphs, the map, an empty chart ---------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")
CJK_FONT = "Noto Sans CJK SC"  # first in the report's font stack; `make test-deps` installs fonts-noto-cjk


def test_report_names_the_cjk_font_first():
    from warehouse.exports.report.charts import FONT
    from warehouse.exports.report.page import _CSS

    assert re.search(r'body \{ font-family: "Noto Sans CJK SC",', _CSS)
    assert FONT.startswith(f"{CJK_FONT},")


def test_chinese_text_is_drawn_with_the_cjk_font_not_boxes(report, tmp_path):
    """Ask Chromium which font drew each Chinese text: without a CJK font it falls back to one that has no
    such glyphs and draws boxes (tofu); then no font of the stack shows up here and the test fails."""
    from chromium_cdp import Chromium

    chromium = require_binary("chromium")
    _, _, path = report
    with Chromium(chromium, tmp_path / "profile") as browser:
        browser.open(path.as_uri())
        browser.wait_for("document.querySelectorAll('#chart-map path.choroplethlocation').length > 100")
        selectors = "header h1, .kpi span, section h2, th, #chart-map .gtitle, #chart-level-type .xtick text"
        drawn = browser.fonts_of(selectors)
    texts = {text for text, _, _ in drawn if CJK.search(text)}
    assert len(texts) >= 10, texts
    for text in texts:
        fonts = {family: glyphs for t, family, glyphs in drawn if t == text}
        chinese = len(CJK.findall(text))
        assert fonts.get(CJK_FONT, 0) >= chinese, f"{text!r} drawn with {fonts}, not {CJK_FONT}: boxes"


def test_the_map_is_shandong_by_real_county_codes():
    from ingestion.reference import SHIPPED_DIR
    from warehouse.exports.report import geometry

    with (SHIPPED_DIR / "regions.csv").open(encoding="utf-8") as handle:
        import csv

        rows = list(csv.DictReader(handle))
    counties = {r["county_code"]: r["county_name"] for r in rows}
    drawn = {f["id"]: f["properties"]["name"] for f in geometry.counties()["features"]}
    assert drawn == counties  # every county of regions.csv, by its GB/T 2260 code and name, and no other
    cities = {f["id"]: f["properties"]["name"] for f in geometry.cities()["features"]}
    assert cities == {r["city_code"]: r["city_name"] for r in rows}
    lon, lat = zip(*(point for f in geometry.counties()["features"] for point in _points(f["geometry"])))
    assert min(lon) > 114.7 and max(lon) < 122.8 and min(lat) > 34.3 and max(lat) < 38.5  # Shandong's extent


def _points(geometry: dict) -> list[tuple[float, float]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [tuple(p) for polygon in polygons for ring in polygon for p in ring]


def test_an_empty_chart_says_why(tmp_path):
    import duckdb

    chromium = require_binary("chromium")
    root = DataRoot(tmp_path)
    build(root)
    con = duckdb.connect(str(root.published / "monitoring.duckdb"))
    try:  # nothing has come back yet
        con.execute("UPDATE fct_warnings SET finding = NULL, action = NULL, checked_on = NULL, status = '待核查' "
                    "WHERE status = '已核查'")  # fmt: skip
    finally:
        con.close()
    path = write_report(root, RUN_DATE)
    done = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    routes = done.stdout[done.stdout.index('id="chart-routes"') :]
    routes = routes[: routes.index("</section>")]
    assert "尚无回传的核查结果" in routes and 'class="annotation-text"' in routes
