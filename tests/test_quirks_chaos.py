"""Chaos: small provinces with random mixes of real-world quirks (synthetic/quirks.py), each run end to end
(land → check → build → publish → export), must complete and keep the platform's invariants: every file's rows
reconcile, every open warning has a county, a deadline and a row in its county's workbook, the published mart
holds no ID number and no name, a rerun of the same date changes nothing, and the warnings equal the truth.

Each example is a whole run (about a minute on two cores), so there are few of them and no shrinking: a failure
prints the quirks and the seed that broke it (`generate_province(quirks=..., seed=...)` reproduces it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from test_analyst_access import leaks, text_values

from ingestion import ledger
from ingestion.idcard import to_legacy
from ingestion.settings import DataRoot
from synthetic import generate_province
from synthetic.quirks import ALL_QUIRKS
from warehouse.build import read_register
from warehouse.exports.rows import ID_SEPARATOR
from warehouse.publish import published_path
from warehouse.run import run_comparison

RUN = dt.date(2026, 10, 31)
KEY = ["rule_code", "sub_case", "level", "household_id", "person_key", "episode"]
OPEN = ("待核查", "逾期")


def _reconciled(root: DataRoot) -> list[str]:
    """Files whose counts do not add up (rows in = landed + rejected + skipped), or that differ from the truth."""
    landings = ledger.read_table(root, "landings")
    bad = [
        r["file_name"]
        for r in landings.iter_rows(named=True)
        if r["status"] in ("landed", "superseded", "rejected")
        and r["rows_in"] != r["rows_landed"] + r["rows_rejected"] + (r["rows_skipped"] or 0)
    ]
    columns = ["file_name", "status", "rows_in", "rows_landed", "rows_rejected"]
    truth = pl.read_csv(root.truth / "expected_landings.csv", infer_schema=False).select(columns)
    got = landings.select(pl.col(c).cast(pl.String) for c in columns)
    return bad + [f"differs from the truth: {r}" for r in truth.join(got, on=columns, how="anti").rows()]


def _workbook_rows(root: DataRoot) -> list[dict[str, object]]:
    """The rows of sheet 预警清单 of every county workbook of the run, by header."""
    rows: list[dict[str, object]] = []
    for path in sorted((root.root / "exports" / RUN.isoformat()).glob("*.xlsx")):
        book = openpyxl.load_workbook(path, read_only=True)
        if "预警清单" in book.sheetnames:
            sheet = book["预警清单"].iter_rows(values_only=True)
            header = next(sheet)
            rows += [dict(zip(header, row)) for row in sheet if any(row)]
        book.close()
    return rows


def _mart_tables(root: DataRoot) -> dict[str, list[tuple]]:
    """Every table of the published mart, rows sorted: the ledger's per-run tables aside, and without bookkeeping (a
    ledger row's id and write time: the file that is not a dataset is recorded again by each run; the build time of
    published_tables)."""
    with duckdb.connect(str(published_path(root)), read_only=True) as con:
        tables = [t for (t,) in con.sql("select table_name from information_schema.tables").fetchall()]
        keep = [t for t in tables if not t.startswith("ledger_") or t in ("ledger_landings", "ledger_rejections")]
        out = {}
        for table in keep:
            columns = con.sql(f"select column_name from information_schema.columns where table_name = '{table}'")
            bookkeeping = ("id", "landing_id", "landed_at") if table.startswith("ledger_") else ("built_at",)
            listed = ", ".join(f'"{c}"' for (c,) in columns.fetchall() if c not in bookkeeping)
            out[table] = sorted(con.sql(f'select {listed} from "{table}"').fetchall(), key=repr)
        return out


def _leaks(root: DataRoot) -> list[tuple[str, str, str, str]]:
    vault = pl.read_parquet(root.vault / "persons.parquet")
    ids = set(vault["id_number"].drop_nulls().to_list())
    ids |= {to_legacy(i) for i in ids if i[6:8] == "19"}
    names = {n for n in vault["name"].drop_nulls().to_list() if n.strip()}
    with duckdb.connect(str(published_path(root)), read_only=True) as con:
        return leaks(text_values(con), ids, names)


@settings(
    max_examples=2,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    quirks=st.sets(st.sampled_from(sorted(ALL_QUIRKS)), min_size=3, max_size=12),
    seed=st.integers(min_value=1, max_value=2**20),
)
@example(quirks={"reference_files", "certificate_gap", "late_department", "blank_rows", "legacy_ids"}, seed=7)
def test_a_province_with_random_quirks_runs_and_keeps_its_invariants(
    tmp_path_factory: pytest.TempPathFactory, quirks: set[str], seed: int
) -> None:
    root = DataRoot(Path(tmp_path_factory.mktemp("chaos")))
    generate_province(root, households=100, seed=seed, run_date=RUN, quirks=quirks, check_truth=True)
    run_comparison(root, RUN, docs=False)  # completes: it raises on a failed step

    assert _reconciled(root) == []
    register = read_register(root)
    open_ = register.filter(pl.col("status").is_in(OPEN))
    assert open_.height > 0
    assert open_.filter(pl.col("county_code").is_null() | pl.col("deadline").is_null()).is_empty()
    workbook = _workbook_rows(root)
    in_workbooks = {number for row in workbook for number in str(row["预警编号"]).split(ID_SEPARATOR)}  # merged rows
    assert set(open_["warning_id"].to_list()) <= in_workbooks
    if "reference_files" in quirks:  # the user's regions.csv and villages.csv name townships and villages
        named = [row for row in workbook if row["乡镇(街道)"] is not None]
        assert named and all(not str(row["乡镇(街道)"]).isdigit() for row in named)
        households = [row for row in named if row["家庭编号"]]  # (D02 names no household, so no 村(社区))
        assert households and all(str(row["村(社区)"]).endswith(("村", "社区")) for row in households)
    assert _leaks(root) == []
    truth = pl.read_csv(root.truth / "expected_warnings.csv", infer_schema_length=0)
    keyed = [{tuple(v or "" for v in row) for row in frame.select(KEY).iter_rows()} for frame in (truth, register)]
    assert keyed[0] == keyed[1]

    before = _mart_tables(root)
    run_comparison(root, RUN, docs=False)  # the same date again: nothing to land, the same build
    assert _mart_tables(root) == before
