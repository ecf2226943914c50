"""Kill safety: `land_inbox` killed (SIGKILL) at random moments, then rerun to completion, ends exactly
where an uninterrupted run ends: same landed rows per delivery, same ledger, same quarantine, every
Parquet file readable, no ledger entry without its data, and no temporary file left anywhere."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from bad_inputs.factory import headers, valid_rows, write_csv
from safety_fixtures import debris

from ingestion.contracts import load_contract
from ingestion.settings import DataRoot

KEY = "ab" * 32
KILLS = 5
SCRIPT = (
    "import sys; from ingestion.landing import land_inbox; from ingestion.settings import DataRoot; "
    "land_inbox(DataRoot.from_env(sys.argv[1]))"
)


def _inbox(base: Path) -> Path:
    """A small inbox: several datasets, a re-delivery, bad rows, a file rejected whole."""
    inbox = base / "inbox"
    for i, dataset in enumerate(["mz_member", "mz_household", "ybj_settlement", "wjw_death", "mz_payment"]):
        contract = load_contract(dataset)
        rows = valid_rows(contract, 3000 + 500 * i)
        for row in rows[::97]:
            row[1] = row[1] + "?" if contract.columns[1].kind != "text" else row[1]
        write_csv(inbox / dataset / f"{dataset}_20260930.csv", headers(contract), rows, encoding="gb18030")
        write_csv(inbox / f"{dataset}_20261031.csv", headers(contract), rows[: 2000 + i])
    contract = load_contract("mz_member")
    write_csv(inbox / "mz_member_20261031_2.csv", headers(contract), valid_rows(contract, 1500, start=9))
    write_csv(inbox / "mz_household_20261031_2.csv", headers(contract), valid_rows(contract, 10))  # wrong columns
    return inbox


def _run(root: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(root)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _state(root: Path) -> dict:
    conn = sqlite3.connect(root / "ledger.sqlite")
    landings = conn.execute(
        "SELECT file_name, dataset, cutoff_date, seq, sha256, status, reason, rows_in, rows_landed, rows_rejected, "
        "rows_skipped, extra_columns FROM landings ORDER BY file_name"
    ).fetchall()
    rejections = conn.execute(
        'SELECT file_name, data_row, source_line, "column", field, reason, raw_value, message FROM rejections '
        "ORDER BY file_name, data_row, field"
    ).fetchall()
    conn.close()
    lake = {}
    for path in sorted((root / "lake").rglob("*.parquet")):
        frame = pl.read_parquet(path)  # every Parquet file is readable
        if not path.name.startswith("_"):
            lake[path.relative_to(root).as_posix()] = frame.sort("_data_row")
    quarantine = {
        p.relative_to(root).as_posix(): pl.read_parquet(p).sort("data_row", "field")
        for p in sorted((root / "quarantine").rglob("*.parquet"))
    }
    persons = pl.read_parquet(root / "vault" / "persons.parquet").sort("person_key")
    deliveries = pl.read_parquet(root / "lake" / "_deliveries.parquet").sort("dataset", "cutoff_date", "seq")
    return {
        "landings": landings,
        "rejections": rejections,
        "lake": lake,
        "quarantine": quarantine,
        "persons": persons,
        "deliveries": deliveries,
    }


def _assert_same(got: dict, want: dict) -> None:
    assert got["landings"] == want["landings"]
    assert got["rejections"] == want["rejections"]
    assert got["lake"].keys() == want["lake"].keys()
    for name, frame in want["lake"].items():
        assert got["lake"][name].equals(frame), name
    assert got["quarantine"].keys() == want["quarantine"].keys()
    for name, frame in want["quarantine"].items():
        assert got["quarantine"][name].equals(frame), name
    assert got["persons"].equals(want["persons"])
    assert got["deliveries"].equals(want["deliveries"])


def _landing_rows(root: Path) -> int:
    if not (root / "ledger.sqlite").exists():
        return 0
    conn = sqlite3.connect(root / "ledger.sqlite")
    try:
        return conn.execute("SELECT count(*) FROM landings").fetchone()[0]
    except sqlite3.OperationalError:  # killed before the tables existed
        return 0
    finally:
        conn.close()


def _wait_for_progress(root: Path, process: subprocess.Popen, before: int, limit: float = 120.0) -> None:
    started = time.perf_counter()
    while process.poll() is None and _landing_rows(root) <= before and time.perf_counter() - started < limit:
        time.sleep(0.02)


def _no_ledger_entry_without_data(root: Path) -> None:
    conn = sqlite3.connect(root / "ledger.sqlite")
    rows = conn.execute(
        "SELECT dataset, cutoff_date, seq, sha256 FROM landings WHERE status IN ('landed', 'superseded')"
    ).fetchall()
    conn.close()
    for dataset, cutoff, seq, sha in rows:
        assert (root / "lake" / dataset / f"cutoff={cutoff}" / f"seq={seq}" / f"{sha}.parquet").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_landing_reruns_to_the_same_result(tmp_path: Path, workers: int) -> None:
    """Killed with one process, or with two landing processes (datasets in parallel, which must die with the
    landing process): the rerun ends where one uninterrupted process ends."""
    env = {**os.environ, "SAFETYNET_PSEUDONYM_KEY": KEY}
    source = _inbox(tmp_path / "source")
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    for root in (reference, killed):
        shutil.copytree(source, root / "inbox")
    started = time.perf_counter()
    assert _run(reference, {**env, "SAFETYNET_LANDING_WORKERS": "1"}).wait(timeout=300) == 0
    env["SAFETYNET_LANDING_WORKERS"] = str(workers)
    duration = time.perf_counter() - started
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"kill moments drawn with seed {seed}")  # shown by pytest when the test fails
    total = _landing_rows(reference)
    partial = []
    for kill in range(KILLS):
        process = _run(killed, env)
        if kill % 2 == 0:  # just after this run landed something: surely midway through the inbox
            _wait_for_progress(killed, process, _landing_rows(killed))
            time.sleep(rng.uniform(0.0, 0.1))  # two workers land the rest of this small inbox in well under 1 s
        else:  # any moment: start-up, archiving, reading, writing, committing (or already done)
            time.sleep(rng.uniform(0.2 * duration, 0.9 * duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        partial.append(_landing_rows(killed))
    assert any(0 < n < total for n in partial), f"no kill interrupted the landing midway: {partial} of {total}"
    assert _run(killed, env).wait(timeout=300) == 0, f"seed {seed}"
    _no_ledger_entry_without_data(killed)
    _assert_same(_state(killed), _state(reference))
    assert debris(DataRoot(killed)) == []
    assert not list((killed / "inbox").rglob("*.csv"))
    assert sorted(p.name for p in (killed / "archive").rglob("*.csv")) == sorted(
        p.name for p in (reference / "archive").rglob("*.csv")
    )
    DataRoot(killed)  # the data root stays usable


PARALLEL = (
    "import sys; from ingestion.landing import land_inbox; from ingestion.settings import DataRoot; "
    "land_inbox(DataRoot.from_env(sys.argv[1]), dataset=sys.argv[2])"
)


def test_parallel_landing_processes_wait_for_each_other(tmp_path: Path) -> None:
    """One landing process per dataset (as the Airflow DAGs run them) on one data root: none fails."""
    env = {**os.environ, "SAFETYNET_PSEUDONYM_KEY": KEY}
    root = tmp_path / "root"
    datasets = ["mz_member", "mz_household", "wjw_death", "mz_payment"]
    for dataset in datasets:
        contract = load_contract(dataset)
        for k, month in enumerate(("20260831", "20260930", "20261031")):
            write_csv(
                root / "inbox" / dataset / f"{dataset}_{month}.csv",
                headers(contract),
                valid_rows(contract, 800, start=1000 * k),
            )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PARALLEL, str(root), d], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for d in datasets
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()[-2000:]
    conn = sqlite3.connect(root / "ledger.sqlite")
    rows = conn.execute("SELECT dataset, status, rows_landed FROM landings").fetchall()
    conn.close()
    assert sorted(rows) == sorted((d, "landed", 800) for d in datasets for _ in range(3))
    deliveries = pl.read_parquet(root / "lake" / "_deliveries.parquet")
    assert deliveries.height == 12 and deliveries.get_column("in_use").all()
    persons = pl.read_parquet(root / "vault" / "persons.parquet")
    assert persons.height == persons.get_column("person_key").n_unique() > 0
