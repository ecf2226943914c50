"""Suites, metrics and the ledger side of the checks, without Great Expectations (fast)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from expectations import checks as k
from expectations import metrics as mx
from expectations import store
from expectations.checks import CRITICAL, WARNING, metrics_of
from expectations.contract_view import contract_view, contract_views
from expectations.suites import all_suites, reference_targets, suite_checks
from expectations.thresholds import THRESHOLDS as T
from ingestion import ledger
from ingestion.contracts import all_contracts
from ingestion.lake import lake_schema
from ingestion.settings import DataRoot

CUTOFF = dt.date(2026, 10, 31)


def by_name(dataset: str) -> dict[str, k.Check]:
    return {c.name: c for c in suite_checks(dataset)}


def measure(frame: pl.DataFrame, dataset: str, targets: dict[str, mx.Target] | None = None) -> dict[str, mx.Measured]:
    return mx.measure_delivery(frame, CUTOFF, metrics_of(suite_checks(dataset)), targets or {})


# ---------------------------------------------------------------- suites


def test_every_contract_has_a_suite_reading_only_lake_columns():
    suites = all_suites()
    assert set(suites) == set(all_contracts()) and len(suites) == 19
    for dataset, checks in suites.items():
        lake = set(lake_schema(dataset).names)
        read = {c for check in checks for c in check.metric.columns}
        assert read <= lake, (dataset, read - lake)
        assert all(check.severity in (CRITICAL, WARNING) for check in checks)
        assert all(check.low is not None or check.high is not None for check in checks)


def test_dataset_rules_name_real_columns():
    for dataset, contract in all_contracts().items():
        rules = contract.suite
        lake = set(lake_schema(dataset).names)
        named = {r.column for r in rules.ranges} | {b.column for b in rules.medians} | set(rules.future_dates)
        named |= {c for pair in rules.ordered_dates for c in pair} | {c for c, _ in rules.patterns}
        named |= {ref.column for ref in rules.references}
        assert named <= lake, (dataset, named - lake)
        for ref in rules.references:
            assert ref.target_column in lake_schema(ref.target).names


def test_generic_checks_follow_the_contract():
    for dataset, view in contract_views().items():
        checks = by_name(dataset)
        if view.keys:
            assert checks["key_unique"].severity == WARNING
            assert checks["key_unique__critical"].severity == CRITICAL
            assert checks["key_unique__critical"].high == T.duplicate_key_share_critical
            assert checks["key_unique"].metric.columns == checks["key_unique__critical"].metric.columns == view.keys
        for col in view.columns:
            if col.required:
                assert checks[f"not_null__{col.name}"].severity == CRITICAL
            elif not col.has_default:
                assert checks[f"fill_rate__{col.name}"].high == T.optional_fill_drop_warning
            if col.values:
                assert checks[f"in_set__{col.name}"].metric.values == col.values


def test_volume_checks_by_kind_use_the_thresholds():
    household = by_name("mz_household")
    critical = household["row_count_vs_previous__critical"]
    assert (critical.severity, critical.low, critical.high) == (
        CRITICAL,
        -T.snapshot_change_critical,
        T.snapshot_change_critical,
    )
    assert household["row_count_vs_previous__warning"].high == T.snapshot_change_warning
    deaths = by_name("wjw_death")
    assert deaths["row_count_not_empty"].severity == WARNING
    assert deaths["row_count_vs_previous"].high == T.increment_change_factor_warning
    assert "row_count_vs_previous__critical" not in deaths


def test_key_amounts_cost_parts_and_references_are_watched():
    settlement, payment = by_name("ybj_settlement"), by_name("mz_payment")
    assert settlement["median_shift__self_paid__critical"].severity == CRITICAL
    assert settlement["median_shift__self_paid__critical"].high == T.median_shift_factor_critical
    assert payment["median_shift__amount__critical"].severity == CRITICAL
    wages = by_name("rsj_contribution")
    assert wages["median_shift__wage_base__warning"].severity == WARNING
    assert "median_shift__wage_base__critical" not in wages  # wages move: never a hold
    assert settlement["parts_mismatch_share__critical"].high == T.parts_mismatch_share_critical
    member = by_name("mz_member")
    assert member["reference__household_id__critical"].metric.target == ("mz_household", "household_id")
    assert reference_targets() == {"mz_household"}


def test_dates_that_may_be_in_the_future_are_not_bounded_by_the_cutoff():
    housing = by_name("zjt_housing_aid")
    assert "not_after_cutoff__ends_on" not in housing and "plausible_earliest__ends_on" in housing
    assert "not_after_cutoff__settled_on" in by_name("ybj_settlement")


# ---------------------------------------------------------------- metrics within a delivery


def members(rows: list[tuple[str, str, str]], born: dt.date = dt.date(1980, 5, 1)) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "household_id": [r[0] for r in rows],
            "person_key": [r[1] for r in rows],
            "relation": [r[2] for r in rows],
            "labour_capacity": ["有劳动能力"] * len(rows),
            "health": [None] * len(rows),
            "individual_cover": ["否"] * len(rows),
            "birth_date": [born] * len(rows),
        },
    )


def test_duplicate_compound_keys_and_unknown_values_are_counted():
    frame = members([("H1", "a", "配偶"), ("H1", "a", "子女"), ("H1", "b", "儿媳"), ("H2", "a", "配偶")])
    got = measure(frame, "mz_member")
    assert got["duplicate_key_rows"].value == 2
    assert got["duplicate_key_rows"].details["examples"] == [("H1", "a")]
    assert got["unknown_values__relation"].value == 1
    assert got["unknown_values__relation"].details["examples"] == ["儿媳"]


def test_orphans_are_a_share_and_not_compared_without_a_roster():
    frame = members([("H1", "a", "配偶"), ("H2", "b", "配偶"), ("H9", "c", "配偶"), ("H9", "d", "子女")])
    roster = mx.Target("mz_household", pl.Series(["H1", "H2"]), "mz_household_20261031.csv")
    got = measure(frame, "mz_member", {"orphan_share__household_id": roster})
    assert got["orphan_share__household_id"].value == pytest.approx(0.5)
    assert got["orphan_share__household_id"].details["examples"] == ["H9"]
    missing = measure(frame, "mz_member", {"orphan_share__household_id": mx.Target("mz_household", None)})
    assert missing["orphan_share__household_id"].value is None
    assert "not compared" in missing["orphan_share__household_id"].text


def test_age_bounds_agree_with_completed_years():
    for cutoff in (dt.date(2026, 10, 31), dt.date(2028, 2, 29), dt.date(2027, 3, 1)):
        latest, earliest = mx.born_bounds(cutoff, 0, 110)
        for born in (
            latest,
            latest + dt.timedelta(days=1),
            earliest,
            earliest - dt.timedelta(days=1),
            dt.date(cutoff.year - 111, 2, 28),
            dt.date(cutoff.year - 111, 3, 1),
        ):
            inside = latest >= born >= earliest
            assert inside == (0 <= mx.age_on(born, cutoff) <= 110), (cutoff, born)


def test_implausible_ages_and_dates_are_found():
    frame = members([("H1", "a", "配偶"), ("H2", "b", "配偶")]).with_columns(
        birth_date=pl.Series([dt.date(1900, 1, 1), dt.date(1990, 1, 1)])
    )
    got = measure(frame, "mz_member")["age_out_of_range_rows__birth_date"]
    assert got.value == 1 and "observed 36 … 126" in got.text
    deaths = pl.DataFrame(
        {
            "certificate_id": ["C1", "C2"],
            "person_key": ["a", "b"],
            "died_on": [dt.date(1900, 1, 1), dt.date(2026, 11, 3)],
            "cause": [None, None],
            "birth_date": [dt.date(1890, 1, 1), dt.date(1950, 1, 1)],
        }
    )
    measured = measure(deaths, "wjw_death")
    assert measured["days_after_cutoff__died_on"].value == 3
    assert measured["earliest_year__died_on"].value == 1900


def settlements(self_paid: list[float], kinds: list[str], mismatch: list[bool]) -> pl.DataFrame:
    n = len(self_paid)
    money = pl.Decimal(14, 2)
    return pl.DataFrame(
        {
            "settlement_id": [f"S{i}" for i in range(n)],
            "person_key": ["p"] * n,
            "insured_region": ["370102"] * n,
            "visit_type": ["住院"] * n,
            "provider": [None] * n,
            "settled_on": [dt.date(2026, 10, 5)] * n,
            "total_cost": pl.Series([Decimal(str(3 * v)) for v in self_paid], dtype=money),
            "fund_paid": pl.Series([Decimal(str(2 * v)) for v in self_paid], dtype=money),
            "critical_illness_paid": pl.Series([Decimal("0")] * n, dtype=money),
            "medical_aid_paid": pl.Series([Decimal("0")] * n, dtype=money),
            "self_paid": pl.Series([Decimal(str(v)) for v in self_paid], dtype=money),
            "settlement_type": kinds,
            "original_settlement_id": [None] * n,
            "parts_mismatch": mismatch,
            "birth_date": [dt.date(1960, 1, 1)] * n,
        }
    )


def test_cost_parts_share_and_ranges():
    frame = settlements([100, 200, 2_000_000], ["正常", "正常", "正常"], [True, False, False])
    got = measure(frame, "ybj_settlement")
    assert got["share__parts_mismatch"].value == pytest.approx(1 / 3)
    assert got["out_of_range_rows__self_paid"].value == 1


def test_median_basis_leaves_out_reversals_and_non_positive_amounts():
    view, rules = contract_view("ybj_settlement"), all_contracts()["ybj_settlement"].suite
    frame = settlements([100, 300, -100, 0, 5_000], ["正常", "正常", "冲销", "正常", "冲销"], [False] * 5)
    assert mx.profile(frame, view, rules).medians["self_paid"] == pytest.approx(200)


# ---------------------------------------------------------------- against the previous delivery


def test_small_deliveries_are_not_compared_on_shares_and_sizes():
    metrics = metrics_of(suite_checks("wjw_death"))
    few = T.compare_min_rows - 1
    got = mx.compare(
        metrics,
        mx.Profile(rows=few * 13, fill={"cause": 0.0}),
        mx.Previous("wjw_death_20261024.csv", mx.Profile(rows=few, fill={"cause": 1.0})),
    )
    assert got["rows_ratio"].value is None and got["fill_drop__cause"].value is None
    assert "not compared" in got["fill_drop__cause"].text


def test_employee_wage_bases_only_make_the_median():
    view, rules = contract_view("rsj_contribution"), all_contracts()["rsj_contribution"].suite
    frame = pl.DataFrame(
        {
            "scheme": [
                "企业职工基本养老保险",
                "机关事业单位养老保险",
                "城乡居民基本养老保险",
                "城乡居民基本养老保险",
                "城乡居民基本养老保险",
            ],
            "wage_base": pl.Series(
                [Decimal("6000"), Decimal("5000"), Decimal("200"), Decimal("200"), Decimal("200")],
                dtype=pl.Decimal(14, 2),
            ),
            "employer": [None] * 5,
        }
    )
    assert mx.profile(frame, view, rules).medians["wage_base"] == pytest.approx(5500)


def test_comparisons_with_the_previous_delivery():
    metrics = metrics_of(suite_checks("ybj_settlement"))
    now = mx.Profile(rows=600, fill={"provider": 0.5}, medians={"self_paid": 30_000.0})
    before = mx.Previous(
        "ybj_settlement_20260930.csv", mx.Profile(rows=1_000, fill={"provider": 0.9}, medians={"self_paid": 300.0})
    )
    got = mx.compare(metrics, now, before)
    assert got["rows_ratio"].value == pytest.approx(0.6)
    assert got["median_ratio__self_paid"].value == pytest.approx(100)
    assert "×100.00 against ybj_settlement_20260930.csv" in got["median_ratio__self_paid"].text
    assert got["fill_drop__provider"].value == pytest.approx(0.4)
    alone = mx.compare(metrics, now, None)
    assert all(m.value is None and m.text == mx.NO_PREVIOUS for m in alone.values())
    snapshot = mx.compare(
        metrics_of(suite_checks("mz_household")),
        mx.Profile(rows=60),
        mx.Previous("mz_household_20260930.csv", mx.Profile(rows=100)),
    )
    assert snapshot["rows_change"].value == pytest.approx(-0.4)
    small = T.snapshot_change_min_rows * 2
    churn = mx.compare(
        metrics_of(suite_checks("nync_monitored")),
        mx.Profile(rows=small - (small // 2 - 1)),
        mx.Previous("nync_monitored_20260930.csv", mx.Profile(rows=small)),
    )
    assert churn["rows_change"].value == 0.0 and "not counted" in churn["rows_change"].text


# ---------------------------------------------------------------- the ledger


def land(conn, file_name: str, cutoff: str, seq: int, sha: str, status: str = "landed") -> None:
    ledger.insert_landing(
        conn,
        {
            "file_name": file_name,
            "dataset": "mz_household",
            "cutoff_date": cutoff,
            "seq": seq,
            "sha256": sha,
            "status": status,
            "rows_in": 10,
            "rows_landed": 10,
        },
    )


@pytest.fixture()
def conn(tmp_path: Path):
    connection = ledger.connect(DataRoot(tmp_path))
    store.ensure_checks_table(connection)
    land(connection, "mz_household_20260831.csv", "2026-08-31", 1, "a" * 64)
    land(connection, "mz_household_20260930.csv", "2026-09-30", 1, "b" * 64)
    land(connection, "mz_household_20261031.csv", "2026-10-31", 1, "c" * 64)
    land(connection, "mz_household/mz_household_20261031_2.csv", "2026-10-31", 2, "d" * 64)
    land(connection, "mz_household_20260731.csv", "2026-07-31", 1, "a" * 64, status="duplicate")
    yield connection
    connection.close()


def delivery(conn, sha: str) -> store.Delivery:
    row = conn.execute("SELECT * FROM landings WHERE sha256 = ? ORDER BY id", (sha,)).fetchone()
    return store.Delivery.from_row(row)


def test_pending_lists_each_landed_content_once_in_order(conn):
    assert [d.sha256[0] for d in store.pending(conn)] == ["a", "b", "c", "d"]
    store.record(conn, delivery(conn, "a" * 64), [{"expectation": "x", "severity": "warning", "success": True}], None)
    assert [d.sha256[0] for d in store.pending(conn)] == ["b", "c", "d"]


def test_previous_good_skips_held_deliveries(conn):
    latest = delivery(conn, "d" * 64)
    assert store.previous_good(conn, latest).sha256 == "c" * 64
    failing = [{"expectation": "key_unique", "severity": "critical", "success": False}]
    store.record(conn, delivery(conn, "c" * 64), failing, "key_unique: 2 rows")
    assert store.previous_good(conn, latest).sha256 == "b" * 64
    assert store.good_of_cutoff(conn, "mz_household", CUTOFF).sha256 == "d" * 64
    store.record(conn, latest, failing, "key_unique: 3 rows")
    assert store.good_of_cutoff(conn, "mz_household", CUTOFF) is None
    assert [h["sha256"][0] for h in store.held(conn)] == ["c", "d"]


def test_recording_twice_replaces_results_and_keeps_one_hold(conn):
    d = delivery(conn, "b" * 64)
    failing = [{"expectation": "key_unique", "severity": "critical", "success": False, "observed": "2 rows"}]
    store.record(conn, d, failing, "key_unique")
    store.record(conn, d, failing, "key_unique")
    assert conn.execute("SELECT COUNT(*) FROM checks WHERE sha256 = ?", (d.sha256,)).fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM holds WHERE sha256 = ?", (d.sha256,)).fetchone()[0] == 1


def test_a_hold_is_found_by_file_name_bare_name_or_sha_prefix(conn):
    store.record(conn, delivery(conn, "d" * 64), [{"expectation": "x", "severity": "critical", "success": False}], "x")
    assert len(store.find_held(conn, "mz_household/mz_household_20261031_2.csv")) == 1
    assert len(store.find_held(conn, "mz_household_20261031_2.csv")) == 1
    assert len(store.find_held(conn, "d" * 8)) == 1
    assert store.find_held(conn, "d" * 4) == []  # too short to name a delivery
    assert store.find_held(conn, "mz_household_20261031.csv") == []  # landed, not held
