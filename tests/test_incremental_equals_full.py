"""Incremental builds equal full rebuilds (docs/incremental.md): 13 months replayed one run at a time.

A small province with every real-world quirk (synthetic/quirks.py) is generated for 13 months; its deliveries reach
the inbox month by month, and each month is landed and built at its last day — incrementally when the refresh
policy (warehouse/refresh_policy.py) allows. After every incremental run a copy of the data root is rebuilt in full at
the same date, and the two warehouses are compared table by table, row for row: every mart table (the register, the
chain, identification …) and every incremental model (a run the policy made a full refresh is a full rebuild itself).
On the way, each reason for a full refresh happens once:

- an old cut-off re-delivered: the generator's `_2` files (old_cutoff_redelivered) reach the inbox months after
  their cut-off, as they would;
- a held delivery released: a month's civil-affairs member roster is held when it lands (as the check step holds a
  delivery failing a critical check) and released the month after;
- a rerun of an earlier date, then the next month again;
- a reference change: the user's own rule_parameters.csv in <data root>/reference/ changes a parameter.

Both sides build the models only (the incremental one through `build()`, the full one with `dbt run --full-refresh`):
data tests do not change a table, and the failure policy they serve has its own tests (test_failure_paths.py).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from ingestion.delivery import list_inbox
from ingestion.landing import land_inbox
from ingestion.ledger import now, open_ledger, read_table
from ingestion.reference import SHIPPED_DIR
from ingestion.settings import DataRoot
from synthetic import generate_province
from warehouse.build import build, prepare_inputs, run_dbt
from warehouse.compare_warehouses import differences as warehouse_differences
from warehouse.compare_warehouses import incremental_models

HOUSEHOLDS = 100
LAST = dt.date(2026, 10, 31)
SEED = 20261031
HISTORY_MODELS = (
    "stg_mz__members",
    "stg_mz__households",
    "stg_mz__payments",
    "int_mz_snapshot_members",
    "int_payments_net_monthly",
    "int_chain_memberships",
)
REDELIVERED_AFTER_MONTHS = 3  # a `_2` file of an old cut-off arrives this many months after it
HELD_MONTH = dt.date(2026, 3, 31)  # its mz_member roster is held when it lands, released the month after
RERUN_AFTER = dt.date(2026, 6, 30)  # after this run, the run of the month before is run again
REFERENCE_CHANGE = dt.date(2026, 9, 30)  # the user's own rule_parameters.csv from this run on


def _month_ends() -> list[dt.date]:
    ends, year, month = [], 2025, 10
    for _ in range(13):
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        ends.append(following - dt.timedelta(days=1))
        year, month = following.year, following.month
    return ends


def _arrival(cutoff: dt.date, seq: int, explicit_seq: bool) -> dt.date:
    """The run a file reaches the inbox before: its cut-off's month; a re-delivery some months later."""
    months = REDELIVERED_AFTER_MONTHS if explicit_seq and seq > 1 else 0
    month = cutoff.month - 1 + months
    following = dt.date(cutoff.year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return min(following - dt.timedelta(days=1), LAST)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataRoot, Path]:
    """The province with its inbox moved aside (`pending`), to be delivered month by month."""
    root = DataRoot(tmp_path_factory.mktemp("incremental") / "data")
    generate_province(root, households=HOUSEHOLDS, months=12, seed=SEED, run_date=LAST, quirks=True, check_truth=False)
    pending = root.root.parent / "pending"
    shutil.move(root.inbox, pending)
    root.inbox.mkdir()
    return root, pending


def _deliver(pending: Path, inbox: Path, run_date: dt.date) -> list[str]:
    arrived = []
    for delivery in list_inbox(pending):
        cutoff = delivery.cutoff or dt.date.min
        if _arrival(cutoff, delivery.seq, delivery.explicit_seq) <= run_date:
            target = inbox / delivery.path.relative_to(pending)
            target.parent.mkdir(parents=True, exist_ok=True)
            delivery.path.rename(target)
            arrived.append(delivery.file_name)
    return arrived


def _hold(root: DataRoot, dataset: str, cutoff: dt.date) -> str:
    """Hold the delivery as the check step does for a critical failure (expectations/store.py)."""
    with open_ledger(root) as conn:
        sha, seq = conn.execute(
            "SELECT sha256, seq FROM landings WHERE dataset = ? AND cutoff_date = ? AND status = 'landed'",
            (dataset, cutoff.isoformat()),
        ).fetchone()
        conn.execute(
            "INSERT INTO holds (sha256, dataset, cutoff_date, seq, reason, held_at, released) "
            "VALUES (?, ?, ?, ?, ?, ?, 0)",
            (sha, dataset, cutoff.isoformat(), seq, "replay test: held", now()),
        )
        conn.commit()
    return sha


def _change_reference(root: DataRoot) -> None:
    shipped = (SHIPPED_DIR / "rule_parameters.csv").read_text(encoding="utf-8")
    changed = shipped.replace(
        "w06_grace_months,province,37,2024-01-01,1,", "w06_grace_months,province,37,2024-01-01,2,"
    )
    assert changed != shipped
    root.reference.mkdir(exist_ok=True)
    (root.reference / "rule_parameters.csv").write_text(changed, encoding="utf-8")


def _full_copy(root: DataRoot, run_date: dt.date, where: Path) -> DataRoot:
    """A copy of the data root rebuilt in full at `run_date` (the warehouse removed first)."""
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(root.root, where, ignore=shutil.ignore_patterns("warehouse.duckdb*", "dbt", "published"))
    copy = DataRoot(where)
    prepare_inputs(copy, run_date)
    run_dbt(copy, run_date, "run", full_refresh=True)
    return copy


def test_thirteen_months_incremental_equal_full_rebuilds(generated: tuple[DataRoot, Path], tmp_path: Path) -> None:
    root, pending = generated
    plan = [(d, "") for d in _month_ends()]
    rerun_at = plan.index((RERUN_AFTER, "")) + 1
    plan.insert(rerun_at, (plan[rerun_at - 2][0], "rerun"))
    held_sha = None
    seen: list[tuple[dt.date, str, str, str]] = []
    for run_date, what in plan:
        arrived = _deliver(pending, root.inbox, run_date) if not what else []
        land_inbox(root)
        if run_date == HELD_MONTH:
            held_sha = _hold(root, "mz_member", HELD_MONTH)
        if held_sha and run_date > HELD_MONTH and not any(r == "released" for *_, r in seen):
            from expectations.runner import release

            release(root, held_sha, by="replay test", note="checked by hand")
            what = "released"
        if run_date == REFERENCE_CHANGE:
            _change_reference(root)
        result = build(root, run_date, data_tests=False)
        assert not result.models_left_out, result.models_left_out
        seen.append((run_date, result.refresh, result.refresh_reason, what or ""))
        if result.refresh == "full":
            continue  # it is a full rebuild: nothing to compare
        full = _full_copy(root, run_date, tmp_path / "full")
        assert sorted(incremental_models(root)) == sorted(HISTORY_MODELS)
        differences = warehouse_differences(root.warehouse_db, full.warehouse_db, list(HISTORY_MODELS))
        assert not differences, (
            f"{run_date} ({result.refresh}: {result.refresh_reason}; arrived {arrived}):\n" + "\n".join(differences)
        )

    refreshes = read_table(root, "build_refreshes")
    reasons = refreshes["reason"].to_list()
    modes = refreshes["refresh"].to_list()
    # every reason happened, and most months were incremental
    assert any("a held delivery released" in r for r in reasons), reasons
    assert any("delivered again or late" in r for r in reasons), reasons
    assert any("a rerun of" in r or "goes back" in r for r in reasons), reasons
    assert any("a reference file changed: rule_parameters.csv" in r for r in reasons), reasons
    assert modes.count("incremental") >= 8, list(zip(modes, reasons))
