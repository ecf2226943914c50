"""Keyed hashes over columns (ingestion.pseudonymise.KeyedHasher): the same keys as ever, each value hashed once."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
import pytest

from ingestion import idcard, pseudonymise
from ingestion.pseudonymise import KEY_HEX_CHARS, KeyedHasher, keyed_hashes, opaque_key, person_key

KEY = bytes.fromhex("5a" * 32)


def _hmac(value: str, key: bytes = KEY) -> str:
    """The person key's definition, written out: HMAC-SHA256 of the ID's ASCII, first 24 hex characters."""
    return hmac.new(key, value.encode("ascii"), hashlib.sha256).hexdigest()[:KEY_HEX_CHARS]


def _ids(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    regions = ["370102", "370211", "371002", "110101"]
    return [
        idcard.make_id(regions[r], dt.date(1930, 1, 1) + dt.timedelta(days=int(d)), int(s))
        for r, d, s in zip(rng.integers(0, 4, n), rng.integers(0, 30000, n), rng.integers(0, 1000, n))
    ]


@pytest.fixture(autouse=True)
def _forget() -> None:
    pseudonymise._MEMORY.clear()


def test_person_keys_are_unchanged_hmac_sha256() -> None:
    """Existing person keys stay valid: the column path gives exactly the HMAC of each ID (check digits X too)."""
    ids = _ids(3000, 1)
    assert any(i.endswith("X") for i in ids)
    column = pl.Series("id_number", [*ids, None, ids[0], ids[5]], dtype=pl.String)
    keys = KeyedHasher(KEY).keys(column)
    assert keys.name == "id_number"
    assert keys.to_list() == [*[_hmac(i) for i in ids], None, _hmac(ids[0]), _hmac(ids[5])]
    assert keys.to_list()[:3] == [person_key(i, KEY) for i in ids[:3]]


def test_remembered_keys_come_back_for_later_batches_and_new_ones_are_added() -> None:
    first, second = _ids(2000, 2), _ids(2000, 3)
    hasher = KeyedHasher(KEY)
    hasher.keys(pl.Series(first))
    mixed = first[::3] + second  # known and new values, out of order
    assert hasher.keys(pl.Series(mixed)).to_list() == [_hmac(i) for i in mixed]
    assert len(pseudonymise._MEMORY[(hashlib.sha256(KEY).digest(), None)].numbers) == len(set(first) | set(second))


def test_each_distinct_value_is_hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[str] = []
    mac = KeyedHasher._mac
    monkeypatch.setattr(KeyedHasher, "_mac", lambda self, value: hashed.append(value) or mac(self, value))
    ids = _ids(500, 4)
    hasher = KeyedHasher(KEY)
    hasher.keys(pl.Series(ids * 3))
    hasher.keys(pl.Series(list(reversed(ids))))
    KeyedHasher(KEY).keys(pl.Series(ids))  # another file in the same process
    assert sorted(hashed) == sorted(set(ids))


def test_another_secret_gives_other_keys() -> None:
    ids = _ids(50, 5)
    other = bytes.fromhex("a5" * 32)
    KeyedHasher(KEY).keys(pl.Series(ids))
    assert KeyedHasher(other).keys(pl.Series(ids)).to_list() == [_hmac(i, other) for i in ids]


def test_batches_hashed_side_by_side_agree() -> None:
    batches = [_ids(3000, seed) for seed in range(6)]
    hasher = KeyedHasher(KEY)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda ids: hasher.keys(pl.Series(ids)).to_list(), batches))
    assert results == [[_hmac(i) for i in ids] for ids in batches]


def test_values_that_are_not_normalised_ids_and_other_kinds_are_hashed_by_value() -> None:
    odd = ["37010219800101001", "ABC", "370102198001010010 ", None, "ABC"]
    assert keyed_hashes(pl.Series(odd), KEY).to_list() == [None if v is None else _hmac(v) for v in odd]
    certificates = pl.Series(["37010219800101001X11", None, "37010219800101001X11"])
    assert keyed_hashes(certificates, KEY, kind="certificate_no").to_list() == [
        opaque_key("37010219800101001X11", KEY, "certificate_no"),
        None,
        opaque_key("37010219800101001X11", KEY, "certificate_no"),
    ]


def test_an_empty_or_all_null_column() -> None:
    assert keyed_hashes(pl.Series([], dtype=pl.String), KEY).to_list() == []
    assert keyed_hashes(pl.Series([None, None], dtype=pl.String), KEY).to_list() == [None, None]
