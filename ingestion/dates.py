"""Dates as the platform counts them: China time, and calendar-month arithmetic.

Cut-offs, deadlines, file dates and schedules are Beijing dates whatever the machine's zone; month arithmetic
clamps the day like DuckDB's `date + interval 'n month'` does, so Python and the dbt models agree.
"""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

CHINA_TZ_NAME = "Asia/Shanghai"  # departments deliver, and staff work, on China time
CHINA = ZoneInfo(CHINA_TZ_NAME)


def china_today() -> dt.date:
    """Today in China."""
    return dt.datetime.now(CHINA).date()


def china_time(moment: dt.datetime) -> dt.datetime:
    """`moment` in China time (a naive moment is taken as UTC, as Airflow gives them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA)


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic, clamping the day (2026-01-31 + 1 month = 2026-02-28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])
