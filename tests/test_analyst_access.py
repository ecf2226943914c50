"""Analysts' access is read-only and holds no ID number or name: the published mart refuses writes, and no text
cell of any of its tables holds an ID (15 or 18 digits) or one of the demo's names (read from the vault, here only),
nor a plate, a VIN, a unit number or an entity name of the 核对 registers (read back from the archived deliveries)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator

import duckdb
import polars as pl
import pytest
from analyst_fixtures import AnalystDemo, analyst_demo  # noqa: F401 - the session fixture
from generator_support import read_delivery, styles

from ingestion.idcard import IdError, make_id, normalise_id, to_legacy

TEXT_TYPES = ("VARCHAR", "JSON")
# a standalone run of 15 or 18 ID characters (not part of a longer token, a hex key or a decimal)
ID_TOKEN = re.compile(r"(?<![0-9A-Za-z.])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z.])")
# every 18- and 15-character window, overlapping, to find a known ID embedded anywhere
WINDOWS = re.compile(r"(?=(\d{17}[\dX]|\d{15}))")


def text_values(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, str, str]]:
    """(table, column, value) for every distinct non-null text value of every table of the main schema."""
    columns = con.sql(f"""
        select c.table_name, c.column_name from information_schema.columns as c
        join information_schema.tables as t using (table_catalog, table_schema, table_name)
        where c.data_type in {TEXT_TYPES} order by all
    """).fetchall()
    for table, column in columns:
        for (value,) in con.sql(f'select distinct "{column}" from "{table}" where "{column}" is not null').fetchall():
            yield table, column, value


def is_valid_id(token: str) -> bool:
    try:
        normalise_id(token)
    except IdError:
        return False
    return True


def leaks(values: Iterable[tuple[str, str, str]], ids: set[str], names: set[str]) -> list[tuple[str, str, str, str]]:
    """Cells that hold a valid-looking ID token, a known ID (or its 15-digit form) anywhere, or a known name."""
    by_name = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))) if names else None
    found = []
    for table, column, value in values:
        tokens = [t for t in ID_TOKEN.findall(value) if is_valid_id(t)]
        known = [w for w in WINDOWS.findall(value.upper()) if w in ids]
        named = by_name.findall(value) if by_name else []
        for what, hits in (("id pattern", tokens), ("known id", known), ("name", named)):
            if hits:
                found.append((table, column, what, value[:80]))
    return found


def vault_ids_and_names(demo: AnalystDemo) -> tuple[set[str], set[str]]:
    vault = pl.read_parquet(demo.root.vault / "persons.parquet")
    ids = set(vault["id_number"].drop_nulls().to_list())
    legacy = {to_legacy(i) for i in ids if i[6:8] == "19"}
    names = {n for n in vault["name"].drop_nulls().to_list() if n.strip()}
    return ids | legacy, names


@pytest.fixture(scope="module")
def mart(analyst_demo: AnalystDemo) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(analyst_demo.mart), read_only=True)
    yield con
    con.close()


WRITES = (
    "create table scratch (x integer)",
    "insert into fct_warnings (warning_id) values ('W99-000000000000')",
    "update fct_warnings set level = '红'",
    "delete from ledger_landings",
    "drop table dim_person",
    "alter table dim_household add column note varchar",
)


@pytest.mark.parametrize("statement", WRITES)
def test_the_published_mart_refuses_writes(analyst_demo: AnalystDemo, statement: str) -> None:
    before = hashlib.sha256(analyst_demo.mart.read_bytes()).hexdigest()
    with (
        duckdb.connect(str(analyst_demo.mart), read_only=True) as con,
        pytest.raises(duckdb.Error, match="read-only"),
    ):
        con.execute(statement)
    assert hashlib.sha256(analyst_demo.mart.read_bytes()).hexdigest() == before


def test_no_id_number_and_no_name_in_any_text_cell(analyst_demo: AnalystDemo, mart: duckdb.DuckDBPyConnection) -> None:
    ids, names = vault_ids_and_names(analyst_demo)
    assert len(ids) > 300 and len(names) > 300  # the vault is the demo's, not empty
    values = list(text_values(mart))
    tables = {t for t, _, _ in values}
    assert {"fct_warnings", "fct_assistance_chain", "dim_person", "ledger_rejections", "ledger_landings"} <= tables
    assert leaks(values, ids, names) == []


# what identifies a person's things in the 核对 registers (docs/verification.md): never outside the lake's keys
REGISTER_FIELDS = {"gaj_vehicle": ("vin", "plate"), "zrzy_property": ("unit_id",), "scjg_business": ("entity_name",)}


def register_values(demo: AnalystDemo) -> dict[str, set[str]]:
    """field → every value delivered (VINs upper-cased as landed), read back from the archived files."""
    found: dict[str, set[str]] = {f: set() for fields in REGISTER_FIELDS.values() for f in fields}
    for name, style in styles(demo.root.root).items():
        dataset = next((d for d in REGISTER_FIELDS if name.split("/")[-1].startswith(d + "_")), None)
        if dataset is None:
            continue
        table = read_delivery(demo.root.root, name, style, folder="archive")
        for field in REGISTER_FIELDS[dataset]:
            i = table.fields.index(field)
            found[field] |= {
                str(row[i]).strip().upper() if field == "vin" else str(row[i]).strip() for row in table.rows
            }
    return {f: {v for v in values if len(v) >= 6} for f, values in found.items()}


def test_no_plate_vin_unit_number_or_entity_name_in_the_mart(
    analyst_demo: AnalystDemo, mart: duckdb.DuckDBPyConnection
) -> None:
    secrets = register_values(analyst_demo)
    assert all(len(values) > 20 for values in secrets.values()), {f: len(v) for f, v in secrets.items()}
    tokens = sorted(set().union(*secrets.values()), key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(t) for t in tokens))
    values = list(text_values(mart))
    assert any(
        t == "fct_warnings" and c == "evidence" and "登记" in v for t, c, v in values
    )  # W09/W10 evidence is there
    leaked = [(t, c, v[:80]) for t, c, v in values if pattern.search(v.upper())]
    assert leaked == []


def test_the_scan_finds_what_it_looks_for() -> None:
    """The scanner itself: a planted ID (plain, legacy 15-digit, embedded) and a planted name are found."""
    import datetime as dt

    person = make_id("370102", dt.date(1968, 3, 5), 11)
    other = make_id("370203", dt.date(1990, 1, 2), 12)
    values = [
        ("t", "evidence", f"申请人 {other} 的记录"),  # a valid ID token not in the vault
        ("t", "note", f"key{person}tail"),  # a known ID inside a longer token
        ("t", "legacy", f"旧号 {to_legacy(person)}"),  # the known ID's 15-digit form
        ("t", "who", "户主 张建国 已核查"),  # a known name
        ("t", "clean", "家庭编号 37010290000012，金额 123456789012345.5"),  # 14 digits; a decimal
    ]
    found = {(column, what) for _, column, what, _ in leaks(values, {person, to_legacy(person)}, {"张建国"})}
    assert found == {("evidence", "id pattern"), ("note", "known id"), ("legacy", "known id"),
                     ("legacy", "id pattern"), ("who", "name")}  # fmt: skip
