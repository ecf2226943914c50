"""Write a warning workbook with xlsxwriter: the list staff fill in, a summary and the notes.

A workbook is written under a temporary name and renamed, so a half-written file is never picked up.
IDs are text cells (a number cell loses digits), dates real date cells, the answer columns carry the
drop-downs of the feedback contract so that what comes back lands cleanly.
"""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ingestion import scratch
from warehouse.exports.layout import (
    COLUMNS,
    COUNTY_CODE_LABEL,
    HEADERS,
    LIST_SHEET,
    NOTES_SHEET,
    PRINT_WIDTHS,
    allowed_answers,
)

LEVEL_FILLS = {"红": "#FF4D4F", "橙": "#FFA940", "黄": "#FFE066"}
ANSWER_FILL = "#EAF3FF"
DATE_FORMAT = "yyyy-mm-dd"
MIN_WIDTH, MAX_WIDTH = 6, 28
LINE_HEIGHT = 15.75  # points per wrapped line at the 11 pt body font (Chinese glyphs need a little more than 15)
NOTES_WIDTHS = (22, 96)
WORKBOOK_MODE = 0o600  # names and ID numbers: owner-only, like the vault and the quarantine
EARLIEST_CHECK, LATEST_CHECK = dt.date(2020, 1, 1), dt.date(2099, 12, 31)


@dataclass(frozen=True)
class Dispatch:
    """Whom a workbook is for, and what its notes say."""

    county_code: str
    county_name: str
    city_name: str
    run_date: dt.date
    deadlines: dict[str, int]  # level → working days
    extra_notes: tuple[str, ...] = field(default=())


def display_width(value: Any) -> int:
    """Columns a value takes on screen: CJK characters count double."""
    text = value.isoformat() if isinstance(value, dt.date) else ("" if value is None else str(value))
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Formats:
    def __init__(self, book: Workbook):
        add = book.add_format
        self.header = add({"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF", "border": 1,
                           "text_wrap": True, "valign": "vcenter", "align": "center"})  # fmt: skip
        self.answer_header = add({"bold": True, "bg_color": "#2E75B6", "font_color": "#FFFFFF", "border": 1,
                                  "text_wrap": True, "valign": "vcenter", "align": "center"})  # fmt: skip
        # every cell of the list wraps: a printed page shows the whole text, never a clipped one
        self.text = add({"num_format": "@", "valign": "top", "text_wrap": True})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.date = add({"num_format": DATE_FORMAT, "valign": "top", "align": "left"})
        self.overdue = add({"bold": True, "font_color": "#C00000", "valign": "top", "text_wrap": True})
        self.plain = add({"valign": "top", "text_wrap": True})
        self.answer = add({"bg_color": ANSWER_FILL, "border": 1, "border_color": "#BFBFBF", "valign": "top",
                           "text_wrap": True})  # fmt: skip
        self.answer_date = add({"bg_color": ANSWER_FILL, "border": 1, "border_color": "#BFBFBF",
                                "num_format": DATE_FORMAT, "valign": "top"})  # fmt: skip
        self.levels = {
            level: add({"bg_color": fill, "bold": True, "align": "center", "valign": "top", "text_wrap": True})
            for level, fill in LEVEL_FILLS.items()
        }
        self.bold = add({"bold": True})
        self.title = add({"bold": True, "font_size": 14})
        self.int = add({"num_format": "0"})
        self.total = add({"bold": True, "top": 1})


def write_atomically(path: Path, fill: Any) -> None:
    """Build the workbook under a temporary name in the same folder, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = scratch.temp_path(path)
    try:
        book = xlsxwriter.Workbook(
            str(tmp), {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
        )
        fill(book, _Formats(book))
        book.close()
        os.chmod(tmp, WORKBOOK_MODE)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --- 预警清单 -------------------------------------------------------------------------------------


def write_list_sheet(book: Workbook, fmt: _Formats, rows: pl.DataFrame, name: str = LIST_SHEET) -> Worksheet:
    """The warnings, one per row under a frozen header, with drop-downs on the answer columns."""
    sheet = book.add_worksheet(name)
    for col, column in enumerate(COLUMNS):
        is_answer = column.kind.startswith("answer")
        sheet.write_string(0, col, column.header, fmt.answer_header if is_answer else fmt.header)
    values = rows.select(HEADERS)
    for r, record in enumerate(values.iter_rows(), start=1):
        for col, (column, value) in enumerate(zip(COLUMNS, record)):
            _write_cell(sheet, fmt, r, col, column.kind, value)
    last = max(values.height, 1)
    _answer_validations(sheet, last)
    widths = [PRINT_WIDTHS[column.header] for column in COLUMNS]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.set_row(0, row_height(HEADERS, widths))
    for r, record in enumerate(values.iter_rows(), start=1):
        sheet.set_row(r, row_height(record, widths))
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, last, len(HEADERS) - 1)  # filter 乡镇(街道) to print one township's rows
    _print_setup(sheet)
    return sheet


def wrapped_lines(value: Any, width: float) -> int:
    """Lines a value takes in a wrapping cell `width` characters wide (each line break starts a new one)."""
    if value is None or isinstance(value, dt.date):
        return 1
    usable = max(width - 1.5, 1)  # the cell's padding
    return sum(max(1, -(-display_width(line) // usable)) for line in str(value).split("\n"))


def row_height(record: Any, widths: list[float]) -> float:
    """Points a row needs to show every wrapped cell whole."""
    return LINE_HEIGHT * max(wrapped_lines(value, width) for value, width in zip(record, widths))


def _write_cell(sheet: Worksheet, fmt: _Formats, r: int, c: int, kind: str, value: Any) -> None:
    if kind == "answer_date":
        sheet.write_blank(r, c, None, fmt.answer_date)
    elif kind.startswith("answer"):
        sheet.write_blank(r, c, None, fmt.answer)
    elif value is None or value == "":
        sheet.write_blank(r, c, None, fmt.text if kind == "id" else fmt.plain)
    elif kind == "date":
        sheet.write_datetime(r, c, value, fmt.date)
    elif kind == "level":
        sheet.write_string(r, c, value, fmt.levels.get(value, fmt.plain))
    elif kind == "status":
        sheet.write_string(r, c, value, fmt.overdue if value == "逾期" else fmt.plain)
    elif kind == "long_text":
        sheet.write_string(r, c, str(value), fmt.wrap)
    else:  # text and id: always a string cell, never a number
        sheet.write_string(r, c, str(value), fmt.text)


def _answer_validations(sheet: Worksheet, last: int) -> None:
    for col, column in enumerate(COLUMNS):
        if column.kind == "answer_enum":
            choices = list(allowed_answers(column.field or ""))
            sheet.data_validation(1, col, last, col, {
                "validate": "list", "source": choices, "dropdown": True,
                "input_title": column.header, "input_message": "请从下拉列表选择",
                "error_title": column.header, "error_message": "请从下拉列表中选择：" + "、".join(choices)[:200],
            })  # fmt: skip
        elif column.kind == "answer_date":
            sheet.data_validation(1, col, last, col, {
                "validate": "date", "criteria": "between", "minimum": EARLIEST_CHECK, "maximum": LATEST_CHECK,
                "input_title": column.header, "input_message": "填写日期，如 2026-11-05",
                "error_title": column.header, "error_message": "请填写有效日期，如 2026-11-05",
            })  # fmt: skip


def _print_setup(sheet: Worksheet, landscape: bool = True, one_page: bool = False) -> None:
    """A4; the header row on every page; as wide as the page (and as tall too when `one_page`)."""
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.set_paper(9)  # A4
    sheet.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.5)
    sheet.center_horizontally()
    sheet.set_footer("&C第 &P 页，共 &N 页")
    if not one_page:
        sheet.repeat_rows(0)
    sheet.fit_to_pages(1, 1 if one_page else 0)


# --- tables and notes -----------------------------------------------------------------------------


def write_table_sheet(
    book: Workbook, fmt: _Formats, name: str, table: pl.DataFrame, total_row: bool = False
) -> Worksheet:
    """A plain table under a header row (counts as numbers), the last row bold when it is a total."""
    sheet = book.add_worksheet(name)
    for col, header in enumerate(table.columns):
        sheet.write_string(0, col, header, fmt.header)
    for r, record in enumerate(table.iter_rows(), start=1):
        is_total = total_row and r == table.height
        for col, value in enumerate(record):
            style = fmt.total if is_total else None
            if value is None:
                sheet.write_blank(r, col, None, style)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(r, col, value, style)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, col, value, fmt.date)
            else:
                sheet.write_string(r, col, str(value), style)
    for col, header in enumerate(table.columns):
        widest = max([display_width(header), *(display_width(v) for v in table.get_column(header).to_list())])
        sheet.set_column(col, col, min(max(widest + 2, MIN_WIDTH), MAX_WIDTH))
    sheet.freeze_panes(1, 0)
    if table.height:
        sheet.autofilter(0, 0, table.height, table.width - 1)
    _print_setup(sheet)
    return sheet


def write_notes_sheet(book: Workbook, fmt: _Formats, dispatch: Dispatch, rows: pl.DataFrame) -> Worksheet:
    """说明: who the workbook is for (the county code identifies it when returned), deadlines, how to answer."""
    sheet = book.add_worksheet(NOTES_SHEET)
    sheet.set_column(0, 0, NOTES_WIDTHS[0])
    sheet.set_column(1, 1, NOTES_WIDTHS[1], fmt.wrap)
    lines: list[tuple[str, str]] = [
        ("项目", "内容"),
        (COUNTY_CODE_LABEL, dispatch.county_code),
        ("县区名称", dispatch.county_name),
        ("所属市", dispatch.city_name),
        ("运行日期", dispatch.run_date.isoformat()),
        ("待核查预警", str(rows.height)),
        ("其中逾期", str(rows.filter(pl.col("状态") == "逾期").height)),
        ("", ""),
        ("核查期限", "自首次预警日期的次日起，按国家法定工作日计算（法定节假日不计，调休上班日计入）："),
        *[(f"{level}色预警", f"{days} 个工作日内核查并回传") for level, days in dispatch.deadlines.items()],
        ("", "超过核查期限仍未回传的预警状态为“逾期”，在以后每次运行中持续统计，直至回传。"),
        ("", ""),
        (
            "填写与回传",
            "1. 逐条实地核查后，在“核查结果”列从下拉列表选择：" + "、".join(allowed_answers("finding")) + "。",
        ),
        ("", "2. “处置措施”从下拉列表选择：" + "、".join(allowed_answers("action")) + "。"),
        ("", "3. “核查日期”填写日期（如 2026-11-05），“核查人”填写姓名，“备注”选填。"),
        ("", "4. 尚未核查的行，“核查结果”留空即可：平台视为尚未反馈，不计为错误。"),
        ("", "5. 请勿修改“预警编号”和表头，不要删除“说明”工作表；可以排序、筛选、调整列宽。"),
        (
            "",
            "6. 保存为 .xlsx（Excel 或 WPS/LibreOffice 均可），交回县级民政部门导入平台；可多次回传，以最后一次为准。",
        ),
        ("", "7. 本表含姓名和身份证号，仅限核查工作使用，妥善保管，不得外传。"),
        *[("", note) for note in dispatch.extra_notes],
        ("", ""),
        ("列名", "说明"),
        *[(column.header, column.explanation) for column in COLUMNS],
    ]
    for r, (key, text) in enumerate(lines):
        bold = key in ("项目", "列名", "核查期限", "填写与回传", COUNTY_CODE_LABEL)
        sheet.write_string(r, 0, key, fmt.bold if bold else None)
        sheet.write_string(r, 1, text, fmt.text if key == COUNTY_CODE_LABEL else fmt.wrap)
        sheet.set_row(r, row_height((key, text), list(NOTES_WIDTHS)))
    _print_setup(sheet, landscape=False, one_page=True)  # the notes print on one page
    return sheet
