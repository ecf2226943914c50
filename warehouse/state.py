"""The state check before a run builds: everything the ledger says must exist is there and unchanged.

`verify_state(root)` checks what landing recorded (every raw, lake and quarantine file, the vault's folded file,
the pseudonymisation secret: ingestion/state.py) and the warning registers saved for earlier runs. A run that finds
any of it missing or changed stops before it builds, with one line naming what is missing and how to repair it:
a lost lake built into a mart would publish no households, close every open warning in the register and replace
the county workbooks of the date with empty ones.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from ingestion import ledger
from ingestion.settings import DataRoot
from ingestion.state import BrokenState, Problem, check_files
from warehouse.register import register_item, saved_warnings

log = logging.getLogger(__name__)

SHOWN = 2  # example items named in the one-line message


def verify_state(root: DataRoot) -> None:
    """Raise BrokenState (one line: what is missing or changed, and the repair) unless everything is in place."""
    problems = check_files(root) + check_registers(root)
    if problems:
        raise BrokenState(describe(problems))
    log.info("state check: everything the ledger records is in place")


def check_registers(root: DataRoot) -> list[Problem]:
    """Each saved register still holds the warnings it was saved with."""
    problems = []
    with ledger.open_ledger(root) as conn:
        for row in ledger.recorded_state(conn):
            if row["kind"] != "register":
                continue
            run_date = dt.date.fromisoformat(row["item"].rsplit("/", 1)[1])
            saved = saved_warnings(conn, run_date)
            if saved != row["size"]:
                what = "missing" if saved == 0 else "changed"
                problems.append(Problem(register_item(run_date), "register", what))
    return problems


def describe(problems: list[Problem]) -> str:
    """One line: counts by kind with an example or two, then the repair."""
    groups = Counter((p.kind, p.what) for p in problems)
    parts = []
    for (kind, what), count in sorted(groups.items()):
        items = [p.item for p in problems if (p.kind, p.what) == (kind, what)][:SHOWN]
        more = ", …" if count > SHOWN else ""
        parts.append(f"{count} {_label(kind, count)} {what} ({', '.join(items)}{more})")
    return f"state check failed, nothing was built or published: {'; '.join(parts)}. {_repair(problems)}"


def _label(kind: str, count: int) -> str:
    label = {"register": "saved register", "secret": "pseudonymisation secret", "persons": "vault file"}.get(
        kind, f"{kind} file"
    )
    return label + ("s" if count > 1 else "")


def _repair(problems: list[Problem]) -> str:
    kinds = {p.kind for p in problems}
    if "secret" in kinds:
        return "Restore secrets/pseudonym.key from a backup; no person key can be made again without it."
    if "raw" in kinds:
        return "Restore raw/ from a backup (the archive of every delivered file), then run `safetynet rebuild`."
    if "register" in kinds:
        return "Restore ledger.sqlite from a backup: a saved warning register cannot be rebuilt."
    return "Run `safetynet rebuild` to restore them from raw/ (the archive of every delivered file)."
