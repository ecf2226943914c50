"""The bad-input corpus (tests/bad_inputs/cases.py): every malformed file gets its expected outcome,
a clear message naming the file, no crash, nothing lost (raw archived, counts reconcile)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest
from bad_inputs.cases import CASES, Case, expected_total
from bad_inputs.factory import make_root

from ingestion.landing import land_inbox
from ingestion.rawstore import hash_file


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert expected_total() >= 33


def _ledger(root) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    conn = sqlite3.connect(root.ledger)
    conn.row_factory = sqlite3.Row
    try:
        return (
            conn.execute("SELECT * FROM landings ORDER BY id").fetchall(),
            conn.execute("SELECT * FROM rejections ORDER BY id").fetchall(),
        )
    finally:
        conn.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    root = make_root(tmp_path)
    case.build(root.inbox)
    delivered = {p.relative_to(root.inbox).as_posix(): hash_file(p) for p in root.inbox.rglob("*") if p.is_file()}
    results = land_inbox(root)
    landings, rejections = _ledger(root)
    assert [r.file_name for r in results] == [e.file_name for e in case.expect]
    for result, expect in zip(results, case.expect):
        assert result.status == expect.status, result.reason
        assert result.reason_code == expect.reason, result.reason
        if expect.rows is not None:
            assert (result.rows_in, result.rows_landed, result.rows_rejected, result.rows_skipped) == expect.rows
        if result.status in ("landed", "superseded"):
            assert result.rows_in == result.rows_landed + result.rows_rejected + result.rows_skipped
        if result.status == "rejected":
            assert result.rows_in == result.rows_rejected and result.rows_landed == 0
            assert expect.file_name in (result.reason or "")
        for text in expect.message_has:
            messages = (result.reason or "") + " ".join(r["message"] or "" for r in rejections)
            assert text in messages
        mine = [r for r in rejections if r["file_name"] == expect.file_name]
        if expect.rejections is not None:
            got = sorted(
                ((r["data_row"], r["source_line"], r["column"], r["reason"]) for r in mine),
                key=lambda x: (x[0] or 0, x[2]),
            )
            assert got == sorted(expect.rejections, key=lambda x: (x[0] or 0, x[2]))
        for r in mine:  # every rejection names the file and, for a row, its row and line
            assert expect.file_name in r["message"] or r["data_row"] is not None
            if r["data_row"] is not None:
                assert f"data row {r['data_row']}" in r["message"] and f"line {r['source_line']}" in r["message"]
        in_inbox = (root.inbox / expect.file_name).exists()
        assert in_inbox == expect.stays_in_inbox
        if not expect.stays_in_inbox:  # nothing lost: the delivered bytes are in raw/ and in archive/
            assert (root.raw / delivered[expect.file_name]).exists()
            assert (root.root / "archive" / expect.file_name).exists()
    # one ledger row per file, counts as returned
    assert len(landings) == len(results)
    for row, result in zip(landings, results):
        assert (row["status"], row["rows_in"], row["rows_rejected"]) == (
            result.status,
            result.rows_in,
            result.rows_rejected,
        )
    _every_parquet_readable(root.root)


def _every_parquet_readable(base: Path) -> None:
    for path in base.rglob("*.parquet"):
        pl.read_parquet(path)


def test_rejected_redelivery_keeps_the_earlier_in_use(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name.startswith("a re-delivery rejected whole"))
    root = make_root(tmp_path)
    case.build(root.inbox)
    land_inbox(root)
    deliveries = pl.read_parquet(root.lake / "_deliveries.parquet")
    assert deliveries.select("seq", "in_use", "status").rows() == [(1, True, "landed")]


def test_quarantine_keeps_raw_values_owner_only(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name.startswith("bad IDs"))
    root = make_root(tmp_path)
    case.build(root.inbox)
    land_inbox(root)
    files = list(root.quarantine.rglob("*.parquet"))
    assert len(files) == 1
    assert files[0].stat().st_mode & 0o077 == 0
    assert root.quarantine.stat().st_mode & 0o077 == 0
    frame = pl.read_parquet(files[0])
    assert "3.70102E+17" in frame.get_column("身份证号").to_list()
    _, rejections = _ledger(root)
    assert all(r["raw_value"] == "" for r in rejections)  # ID raw values stay out of the ledger
