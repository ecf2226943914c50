"""The engine a build runs on: DuckDB (default) or Apache Spark (local session, the optional `spark` extra).

    resolve_engine(None) -> "duckdb" | "spark"      # argument, else $SAFETYNET_ENGINE, else duckdb
    spark_session(root)                              # the local session dbt-spark's `session` method reuses
    register_lake(spark, root)                       # the dbt sources as Spark tables over the lake's Parquet
    publish_spark_marts(spark, root)                 # marts → Parquet → the published DuckDB file

DuckDB reads the lake through `external_location` (`read_parquet(...)`); dbt-spark has no such thing, so before
`dbt build --target spark` the same Parquet files are declared as unmanaged Spark tables named like the sources
(`mz.mz_household`, `reference.regions`, …). The schema is taken from every file (zero-row `_schema.parquet`
included: Spark's listing skips files starting with `_`, so an explicit schema keeps an empty dataset readable).
Publishing copies the marts into the DuckDB warehouse file, so that everything after the build (register,
exports, `identify`) reads one place whichever engine built it.
"""

from __future__ import annotations

import glob
import importlib.util
import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from ingestion.settings import DataRoot

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("duckdb", "spark")
ENV_ENGINE = "SAFETYNET_ENGINE"
PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
# The schema the marts live in (dbt_project.yml: marts → main); published as main.<table> in DuckDB.
MART_SCHEMA = "main"
_LAKE_VAR = re.compile(r"\{\{\s*env_var\('SAFETYNET_LAKE'[^}]*\}\}")
_READ_PARQUET = re.compile(r"read_parquet\('([^']+)'")


def resolve_engine(engine: str | None = None) -> Engine:
    """The engine asked for (argument, else $SAFETYNET_ENGINE, else duckdb); a ValueError names the choices."""
    name = (engine or os.environ.get(ENV_ENGINE) or "duckdb").strip().lower()
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
    return name  # type: ignore[return-value]


def spark_available() -> str | None:
    """Why a Spark build cannot run in this environment (missing extra, no Java), or None when it can."""
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "the spark engine needs the optional extra: uv sync --extra spark"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "the spark engine needs Java 17 (java on PATH or JAVA_HOME)"
    return None


def spark_dir(root: DataRoot) -> Path:
    """Spark's working files for this data root (warehouse tables, marts for publishing, scratch)."""
    return root.root / "spark"


def spark_session(root: DataRoot, *, cores: int = 2) -> SparkSession:
    """The local Spark session of this process, created with our settings before dbt's `getOrCreate` reuses it.

    In-memory catalog: the lake tables are declared again at every build, so no metastore (Derby) to keep.
    ANSI mode off: a division by zero or a bad cast gives null, as in DuckDB, instead of failing the build.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # the optional extra
        raise RuntimeError("the spark engine needs the optional extra: uv sync --extra spark") from exc
    # py4j logs every connection it closes at INFO, also from finalizers at interpreter exit (into closed streams)
    logging.getLogger("py4j").setLevel(logging.WARNING)
    work = spark_dir(root)
    if SparkSession.getActiveSession() is None:
        # a new in-memory catalog: the previous process's table folders would block `create table`
        shutil.rmtree(work / "warehouse", ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("safetynet")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", str(work / "warehouse"))
        .config("spark.local.dir", str(work / "tmp"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(2 * cores))
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("SAFETYNET_SPARK_MEMORY", "4g"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


@dataclass(frozen=True)
class LakeTable:
    """One dbt source and the Parquet it reads: a single file, or every file under a folder."""

    schema: str
    name: str
    pattern: str  # a file path, or a glob with `**`

    @property
    def location(self) -> str:
        return self.pattern.split("/**", 1)[0] if "**" in self.pattern else self.pattern

    def files(self) -> list[str]:
        if "*" not in self.pattern:
            return [self.pattern] if Path(self.pattern).exists() else []
        return sorted(glob.glob(self.pattern, recursive=True))


def lake_tables(lake: Path, project_dir: Path = PROJECT_DIR) -> list[LakeTable]:
    """Every dbt source with its Parquet location, read from the sources' `external_location` (the DuckDB form)."""
    out: list[LakeTable] = []
    for path in sorted((project_dir / "models").rglob("*.yml")):
        for source in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("sources", []) or []:
            out.extend(_source_tables(source, lake))
    return out


def _source_tables(source: dict, lake: Path) -> Iterator[LakeTable]:
    default = _external_location(source)
    for table in source.get("tables", []):
        location = _external_location(table) or default
        if not location:
            continue
        rendered = _LAKE_VAR.sub(str(lake), location).replace("{name}", table["name"])
        match = _READ_PARQUET.search(rendered)
        if match:
            yield LakeTable(source.get("schema", source["name"]), table.get("identifier", table["name"]), match[1])


def _external_location(node: dict) -> str | None:
    meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
    return meta.get("external_location")


def register_lake(spark: SparkSession, root: DataRoot) -> int:
    """Declare every source as an unmanaged Parquet table over the lake; returns how many."""
    tables = lake_tables(root.lake)
    for schema in sorted({t.schema for t in tables}):
        spark.sql(f"create database if not exists `{schema}`")
    for table in tables:
        files = table.files()
        if not files:
            raise FileNotFoundError(f"no Parquet for source {table.schema}.{table.name}: {table.pattern}")
        ddl = _spark_schema(files).toDDL()
        options = f"path '{_visible(table, root)}'"
        if "**" in table.pattern:
            options += ", recursiveFileLookup 'true', pathGlobFilter '*.parquet'"
        spark.sql(f"drop table if exists `{table.schema}`.`{table.name}`")
        spark.sql(f"create table `{table.schema}`.`{table.name}` ({ddl}) using parquet options ({options})")
    log.info("spark: %d lake tables declared", len(tables))
    return len(tables)


def _visible(table: LakeTable, root: DataRoot) -> str:
    """The table's location as Spark can read it: Spark ignores files named `_…` even when named, so a single
    such file (`_deliveries.parquet`) is read from a copy under the Spark folder."""
    location = Path(table.location)
    if "**" in table.pattern or not location.name.startswith(("_", ".")):
        return str(location)
    copy = spark_dir(root) / "lake" / f"{table.schema}.{table.name}.parquet"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(location, copy)
    return str(copy)


def _spark_schema(files: list[str]) -> Any:
    """The union of the files' schemas (by name, as DuckDB's union_by_name), read with pyarrow: Spark's own
    reader would skip the zero-row `_schema.parquet` even when named."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql.pandas.types import from_arrow_schema

    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    return from_arrow_schema(schema)


def publish_spark_marts(spark: SparkSession, root: DataRoot, schema: str = MART_SCHEMA) -> list[str]:
    """Copy every table of the marts' schema from Spark into the DuckDB warehouse file (replacing it)."""
    import duckdb

    out = spark_dir(root) / "marts"
    names = sorted(row.tableName for row in spark.sql(f"show tables in `{schema}`").collect() if not row.isTemporary)
    with duckdb.connect(str(root.warehouse_db)) as conn:
        conn.execute(f"create schema if not exists {schema}")
        for name in names:
            target = out / name
            spark.table(f"`{schema}`.`{name}`").write.mode("overwrite").parquet(str(target))
            drop_duckdb_object(conn, schema, name)  # a DuckDB build may have left a view of that name
            conn.execute(
                f'create table {schema}."{name}" as select * from read_parquet(?)', [str(target / "*.parquet")]
            )
    log.info("spark: %d marts published to %s", len(names), root.warehouse_db)
    return names


def drop_duckdb_object(conn: Any, schema: str, name: str) -> None:
    found = conn.execute(
        "select table_type from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()
    if found:
        kind = "view" if found[0] == "VIEW" else "table"
        conn.execute(f'drop {kind} {schema}."{name}"')
