"""Shared helpers for the scenario catalogue: county rotation, members, month lists, settlement splits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from synthetic.calendar import add_months, month_start
from synthetic.params import cents
from synthetic.plant import Member, Person, Plant

OVERRIDE_COUNTY = "370102"  # edge_income_multiplier 2.0 in the shipped sample
OVERRIDE_CITY = "3702"  # 1.6 for the whole city


class Counties:
    """Hands out counties in a seeded rotation, so scenario instances spread across the province."""

    def __init__(self, counties: list[str], rng: np.random.Generator):
        order = list(rng.permutation(len(counties)))
        self._counties = [counties[i] for i in order]
        self._i = 0
        self.all = counties

    def take(self, n: int = 1) -> list[str]:
        out = []
        for _ in range(n):
            out.append(self._counties[self._i % len(self._counties)])
            self._i += 1
        return out

    def one(self) -> str:
        return self.take(1)[0]

    def in_city(self, city: str) -> str:
        return next(c for c in self.all if c.startswith(city) and c != OVERRIDE_COUNTY)

    def default_edge(self, p: Plant) -> str:
        """A county whose edge_income_multiplier is the province default (no city or county override)."""
        default = p.p("edge_income_multiplier", "370000")  # no such county: resolves to the province row
        while True:
            county = self.one()
            if p.p("edge_income_multiplier", county) == default:
                return county


def member(p: Plant, county: str, age: int, relation: str, labour: str | None = None, **kw: object) -> Member:
    who = p.person(county, age)
    if labour is None:
        labour = "有劳动能力" if 16 <= age <= 59 else "无劳动能力"
    return Member(who, relation, labour, **kw)  # type: ignore[arg-type]


def run_month(p: Plant, offset: int = 0) -> dt.date:
    """First day of the run month plus `offset` months."""
    return add_months(month_start(p.run), offset)


def months(p: Plant, first: int, last: int) -> list[dt.date]:
    """Month starts from run month + first to run month + last (inclusive), e.g. (-8, -1)."""
    return [run_month(p, i) for i in range(first, last + 1)]


def window_months(p: Plant) -> list[dt.date]:
    return [month_start(c) for c in p.schedule.monthly]


def spread(p: Plant, people: list[Person], total: int, ks: list[int], aid: int = 0, day: int = 15) -> list[str]:
    """Settlements of `total` cents self-paid, spread over people and snapshot months (exact sum)."""
    slots = [(who, k) for k in ks for who in people]
    share = total // len(slots)
    ids = []
    for i, (who, k) in enumerate(slots):
        amount = share if i < len(slots) - 1 else total - share * (len(slots) - 1)
        ids.append(p.settle(who, p.day_in(k, day), amount, aid=aid))
    return ids


def w01_threshold(p: Plant, county: str, income_yuan: int) -> int:
    """W01 threshold in cents: max(floor, share × 家庭年收入)."""
    floor = p.p("w01_floor", county)
    share = p.p("w01_income_share", county) * Decimal(income_yuan)
    return cents(max(floor, share))


def born_for_age_at(on: dt.date, age: int, birthday_offset_days: int) -> dt.date:
    """A birth date whose `age`-th birthday falls `birthday_offset_days` after `on` (0 = on the day)."""
    birthday = on + dt.timedelta(days=birthday_offset_days)
    born = add_months(birthday, -12 * age)
    if (born.month, born.day) == (2, 29):
        raise ValueError("pick another date: 29 February birthdays are ambiguous")
    return born
