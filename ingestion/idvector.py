"""ID numbers over whole columns: the vectorised twin of ingestion.idcard (same rules, same reason codes).

Plain ASCII values (the common case) are checked with Polars string slicing and integer arithmetic;
the rare value holding anything else (full-width digits, odd spaces) is folded by idcard.fold first,
on unique values only, so both agree on every input.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pyarrow as pa

from ingestion import idcard

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_WEIGHT_VECTOR = np.array(_WEIGHTS, dtype=np.int64)
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


_OK, _EMPTY, _MANGLED, _FORMAT, _PROVINCE, _BIRTH, _CHECKSUM = range(7)
_REASONS = {
    _MANGLED: idcard.SPREADSHEET_MANGLED,
    _FORMAT: idcard.BAD_FORMAT,
    _PROVINCE: idcard.INVALID_PROVINCE,
    _BIRTH: idcard.INVALID_BIRTH_DATE,
    _CHECKSUM: idcard.BAD_CHECK_DIGIT,
}
_CHECK_BYTES = np.frombuffer(b"10X98765432", dtype=np.uint8)
_SCIENTIFIC = r"^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$"


def _bytes(values: pl.Series, width: int) -> np.ndarray:
    """Strings all of `width` ASCII bytes → a (rows × width) uint8 matrix."""
    if values.is_empty():
        return np.zeros((0, width), dtype=np.uint8)
    return np.frombuffer(values.str.join("").item().encode("ascii"), dtype=np.uint8).reshape(-1, width)


def _strings(matrix: np.ndarray) -> pl.Series:
    """A (rows × width) uint8 matrix → one string per row (through an Arrow buffer, no Python loop)."""
    rows, width = matrix.shape
    offsets = pa.py_buffer(np.arange(0, rows * width + 1, width, dtype=np.int32).tobytes())
    data = pa.py_buffer(np.ascontiguousarray(matrix).tobytes())
    return pl.Series(pa.Array.from_buffers(pa.string(), rows, [None, offsets, data]))


def _number(d: np.ndarray, start: int, width: int) -> np.ndarray:
    return d[:, start : start + width].astype(np.int64) @ (10 ** np.arange(width - 1, -1, -1))


def _valid_birth(d: np.ndarray, today: dt.date) -> np.ndarray:
    """Birth date digits (positions 6-13) form a real date from 1880 to today (idcard._birth_date)."""
    year, month, day = _number(d, 6, 4), _number(d, 10, 2), _number(d, 12, 2)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)] + (leap & (month == 2))
    ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= days) & (year >= 1880)
    return ok & (year * 10000 + month * 100 + day <= today.year * 10000 + today.month * 100 + today.day)


def _judge(first17: np.ndarray, today: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Reason code before the check digit, and the check byte, of (rows × 17) ASCII bytes."""
    digits = first17.astype(np.int64) - 48
    code = np.full(len(first17), _OK, dtype=np.int8)
    code[~np.isin(_number(digits, 0, 2), _PROVINCE_NUMBERS)] = _PROVINCE
    code[(code == _OK) & ~_valid_birth(digits, today)] = _BIRTH
    return code, _CHECK_BYTES[(digits @ _WEIGHT_VECTOR) % 11]


def normalise_ids(raw: pl.Series, number_cell: pl.Series, today: dt.date | None = None) -> pl.DataFrame:
    """Columns `id18` (null when bad) and `reason` (null when good) for each raw value.

    Empty values get neither: the caller decides whether empty is allowed. The 18- and 15-character
    candidates are judged in numpy on their bytes; everything else is a format problem.
    """
    today = today or dt.date.today()
    text = fold_column(raw.fill_null(""))
    n = len(text)
    code = np.full(n, _FORMAT, dtype=np.int8)
    id18 = pl.repeat(None, n, dtype=pl.String, eager=True).alias("id18")
    length = text.str.len_bytes().to_numpy()
    for width in (18, 15):
        pick = (length == width) & text.str.contains(
            rf"^[0-9]{{{width - 1}}}[0-9X]$" if width == 18 else r"^[0-9]{15}$"
        ).to_numpy()
        if not pick.any():
            continue
        rows = np.flatnonzero(pick)
        matrix = _bytes(text.gather(rows), width)
        first17 = (
            matrix[:, :17]
            if width == 18
            else np.hstack([matrix[:, :6], np.full((len(rows), 2), (49, 57), dtype=np.uint8), matrix[:, 6:]])
        )
        judged, check = _judge(first17, today)
        if width == 18:
            judged[(judged == _OK) & (matrix[:, 17] != check)] = _CHECKSUM
        code[rows] = judged
        good = rows[judged == _OK]
        full = np.hstack([first17, check[:, None]])[judged == _OK]
        id18 = id18.scatter(good, _strings(full)) if len(good) else id18
    others = np.flatnonzero(code == _FORMAT)
    if len(others):
        rest = text.gather(others)
        sci = rest.str.contains(_SCIENTIFIC).to_numpy()
        code[others[sci]] = _MANGLED
        code[others[(rest == "").to_numpy()]] = _EMPTY
    code[number_cell.fill_null(False).to_numpy() & (code != _EMPTY)] = _MANGLED
    reason = pl.Series("reason", code).replace_strict(_REASONS, default=None, return_dtype=pl.String)
    id18 = pl.select(pl.when(pl.lit(pl.Series(code == _OK))).then(id18)).to_series().alias("id18")
    return pl.DataFrame([reason, id18])


def id_facts(id18: pl.Expr, prefix: str) -> list[pl.Expr]:
    """Birth date, sex and ID region of normalised IDs (docs/internals.md lake columns)."""
    return [
        id18.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).alias(f"{prefix}birth_date"),
        pl.when(id18.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1)
        .then(pl.lit("男"))
        .when(id18.is_not_null())
        .then(pl.lit("女"))
        .otherwise(None)
        .alias(f"{prefix}sex"),
        id18.str.slice(0, 6).alias(f"{prefix}id_region"),
    ]
