"""Dataset contracts: load the declarative YAML files into typed objects (format: contracts/README.md).

The one reader of the contracts: landing, the checks (`suite:` blocks, `ingestion.contract_suite`), the DAGs, the
generator and the report all take them from here. Nothing below knows a dataset by name. The folder is
ingestion/contracts/, or the one $SAFETYNET_CONTRACTS names (a copy with a department added, in a test).
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingestion.contract_suite import DatasetSuite, SuiteError, parse_suite

CONTRACTS_DIR = Path(__file__).parent / "contracts"
CONTRACTS_ENV = "SAFETYNET_CONTRACTS"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when libyaml is there: 10× faster
KINDS = frozenset({"text", "id", "date", "month", "amount", "int", "region", "region6", "enum"})
CHECKS = frozenset({"min_1", "not_after_cutoff", "date_not_after_cutoff", "positive", "matches_certificate_id"})
PII = frozenset({"name", "drop", "keyed", "lake_key"})
_UNIT = re.compile(r"\(元\)$")


class ContractError(ValueError):
    """A contract file that does not follow contracts/README.md."""


def header_key(text: str) -> str:
    """How headers are matched: full-width folded first, then trimmed, a trailing `(元)` ignored."""
    folded = unicodedata.normalize("NFKC", text.replace("\ufeff", "")).strip()
    return _UNIT.sub("", folded).strip()


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: str
    required: bool
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    default: str | None = None
    allow_negative: bool = False
    allow_negative_when: dict[str, str] = field(default_factory=dict)
    required_when: dict[str, str] = field(default_factory=dict)
    checks: tuple[str, ...] = ()
    pii: str | None = None  # name → vault; drop → not landed; keyed → keyed hash; lake_key → landed, never shown
    person: str | None = None  # pii name: the id field whose holder this name is
    lake_field: str | None = None  # pii keyed: the lake column of the hash
    length: int | None = None  # text: exactly this many characters (after trimming)
    upper_case: bool = False  # text: landed upper-cased
    unit_headers: dict[str, str] = field(default_factory=dict)  # amount: header unit → factor, `万元` → 10000

    @property
    def key(self) -> str:
        return header_key(self.header)

    def unit_keys(self) -> dict[str, str]:
        """Matched header keys that carry a unit (`注册资本(万元)`) → the factor their values are multiplied by."""
        return {f"{self.key}({unit})": factor for unit, factor in self.unit_headers.items()}

    def synonyms(self) -> dict[str, str]:
        """Every accepted enum spelling (canonical values and synonyms) → canonical value."""
        table: dict[str, str] = {}
        for canonical, synonyms in self.values.items():
            for spelling in (canonical, *synonyms):
                table[unicodedata.normalize("NFKC", spelling).strip()] = canonical
        return table


@dataclass(frozen=True)
class PartsCheck:
    """A flag (never a rejection): total differs from the sum of its parts beyond a tolerance."""

    flag: str
    total: str
    parts: tuple[str, ...]
    tolerance: str


@dataclass(frozen=True)
class Contract:
    dataset: str
    title: str
    department: str
    kind: str
    frequency: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    skip_row_when_empty: str | None = None
    parts_checks: tuple[PartsCheck, ...] = ()
    redelivery: str = (
        "replace"  # replace: a higher seq supersedes (docs/extracts.md); accumulate: every delivery counts
    )
    suite: DatasetSuite = field(default_factory=DatasetSuite)  # the dataset's own checks beyond the generic ones

    @property
    def department_name(self) -> str:
        """The delivering department as the title names it first (`民政`, `医保`, `核查反馈`)."""
        return self.title.split()[0] if self.title.strip() else self.department

    def column(self, field_name: str) -> Column:
        for col in self.columns:
            if col.field == field_name:
                return col
        raise KeyError(f"{self.dataset} has no field {field_name}")

    @property
    def required_headers(self) -> list[str]:
        return [col.header for col in self.columns if col.required]


def _column(raw: dict[str, Any], dataset: str) -> Column:
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ContractError(f"{dataset}: column {raw.get('header')} has unknown kind {kind!r}")
    values = {str(k): tuple(str(s) for s in (v or ())) for k, v in (raw.get("values") or {}).items()}
    if kind == "enum" and not values:
        raise ContractError(f"{dataset}: enum column {raw['header']} lists no values")
    checks = tuple(raw.get("checks") or ())
    if not set(checks) <= CHECKS:
        raise ContractError(f"{dataset}: column {raw['header']} has unknown checks {checks}")
    pii = raw.get("pii")
    if pii is not None and pii not in PII:
        raise ContractError(f"{dataset}: column {raw['header']} has unknown pii {pii!r}")
    default = raw.get("default")
    units = {str(k): str(v) for k, v in (raw.get("unit_headers") or {}).items()}
    if units and kind != "amount":
        raise ContractError(f"{dataset}: column {raw['header']} has unit_headers but is not an amount")
    length = raw.get("length")
    if (length is not None or raw.get("upper_case")) and kind != "text":
        raise ContractError(f"{dataset}: column {raw['header']} has length/upper_case but is not text")
    return Column(
        header=str(raw["header"]),
        field=str(raw["field"]),
        kind=kind,
        required=bool(raw.get("required", False)),
        values=values,
        default=None if default is None else str(default),
        allow_negative=bool(raw.get("allow_negative", False)),
        allow_negative_when={str(k): str(v) for k, v in (raw.get("allow_negative_when") or {}).items()},
        required_when={str(k): str(v) for k, v in (raw.get("required_when") or {}).items()},
        checks=checks,
        pii=pii,
        person=raw.get("person"),
        lake_field=raw.get("lake_field"),
        length=None if length is None else int(length),
        upper_case=bool(raw.get("upper_case", False)),
        unit_headers=units,
    )


def _validate(contract: Contract) -> None:
    fields = {col.field for col in contract.columns}
    keys = {col.key for col in contract.columns} | {k for col in contract.columns for k in col.unit_keys()}
    if len(fields) != len(contract.columns) or len(keys) != len(contract.columns) + sum(
        len(col.unit_headers) for col in contract.columns
    ):
        raise ContractError(f"{contract.dataset}: duplicate field or header")
    referenced = set(contract.keys)
    for col in contract.columns:
        referenced |= set(col.allow_negative_when) | set(col.required_when)
        if col.person:
            referenced.add(col.person)
        if col.pii == "keyed" and not col.lake_field:
            raise ContractError(f"{contract.dataset}: keyed column {col.header} needs lake_field")
    for check in contract.parts_checks:
        referenced |= {check.total, *check.parts}
    if contract.skip_row_when_empty:
        referenced.add(contract.skip_row_when_empty)
    if not referenced <= fields:
        raise ContractError(f"{contract.dataset}: references unknown fields {sorted(referenced - fields)}")


def _suite(raw: dict[str, Any] | None, dataset: str) -> DatasetSuite:
    try:
        return parse_suite(raw, dataset)
    except SuiteError as err:
        raise ContractError(str(err)) from None


def parse_contract(raw: dict[str, Any]) -> Contract:
    dataset = str(raw["dataset"])
    parts = tuple(
        PartsCheck(
            flag=str(p["flag"]),
            total=str(p["total"]),
            parts=tuple(p["parts"]),
            tolerance=str(p.get("tolerance", "0.01")),
        )
        for p in raw.get("parts_checks") or ()
    )
    contract = Contract(
        dataset=dataset,
        title=str(raw.get("title", dataset)),
        department=str(raw.get("department", "")),
        kind=str(raw["kind"]),
        frequency=str(raw.get("frequency", "")),
        keys=tuple(raw.get("keys") or ()),
        columns=tuple(_column(c, dataset) for c in raw["columns"]),
        skip_row_when_empty=raw.get("skip_row_when_empty"),
        parts_checks=parts,
        redelivery=str(raw.get("redelivery", "replace")),
        suite=_suite(raw.get("suite"), dataset),
    )
    if contract.redelivery not in ("replace", "accumulate"):
        raise ContractError(f"{dataset}: redelivery must be replace or accumulate")
    _validate(contract)
    return contract


def contracts_dir() -> Path:
    """ingestion/contracts/, unless $SAFETYNET_CONTRACTS names another folder."""
    chosen = os.environ.get(CONTRACTS_ENV, "").strip()
    return Path(chosen) if chosen else CONTRACTS_DIR


def all_contracts(directory: Path | None = None) -> dict[str, Contract]:
    """Every contract in the folder (default: `contracts_dir()`), by dataset code."""
    return _read_folder((directory or contracts_dir()).resolve())


@functools.cache
def _read_folder(directory: Path) -> dict[str, Contract]:
    contracts: dict[str, Contract] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            contract = parse_contract(yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER))
        except (KeyError, TypeError) as err:
            raise ContractError(f"{path}: not a contract ({err!r})") from None
        except ContractError as err:
            raise ContractError(f"{path}: {err}") from None
        if contract.dataset != path.stem:
            raise ContractError(f"{path.name} declares dataset {contract.dataset}")
        contracts[contract.dataset] = contract
    for contract in contracts.values():
        for ref in contract.suite.references:
            if ref.target not in contracts:
                raise ContractError(f"{contract.dataset}: suite reference to unknown dataset {ref.target!r}")
    return contracts


def load_contract(dataset: str) -> Contract:
    try:
        return all_contracts()[dataset]
    except KeyError:
        raise ContractError(f"no contract for dataset {dataset!r}") from None
