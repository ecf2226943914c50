"""The build's failure policy (docs/failure_policy.md): what dbt's results mean for the run.

- Every data test is **blocking** (tag `blocking`, severity error: it guards what staff and analysts act on) or
  **advisory** (the project default, severity warn). A failing advisory test is recorded and shown, never stops a
  run; a failing blocking test stops it before anything is published.
- A model that errors stops only what depends on it; the run is then `degraded`. dbt skips more than that in two
  cases, which a repair pass builds again (`repair_pass`): a rule model (`int_warning_<rule>_…`) left out holds back
  the register, which unions every rule — it is built without that rule; and an advisory test that could not run
  (a runtime error, not failing rows) holds back its model's dependants — they are built without that test.

Pure functions of dbt's node results; nothing here runs dbt or writes the ledger (warehouse/build.py and
warehouse/build_ledger.py do).
"""

from __future__ import annotations

import re
from collections import defaultdict
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
    parents: tuple[str, ...] = ()  # the models it reads

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

    def built(self, model: str) -> bool:
        found = self.models.get(model)
        return found is not None and found.built

    @property
    def models_left_out(self) -> list[ModelOutcome]:
        return [m for m in self.models.values() if not m.built]

    @property
    def rules_not_evaluated(self) -> tuple[str, ...]:
        """Rule codes whose model was not built: the register, when built, was built without them."""
        return tuple(sorted({m.rule_code for m in self.models_left_out if m.rule_code}))

    @property
    def blocking_failures(self) -> list[DataTestOutcome]:
        return [t for t in self.tests.values() if t.blocking and t.failed]

    @property
    def advisory_failures(self) -> list[DataTestOutcome]:
        return [t for t in self.tests.values() if not t.blocking and t.failed]

    def merged_with(self, later: BuildOutcome) -> BuildOutcome:
        """This outcome with the nodes a later pass ran replaced by that pass's results (the graph, `parents`, is
        the first pass's: a later pass may read the register without some rules)."""
        models = {name: replace(m, parents=self.models[name].parents) if name in self.models else m
                  for name, m in later.models.items()}  # fmt: skip
        return BuildOutcome({**self.models, **models}, {**self.tests, **later.tests})


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
            parents = tuple(n.rsplit(".", 1)[-1] for n in node.depends_on.nodes if n.startswith("model."))
            models[node.name] = ModelOutcome(node.name, node.schema, state, message, parents)
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


# ------------------------------------------------------------------------------------ the repair pass


@dataclass(frozen=True)
class RepairPass:
    """`dbt build --select <models to build again> --exclude <tests that could not run>` with the rules left out."""

    select: tuple[str, ...]
    exclude: tuple[str, ...]
    rules_not_evaluated: tuple[str, ...]


def cannot_be_built(outcome: BuildOutcome) -> set[str]:
    """The models that errored and everything that reads them — but a rule model does not hold back the register
    (int_warnings_triggered), which is built without the rules left out."""
    children: dict[str, set[str]] = defaultdict(set)
    for model in outcome.models.values():
        for parent in model.parents:
            if not (model.model == REGISTER_MODEL and _RULE_MODEL.match(parent)):
                children[parent].add(model.model)
    blocked = {m.model for m in outcome.models.values() if m.status == "error"}
    stack = list(blocked)
    while stack:
        for child in children[stack.pop()] - blocked:
            blocked.add(child)
            stack.append(child)
    return blocked


def repair_pass(outcome: BuildOutcome) -> RepairPass | None:
    """The models dbt skipped that the policy wants built, or None: those held back only by a rule model left out
    of the register or by an advisory test that could not run. Tests that could not run are left out of the pass
    (their error stays recorded); the rules that cannot be built are passed in `rules_not_evaluated`."""
    blocked = cannot_be_built(outcome)
    again = tuple(sorted(m.model for m in outcome.models_left_out if m.model not in blocked))
    if not again:
        return None
    rules = tuple(sorted({m.rule_code for m in outcome.models.values() if m.rule_code and m.model in blocked}))
    errored = tuple(sorted(t.test for t in outcome.tests.values() if t.status == "error"))
    return RepairPass(again, errored, rules)


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
