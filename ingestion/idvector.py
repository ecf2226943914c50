"""ID numbers over whole columns: the vectorised twin of ingestion.idcard (same rules, same reason codes).

Plain ASCII values (the common case) are checked with Polars string slicing and integer arithmetic;
the rare value holding anything else (full-width digits, odd spaces) is folded by idcard.fold first,
on unique values only, so both agree on every input.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import polars as pl

from ingestion import idcard

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_WEIGHT_VECTOR = np.array(_WEIGHTS, dtype=np.int64)
_CHECK = dict(enumerate("10X98765432"))
_PROVINCE_NUMBERS = np.array(sorted(int(code) for code in idcard.PROVINCE_CODES))
_PLAIN = r"^[\x20-\x7e]*$"


def fold_column(values: pl.Series) -> pl.Series:
    """idcard.fold (NFKC, trim) then upper-case; NFKC runs in Python only on unusual values.

    For printable ASCII, folding is trimming spaces and upper-casing; only `x` matters for an ID
    (any other letter is a bad format either way), so a literal replacement is enough.
    """
    plain = values.str.contains(_PLAIN)
    folded = values.str.strip_chars(" ").str.replace_all("x", "X", literal=True)
    if plain.all():
        return folded
    odd = values.filter(~plain).unique()
    mapping = {v: idcard.fold(v).upper() for v in odd.to_list()}
    return pl.select(
        pl.when(plain).then(folded).otherwise(values.replace_strict(mapping, default=None, return_dtype=pl.String))
    ).to_series()


def _digit_matrix(first17: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """(rows × 17 digits, whether the row was 17 digits at all); non-digit rows read as zeros."""
    digits17 = first17.str.contains(r"^[0-9]{17}$").fill_null(False)
    padded = pl.select(pl.when(digits17).then(first17).otherwise(pl.lit("0" * 17))).to_series()
    if padded.is_empty():
        return np.zeros((0, 17), dtype=np.int64), np.zeros(0, dtype=bool)
    data = np.frombuffer(padded.str.join("").item().encode("ascii"), dtype=np.uint8)
    return data.reshape(-1, 17).astype(np.int64) - 48, digits17.to_numpy()


def _number(d: np.ndarray, start: int, width: int) -> np.ndarray:
    return d[:, start:start + width] @ (10 ** np.arange(width - 1, -1, -1))


def _valid_birth(d: np.ndarray, today: dt.date) -> np.ndarray:
    """Birth date digits (positions 6-13) form a real date from 1880 to today (idcard._birth_date)."""
    year, month, day = _number(d, 6, 4), _number(d, 10, 2), _number(d, 12, 2)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)] + (leap & (month == 2))
    ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= days) & (year >= 1880)
    as_number = year * 10000 + month * 100 + day
    return ok & (as_number <= today.year * 10000 + today.month * 100 + today.day)


def _facts(first17: pl.Series, today: dt.date) -> pl.DataFrame:
    """Check character, province and birth-date validity of every first-17, with numpy on the bytes."""
    d, digits = _digit_matrix(first17)
    total = d @ _WEIGHT_VECTOR
    province = _number(d, 0, 2)
    return pl.DataFrame({
        "check": pl.Series(total % 11, dtype=pl.Int64).replace_strict(_CHECK, return_dtype=pl.String),
        "province_ok": digits & np.isin(province, _PROVINCE_NUMBERS),
        "birth_ok": digits & _valid_birth(d, today),
    })


def normalise_ids(raw: pl.Series, number_cell: pl.Series, today: dt.date | None = None) -> pl.DataFrame:
    """Columns `id18` (null when bad) and `reason` (null when good) for each raw value.

    Empty values get neither: the caller decides whether empty is allowed.
    """
    today = today or dt.date.today()
    text = fold_column(raw.fill_null(""))
    frame = pl.DataFrame({"t": text, "num": number_cell.fill_null(False)})
    t = pl.col("t")
    legacy17 = pl.concat_str(t.str.slice(0, 6), pl.lit("19"), t.str.slice(6, 9))
    is15 = t.str.contains(r"^[0-9]{15}$")  # [0-9]: Unicode \d would also take other digits
    is18 = t.str.contains(r"^[0-9]{17}[0-9X]$")
    first17 = pl.when(is15).then(legacy17).otherwise(t.str.slice(0, 17))
    out = frame.with_columns(first17=first17, is15=is15, is18=is18)
    out = pl.concat([out, _facts(out.get_column("first17"), today)], how="horizontal")
    reason = (
        pl.when(t == "").then(None)
        .when(pl.col("num")).then(pl.lit(idcard.SPREADSHEET_MANGLED))
        .when(~pl.col("is15") & ~pl.col("is18") & t.str.contains(r"^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$"))
        .then(pl.lit(idcard.SPREADSHEET_MANGLED))
        .when(~pl.col("is15") & ~pl.col("is18")).then(pl.lit(idcard.BAD_FORMAT))
        .when(~pl.col("province_ok")).then(pl.lit(idcard.INVALID_PROVINCE))
        .when(~pl.col("birth_ok")).then(pl.lit(idcard.INVALID_BIRTH_DATE))
        .when(pl.col("is18") & (t.str.slice(17, 1) != pl.col("check"))).then(pl.lit(idcard.BAD_CHECK_DIGIT))
        .otherwise(None)
    )
    id18 = pl.concat_str(pl.col("first17"), pl.col("check"))
    out = out.with_columns(reason.alias("reason"))  # materialised once, then used twice
    return out.select(
        "reason",
        pl.when(pl.col("reason").is_null() & (t != "")).then(id18).otherwise(None).alias("id18"),
    )


def id_facts(id18: pl.Expr, prefix: str) -> list[pl.Expr]:
    """Birth date, sex and ID region of normalised IDs (docs/internals.md lake columns)."""
    born = pl.concat_str(id18.str.slice(6, 4), pl.lit("-"), id18.str.slice(10, 2), pl.lit("-"), id18.str.slice(12, 2))
    return [
        born.str.to_date("%Y-%m-%d", strict=False).alias(f"{prefix}birth_date"),
        pl.when(id18.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1).then(pl.lit("男"))
        .when(id18.is_not_null()).then(pl.lit("女")).otherwise(None).alias(f"{prefix}sex"),
        id18.str.slice(0, 6).alias(f"{prefix}id_region"),
    ]


class KeyCache:
    """Keyed hashes (HMAC-SHA256) of values, each distinct value hashed once per cache.

    A landing keeps one cache per file: a person appearing in every batch is hashed once. The HMAC
    inner and outer states are prepared once and copied per value (what `hmac` does, without its
    per-call overhead); results equal ingestion.pseudonymise.person_key / opaque_key.
    """

    def __init__(self, key: bytes, kind: str | None = None):
        from ingestion.pseudonymise import KEY_HEX_CHARS

        block = hashlib.sha256().block_size
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
        self._prefix = b"" if kind is None else f"{kind}:".encode("utf-8")
        self._chars = KEY_HEX_CHARS
        self._known = pl.DataFrame(schema={"value": pl.String, "key": pl.String})

    def _mac(self, value: str) -> str:
        inner = self._inner.copy()
        inner.update(self._prefix + value.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[: self._chars]

    def keys(self, values: pl.Series) -> pl.Series:
        frame = values.rename("value").to_frame()
        new = frame.drop_nulls().unique().join(self._known, on="value", how="anti").get_column("value").to_list()
        if new:
            added = pl.DataFrame({"value": new, "key": [self._mac(v) for v in new]},
                                 schema={"value": pl.String, "key": pl.String})
            self._known = pl.concat([self._known, added])
        joined = frame.join(self._known, on="value", how="left", maintain_order="left")
        return joined.get_column("key").alias(values.name)


def keyed_hashes(values: pl.Series, key: bytes, kind: str | None = None) -> pl.Series:
    """HMAC-SHA256 keys of every value (nulls stay null); kind None: person keys, else opaque_key(kind)."""
    return KeyCache(key, kind).keys(values)
