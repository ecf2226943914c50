"""The warning rules' catalogue: code, sub-case, name (the workbook's 预警类型), family and suggested action.

One file, dbt_project/seeds/warning_rules.csv, read here for the workbooks, the report and the run summary, and
written by the build as lake/_reference/warning_rules.parquet for the models (int_warning_rules). A new rule is a
row there, not a Python edit. It is the platform's own list, not reference data a user replaces.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass

from ingestion.reference import SHIPPED_DIR

CATALOGUE = SHIPPED_DIR / "warning_rules.csv"
COLUMNS = ("rule_code", "sub_case", "rule_name", "family", "suggested_action")
FAMILIES = ("进入", "拒止", "发现")


@dataclass(frozen=True)
class RuleEntry:
    rule_code: str
    sub_case: str  # "" when the rule has no sub-cases
    rule_name: str
    family: str
    suggested_action: str


@functools.cache
def warning_rules() -> tuple[RuleEntry, ...]:
    """Every rule and sub-case in the file's order; ValueError naming the row on a malformed one."""
    with CATALOGUE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{CATALOGUE}: columns {reader.fieldnames}, expected {list(COLUMNS)}")
        entries = []
        for row_number, row in enumerate(reader, start=2):
            entry = RuleEntry(*(row[c].strip() for c in COLUMNS))
            if not entry.rule_code or not entry.rule_name or entry.family not in FAMILIES:
                raise ValueError(f"{CATALOGUE}: row {row_number}: needs a rule_code, a rule_name, a family {FAMILIES}")
            entries.append(entry)
    keys = [(e.rule_code, e.sub_case) for e in entries]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{CATALOGUE}: a (rule_code, sub_case) appears twice")
    return tuple(entries)


def rule_names() -> dict[str, str]:
    """Rule code → name, in the catalogue's order (W01 … W11, D01, D02)."""
    return {e.rule_code: e.rule_name for e in warning_rules()}
