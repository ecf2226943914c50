"""The inbox holds files, nothing else: links, FIFOs, devices, names with control characters, hidden names and
anything below a dataset folder are refused with a ledger row and a one-line reason, never followed or read, and
left where they are; a link to the pseudonymisation secret puts the secret nowhere."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from bad_inputs.factory import headers, make_root, valid_rows, write_csv
from safety_fixtures import files_holding, ledger_dump

from ingestion.contracts import load_contract
from ingestion.landing import land_inbox
from ingestion.pseudonymise import load_or_create_key
from ingestion.rawstore import NotARegularFile, archive_raw
from ingestion.settings import DataRoot

MEMBER = load_contract("mz_member")
GOOD = "mz_member_20261031.csv"


def _landings(root: DataRoot) -> list[sqlite3.Row]:
    con = sqlite3.connect(root.ledger)
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM landings ORDER BY id").fetchall()
    finally:
        con.close()


def _land_within(root: DataRoot, seconds: float = 120.0, **kwargs) -> list:
    """Land in a thread: a landing that opened a FIFO would hang forever."""
    results: list = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.extend(land_inbox(root, **kwargs))
        except BaseException as err:  # re-raised in the test
            errors.append(err)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the landing hung (did it open a FIFO?)"
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def inbox_of_oddities(tmp_path: Path) -> tuple[DataRoot, dict[str, str]]:
    """A good delivery plus one entry of each kind the inbox must not hold; returns entry → expected code."""
    root = make_root(tmp_path)
    key_hex = load_or_create_key(root).hex()
    write_csv(root.inbox / GOOD, headers(MEMBER), valid_rows(MEMBER, 3))
    elsewhere = write_csv(tmp_path / "elsewhere" / "mz_household_20261031.csv", ["x"], [["y"]])
    os.symlink(root.secrets / "pseudonym.key", root.inbox / "ybj_settlement_20261031.csv")
    os.symlink(elsewhere, root.inbox / "mz_household_20261031.csv")
    os.symlink(tmp_path / "elsewhere", root.inbox / "mz_payment")  # a dataset folder that is a link
    os.mkfifo(root.inbox / "wjw_death_20261031.csv")
    write_csv(root.inbox / ".mz_member_20260930.csv", headers(MEMBER), valid_rows(MEMBER, 2))
    write_csv(root.inbox / "~$mz_member_20260831.xlsx", ["x"], [["y"]])
    write_csv(root.inbox / "mz_member_20260731\n.csv", headers(MEMBER), valid_rows(MEMBER, 2))
    write_csv(root.inbox / "mz_member_2026\t0630.csv", headers(MEMBER), valid_rows(MEMBER, 2))
    write_csv(root.inbox / "mz_member" / "old" / "mz_member_20260531.csv", headers(MEMBER), valid_rows(MEMBER, 2))
    write_csv(root.inbox / "mz_member" / "old" / "deeper" / "notes.csv", ["x"], [["y"]])
    expected = {
        "ybj_settlement_20261031.csv": "symlink",
        "mz_household_20261031.csv": "symlink",
        "mz_payment": "symlink",
        "wjw_death_20261031.csv": "not_a_file",
        ".mz_member_20260930.csv": "hidden",
        "~$mz_member_20260831.xlsx": "hidden",
        "mz_member_20260731\\n.csv": "control_characters",
        "mz_member_2026\\t0630.csv": "control_characters",
        "mz_member/old/mz_member_20260531.csv": "subfolder",
        "mz_member/old/deeper/notes.csv": "subfolder",
    }
    return root, {"key": key_hex, **expected}


def test_every_entry_that_is_not_a_plain_file_is_refused_unread_and_stays(inbox_of_oddities) -> None:
    root, expected = inbox_of_oddities
    key_hex = expected.pop("key")
    before = {p: p.lstat() for p in root.inbox.rglob("*")}
    results = _land_within(root)
    by_name = {r.file_name: r for r in results}
    assert by_name[GOOD].status == "landed"
    refused = {r.file_name: r.reason_code for r in results if r.status == "refused"}
    assert refused == expected  # every entry counted, each with its reason
    for result in results:
        if result.status == "refused":
            assert result.file_name in result.reason and "\n" not in result.reason
            assert result.rows_in == result.rows_landed == 0 and result.sha256 is None
    # one ledger row each, one line each
    rows = {row["file_name"]: row for row in _landings(root)}
    assert {name for name, row in rows.items() if row["status"] == "refused"} == set(expected)
    assert all("\n" not in (row["reason"] or "") and "\n" not in row["file_name"] for row in rows.values())
    # left where they are, untouched: nothing moved, links not followed (their targets were not archived)
    for path, info in before.items():
        if path.name == GOOD:
            continue
        assert path.lstat().st_mode == info.st_mode and path.lstat().st_ino == info.st_ino, path
    archived = sorted(p.name for p in (root.root / "archive").rglob("*") if p.is_file())
    assert archived == [GOOD]
    assert len(list(root.raw.iterdir())) == 1
    # the secret a link pointed at is nowhere but in secrets/
    assert files_holding(root.root, [key_hex], skip=("secrets",)) == []
    assert key_hex not in ledger_dump(root)


def test_refused_entries_keep_one_ledger_row_each_however_often_they_are_seen(inbox_of_oddities) -> None:
    root, expected = inbox_of_oddities
    expected.pop("key")
    _land_within(root)
    _land_within(root)
    refused = [row["file_name"] for row in _landings(root) if row["status"] == "refused"]
    assert sorted(refused) == sorted(expected)


def test_a_dataset_landing_reports_the_refused_entries_named_after_its_dataset(inbox_of_oddities) -> None:
    root, _ = inbox_of_oddities
    results = _land_within(root, dataset="ybj_settlement")
    assert [(r.file_name, r.status, r.reason_code) for r in results] == [
        ("ybj_settlement_20261031.csv", "refused", "symlink")
    ]


def test_a_device_file_is_refused(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    try:
        os.mknod(root.inbox / "mz_member_20261031.csv", stat.S_IFCHR | 0o600, os.makedev(1, 3))  # like /dev/null
    except PermissionError:
        pytest.skip("creating a device file needs CAP_MKNOD, which this machine does not grant")
    results = _land_within(root)
    assert [(r.status, r.reason_code) for r in results] == [("refused", "not_a_file")]


def test_the_raw_copy_never_follows_a_link_even_one_swapped_in_after_listing(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("not a delivery")
    os.symlink(secret, root.inbox / GOOD)
    with pytest.raises(NotARegularFile):
        archive_raw(root, root.inbox / GOOD)
    assert not root.raw.exists() or not any(root.raw.iterdir())
