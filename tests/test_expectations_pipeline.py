"""The checks in the whole pipeline, on the synthetic province with its planted bad deliveries.

generate (bad_deliveries=True) → land → check → build: the deliveries listed in
`truth/expected_holds.csv` are held with the right reason, nothing else is, and the warnings of the
run are exactly the expected ones, i.e. those of the last good deliveries. Released, the bad
deliveries change the warnings: the holds are what keeps them right.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from expectations.runner import check_pending, release
from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
from synthetic import generate_province
from warehouse.run import build_step

RUN_DATE = dt.date(2026, 10, 31)
WARNING_COLUMNS = ["rule_code", "sub_case", "level", "household_id", "person_key", "episode"]
# the generator's problem → the check that must hold it
HELD_BY = {
    "truncated": "row_count_vs_previous__critical",
    "amounts_x100": "median_shift__",
    "duplicate_keys": "key_unique__critical",
}


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory):
    root = DataRoot(tmp_path_factory.mktemp("province") / "data")
    generate_province(root, households=300, months=12, run_date=RUN_DATE, bad_deliveries=True, check_truth=False)
    land_inbox(root)
    return root, check_pending(root)


def warnings_built(root: DataRoot) -> set[tuple]:
    build_step(root, RUN_DATE)
    with duckdb.connect(str(root.warehouse_db), read_only=True) as con:
        frame = pl.from_arrow(con.sql(f"SELECT {', '.join(WARNING_COLUMNS)} FROM fct_warnings").arrow())
    assert isinstance(frame, pl.DataFrame)
    return set(frame.select(pl.col(WARNING_COLUMNS).cast(pl.String).fill_null("")).rows())


def expected_warnings(root: DataRoot) -> set[tuple]:
    truth = pl.read_csv(root.truth / "expected_warnings.csv", infer_schema_length=0)
    return set(truth.select(pl.col(WARNING_COLUMNS).fill_null("")).rows())


def test_the_planted_bad_deliveries_and_only_they_are_held(province):
    root, summary = province
    expected = pl.read_csv(root.truth / "expected_holds.csv")
    assert expected.height == 3
    held = {c.delivery.file_name: c for c in summary.held}
    assert set(held) == set(expected["file_name"])
    for file_name, problem in expected.select("file_name", "problem").iter_rows():
        assert any(reason.startswith(HELD_BY[problem]) for reason in held[file_name].reasons), held[file_name].reasons
    assert len(summary.deliveries) > 300 and all(c.failed_critical == 0 for c in summary.deliveries if not c.held)


def test_a_run_with_held_deliveries_warns_from_the_last_good_ones(province):
    root, summary = province
    expected = expected_warnings(root)
    assert len(expected) > 20
    assert warnings_built(root) == expected
    for held in summary.held:  # let the bad deliveries in: the warnings are no longer right
        release(root, held.delivery.sha256, by="test", note="show what the holds prevent")
    assert warnings_built(root) != expected
