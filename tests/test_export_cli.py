"""`safetynet export` and `safetynet feedback` on the command line."""

from __future__ import annotations

import openpyxl
from cli_support import invoke
from test_export_mart_fixture import build
from typer.testing import CliRunner

from ingestion.settings import DataRoot
from warehouse.cli import app

runner = CliRunner()


def test_export_then_feedback_from_the_command_line(tmp_path):
    root = DataRoot(tmp_path / "data")
    build(root)
    done = runner.invoke(app, ["export", "--date", "2026-10-31", "--data", str(root.root)])
    assert done.exit_code == 0, done.output
    folder = root.exports / "2026-10-31"
    books = sorted(folder.glob("3701*.xlsx"))
    assert len(books) == 2 and (folder / "运行报告_2026-10-31.html").exists()
    assert "3 county workbooks" in done.output

    book = openpyxl.load_workbook(books[0])  # 370102, answered in Python the way the test fills a sheet
    sheet = book["预警清单"]
    col = {c.value: c.column for c in sheet[1]}
    for header, value in (("核查结果", "属实"), ("核查日期", "2026-11-04"), ("核查人", "刘干部")):
        sheet.cell(2, col[header]).value = value
    returned = tmp_path / "returned.xlsx"
    book.save(returned)
    done = invoke("feedback", str(returned), "--data", str(root.root))
    assert done.exit_code == 0, done.output
    assert "370102" in done.output and "landed" in done.output
    assert list((root.lake / "feedback").glob("cutoff=*/seq=*/*.parquet"))


def test_feedback_refuses_other_file_types_before_copying_anything(tmp_path):
    root = DataRoot(tmp_path / "data")
    good, bad = tmp_path / "a.xlsx", tmp_path / "notes.txt"
    openpyxl.Workbook().save(good)
    bad.write_text("x", encoding="utf-8")
    root.root.mkdir(parents=True)
    (root.root / "ledger.sqlite").touch()  # a data root that has not received anything yet
    done = invoke("feedback", str(good), str(bad), "--data", str(root.root))
    assert done.exit_code == 2 and "notes.txt" in done.output
    assert not root.inbox.exists()
