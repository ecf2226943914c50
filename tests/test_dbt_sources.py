"""Every dataset contract has its dbt source (staging/<dept>/_<dept>__sources.yml), documented column by column with
exactly the lake's columns (ingestion.lake.lake_schema): adding a department's contract without its source, or
changing a contract without its documentation, fails here rather than in a build."""

from __future__ import annotations

from pathlib import Path

import yaml

from ingestion.contracts import all_contracts
from ingestion.lake import lake_schema

STAGING = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "staging"


def _sources() -> dict[str, tuple[str, dict]]:
    """Source table name → (its department folder, the table's yml)."""
    found = {}
    for path in sorted(STAGING.glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            for table in source.get("tables", []):
                found[table["name"]] = (path.parent.name, table)
    return found


def test_every_contract_has_a_documented_source_with_the_lake_columns() -> None:
    sources = _sources()
    problems = []
    for dataset, contract in sorted(all_contracts().items()):
        if dataset not in sources:
            problems.append(f"{dataset}: no dbt source")
            continue
        folder, table = sources[dataset]
        columns = [c["name"] for c in table.get("columns", [])]
        if folder != contract.department:
            problems.append(f"{dataset}: source in staging/{folder}, contract department {contract.department}")
        if sorted(columns) != sorted(lake_schema(dataset).names):
            problems.append(f"{dataset}: columns {sorted(set(columns) ^ set(lake_schema(dataset).names))} differ")
        undocumented = [c["name"] for c in table.get("columns", []) if not str(c.get("description", "")).strip()]
        if undocumented:
            problems.append(f"{dataset}: undocumented {undocumented}")
    assert problems == []
