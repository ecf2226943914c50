"""Clean records: one polars frame per delivery, columns = contract fields, canonical values.

IDs are normalised 18-character strings, amounts are whole cents (Int64), dates and months are dates
(a month is its first day). The writers turn these into messy files; the truth checker reads them.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ingestion.contracts import Contract

_DTYPES: dict[str, pl.DataType] = {
    "text": pl.String(), "id": pl.String(), "enum": pl.String(), "region": pl.String(),
    "region6": pl.String(), "date": pl.Date(), "month": pl.Date(), "amount": pl.Int64(), "int": pl.Int64(),
}  # fmt: skip


def schema(spec: Contract) -> dict[str, pl.DataType]:
    return {c.field: _DTYPES[c.kind] for c in spec.columns}


def empty(spec: Contract) -> pl.DataFrame:
    return pl.DataFrame(schema=schema(spec))


def from_rows(spec: Contract, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows as dicts of field → value (missing fields are null)."""
    cols = schema(spec)
    data = {f: [r.get(f) for r in rows] for f in cols}
    return pl.DataFrame(data, schema=cols)


def conform(spec: Contract, frame: pl.DataFrame) -> pl.DataFrame:
    """Contract column order and dtypes; absent optional columns become null."""
    cols = schema(spec)
    exprs = [(pl.col(f) if f in frame.columns else pl.lit(None)).cast(dtype).alias(f) for f, dtype in cols.items()]
    return frame.select(exprs)
