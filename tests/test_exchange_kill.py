"""Kill safety of pulls: a process pulling from the exchange database (PostgreSQL, started here), killed
(SIGKILL) at random moments and rerun to completion, ends exactly where an uninterrupted pull ends: the same
deliveries with the same rows, the same ledger and watermarks; each row landed once."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest
from bad_inputs.factory import valid_rows
from exchange_support import CONNECTION, pg, reader_url, write_secret, write_source  # noqa: F401  (fixture)
from test_landing_kill import _assert_same, _landing_rows, _no_ledger_entry_without_data, _state, _wait_for_progress

from ingestion.contracts import load_contract
from ingestion.settings import DataRoot

pytestmark = pytest.mark.xdist_group("exchange_kill")

KEY = "ef" * 32
KILLS = 5
PER_DAY, ROSTER = 30_000, 10_000
DAYS = ("2026-10-29", "2026-10-30", "2026-10-31")
SCRIPT = (
    "import sys, datetime as dt; from ingestion.exchange import pull_dataset; from ingestion.settings import DataRoot\n"
    "root = DataRoot.from_env(sys.argv[1])\n"
    f"for day in {DAYS!r}:\n"
    "    pull_dataset(root, 'wjw_death', dt.date.fromisoformat(day))\n"
    "pull_dataset(root, 'mz_member', dt.date.fromisoformat(day))\n"
)


def _load(server) -> None:
    """Deaths updated over three days (50,000 a day) and two dated member rosters."""
    import adbc_driver_postgresql.dbapi as adbc

    death, member = load_contract("wjw_death"), load_contract("mz_member")
    rows = valid_rows(death, PER_DAY * 3)
    for row in rows[::101]:
        row[2] = row[2][:-1] + ("0" if row[2][-1] != "0" else "1")  # some check digits wrong: rejections too
    deaths = {c.header: [r[i] for r in rows] for i, c in enumerate(death.columns)}
    day = [dt.datetime.fromisoformat(d) for d in DAYS]
    deaths["updated_at"] = [day[i // PER_DAY] + dt.timedelta(seconds=i % PER_DAY) for i in range(PER_DAY * 3)]
    roster = valid_rows(member, ROSTER)
    members = {c.header: [r[i] for r in roster] * 2 for i, c in enumerate(member.columns)}
    members["sjjzrq"] = [dt.date(2026, 9, 30)] * ROSTER + [dt.date(2026, 10, 31)] * ROSTER
    with adbc.connect(server.url()) as conn, conn.cursor() as cursor:
        cursor.adbc_ingest("kill_deaths", pa.table(deaths), mode="create", db_schema_name="qzk")
        cursor.adbc_ingest("kill_members", pa.table(members), mode="create", db_schema_name="qzk")
        conn.commit()
    server.psql("grant select on all tables in schema qzk to exchange_reader;")


def _prepare(base: Path, server) -> Path:
    root = DataRoot(base)
    write_source(root, "wjw_death", f"connection: {CONNECTION}\ntable: qzk.kill_deaths\nwatermark: updated_at\n")
    write_source(root, "mz_member", f"connection: {CONNECTION}\ntable: qzk.kill_members\ncutoff_column: sjjzrq\n")
    write_secret(root, {CONNECTION: reader_url(server)})
    return base


def _run(root: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(root)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _pulls(root: Path) -> list[tuple]:
    conn = sqlite3.connect(root / "ledger.sqlite")
    rows = conn.execute(
        "SELECT l.file_name, p.dataset, p.source, p.mode, p.watermark_column, p.watermark_from, p.watermark_to, "
        "p.rows_pulled FROM pulls p JOIN landings l ON l.id = p.landing_id ORDER BY l.file_name"
    ).fetchall()
    conn.close()
    return rows


def test_a_killed_pull_reruns_to_the_same_result(tmp_path: Path, pg) -> None:  # noqa: F811
    _load(pg)
    env = {**os.environ, "SAFETYNET_PSEUDONYM_KEY": KEY}
    reference, killed = _prepare(tmp_path / "reference", pg), _prepare(tmp_path / "killed", pg)
    started = time.perf_counter()
    done = _run(reference, env)
    assert done.wait(timeout=600) == 0, done.stderr.read().decode()[-2000:] if done.stderr else ""
    duration = time.perf_counter() - started
    total = _landing_rows(reference)
    assert total == 5  # three days of deaths, two rosters
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"kill moments drawn with seed {seed}")  # shown by pytest when the test fails
    partial = []
    for kill in range(KILLS):
        process = _run(killed, env)
        if kill % 2 == 0:  # just after this run recorded a delivery: surely midway (the next pull is under way)
            _wait_for_progress(killed, process, _landing_rows(killed))
            time.sleep(rng.uniform(0.0, 0.3))
        else:  # any moment: start-up, reading the database, staging, landing, committing (or already done)
            time.sleep(rng.uniform(0.1 * duration, 0.8 * duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        partial.append(_landing_rows(killed))
    assert any(0 < n < total for n in partial), f"no kill fell midway: {partial} of {total} landings"
    final = _run(killed, env)
    assert final.wait(timeout=600) == 0, f"seed {seed}"
    _no_ledger_entry_without_data(killed)
    _assert_same(_state(killed), _state(reference))
    assert _pulls(killed) == _pulls(reference)
    assert not list((killed / ".work").rglob("*.parquet*"))  # nothing staged is left behind, by any process
    conn = sqlite3.connect(killed / "ledger.sqlite")
    counted = conn.execute("SELECT sum(rows_in) FROM landings WHERE dataset = 'wjw_death'").fetchone()[0]
    conn.close()
    assert counted == PER_DAY * 3  # each pulled row counted once: landed or rejected
