"""The checks a contract declares for its dataset beyond the generic ones (its `suite:` block).

The generic checks (volume, keys, required columns, enums, fill rates, dates, ages, parts flags) follow from a
contract's columns (`expectations.suites`); what the columns cannot say — plausible ranges, amounts whose median
must not jump, references to another dataset, date orders and patterns, dates that may be after the cut-off — is
written in the contract's `suite:` block (format: ingestion/contracts/README.md). Columns named here are lake
columns (`expectations.contract_view` checks that they exist). A contract without the block gets the generic
suite only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SuiteError(ValueError):
    """A `suite:` block that does not follow ingestion/contracts/README.md."""


@dataclass(frozen=True)
class Range:
    column: str
    low: float
    high: float
    why: str = ""


@dataclass(frozen=True)
class MedianBasis:
    """An amount whose median must not jump between deliveries (positive amounts only).

    `only_when` restricts the rows (column, values kept): reversals are left out of 医保 costs, and wage bases are
    those of the employee schemes (residents' bases are a tenth of them, and their share of a delivery varies).
    A jump beyond the critical factor holds the delivery when `critical`; otherwise the suite only warns.
    """

    column: str
    only_when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    critical: bool = True


@dataclass(frozen=True)
class Reference:
    """Rows of this dataset must find `column` in `target_column` of `target` of the same cut-off."""

    column: str
    target: str
    target_column: str


@dataclass(frozen=True)
class DatasetSuite:
    ranges: tuple[Range, ...] = ()
    medians: tuple[MedianBasis, ...] = ()
    references: tuple[Reference, ...] = ()
    ordered_dates: tuple[tuple[str, str], ...] = ()  # (later, earlier): later ≥ earlier when both set
    patterns: tuple[tuple[str, str], ...] = ()  # (column, regex)
    future_dates: frozenset[str] = field(default_factory=frozenset)  # may be after the cut-off
    compare_volume: bool = True  # rows against the previous delivery (not for files of varying origin)

    def columns(self) -> set[str]:
        """Every lake column the block names (of this dataset; a reference's target column is another's)."""
        named = {r.column for r in self.ranges} | {p[0] for p in self.patterns} | set(self.future_dates)
        named |= {m.column for m in self.medians} | {c for m in self.medians for c, _ in m.only_when}
        named |= {r.column for r in self.references} | {c for pair in self.ordered_dates for c in pair}
        return named


_KEYS = frozenset({"ranges", "medians", "references", "ordered_dates", "patterns", "future_dates", "compare_volume"})


def _entries(raw: dict[str, Any], key: str, wanted: set[str], dataset: str) -> list[dict[str, Any]]:
    entries = raw.get(key) or []
    for entry in entries:
        if not isinstance(entry, dict) or not set(entry) <= wanted:
            raise SuiteError(f"{dataset}: suite {key} entry {entry!r} may only have {sorted(wanted)}")
    return entries


def parse_suite(raw: dict[str, Any] | None, dataset: str) -> DatasetSuite:
    raw = raw or {}
    if not set(raw) <= _KEYS:
        raise SuiteError(f"{dataset}: unknown suite keys {sorted(set(raw) - _KEYS)}; expected {sorted(_KEYS)}")
    try:
        ranges = tuple(
            Range(str(r["column"]), float(r["low"]), float(r["high"]), str(r.get("why", "")))
            for r in _entries(raw, "ranges", {"column", "low", "high", "why"}, dataset)
        )
        medians = tuple(
            MedianBasis(
                str(m["column"]),
                tuple((str(c), tuple(str(v) for v in vs)) for c, vs in (m.get("only_when") or {}).items()),
                bool(m.get("critical", True)),
            )
            for m in _entries(raw, "medians", {"column", "only_when", "critical"}, dataset)
        )
        references = tuple(
            Reference(str(r["column"]), str(r["target"]), str(r["target_column"]))
            for r in _entries(raw, "references", {"column", "target", "target_column"}, dataset)
        )
        ordered = tuple(
            (str(o["later"]), str(o["earlier"])) for o in _entries(raw, "ordered_dates", {"later", "earlier"}, dataset)
        )
        patterns = tuple(
            (str(p["column"]), str(p["regex"])) for p in _entries(raw, "patterns", {"column", "regex"}, dataset)
        )
    except KeyError as missing:
        raise SuiteError(f"{dataset}: a suite entry lacks {missing}") from None
    except (TypeError, ValueError) as err:
        raise SuiteError(f"{dataset}: suite entry not understood: {err}") from None
    return DatasetSuite(
        ranges=ranges,
        medians=medians,
        references=references,
        ordered_dates=ordered,
        patterns=patterns,
        future_dates=frozenset(str(c) for c in raw.get("future_dates") or ()),
        compare_volume=bool(raw.get("compare_volume", True)),
    )
