"""docs/rules.md and docs/outputs.md agree with the code, and the project's docs link only to what exists.

- every published table has a section in docs/outputs.md listing exactly the columns its dbt yml documents;
- the county workbook's columns are listed in their order;
- every rule has its section in docs/rules.md, and a parameter quoted with a default (`name` [value]) exists with
  that shipped default;
- every relative link of README.md and docs/*.md points to a file of the repository (and to a heading there);
- every document named anywhere in code, dbt yml, docs or templates (`docs/rules.md#warnings`) is in the repository.
"""

from __future__ import annotations

import csv
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ingestion.reference import PARAMETERS, SHIPPED_DIR
from warehouse.exports.layout import HEADERS, RULE_NAMES
from warehouse.publish import LEDGER_TABLES, MART_TABLES

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
MARTS = REPO / "dbt_project" / "models" / "marts"
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _documented_in_dbt() -> dict[str, list[str]]:
    """Published table → its columns as the marts' yml files (models and the ledger source) describe them."""
    tables: dict[str, list[str]] = {}
    for path in sorted(MARTS.rglob("_*.yml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = spec.get("models", []) + [t for s in spec.get("sources", []) for t in s.get("tables", [])]
        for entry in entries:
            tables[entry["name"]] = [column["name"] for column in entry.get("columns", [])]
    return tables


def _section(text: str, heading: str) -> str:
    """The body under a `###`/`####` heading named `heading`, up to the next heading."""
    match = re.search(rf"^#{{3,4}} {re.escape(heading)}\n(.*?)(?=^#{{1,4}} |\Z)", text, re.M | re.S)
    assert match, f"no section '{heading}'"
    return match.group(1)


def _first_cells(body: str) -> list[str]:
    """The first cell of every data row of the tables in `body` (header and rule rows left out)."""
    cells = []
    for line in body.splitlines():
        if not line.startswith("|") or set(line) <= {"|", "-", " "}:
            continue
        cells.append(_CELL_SPLIT.split(line.strip().strip("|"))[0].strip().strip("`"))
    return cells[1:]


PUBLISHED = [*MART_TABLES, *LEDGER_TABLES.values()]


@pytest.mark.parametrize("table", PUBLISHED)
def test_every_published_column_is_in_outputs(table: str) -> None:
    dbt_columns = _documented_in_dbt().get(table)
    assert dbt_columns, f"{table} is published (warehouse/publish.py) but its columns are not documented in dbt"
    body = _section((DOCS / "outputs.md").read_text(encoding="utf-8"), table)
    documented = _first_cells(body)
    assert documented == dbt_columns, (
        f"docs/outputs.md '{table}' lists {documented}, the dbt docs {dbt_columns}: "
        f"missing {sorted(set(dbt_columns) - set(documented))}, extra {sorted(set(documented) - set(dbt_columns))}"
    )


def test_workbook_columns_are_in_outputs_in_order() -> None:
    body = _section((DOCS / "outputs.md").read_text(encoding="utf-8"), "Sheet 预警清单")
    assert _first_cells(body) == list(HEADERS)


@pytest.mark.parametrize("rule_code", list(RULE_NAMES))
def test_every_rule_has_its_section(rule_code: str) -> None:
    body = _section((DOCS / "rules.md").read_text(encoding="utf-8"), f"{rule_code} {RULE_NAMES[rule_code]}")
    assert "**Trigger" in body and "**Level:**" in body and "**Identity:**" in body, f"{rule_code}: incomplete"


def _shipped_defaults() -> dict[str, Decimal]:
    with (SHIPPED_DIR / PARAMETERS).open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["scope"] == "province"]
    return {row["parameter"]: Decimal(row["value"]) for row in sorted(rows, key=lambda r: r["effective_from"])[::-1]}


def test_parameters_in_rules_exist_with_their_defaults() -> None:
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    defaults = _shipped_defaults()
    quoted = re.findall(r"`([a-z0-9_]+)` \[([0-9.]+)", text)
    assert len(quoted) >= 20, "docs/rules.md should give parameters with their defaults as `name` [value]"
    wrong = [(name, value) for name, value in quoted if name not in defaults or defaults[name] != Decimal(value)]
    assert not wrong, f"docs/rules.md quotes parameters that do not exist or with another default: {wrong}"
    unnamed = [name for name in defaults if f"`{name}`" not in text]
    assert not unnamed, f"docs/rules.md never names parameter(s) {unnamed}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (CJK kept), spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def _link_resolves(page: Path, target: str) -> bool:
    """A relative link resolves to a file inside the repository, and its #anchor to a heading of a page."""
    file_part, _, anchor = target.partition("#")
    resolved = (page.parent / file_part).resolve() if file_part else page
    if not resolved.exists() or (REPO not in resolved.parents and resolved != REPO):
        return False
    return not anchor or resolved.suffix != ".md" or anchor in _anchors(resolved)


MARKDOWN = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_point_into_the_repository(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not ours to check
        if not _link_resolves(page, target):
            broken.append(target)
    assert not broken, f"{page.relative_to(REPO)}: links to nothing in the repository: {broken}"


# A document named in code, dbt yml, docs or templates: `docs/rules.md`, `contracts/README.md#…`, `BENCHMARKS.md`.
CITATION = re.compile(r"(?<![\w/.\-])((?:[\w.\-]+/)*[\w\-]+\.md)(?:#([\w\-]+))?(?!\()")  # not `mo.md(`
CITING = (".py", ".sql", ".yml", ".yaml", ".md", ".html", ".j2")


def _citing_files() -> list[Path]:
    """The project's files (tracked or new, not ignored by .gitignore: a benchmark's or a demo's output is not)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    return sorted(REPO / name for name in listed if name and Path(name).suffix in CITING and (REPO / name).is_file())


def _cited_file(citing: Path, cited: str, documents: list[Path]) -> Path | None:
    """The cited document: relative to the citing file or to the repository root, else the one repository document
    whose path ends so (`contracts/README.md`, a test's `DOCS / "rules.md"`)."""
    for base in (citing.parent, REPO):
        candidate = (base / cited).resolve()
        if candidate.is_file() and REPO in candidate.parents:
            return candidate
    ending = [d for d in documents if d.as_posix().endswith("/" + cited)]
    return ending[0] if len(ending) == 1 else None


def test_every_cited_document_is_in_the_repository() -> None:
    """Every `<name>.md` a file of the project names exists in the repository (and its #anchor is a heading there):
    a reader can open what the code, the dbt docs, the report and the docs point to."""
    broken, files = [], _citing_files()
    documents = [f for f in files if f.suffix == ".md"]
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in CITATION.finditer(text):
            cited, anchor = match[1], match[2]
            found = _cited_file(path, cited, documents)
            if found is None or (anchor and anchor not in _anchors(found)):
                line = text.count("\n", 0, match.start()) + 1
                broken.append(f"{path.relative_to(REPO)}:{line}: {match[0]}")
    assert broken == []
