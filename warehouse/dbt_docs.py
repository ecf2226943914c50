"""The documented mart for analysts: `dbt docs generate --static`, published beside the mart.

    generate_docs(root, run_date) -> <root>/published/docs/static_index.html

dbt runs in process (dbtRunner) against the warehouse, with the build's target folder (so its partial
parse is reused), under the warehouse write lock (dbt-duckdb opens the file for writing, and reads the
catalog that a concurrent build would be changing). The output is copied into a fresh folder that replaces
`published/docs/` in one rename, like the mart itself. `static_index.html` embeds the manifest and the
catalog: one file that opens offline; `index.html` + `manifest.json` + `catalog.json` are copied too for a
web server.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path

from ingestion import scratch
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

DOCS_DIR = "docs"
STATIC_PAGE = "static_index.html"
DOCS_FILES = (STATIC_PAGE, "index.html", "manifest.json", "catalog.json")
FOLDER_MODE, FILE_MODE = 0o755, 0o644


class DocsError(RuntimeError):
    """dbt could not generate the documentation."""


def generate_docs(root: DataRoot, run_date: dt.date, *, lock: bool = True) -> Path:
    """Generate the dbt docs of the warehouse as built at `run_date` and publish them; returns the
    published `static_index.html`. Pass `lock=False` when the caller already holds the warehouse lock."""
    from warehouse.lock import warehouse_write_lock

    if not root.warehouse_db.is_file():
        raise DocsError(f"{root.warehouse_db} does not exist: build before generating the docs")
    if lock:
        with warehouse_write_lock(root):
            target = _run_docs_generate(root, run_date)
    else:
        target = _run_docs_generate(root, run_date)
    published = _publish(target, root.published / DOCS_DIR)
    log.info("dbt docs of %s published to %s", run_date, published.parent)
    return published


def _run_docs_generate(root: DataRoot, run_date: dt.date) -> Path:
    """`dbt docs generate --static`; returns dbt's target folder holding the output."""
    from dbt.cli.main import dbtRunner

    from warehouse.build import _common_args, _release_duckdb, dbt_environment

    args = ["docs", "generate", "--static", *_common_args(root, run_date)]
    with dbt_environment(root):
        try:
            outcome = dbtRunner().invoke(args)
        finally:
            _release_duckdb()
    if not outcome.success:
        raise DocsError(f"dbt docs generate at {run_date} failed: {outcome.exception or 'see dbt.log'}")
    target = Path(args[args.index("--target-path") + 1])
    missing = [name for name in DOCS_FILES if not (target / name).is_file()]
    if missing:
        raise DocsError(f"dbt docs generate left no {', '.join(missing)} in {target}")
    return target


def _publish(target: Path, published: Path) -> Path:
    """Copy the docs into a fresh folder beside `published`, then swap it in (a reader never sees a mix)."""
    published.parent.mkdir(parents=True, exist_ok=True)
    fresh, old = scratch.temp_path(published), scratch.temp_path(published)  # swept if this process stops
    fresh.mkdir()
    os.chmod(fresh, FOLDER_MODE)  # like the mart: analysts read, only the platform's account writes
    for name in DOCS_FILES:
        shutil.copyfile(target / name, fresh / name)
        os.chmod(fresh / name, FILE_MODE)
    if published.exists():
        published.rename(old)  # a folder cannot be renamed over a non-empty one: move it aside first
    fresh.rename(published)
    shutil.rmtree(old, ignore_errors=True)
    return published / STATIC_PAGE
