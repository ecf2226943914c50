"""Landing end to end on small generated deliveries: every contract, re-deliveries, holds, privacy,
the vault, the ledger export and the `safetynet land` command."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from bad_inputs.factory import headers, make_root, valid_rows, write_csv, write_xlsx
from typer.testing import CliRunner

from ingestion import ledger
from ingestion.contracts import all_contracts, load_contract
from ingestion.lake import ensure_schema_files, lake_schema
from ingestion.landing import land_file, land_inbox
from ingestion.vault import identities

ID_VALUE = re.compile(r"^(\d{15}|\d{17}[\dXx])$")


def _land_all_datasets(tmp_path: Path, n: int = 6):
    root = make_root(tmp_path)
    delivered: dict[str, list[list[str]]] = {}
    for dataset, contract in all_contracts().items():
        rows = valid_rows(contract, n, start=len(delivered) * n)
        delivered[dataset] = rows
        write_csv(root.inbox / dataset / f"{dataset}_20261031.csv", headers(contract), rows)
    return root, delivered, land_inbox(root)


@pytest.fixture(scope="module")
def all_landed(tmp_path_factory: pytest.TempPathFactory):
    return _land_all_datasets(tmp_path_factory.mktemp("all"))


def test_every_contract_lands_valid_rows(all_landed) -> None:
    root, delivered, results = all_landed
    assert {r.dataset for r in results} == set(all_contracts())
    for result in results:
        assert (result.status, result.rows_in, result.rows_landed, result.rows_rejected) == ("landed", 6, 6, 0), (
            result.reason
        )
        files = list((root.lake / result.dataset).glob("cutoff=2026-10-31/seq=1/*.parquet"))
        assert [f.stem for f in files] == [result.sha256]
        table = pq.read_table(files[0])
        assert table.schema.equals(lake_schema(result.dataset), check_metadata=False)
        assert table.column("_data_row").to_pylist() == list(range(1, 7))
    deliveries = pl.read_parquet(root.lake / "_deliveries.parquet")
    assert deliveries.height == len(all_contracts()) and deliveries.get_column("in_use").all()


def test_no_id_or_name_in_lake_or_ledger(all_landed) -> None:
    """IDs, names and dropped columns (plates, entity names) are nowhere in the lake or the ledger; the codes that
    identify a person's things (VIN, 不动产单元号, 统一社会信用代码: `pii: lake_key`) are in the lake as keys only,
    in their own column, and never in the ledger."""
    root, delivered, _ = all_landed
    secrets: set[str] = set()
    lake_keys: dict[str, set[str]] = {}  # lake column → its values
    for dataset, rows in delivered.items():
        contract = load_contract(dataset)
        for j, col in enumerate(contract.columns):
            if col.pii == "lake_key":
                lake_keys.setdefault(col.field, set()).update(row[j] for row in rows)
            elif col.kind == "id" or col.pii is not None:
                secrets |= {row[j] for row in rows}
    assert len(secrets) > 50 and {"vin", "unit_id", "credit_code"} <= set(lake_keys)
    every_key = set().union(*lake_keys.values())
    found = []
    for path in root.lake.rglob("*.parquet"):
        frame = pl.read_parquet(path)
        for name, dtype in frame.schema.items():
            if dtype == pl.String:
                for value in frame.get_column(name).drop_nulls().to_list():
                    if ID_VALUE.match(value) or value in secrets or (value in every_key and name not in lake_keys):
                        found.append((path.name, name, value))
    conn = sqlite3.connect(root.ledger)
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        for row in conn.execute(f'SELECT * FROM "{table}"'):
            for value in row:
                if isinstance(value, str) and (ID_VALUE.match(value) or any(s in value for s in secrets | every_key)):
                    found.append((table, value))
    conn.close()
    assert found == []


def test_vault_holds_ids_and_names_owner_only(all_landed) -> None:
    root, delivered, _ = all_landed
    persons = identities(root)
    member_rows = delivered["mz_member"]
    head = headers(load_contract("mz_member"))
    ids = {row[head.index("身份证号")]: row[head.index("姓名")] for row in member_rows}
    vault = dict(zip(persons.get_column("id_number"), persons.get_column("name")))
    assert all(vault[i] == name for i, name in ids.items())
    assert (root.vault / "persons.parquet").stat().st_mode & 0o077 == 0
    assert root.vault.stat().st_mode & 0o077 == 0
    assert not list((root.vault / "parts").glob("*.parquet"))  # compacted


def test_defaults_flags_and_keys(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    contract = load_contract("ybj_settlement")
    head = headers(contract)
    rows = valid_rows(contract, 3)
    amounts = ["医疗总费用", "统筹基金支付", "大病保险支付", "医疗救助支付", "个人负担", "结算类型"]
    for row, values in zip(
        rows,
        [
            ["1000", "100", "0", "0", "100", "正常"],
            ["400", "200", "", "100", "100", ""],
            ["10", "5", "2", "1", "2.01", "正常"],
        ],
    ):
        for header, value in zip(amounts, values):
            row[head.index(header)] = value
    write_csv(root.inbox / "ybj_settlement_20261031.csv", head, rows)
    [result] = land_inbox(root)
    frame = pl.read_parquet(next(root.lake.glob("ybj_settlement/*/*/*.parquet"))).sort("_data_row")
    assert result.rows_landed == 3
    assert frame.get_column("parts_mismatch").to_list() == [True, False, False]
    assert str(frame.get_column("critical_illness_paid")[1]) == "0.00"
    assert frame.get_column("settlement_type").to_list() == ["正常"] * 3
    assert frame.get_column("person_key").str.len_chars().to_list() == [24] * 3


def test_higher_seq_supersedes_and_holds_fall_back(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    contract = load_contract("mz_member")
    write_csv(root.inbox / "mz_member_20261031.csv", headers(contract), valid_rows(contract, 5))
    first = land_inbox(root)[0]
    write_csv(root.inbox / "mz_member_20261031_2.csv", headers(contract), valid_rows(contract, 3))
    second = land_inbox(root)[0]
    landings = ledger.read_table(root, "landings").sort("id")
    assert landings.select("status", "rows_landed").rows() == [("superseded", 5), ("landed", 3)]
    deliveries = pl.read_parquet(root.lake / "_deliveries.parquet").sort("seq")
    assert deliveries.get_column("in_use").to_list() == [False, True]
    with ledger.open_ledger(root) as conn, ledger.transaction(conn):
        conn.execute(
            "INSERT INTO holds (sha256, dataset, cutoff_date, seq, reason, held_at) VALUES (?,?,?,?,?,?)",
            (second.sha256, "mz_member", "2026-10-31", 2, "volume", ledger.now()),
        )
    ledger.export_deliveries(root)
    deliveries = pl.read_parquet(root.lake / "_deliveries.parquet").sort("seq")
    assert deliveries.select("sha256", "in_use").rows() == [(first.sha256, True), (second.sha256, False)]


def test_land_file_and_rerun_is_idempotent(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    contract = load_contract("wjw_death")
    path = write_csv(root.inbox / "wjw_death" / "wjw_death_20261031.csv", headers(contract), valid_rows(contract, 4))
    data = path.read_bytes()
    result = land_file(root, path, root.inbox)
    assert (result.status, result.rows_landed) == ("landed", 4)
    assert not path.exists() and (root.root / "archive/wjw_death/wjw_death_20261031.csv").read_bytes() == data
    assert land_inbox(root) == []
    path.write_bytes(data)  # the same file dropped again
    again = land_inbox(root)
    assert [(r.status, r.rows_in) for r in again] == [("duplicate", 0)]
    assert len(list(root.lake.glob("wjw_death/*/*/*.parquet"))) == 1


def test_xlsx_with_title_rows_and_date_cells(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    contract = load_contract("mz_household")
    rows: list[list] = valid_rows(contract, 3)
    head = headers(contract)
    for row in rows:
        row[head.index("认定日期")] = dt.date(2025, 7, 9)
        row[head.index("家庭人口数")] = 3
        row[head.index("家庭年收入")] = 12345.6
        row[head.index("行政区划代码")] = 370102001001
    write_xlsx(root.inbox / "mz_household_20261031.xlsx", ["", *head[1:]], [[""] + r[1:] for r in rows], title_rows=2)
    [missing] = land_inbox(root)
    assert missing.reason_code == "missing_required_column" and "家庭编号" in (missing.reason or "")
    write_xlsx(root.inbox / "mz_household_20261031_2.xlsx", head, rows, title_rows=2)
    [result] = land_inbox(root)
    assert (result.status, result.rows_landed) == ("landed", 3), result.reason
    frame = pl.read_parquet(next(root.lake.glob("mz_household/*/seq=2/*.parquet")))
    assert frame.get_column("recognised_on").to_list() == [dt.date(2025, 7, 9)] * 3
    assert frame.get_column("region_code").to_list() == ["370102001001"] * 3
    assert [str(v) for v in frame.get_column("annual_income")] == ["12345.60"] * 3
    assert frame.get_column("status").to_list() == ["在保"] * 3


def test_extra_columns_are_reported(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    contract = load_contract("mz_member")
    write_csv(
        root.inbox / "mz_member_20261031.csv",
        [*headers(contract), "备注"],
        [r + ["x"] for r in valid_rows(contract, 2)],
    )
    [result] = land_inbox(root)
    assert result.extra_columns == ["备注"]
    assert ledger.read_table(root, "landings").get_column("extra_columns").to_list() == ['["备注"]']


def test_schema_files_for_every_dataset(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    ensure_schema_files(root)
    for dataset in all_contracts():
        table = pq.read_table(root.lake / dataset / "_schema.parquet")
        assert table.num_rows == 0 and table.schema.equals(lake_schema(dataset), check_metadata=False)
        names = set(table.schema.names)
        assert not names & {
            "id_number",
            "name",
            "head_id",
            "head_name",
            "applicant_id",
            "applicant_name",
            "phone",
            "certificate_no",
        }


def test_cli_land_exits_zero_and_lists_rejections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from warehouse import cli
    from warehouse.cli import app

    monkeypatch.setattr(cli.console, "_width", 200)  # full width (restored to None: the width setter would pin 80)

    root = make_root(tmp_path)
    contract = load_contract("mz_member")
    write_csv(root.inbox / "mz_member_20261031.csv", headers(contract), valid_rows(contract, 2))
    (root.inbox / "mz_member_20261130.csv").write_bytes(b"")
    (root.inbox / "notes.txt").write_text("hello")
    outcome = CliRunner().invoke(app, ["land", "--data", str(root.root)])
    assert outcome.exit_code == 0, outcome.output
    assert "landed 3 file(s)" in outcome.output
    assert "mz_member_20261031.csv" in outcome.output and "landed" in outcome.output
    assert "empty_file" in outcome.output or "bad_date" in outcome.output
    assert "not_a_dataset" in outcome.output


def test_cli_land_fails_when_the_platform_fails(tmp_path: Path) -> None:
    from warehouse.cli import app

    root = make_root(tmp_path)
    (root.root / "ledger.sqlite").mkdir()  # the ledger cannot be opened
    contract = load_contract("mz_member")
    write_csv(root.inbox / "mz_member_20261031.csv", headers(contract), valid_rows(contract, 2))
    outcome = CliRunner().invoke(app, ["land", "--data", str(root.root)])
    assert outcome.exit_code != 0


def test_feedback_returns_of_one_day_accumulate(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    contract = load_contract("feedback")
    assert contract.redelivery == "accumulate"
    write_csv(root.inbox / "feedback" / "feedback_20261105.csv", headers(contract), valid_rows(contract, 3))
    write_csv(root.inbox / "feedback" / "feedback_20261105_2.csv", headers(contract), valid_rows(contract, 2, 10))
    results = land_inbox(root)
    assert [r.status for r in results] == ["landed", "landed"]
    deliveries = pl.read_parquet(root.lake / "_deliveries.parquet").sort("seq")
    assert deliveries.get_column("in_use").to_list() == [True, True]
    member = load_contract("mz_member")  # while a roster's re-delivery replaces the earlier one
    write_csv(root.inbox / "mz_member_20261031.csv", headers(member), valid_rows(member, 3))
    write_csv(root.inbox / "mz_member_20261031_2.csv", headers(member), valid_rows(member, 2))
    assert [r.status for r in land_inbox(root)] == ["landed", "landed"]
    deliveries = pl.read_parquet(root.lake / "_deliveries.parquet").filter(pl.col("dataset") == "mz_member")
    assert deliveries.sort("seq").select("status", "in_use").rows() == [("superseded", False), ("landed", True)]
