"""The build's failure policy (docs/failure_policy.md): what dbt's results mean for the run.

- Every data test is **blocking** (tag `blocking`, severity error: it guards what staff and analysts act on) or
  **advisory** (the project default, severity warn). A failing advisory test is recorded and shown, never stops a
  run; a failing blocking test stops it before anything is published.
- A model that errors stops only what depends on it (dbt skips those); the run is then `degraded`. When a rule model
  (`int_warning_<rule>_…`) is among the models left out, the register is built again without that rule
  (`second_pass`), so that one broken rule does not stop the others.

Pure functions of dbt's node results; nothing here runs dbt or writes the ledger (warehouse/build.py and
warehouse/build_ledger.py do).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

BLOCKING_TAG = "blocking"
REGISTER_MODEL = "int_warnings_triggered"  # unions the rule models
WARNINGS_MODEL = "fct_warnings"
_RULE_MODEL = re.compile(r"^int_warning_([wd]\d{2})_")  # int_warning_w08_missed_entitlement → W08
# dbt's statuses as the ledger records them: a failing advisory test is `warn` in dbt, `fail` here (the class says
# whether it blocked)
_TEST_STATUS = {"pass": "pass", "warn": "fail", "fail": "fail", "error": "error", "runtime error": "error"}
_MODEL_STATUS = {"success": "built", "error": "error", "runtime error": "error", "skipped": "skipped"}
# columns that name a failing row in dbt's stored failures, in order of preference
_KEY_COLUMNS = ("unique_field", "warning_id", "case_id", "household_id", "person_key")
KEYS_SHOWN = 3


@dataclass(frozen=True)
class ModelOutcome:
    model: str
    schema: str
    status: str  # built, error, skipped
    message: str | None = None

    @property
    def built(self) -> bool:
        return self.status == "built"

    @property
    def rule_code(self) -> str | None:
        """W08 for int_warning_w08_missed_entitlement; None for a model that is not a rule's."""
        match = _RULE_MODEL.match(self.model)
        return match.group(1).upper() if match else None


@dataclass(frozen=True)
class DataTestOutcome:
    test: str
    model: str | None  # the model the test is attached to
    test_class: str  # blocking or advisory
    status: str  # pass, fail, error, skipped
    failing_rows: int | None
    message: str | None = None
    stored_failures: str | None = None  # schema.table of the failing rows in the warehouse

    @property
    def failed(self) -> bool:
        return self.status in ("fail", "error")

    @property
    def blocking(self) -> bool:
        return self.test_class == "blocking"


@dataclass(frozen=True)
class BuildOutcome:
    """What one build (one or two dbt passes) did to every model and data test."""

    models: dict[str, ModelOutcome] = field(default_factory=dict)
    tests: dict[str, DataTestOutcome] = field(default_factory=dict)
    rules_not_evaluated: tuple[str, ...] = ()  # rule codes the register was built without

    def built(self, model: str) -> bool:
        found = self.models.get(model)
        return found is not None and found.built

    @property
    def models_left_out(self) -> list[ModelOutcome]:
        return [m for m in self.models.values() if not m.built]

    @property
    def blocking_failures(self) -> list[DataTestOutcome]:
        return [t for t in self.tests.values() if t.blocking and t.failed]

    @property
    def advisory_failures(self) -> list[DataTestOutcome]:
        return [t for t in self.tests.values() if not t.blocking and t.failed]

    def merged_with(self, later: BuildOutcome) -> BuildOutcome:
        """This outcome with the nodes a later pass ran replaced by that pass's results."""
        return BuildOutcome(
            {**self.models, **later.models},
            {**self.tests, **later.tests},
            later.rules_not_evaluated or self.rules_not_evaluated,
        )


def outcome_of(results: Iterable[Any]) -> BuildOutcome:
    """dbt's node results (RunResult objects of `dbt build`) as models and data tests; unit tests are left out."""
    models: dict[str, ModelOutcome] = {}
    tests: dict[str, DataTestOutcome] = {}
    for result in results:
        node, status = result.node, str(result.status)
        kind = str(getattr(node, "resource_type", ""))
        if kind == "model":
            state = _MODEL_STATUS.get(status, status)
            message = _message(result) if state == "error" else None
            models[node.name] = ModelOutcome(node.name, node.schema, state, message)
        elif kind == "test":
            tests[node.name] = _data_test_outcome(result, node, status)
    return BuildOutcome(models, tests)


def _data_test_outcome(result: Any, node: Any, status: str) -> DataTestOutcome:
    failing = getattr(result, "failures", None)
    return DataTestOutcome(
        test=node.name,
        model=_attached_model(node),
        test_class=classify(node.tags, node.config.severity),
        status=_TEST_STATUS.get(status, status),
        failing_rows=int(failing) if failing is not None and status != "skipped" else None,
        message=_message(result) if status not in ("pass", "skipped") else None,
        stored_failures=_stored_failures(node) if status in ("warn", "fail") else None,
    )


def classify(tags: Iterable[str], severity: str) -> str:
    """blocking when the test carries the tag (its severity is error: tests/test_failure_policy.py checks both)."""
    return "blocking" if BLOCKING_TAG in set(tags) and str(severity).lower() == "error" else "advisory"


def _attached_model(node: Any) -> str | None:
    attached = getattr(node, "attached_node", None)
    if not attached:
        models = [n for n in node.depends_on.nodes if n.startswith("model.")]
        attached = models[0] if models else None
    return attached.rsplit(".", 1)[-1] if attached else None


def _stored_failures(node: Any) -> str | None:
    relation = getattr(node, "relation_name", None)
    return relation.replace('"', "").split(".", 1)[-1] if relation and relation.count(".") == 2 else relation


def _message(result: Any) -> str | None:
    lines = [line.strip() for line in str(result.message or "").splitlines() if line.strip()]
    return " ".join(lines[:3])[:1000] or None


# ------------------------------------------------------------------------------------ the register without a rule


@dataclass(frozen=True)
class SecondPass:
    """`dbt build --select int_warnings_triggered+ --exclude <each model that errored>+` with the rules left out."""

    rules_not_evaluated: tuple[str, ...]
    select: tuple[str, ...]
    exclude: tuple[str, ...]


def second_pass(first: BuildOutcome) -> SecondPass | None:
    """The pass that builds the register without the rules whose model was left out, or None when not needed.

    Needed when the register model was skipped and some rule model was not built. The models that errored are
    excluded with everything downstream of them in the second pass's graph, where the register no longer refers
    to the rules left out: it is built unless something else it reads failed too.
    """
    register = first.models.get(REGISTER_MODEL)
    rules = sorted({m.rule_code for m in first.models_left_out if m.rule_code})
    if register is None or register.built or not rules:
        return None
    errored = sorted(m.model for m in first.models_left_out if m.status == "error")
    return SecondPass(tuple(rules), (f"{REGISTER_MODEL}+",), tuple(f"{name}+" for name in errored))


def with_rules_not_evaluated(outcome: BuildOutcome, rules: Iterable[str]) -> BuildOutcome:
    return replace(outcome, rules_not_evaluated=tuple(rules))


# ------------------------------------------------------------------------------------ blocking failures


def failing_keys(rows: list[dict[str, Any]]) -> list[str]:
    """A few keys of a test's stored failing rows: the first key-like column, else the first column."""
    if not rows:
        return []
    column = next((c for c in _KEY_COLUMNS if c in rows[0]), next(iter(rows[0])))
    return [str(row[column]) for row in rows[:KEYS_SHOWN]]


def blocking_message(test: DataTestOutcome, keys: list[str]) -> str:
    """One line: `blocking test unique_fct_warnings_warning_id failed (3 rows): W01-1a2b…, W03a-…`."""
    rows = f"{test.failing_rows} row{'s' if test.failing_rows != 1 else ''}" if test.failing_rows else "error"
    detail = ", ".join(keys) if keys else (test.message or "see the stored failures")
    return f"blocking test {test.test} failed ({rows}): {detail}"
