"""Reference data: the shipped seeds, validation of user files, and parameter resolution."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ingestion.reference import (
    DIBAO,
    INCOME,
    OPTIONAL_PARAMETERS,
    PARAMETERS,
    REFERENCE_FILES,
    REGIONS,
    SHIPPED_DIR,
    VILLAGES,
    Reference,
    ReferenceError,
    load_reference,
)
from ingestion.settings import DataRoot

RUN = dt.date(2026, 10, 31)


def _rows(name: str) -> list[dict[str, str]]:
    with open(SHIPPED_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def shipped() -> Reference:
    return load_reference(DataRoot(Path("/nonexistent-safetynet-root")))


@pytest.fixture
def root(tmp_path: Path) -> DataRoot:
    return DataRoot(tmp_path)


# --- the shipped regions ------------------------------------------------------------------------


def test_regions_has_136_counties_in_16_cities() -> None:
    rows = _rows(REGIONS)
    assert list(rows[0]) == [
        "city_code", "city_name", "county_code", "county_name", "township_code", "township_kind", "township_name"
    ]  # fmt: skip
    codes = [r["county_code"] for r in rows]
    assert len(set(codes)) == 136
    assert len({r["city_code"] for r in rows}) == 16
    assert len({r["city_name"] for r in rows}) == 16
    for r in rows:
        assert len(r["county_code"]) == 6 and r["county_code"].isdigit(), r
        assert r["county_code"].startswith(r["city_code"]) and r["city_code"].startswith("37"), r


def test_regions_name_every_township_of_every_county() -> None:
    rows = _rows(REGIONS)
    townships = [r["township_code"] for r in rows]
    assert len(set(townships)) == len(rows) > 1500  # one row per township, each once (Shandong has ~1,800)
    for r in rows:
        assert len(r["township_code"]) == 9 and r["township_code"].startswith(r["county_code"]), r
        kind = "街道" if r["township_name"].endswith("街道") else "乡镇"
        assert r["township_name"].endswith(("街道", "镇", "乡")) and r["township_kind"] == kind, r
    by_code = {r["township_code"]: r["township_name"] for r in rows}
    assert by_code["370102001"] == "解放路街道" and by_code["370523101"] == "大王镇"


def test_regions_reflect_recent_changes() -> None:
    by_code = {r["county_code"]: (r["city_code"], r["county_name"]) for r in _rows(REGIONS)}
    assert "3712" not in {c for c, _ in by_code.values()}  # 莱芜市 merged into 济南 in 2019
    assert by_code["370116"] == ("3701", "莱芜区") and by_code["370117"] == ("3701", "钢城区")
    assert by_code["370103"] == ("3701", "市中区") and by_code["370402"] == ("3704", "市中区")
    for code, name in [("370115", "济阳区"), ("371503", "茌平区"), ("371703", "定陶区"),
                       ("371603", "沾化区"), ("370614", "蓬莱区")]:  # fmt: skip
        assert by_code[code][1] == name
    retired = {"371202", "371203", "370125", "371523", "371727", "371624", "370684", "370634"}
    assert not retired & set(by_code)


def test_counties_frame_and_names(shipped: Reference) -> None:
    counties = shipped.counties()
    assert counties.columns == ["county_code", "county_name", "city_code", "city_name"]
    assert counties.height == 136 and counties["county_code"].is_unique().all()
    assert shipped.county_name("370103") == shipped.county_name("370402") == "市中区"
    with pytest.raises(KeyError, match="370199"):
        shipped.county_name("370199")


# --- standards and income -------------------------------------------------------------------------


def test_every_county_has_both_standards_for_both_dates(shipped: Reference) -> None:
    std = shipped.dibao_standards
    pairs = std.group_by("county_code", "urban_rural").agg(pl.col("effective_from").sort())
    assert pairs.height == 136 * 2
    assert set(pairs["county_code"]) == set(shipped.counties()["county_code"])
    assert pairs["effective_from"].to_list() == [[dt.date(2025, 7, 1), dt.date(2026, 7, 1)]] * 272
    wide = std.pivot(on="urban_rural", index=["county_code", "effective_from"], values="monthly_standard")
    assert (wide["农村"] <= wide["城市"]).all()
    by_date = std.pivot(on="effective_from", index=["county_code", "urban_rural"], values="monthly_standard")
    assert (by_date["2026-07-01"] >= by_date["2025-07-01"]).all()


def test_every_county_has_income_for_both_years(shipped: Reference) -> None:
    inc = shipped.disposable_incomes
    years = inc.group_by("county_code", "urban_rural").agg(pl.col("year").sort())["year"]
    assert years.to_list() == [[2024, 2025]] * 272
    wide = inc.pivot(on="urban_rural", index=["county_code", "year"], values="per_capita_disposable_income")
    assert (wide["农村"] < wide["城市"]).all()


def test_dibao_standard_latest_effective_on_or_before(shipped: Reference) -> None:
    rows = {(r["effective_from"]): Decimal(r["monthly_standard"]) for r in _rows(DIBAO)
            if r["county_code"] == "370402" and r["urban_rural"] == "农村"}  # fmt: skip
    assert shipped.dibao_standard("370402", "农村", dt.date(2026, 6, 30)) == rows["2025-07-01"]
    assert shipped.dibao_standard("370402", "农村", dt.date(2026, 7, 1)) == rows["2026-07-01"]
    with pytest.raises(KeyError, match="370402"):
        shipped.dibao_standard("370402", "农村", dt.date(2025, 6, 30))
    with pytest.raises(ValueError, match="城镇"):
        shipped.dibao_standard("370402", "城镇", RUN)


def test_disposable_income_is_last_years_figure(shipped: Reference) -> None:
    rows = {r["year"]: Decimal(r["per_capita_disposable_income"]) for r in _rows(INCOME)
            if r["county_code"] == "371728" and r["urban_rural"] == "城市"}  # fmt: skip
    assert shipped.disposable_income("371728", "城市", RUN) == rows["2025"]
    assert shipped.disposable_income("371728", "城市", dt.date(2025, 1, 1)) == rows["2024"]
    with pytest.raises(KeyError, match="2023"):
        shipped.disposable_income("371728", "城市", dt.date(2024, 12, 31))


def test_frames_at_a_date_agree_with_lookups(shipped: Reference) -> None:
    std = shipped.dibao_standards_at(RUN)
    assert std.height == 272
    for county, ur, value, _ in std.iter_rows():
        assert value == shipped.dibao_standard(county, ur, RUN)
    inc = shipped.disposable_incomes_at(RUN)
    assert inc.height == 272 and set(inc["year"]) == {RUN.year - 1}


# --- parameters -----------------------------------------------------------------------------------


def test_every_parameter_the_models_read_has_a_province_default(shipped: Reference) -> None:
    """The models' parameter columns (the macro parameter_names, and identification's review deadline) are the
    shipped file's parameters: a parameter added to one and not the other fails here, not in a build."""
    macro = (SHIPPED_DIR.parent / "macros" / "run_context.sql").read_text(encoding="utf-8")
    listed = re.findall(r"'(\w+)'", macro[macro.index("macro parameter_names") :].split("endmacro")[0])
    province = shipped.rule_parameters.filter(pl.col("scope") == "province")
    assert sorted({*listed, "review_deadline_working_days"}) == sorted(set(province["parameter"]))
    assert (province["scope_code"] == "37").all()
    assert province["description"].null_count() == 0


def test_shipped_overrides_resolve_county_city_province(shipped: Reference) -> None:
    default = shipped.parameter("edge_income_multiplier", "370302", RUN)  # 淄博: no override
    assert default == Decimal("1.5")
    assert shipped.parameter("edge_income_multiplier", "370202", RUN) == Decimal("1.6")  # city 3702
    assert shipped.parameter("edge_income_multiplier", "370102", RUN) == Decimal("2.0")  # county 370102
    # the county row starts 2026-01-01: before it, 济南 has no city row, so the province applies
    assert shipped.parameter("edge_income_multiplier", "370102", dt.date(2025, 12, 31)) == default
    assert shipped.parameter("edge_income_multiplier", "370202", dt.date(2024, 12, 31)) == default


def test_future_dated_province_row_does_not_apply(shipped: Reference) -> None:
    assert shipped.parameter("w01_floor", "370102", RUN) == Decimal("20000")
    assert shipped.parameter("w01_floor", "370102", dt.date(2027, 1, 1)) == Decimal("22000")


def test_unknown_parameter_names_itself(shipped: Reference) -> None:
    with pytest.raises(KeyError, match="w99_nothing"):
        shipped.parameter("w99_nothing", "370102", RUN)
    with pytest.raises(KeyError, match="working_age_min"):  # nothing in force before 2024-01-01
        shipped.parameter("working_age_min", "370102", dt.date(2023, 12, 31))


def test_parameters_at_matches_parameter_for_every_county(shipped: Reference) -> None:
    frame = shipped.parameters_at(RUN, include_province=True)
    names = shipped.parameter_names
    assert frame.height == (136 + 1) * len(names)
    assert frame.select("county_code", "parameter").is_unique().all()
    for county, name, value, *_ in frame.iter_rows():
        assert value == shipped.parameter(name, county, RUN)
    province = frame.filter(pl.col("county_code") == "370000")
    assert (province["scope"] == "province").all()


def _params_with(extra: list[tuple[str, str, str, str, str]]) -> list[dict[str, str]]:
    rows = [r for r in _rows(PARAMETERS) if r["scope"] == "province" and r["effective_from"] == "2024-01-01"]
    for name, scope, code, since, value in extra:
        rows.append({"parameter": name, "scope": scope, "scope_code": code, "effective_from": since,
                     "value": value, "description": "测试"})  # fmt: skip
    return rows


def test_resolution_rules_on_a_user_file(root: DataRoot) -> None:
    _write(root.reference / PARAMETERS, _params_with([
        ("w04_orange_loss", "county", "370602", "2025-01-01", "8000"),
        ("w04_orange_loss", "city", "3706", "2026-03-01", "12000"),   # newer, but a city row: loses to the county
        ("w04_orange_loss", "city", "3706", "2025-01-01", "11000"),
        ("w04_orange_loss", "province", "37", "2026-06-01", "9000"),
        ("w04_orange_loss", "county", "370602", "2026-11-01", "7000"),  # not yet in force on RUN
    ]))  # fmt: skip
    ref = load_reference(root)
    assert ref.parameter("w04_orange_loss", "370602", RUN) == Decimal("8000")
    assert ref.parameter("w04_orange_loss", "370602", dt.date(2026, 11, 1)) == Decimal("7000")
    assert ref.parameter("w04_orange_loss", "370611", RUN) == Decimal("12000")  # same city, latest city row
    assert ref.parameter("w04_orange_loss", "370611", dt.date(2026, 2, 28)) == Decimal("11000")
    assert ref.parameter("w04_orange_loss", "370102", RUN) == Decimal("9000")  # latest province row
    assert ref.parameter("w04_orange_loss", "370102", dt.date(2026, 5, 31)) == Decimal("10000")


def test_override_file_replaces_the_shipped_one(root: DataRoot, shipped: Reference) -> None:
    rows = _rows(DIBAO)
    for r in rows:
        r["monthly_standard"] = str(Decimal(r["monthly_standard"]) + 100)
    path = _write(root.reference / DIBAO, rows)
    ref = load_reference(root)
    assert ref.dibao_standard("370102", "城市", RUN) == shipped.dibao_standard("370102", "城市", RUN) + 100
    src = ref.sources[DIBAO]
    assert (src.origin, src.path, src.sha256) == ("override", path, hashlib.sha256(path.read_bytes()).hexdigest())
    assert {n: s.origin for n, s in ref.sources.items() if n != DIBAO} == dict.fromkeys(
        [REGIONS, INCOME, PARAMETERS], "shipped"
    )
    assert [s["name"] for s in ref.sources_record()] == list(REFERENCE_FILES)


# --- validation of a user's file --------------------------------------------------------------------


def _row_of(name: str, **match: str) -> int:
    """1-based data row of the first shipped row whose columns equal `match`."""
    return next(i for i, r in enumerate(_rows(name), start=1) if all(r[k] == v for k, v in match.items()))


def _broken(root: DataRoot, name: str, row: int, column: str, value: str) -> None:
    rows = _rows(name)
    rows[row - 1][column] = value
    _write(root.reference / name, rows)


@pytest.mark.parametrize(
    ("name", "row", "column", "value", "reason"),
    [
        (DIBAO, 3, "monthly_standard", "一千", "expected a number"),
        (DIBAO, 5, "monthly_standard", "-1", "≥ 0"),
        (DIBAO, 7, "effective_from", "2026/7/1", "YYYY-MM-DD"),
        (DIBAO, 2, "urban_rural", "城镇", "城市, 农村"),
        (DIBAO, 4, "county_code", "370199", "not in regions.csv"),
        (INCOME, 9, "year", "25", "year"),
        (REGIONS, 6, "county_code", "37011", "6 digits"),
        (REGIONS, 10, "county_code", "370999", "not in its city"),
        (PARAMETERS, 2, "value", "", "empty"),
        (PARAMETERS, _row_of(PARAMETERS, scope="city"), "scope_code", "3712", "not a city code"),
        (PARAMETERS, _row_of(PARAMETERS, scope="county"), "scope_code", "3701021", "not a county code"),
        (
            PARAMETERS,
            _row_of(PARAMETERS, parameter="edge_income_multiplier", scope="county"),
            "value",
            "2.5",
            "above 2.0",
        ),
    ],
)
def test_bad_cell_names_file_row_and_column(
    root: DataRoot, name: str, row: int, column: str, value: str, reason: str
) -> None:
    _broken(root, name, row, column, value)
    with pytest.raises(ReferenceError) as err:
        load_reference(root)
    message = str(err.value)
    assert str(root.reference / name) in message
    assert f"row {row} " in message and f"column {column}" in message and reason in message


def test_missing_column_and_duplicates_are_rejected(root: DataRoot) -> None:
    rows = [{k: v for k, v in r.items() if k != "monthly_standard"} for r in _rows(DIBAO)]
    _write(root.reference / DIBAO, rows)
    with pytest.raises(ReferenceError, match="missing column.*monthly_standard"):
        load_reference(root)
    rows = _rows(DIBAO)
    _write(root.reference / DIBAO, rows + rows[:1])
    with pytest.raises(ReferenceError, match=r"repeat the key"):
        load_reference(root)


def test_typo_in_an_override_parameter_is_rejected(root: DataRoot) -> None:
    typo = ("edge_income_multipler", "county", "370102", "2026-01-01", "1.8")
    _write(root.reference / PARAMETERS, _params_with([typo]))
    with pytest.raises(ReferenceError, match="edge_income_multipler"):
        load_reference(root)


def test_a_user_file_without_an_optional_parameter_takes_the_shipped_default(root: DataRoot) -> None:
    rows = [r for r in _params_with([]) if r["parameter"] not in OPTIONAL_PARAMETERS]
    _write(root.reference / PARAMETERS, rows)
    ref = load_reference(root)
    for name in OPTIONAL_PARAMETERS:
        (row,) = [r for r in _rows(PARAMETERS) if r["parameter"] == name and r["scope"] == "province"]
        assert ref.parameter(name, "370102", RUN) == Decimal(row["value"])


def test_user_file_must_keep_every_default(root: DataRoot) -> None:
    rows = [r for r in _params_with([]) if r["parameter"] != "w05_months"]
    _write(root.reference / PARAMETERS, rows)
    with pytest.raises(ReferenceError, match="w05_months"):
        load_reference(root)


def test_utf8_bom_and_column_order_are_accepted(root: DataRoot, shipped: Reference) -> None:
    rows = [dict(reversed(list(r.items()))) for r in _rows(INCOME)]
    path = _write(root.reference / INCOME, rows)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    ref = load_reference(root)
    assert ref.disposable_incomes.equals(shipped.disposable_incomes.select(ref.disposable_incomes.columns))


def test_township_rows_and_optional_township_name(root: DataRoot, shipped: Reference) -> None:
    assert shipped.regions["township_name"].null_count() == 0  # the shipped file names every township
    rows = _rows(REGIONS)
    for r in rows[1:]:
        r["township_name"] = ""  # a user's file may name some townships only
    _write(root.reference / REGIONS, rows)
    ref = load_reference(root)
    assert ref.counties().height == 136  # a county with several townships is still one county
    named = ref.regions.drop_nulls("township_name")
    assert named.select("township_code", "township_name").rows() == [("370102001", "解放路街道")]
    rows[1]["township_code"] = "370103001"  # a township outside its county
    _write(root.reference / REGIONS, rows)
    with pytest.raises(ReferenceError, match="row 2 .*township_code.*not in its county"):
        load_reference(root)


def test_regions_as_users_have_them(root: DataRoot) -> None:
    """EXTRACTS §4: township kinds as the national statistical division list writes them (街道, 镇, 乡) or 乡镇, a
    township_name column, extra columns and a UTF-8 BOM."""
    rows = _rows(REGIONS)
    base = rows[0]
    towns = [("370102001", "街道", "解放路街道"), ("370102101", "镇", "港沟镇"), ("370102201", "乡", "柳埠乡"),
             ("370102102", "乡镇", "彩石镇")]  # fmt: skip
    rows = [base | {"township_code": c, "township_kind": k, "township_name": n} for c, k, n in towns] + [
        r | {"township_name": ""} for r in rows[1:]
    ]
    rows = [{"统计用区划代码": r["township_code"], **r, "城乡分类代码": "111"} for r in rows]  # extra columns
    path = _write(root.reference / REGIONS, rows)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    ref = load_reference(root)
    towns_read = ref.regions.drop_nulls("township_code").select("township_code", "township_kind", "township_name")
    assert towns_read.head(len(towns)).rows() == list(towns)
    assert towns_read.slice(len(towns))["township_name"].null_count() == towns_read.height - len(towns)  # "" is none
    assert ref.counties().height == 136 and "统计用区划代码" not in ref.regions.columns
    rows[0]["township_kind"] = "村"  # not a township kind
    _write(root.reference / REGIONS, rows)
    with pytest.raises(ReferenceError, match="row 1 .*township_kind.*expected one of 街道, 镇, 乡, 乡镇"):
        load_reference(root)


def test_optional_villages_file(root: DataRoot, shipped: Reference) -> None:
    assert shipped.villages.is_empty() and VILLAGES not in shipped.sources
    rows = [
        {"village_code": "370102001001", "village_name": "燕山社区"},
        {"village_code": "370102101201", "village_name": "港沟村"},
    ]
    path = _write(root.reference / VILLAGES, rows)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    ref = load_reference(root)
    assert ref.villages.rows() == [(r["village_code"], r["village_name"]) for r in rows]
    assert ref.sources[VILLAGES].origin == "override"
    _write(root.reference / VILLAGES, [*rows, {"village_code": "990102001001", "village_name": "外省村"}])
    with pytest.raises(ReferenceError, match="row 3 .*village_code.*county not in regions.csv"):
        load_reference(root)
    _write(root.reference / VILLAGES, [*rows, rows[0]])
    with pytest.raises(ReferenceError, match="repeat the key"):
        load_reference(root)


def test_gbk_file_is_rejected_as_not_utf8(root: DataRoot) -> None:
    path = root.reference / REGIONS
    path.parent.mkdir(parents=True)
    path.write_bytes((SHIPPED_DIR / REGIONS).read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(ReferenceError, match="not UTF-8"):
        load_reference(root)
