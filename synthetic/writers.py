"""Write one delivery: clean frame (+ planted bad rows) → a CSV or XLSX file in the inbox, in its style.

Returns what landing must report for the file: rows in and the rejection of each planted bad cell.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from ingestion.contracts import Contract
from synthetic import records
from synthetic.messy import Style, excel_value, header_of, mess_cells, render_text, title_of

FIXED_CREATED = dt.datetime(2026, 1, 1)  # workbook metadata: fixed so files are byte-identical per seed
Legacy = Callable[[pl.Expr], pl.Expr]  # clean ID column → rows whose ID is written in its 15-digit form


@dataclass(frozen=True)
class Extras:
    """What a delivery's quirks change in the written file (synthetic/quirks.py): IDs written in their legacy
    15-digit form, and empty rows left below the data (not data rows: neither landed nor rejected)."""

    legacy: Legacy | None = None
    blank_tail: int = 0


@dataclass(frozen=True)
class BadRow:
    """A row with exactly one bad cell: `raw` (text, or a float for an ID turned into a number) in `field`."""

    row: dict[str, object]
    field: str
    raw: str | float
    reason: str


@dataclass(frozen=True)
class Rejection:
    file_name: str
    data_row: int
    column: str
    reason: str


@dataclass(frozen=True)
class Written:
    file_name: str
    rows_in: int
    rejections: tuple[Rejection, ...]
    style: Style


def write_delivery(
    inbox: Path, file_name: str, spec: Contract, title: str, cutoff: dt.date, frame: pl.DataFrame,
    bad: list[BadRow], style: Style, rng: np.random.Generator, extras: Extras = Extras(),
) -> Written:  # fmt: skip
    good = frame.height
    full = pl.concat([frame, records.from_rows(spec, [b.row for b in bad])]) if bad else frame
    text = mess_cells(spec, full, render_text(spec, full, style), style, rng)
    if extras.legacy is not None:
        text = _legacy_ids(spec, full, text, good, extras.legacy)
    for j, b in enumerate(bad):  # exactly one bad cell per bad row
        raw = b.raw if isinstance(b.raw, str) else "3.70102E+17"
        text = text.with_columns(text[b.field].scatter([good + j], pl.Series([raw], dtype=pl.String)))
    order = np.arange(good)
    if bad:
        order = np.insert(order, np.sort(rng.integers(0, good + 1, len(bad))), np.arange(good, good + len(bad)))
    columns = list(spec.columns)
    if style.shuffle_columns:
        columns = [columns[i] for i in rng.permutation(len(columns))]
    headers = {c.field: header_of(c, style) for c in columns}
    where = {int(idx): pos + 1 for pos, idx in enumerate(order) if idx >= good}
    rejections = tuple(Rejection(file_name, where[good + j], headers[b.field], b.reason) for j, b in enumerate(bad))
    path = inbox / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    if style.fmt == "xlsx":
        bad_cells = {(good + j, b.field): b.raw for j, b in enumerate(bad)}
        _xlsx(
            path, spec, title_of(title, cutoff), cutoff, full, text, order, columns, headers, style, bad_cells,
            extras.blank_tail,
        )  # fmt: skip
    else:
        empty_as_null = [
            pl.when(pl.col(c.field) == "").then(None).otherwise(pl.col(c.field)).alias(c.field) for c in columns
        ]
        ordered = text.select(empty_as_null).rename(headers)[order]
        _csv(path, ordered, style)
        if extras.blank_tail:  # a spreadsheet saved as CSV keeps its empty rows as lines of commas
            with path.open("ab") as out:
                out.write(("," * (len(columns) - 1) + style.newline).encode("ascii") * extras.blank_tail)
    return Written(file_name, good + len(bad), rejections, style)


def _legacy_ids(spec: Contract, full: pl.DataFrame, text: pl.DataFrame, good: int, legacy: Legacy) -> pl.DataFrame:
    """IDs of people born 1900-1999 picked by `legacy` written in their 15-digit form (the century and the check
    digit dropped), as a legacy system exports them; planted bad rows keep their cell."""
    updates = []
    for col in spec.columns:
        if col.kind != "id":
            continue
        clean = pl.col(col.field)
        picked = full.select(legacy(clean) & (clean.str.slice(6, 2) == "19") & (pl.int_range(pl.len()) < good))
        old = clean.str.slice(0, 6) + clean.str.slice(8, 9)
        form = full.select(pl.when(picked.to_series()).then(old).otherwise(None)).to_series()
        updates.append(pl.coalesce(form, text[col.field]).alias(col.field))
    return text.with_columns(updates) if updates else text


def _csv(path: Path, text: pl.DataFrame, style: Style) -> None:
    if style.encoding != "gb18030":
        text.write_csv(
            path, include_bom=style.encoding == "utf-8-sig", line_terminator=style.newline, quote_style="necessary"
        )
        return
    buffer = io.BytesIO()
    text.write_csv(buffer, line_terminator=style.newline, quote_style="necessary")
    buffer.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("wb") as out:  # transcode in chunks: large rosters never sit in memory twice
        while chunk := buffer.read(1 << 22):
            out.write(decoder.decode(chunk).encode("gb18030"))
        out.write(decoder.decode(b"", final=True).encode("gb18030"))


def _xlsx(
    path: Path, spec: Contract, title: str, cutoff: dt.date, clean: pl.DataFrame, text: pl.DataFrame, order: np.ndarray,
    columns: list, headers: dict[str, str], style: Style, bad_cells: dict[tuple[int, str], str | float],
    blank_tail: int = 0,
) -> None:  # fmt: skip
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    workbook.set_properties({"created": FIXED_CREATED})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet("Sheet1")
    row = 0
    for kind in style.title_rows:
        if kind == "title":
            sheet.write_string(row, 0, title)
        elif kind == "note":
            sheet.write_string(row, 0, f"说明：数据截止日期{cutoff:%Y年%m月%d日}，金额单位：元")
        row += 1
    sheet.write_row(row, 0, [headers[c.field] for c in columns])
    clean_cols = {c.field: clean[c.field].to_list() for c in columns}
    text_cols = {c.field: text[c.field].to_list() for c in columns}
    for idx in order.tolist():
        row += 1
        for j, col in enumerate(columns):
            bad = bad_cells.get((idx, col.field))
            if bad is not None:
                sheet.write(row, j, bad) if isinstance(bad, float) else sheet.write_string(row, j, bad)
                continue
            cell = excel_value(col, clean_cols[col.field][idx], text_cols[col.field][idx], style)
            if isinstance(cell, dt.date):
                sheet.write_datetime(row, j, cell, date_format)
            elif isinstance(cell, (int, float)):
                sheet.write_number(row, j, cell)
            elif cell != "":
                sheet.write_string(row, j, cell)
    bordered = workbook.add_format({"border": 1})
    for i in range(blank_tail):  # rows a user emptied but left formatted, the last one holding a stray space
        row += 1
        for j in range(len(columns)):
            sheet.write_blank(row, j, None, bordered)
        if i == blank_tail - 1:
            sheet.write_string(row, 0, " ")
    workbook.close()
