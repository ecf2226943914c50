"""What the command line refuses before it does anything: the user's mistakes, said in one line.

A `UserError` is a mistake in what was typed (a date that is not a month end, a data root that does not
exist, a run date earlier than the register already holds); the CLI prints its message on one line and
exits with code 2. The platform's own exceptions that are really the user's mistake (no published mart
yet, a mart built for another date, an unknown simulation parameter, a bad reference file, …) are listed
in USER_ERRORS and treated the same way, without those modules knowing about the command line.

A *refusal* is neither a typing mistake nor a failure: the command did nothing because of the state it found,
and says so in one line with an exit code of its own (REFUSALS), so that a script or a scheduler can tell
"try again later" (3: another run holds the data root, an analyst holds the mart open for writing) from "repair
first" (4: something the ledger records is missing or changed; docs/operating.md).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
from pathlib import Path

from ingestion.dates import china_today, month_end
from ingestion.settings import DATA_ROOT_ENV, DataRoot

# what a data root holds once anything has used it (ingestion/settings.py); one of them is enough
DATA_ROOT_MARKERS = ("inbox", "ledger.sqlite", "lake", "published", "raw", "reference", "exports", "secrets", "truth")

# exceptions of other modules that report a user's mistake: module → class names (looked up only when
# raised, so the CLI imports none of these modules to recognise them)
USER_ERRORS: dict[str, tuple[str, ...]] = {
    "warehouse.exports.mart": ("MartMissing", "WrongRun"),
    "warehouse.identify": ("IdentificationUnavailable",),
    "warehouse.simulate": ("SimulationError",),
    "warehouse.lock": ("WarehouseBusy",),
    "expectations.runner": ("ReleaseError",),
    "ingestion.reference": ("ReferenceError",),
    "synthetic.generate": ("GenerationError",),
}


EXIT_BUSY, EXIT_BROKEN_STATE = 3, 4
REFUSALS: dict[str, dict[str, int]] = {
    "warehouse.run": {"RunBusy": EXIT_BUSY},
    "warehouse.exports.mart": {"MartBusy": EXIT_BUSY},
    "ingestion.state": {"BrokenState": EXIT_BROKEN_STATE},
}


class UserError(Exception):
    """A mistake in the command's input: one line for the user, exit code 2."""


def is_user_error(error: BaseException) -> bool:
    if isinstance(error, UserError):
        return True
    for module_name, class_names in USER_ERRORS.items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        classes = tuple(getattr(module, name) for name in class_names if hasattr(module, name))
        if classes and isinstance(error, classes):
            return True
    return False


def refusal_code(error: BaseException) -> int | None:
    """The exit code of a refusal (REFUSALS), None for anything else."""
    for module_name, codes in REFUSALS.items():
        module = sys.modules.get(module_name)
        for name, code in codes.items():
            cls = getattr(module, name, None) if module is not None else None
            if cls is not None and isinstance(error, cls):
                return code
    return None


def one_line(error: BaseException) -> str:
    """The error's message on one line (a multi-line message keeps its first line and the rest joined)."""
    text = str(error.args[0]) if len(error.args) == 1 else str(error)
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip()) or type(error).__name__


# --- dates -------------------------------------------------------------------------------------------


def parse_date(text: str, option: str = "--date") -> dt.date:
    """A YYYY-MM-DD date, or a UserError naming the option and what is wrong with the value."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as err:
        raise UserError(f"{option} {text!r} is not a date (YYYY-MM-DD): {err}") from None


def run_date(text: str, today: dt.date | None = None) -> dt.date:
    """A comparison run's date: a month end, not in the future (China time).

    Rules count months (trailing 12 months, W03's gap months, W06's payment months) and deadlines from the
    run date; a mid-month run would raise, then resolve, warnings that a month-end run never sees.
    """
    day = parse_date(text)
    if day != month_end(day):
        raise UserError(
            f"--date {day} is not a month end: a comparison run is made as of the last day of a month "
            f"(did you mean {month_end(day)}?)"
        )
    today = today or china_today()
    if day > today:
        raise UserError(f"--date {day} is in the future (today is {today} in China): its month has not ended")
    return day


def latest_recorded_run(root: DataRoot) -> dt.date | None:
    """The latest run date of the ledger (its `runs` table, else the saved warning registers)."""
    if not root.ledger.exists():
        return None
    found: list[str] = []
    con = sqlite3.connect(f"file:{root.ledger}?mode=ro", uri=True, timeout=30)
    try:
        for table in ("runs", "warning_register"):
            try:
                row = con.execute(f"SELECT max(run_date) FROM {table}").fetchone()
            except sqlite3.Error:
                continue  # that table does not exist (yet)
            if row and row[0]:
                found.append(str(row[0])[:10])
    finally:
        con.close()
    return dt.date.fromisoformat(max(found)) if found else None


def refuse_going_back(root: DataRoot, day: dt.date, rerun: bool) -> None:
    """A run before the latest recorded one rewrites that month's register and republishes the past: only
    on purpose (`--rerun`, README "Rerunning a month")."""
    latest = latest_recorded_run(root)
    if latest is not None and day < latest and not rerun:
        raise UserError(
            f"--date {day} is before the latest run ({latest}): add --rerun to rebuild {day} on purpose "
            f"(it replaces {day}'s register and republishes the mart as of {day}), or run {latest} or later"
        )


# --- the data root -----------------------------------------------------------------------------------


def data_root(path: Path | None, init: bool = False) -> DataRoot:
    """The data root the command works on: it must exist and look like one, unless `init` creates it."""
    root = DataRoot.from_env(path)
    origin = "--data" if path is not None else (f"${DATA_ROOT_ENV}" if os.environ.get(DATA_ROOT_ENV) else "default")
    where = f"data root {root.root} ({origin})"
    if root.root.exists() and not root.root.is_dir():
        raise UserError(f"{where} is a file, not a folder")
    if init:
        root.inbox.mkdir(parents=True, exist_ok=True)
        return root
    if not root.root.exists():
        raise UserError(f"{where} does not exist: check the path, or add --init to create a new data root there")
    if not any((root.root / marker).exists() for marker in DATA_ROOT_MARKERS):
        raise UserError(
            f"{where} does not look like a safetynet data root (none of inbox/, lake/, ledger.sqlite, published/): "
            "check the path, or add --init to start a new data root there"
        )
    return root
