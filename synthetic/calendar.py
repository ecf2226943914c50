"""Delivery calendar: cut-off dates per cadence, month arithmetic and ages.

Cut-offs: docs/extracts.md#delivering-a-file; the school year: docs/rules.md#w08-应享未享.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from ingestion.dates import add_months, month_end

TERM_CUTOFFS = ((3, 31), (9, 30))  # student aid: spring and autumn term cut-offs


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def school_year(day: dt.date) -> str:
    """The school year running on `day`; it changes on 1 September (docs/rules.md#w08-应享未享)."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def previous_school_year(year: str) -> str:
    start = int(year[:4]) - 1
    return f"{start}-{start + 1}"


@dataclass(frozen=True)
class Schedule:
    """Every cut-off of the generated history: `months` months ending at the run date."""

    run_date: dt.date
    months: int
    monthly: tuple[dt.date, ...]
    weekly: tuple[dt.date, ...]
    quarterly: tuple[dt.date, ...]
    terms: tuple[dt.date, ...]

    @property
    def window_start(self) -> dt.date:
        """First day covered by the history (exclusive bound + 1 day)."""
        return add_months(self.run_date, -self.months) + dt.timedelta(days=1)

    def cutoffs(self, frequency: str) -> tuple[dt.date, ...]:
        table = {"monthly": self.monthly, "weekly": self.weekly, "quarterly": self.quarterly, "each_term": self.terms}
        return table[frequency]

    def first_cutoff_on_or_after(self, frequency: str, day: dt.date) -> dt.date | None:
        """The delivery that carries a record dated `day` (None when it would come after the run date)."""
        cutoffs = self.cutoffs(frequency)
        i = bisect.bisect_left(cutoffs, day)
        return cutoffs[i] if i < len(cutoffs) else None

    def month_index(self, day: dt.date) -> int | None:
        """Index of the monthly snapshot whose month contains `day`."""
        end = month_end(day)
        i = bisect.bisect_left(self.monthly, end)
        return i if i < len(self.monthly) and self.monthly[i] == end else None

    @property
    def school_years(self) -> tuple[str, ...]:
        """School years that have at least one student-aid delivery, in order."""
        return tuple(dict.fromkeys(school_year(d) for d in self.terms))


def build_schedule(run_date: dt.date, months: int) -> Schedule:
    """Cut-offs of every cadence in (run_date - months, run_date]."""
    start = add_months(run_date, -months)  # exclusive
    monthly = []
    end = month_end(run_date) if month_end(run_date) == run_date else month_start(run_date) - dt.timedelta(days=1)
    while end > start:
        monthly.append(end)
        end = month_start(end) - dt.timedelta(days=1)
    weekly = []
    day = run_date
    while day > start:
        weekly.append(day)
        day -= dt.timedelta(days=7)
    quarterly = [d for d in monthly if d.month in (3, 6, 9, 12)]
    terms = [
        dt.date(year, m, d)
        for year in range(start.year, run_date.year + 1)
        for m, d in TERM_CUTOFFS
        if start < dt.date(year, m, d) <= run_date
    ]
    return Schedule(
        run_date=run_date,
        months=months,
        monthly=tuple(sorted(monthly)),
        weekly=tuple(sorted(weekly)),
        quarterly=tuple(sorted(quarterly)),
        terms=tuple(sorted(terms)),
    )
