"""Write the ground truth files (docs/internals.md, "Ground truth")."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from synthetic.plant import ExpectedIdentification, ExpectedWarning

WARNING_COLUMNS = [f.name for f in fields(ExpectedWarning)]
IDENT_COLUMNS = [f.name for f in fields(ExpectedIdentification)]
REJECTION_COLUMNS = ["file_name", "data_row", "column", "reason"]
LANDING_COLUMNS = [
    "file_name",
    "dataset",
    "cutoff_date",
    "seq",
    "status",
    "rows_in",
    "rows_landed",
    "rows_rejected",
    "rows_skipped",
]
HOLD_COLUMNS = ["file_name", "dataset", "problem"]


@dataclass(frozen=True)
class Landing:
    file_name: str
    dataset: str
    cutoff_date: str
    seq: str
    status: str
    rows_in: int
    rows_landed: int
    rows_rejected: int
    rows_skipped: int = 0


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    ordered = sorted(tuple("" if v is None else str(v) for v in r) for r in rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(ordered)
    return len(ordered)


def write_truth(
    truth: Path, warnings: list[ExpectedWarning], identifications: list[ExpectedIdentification],
    rejections: list[tuple[str, int, str, str]], landings: list[Landing], holds: list[tuple[str, str, str]],
    manifest: dict[str, Any],
) -> dict[str, int]:  # fmt: skip
    truth.mkdir(parents=True, exist_ok=True)
    counts = {
        "expected_warnings": write_csv(
            truth / "expected_warnings.csv", WARNING_COLUMNS, [astuple(w) for w in warnings]
        ),
        "expected_identification": write_csv(
            truth / "expected_identification.csv", IDENT_COLUMNS, [astuple(i) for i in identifications]
        ),
        "expected_rejections": write_csv(truth / "expected_rejections.csv", REJECTION_COLUMNS, rejections),
        "expected_landings": write_csv(
            truth / "expected_landings.csv", LANDING_COLUMNS, [astuple(x) for x in landings]
        ),
    }
    if holds:
        counts["expected_holds"] = write_csv(truth / "expected_holds.csv", HOLD_COLUMNS, holds)
    manifest = {**manifest, "truth_rows": counts}
    (truth / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return counts
