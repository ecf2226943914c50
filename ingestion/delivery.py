"""Delivery file names (docs/extracts.md#delivering-a-file): `<dataset>_<YYYYMMDD>[_<seq>].<csv|xlsx>`, and what the
inbox holds.

A file sits at the inbox root or in a folder named after its dataset. A bare name is delivery 1. A delivery
pulled from an exchange database (ingestion/exchange/) is a Parquet file of the pulled rows that carries a `Pull`.

The inbox holds files, nothing else: a symbolic link, a FIFO, socket or device, a name with control characters
(a newline, a tab, ...), a hidden name (starting with `.`, or Excel's `~$` lock files) and anything in a folder
below a dataset folder is *refused*: listed with its reason so that the landing records it, never followed,
never opened, and left where it is.
"""

from __future__ import annotations

import datetime as dt
import re
import stat
import unicodedata
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
    refused: str | None = None  # `<code>: <why>` for an entry that is not a plain file to read (never opened)
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


def printable_name(text: str) -> str:
    """A name as the ledger and the log show it: control characters escaped (`\\n`), so it stays one line."""
    return "".join(ch if not _is_control(ch) else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def refusal(entry: Path) -> str | None:
    """Why an inbox entry is not read (`<code>: <text>`), or None for a plain file or a folder.

    Decided on the entry itself (lstat: a link is never followed)."""
    name = entry.name
    if any(_is_control(ch) for ch in name):
        return "control_characters: the name holds control characters (a newline, a tab, ...)"
    mode = entry.lstat().st_mode
    if stat.S_ISLNK(mode):
        return "symlink: a symbolic link (never followed: deliveries are plain files)"
    if name.startswith((".", "~$")):
        return "hidden: a hidden name (starting with . or ~$) is not a delivery"
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return "not_a_file: not a regular file (a FIFO, socket or device)"
    return None


SUBFOLDER = "subfolder: in a folder below a dataset folder (deliveries sit at the inbox root or in <dataset>/)"


def _entries(inbox: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Plain files to look at (the inbox root and its folders) and refused entries with their reason."""
    files: list[Path] = []
    refused: list[tuple[Path, str]] = []
    for entry in sorted(inbox.iterdir()):
        why = refusal(entry)
        if why is not None:
            refused.append((entry, why))
            continue
        if not entry.is_dir():
            files.append(entry)
            continue
        for inner in sorted(entry.iterdir()):
            why = refusal(inner)
            if why is not None:
                refused.append((inner, why))
            elif inner.is_dir():
                refused += [(nested, SUBFOLDER) for nested in _below(inner)]
            else:
                files.append(inner)
    return files, refused


def _below(folder: Path) -> list[Path]:
    """Every entry below a folder that is not itself a folder (links are listed, not followed)."""
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            found += _below(entry)
        else:
            found.append(entry)
    return found


def _refused(path: Path, inbox: Path, why: str) -> Delivery:
    """A refused entry; it keeps the dataset its name names, so that a dataset's landing reports it too."""
    parsed = parse_delivery(path, inbox)
    file_name = printable_name(path.relative_to(inbox).as_posix())
    return Delivery(path, file_name, parsed.dataset, parsed.cutoff, parsed.seq, parsed.ext, why, refused=why)


def _arrival(delivery: Delivery) -> tuple:
    """Landing order: oldest cut-off first, seq ascending, then arrival (mtime), bare before `_1`."""
    cutoff = delivery.cutoff or dt.date.min
    return (cutoff, delivery.seq, delivery.path.lstat().st_mtime_ns, delivery.explicit_seq, delivery.file_name)


def list_inbox(inbox: Path, dataset: str | None = None) -> list[Delivery]:
    """Every entry of the inbox (root and one folder level), in landing order; refused entries last."""
    if not inbox.is_dir():
        return []
    files, refused = _entries(inbox)
    found = [parse_delivery(p, inbox) for p in files]
    turned_away = [_refused(p, inbox, why) for p, why in refused]
    if dataset is not None:
        found = [d for d in found if d.dataset == dataset]
        turned_away = [d for d in turned_away if d.dataset == dataset]
    named = sorted((d for d in found if d.dataset is not None), key=_arrival)
    unnamed = [d for d in found if d.dataset is None]
    return named + unnamed + turned_away
