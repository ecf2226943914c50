"""The synthetic province end to end: generate ~1,000 households with every real-world quirk (synthetic/quirks.py),
land the inbox, build at the run date and score fct_warnings against truth/expected_warnings.csv exactly — no
warning missing, none extra."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest
from test_build_support import session_dir, shared_root

from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
from synthetic import generate_province
from warehouse.build import build, read_register

RUN = dt.date(2026, 10, 31)
HOUSEHOLDS = 1000
SEED = 20261031
KEY = ["rule_code", "sub_case", "level", "household_id", "person_key", "episode"]


def _make(root: DataRoot) -> None:
    generate_province(root, households=HOUSEHOLDS, months=12, seed=SEED, run_date=RUN, quirks=True)
    land_inbox(root)
    build(root, RUN)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> DataRoot:
    return shared_root(session_dir(tmp_path_factory.getbasetemp()), "e2e_province_1000", _make)


def _keyed(frame: pl.DataFrame) -> set[tuple[str, ...]]:
    return {tuple(v or "" for v in row) for row in frame.select(KEY).iter_rows()}


def test_warnings_match_the_ground_truth_exactly(province: DataRoot) -> None:
    truth = pl.read_csv(province.truth / "expected_warnings.csv", infer_schema_length=0)
    expected, raised = _keyed(truth), _keyed(read_register(province))
    assert expected, "the generator planted no warnings"
    missing = sorted(expected - raised)
    extra = sorted(raised - expected)
    assert (missing, extra) == ([], [])


def test_every_rule_is_exercised(province: DataRoot) -> None:
    register = read_register(province)
    codes = set((register["rule_code"] + register["sub_case"].fill_null("")).to_list())
    rules = {"W01", "W02", "W03a", "W03b", "W04", "W05", "W06", "W07a", "W07b", "W07c", "W08a", "W08b", "W08c",
             "W09", "W10", "W11a", "W11b", "D01", "D02"}  # fmt: skip
    assert rules <= codes


def test_first_run_register_is_all_pending_and_dispatched(province: DataRoot) -> None:
    register = read_register(province)
    assert set(register["status"]) == {"待核查"}
    assert register["raised_on"].unique().to_list() == [RUN]
    assert register.filter(pl.col("county_code").is_null()).height == 0
    households = register.filter(pl.col("household_id").is_not_null())
    assert households.filter(pl.col("township_code").is_null()).height == 0
    assert register.filter(pl.col("rule_code") == "D01")["township_code"].null_count() == register.filter(
        pl.col("rule_code") == "D01").height  # fmt: skip


def test_certificates_leaving_the_roster_and_returning_are_each_one_event(province: DataRoot) -> None:
    """Regression (issue 15): a 残联 certificate missing from one roster and listed again gave two 持证残疾 events with
    one event_id, and the build stopped. Now the first listing is 持证残疾 and the gap is two events of its own."""
    with duckdb.connect(str(province.warehouse_db), read_only=True) as con:
        events = con.sql("select * from intermediate.int_chain_events where source_dataset = 'cl_disability'").pl()
    kinds = events.group_by("event_kind").len()
    returned = dict(kinds.iter_rows()).get("残疾人证重新列入名册", 0)
    assert returned >= 2 and dict(kinds.iter_rows())["残疾人证移出名册"] >= returned
    assert events["event_id"].n_unique() == events.height
    first = events.filter(pl.col("event_kind") == "持证残疾")
    assert first["reference_id"].n_unique() == first.height  # one 持证残疾 per certificate
