"""Value kinds of docs/extracts.md#values as Polars expressions: each parses a trimmed string column.

Each parser returns the typed value, null where the text is not a valid value of the kind (the caller
turns "not empty and null" into the kind's reason code). Full-width forms are folded first (docs/extracts.md#values).
"""

from __future__ import annotations

import unicodedata

import polars as pl

AMOUNT = pl.Decimal(14, 2)
_FULL = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000", "\uffe5"]
_HALF = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" ", "\u00a5"]

# [0-9], not \d: Unicode \d is far slower, and full-width digits are folded before matching anyway
_TIME = r"(?:[ T]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
_DATE = rf"^([0-9]{{4}})(?:[-/.年]([0-9]{{1,2}})[-/.月]([0-9]{{1,2}})日?|([0-9]{{2}})([0-9]{{2}})) *{_TIME}$"
_MONTH = r"^([0-9]{4})(?:[-/.]([0-9]{1,2})|年([0-9]{1,2})月|([0-9]{2})|-([0-9]{2})-01 00:00:00)$"
_NUMBER = r"(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+)"
_AMOUNT = rf"^(?:[-+]? *¥ *|¥ *[-+]?|[-+]?){_NUMBER}(?: *元)?$"

REASON_BY_KIND = {
    "date": "bad_date",
    "month": "bad_month",
    "amount": "bad_amount",
    "int": "bad_int",
    "region": "bad_region",
    "region6": "bad_region",
    "enum": "unknown_enum",
}


def fold(s: pl.Expr) -> pl.Expr:
    """Full-width ASCII forms (digits, letters, punctuation, ideographic space, ￥) to half-width."""
    return s.str.replace_many(_FULL, _HALF).str.strip_chars()


def trimmed(s: pl.Expr) -> pl.Expr:
    return s.fill_null("").str.strip_chars()


def _iso(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    return pl.concat_str(year, pl.lit("-"), month.str.zfill(2), pl.lit("-"), day.str.zfill(2)).str.to_date(
        "%Y-%m-%d", strict=False
    )


def parse_date(s: pl.Expr) -> pl.Expr:
    """`2026-03-05`, `2026/3/5`, `20260305`, `2026年3月5日`, `2026.03.05`, any of them with a time."""
    return s.map_batches(parse_date_series, return_dtype=pl.Date)


def parse_month(s: pl.Expr) -> pl.Expr:
    """`202603`, `2026-03`, `2026/03`, `2026年3月` (and an Excel date cell on the 1st) → first day."""
    return s.map_batches(parse_month_series, return_dtype=pl.Date)


def _by_groups(s: pl.Series, pattern: str, build) -> pl.Series:
    """Run the regex once (not once per group) on the values that need it, and put the dates back."""
    groups = pl.DataFrame({"s": s}).select(fold(pl.col("s")).str.extract_groups(pattern).alias("g")).unnest("g")
    return groups.select(build(pl.col)).to_series()


def parse_date_series(s: pl.Series) -> pl.Series:
    iso = pl.select(pl.when(s.str.len_bytes() == 10).then(s.str.to_date("%Y-%m-%d", strict=False))).to_series()
    need = iso.is_null() & (s != "")
    if not need.any():
        return iso.alias(s.name)
    other = _by_groups(
        s.filter(need), _DATE, lambda c: _iso(c("1"), pl.coalesce(c("2"), c("4")), pl.coalesce(c("3"), c("5")))
    )
    return iso.scatter(need.arg_true(), other).alias(s.name)


def parse_month_series(s: pl.Series) -> pl.Series:
    return _by_groups(
        s, _MONTH, lambda c: _iso(c("1"), pl.coalesce(c("2"), c("3"), c("4"), c("5")), pl.lit("01"))
    ).alias(s.name)


def parse_amount(s: pl.Expr) -> pl.Expr:
    """`1234.5`, `1,234.50`, `1234.50元`, `￥1234.5`, full-width; rounded to fen (half to even)."""
    return s.map_batches(parse_amount_series, return_dtype=AMOUNT)


def parse_amount_series(s: pl.Series) -> pl.Series:
    # plain `-1234.5` needs no folding or rounding: cast it directly; the rest takes the full path
    simple = s.str.contains(r"^-?[0-9]{1,12}(?:\.[0-9]{1,2})?$")
    value = pl.select(pl.when(simple).then(s.cast(AMOUNT, strict=False))).to_series()
    rest = ~simple & (s != "")
    if rest.any():
        value = value.scatter(rest.arg_true(), _parse_amount_forms(s.filter(rest)))
    return value.alias(s.name)


def _parse_amount_forms(s: pl.Series, factor: str | None = None) -> pl.Series:
    # one validating regex, then literal removal of ¥ 元 , and spaces (no regex replacements: faster)
    text = pl.select(fold(pl.lit(s))).to_series()
    valid = text.str.contains(_AMOUNT)
    number = text.str.replace_many(["¥", "元", ",", " "], [""] * 4).cast(pl.Decimal(38, 8), strict=False)
    if factor is not None:  # scaled before rounding: 12.345678万元 is ¥123,456.78
        number = number * pl.lit(factor).cast(pl.Decimal(38, 0))
    number = number.round(2).cast(AMOUNT, strict=False)
    return pl.select(pl.when(valid).then(number)).to_series()


def parse_scaled_amount_series(s: pl.Series, factor: str) -> pl.Series:
    """An amount delivered in a larger unit (a header `注册资本（万元）`): the value × factor, in yuan."""
    value = pl.repeat(None, len(s), dtype=AMOUNT, eager=True)
    filled = s != ""
    if filled.any():
        value = value.scatter(filled.arg_true(), _parse_amount_forms(s.filter(filled), factor))
    return value.alias(s.name)


def parse_int(s: pl.Expr) -> pl.Expr:
    text = fold(s)
    return pl.when(text.str.contains(r"^[0-9]{1,18}$")).then(text.cast(pl.Int64, strict=False)).otherwise(None)


def parse_region(s: pl.Expr, digits: int) -> pl.Expr:
    text = fold(s)
    return pl.when(text.str.contains(rf"^[0-9]{{{digits}}}$")).then(text).otherwise(None)


def enum_mapping(values: pl.Series, synonyms: dict[str, str]) -> dict[str, str | None]:
    """Canonical value of each distinct trimmed spelling (None: unknown). Folding runs on uniques only."""
    return {v: synonyms.get(unicodedata.normalize("NFKC", v).strip()) for v in values.unique().to_list()}


def parse_enum(values: pl.Series, synonyms: dict[str, str]) -> pl.Series:
    mapping = enum_mapping(values, synonyms)
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)
