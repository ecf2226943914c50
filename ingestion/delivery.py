"""Delivery file names (docs/extracts.md#delivering-a-file): `<dataset>_<YYYYMMDD>[_<seq>].<csv|xlsx>`.

A file sits at the inbox root or in a folder named after its dataset. A bare name is delivery 1. A delivery
pulled from an exchange database (ingestion/exchange/) is a Parquet file of the pulled rows that carries a `Pull`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ingestion.contracts import all_contracts

_NAME = re.compile(r"^(?P<dataset>[a-z0-9_]+?)_(?P<date>\d{8})(?:_(?P<seq>[1-9]\d{0,5}))?\.(?P<ext>csv|xlsx)$", re.I)


@dataclass(frozen=True)
class Pull:
    """What a delivery pulled from an exchange database records beside its landing (the ledger's `pulls`)."""

    dataset: str
    source: str  # `<connection>/<table>` or `<connection>/query`: never a URL or a credential
    mode: str  # increment | snapshot_cutoff | snapshot_full
    watermark_column: str | None
    watermark_from: str | None  # what the pull read after (None: from the start)
    watermark_to: str | None  # how far it read: the next pull starts after it
    rows: int

    @property
    def accumulates(self) -> bool:
        """An increment pull adds the rows changed since the last one; a snapshot replaces its cut-off's."""
        return self.mode == "increment"


@dataclass(frozen=True)
class Delivery:
    """A file in the inbox and what its name says (dataset None: it names no dataset), or a pulled delivery."""

    path: Path
    file_name: str  # path relative to the inbox, `/`-separated (a pull: `db:<connection>/<name>.parquet`)
    dataset: str | None
    cutoff: dt.date | None
    seq: int
    ext: str
    problem: str | None = None  # why the name is not a delivery of a dataset, or has a bad date
    pull: Pull | None = None  # set for a delivery pulled from an exchange database

    @property
    def explicit_seq(self) -> bool:
        return bool(re.search(r"_\d{8}_\d+\.", self.path.name))


def parse_delivery(path: Path, inbox: Path) -> Delivery:
    """What a file's name and place say; never raises."""
    rel = path.relative_to(inbox)
    file_name = rel.as_posix()
    match = _NAME.match(path.name)
    datasets = all_contracts()
    if match is None or match["dataset"] not in datasets:
        return Delivery(
            path,
            file_name,
            None,
            None,
            0,
            path.suffix.lower().lstrip("."),
            problem="name does not match <dataset>_<YYYYMMDD>[_<seq>].<csv|xlsx> of a known dataset",
        )
    dataset = match["dataset"]
    folder = rel.parent.as_posix()
    if folder not in (".", dataset):
        return Delivery(
            path,
            file_name,
            None,
            None,
            0,
            match["ext"].lower(),
            problem=f"a {dataset} file must be at the inbox root or in {dataset}/, not in {folder}/",
        )
    seq = int(match["seq"] or 1)
    try:
        cutoff = dt.datetime.strptime(match["date"], "%Y%m%d").date()
    except ValueError:
        return Delivery(
            path,
            file_name,
            dataset,
            None,
            seq,
            match["ext"].lower(),
            problem=f"cut-off date {match['date']} in the file name is not a valid date",
        )
    return Delivery(path, file_name, dataset, cutoff, seq, match["ext"].lower())


def _candidates(inbox: Path) -> list[Path]:
    files: list[Path] = []
    for entry in sorted(inbox.iterdir()):
        if entry.name.startswith((".", "~$")):
            continue  # hidden files and Excel lock files are not deliveries
        if entry.is_file():
            files.append(entry)
        elif entry.is_dir():
            files.extend(p for p in sorted(entry.iterdir()) if p.is_file() and not p.name.startswith((".", "~$")))
    return files


def _arrival(delivery: Delivery) -> tuple:
    """Landing order: oldest cut-off first, seq ascending, then arrival (mtime), bare before `_1`."""
    cutoff = delivery.cutoff or dt.date.min
    return (cutoff, delivery.seq, delivery.path.stat().st_mtime_ns, delivery.explicit_seq, delivery.file_name)


def list_inbox(inbox: Path, dataset: str | None = None) -> list[Delivery]:
    """Every file in the inbox (root and one folder level), in landing order."""
    if not inbox.is_dir():
        return []
    found = [parse_delivery(p, inbox) for p in _candidates(inbox)]
    if dataset is not None:
        found = [d for d in found if d.dataset == dataset]
    named = sorted((d for d in found if d.dataset is not None), key=_arrival)
    unnamed = [d for d in found if d.dataset is None]
    return named + unnamed
