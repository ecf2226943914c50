"""County warning workbooks (docs/outputs.md#county-workbooks), written from a small published mart."""

from __future__ import annotations

import datetime as dt
import sqlite3

import openpyxl
import pytest
from test_export_mart_fixture import RUN_DATE, build, open_by_county

from ingestion.settings import DataRoot
from warehouse.exports import export_run
from warehouse.exports.layout import HEADERS, allowed_answers, workbook_name
from warehouse.exports.workbook import LEVEL_FILLS, display_width

# docs/outputs.md#county-workbooks's columns in its order, with 涉及月份 added (merged monthly warnings)
SPEC_COLUMNS = (
    "预警编号", "预警等级", "预警类型", "规则编号", "子类", "乡镇(街道)", "村(社区)", "家庭编号", "户主姓名",
    "户主身份证号", "对象姓名", "对象身份证号", "救助类别", "触发依据", "涉及月份", "首次预警日期", "核查期限", "状态",
    "建议措施", "核查结果", "处置措施", "核查日期", "核查人", "备注",
)  # fmt: skip


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = DataRoot(tmp_path_factory.mktemp("exports"))
    people = build(root)
    summary = export_run(root, RUN_DATE, report=False)
    return root, people, summary


def _sheet_rows(path, sheet="预警清单"):
    book = openpyxl.load_workbook(path)
    rows = list(book[sheet].iter_rows(values_only=True))
    return book, [dict(zip(rows[0], r)) for r in rows[1:]]


def _book(summary, county):
    return next(f.path for f in summary.files if f.county_code == county)


def test_one_workbook_per_county_with_open_warnings_named_by_code(exported):
    root, _, summary = exported
    open_ = open_by_county(root)
    counties = {f.county_code for f in summary.county_workbooks}
    assert counties == set(open_) - {"370000"}  # 370203 has only answered warnings: no workbook
    folder = root.exports / "2026-10-31"
    assert (folder / "370103_市中区_低收入人口预警清单_2026-10-31.xlsx").exists()
    assert (folder / "370402_市中区_低收入人口预警清单_2026-10-31.xlsx").exists()  # same name, other county
    assert (folder / "370000_山东省_低收入人口预警汇总_2026-10-31.xlsx").exists()


def test_a_workbook_holds_its_own_county_open_warnings_and_nothing_else(exported):
    root, _, summary = exported
    open_ = open_by_county(root)
    for f in summary.county_workbooks:
        _, rows = _sheet_rows(f.path)
        assert {r["预警编号"] for r in rows} == open_[f.county_code], f.path.name
        assert f.rows == len(rows)
        assert {r["状态"] for r in rows} <= {"待核查", "逾期"}
        assert f.path.stat().st_mode & 0o077 == 0  # names and IDs: owner-only


def test_province_level_warnings_only_in_the_province_workbook(exported):
    root, _, summary = exported
    province_ids = open_by_county(root)["370000"]
    _, rows = _sheet_rows(_book(summary, "370000"))
    assert {r["预警编号"] for r in rows} == province_ids
    for f in summary.county_workbooks:
        _, county_rows = _sheet_rows(f.path)
        assert not province_ids & {r["预警编号"] for r in county_rows}


def test_header_is_row_one_with_the_spec_columns_in_order(exported):
    _, _, summary = exported
    book = openpyxl.load_workbook(_book(summary, "370102"))
    assert book.sheetnames == ["预警清单", "汇总", "说明"]
    header = [c.value for c in book["预警清单"][1]]
    assert tuple(header) == SPEC_COLUMNS == HEADERS
    assert book["预警清单"].freeze_panes == "B2"
    assert book["预警清单"].auto_filter.ref.startswith("A1:")


def test_ids_are_text_cells_equal_to_the_vault(exported):
    _, people, summary = exported
    sheet = openpyxl.load_workbook(_book(summary, "370102"))["预警清单"]
    col = {c.value: c.column for c in sheet[1]}
    heads = {}
    for r in range(2, sheet.max_row + 1):
        for name_col, id_col in (("户主姓名", "户主身份证号"), ("对象姓名", "对象身份证号")):
            cell = sheet.cell(r, col[id_col])
            if cell.value is not None:
                assert cell.data_type == "s" and isinstance(cell.value, str) and len(cell.value) == 18
                heads[sheet.cell(r, col[name_col]).value] = cell.value
    assert heads["张建国"] == people["head1"].id_number and heads["张建国"].endswith("X")
    assert heads["李强"] == people["dead2"].id_number  # W02's deceased is the 对象


def test_dates_are_date_cells_and_rows_sorted_by_deadline(exported):
    _, _, summary = exported
    sheet = openpyxl.load_workbook(_book(summary, "370102"))["预警清单"]
    col = {c.value: c.column for c in sheet[1]}
    deadlines = []
    for r in range(2, sheet.max_row + 1):
        for header in ("首次预警日期", "核查期限"):
            cell = sheet.cell(r, col[header])
            assert cell.is_date and cell.number_format == "yyyy-mm-dd"
        deadlines.append(sheet.cell(r, col["核查期限"]).value)
    assert deadlines == sorted(deadlines) and len(deadlines) == 5


def test_answer_columns_carry_the_contract_drop_downs_over_every_row(exported):
    _, _, summary = exported
    sheet = openpyxl.load_workbook(_book(summary, "370102"))["预警清单"]
    letter = {c.value: c.column_letter for c in sheet[1]}
    last = sheet.max_row
    found = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    finding = found[f"{letter['核查结果']}2:{letter['核查结果']}{last}"]
    action = found[f"{letter['处置措施']}2:{letter['处置措施']}{last}"]
    checked = found[f"{letter['核查日期']}2:{letter['核查日期']}{last}"]
    assert finding.type == "list" and finding.formula1.strip('"').split(",") == list(allowed_answers("finding"))
    assert action.type == "list" and action.formula1.strip('"').split(",") == list(allowed_answers("action"))
    assert "属实" in allowed_answers("finding") and "停发退出" in allowed_answers("action")
    assert checked.type == "date"


def test_level_fills_and_township_display(exported):
    _, _, summary = exported
    _, rows = _sheet_rows(_book(summary, "370102"))
    sheet = openpyxl.load_workbook(_book(summary, "370102"))["预警清单"]
    col = {c.value: c.column for c in sheet[1]}
    for r in range(2, sheet.max_row + 1):
        level = sheet.cell(r, col["预警等级"]).value
        assert sheet.cell(r, col["预警等级"]).fill.fgColor.rgb.endswith(LEVEL_FILLS[level].lstrip("#"))
    d01 = next(r for r in rows if r["规则编号"] == "D01")
    assert d01["乡镇(街道)"] is None and d01["对象姓名"] == "孙七"  # D01: no township, in its county's book
    w01 = next(r for r in rows if r["规则编号"] == "W01")
    # the township named as regions.csv names it; no village names are shipped: the village code is shown
    assert w01["乡镇(街道)"] == "解放路街道" and w01["村(社区)"] == "370102001001"
    assert w01["预警类型"] == "支出骤增·医疗" and w01["对象姓名"] is None and w01["救助类别"] == "最低生活保障"
    assert next(r for r in rows if r["规则编号"] == "W03")["子类"] == "a"


def test_d02_without_household_shows_the_record_head(exported):
    _, people, summary = exported
    _, rows = _sheet_rows(_book(summary, "370402"))
    d02 = next(r for r in rows if r["规则编号"] == "D02")
    assert d02["家庭编号"] is None
    assert d02["户主姓名"] == "孙二" and d02["户主身份证号"] == people["d02head"].id_number


def test_summary_sheet_counts_match_the_list(exported):
    _, _, summary = exported
    book, rows = _sheet_rows(_book(summary, "370102"))
    table = list(book["汇总"].iter_rows(values_only=True))
    header, body, total = table[0], table[1:-1], table[-1]
    assert header == ("乡镇(街道)", "预警类型", "红", "橙", "黄", "合计", "其中逾期")
    assert total[0] == "合计" and total[5] == len(rows) == sum(r[5] for r in body)
    assert total[2:5] == tuple(sum(1 for r in rows if r["预警等级"] == lvl) for lvl in "红橙黄")
    assert total[6] == sum(1 for r in rows if r["状态"] == "逾期")
    assert ("（无乡镇）", "主动发现·大额医疗", 0, 0, 1, 1, 0) in body


def test_notes_sheet_identifies_the_county_and_states_deadlines(exported):
    _, _, summary = exported
    notes = list(openpyxl.load_workbook(_book(summary, "370402"))["说明"].iter_rows(values_only=True))
    pairs = {r[0]: r[1] for r in notes if r[0]}
    assert pairs["县区代码"] == "370402" and pairs["县区名称"] == "市中区" and pairs["所属市"] == "枣庄市"
    assert (
        pairs["红色预警"].startswith("3 ")
        and pairs["橙色预警"].startswith("10 ")
        and pairs["黄色预警"].startswith("30 ")
    )
    explained = {r[0] for r in notes}
    assert set(HEADERS) <= explained  # every column explained


def test_province_summary_counts_by_city_county_rule(exported):
    root, _, summary = exported
    book = openpyxl.load_workbook(_book(summary, "370000"))
    assert book.sheetnames[0] == "预警清单" and "说明" in book.sheetnames
    total_open = sum(len(v) for v in open_by_county(root).values())
    for sheet in ("市汇总", "县区汇总", "规则汇总"):
        rows = list(book[sheet].iter_rows(values_only=True))
        header, total = rows[0], rows[-1]
        assert total[header.index("合计")] == total_open, sheet
    cities = {r[0]: r for r in list(book["市汇总"].iter_rows(values_only=True))[1:-1]}
    assert cities["济南市"][4] == 7 and cities["枣庄市"][4] == 2 and cities["省级"][4] == 1
    long = list(book["分县分规则"].iter_rows(values_only=True))
    assert sum(r[6] for r in long[1:]) == total_open


def test_every_export_is_recorded_in_the_ledger_without_names_or_ids(exported):
    root, people, summary = exported
    con = sqlite3.connect(root.ledger)
    try:
        rows = con.execute("SELECT run_date, kind, county_code, path, rows FROM exports").fetchall()
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    assert {(r[1], r[2], r[4]) for r in rows} == {(f.kind, f.county_code, f.rows) for f in summary.files}
    assert all(r[0] == "2026-10-31" and (root.root / r[3]).exists() for r in rows)
    assert not any(p.id_number in dump or p.name in dump for p in people.values())


def test_reexport_replaces_files_and_drops_stale_ones(tmp_path):
    root = DataRoot(tmp_path)
    build(root)
    folder = root.exports / "2026-10-31"
    folder.mkdir(parents=True)
    stale = folder / workbook_name("370203", "崂山区", "2026-10-31")
    stale.write_bytes(b"old")
    export_run(root, RUN_DATE)
    export_run(root, RUN_DATE, report=False)
    assert not stale.exists()
    assert (folder / "运行报告_2026-10-31.html").exists()  # a workbooks-only export keeps the report
    assert len(list(folder.glob("*.xlsx"))) == 4 and not list(folder.glob(".*tmp*"))


def test_display_width_counts_cjk_double():
    assert display_width("W01") == 3
    assert display_width("支出骤增") == 8
    assert display_width(dt.date(2026, 1, 2)) == 10
    assert display_width(None) == 0


def test_no_open_warnings_gives_only_the_province_summary_and_report(tmp_path):
    import duckdb

    root = DataRoot(tmp_path)
    build(root)
    con = duckdb.connect(str(root.published / "monitoring.duckdb"))
    con.execute("UPDATE fct_warnings SET status = '已核查'")
    con.close()
    summary = export_run(root, RUN_DATE)
    assert summary.county_workbooks == [] and summary.warnings_exported == 0
    assert sorted(f.kind for f in summary.files) == ["province_workbook", "run_report"]
    rows = list(openpyxl.load_workbook(_book(summary, "370000"))["预警清单"].iter_rows(values_only=True))
    assert rows[0] == HEADERS and len(rows) == 1


def test_export_refuses_a_mart_built_for_another_run(tmp_path):
    import duckdb

    from warehouse.exports.mart import WrongRun

    root = DataRoot(tmp_path)
    build(root)
    with pytest.raises(WrongRun):
        export_run(root, dt.date(2026, 9, 30), report=False)  # the register already holds the 10-31 run
    con = duckdb.connect(str(root.published / "monitoring.duckdb"))
    con.execute("ALTER TABLE dim_household ADD COLUMN run_date DATE DEFAULT DATE '2026-11-30'")
    con.close()
    with pytest.raises(WrongRun, match="2026-11-30"):
        export_run(root, RUN_DATE, report=False)
    assert not (root.exports / "2026-10-31").exists()
