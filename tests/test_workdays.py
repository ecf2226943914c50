"""China's working-day calendar: the package's view, two independent facts, and the deadline lookup."""

from __future__ import annotations

import datetime as dt
import logging

import holidays
import polars as pl
import pytest

from ingestion.workdays import (
    calendar_frame,
    is_working_day,
    nth_working_day_after,
    schedule_published,
    working_days_between,
)

D = dt.date


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _makeup_days_around_national_day_2026() -> list[dt.date]:
    cn = holidays.China(years=2026)
    return sorted(d for d in cn.weekend_workdays if D(2026, 9, 1) <= d <= D(2026, 10, 31))


def test_national_day_2026_week_is_off() -> None:
    assert [is_working_day(d) for d in _days(D(2026, 10, 1), D(2026, 10, 7))] == [False] * 7
    # independent known facts, not taken from the package
    assert not is_working_day(D(2026, 10, 1))
    assert is_working_day(D(2026, 10, 9))  # a Friday after the holiday week


def test_make_up_weekend_days_around_national_day_are_worked() -> None:
    makeup = _makeup_days_around_national_day_2026()
    assert makeup, "the package should list make-up days for 2026 National Day"
    for d in makeup:
        assert d.weekday() >= 5 and is_working_day(d), d
    # every other weekend day in September-October 2026 stays off
    others = [d for d in _days(D(2026, 9, 1), D(2026, 10, 31)) if d.weekday() >= 5 and d not in makeup]
    assert others and not any(is_working_day(d) for d in others)


def test_working_days_match_the_package_for_all_2026() -> None:
    cn = holidays.China(years=2026)
    for d in _days(D(2026, 1, 1), D(2026, 12, 31)):
        assert is_working_day(d) == cn.is_working_day(d), d


def test_nth_working_day_after_a_weekend() -> None:
    friday = D(2026, 11, 6)  # no holiday in November
    assert nth_working_day_after(friday, 1) == D(2026, 11, 9)
    assert nth_working_day_after(friday, 3) == D(2026, 11, 11)
    assert nth_working_day_after(D(2026, 11, 7), 1) == D(2026, 11, 9)  # from a Saturday


def test_nth_working_day_after_the_holiday() -> None:
    eve = D(2026, 9, 30)
    assert nth_working_day_after(eve, 1) == D(2026, 10, 8)
    assert nth_working_day_after(eve, 2) == D(2026, 10, 9)
    after_9th = [d for d in _makeup_days_around_national_day_2026() if d > D(2026, 10, 9)]
    assert nth_working_day_after(eve, 3) == (after_9th[0] if after_9th else D(2026, 10, 12))


def test_the_date_itself_is_not_counted() -> None:
    monday = D(2026, 11, 9)
    assert is_working_day(monday)
    assert nth_working_day_after(monday, 1) == D(2026, 11, 10)
    with pytest.raises(ValueError):
        nth_working_day_after(monday, 0)


def test_working_days_between() -> None:
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 9)) == 2
    assert working_days_between(D(2026, 11, 6), D(2026, 11, 6)) == 0
    assert working_days_between(D(2026, 11, 6), D(2026, 11, 9)) == 1
    assert working_days_between(D(2026, 11, 9), D(2026, 11, 6)) == -1


def test_calendar_frame_shape_and_index() -> None:
    frame = calendar_frame(D(2026, 1, 1), D(2026, 12, 31))
    assert frame.columns == ["date", "is_working_day", "working_day_index"]
    assert frame.height == 365 and frame["date"].is_sorted()
    steps = frame["working_day_index"].diff().fill_null(frame["working_day_index"][0])
    assert (steps == frame["is_working_day"].cast(pl.Int32)).all()
    with pytest.raises(ValueError):
        calendar_frame(D(2026, 2, 1), D(2026, 1, 1))


@pytest.mark.parametrize("n", [1, 3, 10, 30])
def test_calendar_lookup_equals_nth_working_day_after_for_every_day_of_2026(n: int) -> None:
    frame = calendar_frame(D(2025, 12, 1), D(2027, 3, 31))  # room for 30 working days after 31 December
    days = frame.filter(pl.col("date").dt.year() == 2026)
    working = frame.filter("is_working_day").select("date", "working_day_index")
    looked_up = (
        days.with_columns((pl.col("working_day_index") + n).alias("target"))
        .join(working.rename({"date": "deadline"}), left_on="target", right_on="working_day_index", how="left")
        .sort("date")
    )
    expected = [nth_working_day_after(d, n) for d in looked_up["date"]]
    assert looked_up["deadline"].to_list() == expected
    start = frame["date"][0]
    for d, idx in days.select("date", "working_day_index").iter_rows():
        assert working_days_between(start, d) == idx - frame["working_day_index"][0]


def test_schedule_published_and_fallback_year(caplog: pytest.LogCaptureFixture) -> None:
    assert schedule_published(2026)
    schedule_published.cache_clear()
    with caplog.at_level(logging.WARNING, logger="ingestion.workdays"):
        assert not schedule_published(2091)
    assert "2091" in caplog.text
    # statutory holidays still apply in an uncovered year
    assert not is_working_day(D(2091, 10, 1)) and not is_working_day(D(2091, 1, 1))
    assert is_working_day(D(2091, 10, 9)) == (D(2091, 10, 9).weekday() < 5)
