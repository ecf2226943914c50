"""The threshold what-if (`safetynet simulate`, warehouse/simulate.py): names, overrides, comparison, and end to end
on the analysts' demo, checked against the mart's own figures and for touching nothing real."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from analyst_fixtures import AnalystDemo, analyst_demo  # noqa: F401 - the session fixture
from typer.testing import CliRunner

from ingestion.reference import load_reference, shipped_parameters
from ingestion.settings import DataRoot
from warehouse.simulate import (
    FRIENDLY_NAMES,
    SimulationError,
    backtest,
    compare_warnings,
    parse_changes,
    simulate,
)  # fmt: skip
from warehouse.simulate_scratch import Override, write_overrides

# --- names and values --------------------------------------------------------------------------------


def test_every_friendly_name_is_a_parameter_of_the_reference() -> None:
    known = set(shipped_parameters())
    assert set(FRIENDLY_NAMES.values()) <= known
    assert FRIENDLY_NAMES["W01.amount"] == "w01_floor"
    assert FRIENDLY_NAMES["W01.share"] == "w01_income_share"
    assert FRIENDLY_NAMES["W01.red"] == "w01_red"
    assert FRIENDLY_NAMES["D01.amount"] == "d01_self_paid"


def test_the_verification_rules_have_friendly_names() -> None:
    """W09/W10 limits are identification parameters too, but they change warnings: simulate accepts them."""
    changes = parse_changes(["W11.capital=50000", "W09.vehicles=2", "edge_max_extra_properties=2"])
    assert [c.parameter for c in changes] == ["w11_capital", "edge_max_vehicles", "edge_max_extra_properties"]


def test_parse_changes_accepts_friendly_and_raw_names() -> None:
    changes = parse_changes(["W01.amount=15000", "w01.SHARE=0.4", "d01_self_paid=40,000"])
    assert [(c.parameter, c.value) for c in changes] == [
        ("w01_floor", Decimal("15000")), ("w01_income_share", Decimal("0.4")), ("d01_self_paid", Decimal("40000")),
    ]  # fmt: skip


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(SimulationError) as caught:
        parse_changes(["W01.amont=15000"])
    message = str(caught.value)
    assert "W01.amont" in message
    for name in ("W01.amount", "W01.share", "W01.red", "D01.amount", "w01_floor", "d02_loss"):
        assert name in message


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("edge_income_multiplier=1.8", "identification parameter"),
        ("W01.amount=abc", "not a number"),
        ("W01.amount=-5", "≥ 0"),
        ("W01.amount", "NAME=VALUE"),
    ],
)
def test_bad_settings_are_refused(setting: str, fragment: str) -> None:
    with pytest.raises(SimulationError, match=re.escape(fragment)):
        parse_changes([setting])


def test_the_same_parameter_twice_is_refused() -> None:
    with pytest.raises(SimulationError, match="set twice"):
        parse_changes(["W01.amount=1000", "w01_floor=2000"])


# --- parameter overrides -----------------------------------------------------------------------------


def _real_root_with_county_override(tmp_path: Path) -> DataRoot:
    """A data root whose user override file adds a county row for w01_floor (370102 → 18000)."""
    from ingestion.reference import SHIPPED_DIR

    real = DataRoot(tmp_path / "real")
    real.reference.mkdir(parents=True)
    shipped = (SHIPPED_DIR / "rule_parameters.csv").read_text(encoding="utf-8")
    extra = "w01_floor,county,370102,2025-01-01,18000,用户覆盖\n"
    (real.reference / "rule_parameters.csv").write_text(shipped.rstrip("\n") + "\n" + extra, encoding="utf-8")
    return real


def test_a_province_wide_value_holds_in_every_county_and_at_every_date(tmp_path: Path) -> None:
    real = _real_root_with_county_override(tmp_path)
    scratch = DataRoot(tmp_path / "scratch")
    write_overrides(real, scratch, [Override("w01_floor", Decimal("15000"))])
    before, after = load_reference(real), load_reference(scratch)
    counties = after.counties()["county_code"].to_list()
    # the user's county override and the shipped 2027 province row no longer win
    assert before.parameter("w01_floor", "370102", dt.date(2026, 10, 31)) == Decimal(18000)
    assert before.parameter("w01_floor", "370103", dt.date(2027, 3, 1)) == Decimal(22000)
    for on in (dt.date(2025, 6, 30), dt.date(2026, 10, 31), dt.date(2027, 3, 1)):
        assert {after.parameter("w01_floor", c, on) for c in counties} == {Decimal(15000)}
    # other parameters keep their values (the city override of edge_income_multiplier included)
    assert after.parameter("edge_income_multiplier", "370203", dt.date(2026, 10, 31)) == Decimal("1.6")
    assert after.parameter("w01_red", "370102", dt.date(2026, 10, 31)) == Decimal(50000)


def test_a_county_value_changes_that_county_only(tmp_path: Path) -> None:
    real = _real_root_with_county_override(tmp_path)
    scratch = DataRoot(tmp_path / "scratch")
    write_overrides(real, scratch, [Override("w01_floor", Decimal("9000"), county="370102")])
    before, after = load_reference(real), load_reference(scratch)
    on = dt.date(2026, 10, 31)
    assert after.parameter("w01_floor", "370102", on) == Decimal(9000)
    others = [c for c in after.counties()["county_code"].to_list() if c != "370102"]
    assert all(after.parameter("w01_floor", c, on) == before.parameter("w01_floor", c, on) for c in others)


# --- the comparison ------------------------------------------------------------------------------------

RUN = dt.date(2026, 10, 31)


def _register(rows: list[tuple[str, str, str | None, str, str, dt.date]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, orient="row",
        schema={"warning_id": pl.String, "rule_code": pl.String, "sub_case": pl.String, "level": pl.String,
                "county_code": pl.String, "last_run_date": pl.Date},
    ).with_columns(pl.lit("待核查").alias("status"))  # fmt: skip


def test_compare_counts_gains_losses_and_level_changes() -> None:
    earlier = dt.date(2026, 9, 30)
    before = _register([
        ("a", "W01", None, "橙", "370102", RUN),   # becomes 红
        ("b", "W01", None, "橙", "370102", RUN),   # lost
        ("c", "W03", "a", "黄", "370103", RUN),    # unchanged
        ("d", "W01", None, "橙", "370103", earlier),  # not held at this run: not counted
    ])  # fmt: skip
    after = _register([
        ("a", "W01", None, "红", "370102", RUN),
        ("c", "W03", "a", "黄", "370103", RUN),
        ("e", "W01", None, "橙", "370103", RUN),   # gained
    ])  # fmt: skip
    diff = {
        (r["county_code"], r["rule"], r["level"]): r for r in compare_warnings(before, after, RUN).iter_rows(named=True)
    }
    assert set(diff) == {
        ("370102", "W01", "红"),
        ("370102", "W01", "橙"),
        ("370103", "W03a", "黄"),
        ("370103", "W01", "橙"),
    }
    assert (diff["370102", "W01", "红"]["gained"], diff["370102", "W01", "红"]["after"]) == (1, 1)
    assert (diff["370102", "W01", "橙"]["before"], diff["370102", "W01", "橙"]["lost"]) == (2, 2)
    assert (diff["370103", "W03a", "黄"]["gained"], diff["370103", "W03a", "黄"]["lost"]) == (0, 0)
    assert (diff["370103", "W01", "橙"]["before"], diff["370103", "W01", "橙"]["gained"]) == (0, 1)


# --- end to end on the demo ----------------------------------------------------------------------------


def _fingerprint(root: DataRoot) -> dict[str, str]:
    """sha256 of everything a simulation must not write: warehouse, ledger (and its register), published mart,
    and the side inputs the real build left in the lake."""
    paths = [root.warehouse_db, root.ledger, root.published / "monitoring.duckdb",
             root.lake / "_deliveries.parquet", *sorted((root.lake / "_reference").glob("*")),
             *sorted((root.lake / "_state").glob("*"))]  # fmt: skip
    paths += [
        p.with_name(p.name + suffix) for p in (root.warehouse_db, root.ledger) for suffix in (".wal", "-wal", "-shm")
    ]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _w01_expected(mart: Path, floor: int, county: str | None = None) -> set[tuple[str, str]]:
    """W01 from the published mart's own figures: households whose trailing-12-month self-paid reaches
    max(floor, share × income); 红 from w01_red (the run's parameters, read from the reference)."""
    where = f"and county_code = '{county}'" if county else ""
    with duckdb.connect(str(mart), read_only=True) as con:
        rows = con.sql(f"""
            select household_id, case when self_paid_12m >= 50000 then '红' else '橙' end
            from mart_household_monitoring
            where self_paid_12m >= greatest({floor}, 0.5 * annual_income) {where}
        """).fetchall()
    return {(h, level) for h, level in rows}


def _w01_held(register: pl.DataFrame, run_date: dt.date) -> set[tuple[str, str]]:
    held = register.filter((pl.col("rule_code") == "W01") & (pl.col("last_run_date") == run_date))
    return set(held.select("household_id", "level").iter_rows())


def test_simulate_recomputes_w01_as_the_mart_figures_say_and_touches_nothing(analyst_demo: AnalystDemo) -> None:
    root, run = analyst_demo.root, analyst_demo.latest
    # the parameters the oracle assumes are the run's
    reference = load_reference(root)
    assert reference.parameter("w01_income_share", "370102", run) == Decimal("0.5")
    assert reference.parameter("w01_red", "370102", run) == Decimal(50000)
    before = _fingerprint(root)

    result = simulate(root, parse_changes(["W01.amount=5000"]), workdir=analyst_demo.simulate_workdir)

    assert _fingerprint(root) == before
    assert result.run_date == run and result.mode == "copy"
    assert _w01_held(result.baseline, run) == _w01_expected(analyst_demo.mart, 20000)
    expected = _w01_expected(analyst_demo.mart, 5000)
    assert _w01_held(result.simulated, run) == expected
    assert len(expected) > len(_w01_expected(analyst_demo.mart, 20000))  # the demo gains some
    by_rule = result.by_rule()
    others = by_rule.filter(pl.col("rule") != "W01")
    assert others.height > 0 and others["gained"].sum() == 0 and others["lost"].sum() == 0
    w01 = by_rule.filter(pl.col("rule") == "W01")
    assert w01["gained"].sum() == len(expected - _w01_expected(analyst_demo.mart, 20000))
    assert w01["lost"].sum() == 0


def test_simulate_w11_capital_drops_exactly_the_capital_warnings(analyst_demo: AnalystDemo) -> None:
    """`--set W11.capital=…` (w11_capital): above every capital, each W11(b) of the run is lost and nothing else moves
    (W11(a), a company, fires whatever its capital)."""
    with duckdb.connect(str(analyst_demo.mart), read_only=True) as con:
        ((capital_warnings,),) = con.sql(
            "select count(*) from fct_warnings where rule_code = 'W11' and sub_case = 'b' and last_run_date = run_date"
        ).fetchall()
    assert capital_warnings >= 2  # the planted boundary, the 合作社 and the second business of one member
    result = simulate(
        analyst_demo.root, parse_changes(["W11.capital=1000000000"]), workdir=analyst_demo.simulate_workdir
    )
    by_rule = result.by_rule()
    changed = by_rule.filter((pl.col("gained") > 0) | (pl.col("lost") > 0))
    assert changed["rule"].unique().to_list() == ["W11b"] and changed["lost"].sum() == capital_warnings
    assert changed["gained"].sum() == 0


def test_cli_simulate_for_one_county_changes_that_county_only(analyst_demo: AnalystDemo) -> None:
    from warehouse.cli import app

    gains = _w01_expected(analyst_demo.mart, 5000) - _w01_expected(analyst_demo.mart, 20000)
    with duckdb.connect(str(analyst_demo.mart), read_only=True) as con:
        county_of = dict(con.sql("select household_id, county_code from mart_household_monitoring").fetchall())
    county = sorted(county_of[h] for h, _ in gains)[0]
    in_county = _w01_expected(analyst_demo.mart, 5000, county) - _w01_expected(analyst_demo.mart, 20000, county)
    outcome = CliRunner().invoke(app, [
        "simulate", "--set", "W01.amount=5000", "--county", county,
        "--data", str(analyst_demo.root.root), "--workdir", str(analyst_demo.simulate_workdir),
    ])  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    text = " ".join(outcome.output.split())
    assert f"county {county} only" in text
    assert county in text
    from ingestion.reference import load_reference
    from warehouse.simulate import run_dates

    in_force = load_reference(analyst_demo.root).parameter("w01_floor", county, run_dates(analyst_demo.root)[-1])
    assert f"W01.amount (w01_floor): {format(in_force.normalize(), 'f')} → 5000" in text  # old → new
    # the province total gained equals the gains of that county alone
    assert f"(+{len(in_county)} gained, −0 lost)" in text


def test_cli_simulate_with_an_unknown_name_fails_clearly(tmp_path: Path) -> None:
    from cli_support import invoke

    (tmp_path / "inbox").mkdir()
    outcome = invoke("simulate", "--set", "W09.amount=1", "--data", str(tmp_path))
    assert outcome.exit_code == 2
    text = " ".join(outcome.output.split())
    assert "unknown parameter" in text and "W01.amount" in text
    assert not (tmp_path / "ledger.sqlite").exists()


def test_a_date_without_a_run_is_refused_with_the_runs(analyst_demo: AnalystDemo) -> None:
    with pytest.raises(SimulationError, match="2026-09-30, 2026-10-31"):
        simulate(analyst_demo.root, parse_changes(["W01.amount=5000"]), run_date=dt.date(2026, 10, 15),
                 workdir=analyst_demo.simulate_workdir)  # fmt: skip


def test_backtest_replays_every_run_in_order(analyst_demo: AnalystDemo) -> None:
    root = analyst_demo.root
    before = _fingerprint(root)

    history = backtest(root, parse_changes(["W01.amount=5000"]), workdir=analyst_demo.simulate_workdir)

    assert _fingerprint(root) == before
    assert tuple(history.run_dates) == analyst_demo.run_dates
    first, last = analyst_demo.run_dates
    # rules the change does not touch come out exactly as the real runs had them (ids, levels, dates, status)
    keep = ["warning_id", "level", "raised_on", "status", "last_run_date"]
    for date in history.run_dates:
        actual = history.baselines[date].filter(pl.col("rule_code") != "W01").select(keep).sort("warning_id")
        replayed = history.simulated[date].filter(pl.col("rule_code") != "W01").select(keep).sort("warning_id")
        assert actual.height > 0 and replayed.equals(actual), date
    # W01 gains from the first run on, and the second run carries them (raised at the first run)
    timeline = history.timeline()
    gained = timeline.filter((pl.col("rule") == "W01") & (pl.col("change") == "gained"))
    assert gained.height > 0
    assert set(gained["raised_after"].to_list()) <= {first, last}
    early = set(gained.filter(pl.col("raised_after") == first)["warning_id"].to_list())
    if early:  # a W01 raised at the first run keeps its first raise date in the second
        carried = history.simulated[last].filter(pl.col("warning_id").is_in(sorted(early)))
        assert set(carried["raised_on"].to_list()) == {first}
    per_run = history.per_run()
    assert set(per_run["run_date"].to_list()) == {first, last}
    w01 = per_run.filter(pl.col("rule") == "W01")
    assert (w01["raised_after"] >= w01["raised_before"]).all()
    assert w01["held_after"].sum() > w01["held_before"].sum()
