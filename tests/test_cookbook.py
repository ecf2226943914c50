"""Every query of the SQL cookbook (README.md, "For analysts") runs as written against the demo's published mart,
read-only, with the columns it promises and rows where the demo guarantees them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from analyst_fixtures import AnalystDemo, analyst_demo  # noqa: F401 - the session fixture

COOKBOOK = Path(__file__).resolve().parents[1] / "README.md"  # its section "For analysts"
QUESTION = re.compile(r"^#### (\d+)\. (.+?)\n(.*?)(?=^#{2,4} |\Z)", re.S | re.M)
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)

# question number → (columns in order, at least this many rows on the demo)
EXPECTED: dict[int, tuple[tuple[str, ...], int]] = {
    1: (("city_name", "county_code", "county_name", "households_at_risk", "red", "orange", "yellow", "overdue"), 1),
    2: (("county_code", "open_warnings", "overdue", "overdue_red", "next_deadline"), 1),
    3: (("event_date", "event_kind", "source_department", "category", "programme", "period", "amount",
         "description", "person_key"), 1),
    4: (("warning_id", "rule_code", "rule_name", "county_code", "township_code", "household_id", "raised_on",
         "deadline", "days_past_deadline", "evidence"), 1),  # red warnings of the first run are overdue at the second
    5: (("household_id", "county_code", "open_warnings", "rules", "first_deadline"), 1),
    6: (("city_name", "w01_warnings", "red", "self_paid_12m_total", "self_paid_12m_average", "self_paid_12m_max"), 1),
    7: (("county_code", "review_kind", "result_category", "cases", "with_individual_cover",
         "temp_assistance_total"), 1),
    8: (("application_id", "county_code", "requested_category", "result_category", "applied_on", "deadline",
         "working_days_elapsed", "review_deadline_working_days"), 1),  # the demo's applications go back a year
    9: (("department", "dataset", "reason", "rejected_cells", "rejected_rows", "files"), 1),
    10: (("dataset", "cutoff_date", "seq", "reason", "held_at", "file_name", "rows_landed"), 1),  # bad deliveries held
    11: (("county_code", "rule_code", "rule_name", "leads", "still_open"), 1),
    12: (("run_date", "rule", "red", "orange", "yellow", "raised"), 1),
    13: (("household_id", "county_code", "category", "recognised_on", "registered_vehicle_count",
          "vehicles_bought_while_assisted", "w09_level", "w09_status"), 2),  # the planted W09 橙 households
}  # fmt: skip


def questions() -> dict[int, tuple[str, str]]:
    """Question number → (title, its one SQL block)."""
    found: dict[int, tuple[str, str]] = {}
    for number, title, body in QUESTION.findall(COOKBOOK.read_text(encoding="utf-8")):
        blocks = SQL_BLOCK.findall(body)
        assert len(blocks) == 1, f"question {number} has {len(blocks)} sql blocks"
        found[int(number)] = (title, blocks[0])
    return found


def test_the_cookbook_has_the_questions_the_test_knows() -> None:
    found = questions()
    assert sorted(found) == list(range(1, len(found) + 1)) and len(found) >= 10
    assert sorted(found) == sorted(EXPECTED)


@pytest.fixture(scope="module")
def mart(analyst_demo: AnalystDemo) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(analyst_demo.mart), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_cookbook_query_runs_on_the_demo_mart(number: int, mart: duckdb.DuckDBPyConnection) -> None:
    title, sql = questions()[number]
    columns, min_rows = EXPECTED[number]
    relation = mart.sql(sql)  # a block may set a variable first: the last statement's result is returned
    assert relation is not None, title
    assert tuple(relation.columns) == columns, title
    rows = relation.fetchall()
    assert len(rows) >= min_rows, f"{title}: {len(rows)} rows"


def test_cars_bought_while_assisted_agree_with_w09(mart: duckdb.DuckDBPyConnection) -> None:
    """Every household whose W09 of the latest run is 橙 holds a car bought while assisted, and each listed car was
    first registered after the household's 认定日期 (a household under its limit is listed without a W09)."""
    _, sql = questions()[13]
    listed = {row[0]: row for row in mart.sql(sql).fetchall()}
    orange = {h for (h,) in mart.sql(
        "select household_id from fct_warnings where rule_code = 'W09' and level = '橙' and last_run_date = run_date"
    ).fetchall()}  # fmt: skip
    assert orange and orange <= set(listed)
    assert all(row[5] >= 1 and row[4] >= row[5] for row in listed.values())
    assert {row[6] for row in listed.values()} <= {"橙", None}


def test_held_deliveries_query_lists_every_hold(mart: duckdb.DuckDBPyConnection) -> None:
    _, sql = questions()[10]
    held = mart.sql(sql).fetchall()
    ((holds,),) = mart.sql(
        "select count(*) from ledger_holds where coalesce(cast(released as bigint), 0) = 0"
    ).fetchall()
    assert len(held) == holds and all(row[5] for row in held)  # each names its delivered file


def test_open_and_overdue_by_county_adds_up(mart: duckdb.DuckDBPyConnection) -> None:
    _, sql = questions()[2]
    rows = mart.sql(sql).fetchall()
    ((open_warnings, overdue),) = mart.sql(
        "select count(*) filter (where status in ('待核查', '逾期')), count(*) filter (where status = '逾期') "
        "from fct_warnings"
    ).fetchall()
    assert sum(r[1] for r in rows) == open_warnings and sum(r[2] for r in rows) == overdue > 0
