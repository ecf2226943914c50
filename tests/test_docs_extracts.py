"""docs/extracts.md agrees with what the platform reads: the contracts' columns, the reference files, the parameters.

A contract or a parameter changed without its documentation fails here, naming what to write.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.contracts import Column, Contract, all_contracts
from ingestion.reference import PARAMETERS, REFERENCE_FILES, SHIPPED_DIR, shipped_parameters

DOC = Path(__file__).resolve().parents[1] / "docs" / "extracts.md"


def _section(text: str, heading: str) -> str:
    """The body of `### heading`, up to the next heading of any level."""
    match = re.search(rf"^### {re.escape(heading)}\n(.*?)(?=^#{{1,3}} )", text + "\n# end", re.M | re.S)
    assert match, f"docs/extracts.md has no section '### {heading}'"
    return match.group(1)


def _table_rows(body: str) -> list[list[str]]:
    """Data rows of the markdown tables in `body`, as stripped cells (header and rule rows left out)."""
    rows = []
    for line in body.splitlines():
        if not line.startswith("|") or set(line) <= {"|", "-", " "}:
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:] if rows else rows  # the first row is the table's header


def _documented_columns(contract: Contract) -> dict[str, list[str]]:
    """Field → its row (header, field, kind, R/O, notes) in the dataset's table."""
    rows = _table_rows(_section(DOC.read_text(encoding="utf-8"), contract.dataset))
    return {row[1].strip("`"): row for row in rows if len(row) == 5}


def _spellings(column: Column) -> list[str]:
    return [spelling for canonical, synonyms in column.values.items() for spelling in (canonical, *synonyms)]


@pytest.mark.parametrize("dataset", sorted(all_contracts()))
def test_every_contract_column_is_documented(dataset: str) -> None:
    contract = all_contracts()[dataset]
    documented = _documented_columns(contract)
    fields = [column.field for column in contract.columns]
    assert sorted(documented) == sorted(fields), (
        f"docs/extracts.md '### {dataset}': documented fields {sorted(documented)} != contract fields {sorted(fields)}"
    )
    for column in contract.columns:
        header, _field, kind, required, _notes = documented[column.field]
        where = f"docs/extracts.md '### {dataset}', field {column.field}"
        assert header == column.header, f"{where}: header {header!r}, contract says {column.header!r}"
        assert kind.split(" ", 1)[0] == column.kind, f"{where}: kind {kind!r}, contract says {column.kind!r}"
        missing = [spelling for spelling in _spellings(column) if spelling not in kind]
        assert not missing, f"{where}: enum values or synonyms not listed: {missing}"
        assert required.split()[0] == ("R" if column.required else "O"), f"{where}: R/O is {required!r}"
        assert ("🔑" in required) == (column.field in contract.keys), f"{where}: key mark {required!r}"


@pytest.mark.parametrize("dataset", sorted(all_contracts()))
def test_dataset_kind_and_frequency_are_documented(dataset: str) -> None:
    contract = all_contracts()[dataset]
    first_line = _section(DOC.read_text(encoding="utf-8"), dataset).strip().splitlines()[0]
    expected = f"{contract.title} · {contract.kind} · {contract.frequency.replace('_', ' ')}"
    assert first_line.startswith(expected), f"docs/extracts.md '### {dataset}' opens with {first_line!r}"


def test_no_dataset_is_documented_without_a_contract() -> None:
    body = DOC.read_text(encoding="utf-8").split("\n## Datasets\n", 1)[1].split("\n## ", 1)[0]
    headings = re.findall(r"^### (\S+)$", body, re.M)
    assert headings, "docs/extracts.md: no dataset sections under '## Datasets'"
    assert sorted(headings) == sorted(all_contracts()), f"dataset sections {headings} != contracts"


@pytest.mark.parametrize("name", REFERENCE_FILES)
def test_reference_file_columns_are_documented(name: str) -> None:
    with (SHIPPED_DIR / name).open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    body = _section(DOC.read_text(encoding="utf-8"), name)
    missing = [column for column in header if f"`{column}`" not in body]
    assert not missing, f"docs/extracts.md '### {name}' does not name column(s) {missing}"


def _shipped_defaults() -> dict[str, Decimal]:
    """Each parameter's province value in force first (the shipped default)."""
    with (SHIPPED_DIR / PARAMETERS).open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["scope"] == "province"]
    defaults: dict[str, Decimal] = {}
    for row in sorted(rows, key=lambda r: r["effective_from"], reverse=True):
        defaults[row["parameter"]] = Decimal(row["value"])
    return defaults


def test_every_parameter_is_documented_with_its_default() -> None:
    rows = _table_rows(_section(DOC.read_text(encoding="utf-8"), PARAMETERS))
    documented = {row[0].strip("`"): Decimal(row[1]) for row in rows if len(row) == 4}
    defaults = _shipped_defaults()
    assert set(defaults) >= set(shipped_parameters())  # every parameter the platform uses is documented
    assert sorted(documented) == sorted(defaults), (
        f"docs/extracts.md parameters differ from rule_parameters.csv: "
        f"undocumented {sorted(set(defaults) - set(documented))}, unknown {sorted(set(documented) - set(defaults))}"
    )
    wrong = {name: (documented[name], value) for name, value in defaults.items() if documented[name] != value}
    assert not wrong, f"docs/extracts.md defaults (documented, shipped) differ: {wrong}"
