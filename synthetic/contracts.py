"""The generator's read-only view of the dataset contracts (ingestion/contracts/*.yaml).

Headers, kinds, enum values and synonyms come from the YAML so the generator never retypes them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "ingestion" / "contracts"
DELIVERED = (  # every dataset except feedback, which comes back from staff later
    "mz_household", "mz_member", "mz_payment", "mz_application", "mz_application_member",
    "wjw_death", "mz_cremation", "ybj_settlement", "rsj_unemployment", "rsj_contribution",
    "yjj_disaster", "nync_monitored", "cl_disability", "jyt_student_aid", "zjt_housing_aid",
    "gaj_vehicle", "zrzy_property", "scjg_business",
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: str
    required: bool
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    upper_case: bool = False  # text the platform upper-cases (a VIN): files may carry it in lower case
    unit_headers: dict[str, str] = field(default_factory=dict)  # amount: header unit → factor (`万元` → 10000)

    @property
    def synonyms(self) -> dict[str, tuple[str, ...]]:
        """Canonical value → its listed synonyms (only values that have some)."""
        return {k: v for k, v in self.values.items() if v}


@dataclass(frozen=True)
class Spec:
    dataset: str
    kind: str  # snapshot | increment
    frequency: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]

    def column(self, field_name: str) -> Column:
        for col in self.columns:
            if col.field == field_name:
                return col
        raise KeyError(f"{self.dataset} has no field {field_name}")

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.columns]


def _column(raw: dict) -> Column:
    values = {str(k): tuple(str(s) for s in (v or ())) for k, v in (raw.get("values") or {}).items()}
    units = {str(k): str(v) for k, v in (raw.get("unit_headers") or {}).items()}
    return Column(
        str(raw["header"]), str(raw["field"]), str(raw["kind"]), bool(raw["required"]), values,
        bool(raw.get("upper_case", False)), units,
    )  # fmt: skip


@functools.cache
def load_specs() -> dict[str, Spec]:
    specs = {}
    for path in sorted(CONTRACTS_DIR.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        specs[raw["dataset"]] = Spec(
            dataset=raw["dataset"],
            kind=raw["kind"],
            frequency=raw["frequency"],
            keys=tuple(raw["keys"]),
            columns=tuple(_column(c) for c in raw["columns"]),
        )
    return specs
