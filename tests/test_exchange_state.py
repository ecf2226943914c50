"""Pulls from an exchange database (PostgreSQL, started here) under the same guards as delivered files: the state
check sees a pulled delivery's lake file, `safetynet rebuild` lands it again from its raw Parquet copy byte for
byte, a pull refuses a secret other than the one its deliveries were keyed with, and a pull's landing waits for
the landing lock like a file's."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import threading
import time
from pathlib import Path

import exchange_support
import pytest
from bad_inputs.factory import valid_rows
from exchange_support import CONNECTION, reader_url, write_secret, write_source

from ingestion import ledger
from ingestion.contracts import load_contract
from ingestion.exchange import pull_dataset
from ingestion.landing import landing_lock
from ingestion.settings import PSEUDONYM_KEY_ENV, DataRoot
from ingestion.state import BrokenState
from warehouse.rebuild import rebuild
from warehouse.state import verify_state

pytestmark = pytest.mark.xdist_group("exchange_state")
pg = exchange_support.pg  # the module's PostgreSQL server (a fixture)

DEATH, MEMBER = load_contract("wjw_death"), load_contract("mz_member")
SEP, OCT = dt.date(2026, 9, 30), dt.date(2026, 10, 31)
DEATH_COLUMNS = [c.header for c in DEATH.columns] + ["updated_at"]
MEMBER_COLUMNS = [c.header for c in MEMBER.columns] + ["sjjzrq"]


def _sql_text(value: object) -> str:
    return "null" if value is None else "'" + str(value).replace("'", "''") + "'"


def _insert(server, table: str, columns: list[str], rows: list[list[object]]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    server.psql(f"insert into {table} ({names}) values " + ", ".join(f"({', '.join(map(_sql_text, r))})" for r in rows))


def _table(server, name: str, columns: list[str], types: dict[str, str]) -> str:
    table = f"qzk.{name}"
    body = ", ".join(f'"{c}" {types.get(c, "text")}' for c in columns)
    server.psql(f"drop table if exists {table}; create table {table} ({body});")
    return table


def _deaths(server, start: int, n: int, moment: dt.datetime) -> list[list[object]]:
    return [[*row, moment.isoformat(sep=" ")] for row in valid_rows(DEATH, n, start=start)]


def _root(base: Path, server, deaths: str, members: str | None = None) -> DataRoot:
    root = DataRoot(base / "root")
    write_source(root, "wjw_death", f"connection: {CONNECTION}\ntable: {deaths}\nwatermark: updated_at\n")
    if members is not None:
        write_source(root, "mz_member", f"connection: {CONNECTION}\ntable: {members}\ncutoff_column: sjjzrq\n")
    write_secret(root, {CONNECTION: reader_url(server)})
    return root


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).as_posix().startswith(("_reference/", "_state/"))
    }


def _ledger(root: DataRoot, sql: str) -> list[tuple]:
    with ledger.open_ledger(root) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def test_rebuild_lands_pulled_deliveries_again_from_their_raw_parquet(
    tmp_path: Path, pg, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "a1" * 32)
    deaths = _table(pg, "state_deaths", DEATH_COLUMNS, {"updated_at": "timestamp"})
    members = _table(pg, "state_members", MEMBER_COLUMNS, {})
    root = _root(tmp_path, pg, deaths, members)
    first = _deaths(pg, 0, 4, dt.datetime(2026, 10, 2, 9))
    first[1][2] = "370102199001011235"  # a wrong check digit: quarantined
    _insert(pg, deaths, DEATH_COLUMNS, first)
    _insert(pg, members, MEMBER_COLUMNS, [[*r, "20260930"] for r in valid_rows(MEMBER, 5)])
    pull_dataset(root, "wjw_death", OCT)
    pull_dataset(root, "mz_member", SEP)
    _insert(pg, deaths, DEATH_COLUMNS, _deaths(pg, 10, 2, dt.datetime(2026, 10, 20, 8)))  # a second increment
    _insert(pg, members, MEMBER_COLUMNS, [[*r, "20261031"] for r in valid_rows(MEMBER, 6, start=40)])
    pull_dataset(root, "wjw_death", OCT)
    pull_dataset(root, "mz_member", OCT)
    names = [name for (name,) in _ledger(root, "SELECT file_name FROM landings WHERE status = 'landed'")]
    assert len(names) == 4 and all(n.startswith(f"db:{CONNECTION}/") for n in names)
    assert _ledger(root, "SELECT count(*) FROM state WHERE kind = 'quarantine'") == [(1,)]
    lake, quarantine = _files(root.lake), _files(root.quarantine)
    persons = hashlib.sha256((root.vault / "persons.parquet").read_bytes()).hexdigest()
    pulls = _ledger(root, "SELECT * FROM pulls ORDER BY landing_id")
    verify_state(root)

    shutil.rmtree(root.lake)
    shutil.rmtree(root.quarantine)
    (root.vault / "persons.parquet").unlink()
    with pytest.raises(BrokenState, match=r"lake files? missing .*safetynet rebuild"):
        verify_state(root)  # a run would stop here, before pulling or building anything

    summary = rebuild(root)
    assert (summary.relanded.deliveries, summary.relanded.changed, summary.run_date) == (4, [], None)
    assert _files(root.lake) == lake  # byte for byte, `_deliveries.parquet` (in use, held) included
    assert _files(root.quarantine) == quarantine
    assert hashlib.sha256((root.vault / "persons.parquet").read_bytes()).hexdigest() == persons
    assert _ledger(root, "SELECT * FROM pulls ORDER BY landing_id") == pulls  # the watermarks did not move
    verify_state(root)
    assert pull_dataset(root, "wjw_death", OCT).status == "nothing_new"  # nothing pulled twice after a rebuild


def test_a_pull_with_another_secret_is_refused_and_lands_nothing(
    tmp_path: Path, pg, monkeypatch: pytest.MonkeyPatch
) -> None:
    deaths = _table(pg, "secret_deaths", DEATH_COLUMNS, {"updated_at": "timestamp"})
    root = _root(tmp_path, pg, deaths)
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "b2" * 32)
    _insert(pg, deaths, DEATH_COLUMNS, _deaths(pg, 0, 2, dt.datetime(2026, 10, 3)))
    pull_dataset(root, "wjw_death", OCT)
    before = _ledger(root, "SELECT * FROM pulls")
    _insert(pg, deaths, DEATH_COLUMNS, _deaths(pg, 5, 2, dt.datetime(2026, 10, 4)))
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "c3" * 32)  # not the key the first pull was keyed with
    with pytest.raises(BrokenState, match="not the one the landed deliveries were keyed with"):
        pull_dataset(root, "wjw_death", OCT)
    assert _ledger(root, "SELECT * FROM pulls") == before  # the watermark stays: the rows come with the right key
    assert _ledger(root, "SELECT count(*) FROM landings") == [(1,)]


def test_a_pull_lands_only_when_the_landing_lock_is_free(tmp_path: Path, pg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "d4" * 32)
    deaths = _table(pg, "lock_deaths", DEATH_COLUMNS, {"updated_at": "timestamp"})
    root = _root(tmp_path, pg, deaths)
    _insert(pg, deaths, DEATH_COLUMNS, _deaths(pg, 0, 3, dt.datetime(2026, 10, 5)))
    outcome: list = []
    with landing_lock(root):  # another landing (a file, a run's landing, a rebuild) holds the lock
        puller = threading.Thread(target=lambda: outcome.append(pull_dataset(root, "wjw_death", OCT)))
        puller.start()
        staged: list[Path] = []
        deadline = time.monotonic() + 120
        while not staged and time.monotonic() < deadline:  # the rows are read and staged, then the landing waits
            staged = list((root.root / ".work").glob("*/pulls/*.parquet"))
            time.sleep(0.1)
        assert staged, "the pull never staged its rows"
        time.sleep(1.0)
        assert puller.is_alive() and _ledger(root, "SELECT count(*) FROM landings") == [(0,)]
    puller.join(timeout=120)
    assert [r.rows_landed for r in outcome[0].landings] == [3]
    assert not list((root.root / ".work").rglob("*.parquet"))  # the staged copy left with its pull
