"""A small published mart with exactly the columns of docs/outputs.md#the-published-mart, and a vault, for the export,
feedback and report tests (imported by them). The tests here check the fixture keeps to the spec."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from ingestion.idcard import check_digit, make_id
from ingestion.settings import DataRoot

RUN_DATE = dt.date(2026, 10, 31)
EARLIER_RUNS = (dt.date(2026, 8, 31), dt.date(2026, 9, 30))

WARNING_COLUMNS = (
    "warning_id", "rule_code", "sub_case", "level", "family", "subject_type", "household_id", "person_key",
    "households", "episode", "county_code", "township_code", "evidence", "suggested_action", "raised_on",
    "deadline", "status", "finding", "action", "checked_on", "checked_by", "first_run_date", "last_run_date",
)  # fmt: skip
LANDING_COLUMNS = (
    "file_name", "dataset", "cutoff_date", "seq", "sha256", "status", "reason", "rows_in", "rows_landed",
    "rows_rejected", "rows_skipped", "landed_at",
)  # fmt: skip
REJECTION_COLUMNS = ("file_name", "dataset", "data_row", "source_line", "column", "field", "reason", "raw_value")

_FAMILY = {"W05": "拒止", "W06": "拒止", "W07": "拒止", "D01": "发现", "D02": "发现"}


@dataclass(frozen=True)
class Person:
    key: str
    id_number: str
    name: str


def _id_ending_in_x(region6: str, born: dt.date) -> str:
    for seq in range(1000):
        first17 = f"{region6}{born:%Y%m%d}{seq:03d}"
        if check_digit(first17) == "X":
            return first17 + "X"
    raise AssertionError("no sequence gives X")


def people() -> dict[str, Person]:
    """Named people of the fixture; `head1` has an ID ending in X (it must stay text)."""
    specs = {
        "head1": ("370102", dt.date(1968, 3, 5), "张建国"),
        "head2": ("370102", dt.date(1975, 7, 1), "李秀英"),
        "dead2": ("370102", dt.date(1980, 1, 9), "李强"),
        "head3": ("370102", dt.date(1960, 2, 2), "王芳"),
        "jobless": ("370102", dt.date(1990, 6, 6), "王小明"),
        "dup": ("370102", dt.date(1955, 5, 5), "赵四"),
        "sick": ("370102", dt.date(1970, 9, 9), "孙七"),
        "head4": ("370103", dt.date(1950, 1, 1), "周八"),
        "paid_dead": ("370103", dt.date(1940, 4, 4), "吴九"),
        "pupil": ("370103", dt.date(2012, 12, 12), "郑十"),
        "head5": ("370402", dt.date(1966, 6, 16), "钱一"),
        "d02head": ("370402", dt.date(1972, 2, 22), "孙二"),
        "outsider": ("110101", dt.date(1985, 8, 8), "冯三"),
        "closed": ("370203", dt.date(1965, 3, 3), "陈五"),
    }
    found = {}
    for i, (label, (region, born, name)) in enumerate(specs.items()):
        id_number = _id_ending_in_x(region, born) if label == "head1" else make_id(region, born, 100 + 2 * i)
        found[label] = Person(f"k{i:023d}", id_number, name)
    return found


def _warning(**values: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(WARNING_COLUMNS)
    row.update(values)
    rule = str(row["rule_code"])
    row["family"] = row["family"] or _FAMILY.get(rule, "进入")
    row["warning_id"] = row["warning_id"] or f"{rule}{row['sub_case'] or ''}-{abs(hash(str(values))) % 16**12:012x}"
    row["first_run_date"] = row["first_run_date"] or row["raised_on"]
    row["last_run_date"] = row["last_run_date"] or RUN_DATE
    row["evidence"] = row["evidence"] or f"{rule} 触发：近12个月个人负担 ¥23,456.00"
    row["suggested_action"] = row["suggested_action"] or "医疗救助；临时救助"
    return row


def warnings(p: dict[str, Person]) -> list[dict[str, object]]:
    d = dt.date
    return [
        # 370102 历下区 (济南): open ones of several kinds
        _warning(
            warning_id="W01-000000000001",
            rule_code="W01",
            level="橙",
            subject_type="household",
            household_id="H0001",
            episode="W01",
            county_code="370102",
            township_code="370102001",
            raised_on=d(2026, 9, 30),
            deadline=d(2026, 10, 20),
            status="逾期",
            first_run_date=d(2026, 9, 30),
        ),
        _warning(
            warning_id="W02-000000000002",
            rule_code="W02",
            level="红",
            subject_type="household",
            household_id="H0002",
            person_key=p["dead2"].key,
            episode=f"death:{p['dead2'].key}",
            county_code="370102",
            township_code="370102002",
            raised_on=RUN_DATE,
            deadline=d(2026, 11, 4),
            status="待核查",
        ),
        _warning(
            warning_id="W03a-00000000003",
            rule_code="W03",
            sub_case="a",
            level="黄",
            subject_type="household",
            household_id="H0003",
            person_key=p["jobless"].key,
            episode="registration:R77",
            county_code="370102",
            township_code="370102001",
            raised_on=RUN_DATE,
            deadline=d(2026, 12, 14),
            status="待核查",
        ),
        _warning(
            warning_id="W07c-00000000004",
            rule_code="W07",
            sub_case="c",
            level="橙",
            subject_type="person",
            household_id="H0003",
            person_key=p["dup"].key,
            households="H0003|H0009",
            episode="households:H0003|H0009",
            county_code="370102",
            township_code="370102001",
            raised_on=d(2026, 8, 31),
            deadline=d(2026, 9, 14),
            status="逾期",
            first_run_date=d(2026, 8, 31),
        ),
        _warning(
            warning_id="D01-000000000005",
            rule_code="D01",
            level="黄",
            family="发现",
            subject_type="person",
            person_key=p["sick"].key,
            episode="D01",
            county_code="370102",
            township_code=None,
            raised_on=RUN_DATE,
            deadline=d(2026, 12, 14),
            status="待核查",
        ),
        _warning(
            warning_id="W05-000000000006",
            rule_code="W05",
            level="黄",
            subject_type="household",
            household_id="H0001",
            episode="W05",
            county_code="370102",
            township_code="370102001",
            raised_on=d(2026, 8, 31),
            deadline=d(2026, 10, 13),
            status="已消除",
            last_run_date=d(2026, 9, 30),
        ),
        _warning(
            warning_id="W04-000000000007",
            rule_code="W04",
            level="橙",
            subject_type="household",
            household_id="H0002",
            person_key=p["head2"].key,
            episode="disaster:Z1",
            county_code="370102",
            township_code="370102002",
            raised_on=d(2026, 8, 31),
            deadline=d(2026, 9, 14),
            status="已核查",
            finding="属实",
            action="临时救助",
            checked_on=d(2026, 9, 10),
            checked_by="刘干部",
        ),
        # 370103 市中区 (济南)
        _warning(
            warning_id="W06-000000000008",
            rule_code="W06",
            level="红",
            subject_type="person",
            household_id="H0004",
            person_key=p["paid_dead"].key,
            households="H0004",
            episode="month:2026-09",
            county_code="370103",
            township_code="370103001",
            raised_on=RUN_DATE,
            deadline=d(2026, 11, 4),
            status="待核查",
        ),
        _warning(
            warning_id="W08b-00000000009",
            rule_code="W08",
            sub_case="b",
            level="黄",
            subject_type="person",
            household_id="H0004",
            person_key=p["pupil"].key,
            episode="year:2026-2027",
            county_code="370103",
            township_code="370103001",
            raised_on=RUN_DATE,
            deadline=d(2026, 12, 14),
            status="待核查",
        ),
        # 370402 市中区 (枣庄): the same county name as 370103
        _warning(
            warning_id="W04-000000000010",
            rule_code="W04",
            level="红",
            subject_type="household",
            household_id="H0005",
            person_key=p["head5"].key,
            episode="disaster:Z2",
            county_code="370402",
            township_code="370402003",
            raised_on=RUN_DATE,
            deadline=d(2026, 11, 4),
            status="待核查",
        ),
        _warning(
            warning_id="D02-000000000011",
            rule_code="D02",
            level="黄",
            family="发现",
            subject_type="household",
            person_key=p["d02head"].key,
            episode="disaster:Z3",
            county_code="370402",
            township_code="370402003",
            raised_on=RUN_DATE,
            deadline=d(2026, 12, 14),
            status="待核查",
        ),
        # province-level dispatch: a D01 whose person is not from Shandong
        _warning(
            warning_id="D01-000000000012",
            rule_code="D01",
            level="黄",
            family="发现",
            subject_type="person",
            person_key=p["outsider"].key,
            episode="D01",
            county_code="370000",
            township_code=None,
            raised_on=RUN_DATE,
            deadline=d(2026, 12, 14),
            status="待核查",
        ),
        # 370203 (青岛): only an answered warning, so no workbook
        _warning(
            warning_id="W01-000000000013",
            rule_code="W01",
            level="红",
            subject_type="household",
            household_id="H0006",
            episode="W01",
            county_code="370203",
            township_code="370203001",
            raised_on=d(2026, 9, 30),
            deadline=d(2026, 10, 13),
            status="已核查",
            finding="不属实",
            action="无需处置",
            checked_on=d(2026, 10, 9),
            checked_by="黄干部",
        ),
    ]


def households(p: dict[str, Person]) -> list[dict[str, object]]:
    rows = [
        ("H0001", "最低生活保障", "370102001001", "head1"),
        ("H0002", "低保边缘家庭", "370102002003", "head2"),
        ("H0003", "特困人员", "370102001002", "head3"),
        ("H0004", "最低生活保障", "370103001001", "head4"),
        ("H0005", "防止返贫监测对象", "370402003004", "head5"),
        ("H0006", "最低生活保障", "370203001001", "closed"),
        ("H0009", "最低生活保障", "370102001009", "dup"),
    ]
    return [
        {"household_id": h, "category": c, "region_code": r, "county_code": r[:6], "township_code": r[:9],
         "head_person_key": p[head].key, "urban_rural": "城市"}
        for h, c, r, head in rows
    ]  # fmt: skip


def _landings() -> pl.DataFrame:
    rows = [
        (
            "mz_household/mz_household_20261031.csv",
            "mz_household",
            dt.date(2026, 10, 31),
            1,
            "a" * 64,
            "landed",
            None,
            120,
            118,
            2,
            0,
        ),
        ("mz_member_20261031.csv", "mz_member", dt.date(2026, 10, 31), 1, "b" * 64, "landed", None, 300, 297, 3, 0),
        (
            "ybj_settlement_20261031.xlsx",
            "ybj_settlement",
            dt.date(2026, 10, 31),
            1,
            "c" * 64,
            "landed",
            None,
            900,
            880,
            20,
            0,
        ),
        ("wjw_death_20260815.csv", "wjw_death", dt.date(2026, 8, 15), 1, "d" * 64, "landed", None, 10, 10, 0, 0),
        (
            "yjj_disaster_20261031.csv",
            "yjj_disaster",
            dt.date(2026, 10, 31),
            1,
            "e" * 64,
            "rejected",
            "missing_required_column: 户主身份证号",
            15,
            0,
            15,
            0,
        ),
        ("feedback/feedback_20260912.xlsx", "feedback", dt.date(2026, 9, 12), 1, "f" * 64, "landed", None, 5, 2, 0, 3),
    ]
    frame = pl.DataFrame(rows, schema=list(LANDING_COLUMNS[:-1]), orient="row")
    # the ledger is SQLite: its dates reach the mart as ISO text
    return frame.with_columns(
        pl.col("cutoff_date").cast(pl.String), pl.lit("2026-10-31T01:00:00.000000+00:00").alias("landed_at")
    )


def _rejections() -> pl.DataFrame:
    rows = [
        (
            "mz_household/mz_household_20261031.csv",
            "mz_household",
            7,
            8,
            "户主身份证号",
            "head_id",
            "bad_check_digit",
            "",
        ),
        ("ybj_settlement_20261031.xlsx", "ybj_settlement", 3, 5, "结算日期", "settled_on", "bad_date", "2026-13-01"),
    ]
    return pl.DataFrame(rows, schema=list(REJECTION_COLUMNS), orient="row")


def build(root: DataRoot, with_ledger_runs: bool = True) -> dict[str, Person]:
    """Write `published/monitoring.duckdb` and `vault/persons.parquet` under `root`; return the people."""
    p = people()
    dates = ("raised_on", "deadline", "checked_on", "first_run_date", "last_run_date")
    register = pl.DataFrame(warnings(p), schema_overrides=dict.fromkeys(dates, pl.Date)).select(WARNING_COLUMNS)
    dim = pl.DataFrame(households(p))
    monitoring = dim.select("household_id", "county_code", "category").with_columns(pl.lit(2).alias("member_count"))
    runs = pl.DataFrame({"run_date": [d.isoformat() for d in (*EARLIER_RUNS, RUN_DATE)], "status": ["succeeded"] * 3})
    holds = pl.DataFrame({"dataset": ["ybj_settlement"], "cutoff_date": ["2026-09-30"], "seq": [1], "released": [0],
                          "reason": ["volume dropped by 40%"]})  # fmt: skip
    root.published.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(root.published / "monitoring.duckdb"))
    try:
        tables = {
            "fct_warnings": register,
            "dim_household": dim,
            "mart_household_monitoring": monitoring,
            "ledger_landings": _landings(),
            "ledger_rejections": _rejections(),
            "ledger_holds": holds,
        }
        if with_ledger_runs:
            tables["ledger_runs"] = runs
        for name, frame in tables.items():
            arrow = frame.to_arrow()  # noqa: F841 - read by name below
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM arrow')
    finally:
        con.close()
    root.vault.mkdir(parents=True, exist_ok=True)
    persons = [(x.key, x.id_number, x.name, RUN_DATE) for x in p.values()]  # the layout of ingestion.vault
    schema = ["person_key", "id_number", "name", "last_seen_cutoff"]
    pl.DataFrame(persons, schema=schema, orient="row").write_parquet(root.vault / "persons.parquet")
    return p


def open_by_county(root: DataRoot) -> dict[str, set[str]]:
    """county_code → warning ids that are open (待核查/逾期), read back from the fixture's mart."""
    con = duckdb.connect(str(root.published / "monitoring.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT county_code, warning_id FROM fct_warnings WHERE status IN ('待核查', '逾期')"
        ).fetchall()
    finally:
        con.close()
    found: dict[str, set[str]] = {}
    for county, warning_id in rows:
        found.setdefault(county, set()).add(warning_id)
    return found


# --- the fixture keeps to the spec -----------------------------------------------------------------


def test_fixture_register_has_exactly_the_spec_columns(tmp_path):
    root = DataRoot(tmp_path)
    build(root)
    con = duckdb.connect(str(root.published / "monitoring.duckdb"), read_only=True)
    try:
        query = (
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'fct_warnings' ORDER BY ordinal_position"
        )
        columns = [r[0] for r in con.execute(query).fetchall()]
        landing_columns = [r[0] for r in con.execute("DESCRIBE ledger_landings").fetchall()]
    finally:
        con.close()
    assert tuple(columns) == WARNING_COLUMNS
    assert tuple(landing_columns) == LANDING_COLUMNS


def test_fixture_people_have_valid_ids_and_one_ends_in_x():
    from ingestion.idcard import normalise_id

    found = people()
    assert all(normalise_id(x.id_number) == x.id_number for x in found.values())
    assert found["head1"].id_number.endswith("X")
    assert len({x.key for x in found.values()}) == len(found)


def require_binary(name: str) -> str:
    """The binary's path; missing → FAIL under CI=true (CI must have run `make test-deps`), else skip."""
    import os
    import shutil

    import pytest

    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{name} is not installed: `make test-deps` installs it")
    pytest.skip(f"{name} is not installed (run `make test-deps`)")
