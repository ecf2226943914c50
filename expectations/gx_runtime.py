"""Great Expectations, imported only here and only when a check step runs (the import takes ~7 s).

A file data context under `<data root>/gx/` keeps the suites, the validation results and the Data
Docs site, which is written to `<data root>/data_docs/`. One pandas datasource `deliveries`, one
dataframe asset and one checkpoint per dataset, validating the dataset's metrics frame (one row per
delivery, `expectations.metrics`); suites, validation definitions and checkpoints are added with
`add_or_update`, so reruns work. GX is kept quiet: no analytics, no progress bars, its loggers at
ERROR, its warnings swallowed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from expectations.checks import Check
from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

DATASOURCE = "deliveries"
BATCH = "pending"
SITE = "local_site"
INDEX = ["delivery", "sha256"]  # columns naming a delivery in GX results and Data Docs
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": INDEX,
    "return_unexpected_index_query": False,
}
_QUIET_LOGGERS = (
    "great_expectations",
    "great_expectations.core",
    "great_expectations.data_context",
    "great_expectations.expectations",
    "great_expectations.validator",
)


@dataclass(frozen=True)
class Verdict:
    """GX's answer for one check of one delivery."""

    success: bool
    error: str | None = None


@contextmanager
def quiet() -> Iterator[None]:
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


class GxRuntime:
    """A GX file context under the data root; create one per check step."""

    def __init__(self, root: DataRoot):
        with quiet():
            import great_expectations as gx

            self.gx = gx
            self.docs_dir = root.root / "data_docs"
            self.context = gx.get_context(mode="file", project_root_dir=str(root.root))
            self._configure()
            self.datasource = self.context.data_sources.add_or_update_pandas(DATASOURCE)
        self.docs_targets: list[Any] = []
        self.changed_suites: set[str] = set()  # suites (re)written in this step: their pages too
        self._checkpoints: dict[str, Any] = {}  # dataset → checkpoint, stored once per check step

    def _configure(self) -> None:
        variables = self.context.variables
        if variables.progress_bars != {"globally": False}:
            variables.progress_bars = {"globally": False}
            variables.save()
        site = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": f"{self.docs_dir}/"},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        names = list(self.context.get_site_names() or [])
        for name in names:
            if name != SITE:
                self.context.delete_data_docs_site(name)
        if SITE not in names:
            self.context.add_data_docs_site(SITE, site)
        elif (variables.data_docs_sites or {}).get(SITE) != site:
            self.context.update_data_docs_site(SITE, site)

    def _suite(self, dataset: str, checks: list[Check], fingerprint: str) -> Any:
        import great_expectations.expectations as gxe

        expectations = [
            gxe.ExpectColumnValuesToBeBetween(
                column=c.metric.name,
                min_value=c.low,
                max_value=c.high,
                severity=c.severity,
                meta={"check": c.name},
                notes=c.description or None,
            )
            for c in checks
        ]
        # built whole, then stored once: adding expectations one by one writes the store each time
        suite = self.gx.ExpectationSuite(
            name=dataset,
            expectations=expectations,
            meta={"source": "expectations/suites.py", "fingerprint": fingerprint},
        )
        return self.context.suites.add_or_update(suite)

    def _stored(self, dataset: str, fingerprint: str) -> Any | None:
        """The checkpoint stored by an earlier step, if its suite is still the one in the code."""
        try:
            checkpoint = self.context.checkpoints.get(dataset)
            suite = checkpoint.validation_definitions[0].suite
        except Exception:  # missing or unreadable: build it again
            return None
        return checkpoint if suite.meta.get("fingerprint") == fingerprint else None

    def _checkpoint(self, dataset: str, checks: list[Check]) -> Any:
        if dataset in self._checkpoints:
            return self._checkpoints[dataset]
        fingerprint = hashlib.sha256(repr(checks).encode()).hexdigest()[:16]
        stored = self._stored(dataset, fingerprint)
        if stored is not None:
            self._checkpoints[dataset] = stored
            return stored
        self.changed_suites.add(dataset)
        try:
            asset = self.datasource.get_asset(dataset)
        except LookupError:
            asset = self.datasource.add_dataframe_asset(dataset)
        try:
            batch = asset.get_batch_definition(BATCH)
        except KeyError:
            batch = asset.add_batch_definition_whole_dataframe(BATCH)
        definition = self.context.validation_definitions.add_or_update(
            self.gx.ValidationDefinition(name=dataset, data=batch, suite=self._suite(dataset, checks, fingerprint))
        )
        checkpoint = self.context.checkpoints.add_or_update(
            self.gx.Checkpoint(
                name=dataset, validation_definitions=[definition], actions=[], result_format=RESULT_FORMAT
            )
        )
        self._checkpoints[dataset] = checkpoint
        return checkpoint

    def validate(
        self, dataset: str, checks: list[Check], frame: pd.DataFrame, run_name: str
    ) -> dict[tuple[str, str], Verdict]:
        """Validate a dataset's metrics frame; returns (check, sha256) → verdict for every delivery."""
        from great_expectations.core.run_identifier import RunIdentifier

        with quiet():
            checkpoint = self._checkpoint(dataset, checks)
            result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_name))
        self.docs_targets.extend(result.run_results.keys())
        shas = frame["sha256"].tolist()
        verdicts: dict[tuple[str, str], Verdict] = {}
        for validation in result.run_results.values():
            for r in validation.results:
                verdicts |= _verdicts(r, shas)
        return verdicts

    def build_docs(self) -> Path | None:
        """Render this step's validation results and suites, and refresh the Data Docs index."""
        if not self.docs_targets:
            return None
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        suites = [ExpectationSuiteIdentifier(name=name) for name in sorted(self.changed_suites)]
        with quiet():
            self.context.build_data_docs(site_names=[SITE], resource_identifiers=[*self.docs_targets, *suites])
        self.docs_targets, self.changed_suites = [], set()
        return self.docs_dir / "index.html"


def _verdicts(r: Any, shas: list[str]) -> dict[tuple[str, str], Verdict]:
    name = r.expectation_config.meta["check"]
    exception = r.exception_info or {}
    if exception.get("raised_exception"):
        error = str(exception.get("exception_message"))
        log.error("check %s could not run: %s", name, error)
        return {(name, sha): Verdict(False, error) for sha in shas}
    failed = {row["sha256"] for row in (r.result or {}).get("unexpected_index_list") or []}
    if not r.success and not failed:  # GX failed it without naming a row: fail every delivery
        failed = set(shas)
    return {(name, sha): Verdict(sha not in failed) for sha in shas}
