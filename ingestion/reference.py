"""Reference data: regions, dibao standards, disposable income and rule parameters.

Each of the four files (docs/extracts.md#reference-files) is read from `<data root>/reference/<name>` when the user has
put one there, else from the shipped sample seed in `dbt_project/seeds/`; the optional `villages.csv` (村(社区)
names for the workbooks) only from `<data root>/reference/`. Files as users have them are accepted: a UTF-8 BOM,
extra columns (ignored, logged), township kinds as the national statistical division list writes them (街道, 镇,
乡, or 乡镇 for either of the last two). Every file is validated on load (columns, kinds, codes against
regions.csv), so a bad override fails the run with the file, row and column named instead of silently changing
a threshold.

Parameter resolution: a county row beats a city row (first 4 digits of the county code), which beats
the province row; among rows of one scope the latest `effective_from` on or before the date applies.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import functools
import hashlib
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import polars as pl

from ingestion.settings import DataRoot

log = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
PROVINCE_CODE = "37"
PROVINCE_DISPATCH_COUNTY = "370000"  # docs/outputs.md#the-province-summary: province-level dispatch
URBAN_RURAL = ("城市", "农村")
TOWNSHIP_KINDS = ("街道", "镇", "乡", "乡镇")  # docs/extracts.md#reference-files: 乡镇 stands for either 镇 or 乡
SCOPES = ("province", "city", "county")
MAX_EDGE_INCOME_MULTIPLIER = Decimal("2.0")  # docs/rules.md#identification-认定: a county may set up to 2.0

# Every parameter the platform uses is a province row of the shipped rule_parameters.csv (its default;
# `shipped_parameters`). A user's file must give each a province row too, except these, which the shipped
# default fills when the file leaves them out (docs/extracts.md).
OPTIONAL_PARAMETERS: tuple[str, ...] = (
    "medical_window_months", "reraise_growth", "reraise_months", "review_deadline_working_days",
)  # fmt: skip

REGIONS, DIBAO, INCOME, PARAMETERS = (
    "regions.csv", "dibao_standard.csv", "disposable_income.csv", "rule_parameters.csv",
)  # fmt: skip
REFERENCE_FILES = (REGIONS, DIBAO, INCOME, PARAMETERS)
VILLAGES = "villages.csv"  # optional, never shipped: 村(社区) names for the workbooks

Origin = Literal["shipped", "override"]


class ReferenceError(ValueError):
    """A reference file that cannot be used; the message names the file, row and column."""


# --- value parsers: each returns the typed value or raises ValueError with a short reason ---------


def _digits(n: int) -> Callable[[str], str]:
    def parse(v: str) -> str:
        if not re.fullmatch(rf"\d{{{n}}}", v):
            raise ValueError(f"expected {n} digits")
        return v

    return parse


def _text(v: str) -> str:
    return v


def _one_of(*allowed: str) -> Callable[[str], str]:
    def parse(v: str) -> str:
        if v not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return v

    return parse


def _iso_date(v: str) -> dt.date:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return dt.date.fromisoformat(v)
    except ValueError:
        pass
    raise ValueError("expected a date YYYY-MM-DD")


def _year(v: str) -> int:
    if not re.fullmatch(r"(19|20)\d{2}", v):
        raise ValueError("expected a year such as 2025")
    return int(v)


def _decimal(scale: int) -> Callable[[str], Decimal]:
    def parse(v: str) -> Decimal:
        try:
            d = Decimal(v)
        except InvalidOperation:
            raise ValueError("expected a number") from None
        if not d.is_finite() or d < 0:
            raise ValueError("expected a number ≥ 0")
        if d.as_tuple().exponent < -scale:  # type: ignore[operator]
            raise ValueError(f"more than {scale} decimal places")
        return d

    return parse


@dataclass(frozen=True)
class _Col:
    name: str
    parse: Callable[[str], object]
    dtype: pl.DataType
    required: bool = True  # a value in every row
    in_spec: bool = True  # False: the column itself may be absent from the file (then all null)


_AMOUNT = pl.Decimal(14, 2)
_VALUE = pl.Decimal(20, 6)

_SCHEMAS: dict[str, tuple[_Col, ...]] = {
    REGIONS: (
        _Col("city_code", _digits(4), pl.String()),
        _Col("city_name", _text, pl.String()),
        _Col("county_code", _digits(6), pl.String()),
        _Col("county_name", _text, pl.String()),
        _Col("township_code", _digits(9), pl.String(), required=False),
        _Col("township_kind", _one_of(*TOWNSHIP_KINDS), pl.String(), required=False),
        # optional (docs/extracts.md#regionscsv): names the townships in the workbooks' 乡镇(街道) column
        _Col("township_name", _text, pl.String(), required=False, in_spec=False),
    ),
    VILLAGES: (
        _Col("village_code", _digits(12), pl.String()),
        _Col("village_name", _text, pl.String()),
    ),
    DIBAO: (
        _Col("county_code", _digits(6), pl.String()),
        _Col("county_name", _text, pl.String()),
        _Col("urban_rural", _one_of(*URBAN_RURAL), pl.String()),
        _Col("effective_from", _iso_date, pl.Date()),
        _Col("monthly_standard", _decimal(2), _AMOUNT),
    ),
    INCOME: (
        _Col("county_code", _digits(6), pl.String()),
        _Col("county_name", _text, pl.String()),
        _Col("urban_rural", _one_of(*URBAN_RURAL), pl.String()),
        _Col("year", _year, pl.Int32()),
        _Col("per_capita_disposable_income", _decimal(2), _AMOUNT),
    ),
    PARAMETERS: (
        _Col("parameter", _text, pl.String()),
        _Col("scope", _one_of(*SCOPES), pl.String()),
        _Col("scope_code", _text, pl.String()),
        _Col("effective_from", _iso_date, pl.Date()),
        _Col("value", _decimal(6), _VALUE),
        _Col("description", _text, pl.String(), required=False),
    ),
}


# --- reading one file ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceSource:
    """Which file a run used for one reference name (a run records this)."""

    name: str
    path: Path
    sha256: str
    origin: Origin


def _locate(data_root: DataRoot, name: str) -> tuple[Path, Origin]:
    override = data_root.reference / name
    if override.is_file():
        return override, "override"
    return SHIPPED_DIR / name, "shipped"


def _read_rows(path: Path, raw: bytes) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = raw.decode("utf-8-sig")  # docs/extracts.md#reference-files: UTF-8, a BOM is tolerated
    except UnicodeDecodeError as e:
        raise ReferenceError(f"{path}: not UTF-8 (byte {e.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if len(set(header)) != len(header):
        raise ReferenceError(f"{path}: repeated column in header {header}")
    reader.fieldnames = header
    rows = [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    return header, rows


def _parse_file(path: Path, name: str) -> tuple[pl.DataFrame, str]:
    """Read and validate one file; returns the typed frame and the file's sha256."""
    if not path.is_file():
        raise ReferenceError(f"{path}: reference file not found")
    raw = path.read_bytes()
    header, rows = _read_rows(path, raw)
    cols = _SCHEMAS[name]
    missing = [c.name for c in cols if c.in_spec and c.name not in header]
    if missing:
        raise ReferenceError(f"{path}: missing column(s) {', '.join(missing)}")
    extra = [h for h in header if h not in {c.name for c in cols}]
    if extra:
        log.warning("%s: ignoring unknown column(s) %s", path, ", ".join(extra))
    data: dict[str, list[object]] = {c.name: [] for c in cols}
    for i, row in enumerate(rows, start=1):
        for c in cols:
            data[c.name].append(_parse_cell(path, i, c, row.get(c.name, "")))
    frame = pl.DataFrame(data, schema={c.name: c.dtype for c in cols})
    return frame, hashlib.sha256(raw).hexdigest()


def _parse_cell(path: Path, row: int, col: _Col, value: str) -> object:
    if value == "":
        if col.required:
            raise _row_error(path, row, col.name, value, "empty")
        return None
    try:
        return col.parse(value)
    except ValueError as e:
        raise _row_error(path, row, col.name, value, str(e)) from None


def _row_error(path: Path, row: int, column: str, value: str, reason: str) -> ReferenceError:
    # row = data row (1 = first row under the header); the physical line is row + 1 for plain files
    return ReferenceError(f"{path}: row {row} (line {row + 1}), column {column}: {reason} (value {value!r})")


# --- cross-row and cross-file checks -----------------------------------------------------------------


def _rows_where(frame: pl.DataFrame, mask: pl.Expr) -> list[int]:
    return frame.with_row_index("_row", offset=1).filter(mask)["_row"].to_list()


def _check_regions(path: Path, regions: pl.DataFrame) -> None:
    bad = _rows_where(regions, ~pl.col("county_code").str.starts_with(pl.col("city_code")))
    if bad:
        raise _row_error(path, bad[0], "county_code", regions["county_code"][bad[0] - 1], "not in its city")
    bad = _rows_where(regions, ~pl.col("city_code").str.starts_with(PROVINCE_CODE))
    if bad:
        raise _row_error(path, bad[0], "city_code", regions["city_code"][bad[0] - 1], "not a Shandong code")
    town = pl.col("township_code")
    bad = _rows_where(regions, town.is_not_null() & ~town.str.starts_with(pl.col("county_code")))
    if bad:
        raise _row_error(path, bad[0], "township_code", regions["township_code"][bad[0] - 1], "not in its county")
    _check_unique(path, regions, ["county_code", "township_code"])
    for key, named in (("county_code", ["county_name", "city_code"]), ("city_code", ["city_name"])):
        clash = regions.group_by(key).agg(pl.struct(named).n_unique().alias("n")).filter(pl.col("n") > 1)
        if clash.height:
            raise ReferenceError(f"{path}: {key} {clash[key][0]} has more than one {' / '.join(named)}")


def _check_villages(path: Path, villages: pl.DataFrame, counties: set[str]) -> None:
    bad = _rows_where(villages, ~pl.col("village_code").str.slice(0, 6).is_in(sorted(counties)))
    if bad:
        code = villages["village_code"][bad[0] - 1]
        raise _row_error(path, bad[0], "village_code", code, "county not in regions.csv")
    _check_unique(path, villages, ["village_code"])


def _check_unique(path: Path, frame: pl.DataFrame, key: list[str]) -> None:
    dup = _rows_where(frame, pl.struct(key).is_duplicated())
    if dup:
        raise ReferenceError(f"{path}: rows {dup[:5]} repeat the key ({', '.join(key)})")


def _check_counties(path: Path, frame: pl.DataFrame, counties: set[str]) -> None:
    bad = _rows_where(frame, ~pl.col("county_code").is_in(sorted(counties)))
    if bad:
        raise _row_error(path, bad[0], "county_code", frame["county_code"][bad[0] - 1], "not in regions.csv")
    missing = sorted(counties - set(frame["county_code"].to_list()))
    if missing:
        log.warning("%s: no rows for %d county(ies), e.g. %s", path, len(missing), ", ".join(missing[:5]))


@functools.cache
def shipped_parameters() -> tuple[str, ...]:
    """Every parameter with a province row in the shipped rule_parameters.csv, in file order."""
    frame, _ = _parse_file(SHIPPED_DIR / PARAMETERS, PARAMETERS)
    return tuple(dict.fromkeys(frame.filter(pl.col("scope") == "province")["parameter"].to_list()))


def required_parameters() -> tuple[str, ...]:
    """The parameters a user's rule_parameters.csv must give a province row."""
    return tuple(p for p in shipped_parameters() if p not in OPTIONAL_PARAMETERS)


def _with_optional_defaults(path: Path, params: pl.DataFrame) -> pl.DataFrame:
    """A user's parameters with the shipped province rows of the optional parameters it leaves out."""
    given = set(params.filter(pl.col("scope") == "province")["parameter"].to_list())
    absent = [p for p in OPTIONAL_PARAMETERS if p not in given]
    if not absent:
        return params
    shipped, _ = _parse_file(SHIPPED_DIR / PARAMETERS, PARAMETERS)
    log.info("%s: no province row for %s; the shipped defaults apply", path, ", ".join(absent))
    defaults = shipped.filter((pl.col("scope") == "province") & pl.col("parameter").is_in(absent))
    return pl.concat([params, defaults.select(params.columns)], how="vertical_relaxed")


def _check_parameters(path: Path, params: pl.DataFrame, cities: set[str], counties: set[str]) -> None:
    valid = {"province": {PROVINCE_CODE}, "city": cities, "county": counties}
    for i, (scope, code) in enumerate(zip(params["scope"], params["scope_code"]), start=1):
        if code not in valid[scope]:
            raise _row_error(path, i, "scope_code", code, f"not a {scope} code of regions.csv")
    _check_unique(path, params, ["parameter", "scope", "scope_code", "effective_from"])
    defaults = set(params.filter(pl.col("scope") == "province")["parameter"].to_list())
    missing = [p for p in required_parameters() if p not in defaults]
    if missing:
        raise ReferenceError(f"{path}: no province row for parameter(s) {', '.join(missing)}")
    orphan = _rows_where(params, ~pl.col("parameter").is_in(sorted(defaults)))
    if orphan:  # an override whose name has no default is almost always a typo
        raise _row_error(path, orphan[0], "parameter", params["parameter"][orphan[0] - 1], "no province row")
    unknown = sorted(defaults - set(shipped_parameters()))
    if unknown:
        log.warning("%s: parameters the platform does not use (not in the shipped file): %s", path, ", ".join(unknown))
    too_high = _rows_where(
        params,
        (pl.col("parameter") == "edge_income_multiplier") & (pl.col("value") > MAX_EDGE_INCOME_MULTIPLIER),
    )
    if too_high:
        raise _row_error(path, too_high[0], "value", str(params["value"][too_high[0] - 1]), "above 2.0")


# --- the loaded reference ----------------------------------------------------------------------------

_Series = dict[tuple[str, ...], tuple[list[dt.date], list[Decimal]]]


def _index(frame: pl.DataFrame, key: list[str], on: str, value: str) -> _Series:
    """(key...) → (sorted dates, values), for bisecting 'latest on or before'."""
    out: _Series = {}
    for row in frame.sort(on).iter_rows(named=True):
        dates, values = out.setdefault(tuple(row[k] for k in key), ([], []))
        dates.append(row[on])
        values.append(_tidy(Decimal(row[value])))
    return out


def _tidy(d: Decimal) -> Decimal:
    """Drop the frame's padding zeros (1.500000 → 1.5, 16.000000 → 16) so evidence text reads naturally."""
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def _latest(series: tuple[list[dt.date], list[Decimal]] | None, on: dt.date) -> tuple[dt.date, Decimal] | None:
    if series is None:
        return None
    i = bisect.bisect_right(series[0], on)
    return (series[0][i - 1], series[1][i - 1]) if i else None


def _as_date(on: dt.date) -> dt.date:
    return on.date() if isinstance(on, dt.datetime) else on


def _county(code: str) -> str:
    if not (isinstance(code, str) and re.fullmatch(r"\d{6}", code)):
        raise ValueError(f"county code must be 6 digits as text, got {code!r}")
    return code


def _urban_rural(value: str) -> str:
    if value not in URBAN_RURAL:
        raise ValueError(f"urban_rural must be 城市 or 农村, got {value!r}")
    return value


@dataclass(frozen=True)
class Reference:
    """The four reference tables, typed, with the lookups the rules need."""

    regions: pl.DataFrame
    dibao_standards: pl.DataFrame
    disposable_incomes: pl.DataFrame
    rule_parameters: pl.DataFrame
    sources: dict[str, ReferenceSource]
    villages: pl.DataFrame = field(default_factory=lambda: _empty(VILLAGES))  # village_code, village_name
    _params: dict[str, _Series] = field(init=False, repr=False, compare=False)
    _dibao: _Series = field(init=False, repr=False, compare=False)
    _income: dict[tuple[str, str, int], Decimal] = field(init=False, repr=False, compare=False)
    _names: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        params = {
            name: _index(group, ["scope", "scope_code"], "effective_from", "value")
            for (name,), group in self.rule_parameters.group_by(["parameter"])
        }
        income = {
            (r["county_code"], r["urban_rural"], r["year"]): Decimal(r["per_capita_disposable_income"])
            for r in self.disposable_incomes.iter_rows(named=True)
        }
        dibao = _index(self.dibao_standards, ["county_code", "urban_rural"], "effective_from", "monthly_standard")
        names = dict(self.counties().select("county_code", "county_name").iter_rows())
        object.__setattr__(self, "_params", params)
        object.__setattr__(self, "_dibao", dibao)
        object.__setattr__(self, "_income", income)
        object.__setattr__(self, "_names", names)

    # regions
    def counties(self) -> pl.DataFrame:
        """One row per county-level division: county_code, county_name, city_code, city_name."""
        return (
            self.regions.select("county_code", "county_name", "city_code", "city_name")
            .unique("county_code", keep="first")
            .sort("county_code")
        )

    def county_name(self, code: str) -> str:
        try:
            return self._names[code]
        except KeyError:
            raise KeyError(f"county {code!r} is not in regions.csv") from None

    # parameters
    @property
    def parameter_names(self) -> list[str]:
        return sorted(self._params)

    def parameter(self, name: str, county_code: str, on: dt.date) -> Decimal:
        """The value in force on `on` for the county: county row > city row > province row."""
        return self._resolve(name, _county(county_code), _as_date(on))[0]

    def _resolve(self, name: str, county: str, on: dt.date) -> tuple[Decimal, str, str, dt.date]:
        try:
            scopes = self._params[name]
        except KeyError:
            raise KeyError(f"unknown rule parameter {name!r}") from None
        for scope, code in (("county", county), ("city", county[:4]), ("province", PROVINCE_CODE)):
            hit = _latest(scopes.get((scope, code)), on)
            if hit is not None:
                return hit[1], scope, code, hit[0]
        raise KeyError(f"rule parameter {name!r} has no value in force on {on} for county {county}")

    def parameters_at(self, on: dt.date, include_province: bool = False) -> pl.DataFrame:
        """Every parameter resolved for every county on one date, with the row that supplied it.

        include_province adds county_code 370000 (province-level dispatch), which gets the province rows.
        """
        on = _as_date(on)
        counties = self.counties()["county_code"].to_list()
        counties += [PROVINCE_DISPATCH_COUNTY] if include_province else []
        names = self.parameter_names
        rows = [(county, name, *self._resolve(name, county, on)) for county in counties for name in names]
        schema = {
            "county_code": pl.String(), "parameter": pl.String(), "value": _VALUE,
            "scope": pl.String(), "scope_code": pl.String(), "effective_from": pl.Date(),
        }  # fmt: skip
        return pl.DataFrame(rows, schema=schema, orient="row")

    # standards
    def dibao_standard(self, county_code: str, urban_rural: str, on: dt.date) -> Decimal:
        """S: ¥ per person per month, the standard with the latest effective_from on or before `on`."""
        key = (_county(county_code), _urban_rural(urban_rural))
        hit = _latest(self._dibao.get(key), _as_date(on))
        if hit is None:
            raise KeyError(f"no dibao standard for {county_code} {urban_rural} in force on {on}")
        return hit[1]

    def disposable_income(self, county_code: str, urban_rural: str, on: dt.date) -> Decimal:
        """D: last year's per-capita disposable income relative to `on` (the figure of on.year - 1)."""
        year = _as_date(on).year - 1
        try:
            return self._income[(_county(county_code), _urban_rural(urban_rural), year)]
        except KeyError:
            raise KeyError(f"no disposable income for {county_code} {urban_rural} year {year}") from None

    def dibao_standards_at(self, on: dt.date) -> pl.DataFrame:
        """county_code, urban_rural, monthly_standard, effective_from in force on `on` (for the build)."""
        on = _as_date(on)
        return (
            self.dibao_standards.filter(pl.col("effective_from") <= on)
            .sort("effective_from")
            .group_by("county_code", "urban_rural")
            .last()
            .select("county_code", "urban_rural", "monthly_standard", "effective_from")
            .sort("county_code", "urban_rural")
        )

    def disposable_incomes_at(self, on: dt.date) -> pl.DataFrame:
        """county_code, urban_rural, year, per_capita_disposable_income of year on.year - 1."""
        return (
            self.disposable_incomes.filter(pl.col("year") == _as_date(on).year - 1)
            .select("county_code", "urban_rural", "year", "per_capita_disposable_income")
            .sort("county_code", "urban_rural")
        )

    def sources_record(self) -> list[dict[str, str]]:
        """The files used, as plain dicts for the run's ledger row."""
        return [
            {"name": s.name, "path": str(s.path), "sha256": s.sha256, "origin": s.origin} for s in self.sources.values()
        ]


def _empty(name: str) -> pl.DataFrame:
    return pl.DataFrame(schema={c.name: c.dtype for c in _SCHEMAS[name]})


def load_reference(data_root: DataRoot) -> Reference:
    """Read and validate the four reference files (overrides in `<data root>/reference/` first) and the optional
    villages.csv."""
    frames: dict[str, pl.DataFrame] = {}
    sources: dict[str, ReferenceSource] = {}
    names = [*REFERENCE_FILES, *([VILLAGES] if (data_root.reference / VILLAGES).is_file() else [])]
    for name in names:
        path, origin = _locate(data_root, name)
        frames[name], sha = _parse_file(path, name)
        if name == PARAMETERS and origin == "override":
            frames[name] = _with_optional_defaults(path, frames[name])
        sources[name] = ReferenceSource(name, path, sha, origin)
        log.info("reference %s: %s (%s, %d rows)", name, path, origin, frames[name].height)
    _validate(frames, sources)
    return Reference(
        regions=frames[REGIONS],
        dibao_standards=frames[DIBAO],
        disposable_incomes=frames[INCOME],
        rule_parameters=frames[PARAMETERS],
        sources=sources,
        villages=frames.get(VILLAGES, _empty(VILLAGES)),
    )


def _validate(frames: dict[str, pl.DataFrame], sources: dict[str, ReferenceSource]) -> None:
    path: Callable[[str], Path] = lambda n: sources[n].path  # noqa: E731
    regions = frames[REGIONS]
    _check_regions(path(REGIONS), regions)
    counties = set(regions["county_code"].to_list())
    for name, key in ((DIBAO, "effective_from"), (INCOME, "year")):
        _check_counties(path(name), frames[name], counties)
        _check_unique(path(name), frames[name], ["county_code", "urban_rural", key])
    cities = set(regions["city_code"].to_list())
    _check_parameters(path(PARAMETERS), frames[PARAMETERS], cities, counties)
    if VILLAGES in frames:
        _check_villages(path(VILLAGES), frames[VILLAGES], counties)
