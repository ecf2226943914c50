"""The independent checker: docs/rules.md's warnings and identification decided from the delivered records alone
(`truth_check.py` for the warnings, `identification_check.py` for identification)."""

from __future__ import annotations

import datetime as dt

from ingestion.reference import Reference
from synthetic.identification_check import identify
from synthetic.store import RecordStore
from synthetic.truth_check import Checker, CheckResult


def check(store: RecordStore, reference: Reference, run_date: dt.date, key: bytes) -> CheckResult:
    """The warnings and identification results of the delivered records, decided independently."""
    checker = Checker(store, reference, run_date, key)
    warnings = checker.run()
    return CheckResult(warnings, identify(checker))
