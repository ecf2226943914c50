"""Owner-only places: personal data is readable by the platform's own account and nobody else.

`raw/`, `archive/`, `.work/`, the vault, `quarantine/`, `secrets/`, `exports/` and `returned/` (returned
workbooks) hold ID numbers and names, or the key that turns person keys back into people: their folders are 700
and their files 600, set explicitly when they are made (chmod, not the creating call's mode, which the umask would
narrow or a copy would carry over). `tighten(root)` brings a data root written by an earlier version to the same
modes (the vault's own folder through ingestion/vault.py, the one module that reaches it).
"""

from __future__ import annotations

import os
from pathlib import Path

from ingestion.settings import DataRoot

DIR_MODE = 0o700
FILE_MODE = 0o600
PLACES = ("raw", "archive", ".work", "quarantine", "secrets", "exports", "returned")  # the vault tightens itself


def private_dir(path: Path, place: Path | None = None) -> Path:
    """Make folder `path` owner-only, and its parents up to `place` (the private place it lies in); returns it."""
    path.mkdir(parents=True, exist_ok=True)
    folders = [path]
    if place is not None:
        folders += [p for p in path.parents if p == place or place in p.parents]
    for folder in folders:
        os.chmod(folder, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    os.chmod(path, FILE_MODE)
    return path


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_EXCL) -> int:
    """A file descriptor of a new owner-only file (mode set on the descriptor: no moment when others may read)."""
    fd = os.open(path, flags | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def tighten(root: DataRoot) -> int:
    """Give every owner-only place of the data root its modes; returns how many modes were changed. The vault is
    tightened by its own module (`ingestion.vault.tighten`), which this one does not import: the vault builds on it."""
    return sum(tighten_folder(root.root / place) for place in PLACES)


def tighten_folder(base: Path) -> int:
    """Folders 700 and files 600 in and below `base` (links are neither followed nor changed)."""
    changed = 0
    if not base.is_dir() or base.is_symlink():
        return 0
    for folder, dirs, files in os.walk(base):
        changed += _set(Path(folder), DIR_MODE)
        for name in files:
            changed += _set(Path(folder) / name, FILE_MODE)
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
    return changed


def _set(path: Path, mode: int) -> int:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return 0
    if (info.st_mode & 0o7777) == mode or path.is_symlink():
        return 0
    os.chmod(path, mode)
    return 1
