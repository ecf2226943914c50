"""The contracts as the checks see them: lake columns, not delivered headers.

Landing replaces each ID by a key and derived facts, drops names, and renames keyed fields
(docs/internals.md, "The lake"; `ingestion.lake`). The generic checks (key uniqueness, required
columns, enums, date bounds, optional fill rates, ages, parts flags) are derived from this view, so a
new dataset's contract gives it the generic suite without new code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ingestion.contract_suite import DatasetSuite
from ingestion.contracts import Column, Contract, ContractError, all_contracts, contracts_dir
from ingestion.lake import id_key_field, id_prefix


@dataclass(frozen=True)
class LakeColumn:
    name: str  # column in the lake Parquet
    kind: str  # the contract kind; an ID or a keyed field becomes "key"
    required: bool
    values: tuple[str, ...] = ()  # enum: canonical values
    has_default: bool = False  # an empty optional cell is filled at landing: never null in the lake


@dataclass(frozen=True)
class ContractView:
    dataset: str
    kind: str  # snapshot | increment
    keys: tuple[str, ...]  # lake columns
    columns: tuple[LakeColumn, ...]
    birth_dates: tuple[str, ...]  # lake columns of birth dates derived from IDs
    parts_flags: tuple[str, ...]  # boolean flags of rows whose parts differ from their total
    private: tuple[str, ...] = ()  # lake columns whose values identify people (pii lake_key): never listed

    def of_kind(self, *kinds: str) -> list[LakeColumn]:
        return [c for c in self.columns if c.kind in kinds]


def _lake_name(col: Column) -> str | None:
    if col.pii in ("name", "drop"):
        return None
    if col.pii == "keyed":
        return col.lake_field or f"{col.field}_key"
    return id_key_field(col.field) if col.kind == "id" else col.field


def _lake_column(col: Column) -> LakeColumn | None:
    name = _lake_name(col)
    if name is None:
        return None
    kind = "key" if col.kind == "id" or col.pii == "keyed" else col.kind
    return LakeColumn(name, kind, col.required, tuple(col.values), col.default is not None)


def view(contract: Contract) -> ContractView:
    by_field = {col.field: col for col in contract.columns}
    keys = tuple(name for k in contract.keys if (name := _lake_name(by_field[k])) is not None)
    return ContractView(
        dataset=contract.dataset,
        kind=contract.kind,
        keys=keys,
        columns=tuple(lc for col in contract.columns if (lc := _lake_column(col)) is not None),
        birth_dates=tuple(f"{id_prefix(c.field)}birth_date" for c in contract.columns if c.kind == "id"),
        parts_flags=tuple(check.flag for check in contract.parts_checks),
        private=tuple(c.field for c in contract.columns if c.pii == "lake_key"),
    )


def contract_views() -> dict[str, ContractView]:
    return _views(contracts_dir())


@cache
def _views(directory: Path) -> dict[str, ContractView]:
    return {dataset: view(c) for dataset, c in all_contracts(directory).items()}


def contract_view(dataset: str) -> ContractView:
    return contract_views()[dataset]


def dataset_suite(dataset: str) -> DatasetSuite:
    """The contract's `suite:` block, its columns checked against the dataset's lake columns."""
    return _suites(contracts_dir())[dataset]


@cache
def _suites(directory: Path) -> dict[str, DatasetSuite]:
    contracts, views = all_contracts(directory), _views(directory)
    for dataset, contract in contracts.items():
        lake = {c.name for c in views[dataset].columns}
        unknown = contract.suite.columns() - lake
        for ref in contract.suite.references:
            if ref.target_column not in {c.name for c in views[ref.target].columns}:
                unknown.add(f"{ref.target}.{ref.target_column}")
        if unknown:
            raise ContractError(
                f"{directory / dataset}.yaml: suite names {sorted(unknown)}, not lake columns of the dataset "
                f"(an ID is checked as its key, e.g. person_key; a name is not in the lake)"
            )
    return {dataset: contract.suite for dataset, contract in contracts.items()}
