"""Deterministic random streams: one numpy Generator per named purpose, derived from the seed.

Names are hashed with CRC-32 (stable across processes, unlike Python's hash()).
"""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np


def stream(seed: int, *names: object) -> np.random.Generator:
    parts = [zlib.crc32(str(n).encode("utf-8")) for n in names]
    return np.random.default_rng(np.random.SeedSequence([seed, *parts]))


def uniform_days(rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """A random day number in [first, last] for each pair (day numbers since 1970-01-01)."""
    span = np.maximum(last - first, 0) + 1
    return first + (rng.random(len(first)) * span).astype(np.int64)


def day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days
