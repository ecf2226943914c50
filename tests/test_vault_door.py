"""One door to the vault: only ingestion/vault.py may reach the vault's path (names and ID numbers live there).

Every other module of the product (and the generator and the DAGs) goes through `ingestion.vault`; this test reads
their source and fails on any attribute `.vault` of a data root, or a string naming the vault's folder or file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
PACKAGES = ("ingestion", "expectations", "warehouse", "dags", "notebooks", "synthetic", "bench")
THE_DOOR = PROJECT / "ingestion" / "vault.py"
DEFINES_THE_PATH = PROJECT / "ingestion" / "settings.py"  # DataRoot.vault: where it is, not opening it


def _modules() -> list[Path]:
    found = [p for package in PACKAGES for p in sorted((PROJECT / package).rglob("*.py"))]
    return [p for p in found if p not in (THE_DOOR, DEFINES_THE_PATH)]


def _is_data_root(node: ast.AST) -> bool:
    """`root`, `data_root`, `self.root`, `demo.root`: what DataRoot objects are called in this project."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name == "root" or name.endswith("_root")


def _touches_the_vault(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "vault" and _is_data_root(node.value):
            lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if "persons.parquet" in text or text.strip("/") == "vault" or text.startswith("vault/"):
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(PROJECT)))
def test_no_module_but_ingestion_vault_opens_the_vault(module: Path) -> None:
    lines = _touches_the_vault(ast.parse(module.read_text(encoding="utf-8")))
    assert not lines, f"{module.relative_to(PROJECT)} reaches the vault's path at lines {lines}: use ingestion.vault"


def test_the_check_sees_a_second_door() -> None:
    """The scan would catch the pattern the exports once used (reading vault/persons.parquet themselves)."""
    sneaky = "import polars as pl\ndef names(root):\n    return pl.read_parquet(root.vault / 'persons.parquet')\n"
    assert _touches_the_vault(ast.parse(sneaky)) == [3, 3]


def test_exports_read_identities_through_the_vault_module() -> None:
    from warehouse.exports import run

    assert run.identities.__module__ == "ingestion.vault"
