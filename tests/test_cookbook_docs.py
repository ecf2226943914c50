"""The documented mart: `generate_docs` runs `dbt docs generate --static` against a warehouse and publishes one
self-contained page beside the mart (on a copy of the demo's warehouse, so the demo itself stays untouched)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from analyst_fixtures import AnalystDemo, analyst_demo  # noqa: F401 - the session fixture

from ingestion.settings import DataRoot
from warehouse.dbt_docs import DOCS_FILES, generate_docs

EXTERNAL = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=[\"']https?://", re.I)


def test_generate_docs_publishes_a_static_page_of_the_warehouse(analyst_demo: AnalystDemo, tmp_path: Path) -> None:
    demo_warehouse = analyst_demo.root.warehouse_db
    before = hashlib.sha256(demo_warehouse.read_bytes()).hexdigest()
    root = DataRoot(tmp_path / "data")
    root.root.mkdir()
    shutil.copyfile(demo_warehouse, root.warehouse_db)
    (root.root / "lake").symlink_to(analyst_demo.root.lake, target_is_directory=True)

    page = generate_docs(root, analyst_demo.latest)

    assert page == root.published / "docs" / "static_index.html"
    assert sorted(p.name for p in page.parent.iterdir()) == sorted(DOCS_FILES)
    html = page.read_text(encoding="utf-8")
    assert "fct_warnings" in html and "mart_household_monitoring" in html  # the manifest is embedded
    assert EXTERNAL.search(html) is None  # opens offline: no script, style or image from the network
    catalog = json.loads((page.parent / "catalog.json").read_text(encoding="utf-8"))
    warnings = next(n for key, n in catalog["nodes"].items() if key.endswith(".fct_warnings"))
    assert {"warning_id", "rule_code", "level", "status", "deadline"} <= {c.lower() for c in warnings["columns"]}
    manifest = json.loads((page.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["dbt_version"].startswith("1.11")
    assert hashlib.sha256(demo_warehouse.read_bytes()).hexdigest() == before
    assert not list(page.parent.parent.glob(".docs.*"))  # no temporary folder left beside
