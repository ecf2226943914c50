"""The failure policy's classification and decisions (docs/failure_policy.md), without building anything.

- Every dbt data test is classed: the blocking list below (what staff and analysts act on) is exactly the tests
  tagged `blocking` with severity error; every other test warns; every test stores its failures.
- warehouse/failure_policy.py decides from dbt's node results: the second pass for a broken rule, the one-line
  blocking message; warehouse/mart_provenance.py labels a mart table a build could not make.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ingestion.settings import DataRoot
from warehouse.build import PROJECT_DIR, dbt_environment
from warehouse.build_ledger import BuildRecord
from warehouse.failure_policy import (
    BuildOutcome,
    DataTestOutcome,
    ModelOutcome,
    RepairPass,
    blocking_message,
    classify,
    failing_keys,
    outcome_of,
    repair_pass,
)
from warehouse.mart_provenance import TableProvenance, current, kept
from warehouse.run import RunRecord, RunSummary, run_status

# The policy's blocking tests: the keys, dispatch, deadline, status and episode of fct_warnings, the register's
# continuity across runs, the keys of fct_identification. Everything else is advisory.
BLOCKING = {
    "unique_fct_warnings_warning_id",
    "not_null_fct_warnings_warning_id",
    "not_null_fct_warnings_county_code",
    "fct_warnings_township_in_county",
    "not_null_fct_warnings_raised_on",
    "not_null_fct_warnings_deadline",
    "fct_warnings_deadline_after_raised_on",
    "not_null_fct_warnings_status",
    "accepted_values_fct_warnings_status____________",
    "not_null_fct_warnings_episode",
    "fct_warnings_register_carried_forward",
    "unique_fct_identification_case_id",
    "not_null_fct_identification_case_id",
}


def _dbt(tmp: Path, *args: str) -> object:
    from dbt.cli.main import dbtRunner

    (tmp / "lake").mkdir(exist_ok=True)
    with dbt_environment(DataRoot(tmp)):
        result = dbtRunner().invoke(
            [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
             "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"), "--quiet"]
        )  # fmt: skip
    assert result.success, result.exception
    return result.result


@pytest.fixture(scope="module")
def data_tests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every data test node of the project's manifest, by name."""
    tmp = tmp_path_factory.mktemp("policy_manifest")
    _dbt(tmp, "parse")
    manifest = json.loads((tmp / "target" / "manifest.json").read_text(encoding="utf-8"))
    return {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test" and "unit_test" not in n["unique_id"]
    }


def test_every_data_test_is_blocking_or_advisory_as_the_policy_says(data_tests: dict[str, dict]) -> None:
    assert len(data_tests) > 150
    tagged = {name for name, n in data_tests.items() if "blocking" in n["tags"]}
    erroring = {name for name, n in data_tests.items() if n["config"]["severity"].lower() == "error"}
    assert tagged == BLOCKING
    assert erroring == BLOCKING
    assert {classify(n["tags"], n["config"]["severity"]) for name, n in data_tests.items() if name in BLOCKING} == {
        "blocking"
    }
    others = {name: n["config"]["severity"].lower() for name, n in data_tests.items() if name not in BLOCKING}
    assert set(others.values()) == {"warn"}
    assert all(n["config"]["store_failures"] for n in data_tests.values())
    assert {n["config"]["schema"] for n in data_tests.values()} == {"audit"}


def test_the_selectors_split_the_tests_by_class(tmp_path: Path) -> None:
    names = {str(line).rsplit(".", 1)[-1] for line in _dbt(tmp_path, "ls", "--selector", "blocking_tests")}
    assert names == BLOCKING


# ------------------------------------------------------------------------------------------- decisions


def _model(name: str, status: str = "built", *parents: str) -> ModelOutcome:
    return ModelOutcome(name, "intermediate", status, None, parents)


def _outcome(*models: ModelOutcome, errored_tests: tuple[str, ...] = ()) -> BuildOutcome:
    tests = {t: DataTestOutcome(t, "m", "advisory", "error", None) for t in errored_tests}
    return BuildOutcome({m.model: m for m in models}, tests)


RULES = ("int_warning_w01_medical_surge", "int_warning_w08_missed_entitlement")
REGISTER = [
    _model("int_warnings_triggered", "skipped", *RULES, "int_warning_rules"),
    _model("fct_warnings", "skipped", "int_warnings_triggered"),
    _model("mart_household_monitoring", "skipped", "fct_warnings"),
]


def test_a_broken_rule_gets_the_register_built_without_it() -> None:
    first = _outcome(
        _model("stg_cl", "built"),
        _model("int_warning_rules"),
        _model(RULES[0]),
        _model(RULES[1], "error", "stg_cl"),
        *REGISTER,
        _model("int_chain_disability_events", "error", "stg_cl"),
        _model("int_chain_events", "skipped", "int_chain_disability_events", "fct_warnings"),
    )
    repair = repair_pass(first)
    assert repair == RepairPass(("fct_warnings", "int_warnings_triggered", "mart_household_monitoring"), (), ("W08",))
    assert first.rules_not_evaluated == ("W08",)


def test_what_an_advisory_test_that_could_not_run_held_back_is_built_without_it() -> None:
    first = _outcome(
        _model("int_counties"),
        _model("int_monitored_households", "skipped", "int_counties"),
        _model(RULES[0], "skipped", "int_monitored_households"),
        _model(RULES[1], "skipped", "int_monitored_households"),
        *REGISTER,
        _model("int_warning_rules"),
        errored_tests=("bad_sql",),
    )
    repair = repair_pass(first)
    assert repair is not None and repair.rules_not_evaluated == () and repair.exclude == ("bad_sql",)
    assert set(repair.select) == {m.model for m in first.models_left_out}


def test_nothing_to_repair_downstream_of_a_model_that_errored() -> None:
    first = _outcome(
        _model("stg_mz", "error"),
        _model("int_monitored_households", "skipped", "stg_mz"),
        _model(RULES[0], "skipped", "int_monitored_households"),
        _model(RULES[1], "skipped", "int_monitored_households"),
        _model("int_warning_rules"),
        # the register reads the households too: it cannot be built, with or without the rules
        _model("int_warnings_triggered", "skipped", *RULES, "int_warning_rules", "int_monitored_households"),
        _model("fct_warnings", "skipped", "int_warnings_triggered"),
    )
    assert repair_pass(first) is None
    assert repair_pass(_outcome(_model("a"), _model("b", "error", "a"), _model("c", "skipped", "b"))) is None


def test_results_are_read_as_models_and_classed_data_tests() -> None:
    def node(name: str, kind: str, tags=(), severity="warn", attached=None):  # noqa: ANN001, ANN202
        return SimpleNamespace(
            name=name, resource_type=kind, schema="audit", tags=list(tags), config=SimpleNamespace(severity=severity),
            attached_node=attached, relation_name=f'"wh"."audit"."{name}"',
            depends_on=SimpleNamespace(nodes=["model.x.up", "source.x.lake.t"] if kind == "model" else []),
        )  # fmt: skip

    results = [
        SimpleNamespace(node=node("m", "model"), status="error", failures=None, message="Runtime Error\n  boom"),
        SimpleNamespace(node=node("t1", "test", attached="model.x.m"), status="warn", failures=4, message="Got 4"),
        SimpleNamespace(node=node("t2", "test", ["blocking"], "ERROR"), status="fail", failures=2, message="Got 2"),
        SimpleNamespace(node=node("t3", "test"), status="skipped", failures=None, message=None),
        SimpleNamespace(node=node("u", "unit_test"), status="pass", failures=0, message=None),
    ]
    outcome = outcome_of(results)
    assert outcome.models == {"m": ModelOutcome("m", "audit", "error", "Runtime Error boom", ("up",))}
    t1, t2, t3 = (outcome.tests[name] for name in ("t1", "t2", "t3"))
    assert (t1.test_class, t1.status, t1.failing_rows, t1.model, t1.stored_failures) == (
        "advisory", "fail", 4, "m", "audit.t1",
    )  # fmt: skip
    assert (t2.test_class, t2.status) == ("blocking", "fail") and outcome.blocking_failures == [t2]
    assert (t3.status, t3.failing_rows, t3.stored_failures) == ("skipped", None, None)
    assert outcome.advisory_failures == [t1] and [m.model for m in outcome.models_left_out] == ["m"]


def test_the_blocking_message_is_one_line_with_a_few_keys() -> None:
    rows = [{"unique_field": f"W01-{i:012x}", "n_records": 2} for i in range(5)]
    keys = failing_keys(rows)
    assert keys == ["W01-000000000000", "W01-000000000001", "W01-000000000002"]
    test = DataTestOutcome("unique_fct_warnings_warning_id", "fct_warnings", "blocking", "fail", 5)
    assert blocking_message(test, keys) == (
        "blocking test unique_fct_warnings_warning_id failed (5 rows): W01-000000000000, W01-000000000001, "
        "W01-000000000002"
    )
    assert failing_keys([{"case_id": "A1", "x": 1}]) == ["A1"] and failing_keys([{"a": 1}]) == ["1"]


def test_a_table_the_build_could_not_make_keeps_its_origin_and_since_when() -> None:
    r1, r2, r3 = (BuildRecord(dt.date(2026, m, 28), f"2026-{m:02d}-28T00:00", m) for m in (9, 10, 11))
    made = current("fct_assistance_chain", r1, 10)
    assert made == TableProvenance("fct_assistance_chain", r1.run_date, r1.built_at, True, None, 10)
    missing = kept("fct_assistance_chain", made, r2, 10)
    assert (missing.run_date, missing.is_current, missing.missing_since) == (r1.run_date, False, r2.run_date)
    still = kept("fct_assistance_chain", missing, r3, 10)  # missing since the first run that could not make it
    assert (still.run_date, still.missing_since) == (r1.run_date, r2.run_date)
    gap = kept("fct_identification", None, r2, None)  # nothing earlier to keep
    assert (gap.run_date, gap.row_count, gap.missing_since) == (None, None, r2.run_date)


def test_run_status() -> None:
    summary = RunSummary(dt.date(2026, 10, 31))
    assert run_status(RunRecord.of(summary), None) == "succeeded"
    summary.build = SimpleNamespace(
        degraded=True, warnings_raised=3, warnings_by_status={"待核查": 2, "已消除": 1}, reference_sources=[]
    )
    record = RunRecord.of(summary)
    assert run_status(record, None) == "degraded" and (record.warnings_raised, record.warnings_open) == (3, 2)
    assert run_status(record, "publish") == "failed"
