"""The raw archive (`raw/<sha256>`): every delivered file, kept before anything else happens to it.

The copy is streamed, hashed and scanned in one pass; the scan gives the CSV reader what it needs to
refuse a pathological file cheaply (NUL bytes, a line that never ends, unbalanced quotes).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

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


def archive_raw(root: DataRoot, path: Path) -> RawScan:
    """Copy `path` to `raw/<sha256>` (temp name, fsync, rename) and return its scan."""
    root.raw.mkdir(parents=True, exist_ok=True)
    tmp = root.raw / f".tmp-{uuid.uuid4().hex}"
    digest = hashlib.sha256()
    size = newlines = quotes = 0
    has_nul = long_line = False
    utf8_ok = True
    decoder = codecs.getincrementaldecoder("utf-8")()
    tail = b""
    try:
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                newlines += chunk.count(b"\n")
                quotes += chunk.count(b'"')
                has_nul = has_nul or b"\x00" in chunk
                long_line = long_line or _window_without_newline(chunk, size)
                size += len(chunk)
                tail = (tail + chunk[-4096:])[-4096:]
                if utf8_ok:
                    utf8_ok = _utf8_step(decoder, chunk)
            dst.flush()
            os.fsync(dst.fileno())
        utf8_ok = utf8_ok and _utf8_step(decoder, b"", final=True)
        sha = digest.hexdigest()
        final = root.raw / sha
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
            fsync_dir(root.raw)
    finally:
        tmp.unlink(missing_ok=True)
    trailing, ends = _tail_newlines(tail)
    return RawScan(sha, size, newlines, quotes, has_nul, long_line, trailing, ends, utf8_ok)


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def move_to_archive(root: DataRoot, path: Path, file_name: str, sha256: str) -> Path:
    """Move a handled inbox file to `archive/<relative path>`; a name taken by other content gets the hash."""
    target = root.root / "archive" / file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        if hash_file(target) == sha256:
            path.unlink()
            return target
        target = target.with_name(f"{target.name}.{sha256[:12]}")
    shutil.move(str(path), str(target))
    return target
