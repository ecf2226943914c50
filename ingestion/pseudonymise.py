"""Person keys: an ID number becomes a keyed hash (HMAC-SHA256) before anything reaches the lake.

The secret lives under the data root (`secrets/pseudonym.key`, owner-only, created on first use) or
comes from the environment (SAFETYNET_PSEUDONYM_KEY, hex). It is never committed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from ingestion.private import open_private, private_dir
from ingestion.scratch import temp_path
from ingestion.settings import PSEUDONYM_KEY_ENV, DataRoot

KEY_HEX_CHARS = 24  # 96 bits: collision-free at provincial scale, short enough to read


def load_or_create_key(data_root: DataRoot) -> bytes:
    """The pseudonymisation secret; created with owner-only permissions on first use."""
    from_env = os.environ.get(PSEUDONYM_KEY_ENV)
    if from_env:
        return bytes.fromhex(from_env)
    path = data_root.secrets / "pseudonym.key"
    if not path.exists():
        _create_secret(path)
    return bytes.fromhex(path.read_text().strip())


def _create_secret(path: Path) -> None:
    private_dir(path.parent)
    tmp = temp_path(path)
    fd = open_private(tmp)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    try:
        os.link(tmp, path)  # atomic and never overwrites a key another process just made
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def fingerprint(key: bytes) -> str:
    """What the ledger keeps of the secret: a keyed hash of a constant, which tells whether the secret in use is
    the one every person key was made with, and from which the secret cannot be recovered."""
    return hmac.new(key, b"safetynet secret fingerprint", hashlib.sha256).hexdigest()


def person_key(id18: str, key: bytes) -> str:
    """The pseudonymous key of a normalised 18-character ID number."""
    return hmac.new(key, id18.encode("ascii"), hashlib.sha256).hexdigest()[:KEY_HEX_CHARS]


def opaque_key(value: str, key: bytes, kind: str) -> str:
    """A keyed hash of another identifying value (e.g. a disability certificate number)."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:KEY_HEX_CHARS]


class KeyedHasher:
    """Keyed hashes of a column's values: person_key (kind None) or opaque_key(kind), equal to those functions.

    Each distinct value is hashed once per process: monthly rosters name the same people every month, and a
    landing worker lands one dataset's months in turn. No library at hand offers HMAC over a column (DuckDB's
    sha256 composed into an HMAC costs as much as Python, BENCHMARKS.md), so a new value is hashed in Python with
    the HMAC's inner and outer states prepared once (~0.8 µs). A value seen before must cost far less than that:
    a dictionary look-up per value costs about as much as hashing it again, so person keys are remembered as sorted
    numbers (an 18-character ID is 17 digits and a check character) and looked up in bulk with numpy.
    Memory is bounded: KNOWN_LIMIT values per kind of key, then forgotten.
    """

    def __init__(self, key: bytes, kind: str | None = None):
        block = hashlib.sha256().block_size
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
        self._prefix = b"" if kind is None else f"{kind}:".encode()
        self._memory = _MEMORY.setdefault((hashlib.sha256(key).digest(), kind), _Memory())

    def _mac(self, value: str) -> str:
        inner = self._inner.copy()
        inner.update(self._prefix + value.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:KEY_HEX_CHARS]

    def keys(self, values: pl.Series) -> pl.Series:
        """The key of every value (nulls stay null), named like `values`."""
        numbers = _id_numbers(values) if not self._prefix else None
        keys = self._keys_by_value(values) if numbers is None else self._keys_by_number(values, numbers)
        return keys.alias(values.name)

    def _keys_by_number(self, values: pl.Series, numbers: pl.Series) -> pl.Series:
        present = numbers.is_not_null().to_numpy()
        if not present.any():
            return pl.repeat(None, len(numbers), dtype=pl.String, eager=True)
        order = np.argsort(numbers.fill_null(-1).to_numpy(), kind="stable")  # sorted look-ups read memory in order
        wanted = numbers.fill_null(-1).to_numpy()[order]
        known, macs = self._memory.snapshot()
        at, found = _positions(known, wanted)
        new = np.flatnonzero(present[order] & ~found)  # positions in `wanted`, ascending by number
        if len(new):
            new = new[np.concatenate(([True], wanted[new[1:]] != wanted[new[:-1]]))]  # each distinct number once
            texts = values.gather(order[new]).to_list()
            known, macs = self._memory.add(wanted[new], np.array([self._mac(t) for t in texts], dtype=_MAC_TYPE))
            at, _ = _positions(known, wanted)
        found_macs = np.empty_like(macs, shape=len(wanted))
        found_macs[order] = macs[at]
        return _strings(found_macs, present)

    def _keys_by_value(self, values: pl.Series) -> pl.Series:
        distinct = values.drop_nulls().unique().to_list()
        known, mapped = self._memory.by_value, []
        for value in distinct:  # two threads may hash a value twice: same result, no harm
            mac = known.get(value)
            if mac is None:
                mac = known[value] = self._mac(value)
            mapped.append(mac)
        if len(known) > KNOWN_LIMIT:
            known.clear()
        mapping = pl.DataFrame({"value": distinct, "key": mapped}, schema={"value": pl.String, "key": pl.String})
        joined = values.rename("value").to_frame().join(mapping, on="value", how="left", maintain_order="left")
        return joined.get_column("key")


KNOWN_LIMIT = 3_000_000  # values remembered per kind of key and process (32 bytes each as numbers)
_MAC_TYPE = f"S{KEY_HEX_CHARS}"  # a key as fixed-width ASCII bytes


@dataclass
class _Memory:
    """Keys hashed so far in this process for one secret and kind: sorted ID numbers with their keys, or a dict."""

    numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    macs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=_MAC_TYPE))
    by_value: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        with self.lock:
            return self.numbers, self.macs

    def add(self, new: np.ndarray, new_macs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sorted numbers and keys including `new` (sorted, with their keys); another batch may have added some
        of them meanwhile, so only what is still missing is inserted."""
        with self.lock:
            known, macs = self.numbers, self.macs
            missing = ~_positions(known, new)[1]
            at = np.searchsorted(known, new[missing])
            known, macs = np.insert(known, at, new[missing]), np.insert(macs, at, new_macs[missing])
            self.numbers, self.macs = (known, macs) if len(known) <= KNOWN_LIMIT else (known[:0], macs[:0])
        return known, macs


_MEMORY: dict[tuple[bytes, str | None], _Memory] = {}  # (digest of the secret, kind) → what this process hashed


def _positions(sorted_known: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each value is (or would be) in `sorted_known`, clipped to its last row, and whether it is there."""
    if not len(sorted_known):
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_known, values), len(sorted_known) - 1)
    return at, sorted_known[at] == values


def _id_numbers(values: pl.Series) -> pl.Series | None:
    """Normalised 18-character IDs as numbers (first 17 digits × 11 + the check character's value; nulls stay
    null), or None when a value is not one (then keys are looked up by value)."""
    if not values.drop_nulls().str.contains(r"^[0-9]{17}[0-9X]$").all():
        return None
    check = values.str.slice(17, 1).str.replace("X", "10", literal=True).cast(pl.Int64)
    return values.str.slice(0, 17).cast(pl.Int64) * 11 + check


def _strings(macs: np.ndarray, present: np.ndarray) -> pl.Series:
    """Fixed-width ASCII keys → a String column, null where not `present` (Arrow buffers, no Python loop)."""
    rows, width = len(macs), KEY_HEX_CHARS
    offsets = pa.py_buffer(np.arange(0, rows * width + 1, width, dtype=np.int32).tobytes())
    validity = pa.py_buffer(np.packbits(present, bitorder="little").tobytes())
    data = pa.py_buffer(np.ascontiguousarray(macs).tobytes())
    return pl.Series(pa.Array.from_buffers(pa.string(), rows, [validity, offsets, data]), dtype=pl.String)


def keyed_hashes(values: pl.Series, key: bytes, kind: str | None = None) -> pl.Series:
    """HMAC-SHA256 keys of every value (nulls stay null); kind None: person keys, else opaque_key(kind)."""
    return KeyedHasher(key, kind).keys(values)
