"""Messy value forms within docs/extracts.md#delivering-a-file and docs/extracts.md#values: per file, a style
chosen from the seed; per cell, a small share of full-width digits, surrounding spaces, synonyms, legacy IDs,
lower-case x.

Every form produced here is one the spec says the platform must accept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ingestion.contracts import Column, Contract

FULLWIDTH = str.maketrans("0123456789()", "０１２３４５６７８９（）")
DIGITS_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CSV_DATE_STYLES = (
    "%Y-%m-%d",
    "%Y/%-m/%-d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y年%-m月%-d日",
    "%Y.%m.%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%-m/%-d %H:%M",
)
XLSX_DATE_STYLES = ("excel", "excel", "%Y-%m-%d", "%Y年%-m月%-d日", "%Y/%m/%d")
MONTH_STYLES = ("%Y%m", "%Y-%m", "%Y/%m", "%Y年%-m月")
AMOUNT_STYLES = ("plain2", "plain", "comma", "yuan", "yen")
UNIT_SUFFIXES = ("", "（元）", "(元)")
DEFAULTS = {"status": "在保", "settlement_type": "正常", "individual_cover": "否", "origin": "新申请"}
ENCODINGS = ("gb18030", "utf-8-sig", "utf-8")


@dataclass(frozen=True)
class Style:
    """How one delivered file is written."""

    fmt: str  # csv | xlsx
    encoding: str = "utf-8"
    newline: str = "\n"
    date_style: str = "%Y-%m-%d"
    month_style: str = "%Y%m"
    amount_style: str = "plain2"
    unit_suffix: str = ""
    fullwidth_headers: bool = False
    shuffle_columns: bool = False
    cell_mess: float = 0.0
    blank_defaults: bool = False
    numbers_as_cells: bool = True  # xlsx: regions, months, amounts, ints as number cells
    unit_headers: bool = False  # amounts a contract allows in a larger unit are written in it: `注册资本（万元）`
    title_rows: tuple[str, ...] = field(default=("title",))

    def describe(self) -> dict[str, object]:
        return dict(self.__dict__)


def unit_of(col: Column, style: Style) -> tuple[str, int] | None:
    """(unit, factor) when this file writes the column in a larger unit (`万元`, 10000), else None."""
    if not (style.unit_headers and col.unit_headers):
        return None
    unit, factor = next(iter(col.unit_headers.items()))
    return unit, int(factor)


def header_of(col: Column, style: Style) -> str:
    unit = unit_of(col, style)
    if unit is not None:
        header = f"{col.header}（{unit[0]}）"
    elif col.unit_headers:  # an amount in another unit than ¥ (m²) or allowed in one: never `（元）`
        header = col.header
    else:
        header = col.header + (style.unit_suffix if col.kind == "amount" else "")
    return header.translate(FULLWIDTH) if style.fullwidth_headers else header


def _scaled(values: list[int | None], factor: int) -> list[str]:
    """Cents as an exact decimal in a larger unit: 12,345,678 cents in 万元 → `12.345678`."""
    out = []
    for v in values:
        if v is None:
            out.append("")
            continue
        whole, rest = divmod(abs(v), 100 * factor)
        frac = str(rest).zfill(len(str(100 * factor)) - 1).rstrip("0")
        out.append(f"{'-' if v < 0 else ''}{whole}{'.' + frac if frac else ''}")
    return out


def _amount_text(cents: pl.Expr, style: str) -> pl.Expr:
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    a = cents.abs()
    whole = (a // 100).cast(pl.String)
    frac = (a % 100).cast(pl.String).str.zfill(2)
    two = sign + whole + "." + frac
    if style == "plain":
        return two.str.strip_chars_end("0").str.strip_chars_end(".")
    if style == "yuan":
        return two + "元"
    if style == "yen":
        return pl.lit("￥") + two.str.strip_chars_end("0").str.strip_chars_end(".")
    return two


def _comma(values: list[int | None]) -> list[str]:
    return ["" if v is None else f"{'-' if v < 0 else ''}{abs(v) // 100:,}.{abs(v) % 100:02d}" for v in values]


def render_text(spec: Contract, frame: pl.DataFrame, style: Style) -> pl.DataFrame:
    """Every column as text in the file's style (before per-cell mess)."""
    out = {}
    for col in spec.columns:
        c = pl.col(col.field)
        if col.kind in ("date",):
            fmt = "%Y-%m-%d" if style.date_style == "excel" else style.date_style
            expr = c.cast(pl.Datetime).dt.strftime(fmt) if "%H" in fmt else c.dt.strftime(fmt)
        elif col.kind == "month":
            expr = c.dt.strftime(style.month_style)
        elif col.kind == "amount":
            expr = _amount_text(c, "plain2" if style.amount_style == "comma" else style.amount_style)
        elif col.kind == "int":
            expr = c.cast(pl.String)
        elif col.kind == "enum" and style.blank_defaults and col.field in DEFAULTS:
            expr = pl.when(c == DEFAULTS[col.field]).then(pl.lit("")).otherwise(c)
        else:
            expr = c
        out[col.field] = expr.fill_null("").alias(col.field)
    text = frame.select(list(out.values()))
    if style.amount_style == "comma":
        text = text.with_columns(
            pl.Series(col.field, _comma(frame[col.field].to_list()), dtype=pl.String)
            for col in spec.columns
            if col.kind == "amount" and unit_of(col, style) is None
        )
    scaled = [(col, unit) for col in spec.columns if (unit := unit_of(col, style)) is not None]
    if scaled:
        text = text.with_columns(
            pl.Series(col.field, _scaled(frame[col.field].to_list(), unit[1]), dtype=pl.String) for col, unit in scaled
        )
    return text


def _legacy(id18: str) -> str:
    return id18[:6] + id18[8:17]


def mess_cells(
    spec: Contract, frame: pl.DataFrame, text: pl.DataFrame, style: Style, rng: np.random.Generator
) -> pl.DataFrame:
    """A small share of cells in another accepted form (full-width, spaces, synonyms, 15-digit IDs, x)."""
    if style.cell_mess <= 0 or text.height == 0:
        return text
    n = text.height
    updates = []
    for col in spec.columns:
        picked = np.flatnonzero(rng.random(n) < style.cell_mess)
        if len(picked) == 0:
            continue
        values = text[col.field].gather(picked).to_list()
        modes = rng.integers(0, 4, len(picked))
        new = [_mess_one(col, v, int(m), style) for v, m in zip(values, modes)]
        updates.append(text[col.field].scatter(picked, pl.Series(new, dtype=pl.String)))
    return text.with_columns(updates) if updates else text


def _mess_one(col: Column, value: str, mode: int, style: Style) -> str:
    if value == "":
        return value
    if col.kind == "id":
        if mode == 0 and value[6:8] == "19":
            return _legacy(value)
        if mode == 1 and value.endswith("X"):
            return value[:-1] + "x"
        if mode == 2:
            return value.translate(DIGITS_FULLWIDTH)
        return f" {value} "
    if col.kind in ("date", "month", "amount", "int"):
        if col.kind == "date" and style.date_style == "excel":
            return value
        return value.translate(DIGITS_FULLWIDTH) if mode < 3 else f" {value}"
    if col.kind == "enum":
        synonyms = col.values.get(value, ())
        if mode < 2 and synonyms:
            return synonyms[mode % len(synonyms)]
        return f"{value} " if mode == 3 else value
    if col.kind == "text" and col.upper_case and mode == 1:
        return value.lower()
    if col.kind == "text" and mode == 3:
        return f" {value}"
    return value


def choose_style(i: int, rows: int, rng: np.random.Generator, xlsx_limit: int) -> Style:
    """Round-robin over the forms (so every form appears in a long enough history), jittered by the seed."""
    xlsx = (i % 4 == 1) and rows <= xlsx_limit
    date_styles = XLSX_DATE_STYLES if xlsx else CSV_DATE_STYLES
    titles = (("title",), ("title", "note"), ("title", "blank"), ("title", "note", "blank"))
    return Style(
        fmt="xlsx" if xlsx else "csv",
        encoding=ENCODINGS[i % 3],
        newline="\r\n" if (i // 3) % 2 else "\n",
        date_style=date_styles[(i // 2) % len(date_styles)],
        month_style=MONTH_STYLES[(i // 5) % len(MONTH_STYLES)],
        amount_style=AMOUNT_STYLES[(i // 7) % len(AMOUNT_STYLES)],
        unit_suffix=UNIT_SUFFIXES[i % 3 if rng.random() < 0.7 else 0],
        fullwidth_headers=bool(rng.random() < 0.2),
        shuffle_columns=bool(rng.random() < 0.5),
        cell_mess=(0.0, 0.02, 0.05)[int(rng.integers(0, 3))],
        blank_defaults=bool(rng.random() < 0.5),
        numbers_as_cells=bool(rng.random() < 0.7),
        title_rows=titles[int(rng.integers(0, len(titles)))],
        unit_headers=(i // 2) % 2 == 1,
    )


def excel_value(col: Column, value: object, text: str, style: Style) -> object:
    """The cell written to XLSX: a number or date where allowed, the text otherwise (never an ID number)."""
    if value is None or text == "" or text != text.strip():
        return text
    if col.kind == "date" and style.date_style == "excel":
        return value
    if not style.numbers_as_cells or any(ch in text for ch in "０１２３４５６７８９") or unit_of(col, style):
        return text
    if col.kind in ("region", "region6", "int"):
        return int(text) if text.isdigit() else text
    if col.kind == "amount" and style.amount_style in ("plain", "plain2"):
        return int(value) / 100  # type: ignore[call-overload]
    if col.kind == "month" and style.month_style == "%Y%m":
        return int(text)
    return text


def title_of(spec_title: str, cutoff: dt.date) -> str:
    return f"{cutoff.year}年{cutoff.month}月{spec_title}"
