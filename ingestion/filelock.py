"""An exclusive OS file lock: one process at a time through a block; a killed process releases it.

    with file_lock(root.root / "checks.lock"):
        ...

The warehouse's writer lock (warehouse/lock.py) adds a timeout and the holder's pid on top of the same idea.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path, mode: int = 0o644) -> Iterator[None]:
    """Wait for, then hold, an exclusive lock on `path` (created with `mode`, its folder too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, mode)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
