"""Done when: landing the synthetic province's inbox gives exactly the generator's ground truth
(`truth/expected_landings.csv`, `truth/expected_rejections.csv`; docs/internals.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from ingestion import ledger
from ingestion.landing import land_inbox
from ingestion.settings import DataRoot

generator = pytest.importorskip("synthetic", reason="the synthetic generator is not in this checkout")

LANDING_COLUMNS = [
    "file_name",
    "dataset",
    "cutoff_date",
    "seq",
    "status",
    "rows_in",
    "rows_landed",
    "rows_rejected",
    "rows_skipped",
]
REJECTION_COLUMNS = ["file_name", "data_row", "column", "reason"]


@pytest.fixture(scope="module")
def landed_demo(tmp_path_factory: pytest.TempPathFactory):
    root = DataRoot(tmp_path_factory.mktemp("demo") / "data")
    generator.generate_province(
        root, households=300, run_date=dt.date(2026, 10, 31), check_truth=False, bad_deliveries=True, quirks=True
    )
    results = land_inbox(root)
    return root, results


def _truth(root: DataRoot, name: str, columns: list[str]) -> pl.DataFrame:
    return pl.read_csv(root.truth / name, infer_schema=False).select(columns).fill_null("")


def _as_text(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.select(pl.col(c).cast(pl.String).fill_null("") for c in columns)


def test_landings_match_the_truth(landed_demo) -> None:
    root, results = landed_demo
    expected = _truth(root, "expected_landings.csv", LANDING_COLUMNS).sort("file_name")
    got = _as_text(ledger.read_table(root, "landings"), LANDING_COLUMNS).sort("file_name")
    assert got.height == len(results) and expected.height > 100
    missing = expected.join(got, on=LANDING_COLUMNS, how="anti")
    extra = got.join(expected, on=LANDING_COLUMNS, how="anti")
    assert missing.is_empty() and extra.is_empty(), f"expected but not got:\n{missing}\ngot but not expected:\n{extra}"


def test_rejections_match_the_truth(landed_demo) -> None:
    root, _ = landed_demo
    expected = _truth(root, "expected_rejections.csv", REJECTION_COLUMNS)
    got = _as_text(ledger.read_table(root, "rejections"), REJECTION_COLUMNS)
    assert expected.height > 10
    assert sorted(got.rows()) == sorted(expected.rows())


def test_every_row_is_accounted_for(landed_demo) -> None:
    _, results = landed_demo
    for r in results:
        if r.status in ("landed", "superseded"):
            assert r.rows_in == r.rows_landed + r.rows_rejected + r.rows_skipped, r.file_name
        elif r.status == "rejected":
            assert r.rows_in == r.rows_rejected and r.rows_landed == 0, r.file_name


def test_inbox_is_emptied_but_for_non_datasets(landed_demo) -> None:
    root, results = landed_demo
    left = sorted(p.relative_to(root.inbox).as_posix() for p in Path(root.inbox).rglob("*") if p.is_file())
    assert left == sorted(r.file_name for r in results if r.status == "not_a_dataset")
