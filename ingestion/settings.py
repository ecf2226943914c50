"""Settings in one place: the data root and the places under it (docs/architecture.md#where-data-lives)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_ROOT_ENV = "SAFETYNET_DATA"
PSEUDONYM_KEY_ENV = "SAFETYNET_PSEUDONYM_KEY"


@dataclass(frozen=True)
class DataRoot:
    """Every path the platform reads or writes, derived from one root folder."""

    root: Path

    @classmethod
    def from_env(cls, root: str | os.PathLike[str] | None = None) -> DataRoot:
        chosen = root if root is not None else os.environ.get(DATA_ROOT_ENV, "./data")
        return cls(Path(chosen).resolve())

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def vault(self) -> Path:
        return self.root / "vault"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def sources(self) -> Path:
        """Exchange-database sources, one `<dataset>.yaml` each (ingestion/exchange/)."""
        return self.root / "sources"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.sqlite"

    @property
    def reference(self) -> Path:
        return self.root / "reference"

    @property
    def warehouse_db(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def truth(self) -> Path:
        """Ground truth written by the synthetic generator (tests and demo only)."""
        return self.root / "truth"
