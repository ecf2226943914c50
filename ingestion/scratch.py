"""Temporary files, and the debris a killed process leaves behind.

Every temporary thing the platform writes belongs to one process and says which: work files live under
`.work/<owner>/` (one folder per run or landing process, owner-only), and a file written under a temporary name
beside its target (to be renamed into place: a rename is atomic only within one file system) is named
`.<target name>.<owner>.<random>.tmp`. `<owner>` is the process id and its start time, so a later process can
tell a live owner from a dead one even when the id has been reused. `sweep(root)` removes what dead owners left:
it runs when a run or a landing starts and when a mart is published, so a decoded copy of a roster never
outlives the step that made it by more than the next start.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingestion.private import private_dir
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

WORK = ".work"
# `.<name>.<pid>-<start ticks>.<hex>.tmp`, and DuckDB's write-ahead log beside such a file
_OWNED = re.compile(r"\.(?P<pid>\d+)-(?P<ticks>\d+)\.[0-9a-f]+\.tmp(?:\.wal)?$")
# names earlier versions gave temporary files: `.<name>.<uuid hex>.tmp`, `.tmp-<uuid hex>` (raw/),
# `.<name>.<pid>.tmp[.xlsx|.wal]` (mart, docs, report, workbooks): their owner can only be told by its pid
_LEGACY_ANONYMOUS = re.compile(r"(^\.tmp-[0-9a-f]{32}$)|(\.[0-9a-f]{32}\.tmp$)")
_LEGACY_PID = re.compile(r"^\..+\.(?P<pid>\d+)\.(?:tmp|old)(?:\.xlsx|\.wal)?$")
# the places under the data root where temporary names appear (the inbox is the departments', never touched)
SWEPT = ("raw", "archive", "lake", "quarantine", "secrets", "published", "exports")  # the vault sweeps itself
# `.work/locks/`: lock files shared by processes (a lock file holds nothing; removing a held one would break it)
LOCKS = "locks"


def _start_ticks(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, /proc/<pid>/stat field 22), None if it is gone. A zombie
    (state Z: ended, not yet reaped — a killed landing's worker whose new parent does not reap) is gone too."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def owner() -> str:
    """This process as `<pid>-<start ticks>`."""
    pid = os.getpid()
    return f"{pid}-{_start_ticks(pid) or 0}"


def is_alive(token: str) -> bool:
    """Whether the process an owner token names is still running (the same process, not a reused id)."""
    pid, _, ticks = token.partition("-")
    if not pid.isdigit():
        return False
    found = _start_ticks(int(pid))
    if found is None:
        return _pid_exists(int(pid)) if ticks == "0" else False
    return ticks in (found, "0")


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_path(target: Path) -> Path:
    """A temporary name beside `target`, owned by this process (renamed into place, or swept once it is gone)."""
    return target.with_name(f".{target.name}.{owner()}.{uuid.uuid4().hex[:16]}.tmp")


# ---------------------------------------------------------------- the work folder of a process

_HELD: dict[tuple[int, Path], int] = {}  # (pid, data root) → nesting depth of work_dir
_HELD_LOCK = threading.Lock()


def work_path(root: DataRoot) -> Path:
    return root.root / WORK / owner()


@contextmanager
def work_dir(root: DataRoot) -> Iterator[Path]:
    """This process's work folder under the data root (owner-only), removed when the outermost use ends.

    Nested uses (a run, then its landing, then the vault's compaction) share one folder; the first one sweeps
    what dead processes left behind.
    """
    key = (os.getpid(), root.root)
    with _HELD_LOCK:
        outermost = _HELD.get(key, 0) == 0
        _HELD[key] = _HELD.get(key, 0) + 1
    try:
        if outermost:
            sweep(root)
        yield private_dir(work_path(root), place=root.root / WORK)
    finally:
        with _HELD_LOCK:
            _HELD[key] -= 1
            last = _HELD[key] == 0
            if last:
                del _HELD[key]
        if last:
            shutil.rmtree(work_path(root), ignore_errors=True)


def lock_path(root: DataRoot, name: str) -> Path:
    """`.work/locks/<name>.lock`: a lock shared by the processes of a data root (never swept)."""
    return private_dir(root.root / WORK / LOCKS, place=root.root / WORK) / f"{name}.lock"


# ---------------------------------------------------------------- sweeping


def sweep(root: DataRoot) -> list[Path]:
    """Remove the work folders and temporary files whose owner process is gone; returns what was removed."""
    removed = _sweep_work(root.root / WORK)
    for place in SWEPT:
        removed += sweep_folder(root.root / place, recursive=place not in ("raw", "archive"))
    for path in removed:
        log.info("removed debris of a stopped process: %s", path.relative_to(root.root))
    return removed


def _sweep_work(work: Path) -> list[Path]:
    if not work.is_dir():
        return []
    removed = []
    for entry in work.iterdir():
        if entry.name == LOCKS or (entry.is_dir() and not entry.is_symlink() and is_alive(entry.name)):
            continue
        _remove(entry)
        removed.append(entry)
    return removed


def sweep_folder(folder: Path, recursive: bool = True) -> list[Path]:
    """Temporary files and folders of dead owners in `folder` (and below it)."""
    if not folder.is_dir():
        return []
    removed = []
    for entry in list(folder.iterdir()):
        if _is_debris(entry.name):
            _remove(entry)
            removed.append(entry)
        elif recursive and entry.is_dir() and not entry.is_symlink():
            removed += sweep_folder(entry)
    return removed


def _is_debris(name: str) -> bool:
    if not name.startswith("."):
        return False
    owned = _OWNED.search(name)
    if owned:
        return not is_alive(f"{owned['pid']}-{owned['ticks']}")
    if _LEGACY_ANONYMOUS.search(name):
        return True
    legacy = _LEGACY_PID.match(name)
    return bool(legacy) and not _pid_exists(int(legacy["pid"]))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
