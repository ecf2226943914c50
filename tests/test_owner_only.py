"""Owner-only personal data: raw/, archive/, .work/, the vault, the quarantine, the secret and the county workbooks
are 700/600 however the umask was set (the province is made under umask 000), and another local user can read
none of it; the published mart is 0444 in a folder only its owner may write, readable by that user read-only and
not changeable even by a plain connection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from safety_fixtures import province, world_traversable_copy

from ingestion.private import PLACES
from ingestion.settings import DataRoot

NOBODY = 65534
PRIVATE_PLACES = ("raw", "archive", "vault", "quarantine", "secrets", "exports")


def _modes(base: Path) -> dict[str, int]:
    return {p.relative_to(base).as_posix(): p.lstat().st_mode & 0o777 for p in [base, *base.rglob("*")]}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> DataRoot:
    return province(tmp_path_factory)


def test_personal_data_is_owner_only_whatever_the_umask(root: DataRoot) -> None:
    assert set(PRIVATE_PLACES) - {"vault"} <= set(PLACES)  # the vault's modes are set by ingestion.vault itself
    for place in PRIVATE_PLACES:
        modes = _modes(root.root / place)
        assert len(modes) > 1, place
        wrong = {
            path: oct(mode)
            for path, mode in modes.items()
            if mode != (0o700 if (root.root / place / path).is_dir() else 0o600)
        }
        assert wrong == {}, place
    work = root.root / ".work"
    assert not work.exists() or work.stat().st_mode & 0o777 == 0o700
    assert any(p.name.endswith(".xlsx") for p in (root.exports / "2026-10-31").iterdir())


def test_the_published_mart_is_read_only_in_a_folder_only_its_owner_writes(root: DataRoot) -> None:
    mart = root.published / "monitoring.duckdb"
    assert mart.stat().st_mode & 0o777 == 0o444
    assert root.published.stat().st_mode & 0o777 == 0o755


READ = """
import sys
from pathlib import Path
for name in sys.argv[1:]:
    try:
        Path(name).read_bytes()
        print("read", name)
    except PermissionError:
        print("refused", name)
"""
MART = """
import sys, duckdb
mart = sys.argv[1]
with duckdb.connect(mart, read_only=True) as con:
    print("warnings", con.execute("select count(*) from fct_warnings").fetchone()[0])
try:
    con = duckdb.connect(mart)
    con.execute("delete from fct_warnings")
    con.close()
    print("changed")
except duckdb.Error as err:
    print("unchanged", type(err).__name__)
"""


def _interpreter_for_nobody() -> tuple[list[str], dict[str, str]]:
    """This interpreter if the other user may run it, else the system's Python 3.11 with this environment's
    packages (this one may live in a home folder only root can enter)."""
    site = next(p for p in sys.path if p.endswith("site-packages"))
    for command, env in (([sys.executable], {}), (["/usr/bin/python3.11"], {"PYTHONPATH": site})):
        try:
            probe = subprocess.run(
                [*command, "-c", "import duckdb"], user=NOBODY, group=NOBODY, extra_groups=[],
                env={**os.environ, **env}, capture_output=True, timeout=60,
            )  # fmt: skip
        except (PermissionError, FileNotFoundError):
            continue
        if probe.returncode == 0:
            return command, env
    pytest.skip("no Python interpreter with duckdb that another user may run")


def _as_nobody(script: str, *args: str) -> list[str]:
    command, env = _interpreter_for_nobody()
    done = subprocess.run(
        [*command, "-c", script, *args],
        user=NOBODY, group=NOBODY, extra_groups=[], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=120, cwd="/",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")[:-1]


@pytest.mark.skipif(os.geteuid() != 0, reason="running as another user needs root")
def test_another_local_user_reads_the_mart_and_nothing_personal(root: DataRoot) -> None:
    with world_traversable_copy(root) as copy:
        personal = [
            next(copy.raw.iterdir()),
            next(p for p in (copy.root / "archive").rglob("*") if p.is_file()),
            copy.vault / "persons.parquet",
            next(copy.quarantine.rglob("*.parquet")),
            copy.secrets / "pseudonym.key",
            next((copy.exports / "2026-10-31").glob("*.xlsx")),
        ]
        readable = copy.root / "truth" / "manifest.json"  # the control: this user can enter the data root
        os.chmod(readable, 0o644)
        lines = _as_nobody(READ, str(readable), *map(str, personal))
        assert lines == [f"read {readable}"] + [f"refused {p}" for p in personal]
        mart = copy.published / "monitoring.duckdb"
        before = mart.read_bytes()
        said = _as_nobody(MART, str(mart))
        assert said[0].startswith("warnings ") and int(said[0].split()[1]) > 0
        assert said[1].startswith("unchanged")
        assert mart.read_bytes() == before
