"""The documented mart: each run's `generate_docs` runs `dbt docs generate --static` against the warehouse and
publishes one self-contained page beside the mart."""

from __future__ import annotations

import json
import re

from analyst_fixtures import AnalystDemo, analyst_demo  # noqa: F401 - the session fixture

from warehouse.dbt_docs import DOCS_FILES

EXTERNAL = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=[\"']https?://", re.I)


def test_a_run_publishes_a_static_docs_page_beside_the_mart(analyst_demo: AnalystDemo) -> None:
    """`safetynet run` (run_comparison) ends its publish with `generate_docs`: one offline page per run."""
    page = analyst_demo.root.published / "docs" / "static_index.html"

    assert sorted(p.name for p in page.parent.iterdir()) == sorted(DOCS_FILES)
    html = page.read_text(encoding="utf-8")
    assert "fct_warnings" in html and "mart_household_monitoring" in html  # the manifest is embedded
    assert EXTERNAL.search(html) is None  # opens offline: no script, style or image from the network
    catalog = json.loads((page.parent / "catalog.json").read_text(encoding="utf-8"))
    warnings = next(n for key, n in catalog["nodes"].items() if key.endswith(".fct_warnings"))
    assert {"warning_id", "rule_code", "level", "status", "deadline"} <= {c.lower() for c in warnings["columns"]}
    manifest = json.loads((page.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["dbt_version"].startswith("1.11")
    assert manifest["metadata"]["invocation_id"]  # made by dbt for this warehouse, not copied
    assert not list(page.parent.parent.glob(".docs.*"))  # no temporary folder left beside
