"""The suite of each dataset: generic checks from its contract plus the checks its `suite:` block declares.

`suite_checks(dataset)` is the whole suite as data; `expectations.gx_runtime` turns it into a GX
ExpectationSuite named after the dataset (one `expect_column_values_to_be_between` per check, on the
metrics frame). Critical checks hold a delivery back; warnings are recorded and reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from expectations import checks as k
from expectations.checks import CRITICAL, WARNING, Check, Metric, Severity, unique_names
from expectations.contract_view import ContractView, contract_view, contract_views, dataset_suite
from expectations.thresholds import THRESHOLDS as T
from ingestion.contract_suite import DatasetSuite, MedianBasis, Reference

TIERS: tuple[Severity, ...] = (CRITICAL, WARNING)
DATE_KINDS = ("date", "month")


def _volume(view: ContractView, rules: DatasetSuite) -> Iterator[Check]:
    rows = Metric("rows", k.ROWS)
    if view.kind == "snapshot":
        change = Metric("rows_change", k.ROWS_CHANGE)
        for tier in TIERS:
            share = T.snapshot_change_critical if tier == CRITICAL else T.snapshot_change_warning
            yield Check(
                f"row_count_vs_previous__{tier}",
                tier,
                change,
                -share,
                share,
                f"a snapshot's rows within ±{share:.0%} of the previous good delivery's",
            )
        return
    yield Check(
        "row_count_not_empty",
        WARNING,
        rows,
        T.increment_min_rows_warning,
        None,
        "an increment with no rows: did the department stop sending?",
    )
    if not rules.compare_volume:
        return
    factor = T.increment_change_factor_warning
    yield Check(
        "row_count_vs_previous",
        WARNING,
        Metric("rows_ratio", k.ROWS_RATIO),
        1 / factor,
        factor,
        f"an increment's rows within ÷{factor:g} … ×{factor:g} of the previous good delivery's",
    )


def _keys(view: ContractView) -> Iterator[Check]:
    if view.keys:
        keys = ", ".join(view.keys)
        private = bool(set(view.keys) & set(view.private))
        yield Check(
            "key_unique",
            WARNING,
            Metric("duplicate_key_rows", k.DUPLICATE_KEY_ROWS, view.keys, private=private),
            0,
            0,
            f"key ({keys}) unique within the delivery: no row shares its key (the models keep one version)",
        )
        share = T.duplicate_key_share_critical
        yield Check(
            "key_unique__critical",
            CRITICAL,
            Metric("duplicate_key_share", k.DUPLICATE_KEY_SHARE, view.keys, private=private),
            None,
            share,
            f"at most {share:.0%} of rows share a key ({keys}): more is a broken export",
        )


def _columns(view: ContractView, rules: DatasetSuite) -> Iterator[Check]:
    for col in view.columns:
        if col.required or col.has_default:
            yield Check(
                f"not_null__{col.name}",
                CRITICAL,
                Metric(f"null_rows__{col.name}", k.NULL_ROWS, (col.name,)),
                0,
                0,
                "required (or filled by default) at landing: never empty",
            )
        else:
            drop = T.optional_fill_drop_warning
            yield Check(
                f"fill_rate__{col.name}",
                WARNING,
                Metric(f"fill_drop__{col.name}", k.FILL_DROP, (col.name,)),
                None,
                drop,
                f"optional: filled share at most {drop:.0%} points below the previous delivery's",
            )
        if col.values:
            metric = Metric(f"unknown_values__{col.name}", k.UNKNOWN_VALUES, (col.name,), values=col.values)
            yield Check(f"in_set__{col.name}", CRITICAL, metric, 0, 0, "canonical enum values only")
        if col.kind in DATE_KINDS:
            yield from _date_bounds(col.name, col.name in rules.future_dates)


def _date_bounds(column: str, future_allowed: bool) -> Iterator[Check]:
    if not future_allowed:
        metric = Metric(f"days_after_cutoff__{column}", k.DAYS_AFTER_CUTOFF, (column,))
        yield Check(f"not_after_cutoff__{column}", WARNING, metric, None, 0, "no date after the delivery's cut-off")
    metric = Metric(f"earliest_year__{column}", k.EARLIEST_YEAR, (column,))
    yield Check(
        f"plausible_earliest__{column}",
        WARNING,
        metric,
        T.earliest_plausible_year,
        None,
        f"no date before {T.earliest_plausible_year} (a system default such as 1900-01-01)",
    )


def _ages(view: ContractView) -> Iterator[Check]:
    for birth in view.birth_dates:
        metric = Metric(
            f"age_out_of_range_rows__{birth}", k.AGE_OUT_OF_RANGE_ROWS, (birth,), low=0, high=T.max_plausible_age
        )
        yield Check(
            f"age_plausible__{birth}",
            WARNING,
            metric,
            0,
            0,
            f"age at the cut-off from the ID's birth date within 0 … {T.max_plausible_age}",
        )


def _parts(view: ContractView) -> Iterator[Check]:
    for flag in view.parts_flags:
        metric = Metric(f"share__{flag}", k.SHARE_TRUE, (flag,))
        for tier in TIERS:
            share = T.parts_mismatch_share_critical if tier == CRITICAL else T.parts_mismatch_share_warning
            yield Check(
                f"{flag}_share__{tier}",
                tier,
                metric,
                None,
                share,
                f"at most {share:.0%} of rows with cost parts not adding up to the total ({flag})",
            )


def _rules(rules: DatasetSuite) -> Iterator[Check]:
    for r in rules.ranges:
        metric = Metric(f"out_of_range_rows__{r.column}", k.OUT_OF_RANGE_ROWS, (r.column,), low=r.low, high=r.high)
        why = f" ({r.why})" if r.why else ""
        yield Check(f"range__{r.column}", WARNING, metric, 0, 0, f"plausible {r.column}: {r.low:,g} … {r.high:,g}{why}")
    for later, earlier in rules.ordered_dates:
        metric = Metric(f"misordered_rows__{later}__{earlier}", k.MISORDERED_ROWS, (later, earlier))
        yield Check(f"date_order__{later}__{earlier}", WARNING, metric, 0, 0, f"{later} not before {earlier}")
    for column, regex in rules.patterns:
        metric = Metric(f"pattern_mismatch_rows__{column}", k.PATTERN_MISMATCH_ROWS, (column,), pattern=regex)
        yield Check(f"pattern__{column}", WARNING, metric, 0, 0, f"{column} written as {regex}")
    for basis in rules.medians:
        yield from _median(basis)
    for ref in rules.references:
        yield from _reference(ref)


def _median(basis: MedianBasis) -> Iterator[Check]:
    columns = (basis.column, *(other for other, _ in basis.only_when))
    metric = Metric(f"median_ratio__{basis.column}", k.MEDIAN_RATIO, columns, only_when=basis.only_when)
    for tier in TIERS if basis.critical else (WARNING,):
        factor = T.median_shift_factor_critical if tier == CRITICAL else T.median_shift_factor_warning
        yield Check(
            f"median_shift__{basis.column}__{tier}",
            tier,
            metric,
            1 / factor,
            factor,
            f"median of positive {basis.column} within ÷{factor:g} … ×{factor:g} of the previous good delivery's",
        )


def _reference(ref: Reference) -> Iterator[Check]:
    metric = Metric(
        f"orphan_share__{ref.column}", k.ORPHAN_SHARE, (ref.column,), target=(ref.target, ref.target_column)
    )
    yield Check(
        f"reference__{ref.column}__warning",
        WARNING,
        metric,
        None,
        0,
        f"every {ref.column} found in {ref.target} of the same cut-off",
    )
    share = T.orphan_member_share_critical
    yield Check(
        f"reference__{ref.column}__critical",
        CRITICAL,
        metric,
        None,
        share,
        f"at most {share:.0%} of rows with a {ref.column} missing from {ref.target} of the same cut-off",
    )


def suite_checks(dataset: str) -> list[Check]:
    """Every check of a dataset's suite, in the order Data Docs shows them."""
    view, rules = contract_view(dataset), dataset_suite(dataset)
    return unique_names(
        [*_volume(view, rules), *_keys(view), *_columns(view, rules), *_ages(view), *_parts(view), *_rules(rules)]
    )


def all_suites() -> dict[str, list[Check]]:
    return {dataset: suite_checks(dataset) for dataset in contract_views()}


def reference_targets() -> set[str]:
    """Datasets other datasets refer to: checked first within a check step."""
    return {c.metric.target[0] for checks in all_suites().values() for c in checks if c.metric.target}
