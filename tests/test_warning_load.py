"""The realistic warning load (synthetic/load.py, `generate --warning-rate`): its spread over rules, levels and
counties as declared, and a loaded province's run raising exactly the truth."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from test_build_support import session_dir, shared_root

from ingestion.landing import land_inbox
from ingestion.reference import load_reference
from ingestion.settings import DataRoot
from synthetic import generate_province
from synthetic.calendar import build_schedule
from synthetic.generate import GenerationError
from synthetic.load import DISCOVERY, FAMILIES, LARGEST_CALL, MONITORED, plant_load, quotas
from synthetic.params import RunParams
from synthetic.people import PlantedPeople
from synthetic.plant import Plant
from synthetic.rand import stream
from synthetic.regions import build_villages
from synthetic.scenario_kit import Counties
from warehouse.build import build, read_register

RUN = dt.date(2026, 10, 31)
KEY = ["rule_code", "sub_case", "level", "household_id", "person_key", "episode"]
# every rule, sub-case and level docs/rules.md and docs/verification.md define
LEVELS = {
    ("W01", "", "橙"), ("W01", "", "红"), ("W02", "", "红"), ("W03", "a", "黄"), ("W03", "a", "橙"), ("W03", "b", "黄"),
    ("W03", "b", "橙"), ("W04", "", "黄"), ("W04", "", "橙"), ("W04", "", "红"), ("W05", "", "黄"), ("W06", "", "红"),
    ("W07", "a", "橙"), ("W07", "b", "橙"), ("W07", "c", "橙"), ("W08", "a", "黄"), ("W08", "b", "黄"),
    ("W08", "c", "黄"), ("W09", "", "黄"), ("W09", "", "橙"), ("W10", "", "黄"), ("W10", "", "橙"), ("W11", "a", "橙"),
    ("W11", "b", "黄"), ("D01", "", "黄"), ("D02", "", "黄"),
}  # fmt: skip


def _plant(tmp_path: Path) -> tuple[Plant, list[str]]:
    reference = load_reference(DataRoot(tmp_path))
    schedule = build_schedule(RUN, 12)
    villages = build_villages(reference, stream(1, "villages"))
    plant = Plant(schedule, RunParams(reference, RUN), villages, PlantedPeople(stream(1, "people")), b"k" * 32,
                  stream(1, "plant"))  # fmt: skip
    return plant, reference.counties()["county_code"].to_list()


def test_the_declared_shares_sum_to_the_whole_load() -> None:
    assert sum(f.share for f in MONITORED) == pytest.approx(1.0)
    assert {f.rule for f in FAMILIES} == {rule for rule, _, _ in LEVELS}


def test_the_load_spreads_over_rules_levels_and_counties_as_declared(tmp_path: Path) -> None:
    """20,000 households at 3 %: 600 flagged households. Each family gets its quota, overshooting by less than one
    scenario call (LARGEST_CALL flagged units). Counties are handed out in a seeded rotation, as the background
    spreads its households evenly: every one of the 136 counties is flagged, none more than twice its share."""
    plant, counties = _plant(tmp_path)
    households, rate = 20_000, 0.03
    planted = plant_load(plant, Counties(counties, stream(1, "load")), households, rate)
    wanted = quotas(households, rate)
    for family in FAMILIES:
        assert wanted[family.rule] == round(households * rate * family.share)
        assert wanted[family.rule] <= planted[family.rule] < wanted[family.rule] + LARGEST_CALL, family.rule
    monitored = {w.household_id for w in plant.warnings if not w.rule_code.startswith("D")}
    assert households * rate <= len(monitored) < households * rate + LARGEST_CALL * len(MONITORED)
    discovery = sum(planted[f.rule] for f in DISCOVERY)
    assert discovery < 0.05 * len(monitored)  # discovery is a small share on top of the monitored load
    assert {(w.rule_code, w.sub_case, w.level) for w in plant.warnings} == LEVELS
    county_of = {h.hid: h.county for h in plant.households}
    flagged = Counter(county_of[hid] for hid in monitored if hid in county_of)
    assert set(flagged) == set(counties)
    mean = sum(flagged.values()) / len(counties)
    assert max(flagged.values()) <= 2 * mean, flagged
    # the big families dominate, the rare ones stay rare: as declared, not an accident of the scenario sizes
    units = Counter({rule: n for rule, n in planted.items() if not rule.startswith("D")})
    assert [rule for rule, _ in units.most_common(2)] == ["W01", "W03"]
    assert max(units[r] for r in ("W02", "W04", "W06")) < units["W03"] / 3


def test_no_load_without_a_rate(tmp_path: Path) -> None:
    plant, counties = _plant(tmp_path)
    assert plant_load(plant, Counties(counties, stream(1, "load")), 20_000, 0.0) == {}
    assert plant.warnings == [] and plant.households == []


def test_an_unusable_rate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="warning rate"):
        generate_province(DataRoot(tmp_path), households=300, warning_rate=0.5)


HOUSEHOLDS, RATE = 300, 0.05


def _make(root: DataRoot) -> None:
    generate_province(root, households=HOUSEHOLDS, months=12, run_date=RUN, warning_rate=RATE, check_truth=True)
    land_inbox(root)
    build(root, RUN)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> DataRoot:
    return shared_root(session_dir(tmp_path_factory.getbasetemp()), "warning_load_300", _make)


def _keyed(frame: pl.DataFrame) -> set[tuple[str, ...]]:
    return {tuple(v or "" for v in row) for row in frame.select(KEY).iter_rows()}


def test_a_loaded_province_raises_exactly_its_truth(loaded: DataRoot) -> None:
    """The generator's independent checker agreed (check_truth=True); the platform must agree too."""
    truth = pl.read_csv(loaded.truth / "expected_warnings.csv", infer_schema_length=0)
    register = read_register(loaded)
    expected, raised = _keyed(truth), _keyed(register)
    assert (sorted(expected - raised), sorted(raised - expected)) == ([], [])
    load = json.loads((loaded.truth / "manifest.json").read_text(encoding="utf-8"))["warning_load"]
    assert load.keys() == {f.rule for f in FAMILIES}
    flagged = register.filter(~pl.col("rule_code").str.starts_with("D"))["household_id"].n_unique()
    assert flagged >= sum(load[f.rule] for f in MONITORED) >= HOUSEHOLDS * RATE
    assert {(r, s or "", lv) for r, s, lv in register.select("rule_code", "sub_case", "level").iter_rows()} == LEVELS
