"""Places: real Shandong counties and townships from regions.csv, with invented villages under them.

The shipped regions.csv lists every township (real codes and names); a regions file without townships gets
invented ones, 9-digit codes (街道 001-099, 镇 100-199, 乡 200-299). Villages are invented 12-digit codes
(社区/居委会 001-199, 村 200-399). A village's 城乡类别 follows its kind, so the mix follows the township kind.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ingestion.reference import Reference


def _townships(county: str, is_district: bool, rng: np.random.Generator) -> list[tuple[str, str]]:
    streets = int(rng.integers(3, 7)) if is_district else int(rng.integers(1, 4))
    towns = int(rng.integers(1, 3)) if is_district else int(rng.integers(4, 9))
    rows = [(f"{county}{i + 1:03d}", "街道") for i in range(streets)]
    return rows + [(f"{county}{100 + i + 1:03d}", "乡镇") for i in range(towns)]


def _villages(township: str, kind: str, rng: np.random.Generator) -> list[tuple[str, str]]:
    communities = int(rng.integers(3, 7)) if kind == "街道" else int(rng.integers(1, 3))
    villages = int(rng.integers(0, 2)) if kind == "街道" else int(rng.integers(4, 10))
    rows = [(f"{township}{i + 1:03d}", "城市") for i in range(communities)]
    return rows + [(f"{township}{200 + i + 1:03d}", "农村") for i in range(villages)]


def build_villages(reference: Reference, rng: np.random.Generator) -> pl.DataFrame:
    """One row per village: village (12), township (9), county (6), township_kind, urban_rural."""
    regions = reference.regions
    given = regions.filter(pl.col("township_code").is_not_null())
    rows: list[tuple[str, str, str, str, str]] = []
    for county, name in reference.counties().select("county_code", "county_name").iter_rows():
        listed = given.filter(pl.col("county_code") == county)
        townships = (
            list(listed.select("township_code", "township_kind").iter_rows())
            if listed.height
            else _townships(county, name.endswith("区"), rng)
        )
        for township, kind in townships:
            rows += [(v, township, county, kind, ur) for v, ur in _villages(township, kind, rng)]
    return pl.DataFrame(rows, schema=["village", "township", "county", "township_kind", "urban_rural"], orient="row")
