"""Answers back: a county workbook filled in the way staff do, saved through real LibreOffice, landed
as `feedback` and checked against the register (docs/extracts.md#feedback)."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess

import openpyxl
import polars as pl
import pytest
from test_export_mart_fixture import RUN_DATE, build, require_binary

from ingestion.settings import DataRoot
from warehouse.exports import export_run
from warehouse.exports.ledger import feedback_file_county
from warehouse.feedback import (
    OTHER_COUNTY,
    UNKNOWN_WARNING,
    apply_checks,
    county_of_file,
    feedback_row_checks,
    inbox_name,
    receive_feedback,
)

TODAY = dt.date(2026, 11, 5)
TYPO_ID = "W01-ffffffffffff"  # a number the platform never issued
FOREIGN_ID = "W06-000000000008"  # issued, but to 370103


def _choices(sheet, header: str) -> list[str]:
    """The values of the drop-down on a column, as staff see them."""
    letter = next(c.column_letter for c in sheet[1] if c.value == header)
    dv = next(dv for dv in sheet.data_validations.dataValidation if str(dv.sqref).startswith(f"{letter}2:"))
    return dv.formula1.strip('"').split(",")


def _fill(path, target):
    """Answer some rows, leave one empty, mistype one number, paste another county's number."""
    book = openpyxl.load_workbook(path)
    sheet = book["预警清单"]
    col = {c.value: c.column for c in sheet[1]}
    findings, actions = _choices(sheet, "核查结果"), _choices(sheet, "处置措施")
    by_id = {sheet.cell(r, col["预警编号"]).value: r for r in range(2, sheet.max_row + 1)}
    answers = {
        "W02-000000000002": (findings[0], "临时救助", dt.datetime(2026, 11, 3), "刘干部", "家访两次"),
        "W01-000000000001": (findings[1], "无需处置", "2026/11/4", "王干部", None),  # a date typed as text
        "W03a-00000000003": (findings[0], "就业帮扶", dt.datetime(2026, 11, 4), "王干部", None),
        "W07c-00000000004": (findings[2], None, dt.datetime(2026, 11, 2), "刘干部", "联系不上"),
    }
    for warning_id, (finding, action, checked_on, checked_by, remark) in answers.items():
        r = by_id[warning_id]
        assert action is None or action in actions
        for header, value in zip(("核查结果", "处置措施", "核查日期", "核查人", "备注"),
                                 (finding, action, checked_on, checked_by, remark)):  # fmt: skip
            sheet.cell(r, col[header]).value = value
    sheet.cell(by_id["W03a-00000000003"], col["预警编号"]).value = TYPO_ID
    sheet.cell(by_id["W07c-00000000004"], col["预警编号"]).value = FOREIGN_ID
    book.save(target)  # D01-000000000005 stays unanswered: skipped, not rejected
    return answers


def _libreoffice_resave(soffice: str, source, workdir):
    """Open and save through LibreOffice Calc, as a returned workbook would have been."""
    out = workdir / "lo_out"
    out.mkdir()
    done = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{workdir / 'lo_profile'}", "--headless", "--norestore",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    converted = out / source.name
    assert done.returncode == 0 and converted.exists(), done.stderr
    return converted


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    soffice = require_binary("soffice")
    work = tmp_path_factory.mktemp("feedback")
    root = DataRoot(work / "data")
    build(root)
    summary = export_run(root, RUN_DATE, report=False)
    book = next(f.path for f in summary.county_workbooks if f.county_code == "370102")
    filled = work / "filled.xlsx"
    answers = _fill(book, filled)
    converted = _libreoffice_resave(soffice, filled, work)
    renamed = work / "乡镇回传（最终版）.xlsx"  # staff rename files: the 说明 sheet still says whose it is
    shutil.copy(converted, renamed)
    receipts = receive_feedback(root, [renamed], today=TODAY)
    return root, renamed, answers, receipts[0]


def _landed(root, receipt) -> pl.DataFrame:
    sha = receipt.landing.sha256
    return pl.concat([pl.read_parquet(p) for p in (root.lake / "feedback").glob(f"cutoff=*/seq=*/{sha}.parquet")])


def test_libreoffice_keeps_layout_drop_downs_and_county(returned):
    _, renamed, _, _ = returned
    book = openpyxl.load_workbook(renamed)
    assert book.sheetnames[0] == "预警清单" and "说明" in book.sheetnames
    sheet = book["预警清单"]
    assert _choices(sheet, "核查结果") == ["属实", "不属实", "无法核实"]
    assert county_of_file(renamed) == "370102"


def test_returned_workbook_lands_under_the_spec_name_and_counts_reconcile(returned):
    root, _, _, receipt = returned
    assert receipt.inbox_name == "feedback/feedback_20261105.xlsx"
    assert receipt.county_code == "370102" and feedback_file_county(root, receipt.inbox_name) == "370102"
    counts = receipt.counts()
    assert receipt.status == "landed"
    assert counts["rows_in"] == 5 and counts["rows_skipped"] == 1  # the unanswered D01 row
    assert counts["rows_in"] == counts["rows_landed"] + counts["rows_rejected"] + counts["rows_skipped"]


def test_answers_land_with_the_findings_staff_chose(returned):
    root, _, answers, receipt = returned
    landed = {r["warning_id"]: r for r in _landed(root, receipt).iter_rows(named=True)}
    w02 = landed["W02-000000000002"]
    assert (w02["finding"], w02["action"], w02["checked_on"], w02["checked_by"], w02["remark"]) == (
        "属实", "临时救助", dt.date(2026, 11, 3), "刘干部", "家访两次")  # fmt: skip
    w01 = landed["W01-000000000001"]
    assert (w01["finding"], w01["action"], w01["checked_on"]) == ("不属实", "无需处置", dt.date(2026, 11, 4))
    assert "D01-000000000005" not in landed


def test_unknown_and_other_county_numbers_are_caught(returned):
    """Rejected at landing (the rows never reach the lake), recorded in the ledger, and reported."""
    root, _, _, receipt = returned
    flagged = {r["warning_id"]: r["reason"] for r in receipt.problems.iter_rows(named=True)}
    con = sqlite3.connect(root.ledger)
    try:
        rejected = dict(con.execute("SELECT raw_value, reason FROM rejections WHERE file_name = ?",
                                    (receipt.inbox_name,)).fetchall())  # fmt: skip
    finally:
        con.close()
    assert rejected == flagged == {TYPO_ID: UNKNOWN_WARNING, FOREIGN_ID: OTHER_COUNTY}
    landed = {r["warning_id"] for r in _landed(root, receipt).iter_rows(named=True)}
    assert TYPO_ID not in landed and FOREIGN_ID not in landed
    counts = receipt.counts()
    assert counts["rows_in"] == counts["rows_landed"] + counts["rows_rejected"] + counts["rows_skipped"]
    assert counts["rows_rejected"] == 2


def test_second_return_the_same_day_takes_the_next_seq(returned):
    root, _, _, _ = returned
    assert inbox_name(root, TODAY, ".xlsx")[0] == "feedback/feedback_20261105_2.xlsx"
    assert inbox_name(root, TODAY + dt.timedelta(days=1), ".xlsx")[0] == "feedback/feedback_20261106.xlsx"


def test_row_checks_on_a_frame(tmp_path):
    root = DataRoot(tmp_path)
    build(root)
    frame = pl.DataFrame({"warning_id": ["W01-000000000001", FOREIGN_ID, TYPO_ID, None], "_data_row": [1, 2, 3, 4]})
    found = apply_checks(frame, feedback_row_checks(root, "370102"))
    assert sorted(zip(found["data_row"], found["reason"])) == [(2, OTHER_COUNTY), (3, UNKNOWN_WARNING)]
    unknown_county = apply_checks(frame, feedback_row_checks(root, None))
    assert unknown_county["reason"].to_list() == [UNKNOWN_WARNING]
    expressions = feedback_row_checks(root, "370103")
    assert all(field == "warning_id" and isinstance(message, str) for _, field, _, message in expressions)
    assert apply_checks(frame, expressions).filter(pl.col("data_row") == 2).is_empty()  # 370103's own


def test_county_from_file_name_when_there_is_no_notes_sheet(tmp_path):
    csv = tmp_path / "370402_市中区_反馈.csv"
    csv.write_text("预警编号,核查结果,核查日期,核查人\n", encoding="utf-8")
    assert county_of_file(csv) == "370402"
    assert county_of_file(tmp_path / "反馈.csv") is None


def test_two_counties_returning_the_same_day_both_stay_in_use(tmp_path):
    from ingestion.ledger import deliveries, open_ledger

    root = DataRoot(tmp_path / "data")
    build(root)
    summary = export_run(root, RUN_DATE, report=False)
    returned = []
    for f in summary.county_workbooks[:2]:
        book = openpyxl.load_workbook(f.path)
        sheet = book["预警清单"]
        col = {c.value: c.column for c in sheet[1]}
        for header, value in (("核查结果", "属实"), ("核查日期", dt.datetime(2026, 11, 4)), ("核查人", "甲")):
            sheet.cell(2, col[header]).value = value
        book.save(tmp_path / f.path.name)
        returned.append(tmp_path / f.path.name)
    receipts = receive_feedback(root, returned, today=TODAY)
    assert [r.inbox_name for r in receipts] == ["feedback/feedback_20261105.xlsx", "feedback/feedback_20261105_2.xlsx"]
    with open_ledger(root) as con:
        in_use = deliveries(con).filter(pl.col("dataset") == "feedback")["in_use"].to_list()
    assert in_use == [True, True]
