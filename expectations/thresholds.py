"""Every threshold of the data-quality checks, in one place.

A threshold is a share (0.25 = 25 %), a factor (3.0 = three times) or a bound. Each check that uses one
names it in its description, so Data Docs and the ledger's `checks` table say which figure was applied.
Change a figure here and every suite follows; nothing else in `expectations/` holds a literal threshold
for these checks. Dataset-specific plausible ranges (ages, amounts) live with their dataset in
`expectations/datasets.py`, because they describe the data, not a policy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    # Volume of a snapshot against the previous good delivery of the same dataset: a roster that
    # shrinks or grows by more than this share is a truncated or doubled file (critical); monthly
    # churn of a low-income roster is a few per cent, so the warning share is well above it.
    snapshot_change_critical: float = 0.25
    snapshot_change_warning: float = 0.10
    # ... unless fewer rows than this differ: a small roster (a county's 防返贫 list) moves by a
    # large share through ordinary churn
    snapshot_change_min_rows: int = 10

    # Volume of an increment: its size follows events (deaths, disasters), so only extremes are
    # flagged. No rows at all is a warning: an empty increment changes nothing downstream, holding it
    # would not protect anything, but a department that stops sending must be noticed.
    increment_min_rows_warning: int = 1
    increment_change_factor_warning: float = 10.0  # rows more than ×10 or less than ÷10 the previous
    # Shares and sizes of small deliveries swing by chance (a week with 3 deaths, 2 of them without a
    # cause): fill rates are compared only when both deliveries have this many rows, and an
    # increment's size only when the previous one had this many.
    compare_min_rows: int = 50

    # Distribution shift of key amounts (median of the positive, non-reversal amounts) against the
    # previous good delivery: a median moving by more than this factor is a unit error (分 for 元,
    # ×100) or a broken export (critical); the warning factor catches softer drifts.
    median_shift_factor_critical: float = 3.0
    median_shift_factor_warning: float = 1.5

    # Null rates of optional columns: the share of filled values may fall by at most this many
    # points against the previous good delivery before a warning (a column that goes blank).
    optional_fill_drop_warning: float = 0.20

    # 医保 cost parts (总费用 = 统筹 + 大病 + 救助 + 个人负担): rows flagged `parts_mismatch` are landed
    # (docs/extracts.md#datasets); a few are normal, many mean the delivery's columns are shifted.
    parts_mismatch_share_warning: float = 0.01
    parts_mismatch_share_critical: float = 0.10

    # Referential integrity: mz_member rows whose household is missing from mz_household of the same
    # cut-off. Any is a warning (those members are not monitored, docs/rules.md#who-is-monitored); beyond this share
    # the two files do not belong together (critical).
    orphan_member_share_critical: float = 0.05

    # Duplicate keys within one delivery: the staging models keep one version of each key, so a few
    # duplicates (a member listed twice, a payment exported twice) are a warning; beyond this share of rows
    # sharing a key, the export itself is broken (doubled pages, a bad join at the department): critical.
    duplicate_key_share_critical: float = 0.01

    # Dates: event dates must not be after the delivery's cut-off (warning: the row stays usable) nor
    # before this year (a default date such as 1900-01-01 from a department system).
    earliest_plausible_year: int = 1949

    # Ages at the cut-off derived from the ID's birth date.
    max_plausible_age: int = 110


THRESHOLDS = Thresholds()
