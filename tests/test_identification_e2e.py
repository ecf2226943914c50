"""End to end on a generated province: generate → land → build, then fct_identification must equal the generator's
truth/expected_identification.csv exactly (every application and exit review, result, 单人保 keys, 临时救助, and
the snapshot pair of each exit review), and the chain's missed / duplicated views show exactly the W08 / W07
warnings. The province carries every real-world quirk (synthetic/quirks.py)."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest
from test_build_support import shared_root
from test_identification_build import session_base

from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
from synthetic import generate_province
from warehouse.build import prepare_inputs, run_dbt

RUN = dt.date(2026, 10, 31)
HOUSEHOLDS = 100  # the generator's minimum: the planted scenarios are what this test is about
TRUTH_COLUMNS = [
    "application_id", "household_id", "review_kind", "result_category", "individual_cover_keys",
    "temp_assistance_amount", "from_cutoff", "to_cutoff",
]  # fmt: skip


def _make(root: DataRoot) -> None:
    generate_province(root, households=HOUSEHOLDS, run_date=RUN, check_truth=False, quirks=True)
    land_inbox(root)
    prepare_inputs(root, RUN)
    run_dbt(root, RUN, "run", select="+fct_identification +chain_missed_assistance +chain_duplicated_assistance")


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> DataRoot:
    return shared_root(session_base(tmp_path_factory), "identification_province", _make)


def _mart(root: DataRoot, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(root.warehouse_db), read_only=True) as con:
        return con.sql(sql).pl()


def test_identification_matches_the_truth_exactly(province: DataRoot) -> None:
    truth = pl.read_csv(province.truth / "expected_identification.csv", infer_schema=False).fill_null("")
    got = _mart(province, "select * from main.fct_identification").select(
        [pl.col(c).cast(pl.String).fill_null("") for c in TRUTH_COLUMNS]
    )
    expected = truth.select(TRUTH_COLUMNS)
    missing = truth.join(got, on=TRUTH_COLUMNS, how="anti")
    extra = got.join(expected, on=TRUTH_COLUMNS, how="anti")
    assert missing.to_dicts() == [] and extra.to_dicts() == []
    assert got.height == truth.height > 50
    kinds = set(got["review_kind"].to_list())
    assert kinds == {"申请", "退出转入申请", "退出复核"}
    assert (got["individual_cover_keys"] != "").sum() > 0 and (got["temp_assistance_amount"] != "0.00").sum() > 0


def test_the_verification_marks_hidden_assets(province: DataRoot) -> None:
    """The 核对 (docs/verification.md): the applications whose declaration hides a car, a flat or a company carry the
    registered figures, 核对差异 where a registered figure exceeds the declared one, and the trace says so."""
    truth = pl.read_csv(province.truth / "expected_identification.csv", infer_schema=False).fill_null("")
    got = _mart(province, "select * from main.fct_identification where application_id is not null")
    flagged = truth.filter(pl.col("scenario").str.starts_with("认定 核对")).join(got, on="application_id")
    assert flagged.height >= 7
    hides = flagged.filter(pl.col("scenario").str.contains("declares no|three are registered"))
    assert hides.height >= 5 and set(hides["verification_discrepancy"]) == {"是"}
    assert (hides["registered_vehicle_count"] + hides["registered_extra_dwelling_count"] > 0).all()
    assert hides["trace"].str.contains("核对差异").all()
    company = flagged.filter(pl.col("scenario").str.contains("represents a company"))
    assert company["represents_company"].to_list() == ["是"] and company["verification_discrepancy"].to_list() == ["否"]
    near = flagged.filter(pl.col("scenario").str.contains("near miss"))
    assert set(near["verification_discrepancy"]) == {"否"}
    assert set(got["verification_discrepancy"]) == {"是", "否"} and set(got["represents_company"]) <= {"是", "否"}


def test_every_decision_has_a_trace(province: DataRoot) -> None:
    frame = _mart(province, "select case_id, trace, trace_entries from main.fct_identification")
    assert frame["trace"].null_count() == 0 and (frame["trace_entries"] > 0).all()


@pytest.mark.parametrize(("view", "rule"), [("chain_missed_assistance", "W08"), ("chain_duplicated_assistance", "W07")])
def test_chain_views_agree_with_the_warnings(province: DataRoot, view: str, rule: str) -> None:
    columns = "household_id, person_key, sub_case, episode"
    mine = set(_mart(province, f"select {columns} from main.{view}").iter_rows())
    raised = set(_mart(province, f"select {columns} from main.fct_warnings where rule_code = '{rule}'").iter_rows())
    assert mine == raised and raised
