"""Helpers (no tests) for the safety tests: a small province run twice, copies of it, scans for leaked text.

The province (120 households, the generator's bad deliveries: held back by the checks, and its re-deliveries) is
made once per test session under umask 000 (the owner-only places must not depend on the umask) and run twice:
at 2026-09-30 with the deliveries up to then, and at 2026-10-31 with the rest, both with workbooks. Tests that
change it work on a copy.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
from test_build_support import session_dir, shared_root

from ingestion.settings import DataRoot

HOUSEHOLDS = 120
RUN_DATES = (dt.date(2026, 9, 30), dt.date(2026, 10, 31))
MART_TABLES = ("fct_warnings", "fct_identification", "fct_assistance_chain", "dim_household", "dim_person",
               "mart_household_monitoring")  # fmt: skip
# names temporary files and folders are given (ingestion/scratch.py), and earlier versions' names
TEMP_NAME = re.compile(r"(\.tmp(\.|$))|(^\.tmp-)|(\.old$)")


def make_province(root: DataRoot) -> None:
    from synthetic import generate_province
    from warehouse.run import run_comparison

    old = os.umask(0)
    try:
        generate_province(
            root, households=HOUSEHOLDS, months=12, run_date=RUN_DATES[-1], bad_deliveries=True, overwrite=True,
            check_truth=False,
        )  # fmt: skip
        later = root.root / "later"
        for path in sorted(p for p in root.inbox.rglob("*") if p.is_file()):
            if re.search(r"_2026(10|11)\d\d", path.name):
                target = later / path.relative_to(root.inbox)
                target.parent.mkdir(parents=True, exist_ok=True)
                path.rename(target)
        run_comparison(root, RUN_DATES[0], docs=False)
        shutil.copytree(later, root.inbox, dirs_exist_ok=True)
        shutil.rmtree(later)
        run_comparison(root, RUN_DATES[1], docs=False)
    finally:
        os.umask(old)


def province(tmp_path_factory) -> DataRoot:
    """The shared province (read it only)."""
    return shared_root(session_dir(tmp_path_factory.getbasetemp()), "safety_province", make_province)


def copy_root(source: DataRoot, target: Path) -> DataRoot:
    shutil.copytree(source.root, target, symlinks=True)
    return DataRoot(target)


@contextmanager
def world_traversable_copy(source: DataRoot) -> Iterator[DataRoot]:
    """A copy in a folder another user can enter (pytest's own folders are owner-only), removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="safetynet-other-user-", dir="/tmp"))
    os.chmod(base, 0o755)
    try:
        root = copy_root(source, base / "data")
        os.chmod(root.root, 0o755)
        yield root
    finally:
        shutil.rmtree(base, ignore_errors=True)


def ledger_dump(root: DataRoot) -> str:
    con = sqlite3.connect(root.ledger)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


def mart_tables(path: Path, tables: tuple[str, ...] = MART_TABLES) -> dict[str, pl.DataFrame]:
    """Tables of a DuckDB file, each sorted by all its columns (row-for-row comparison)."""
    with duckdb.connect(str(path), read_only=True) as con:
        frames = {name: con.sql(f'select * from "{name}"').pl() for name in tables}
    return {name: frame.sort(frame.columns, nulls_last=True) for name, frame in frames.items()}


def debris(root: DataRoot) -> list[str]:
    """Temporary files or folders anywhere under the data root, and anything left in `.work/` but its locks."""
    found = [p.relative_to(root.root).as_posix() for p in root.root.rglob("*") if TEMP_NAME.search(p.name)]
    found += [p.relative_to(root.root).as_posix() for p in root.root.rglob("decoded.csv")]
    work = root.root / ".work"
    if work.is_dir():  # `.work/locks/` holds lock files shared by processes (empty: no debris)
        found += [p.relative_to(root.root).as_posix() for p in work.iterdir() if p.name != "locks"]
    return sorted(set(found))


def files_holding(base: Path, texts: list[str], skip: tuple[str, ...] = ()) -> list[str]:
    """Files under `base` (not under the `skip` folders) whose bytes hold any of `texts` (UTF-8 or GB18030)."""
    needles = {t.encode(enc) for t in texts if t for enc in ("utf-8", "gb18030")}
    hits = []
    for path in base.rglob("*"):
        rel = path.relative_to(base).as_posix()
        if not path.is_file() or path.is_symlink() or rel.split("/")[0] in skip:
            continue
        data = path.read_bytes()
        if any(n in data for n in needles):
            hits.append(rel)
    return sorted(hits)
