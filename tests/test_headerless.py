"""No delivered text outside the vault, lake and quarantine: a delivery without its header row is rejected whole as
`missing_header` (every row counted as rejected), and unknown column names reach the ledger only when they look
like names, never an ID number, a long number or a person's name."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from bad_inputs.factory import csv_text, headers, make_root, valid_rows, write_csv, write_xlsx
from safety_fixtures import files_holding, ledger_dump

from ingestion.contracts import all_contracts, load_contract
from ingestion.landing import land_inbox
from ingestion.readers import MISSING_HEADER

N = 5
PRIVATE = ("inbox", "raw", "archive", "vault", "lake", "quarantine", "secrets")  # where delivered values may be
DATASETS = sorted(all_contracts())
FORMS = ("utf-8", "gb18030", "xlsx")


def _headerless(inbox: Path, dataset: str, form: str) -> tuple[str, list[str]]:
    """A delivery of `dataset` without its header row; returns its name and the values of its first row that
    only a delivery holds (IDs, names, numbers, codes, dates: not enum words or small counts, which the
    contracts and the ledger's own messages also contain)."""
    contract = load_contract(dataset)
    rows = valid_rows(contract, N, start=17)
    if form == "xlsx":
        name = f"{dataset}_20261031.xlsx"
        write_xlsx(inbox / name, rows[0], rows[1:])  # the first data row stands where the header should
    else:
        name = f"{dataset}_20261031.csv"
        (inbox / name).write_bytes(csv_text(rows[0], rows[1:]).encode(form))
    return name, [value for col, value in zip(contract.columns, rows[0]) if col.kind not in ("enum", "int")]


@pytest.mark.parametrize("form", FORMS)
def test_a_delivery_without_header_is_rejected_whole_and_leaves_no_text(tmp_path: Path, form: str) -> None:
    root = make_root(tmp_path)
    first_rows = dict(_headerless(root.inbox, dataset, form) for dataset in DATASETS)
    results = {r.file_name: r for r in land_inbox(root)}
    assert set(results) == set(first_rows)
    for name, result in results.items():
        assert (result.status, result.reason_code) == ("rejected", MISSING_HEADER), result.reason
        assert result.rows_in == result.rows_rejected == N and result.rows_landed == 0, name
        assert result.extra_columns == [], name
    delivered = {value for values in first_rows.values() for value in values}
    assert files_holding(root.root, sorted(delivered), skip=PRIVATE) == []
    dump = ledger_dump(root)
    assert not [value for value in delivered if value in dump]


def test_unknown_columns_are_recorded_only_when_they_look_like_names(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    contract = load_contract("mz_member")
    rows = valid_rows(contract, N)
    write_csv(root.inbox / "mz_member_20260930.csv", headers(contract), rows)  # the vault learns the names
    name = rows[0][headers(contract).index("姓名")]
    odd = ["备注", "370102198001010011", "13812345678", "2019-07-15", "1234.50", name, "说明" * 20]
    write_csv(root.inbox / "mz_member_20261031.csv", headers(contract) + odd, [r + ["x"] * len(odd) for r in rows])
    results = {r.file_name: r for r in land_inbox(root)}
    result = results["mz_member_20261031.csv"]
    assert result.status == "landed"
    width = len(headers(contract))
    withheld = [f"#{width + i} (withheld: looks like a value)" for i in range(2, len(odd) + 1)]
    assert result.extra_columns == ["备注", *withheld]
    con = sqlite3.connect(root.ledger)
    [(recorded,)] = con.execute("SELECT extra_columns FROM landings WHERE file_name = 'mz_member_20261031.csv'")
    con.close()
    assert json.loads(recorded) == result.extra_columns
    assert files_holding(root.root, odd[1:], skip=PRIVATE) == []


def test_a_file_with_other_headers_is_not_mistaken_for_a_wrong_encoding(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    write_csv(root.inbox / "mz_member_20261031.csv", ["编号", "名称", "日期"], [["a", "b", "c"]] * N, "gb18030")
    [result] = land_inbox(root)
    assert result.reason_code == "undecodable"  # read as GB18030 nothing is recognisable: another encoding?
    write_csv(root.inbox / "mz_member_20260930.csv", ["编号", "名称", "日期"], [["a", "b", "c"]] * N)
    [result] = land_inbox(root)
    assert (result.reason_code, result.rows_in, result.rows_rejected) == (MISSING_HEADER, N, N)
