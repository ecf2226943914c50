"""Every mart model and every column it produces is described in the dbt docs (analysts look columns up there).

Fast: `dbt parse` (no build) into a temporary target, then the manifest is compared with the columns each mart
model's SQL produces, read off the select list of its `final` CTE. The ledger tables published beside the mart are
documented as the dbt source `ledger`; their columns are compared with the ledger's own DDL (created in an
in-memory SQLite). When SAFETYNET_DOCS_WAREHOUSE names a built warehouse.duckdb, the SQL-derived column lists are
also checked against DESCRIBE of the built tables.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from analyst_fixtures import AnalystDemo, analyst_demo  # noqa: F401 - the session fixture

from ingestion.settings import DataRoot
from warehouse.build import dbt_environment

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "dbt_project"
MARTS = PROJECT / "models" / "marts"
LEDGER_TABLES = (
    "ledger_landings",
    "ledger_rejections",
    "ledger_checks",
    "ledger_holds",
    "ledger_runs",
    "ledger_exports",
    "ledger_pulls",
    "ledger_run_models",
    "ledger_data_tests",
    "ledger_build_refreshes",
)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from dbt.cli.main import dbtRunner

    tmp = tmp_path_factory.mktemp("dbt_docs")
    (tmp / "lake").mkdir()
    root = DataRoot(tmp)
    with dbt_environment(root):  # tmp as the data root: warehouse.duckdb and lake/ under it
        result = dbtRunner().invoke(
            [
                "parse",
                "--project-dir",
                str(PROJECT),
                "--profiles-dir",
                str(PROJECT),
                "--target-path",
                str(tmp / "target"),
                "--log-path",
                str(tmp / "logs"),
                "--quiet",
            ]
        )
    assert result.success, f"dbt parse failed: {result.exception}"
    return json.loads((tmp / "target" / "manifest.json").read_text(encoding="utf-8"))


def _mart_nodes(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")
    }


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside (), [], {} and quotes (Jinja `{{ … }}` included)."""
    parts, depth, quote, current = [], 0, None, []
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def sql_columns(sql: str) -> list[str]:
    """The columns of a model whose last CTE is `final as (select <explicit list> from …)` (the project style)."""
    sql = re.sub(r"--[^\n]*", "", sql)
    sql = re.sub(r"\{#.*?#\}", "", sql, flags=re.S)
    start = sql.rfind("final as (")
    assert start >= 0, "no `final` CTE"
    body = sql[start + len("final as (") :]
    depth, end = 1, None
    for i, ch in enumerate(body):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            end = i
            break
    body = body[:end]
    # the select list: from the first `select` to the first `from` at depth 0
    match = re.match(r"\s*select\s+(distinct\s+)?", body, flags=re.I)
    assert match, "`final` does not start with select"
    rest = body[match.end() :]
    depth, cut = 0, len(rest)
    for m in re.finditer(r"[()\[\]{}]|\bfrom\b", rest, flags=re.I):
        token = m.group(0)
        if token in "([{":
            depth += 1
        elif token in ")]}":
            depth -= 1
        elif depth == 0:
            cut = m.start()
            break
    columns = []
    for item in _split_top_level(rest[:cut]):
        assert not item.endswith("*"), f"`final` selects {item!r}: list the columns explicitly"
        name = re.search(r"(\w+)\s*$", item).group(1)
        columns.append(name.lower())
    return columns


def test_mart_sql_parser_reads_known_columns() -> None:
    columns = sql_columns((MARTS / "fct_warnings.sql").read_text(encoding="utf-8"))
    assert columns[:3] == ["warning_id", "rule_code", "sub_case"] and "run_date" in columns


def test_every_mart_model_and_column_is_described(manifest: dict) -> None:
    nodes = _mart_nodes(manifest)
    sql_files = {p.stem for p in MARTS.rglob("*.sql")}
    assert set(nodes) == sql_files
    problems = []
    for name, node in sorted(nodes.items()):
        if not (node.get("description") or "").strip():
            problems.append(f"{name}: model has no description")
        documented = {c.lower(): (v.get("description") or "").strip() for c, v in node["columns"].items()}
        produced = sql_columns((PROJECT / node["original_file_path"]).read_text(encoding="utf-8"))
        for column in produced:
            if column not in documented:
                problems.append(f"{name}.{column}: not in the yml")
            elif not documented[column]:
                problems.append(f"{name}.{column}: no description")
        for column in sorted(set(documented) - set(produced)):
            problems.append(f"{name}.{column}: documented but not produced by the SQL")
    assert not problems, "undocumented mart columns:\n" + "\n".join(problems)


def _ledger_ddl_columns() -> dict[str, list[str]]:
    from expectations.store import CHECKS_SCHEMA
    from ingestion.ledger import SCHEMA
    from warehouse.build_ledger import DDL as BUILD_DDL
    from warehouse.exports.ledger import _DDL as EXPORTS_DDL
    from warehouse.publish import LEDGER_TABLES as PUBLISHED_AS
    from warehouse.refresh_policy import DDL as REFRESH_DDL
    from warehouse.run import _RUNS_DDL

    con = sqlite3.connect(":memory:")
    con.executescript(SCHEMA)
    con.executescript(CHECKS_SCHEMA)
    con.executescript(_RUNS_DDL)
    con.execute(EXPORTS_DDL["exports"])
    for statement in BUILD_DDL.values():
        con.execute(statement)
    con.execute(REFRESH_DDL)
    return {name: [row[1] for row in con.execute(f'PRAGMA table_info("{t}")')] for t, name in PUBLISHED_AS.items()}


def test_ledger_source_documents_the_published_ledger(manifest: dict) -> None:
    sources = {s["name"]: s for s in manifest["sources"].values() if s["source_name"] == "ledger"}
    assert set(sources) == set(LEDGER_TABLES)
    ddl = _ledger_ddl_columns()
    problems = []
    for name, source in sorted(sources.items()):
        if not (source.get("description") or "").strip():
            problems.append(f"{name}: no description")
        documented = {c: (v.get("description") or "").strip() for c, v in source["columns"].items()}
        for column in ddl[name]:
            if not documented.get(column):
                problems.append(f"{name}.{column}: not described")
        for column in sorted(set(documented) - set(ddl[name])):
            problems.append(f"{name}.{column}: documented but not in the ledger DDL")
    assert not problems, "\n".join(problems)
    # documentation only: no model may read it (the ledger is SQLite, not in the warehouse)
    users = [
        n["name"]
        for n in manifest["nodes"].values()
        if any(s.startswith("source.safetynet.ledger.") for s in n.get("depends_on", {}).get("nodes", []))
    ]
    assert not users, f"models read the ledger source: {users}"


def test_published_source_documents_published_tables(manifest: dict) -> None:
    """published_tables (written by publish, not a dbt model) is documented column by column."""
    import duckdb

    from warehouse.mart_provenance import DDL, TABLE

    sources = {s["name"]: s for s in manifest["sources"].values() if s["source_name"] == "published"}
    assert set(sources) == {TABLE}
    con = duckdb.connect()
    con.execute(DDL)
    columns = [row[0] for row in con.execute(f"DESCRIBE main.{TABLE}").fetchall()]
    documented = {c: (v.get("description") or "").strip() for c, v in sources[TABLE]["columns"].items()}
    assert list(documented) == columns and all(documented.values())


def test_sql_columns_match_the_published_mart(manifest: dict, analyst_demo: AnalystDemo) -> None:
    """The column lists read from the SQL (and so the documented ones) are the built tables' columns."""
    import duckdb

    con = duckdb.connect(str(analyst_demo.root.published / "monitoring.duckdb"), read_only=True)
    try:
        published = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        marts = _mart_nodes(manifest)
        assert {"fct_warnings", "fct_identification", "mart_household_monitoring"} <= published & set(marts)
        for name, node in sorted(marts.items()):
            if name not in published:
                continue
            built = [r[0].lower() for r in con.execute(f'DESCRIBE main."{name}"').fetchall()]
            produced = sql_columns((PROJECT / node["original_file_path"]).read_text(encoding="utf-8"))
            assert built == produced, name
    finally:
        con.close()


def _described(node: object) -> list[dict]:
    """Every mapping of a dbt yml that has a name and a description (models, sources, columns, seeds)."""
    if isinstance(node, dict):
        own = [node] if "name" in node and "description" in node else []
        return own + [d for value in node.values() for d in _described(value)]
    if isinstance(node, list):
        return [d for value in node for d in _described(value)]
    return []


def test_no_description_is_cut_by_yaml() -> None:
    """A description written unquoted in a flow mapping (`{name: x, description: a, b}`) is cut at its comma, the
    rest becoming a key without a value; the docs then show half a sentence. Every such text is quoted."""
    import yaml

    cut = []
    for path in sorted(PROJECT.rglob("*.yml")):
        if {"target", "dbt_packages", "logs"} & set(path.relative_to(PROJECT).parts):
            continue
        for node in _described(yaml.safe_load(path.read_text(encoding="utf-8"))):
            fragments = [key for key, value in node.items() if value is None and key not in ("description",)]
            if fragments:
                cut.append(f"{path.relative_to(ROOT)}: {node['name']}: {node['description']!r} lost {fragments}")
    assert cut == []
