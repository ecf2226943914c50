"""The whole loop on the real pipeline: build → publish → county workbook → filled and saved through
LibreOffice → `feedback` landed → next run: the answered warnings are closed (已核查) and leave the workbooks."""

from __future__ import annotations

import datetime as dt

import duckdb
import openpyxl
import polars as pl
from test_build_scenario import RUN, write_province
from test_build_support import deliver
from test_export_mart_fixture import require_binary
from test_feedback_roundtrip import _choices, _libreoffice_resave

from ingestion.settings import DataRoot
from warehouse.exports import export_run
from warehouse.exports.report import write_report
from warehouse.exports.report.figures import answers_by_route, route_of
from warehouse.feedback import receive_feedback

RETURNED_ON = dt.date(2026, 11, 5)
NEXT_RUN = dt.date(2026, 11, 30)


def _build_and_publish(root: DataRoot, run_date: dt.date) -> None:
    from warehouse.build import build
    from warehouse.publish import publish

    build(root, run_date)
    publish(root)


def _register(root: DataRoot) -> dict[str, tuple]:
    con = duckdb.connect(str(root.published / "monitoring.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT warning_id, status, finding, action, checked_on, checked_by FROM fct_warnings")
        return {r[0]: r[1:] for r in rows.fetchall()}
    finally:
        con.close()


def _county_of(root: DataRoot, household_id: str) -> str:
    con = duckdb.connect(str(root.published / "monitoring.duckdb"), read_only=True)
    try:
        query = "SELECT county_code FROM dim_household WHERE household_id = ?"
        return con.execute(query, [household_id]).fetchone()[0]
    finally:
        con.close()


def _answer_two(path, target) -> dict[str, tuple]:
    """Answer two rows: the merged W06 row (several numbers in one cell) and the first other row."""
    book = openpyxl.load_workbook(path)
    sheet = book["预警清单"]
    col = {c.value: c.column for c in sheet[1]}
    findings, actions = _choices(sheet, "核查结果"), _choices(sheet, "处置措施")
    merged = next(r for r in range(2, sheet.max_row + 1) if "\n" in sheet.cell(r, col["预警编号"]).value)
    other = next(r for r in range(2, sheet.max_row + 1) if r != merged)
    given = {}
    for r, (finding, action) in zip((merged, other), ((findings[0], actions[6]), (findings[1], "无需处置"))):
        for warning_id in sheet.cell(r, col["预警编号"]).value.split("\n"):
            given[warning_id] = (finding, action)
        sheet.cell(r, col["核查结果"]).value = finding
        sheet.cell(r, col["处置措施"]).value = action
        sheet.cell(r, col["核查日期"]).value = dt.datetime(2026, 11, 4)
        sheet.cell(r, col["核查人"]).value = "核查员甲"
    book.save(target)
    return given


def test_answered_warnings_are_closed_by_the_next_run(tmp_path):
    soffice = require_binary("soffice")
    root = DataRoot(tmp_path / "data")
    write_province(root)
    # the deceased of H05 is paid for October too: a second W06 month, merged with August's in the workbook
    deliver(root, "mz_payment", dt.date(2026, 10, 30), [
        {"payment_id": "P7", "period": dt.date(2026, 10, 1), "household_id": "H05", "person_key": "pI1",
         "programme": "低保金", "amount": 600, "paid_on": dt.date(2026, 10, 5)},
    ])  # fmt: skip
    _build_and_publish(root, RUN)
    first = export_run(root, RUN, report=False)
    book = next(f for f in first.county_workbooks if f.county_code == _county_of(root, "H05"))
    sheet = openpyxl.load_workbook(book.path)["预警清单"]
    col = {c.value: c.column - 1 for c in sheet[1]}
    w06 = [row for row in sheet.iter_rows(min_row=2, values_only=True) if row[col["规则编号"]] == "W06"]
    assert len(w06) == 1 and w06[0][col["涉及月份"]] == "2026-08、2026-10"  # one row for both months
    assert len(w06[0][col["预警编号"]].split("\n")) == 2 and w06[0][col["触发依据"]].count("仍发放") == 2
    given = _answer_two(book.path, tmp_path / "filled.xlsx")
    returned = _libreoffice_resave(soffice, tmp_path / "filled.xlsx", tmp_path)
    receipt = receive_feedback(root, [returned], today=RETURNED_ON)[0]
    assert receipt.status == "landed" and receipt.counts()["rows_landed"] == 2 and receipt.problems.is_empty()
    assert receipt.counts()["warnings_answered"] == 3 == len(given)  # the merged row answers both months

    _build_and_publish(root, NEXT_RUN)
    register = _register(root)
    for warning_id, (finding, action) in given.items():
        status, got_finding, got_action, checked_on, checked_by = register[warning_id]
        assert (status, got_finding, got_action) == ("已核查", finding, action), warning_id
        assert checked_on == dt.date(2026, 11, 4) and checked_by == "核查员甲"
    second = export_run(root, NEXT_RUN, report=False)
    listed = set()
    for f in second.county_workbooks:
        sheet = openpyxl.load_workbook(f.path)["预警清单"]
        listed |= {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert not listed & set(given)

    # the run report counts the answers by route
    html = write_report(root, NEXT_RUN).read_text(encoding="utf-8")
    assert 'id="chart-routes"' in html
    con = duckdb.connect(str(root.published / "monitoring.duckdb"), read_only=True)
    try:
        register = con.sql("SELECT * FROM fct_warnings").pl()
    finally:
        con.close()
    routes = answers_by_route(register)
    for finding, action in given.values():
        route = pl.select(route_of(pl.lit(action))).item()
        assert routes.filter((pl.col("route") == route) & (pl.col("finding") == finding))["n"].item() >= 1
