"""No debris: a comparison run killed (SIGKILL) inside each of its steps leaves temporary files — a decoded roster,
a half-written mart, half the county workbooks — that the next run sweeps; the killed runs end `interrupted` in
the ledger, and the run that finally completes leaves nothing behind (test_landing_kill.py kills landing alone)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
from safety_fixtures import RUN_DATES, copy_root, debris, province

from ingestion.settings import DataRoot

RUN_DATE = RUN_DATES[-1]
# A comparison run that kills itself inside one step, after part of the step's work (the step's own code runs:
# only the moment of death is chosen). argv: data root, run date, step.
SCRIPT = r"""
import os, shutil, signal, sys, threading, types, datetime as dt
from ingestion.settings import DataRoot

root, run_date, step = DataRoot.from_env(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), sys.argv[3]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def die_after(owner, name, calls):
    original, seen = getattr(owner, name), [0]
    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        seen[0] += 1
        if seen[0] >= calls:
            die()
        return result
    setattr(owner, name, wrapper)

if step == "state":
    import warehouse.state as m; die_after(m, "verify_state", 1)
elif step == "land":  # right after a GB18030 roster was decoded to UTF-8 in the work folder
    import ingestion.readers as m; die_after(m, "_transcode_gb18030", 1)
elif step == "check":
    import expectations.store as m; die_after(m, "record", 1)
elif step == "build":  # a few seconds into dbt
    import warehouse.build as m
    original = m.invoke_dbt
    def invoke_dbt(*args, **kwargs):
        threading.Timer(4.0, die).start()
        return original(*args, **kwargs)
    m.invoke_dbt = invoke_dbt
elif step == "publish":  # the new mart written under its temporary name, not yet renamed
    import warehouse.publish as m; die_after(m, "_write_copy", 1)
elif step == "docs":  # half the docs copied into the new folder
    import warehouse.dbt_docs as m
    m.shutil = types.SimpleNamespace(rmtree=shutil.rmtree, copyfile=shutil.copyfile)
    die_after(m.shutil, "copyfile", 2)
elif step == "export":  # three workbooks (names and ID numbers) written into the new folder
    import warehouse.exports.run as m; die_after(m, "write_atomically", 3)

from warehouse.run import run_comparison
run_comparison(root, run_date)
"""
STEPS = ("state", "land", "check", "build", "publish", "docs", "export")


def _run(root: DataRoot, step: str) -> int:
    env = {**os.environ, "SAFETYNET_LANDING_WORKERS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root.root), RUN_DATE.isoformat(), step],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    return done.returncode


def _runs(root: DataRoot) -> list[tuple[str, str | None]]:
    con = sqlite3.connect(root.ledger)
    try:
        return con.execute("SELECT status, failed_step FROM runs ORDER BY run_id").fetchall()
    finally:
        con.close()


def _left_by(step: str, root: DataRoot) -> list[str]:
    """What the killed step left behind, by the names each step gives its temporary things."""
    found = debris(root)
    expected = {
        "land": lambda p: p.startswith(".work/") and p.endswith("decoded.csv"),
        "publish": lambda p: p.startswith("published/.monitoring.duckdb."),
        "docs": lambda p: p.startswith("published/.docs."),
        "export": lambda p: p.startswith(f"exports/.{RUN_DATE.isoformat()}."),
    }
    return [p for p in found if expected[step](p)] if step in expected else found


def _gb18030_redelivery(root: DataRoot) -> None:
    """A re-delivery of the biggest CSV of the latest cut-off, in GB18030 with CRLF line ends: new bytes, the same
    rows, and a file the landing decodes into the work folder."""
    con = sqlite3.connect(root.ledger)
    dataset, sha, seq, encoding = con.execute(
        "SELECT dataset, sha256, seq, encoding FROM landings WHERE cutoff_date = ? AND status = 'landed' "
        "AND encoding IN ('utf-8', 'gb18030') ORDER BY rows_landed DESC LIMIT 1",
        (RUN_DATE.isoformat(),),
    ).fetchone()
    con.close()
    data = (root.raw / sha).read_bytes()
    lines = data.decode("utf-8-sig" if encoding == "utf-8" else "gb18030").replace("\r\n", "\n")
    crlf = lines.replace("\n", "\r\n").encode("gb18030")
    (root.inbox / f"{dataset}_{RUN_DATE:%Y%m%d}_{seq + 1}.csv").write_bytes(
        crlf if crlf != data else lines.encode("gb18030")
    )


def test_a_run_killed_in_every_step_leaves_no_debris(tmp_path_factory, tmp_path: Path) -> None:
    root = copy_root(province(tmp_path_factory), tmp_path / "data")
    _gb18030_redelivery(root)
    before = len(_runs(root))
    for n, step in enumerate(STEPS):
        assert _run(root, step) == -9, f"the run did not die in {step}"
        assert _runs(root)[-1][0] in ("running", "publishing"), step  # as the killed process left it
        if step in ("land", "publish", "docs", "export"):
            assert _left_by(step, root), f"killed in {step}, but nothing was left to sweep: {debris(root)}"
        assert [s for s, _ in _runs(root)[before : before + n]] == ["interrupted"] * n  # earlier kills marked
    assert _run(root, "none") == 0
    assert debris(root) == []
    assert [s for s, _ in _runs(root)[before:]] == ["interrupted"] * len(STEPS) + ["succeeded"]
    with duckdb.connect(str(root.published / "monitoring.duckdb"), read_only=True) as con:
        published = con.sql("SELECT status FROM ledger_runs ORDER BY run_id").fetchall()
    assert [s for (s,) in published][before:] == ["interrupted"] * len(STEPS) + ["publishing"]
    folder = root.exports / RUN_DATE.isoformat()
    assert any(p.name.endswith(".xlsx") for p in folder.iterdir())
    assert not [p for p in root.exports.iterdir() if p.name.startswith(".")]
    assert Path(root.published / "docs" / "static_index.html").is_file()
