"""Normalise a raw batch against its contract: typed values, one reason per bad cell, row rules.

A row with any bad cell is rejected whole (counted once, one rejection per bad cell). Landed rows are
pseudonymised here: IDs become keys plus what they say; names and IDs go to the vault frame only.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import polars as pl

from ingestion import idvector, kinds
from ingestion.contracts import Column, Contract
from ingestion.lake import id_key_field, id_prefix, polars_schema
from ingestion.pseudonymise import KeyedHasher
from ingestion.readers import HeaderMap

_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """One pool per process: threads do not survive a fork (Airflow forks task processes)."""
    pid = os.getpid()
    if pid not in _POOLS:
        _POOLS[pid] = ThreadPoolExecutor(
            max_workers=max(2, min(4, os.cpu_count() or 2)), thread_name_prefix="normalise"
        )
    return _POOLS[pid]


_PARALLEL_FROM = 20_000  # rows: below this, threads cost more than they give
MISSING = "missing_required"
NEGATIVE = "negative_amount"
RULE_REASONS = {
    "min_1": "member_count_below_1",
    "not_after_cutoff": "death_after_cutoff",
    "date_not_after_cutoff": "date_after_cutoff",
    "positive": "not_positive",
    "matches_certificate_id": "id_certificate_mismatch",
}
BAD_LENGTH = "bad_length"
MESSAGES = {
    "bad_id_format": "ID must be 18 characters (17 digits and a digit or X) or 15 digits",
    "invalid_province": "ID does not start with a province code",
    "invalid_birth_date": "ID holds no valid birth date",
    "bad_check_digit": "ID check digit does not match (GB 11643)",
    "id_spreadsheet_mangled": "ID was turned into a number by a spreadsheet (digits lost)",
    "bad_date": "not a date in an accepted form",
    "bad_month": "not a month in an accepted form (e.g. 202603, 2026-03, 2026年3月)",
    "bad_amount": "not an amount in yuan (e.g. 1234.50, 1,234.50, ￥1234.5)",
    "bad_int": "not a whole number",
    "bad_region": "not a division code of the required length",
    "unknown_enum": "not one of the listed values or synonyms",
    MISSING: "required value is empty",
    NEGATIVE: "negative amount where only ≥ 0 is allowed",
    "member_count_below_1": "家庭人口数 below 1",
    "death_after_cutoff": "death date after the file's cut-off date",
    "date_after_cutoff": "date after the file's cut-off date",
    "not_positive": "amount must be greater than 0",
    BAD_LENGTH: "wrong number of characters",
    "id_certificate_mismatch": "ID differs from the first 18 characters of 残疾人证号",
}
REJECTION_SCHEMA = {
    "data_row": pl.Int64,
    "source_line": pl.Int64,
    "column": pl.String,
    "field": pl.String,
    "reason": pl.String,
    "raw_value": pl.String,
    "message": pl.String,
}
VAULT_SCHEMA = {"person_key": pl.String, "id_number": pl.String, "name": pl.String}


# (bad-row expression over the typed fields, field, reason code, message)
RowCheck = tuple[pl.Expr, str, str, str]


@dataclass(frozen=True)
class DeliveryContext:
    file_name: str
    sha256: str
    cutoff: dt.date
    seq: int
    key: bytes
    today: dt.date
    hashers: dict[str, KeyedHasher] = field(default_factory=dict)  # per kind of key, for the whole file
    # checks the caller adds for this file (e.g. feedback: the warning was issued, to this county)
    extra_checks: tuple[RowCheck, ...] = ()
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hasher(self, kind: str | None) -> KeyedHasher:
        with self.lock:
            name = kind or ""
            if name not in self.hashers:
                self.hashers[name] = KeyedHasher(self.key, kind)
            return self.hashers[name]


@dataclass
class BatchResult:
    landed: pl.DataFrame  # lake columns
    rejections: pl.DataFrame  # one row per bad cell (REJECTION_SCHEMA)
    rejected_rows: pl.DataFrame  # the raw rows rejected (for the quarantine), with their row numbers
    vault: pl.DataFrame  # person_key, id_number, name
    rows_in: int
    rows_skipped: int

    @property
    def rows_rejected(self) -> int:
        return self.rejected_rows.height


def _value_and_reason(
    frame: pl.DataFrame, col: Column, ctx: DeliveryContext, factor: str | None = None
) -> tuple[pl.Series, pl.Series]:
    """The typed value and the reason code (null when fine) of one column, before row rules.

    `factor`: the column was delivered under a header with a unit (`注册资本（万元）`): values × factor.
    """
    raw = frame.get_column(col.field)
    text = frame.select(kinds.trimmed(pl.col(col.field))).to_series()
    empty = text == ""
    if col.kind == "id":
        ids = idvector.normalise_ids(raw, frame.get_column(f"_num_{col.field}"), ctx.today)
        value, reason = ids.get_column("id18"), ids.get_column("reason")
    elif col.kind == "enum":
        value = kinds.parse_enum(text, col.synonyms())
        reason = pl.select(pl.when(value.is_null() & ~empty).then(pl.lit("unknown_enum"))).to_series()
    elif col.kind == "text":
        value = text.str.to_uppercase() if col.upper_case else text
        reason = pl.repeat(None, len(text), dtype=pl.String, eager=True)
        if col.length is not None:
            wrong = ~empty & (value.str.len_chars() != col.length)
            reason = pl.select(pl.when(wrong).then(pl.lit(BAD_LENGTH))).to_series().cast(pl.String)
    elif col.kind == "amount" and factor is not None:
        value = kinds.parse_scaled_amount_series(text, factor)
        reason = pl.select(pl.when(value.is_null() & ~empty).then(pl.lit("bad_amount"))).to_series()
    else:
        value = pl.select(_PARSERS[col.kind](pl.lit(text))).to_series()
        reason = pl.select(pl.when(value.is_null() & ~empty).then(pl.lit(kinds.REASON_BY_KIND[col.kind]))).to_series()
    if col.required:
        reason = pl.select(pl.when(empty).then(pl.lit(MISSING)).otherwise(reason)).to_series()
    value = pl.select(pl.when(empty).then(_default(col)).otherwise(value)).to_series()
    return value.alias(col.field), reason.cast(pl.String).alias(f"_r_{col.field}")


_PARSERS = {
    "date": kinds.parse_date,
    "month": kinds.parse_month,
    "amount": kinds.parse_amount,
    "int": kinds.parse_int,
    "region": lambda s: kinds.parse_region(s, 12),
    "region6": lambda s: kinds.parse_region(s, 6),
}


def _default(col: Column) -> pl.Expr:
    if col.default is None:
        return pl.lit(None)
    if col.kind == "amount":
        return pl.lit(col.default).cast(kinds.AMOUNT)
    if col.kind == "int":
        return pl.lit(int(col.default))
    return pl.lit(col.default)


def _condition(spec: dict[str, str]) -> pl.Expr:
    """Every field in `spec` has the given (canonical) value on this row."""
    expr = pl.lit(True)
    for field_name, wanted in spec.items():
        expr = expr & (pl.col(field_name) == wanted).fill_null(False)
    return expr


def _row_rules(frame: pl.DataFrame, contract: Contract, ctx: DeliveryContext) -> pl.DataFrame:
    """Rules that need other columns of the row (docs/extracts.md#values); only where the cell had no reason yet."""
    updates = []
    for col in contract.columns:
        current = pl.col(f"_r_{col.field}")
        rule = pl.lit(None, dtype=pl.String)
        if col.kind == "amount" and not col.allow_negative:
            allowed = _condition(col.allow_negative_when) if col.allow_negative_when else pl.lit(False)
            rule = pl.when((pl.col(col.field) < 0) & ~allowed).then(pl.lit(NEGATIVE)).otherwise(rule)
        if col.required_when:
            empty = kinds.trimmed(pl.col(f"_raw_{col.field}")) == ""
            rule = pl.when(empty & _condition(col.required_when)).then(pl.lit(MISSING)).otherwise(rule)
        for check in col.checks:
            rule = pl.when(_check(check, col, contract, ctx)).then(pl.lit(RULE_REASONS[check])).otherwise(rule)
        extra = [(expr, reason) for expr, field_name, reason, _ in ctx.extra_checks if field_name == col.field]
        for expr, reason in extra:
            rule = pl.when(expr.fill_null(False)).then(pl.lit(reason)).otherwise(rule)
        if col.required_when or col.checks or extra or (col.kind == "amount" and not col.allow_negative):
            updates.append(pl.coalesce(current, rule).alias(f"_r_{col.field}"))
    return frame.with_columns(updates) if updates else frame


def _check(check: str, col: Column, contract: Contract, ctx: DeliveryContext) -> pl.Expr:
    value = pl.col(col.field)
    if check == "min_1":
        return (value < 1).fill_null(False)
    if check in ("not_after_cutoff", "date_not_after_cutoff"):
        return (value > pl.lit(ctx.cutoff)).fill_null(False)
    if check == "positive":
        return (value <= 0).fill_null(False)
    if check == "matches_certificate_id":
        keyed = next(c for c in contract.columns if c.pii == "keyed")
        certificate = kinds.trimmed(pl.col(f"_raw_{keyed.field}")).str.to_uppercase().str.slice(0, 18)
        return (value.is_not_null() & (certificate != "") & (value != certificate)).fill_null(False)
    raise ValueError(check)


def _rejections(frame: pl.DataFrame, contract: Contract, hmap: HeaderMap, ctx: DeliveryContext) -> pl.DataFrame:
    parts = []
    where = "data row " + pl.col("_data_row").cast(pl.String) + " (line " + pl.col("_source_line").cast(pl.String) + ")"
    for col in contract.columns:
        header = hmap.header_of(col.field, contract)
        reason = pl.col(f"_r_{col.field}")
        bad = frame.filter(reason.is_not_null() & pl.col("_problem").is_null())
        if bad.height == 0:
            continue
        messages = MESSAGES | {code: text for _, _, code, text in ctx.extra_checks}
        message = where + f", column {header}: " + reason.replace_strict(messages, default=reason)
        parts.append(
            bad.select(
                pl.col("_data_row").alias("data_row"),
                pl.col("_source_line").alias("source_line"),
                pl.lit(header).alias("column"),
                pl.lit(col.field).alias("field"),
                reason.alias("reason"),
                pl.col(f"_raw_{col.field}").alias("raw_value"),
                message.alias("message"),
            )
        )
    ragged = frame.filter(pl.col("_problem").is_not_null())
    if ragged.height:
        parts.append(
            ragged.select(
                pl.col("_data_row").alias("data_row"),
                pl.col("_source_line").alias("source_line"),
                pl.lit("").alias("column"),
                pl.lit("").alias("field"),
                pl.lit("unreadable").alias("reason"),
                pl.lit("").alias("raw_value"),
                (where + ": " + pl.col("_problem")).alias("message"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=REJECTION_SCHEMA)
    return pl.concat(parts).cast(REJECTION_SCHEMA).sort("data_row", "field")


def _pseudonymise(landed: pl.DataFrame, contract: Contract, ctx: DeliveryContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """IDs → keys and facts; keyed PII → hashes; the vault rows (key, ID, name) of the landed rows."""
    extra = []
    vault_parts = []
    names = {c.person: c.field for c in contract.columns if c.pii == "name" and c.person}
    for col in contract.columns:
        if col.kind == "id":
            keys = ctx.hasher(None).keys(landed.get_column(col.field))
            key_field = id_key_field(col.field)
            extra.append(keys.alias(key_field))
            extra.extend(landed.select(idvector.id_facts(pl.col(col.field), id_prefix(col.field))).get_columns())
            name = (
                landed.get_column(names[col.field])
                if col.field in names
                else pl.repeat(None, landed.height, dtype=pl.String, eager=True)
            )
            vault_parts.append(
                pl.DataFrame(
                    {"person_key": keys, "id_number": landed.get_column(col.field), "name": name.cast(pl.String)}
                )
            )
        elif col.pii == "keyed":
            text = landed.select(kinds.trimmed(pl.col(col.field)).str.to_uppercase()).to_series()
            extra.append(ctx.hasher(col.field).keys(text).alias(col.lake_field or col.field))
    vault = (
        pl.concat(vault_parts).filter(pl.col("person_key").is_not_null())
        if vault_parts
        else pl.DataFrame(schema=VAULT_SCHEMA)
    )
    return landed.with_columns(extra), vault.cast(VAULT_SCHEMA).unique(
        subset="person_key", keep="last", maintain_order=True
    )


def _parts_flags(contract: Contract) -> list[pl.Expr]:
    flags = []
    for check in contract.parts_checks:
        total = pl.col(check.total).cast(pl.Decimal(38, 2))
        parts = [pl.col(p).fill_null(0).cast(pl.Decimal(38, 2)) for p in check.parts]
        diff = total - pl.sum_horizontal(parts)
        tolerance = pl.lit(check.tolerance).cast(pl.Decimal(38, 2))
        flags.append((diff.abs() > tolerance).fill_null(False).alias(check.flag))
    return flags


def normalise_batch(frame: pl.DataFrame, contract: Contract, hmap: HeaderMap, ctx: DeliveryContext) -> BatchResult:
    """Split one raw batch into landed (lake-shaped), rejected and skipped rows."""
    rows_in = frame.height
    if contract.skip_row_when_empty:
        keep = frame.select(kinds.trimmed(pl.col(contract.skip_row_when_empty)) != "").to_series()
        frame = frame.filter(keep)
    skipped = rows_in - frame.height
    raw = frame.rename({c.field: f"_raw_{c.field}" for c in contract.columns})
    # Polars releases the GIL: columns are normalised side by side
    if frame.height < _PARALLEL_FROM:
        pairs = [_value_and_reason(frame, col, ctx, hmap.scales.get(col.field)) for col in contract.columns]
    else:
        pairs = list(
            _pool().map(lambda col: _value_and_reason(frame, col, ctx, hmap.scales.get(col.field)), contract.columns)
        )
    typed = [s for pair in pairs for s in pair]
    work = _row_rules(raw.with_columns(typed), contract, ctx)
    reasons = [f"_r_{c.field}" for c in contract.columns]
    bad = pl.any_horizontal(pl.col(r).is_not_null() for r in reasons) | pl.col("_problem").is_not_null()
    mask = work.select(bad.alias("_bad")).to_series()
    typed_columns = [c.field for c in contract.columns] + ["_data_row"]
    if mask.any():
        rejected, landed = work.filter(mask), work.filter(~mask).select(typed_columns)
    else:  # the common case: no copy of the raw columns at all
        rejected, landed = work.clear(), work.select(typed_columns)
    landed = landed.with_columns(_parts_flags(contract))
    landed, vault = _pseudonymise(landed, contract, ctx)
    landed = landed.with_columns(
        pl.lit(ctx.file_name).alias("_file"),
        pl.lit(ctx.sha256).alias("_sha256"),
        pl.lit(ctx.cutoff).alias("_cutoff"),
        pl.lit(ctx.seq, dtype=pl.Int64).alias("_seq"),
    )
    schema = polars_schema(contract.dataset)
    landed = landed.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
    raw_rows = rejected.select(
        "_data_row",
        "_source_line",
        *[pl.col(f"_raw_{c.field}").alias(hmap.header_of(c.field, contract)) for c in contract.columns],
    )
    return BatchResult(landed, _rejections(rejected, contract, hmap, ctx), raw_rows, vault, rows_in, skipped)
