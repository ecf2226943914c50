"""The clean records of every delivery, kept as Parquet in a scratch folder for the truth checker.

Only rows that landing must land are stored (planted bad rows are not); a delivery held back by the
data-quality checks is not stored either, so the checker sees what a correct pipeline would use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingestion.contracts import all_contracts


@dataclass(frozen=True)
class Stored:
    dataset: str
    cutoff: dt.date
    seq: int
    path: Path


class RecordStore:
    def __init__(self, directory: Path):
        self.directory = directory
        self._items: list[Stored] = []

    def put(self, dataset: str, cutoff: dt.date, seq: int, frame: pl.DataFrame) -> None:
        path = self.directory / f"{dataset}_{cutoff:%Y%m%d}_{seq}.parquet"
        frame.write_parquet(path)
        self._items.append(Stored(dataset, cutoff, seq, path))

    def effective(self, dataset: str, until: dt.date) -> list[Stored]:
        """The delivery in force for each cut-off ≤ until (highest seq), in cut-off order."""
        best: dict[dt.date, Stored] = {}
        for item in self._items:
            if (
                item.dataset == dataset
                and item.cutoff <= until
                and (item.cutoff not in best or item.seq > best[item.cutoff].seq)
            ):
                best[item.cutoff] = item
        return [best[c] for c in sorted(best)]

    def snapshots(self, dataset: str, until: dt.date) -> list[tuple[dt.date, pl.DataFrame]]:
        return [(s.cutoff, pl.read_parquet(s.path)) for s in self.effective(dataset, until)]

    def increments(self, dataset: str, until: dt.date) -> pl.DataFrame:
        """Every record delivered, the latest version of each key."""
        parts = [pl.read_parquet(s.path) for s in self.effective(dataset, until)]
        if not parts:
            return pl.DataFrame()
        keys = list(all_contracts()[dataset].keys)
        return pl.concat(parts, how="vertical_relaxed").unique(subset=keys, keep="last", maintain_order=True)
