"""Person keys: an ID number becomes a keyed hash (HMAC-SHA256) before anything reaches the lake.

The secret lives under the data root (`secrets/pseudonym.key`, owner-only, created on first use) or
comes from the environment (SAFETYNET_PSEUDONYM_KEY, hex). It is never committed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

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
