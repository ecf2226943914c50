"""China's official working-day calendar, for warning and review deadlines (docs/rules.md#warnings).

Taken from the `holidays` package (`holidays.China`), not a hand-kept list: public holidays and the
State Council's substitute days off are not working days; the make-up working days it lists on a
weekend (调休上班, `weekend_workdays`) are working days.

The State Council publishes each year's schedule late in the year before. For a year the installed
package does not cover yet, `holidays.China` still gives that year's statutory holidays, but no
substitute days off and no make-up working days: deadlines in such a year are approximate until the
package is upgraded. `schedule_published(year)` says which case applies, and a warning is logged once
per such year.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import cache

import holidays
import polars as pl

log = logging.getLogger(__name__)

_ONE_DAY = dt.timedelta(days=1)


@cache
def _china(year: int) -> holidays.HolidayBase:
    # expand=False: a cached object must not grow other years behind our back
    return holidays.China(years=year, expand=False)


@cache
def _weekend_workdays(year: int) -> frozenset[dt.date]:
    # A make-up day can be listed with the next year's holidays (e.g. late December before New Year).
    days = _china(year).weekend_workdays | _china(year + 1).weekend_workdays
    return frozenset(d for d in days if d.year == year)


@cache
def schedule_published(year: int) -> bool:
    """True when the package knows the year's official schedule.

    Every year the package covers (2001-2026 in holidays 0.109) has at least one make-up weekend
    working day; a year without any is one whose schedule the package does not know yet.
    """
    known = bool(_weekend_workdays(year))
    if not known:
        log.warning("holidays %s has no official schedule for %d: statutory holidays only", holidays.__version__, year)
    return known


def is_working_day(d: dt.date) -> bool:
    """A weekday that is not a holiday, or a weekend day the State Council made a working day."""
    d = _as_date(d)
    schedule_published(d.year)
    if d.weekday() >= 5:
        return d in _weekend_workdays(d.year)
    return d not in _china(d.year)


def nth_working_day_after(d: dt.date, n: int) -> dt.date:
    """The Nth working day strictly after `d` (the date itself is not counted); n ≥ 1."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    day = _as_date(d)
    while n:
        day += _ONE_DAY
        n -= is_working_day(day)
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end`; negative when end is before start.

    Always equal to index(end) - index(start) of `calendar_frame`, so either can be used.
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return -working_days_between(end, start)
    return sum(is_working_day(start + _ONE_DAY * i) for i in range(1, (end - start).days + 1))


def calendar_frame(start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row per day from start to end inclusive: date, is_working_day, working_day_index.

    working_day_index counts working days from `start` up to and including the day, so the Nth working
    day after d is the working day whose index equals index(d) + n (give the frame enough days after
    the last date you look up: 30 working days need about 45 calendar days, more around Spring Festival).
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    dates = pl.date_range(start, end, interval="1d", eager=True).alias("date")
    working = pl.Series("is_working_day", [is_working_day(d) for d in dates], dtype=pl.Boolean)
    return pl.DataFrame([dates, working]).with_columns(
        pl.col("is_working_day").cast(pl.Int32).cum_sum().alias("working_day_index")
    )


def _as_date(d: dt.date) -> dt.date:
    return d.date() if isinstance(d, dt.datetime) else d
