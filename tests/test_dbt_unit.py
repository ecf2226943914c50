"""dbt unit tests of the models (given rows → expected rows), and the no-literal-threshold rule.

One `dbt build --empty` on an empty lake: every model is built with zero rows (the unit tests need their
parents' columns), then every unit test runs. Data tests are left out here (nothing to test on zero rows).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.settings import DataRoot
from warehouse.build import PROJECT_DIR, prepare_inputs, run_dbt

RUN = dt.date(2026, 10, 31)
RULE_MODELS = [
    "int_warning_w01_medical_surge",
    "int_warning_w02_breadwinner_death",
    "int_warning_w03_unemployment",
    "int_warning_w04_disaster",
    "int_warning_w05_income_over",
    "int_warning_w06_death_not_exited",
    "int_warning_w07_duplicate_assistance",
    "int_warning_w08_missed_entitlement",
    "int_warning_w09_vehicles",
    "int_warning_w10_dwellings",
    "int_warning_w11_business",
    "int_warning_d01_medical_discovery",
    "int_warning_d02_disaster_discovery",
]


@pytest.fixture(scope="module")
def unit_results(tmp_path_factory: pytest.TempPathFactory) -> list:
    root = DataRoot(tmp_path_factory.mktemp("dbt_unit"))
    prepare_inputs(root, RUN)
    return run_dbt(root, RUN, "build", extra=["--empty", "--exclude", "test_type:data"])


def _unit_tests(results: list) -> list:
    return [r for r in results if str(r.node.resource_type) == "unit_test"]


def test_every_unit_test_passes(unit_results: list) -> None:
    units = _unit_tests(unit_results)
    assert units, "no dbt unit test ran"
    failed = [(r.node.name, str(r.status), r.message) for r in units if str(r.status) != "pass"]
    assert failed == []


def test_every_rule_model_has_unit_tests(unit_results: list) -> None:
    tested = {r.node.tested_node_unique_id.split(".")[-1] for r in _unit_tests(unit_results)}
    assert [m for m in RULE_MODELS if m not in tested] == []
    # and the register logic: identity, re-raise, statuses
    assert {"int_warnings_triggered", "fct_warnings", "stg_ybj__settlements"} <= tested
    # holdings on a date (docs/verification.md) and the 核对 in identification (§4)
    holdings = {"int_vehicle_periods", "int_dwelling_periods", "int_business_periods", "int_household_vehicles",
                "int_household_dwellings", "int_household_businesses", "int_identification_holdings"}  # fmt: skip
    assert holdings <= tested


def _sql_without_comments(path: Path) -> str:
    text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return "\n".join(line.split("--")[0] for line in text.splitlines())


def _threshold_values() -> set[Decimal]:
    """Shipped parameter values that would only appear in SQL as a hard-coded threshold."""
    with (PROJECT_DIR / "seeds" / "rule_parameters.csv").open(encoding="utf-8") as handle:
        values = {Decimal(row["value"]) for row in csv.DictReader(handle)}
    return {v for v in values if v >= 100 or v != v.to_integral_value()}


def test_rule_sql_reads_thresholds_from_parameters() -> None:
    """docs/rules.md: every number is a parameter — no shipped threshold appears as a literal in the models."""
    suspects = _threshold_values()
    assert suspects, "the shipped parameters should contain amounts and shares"
    offending = []
    for path in sorted((PROJECT_DIR / "models").rglob("*.sql")):
        for token in re.findall(r"(?<![\w.'])\d+(?:\.\d+)?(?![\w'])", _sql_without_comments(path)):
            if Decimal(token) in suspects:
                offending.append(f"{path.relative_to(PROJECT_DIR)}: {token}")
    assert offending == []
