"""Helpers for the generator tests: read a generated delivery back (CSV in its encoding, XLSX under its title)."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

from ingestion.contracts import all_contracts

NAME = re.compile(r"^(?P<dataset>[a-z_]+?)_(?P<cutoff>\d{8})(?:_(?P<seq>\d+))?\.(csv|xlsx)$")


def fold(header: str) -> str:
    text = unicodedata.normalize("NFKC", header.replace("\ufeff", "")).strip()
    return re.sub(r"\(元\)$", "", text).strip()


@dataclass
class Table:
    dataset: str
    headers: list[str]  # as written
    fields: list[str]
    rows: list[list[Any]]  # data rows only (raw cell values)


def manifest(root: Path) -> dict[str, Any]:
    return json.loads((root / "truth" / "manifest.json").read_text(encoding="utf-8"))


def styles(root: Path) -> dict[str, dict[str, Any]]:
    return {f["file_name"]: f for f in manifest(root)["files"]}


def read_delivery(root: Path, file_name: str, style: dict[str, Any], folder: str = "inbox") -> Table:
    """A generated file read back, from the inbox (or, once landed, from `archive`)."""
    match = NAME.match(Path(file_name).name)
    assert match, file_name
    spec = all_contracts()[match["dataset"]]
    by_header = {fold(c.header): c.field for c in spec.columns}
    by_header |= {f"{fold(c.header)}({unit})": c.field for c in spec.columns for unit in c.unit_headers}
    path = root / folder / file_name
    if style["fmt"] == "xlsx":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        grid = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
    else:
        text = path.read_bytes().decode(style["encoding"])
        grid = list(csv.reader(io.StringIO(text, newline="")))
    required = {c.field for c in spec.columns if c.required}
    at = next(i for i, r in enumerate(grid) if required <= {by_header.get(fold(str(v))) for v in r if v is not None})
    headers = [str(h) for h in grid[at]]
    rows = [r for r in grid[at + 1 :] if any(str(v).strip() for v in r if v is not None)]  # empty rows: not data
    return Table(spec.dataset, headers, [by_header[fold(h)] for h in headers], rows)


def truth_rows(root: Path, name: str) -> list[dict[str, str]]:
    with (root / "truth" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
