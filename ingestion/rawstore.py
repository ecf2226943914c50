"""The raw archive (`raw/<sha256>`, owner-only): every delivered file, kept before anything else happens to it.

Delivered files are opened without following links and only if they are regular files. The copy is streamed,
hashed and scanned in one pass; the scan gives the CSV reader what it needs to
refuse a pathological file cheaply (NUL bytes, a line that never ends, unbalanced quotes).
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ingestion.private import open_private, private_dir, private_file
from ingestion.scratch import temp_path
from ingestion.settings import DataRoot

CHUNK = 8 << 20
LINE_WINDOW = 512 << 10  # a line longer than 2 windows (1 MiB) is surely caught


@dataclass(frozen=True)
class RawScan:
    sha256: str
    size: int
    newlines: int
    quotes: int
    has_nul: bool
    long_line: bool  # some line (between two `\n`) is over ~1 MiB
    trailing_newlines: int  # blank lines at the end (after the last line's own `\n`)
    ends_with_newline: bool
    utf8: bool  # the whole file is strict UTF-8


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _window_without_newline(chunk: bytes, offset: int) -> bool:
    # windows aligned on absolute offsets, so a long line spanning chunks is still seen
    start = (-offset) % LINE_WINDOW
    while start + LINE_WINDOW <= len(chunk):
        if chunk.find(b"\n", start, start + LINE_WINDOW) == -1:
            return True
        start += LINE_WINDOW
    return False


def _utf8_step(decoder: codecs.IncrementalDecoder, chunk: bytes, final: bool = False) -> bool:
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def _tail_newlines(tail: bytes) -> tuple[int, bool]:
    stripped = tail.replace(b"\r", b"").replace(b"\x00", b"")  # UTF-16 ends lines with \n\0
    if not stripped.endswith(b"\n"):
        return 0, False
    body = stripped.rstrip(b"\n")
    return len(stripped) - len(body) - 1, True


class NotARegularFile(OSError):
    """The inbox entry is not a plain file (a link, a FIFO, a device): it is never read."""


def open_delivered(path: Path) -> int:
    """Open a delivered file for reading without following a link and without blocking on a FIFO; refuse
    anything but a regular file (checked on the open descriptor, so a swap after listing is caught too)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise NotARegularFile(f"{path.name} is a symbolic link") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotARegularFile(f"{path.name} is not a regular file")
    os.set_blocking(fd, True)
    return fd


def archive_raw(root: DataRoot, path: Path) -> RawScan:
    """Copy `path` to `raw/<sha256>` (owner-only; temp name, fsync, rename) and return its scan."""
    private_dir(root.raw)
    tmp = temp_path(root.raw / "delivery")
    try:
        with os.fdopen(open_delivered(path), "rb") as src, os.fdopen(open_private(tmp), "wb") as dst:
            scan = _scan(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        final = root.raw / scan.sha256
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
            fsync_dir(root.raw)
    finally:
        tmp.unlink(missing_ok=True)
    return scan


def scan_raw(root: DataRoot, sha256: str) -> RawScan:
    """The scan of an archived file (`raw/<sha256>`), for landing it again; its content must match its name."""
    path = root.raw / sha256
    with os.fdopen(open_delivered(path), "rb") as src:
        scan = _scan(src, None)
    if scan.sha256 != sha256:
        raise ValueError(f"raw/{sha256} has changed: its content hashes to {scan.sha256}")
    return scan


def _scan(src: BinaryIO, dst: BinaryIO | None) -> RawScan:
    """Hash and scan a stream in one pass, copying it to `dst` when given."""
    digest = hashlib.sha256()
    size = newlines = quotes = 0
    has_nul = long_line = False
    utf8_ok = True
    decoder = codecs.getincrementaldecoder("utf-8")()
    tail = b""
    while chunk := src.read(CHUNK):
        digest.update(chunk)
        if dst is not None:
            dst.write(chunk)
        newlines += chunk.count(b"\n")
        quotes += chunk.count(b'"')
        has_nul = has_nul or b"\x00" in chunk
        long_line = long_line or _window_without_newline(chunk, size)
        size += len(chunk)
        tail = (tail + chunk[-4096:])[-4096:]
        if utf8_ok:
            utf8_ok = _utf8_step(decoder, chunk)
    utf8_ok = utf8_ok and _utf8_step(decoder, b"", final=True)
    trailing, ends = _tail_newlines(tail)
    return RawScan(digest.hexdigest(), size, newlines, quotes, has_nul, long_line, trailing, ends, utf8_ok)


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with os.fdopen(open_delivered(path), "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def digest(path: Path) -> tuple[int, str]:
    """Size and sha256 of a file the platform wrote (lake, quarantine, vault): what the ledger's `state` records."""
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()


def move_to_archive(root: DataRoot, path: Path, file_name: str, sha256: str) -> Path:
    """Move a handled inbox file to `archive/<relative path>` (owner-only); a name taken by other content gets
    the hash."""
    target = root.root / "archive" / file_name
    private_dir(target.parent, place=root.root / "archive")
    if target.exists():
        if hash_file(target) == sha256:
            path.unlink()
            return target
        target = target.with_name(f"{target.name}.{sha256[:12]}")
    shutil.move(str(path), str(target))
    private_file(target)
    return target
