"""The same dbt project on DuckDB and on local Spark gives the same marts, row for row.

One small generated province (the generator's minimum, 100 households) is landed once and built with
`build(..., engine="duckdb")`, then the same models are run on Spark (`run_dbt(..., engine="spark")`, models
only: the data tests on Spark would double the time) and published into the same DuckDB file as
`build(..., engine="spark")` does. The warning register, the 认定 results and the household mart must be
identical.

Spark needs the optional extra (`uv sync --extra spark`) and Java 17. Without them the tests skip on a
developer machine and FAIL under CI=true, so that CI cannot pass without having run them.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
from warehouse.build import BuildResult, build, run_dbt
from warehouse.engines import publish_spark_marts, spark_dir, spark_session
from warehouse.generator import generate_province

RUN = dt.date(2026, 10, 31)
HOUSEHOLDS = 100
WARNING_COLUMNS = ["rule_code", "sub_case", "level", "household_id", "person_key", "episode", "warning_id"]
IDENTIFICATION_COLUMNS = [
    "application_id", "household_id", "review_kind", "result_category", "individual_cover_keys",
    "temp_assistance_amount",
]  # fmt: skip


def _spark_missing() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "pyspark / dbt-spark not installed (uv sync --extra spark)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java (Spark needs Java 17)"
    return None


def _require_spark() -> None:
    reason = _spark_missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the cross-engine test: {reason}")
    pytest.skip(reason)


Marts = dict[str, pl.DataFrame]
# DuckDB's marts, Spark's marts (its Parquet output), the DuckDB build, the published names, the marts then in DuckDB
Built = tuple[Marts, Marts, BuildResult, list[str], Marts]
MARTS = ["fct_warnings", "fct_identification", "mart_household_monitoring"]


def _marts(root: DataRoot, spark_output: Path | None = None) -> Marts:
    """The three compared marts, as text (engines type numbers differently: decimal(18,2) vs double), from the
    DuckDB warehouse file or from the Parquet Spark wrote (`spark_output`)."""
    columns = {"fct_warnings": WARNING_COLUMNS, "fct_identification": IDENTIFICATION_COLUMNS}
    with duckdb.connect(str(root.warehouse_db), read_only=True) as conn:
        out = {}
        for mart in MARTS:
            relation = f"read_parquet('{spark_output / mart}/*.parquet')" if spark_output else f"main.{mart}"
            out[mart] = _as_text(conn.sql(f"select {', '.join(columns.get(mart, ['*']))} from {relation}").pl())
        return out


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
    root = DataRoot(Path(tmp_path_factory.mktemp("cross_engine")))
    generate_province(root, households=HOUSEHOLDS, run_date=RUN, check_truth=False)
    land_inbox(root)
    on_duckdb = build(root, RUN, engine="duckdb")
    duck = _marts(root)
    run_dbt(root, RUN, "run", select=[f"+{m}" for m in MARTS], engine="spark")
    published = publish_spark_marts(spark_session(root), root)
    return duck, _marts(root, spark_dir(root) / "marts"), on_duckdb, published, _marts(root)


@pytest.mark.parametrize("mart", MARTS)
def test_spark_builds_the_same_mart(built: Built, mart: str) -> None:
    duck, spark, _, _, _ = built
    assert duck[mart].height > 0, f"{mart} is empty on DuckDB: the comparison would prove nothing"
    assert spark[mart].columns == duck[mart].columns
    assert_frame_equal(spark[mart], duck[mart])


def test_the_spark_marts_are_what_was_published(built: Built) -> None:
    """Publishing loaded Spark's marts into the DuckDB file: the register has this run's warnings."""
    _, spark, on_duckdb, published, after = built
    assert set(MARTS) <= set(published)
    for mart in MARTS:
        assert_frame_equal(after[mart], spark[mart])
    assert on_duckdb.warnings_raised > 0
    assert spark["fct_warnings"].height == on_duckdb.warnings_raised  # a first run: every warning is raised now
