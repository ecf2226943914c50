"""Helpers (no tests) for the exchange-database tests: a PostgreSQL server, a reader role, sources, and a
generated province's deliveries turned into exchange tables.

A delivered file is read back with the landing's own reader (the raw text of each cell, as landing sees it),
so a table holds what the department's file said. Three table designs, as counties have them:
- `mz_household`: dated snapshots, columns named by the Chinese headers, all text, plus a `数据截止日期` date;
- `ybj_settlement`: an increment updated in place (delete + insert per key), columns named by the contract's
  field names, typed (numeric(14,2) amounts, a date), with an `updated_at` timestamp watermark;
- `wjw_death`: an append-only increment with a `bigserial` id watermark, columns in pinyin abbreviations
  mapped under `columns:`, the death date typed.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pg_server
import polars as pl
import pyarrow as pa
import pytest

from ingestion import kinds
from ingestion.contracts import load_contract
from ingestion.delivery import Delivery, list_inbox, parse_delivery
from ingestion.exchange.source import SECRETS_FILE
from ingestion.rawstore import archive_raw
from ingestion.readers import SlowPathNeeded, open_source
from ingestion.settings import DataRoot

READER, READER_PASSWORD = "exchange_reader", "Rd-pw-3f9Q!x"  # a password a test can look for
CONNECTION = "qzk"


@pytest.fixture(scope="module")
def pg() -> Iterator[pg_server.PgServer]:
    """A PostgreSQL server of its own for the test module (Debian's package: `make test-deps`)."""
    if not pg_server.available():
        pytest.fail("PostgreSQL's server programs are missing: run `make test-deps` (Debian package postgresql)")
    server = pg_server.start_server()
    server.psql(f"create role {READER} login password '{READER_PASSWORD}'; create schema qzk;")
    server.psql(
        f"grant usage on schema qzk to {READER};"
        f"alter default privileges in schema qzk grant select on tables to {READER};"
    )
    try:
        yield server
    finally:
        server.stop()


def reader_url(server: pg_server.PgServer) -> str:
    return server.url(READER, READER_PASSWORD)


def write_secret(root: DataRoot, urls: dict[str, str], mode: int = 0o600) -> Path:
    """`<data root>/secrets/databases.yaml` (owner-only unless `mode` says otherwise)."""
    root.secrets.mkdir(parents=True, exist_ok=True)
    path = root.secrets / SECRETS_FILE
    path.write_text("".join(f"{name}: '{url}'\n" for name, url in urls.items()), encoding="utf-8")
    os.chmod(path, mode)
    return path


def write_source(root: DataRoot, dataset: str, text: str) -> Path:
    root.sources.mkdir(parents=True, exist_ok=True)
    path = root.sources / f"{dataset}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- a province's files as tables

SOURCES = {
    "mz_household": "connection: qzk\ntable: qzk.mz_household\ncutoff_column: 数据截止日期\n",
    "ybj_settlement": "connection: qzk\ntable: qzk.ybj_settlement\nwatermark: updated_at\n",
    "wjw_death": (
        "connection: qzk\ntable: qzk.wjw_death\nwatermark: id\n"
        "columns: {证明编号: zmbh, 姓名: xm, 身份证号: sfzh, 死亡日期: swrq, 死亡原因: swyy}\n"
    ),
}
DB_DATASETS = tuple(SOURCES)
_WJW_NAMES = {"certificate_id": "zmbh", "name": "xm", "id_number": "sfzh", "died_on": "swrq", "cause": "swyy"}
AMOUNTS = ("total_cost", "fund_paid", "critical_illness_paid", "medical_aid_paid", "self_paid")
_YBJ_TYPES = {"settled_on": "date"} | dict.fromkeys(AMOUNTS, "numeric(14,2)")


def create_tables(server: pg_server.PgServer) -> None:
    household = load_contract("mz_household")
    settlement = load_contract("ybj_settlement")
    death = load_contract("wjw_death")
    columns = ", ".join(f'"{c.header}" text' for c in household.columns)
    typed = ", ".join(f"{c.field} {_YBJ_TYPES.get(c.field, 'text')}" for c in settlement.columns)
    pinyin = ", ".join(f"{_WJW_NAMES[c.field]} {'date' if c.kind == 'date' else 'text'}" for c in death.columns)
    server.psql(
        f'create table qzk.mz_household ({columns}, "数据截止日期" date not null);'
        f"create table qzk.ybj_settlement ({typed}, updated_at timestamp not null);"
        f"create table qzk.wjw_death (id bigserial primary key, {pinyin});"
    )


def delivery_text(path: Path, dataset: str) -> pl.DataFrame:
    """A delivered file's cells as text, one column per contract field, as the landing's reader reads them.
    An ID that sat in a spreadsheet number cell is written as a number's text (`3.70102E+17`): what such a
    column holds once a system has stored the spreadsheet."""
    contract = load_contract(dataset)
    with tempfile.TemporaryDirectory() as tmp:
        scan = archive_raw(DataRoot(Path(tmp)), path)
        source = open_source(path, path.suffix.lstrip(".").lower(), scan, contract, Path(tmp))
        try:
            frame = pl.concat(list(source.batches(False)))
        except SlowPathNeeded:
            frame = pl.concat(list(source.batches(True)))
    for col in contract.columns:
        if col.kind == "id":
            mangled = pl.col(f"_num_{col.field}")
            scientific = (
                pl.col(col.field)
                .cast(pl.Float64, strict=False)
                .map_elements(lambda v: f"{v:.5E}", return_dtype=pl.String)
            )
            frame = frame.with_columns(
                pl.when(mangled).then(pl.coalesce(scientific, pl.col(col.field))).otherwise(pl.col(col.field))
                .alias(col.field)
            )  # fmt: skip
    return frame.select([c.field for c in contract.columns])


def _typed_settlements(frame: pl.DataFrame) -> pl.DataFrame:
    """Amounts and the date in their database types; a value that has none becomes NULL (the contract rejects
    a NULL in a required column, as it rejects the unreadable text). Optional typed columns must all read."""
    contract = load_contract("ybj_settlement")
    out = []
    for col in contract.columns:
        text = frame.get_column(col.field).str.strip_chars()
        if col.field in _YBJ_TYPES:
            value = kinds.parse_date_series(text) if col.kind == "date" else kinds.parse_amount_series(text)
            unreadable = (value.is_null() & (text != "")).sum()
            assert col.required or unreadable == 0, f"{col.field}: an optional typed value cannot be read"
            out.append(value.alias(col.field))
        else:
            out.append(text.alias(col.field) if col.field == "settlement_id" else frame.get_column(col.field))
    return pl.DataFrame(out)


def _ingest(server: pg_server.PgServer, table: str, rows: pa.Table, before: str = "") -> None:
    """Rows appended to `qzk.<table>` (through a staging table), after the SQL `before` ran on the staging."""
    import adbc_driver_postgresql.dbapi as adbc

    rows = rows.cast(pa.schema([
        pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type) else f.type)
        for f in rows.schema
    ]))  # fmt: skip
    with adbc.connect(server.url()) as conn, conn.cursor() as cursor:
        cursor.execute("drop table if exists public.staged")
        cursor.adbc_ingest("staged", rows, mode="create", db_schema_name="public")
        for statement in [s for s in before.split(";") if s.strip()]:
            cursor.execute(statement)
        names = ", ".join(f'"{n}"' for n in rows.column_names)
        cursor.execute(f"insert into qzk.{table} ({names}) select {names} from public.staged")
        cursor.execute("drop table public.staged")
        conn.commit()


def apply_delivery(server: pg_server.PgServer, delivery: Delivery) -> int:
    """What the sharing platform does with a department's delivery: refresh the exchange table. A re-delivery
    of a cut-off (`_2`) replaces what the first one put there, as docs/extracts.md#delivering-a-file has it."""
    dataset, cutoff, path = delivery.dataset, delivery.cutoff, delivery.path
    assert dataset is not None and cutoff is not None
    frame = delivery_text(path, dataset)
    if dataset == "mz_household":
        headers = {c.field: c.header for c in load_contract(dataset).columns}
        rows = frame.rename(headers).with_columns(pl.lit(cutoff).alias("数据截止日期"))
        before = f"delete from qzk.mz_household where \"数据截止日期\" = date '{cutoff}'"
        _ingest(server, dataset, rows.to_arrow(), before)
    elif dataset == "ybj_settlement":  # updated in place: a key's new version replaces its row
        moment = dt.datetime.combine(cutoff, dt.time(12))
        rows = _typed_settlements(frame).with_columns(pl.lit(moment).alias("updated_at"))
        rows = rows.unique(subset="settlement_id", keep="last", maintain_order=True)
        before = "delete from qzk.ybj_settlement t using public.staged s where t.settlement_id = s.settlement_id"
        if delivery.seq > 1:
            before = f"delete from qzk.ybj_settlement where updated_at = timestamp '{moment}';{before}"
        _ingest(server, dataset, rows.to_arrow(), before)
    else:  # append-only: each version is a new row with a higher id; nothing is ever taken back
        assert delivery.seq == 1, f"{delivery.file_name}: an append-only table cannot replace a delivery"
        died = kinds.parse_date_series(frame.get_column("died_on").str.strip_chars())
        rows = frame.with_columns(died.alias("died_on")).rename(_WJW_NAMES)
        _ingest(server, dataset, rows.to_arrow())
    return frame.height


def take_from_inbox(root: DataRoot) -> list[Delivery]:
    """The DB datasets' deliveries, in landing order, moved out of the inbox (they reach the platform as tables)."""
    feed = root.root / "exchange_feed"
    moved = []
    for delivery in list_inbox(root.inbox):
        if delivery.dataset in DB_DATASETS:
            target = feed / delivery.file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            delivery.path.rename(target)
            moved.append(parse_delivery(target, feed))
    return moved
