"""One writer at a time: DuckDB allows a single writing process per database file.

Every write to the warehouse (dbt build, publish) holds this lock; it is an OS file lock, so a killed
process releases it, and a second process waits (or fails after `timeout` seconds with a clear error).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ingestion.settings import DataRoot


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse write lock for longer than we were willing to wait."""


@contextmanager
def warehouse_write_lock(root: DataRoot, timeout: float = 3600.0, poll: float = 0.5) -> Iterator[None]:
    root.root.mkdir(parents=True, exist_ok=True)
    path = root.root / "warehouse.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(f"{path} is held by another writer for over {timeout:.0f} s") from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
