"""Every command, given what a user mistypes: one clear line on stderr, exit code 2, nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from test_export_mart_fixture import build

from ingestion.settings import DataRoot
from warehouse import guards
from warehouse.cli import main
from warehouse.run import start_run


@pytest.fixture
def roots(tmp_path):
    """A data root with a published mart of 2026-10-31 and a ledger run of that date; an empty folder."""
    root = DataRoot(tmp_path / "data")
    build(root)
    start_run(root, dt.date(2026, 10, 31))
    empty = tmp_path / "empty"
    empty.mkdir()
    return root, empty


def _mistakes(root: DataRoot, empty, tmp_path) -> list[tuple[list[str], str]]:
    data = ["--data", str(root.root)]
    missing = str(tmp_path / "typo")
    return [
        # run: the date, the data root, going back in time, the engine, the inbox
        (["run", "--date", "2026-13-01", *data], "not a date"),
        (["run", "--date", "31/10/2026", *data], "not a date"),
        (["run", "--date", "2026-10-15", *data], "not a month end"),
        (["run", "--date", "2099-12-31", *data], "in the future"),
        (["run", "--date", "2026-09-30", *data], "--rerun"),
        (["run", "--date", "2026-10-31", "--data", missing], "does not exist"),
        (["run", "--date", "2026-10-31", "--data", str(empty)], "does not look like a safetynet data root"),
        (["run", "--date", "2026-10-31", "--engine", "oracle", *data], "unknown engine"),
        (["run", "--date", "2026-10-31", "--inbox", missing, *data], "not a folder"),
        (["run", *data], "Missing option '--date'"),
        # export: before any run, of a date never run
        (["export", "--date", "2026-10-31", "--data", str(empty)], "does not look like"),
        (["export", "--date", "2026-09-30", *data], "not 2026-09-30"),
        (["export", "--date", "2026-02-30", *data], "not a date"),
        # rebuild: the data root, the engine
        (["rebuild", "--data", missing], "does not exist"),
        (["rebuild", "--engine", "oracle", *data], "unknown engine"),
        # land, pull, check, feedback, identify, simulate, generate
        (["land", "--data", missing], "does not exist"),
        (["land", "--dataset", "mz_famliy", *data], "not a dataset"),
        (["pull", "--dataset", "ybj_setlement", *data], "not a dataset"),
        (["pull", "--cutoff", "2026/10/31", *data], "not a date"),
        (["check", "--release", "x.csv", *data], "--release needs --by"),
        (["check", "--release", "nothing.csv", "--by", "王", "--note", "ok", *data], "nothing.csv"),
        (["feedback", str(tmp_path / "returned.xlsx"), *data], "does not exist"),
        (["identify", "--date", "2026-10-31", "--data", missing], "does not exist"),
        (["simulate", "--set", "W01.amount=abc", *data], "not a number"),
        (["simulate", "--set", "W99.amount=1", *data], "unknown parameter"),
        (["simulate", "--set", "W01.amount=1", "--county", "济南", *data], "6-digit county code"),
        (["generate", "--run-date", "2026-10-32", "--data", missing], "not a date"),
        (["generate", "--households", "0", "--data", missing], "at least 1"),
        (["no-such-command"], "No such command"),
    ]


def test_each_mistake_is_one_line_and_exit_code_2(roots, tmp_path, capsys):
    root, empty = roots
    ledger_before = root.ledger.read_bytes()
    for argv, expected in _mistakes(root, empty, tmp_path):
        code = main(argv)
        out, err = capsys.readouterr()
        said = err.strip()
        assert code == 2, f"{argv}: exit {code}\n{out}{err}"
        assert "Traceback" not in out + err, f"{argv}: traceback\n{err}"
        assert len(said.splitlines()) == 1, f"{argv}: not one line:\n{said}"
        assert expected in said, f"{argv}: {said!r} does not say {expected!r}"
        assert not out.strip(), f"{argv}: printed {out!r} besides the error"
    assert root.ledger.read_bytes() == ledger_before  # nothing was run
    assert not (tmp_path / "typo").exists()  # a mistyped --data is never created


def test_init_creates_a_data_root_and_a_rerun_is_allowed_on_purpose(roots, tmp_path):
    root, _ = roots
    fresh = guards.data_root(tmp_path / "new", init=True)
    assert fresh.inbox.is_dir()
    assert guards.data_root(tmp_path / "new") == fresh  # now it looks like a data root
    guards.refuse_going_back(root, dt.date(2026, 9, 30), rerun=True)  # allowed with --rerun
    guards.refuse_going_back(root, dt.date(2026, 10, 31), rerun=False)  # the same date again: allowed
    guards.refuse_going_back(root, dt.date(2026, 11, 30), rerun=False)  # later: allowed


def test_run_dates_are_month_ends_not_in_the_future():
    today = dt.date(2026, 11, 3)
    assert guards.run_date("2026-10-31", today) == dt.date(2026, 10, 31)
    assert guards.run_date("2024-02-29", today) == dt.date(2024, 2, 29)
    for text, reason in (("2026-11-30", "in the future"), ("2026-02-28x", "not a date"), ("2025-02-27", "month end")):
        with pytest.raises(guards.UserError, match=reason):
            guards.run_date(text, today)


def test_help_and_a_platform_failure_are_not_user_errors(roots, capsys, monkeypatch):
    assert main(["--help"]) == 0
    capsys.readouterr()
    root, _ = roots

    def broken(*args, **kwargs):
        raise RuntimeError("disk full\nsecond line")

    monkeypatch.setattr("warehouse.exports.export_run", broken)
    assert main(["export", "--date", "2026-10-31", "--data", str(root.root)]) == 1
    said = capsys.readouterr().err.strip()
    assert said == "safetynet failed: RuntimeError: disk full second line (--verbose shows where)"


def test_a_refusal_is_one_line_with_its_own_exit_code(roots, capsys, monkeypatch):
    """Busy (another run, a mart held open for writing): 3; a broken state (a lost lake): 4 (docs/operating.md)."""
    from ingestion.state import BrokenState
    from warehouse.exports.mart import MartBusy
    from warehouse.run import RunBusy

    root, _ = roots
    refusals = ((RunBusy("another run is in progress"), 3), (MartBusy("held open"), 3), (BrokenState("lost"), 4))
    for error, code in refusals:

        def refuse(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr("warehouse.exports.export_run", refuse)
        assert main(["export", "--date", "2026-10-31", "--data", str(root.root)]) == code, error
        out, err = capsys.readouterr()
        assert (out, err.strip()) == ("", f"safetynet: {error}")
