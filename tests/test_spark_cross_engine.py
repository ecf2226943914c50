"""The same dbt project on DuckDB and on local Spark gives the same marts, row for row.

One small generated province (100 households: the generator plants every rule's scenarios whatever the size) is
landed once, copied, and each copy goes through the same whole comparison run (`run_comparison`, what
`safetynet run --engine …` calls) on one engine: land, check, dbt build with the data tests, the register,
publish. On Spark no model runs on DuckDB: the marts in the DuckDB file are the ones Spark wrote.
The warning register, the 认定 results and the household mart must be identical.

Spark needs the optional extra (`uv sync --extra spark`) and Java 17. Without them the tests skip on a
developer machine and FAIL under CI=true, so that CI cannot pass without having run them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
from synthetic import generate_province
from warehouse.engines import spark_available, spark_dir
from warehouse.publish import published_path
from warehouse.run import RunSummary, run_comparison

RUN = dt.date(2026, 10, 31)
HOUSEHOLDS = 100
WARNING_COLUMNS = ["rule_code", "sub_case", "level", "household_id", "person_key", "episode", "warning_id"]
IDENTIFICATION_COLUMNS = [
    "application_id", "household_id", "review_kind", "result_category", "individual_cover_keys",
    "temp_assistance_amount",
]  # fmt: skip


def _require_spark() -> None:
    reason = spark_available()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the cross-engine test: {reason}")
    pytest.skip(reason)


Marts = dict[str, pl.DataFrame]


@dataclass
class Built:
    duckdb: RunSummary
    spark: RunSummary
    duckdb_marts: Marts  # published by the DuckDB run
    spark_output: Marts  # the Parquet Spark wrote (spark/marts/)
    spark_marts: Marts  # published by the Spark run


MARTS = ["fct_warnings", "fct_identification", "mart_household_monitoring"]


def _published(root: DataRoot) -> Marts:
    with duckdb.connect(str(published_path(root)), read_only=True) as conn:
        return _marts(conn, {mart: f"main.{mart}" for mart in MARTS})


def _spark_output(root: DataRoot) -> Marts:
    with duckdb.connect() as conn:
        return _marts(conn, {mart: f"read_parquet('{spark_dir(root) / 'marts' / mart}/*.parquet')" for mart in MARTS})


def _marts(conn: duckdb.DuckDBPyConnection, relations: dict[str, str]) -> Marts:
    """The compared marts, as text (engines type numbers differently: decimal(18,2) vs double)."""
    columns = {"fct_warnings": WARNING_COLUMNS, "fct_identification": IDENTIFICATION_COLUMNS}
    return {
        mart: _as_text(conn.sql(f"select {', '.join(columns.get(mart, ['*']))} from {relation}").pl())
        for mart, relation in relations.items()
    }


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text, numbers normalised (no trailing zeros), rows in a fixed order."""
    columns = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype.is_numeric():
            col = col.cast(pl.Float64).round(6)
        columns.append(col.cast(pl.String).alias(name))
    out = frame.select(columns)
    return out.sort(out.columns, nulls_last=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    _require_spark()
    base = tmp_path_factory.mktemp("cross_engine")
    landed = DataRoot(base / "duckdb")
    generate_province(landed, households=HOUSEHOLDS, run_date=RUN, check_truth=False)
    land_inbox(landed)
    on_spark = DataRoot(base / "spark")
    shutil.copytree(landed.root, on_spark.root)
    runs = {
        engine: run_comparison(root, RUN, export=False, docs=False, engine=engine)
        for engine, root in (("duckdb", landed), ("spark", on_spark))
    }
    return Built(runs["duckdb"], runs["spark"], _published(landed), _spark_output(on_spark), _published(on_spark))


def test_both_runs_built_and_tested_every_model(built: Built) -> None:
    """Spark ran the whole dbt build (models and data tests), not a subset."""
    duck, spark = built.duckdb.build, built.spark.build
    assert duck.models_built > 70 and duck.tests_passed > 100
    assert (spark.models_built, spark.tests_passed) == (duck.models_built, duck.tests_passed)
    assert spark.warnings_by_rule_level == duck.warnings_by_rule_level
    assert len(duck.warnings_by_rule_level) >= 10, "the province should raise most rules' warnings"


@pytest.mark.parametrize("mart", MARTS)
def test_spark_builds_the_same_mart(built: Built, mart: str) -> None:
    duck, spark = built.duckdb_marts[mart], built.spark_output[mart]
    assert duck.height > 0, f"{mart} is empty on DuckDB: the comparison would prove nothing"
    assert spark.columns == duck.columns
    assert_frame_equal(spark, duck)


@pytest.mark.parametrize("mart", MARTS)
def test_the_spark_marts_are_what_was_published(built: Built, mart: str) -> None:
    """The Spark run published Spark's marts: its mart file holds what Spark wrote."""
    assert_frame_equal(built.spark_marts[mart], built.spark_output[mart])
