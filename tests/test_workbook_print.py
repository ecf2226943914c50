"""A county workbook printed the way a township clerk prints it: real LibreOffice to PDF, then read back.

A4 landscape pages that each carry the header row and every column (none cut off to another page), the
whole 触发依据 of every row (a clipped cell drops its text from the PDF), the 说明 sheet on one page, and
one township's rows alone once the 乡镇(街道) filter is set.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
from pypdf import PdfReader
from test_export_mart_fixture import RUN_DATE, build, require_binary

from ingestion.settings import DataRoot
from warehouse.exports import export_run
from warehouse.exports.layout import HEADERS, LIST_SHEET

COUNTY = "370102"
EXTRA = 40  # open warnings added to the county, so that the list runs over several pages
MIN_FONT_POINTS = 7.0  # the smallest printed body text read without a magnifier (11 pt at the fit-to-width scale)


def _long_evidence(n: int) -> str:
    months = [f"2026-{m:02d}" for m in range(3, 3 + n % 5 + 2)]
    died = f"2026-01-{10 + n % 9:02d}"
    return "\n".join(f"死亡日期 {died}，{m} 仍发放 低保金 ¥{500 + n}.00（家庭编号 H{n:04d}）" for m in months)


def _add_warnings(root: DataRoot) -> None:
    """EXTRA copies of the county's W01, each with its own number, township and a multi-line evidence."""
    townships = ("370102001", "370102002", "370102003")
    con = duckdb.connect(str(root.published / "monitoring.duckdb"))
    try:
        template = con.execute(
            "SELECT * FROM fct_warnings WHERE county_code = ? AND rule_code = 'W01'", [COUNTY]
        ).fetchdf()
        for n in range(EXTRA):
            row = template.iloc[0].copy()
            row["warning_id"] = f"W01-{n + 100:012d}"
            row["township_code"] = townships[n % len(townships)]
            row["evidence"] = _long_evidence(n)
            row["status"] = "待核查"
            con.execute("INSERT INTO fct_warnings SELECT * FROM (SELECT ?" + ", ?" * (len(row) - 1) + ")", list(row))
    finally:
        con.close()


def _to_pdf(soffice: str, book: Path, folder: Path) -> PdfReader:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(folder), str(book)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    pdf = folder / f"{book.stem}.pdf"
    assert done.returncode == 0 and pdf.exists(), done.stdout + done.stderr
    return PdfReader(pdf)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _runs(page) -> list[tuple[float, float, float, str]]:
    """(x, y, font size in points, text) of every text run on a page."""
    found = []

    def visit(text, cm, tm, font, size):  # noqa: ANN001 - pypdf's visitor
        if text.strip():
            scale = abs(cm[0] * tm[0]) or 1.0
            found.append((cm[0] * tm[4] + cm[4], cm[3] * tm[5] + cm[5], size * scale, text))

    page.extract_text(visitor_text=visit)
    return found


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    soffice = require_binary("soffice")
    folder = tmp_path_factory.mktemp("print")
    root = DataRoot(folder / "data")
    build(root)
    _add_warnings(root)
    summary = export_run(root, RUN_DATE, report=False)
    book = next(f.path for f in summary.county_workbooks if f.county_code == COUNTY)
    sheet = openpyxl.load_workbook(book)[LIST_SHEET]
    rows = [dict(zip(HEADERS, r)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    return book, _to_pdf(soffice, book, folder / "pdf"), rows, soffice, folder


def _list_pages(reader: PdfReader) -> list:
    return [p for p in reader.pages if p.mediabox.width > p.mediabox.height]


def test_page_count_a4_landscape_list_then_summary_then_notes(printed):
    _, reader, rows, _, _ = printed
    pages = reader.pages
    landscape = _list_pages(reader)
    assert all(round(float(p.mediabox.width)) == 842 and round(float(p.mediabox.height)) == 595 for p in landscape)
    portrait = [p for p in pages if p.mediabox.width < p.mediabox.height]
    assert len(portrait) == 1 and pages[-1] is portrait[0]  # 说明: one A4 portrait page, last
    summary_pages = [p for p in landscape if "预警编号" not in _flat(p.extract_text())]
    list_pages = [p for p in landscape if "预警编号" in _flat(p.extract_text())]
    assert len(summary_pages) == 1 and len(list_pages) >= 2, "the 45-row list runs over several pages"
    assert len(pages) == len(list_pages) + 2
    for number, page in enumerate(pages, start=1):  # the footer counts the same pages
        assert f"第{number}页，共{len(pages)}页" in _flat(page.extract_text())
    # every row printed exactly once, on some list page
    printed_text = [_flat(p.extract_text()) for p in list_pages]
    for row in rows:
        first_number = row["预警编号"].split("\n")[0]
        assert sum(first_number in text for text in printed_text) == 1, first_number


def test_every_list_page_has_the_header_and_every_column_inside_the_page(printed):
    _, reader, _, _, _ = printed
    for number, page in enumerate(_list_pages(reader)[:-1], start=1):
        text = _flat(page.extract_text())
        if "预警编号" not in text:
            continue
        missing = [h for h in HEADERS if _flat(h) not in text]
        assert not missing, f"page {number}: columns {missing} are cut off"
        runs = _runs(page)
        width = float(page.mediabox.width)
        assert all(0 <= x < width for x, _, _, _ in runs), f"page {number}: text beyond the page's width"
        body = [size for _, _, size, text in runs if re.fullmatch(r"\d{6,}X?", text)]  # ID numbers (wrapped)
        assert body and min(body) >= MIN_FONT_POINTS, f"page {number}: ID numbers printed at {min(body):.1f} pt"


def test_the_whole_evidence_of_every_row_is_printed(printed):
    _, reader, rows, _, _ = printed
    text = "".join(_flat(p.extract_text()) for p in _list_pages(reader))
    clipped = [row["预警编号"] for row in rows if _flat(row["触发依据"] or "") not in text]
    assert not clipped, f"触发依据 clipped in rows {clipped[:5]}"
    assert any(len((row["触发依据"] or "").split("\n")) >= 5 for row in rows)  # really multi-line rows


def test_notes_sheet_prints_whole_on_one_page(printed):
    _, reader, _, _, _ = printed
    notes = _flat(reader.pages[-1].extract_text())
    assert "县区代码" in notes and COUNTY in notes
    assert "选填：需要说明的其他情况。" in notes  # the last line of the sheet (备注's explanation)
    assert "7.本表含姓名和身份证号" in notes


def test_a_township_filtered_prints_that_township_alone(printed):
    book, _, rows, soffice, folder = printed
    township = "千佛山街道"
    mine = [r["预警编号"].split("\n")[0] for r in rows if r["乡镇(街道)"] == township]
    others = [r["预警编号"].split("\n")[0] for r in rows if r["乡镇(街道)"] != township]
    assert mine and others
    workbook = openpyxl.load_workbook(book)  # what a clerk does: filter 乡镇(街道) to one value, print
    sheet = workbook[LIST_SHEET]
    column = HEADERS.index("乡镇(街道)")
    sheet.auto_filter.add_filter_column(column, [township])
    for r in range(2, sheet.max_row + 1):
        sheet.row_dimensions[r].hidden = sheet.cell(r, column + 1).value != township
    filtered = folder / "filtered" / book.name
    filtered.parent.mkdir()
    workbook.save(filtered)
    reader = _to_pdf(soffice, filtered, folder / "filtered")
    text = "".join(_flat(p.extract_text()) for p in _list_pages(reader) if "预警编号" in _flat(p.extract_text()))
    assert all(number in text for number in mine)
    assert not any(number in text for number in others)
