"""Thresholds at the run date, per county, from the reference data (never literals)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import polars as pl

from ingestion.reference import Reference

CENT = Decimal("0.01")


def cents(value: Decimal | int | float | str) -> int:
    """Whole cents of an amount (exact for Decimal/str input)."""
    return int((Decimal(str(value)) * 100).to_integral_value())


def floor_cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value(rounding=ROUND_FLOOR))


def ceil_cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value(rounding=ROUND_CEILING))


class RunParams:
    """Parameters, dibao standard S and disposable income D in force on the run date."""

    def __init__(self, reference: Reference, run_date: dt.date):
        self.reference = reference
        self.run_date = run_date
        self._cache: dict[tuple[str, str, str], Decimal] = {}

    def _cached(self, kind: str, a: str, b: str) -> Decimal:
        key = (kind, a, b)
        if key not in self._cache:
            lookup = {
                "p": lambda: self.reference.parameter(a, b, self.run_date),
                "s": lambda: self.reference.dibao_standard(a, b, self.run_date),
                "d": lambda: self.reference.disposable_income(a, b, self.run_date),
            }
            self._cache[key] = lookup[kind]()
        return self._cache[key]

    def p(self, name: str, county: str) -> Decimal:
        return self._cached("p", name, county)

    def i(self, name: str, county: str) -> int:
        return int(self.p(name, county))

    def s(self, county: str, urban_rural: str) -> Decimal:
        return self._cached("s", county, urban_rural)

    def d(self, county: str, urban_rural: str) -> Decimal:
        return self._cached("d", county, urban_rural)

    def county_table(self, counties: list[str]) -> pl.DataFrame:
        """Per county and 城乡类别: S, D (as cents) and the multipliers the background needs."""
        rows = []
        for county in counties:
            for ur in ("城市", "农村"):
                rows.append(
                    {
                        "county": county,
                        "urban_rural": ur,
                        "s_cents": cents(self.s(county, ur)),
                        "d_cents": cents(self.d(county, ur)),
                        "edge_m": float(self.p("edge_income_multiplier", county)),
                        "tekun_m": float(self.p("tekun_income_multiplier", county)),
                    }
                )
        return pl.DataFrame(rows)
