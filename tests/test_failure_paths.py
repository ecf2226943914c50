"""The failure policy end to end (docs/failure_policy.md): each path proved by breaking something on purpose in a copy
of the dbt project ($SAFETYNET_DBT_PROJECT), never in the shipped models.

One small synthetic province is generated, landed and run once at R1 (2026-09-30) with the shipped project; each test
copies that data root and runs R2 (2026-10-31, the date the generator's truth holds for) with a broken copy:

- (a) an advisory data test fails, another cannot run at all → the run succeeds (nothing is left out), the failures
  are in the ledger, the published mart, the run summary and the report;
- (b) an advisory model errors at run time → the run is `degraded`, the chain is kept from R1 and labelled, the
  warnings equal the truth and the county workbooks go out;
- (c) a rule model errors → the other rules' warnings equal the truth minus that rule, the rule's R1 warnings are
  carried forward unchanged;
- (d) a blocking test fails → the run fails with one line naming the test and keys, the published mart is untouched.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from test_build_support import session_dir, shared_root
from typer.testing import CliRunner

from ingestion import ledger
from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
from synthetic import generate_province
from warehouse.build import PROJECT_DIR, PROJECT_ENV, read_register
from warehouse.cli import app
from warehouse.exports.report import report_name
from warehouse.failure_view import read_failures, summary_lines
from warehouse.publish import published_path
from warehouse.register import load_register
from warehouse.run import run_comparison

R1, R2 = dt.date(2026, 9, 30), dt.date(2026, 10, 31)
HOUSEHOLDS = 200
KEY = ["rule_code", "sub_case", "level", "household_id", "person_key", "episode"]
CARRIED = ["warning_id", "rule_code", "sub_case", "level", "household_id", "person_key", "episode", "evidence",
           "raised_on", "deadline", "first_run_date", "last_run_date", "trigger_amount"]  # fmt: skip
BOOM = "select error('boom: broken on purpose') as broken\n"


def _make(root: DataRoot) -> None:
    generate_province(root, households=HOUSEHOLDS, months=12, seed=20261031, run_date=R2)
    land_inbox(root)
    run_comparison(root, R1, docs=False, export=False)


@pytest.fixture(scope="module")
def after_r1(tmp_path_factory: pytest.TempPathFactory) -> DataRoot:
    """The province after a good run at R1 (read-only: each test works on a copy)."""
    return shared_root(session_dir(tmp_path_factory.getbasetemp()), "failure_paths_r1", _make)


def _copy(after_r1: DataRoot, tmp_path: Path) -> DataRoot:
    shutil.copytree(after_r1.root, tmp_path / "data")
    return DataRoot(tmp_path / "data")


def _broken_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    monkeypatch.setenv(PROJECT_ENV, str(project))
    return project


def _replace_model(project: Path, model: str, sql: str) -> None:
    (path,) = project.glob(f"models/**/{model}.sql")
    path.write_text(sql, encoding="utf-8")


def _keyed(frame: pl.DataFrame) -> set[tuple[str, ...]]:
    return {tuple(v or "" for v in row) for row in frame.select(KEY).iter_rows()}


def _truth(root: DataRoot) -> pl.DataFrame:
    return pl.read_csv(root.truth / "expected_warnings.csv", infer_schema_length=0)


def _triggered(root: DataRoot) -> pl.DataFrame:
    """Warnings whose trigger holds at R2 (the register also carries R1's)."""
    return read_register(root).filter(pl.col("last_run_date") == R2)


def _published(root: DataRoot, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(published_path(root)), read_only=True) as con:
        return con.sql(sql).pl()


def _run_row(root: DataRoot) -> dict:
    runs = ledger.read_table(root, "runs")
    return runs.filter(pl.col("run_date") == R2.isoformat()).row(-1, named=True)


def _workbooks(root: DataRoot) -> list[Path]:
    """County workbooks of R2 (the province's own, 370000_山东省_…, left out)."""
    found = (root.exports / R2.isoformat()).glob(f"37????_*_低收入人口预警清单_{R2}.xlsx")
    return sorted(p for p in found if not p.name.startswith("370000_"))


def test_a_failing_advisory_test_is_recorded_and_shown_but_never_stops_the_run(
    after_r1: DataRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, project = _copy(after_r1, tmp_path), _broken_project(tmp_path, monkeypatch)
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "households_all_suspect.sql").write_text(
        "-- fails on purpose: every monitored household is 'suspect'\n"
        "select household_id from {{ ref('mart_household_monitoring') }}\n",
        encoding="utf-8",
    )
    (project / "tests" / "counties_unreadable.sql").write_text(
        "-- cannot run (a runtime error, not failing rows); dbt would skip everything downstream of int_counties\n"
        "select no_such_column from {{ ref('int_counties') }}\n",
        encoding="utf-8",
    )
    summary = run_comparison(root, R2, docs=False)

    households = _published(root, "select count(*) as n from mart_household_monitoring")["n"].item()
    assert households > 0 and not summary.build.degraded and summary.build.models_left_out == []
    assert _run_row(root)["status"] == "succeeded"
    failed = [(t.test, t.model, t.test_class, t.status, t.failing_rows) for t in summary.build.advisory_failures]
    assert sorted(failed) == [
        ("counties_unreadable", "int_counties", "advisory", "error", None),
        ("households_all_suspect", "mart_household_monitoring", "advisory", "fail", households),
    ]
    recorded = _published(root, f"select * from ledger_data_tests where run_date = '{R2}' and status <> 'pass'")
    assert sorted(recorded.select("test", "model", "class", "status", "failing_rows").rows()) == sorted(failed)
    stored = _published(root, "select count(*) as n from audit.households_all_suspect")["n"].item()
    assert stored == households  # the failing rows themselves, for analysts
    assert _keyed(_triggered(root)) == _keyed(_truth(root))  # nothing else changed
    lines = summary_lines(read_failures(root, R2))
    assert lines == [
        "提示性检查 counties_unreadable（int_counties）无法执行（不影响本次运行）。",
        f"提示性检查 households_all_suspect（mart_household_monitoring）未通过：{households:,} 行不符，"
        "明细见发布库 audit 模式（不影响本次运行）。",
    ]
    report = (root.exports / R2.isoformat() / report_name(R2)).read_text(encoding="utf-8")
    assert "提示性数据检查未通过" in report and "households_all_suspect" in report and "counties_unreadable" in report


def test_a_model_that_errors_stops_only_its_dependants_and_the_run_is_degraded(
    after_r1: DataRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, project = _copy(after_r1, tmp_path), _broken_project(tmp_path, monkeypatch)
    _replace_model(project, "int_chain_disability_events", BOOM)
    chain_r1 = _published(root, "select * from fct_assistance_chain order by all")
    summary = run_comparison(root, R2, docs=False)

    left_out = {m.model: m.status for m in summary.build.models_left_out}
    assert left_out == {
        "int_chain_disability_events": "error", "int_chain_events": "skipped", "fct_assistance_chain": "skipped",
        "chain_missed_assistance": "skipped", "chain_duplicated_assistance": "skipped",
    }  # fmt: skip
    assert _run_row(root)["status"] == "degraded"
    models = ledger.read_table(root, "run_models").filter(pl.col("run_date") == R2.isoformat())
    assert dict(models.filter(pl.col("status") != "built").select("model", "status").rows()) == left_out
    assert "boom: broken on purpose" in models.filter(pl.col("status") == "error")["message"].item()
    # the warnings and identification are this run's, and they go out
    assert _keyed(_triggered(root)) == _keyed(_truth(root))
    assert _published(root, "select max(run_date) as d from fct_warnings")["d"].item() == R2
    assert summary.exports is not None and len(_workbooks(root)) == len(summary.exports.county_workbooks) > 0
    # the chain is R1's, kept and labelled; the warehouse holds nothing older than the build
    assert _published(root, "select * from fct_assistance_chain order by all").equals(chain_r1)
    provenance = _published(root, "select * from published_tables where not is_current order by table_name")
    assert provenance.select("table_name", "run_date", "missing_since").rows() == [
        (name, R1, R2) for name in ("chain_duplicated_assistance", "chain_missed_assistance", "fct_assistance_chain")
    ]
    with duckdb.connect(str(root.warehouse_db), read_only=True) as con:
        assert not con.sql(
            "select * from information_schema.tables where table_name = 'fct_assistance_chain'"
        ).fetchall()
    lines = summary_lines(read_failures(root, R2))
    chain = f"一户一条救助链（fct_assistance_chain）本次未能生成：沿用 {R1} 运行的版本（自 {R2} 起缺少新版本）。"
    assert chain in lines
    report = (root.exports / R2.isoformat() / report_name(R2)).read_text(encoding="utf-8")
    assert "本次运行未能生成的部分" in report and "一户一条救助链" in report and f"沿用 {R1} 运行的版本" in report


def test_a_broken_rule_does_not_stop_the_others_and_its_warnings_are_carried(
    after_r1: DataRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, project = _copy(after_r1, tmp_path), _broken_project(tmp_path, monkeypatch)
    _replace_model(project, "int_warning_w08_missed_entitlement", BOOM)
    w08_r1 = load_register(root, R1).filter(pl.col("rule_code") == "W08")
    assert w08_r1.height > 0, "R1 raised no W08 warning: nothing to carry"
    summary = run_comparison(root, R2, docs=False)

    assert summary.build.outcome.rules_not_evaluated == ("W08",)
    assert summary.build.advisory_failures == []  # the chain's W08 cross-check has nothing to compare with
    assert _run_row(root)["status"] == "degraded"
    truth = _truth(root)
    assert _keyed(_triggered(root)) == _keyed(truth.filter(pl.col("rule_code") != "W08"))
    assert truth.filter(pl.col("rule_code") == "W08").height > 0  # W08 would have fired at R2 too
    w08_r2 = load_register(root, R2).filter(pl.col("rule_code") == "W08")
    assert w08_r2.select(CARRIED).sort("warning_id").equals(w08_r1.select(CARRIED).sort("warning_id"))
    expected_status = pl.when(pl.col("deadline") < R2).then(pl.lit("逾期")).otherwise(pl.lit("待核查"))
    statuses = w08_r2.select("status", expected_status.alias("expected"))
    assert statuses["status"].to_list() == statuses["expected"].to_list()  # open, falling due as usual
    assert summary.exports is not None and _workbooks(root)
    assert "规则 W08（应享未享）本次未评估：其已有预警原样沿用，不因未评估而消除。" in summary_lines(
        read_failures(root, R2)
    )


def test_a_blocking_failure_keeps_the_last_published_mart_with_a_one_line_error(
    after_r1: DataRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, project = _copy(after_r1, tmp_path), _broken_project(tmp_path, monkeypatch)
    fct_warnings = next(project.glob("models/marts/fct_warnings.sql"))
    sql = fct_warnings.read_text(encoding="utf-8")
    assert sql.rstrip().endswith("select * from final")
    fct_warnings.write_text(sql + "union all\nselect * from final where rule_code = 'W04'\n", encoding="utf-8")
    before = published_path(root).read_bytes()

    outcome = CliRunner().invoke(app, ["run", "--date", R2.isoformat(), "--no-docs", "--data", str(root.root)])

    assert outcome.exit_code == 1
    line = outcome.output.strip().splitlines()[-1]
    match = re.fullmatch(r"blocking test unique_fct_warnings_warning_id failed \((\d+) rows\): (.+)", line)
    assert match, outcome.output
    with duckdb.connect(str(root.warehouse_db), read_only=True) as con:  # the build's broken register, unpublished
        duplicated = {
            r[0] for r in con.execute("select warning_id from main.fct_warnings where rule_code = 'W04'").fetchall()
        }
    assert len(duplicated) == _truth(root).filter(pl.col("rule_code") == "W04").height > 0
    assert int(match[1]) == len(duplicated) and set(match[2].split(", ")) <= duplicated
    assert published_path(root).read_bytes() == before
    run = _run_row(root)
    assert (run["status"], run["failed_step"]) == ("failed", "build") and line in run["error"]
    assert load_register(root, R2).is_empty()  # the next run carries R1's register, not a broken one
    assert not _workbooks(root)
