"""generate_province: write a synthetic province's deliveries into the inbox and its ground truth.

Streams one delivery at a time (background frames are derived per cut-off, written, then dropped), so
memory grows with the population, not with the number of deliveries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ingestion.pseudonymise import load_or_create_key
from ingestion.reference import REGIONS, VILLAGES, load_reference
from ingestion.settings import DataRoot
from synthetic.applications import BackgroundApplications
from synthetic.background_events import Events
from synthetic.background_holdings import Holdings
from synthetic.background_rosters import Rosters
from synthetic.calendar import Schedule, build_schedule, month_end
from synthetic.catalogue import plant_all
from synthetic.deliveries import Deliveries
from synthetic.independent_check import check
from synthetic.params import RunParams
from synthetic.people import PlantedPeople
from synthetic.plant import Plant
from synthetic.population import build_population
from synthetic.quirks import plant_quirks, quirk_names, write_regions, write_villages
from synthetic.rand import stream
from synthetic.regions import build_villages
from synthetic.scenario_kit import Counties
from synthetic.store import RecordStore
from synthetic.summary import GenerationSummary
from synthetic.truth_expected import compare, expected_identifications

log = logging.getLogger(__name__)
CHECK_LIMIT = 50_000  # households: above this the independent check is opt-in (it holds all records)


class GenerationError(RuntimeError):
    """The generated data does not produce the planted truth (or the arguments are unusable)."""


def _validate(households: int, months: int, run_date: dt.date) -> None:
    if households < 100:
        raise GenerationError("households must be at least 100")
    if months < 12:
        raise GenerationError("months must be at least 12 (W03(b) and W08(b) need a year of history)")
    if month_end(run_date) != run_date:
        raise GenerationError("the run date must be a month end (monthly deliveries are cut at month ends)")


def _prepare(root: DataRoot, overwrite: bool) -> None:
    inbox = root.inbox
    if inbox.exists() and any(inbox.iterdir()):
        if not overwrite:
            raise GenerationError(
                f"{inbox} is not empty: use --overwrite (overwrite=True) to replace the inbox and truth"
            )
        shutil.rmtree(inbox)
    _remove_own_reference_files(root)
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root.truth, ignore_errors=True)


def _remove_own_reference_files(root: DataRoot) -> None:
    """Reference files an earlier generation wrote (its manifest lists them) go with its inbox and truth."""
    manifest = root.truth / "manifest.json"
    if manifest.is_file():
        for name in json.loads(manifest.read_text(encoding="utf-8")).get("reference_files", []):
            (root.reference / name).unlink(missing_ok=True)


def generate_province(
    root: DataRoot, *, households: int = 2000, months: int = 12, seed: int = 20261031,
    run_date: dt.date = dt.date(2026, 10, 31), bad_deliveries: bool = False, overwrite: bool = False,
    check_truth: bool | None = None, quirks: bool | Iterable[str] | None = None,
) -> GenerationSummary:  # fmt: skip
    """Write `<root>/inbox/` and `<root>/truth/`; see docs/internals.md and synthetic/README.md.

    `quirks`: the real-world quirks to plant (names of synthetic/quirks.py QUIRKS, or True for all of them)."""
    started = time.perf_counter()
    _validate(households, months, run_date)
    try:
        chosen = quirk_names(quirks)
    except ValueError as err:
        raise GenerationError(str(err)) from None
    _prepare(root, overwrite)
    if "reference_files" in chosen and any((root.reference / name).exists() for name in (REGIONS, VILLAGES)):
        raise GenerationError(f"{root.reference} holds your own regions.csv or villages.csv: the reference_files quirk "
                              "would replace it")  # fmt: skip
    written = [write_regions(root, load_reference(root))] if "reference_files" in chosen else []
    reference = load_reference(root)
    params = RunParams(reference, run_date)
    schedule = build_schedule(run_date, months)
    villages = build_villages(reference, stream(seed, "villages"))
    written += [write_villages(root, villages)] if "reference_files" in chosen else []
    key = load_or_create_key(root)
    people = PlantedPeople(stream(seed, "planted people"))
    counties = reference.counties()["county_code"].to_list()
    plant = Plant(schedule, params, villages, people, key, stream(seed, "plant"))
    plant_all(plant, counties, stream(seed, "counties"))
    applicants = BackgroundApplications(seed, schedule, params, villages, households, people).build()
    delivery_quirks = plant_quirks(plant, Counties(counties, stream(seed, "quirk counties")), chosen)
    population = build_population(seed, schedule, villages, params.county_table(counties), households)
    names = dict(reference.counties().select("county_code", "county_name").iter_rows())
    rosters = Rosters(seed, population, schedule.monthly)
    events = Events(seed, schedule, population, rosters, names)
    holdings = Holdings(seed, schedule, population, params, applicants, names)
    do_check = households <= CHECK_LIMIT if check_truth is None else check_truth
    with tempfile.TemporaryDirectory(prefix="safetynet-records-") as scratch:
        store = RecordStore(Path(scratch)) if do_check else None
        deliveries = Deliveries(
            root, seed, schedule, plant, rosters, events, holdings, applicants + plant.applications, people, counties,
            store, delivery_quirks,
        )  # fmt: skip
        deliveries.write_all(bad_deliveries)
        identifications = expected_identifications(plant, population, schedule, applicants, key)
        manifest = _manifest(
            households, months, seed, run_date, bad_deliveries, schedule, deliveries, plant, population
        )
        manifest |= {"quirks": sorted(chosen), "reference_files": written}
        counts = deliveries.write_truth(plant.warnings, identifications, manifest)
        if store is not None:
            problems = compare(check(store, reference, run_date, key), plant.warnings, identifications)
            if problems:
                raise GenerationError(
                    "the generated data does not produce the planted truth:\n" + "\n".join(problems[:60])
                )
    return GenerationSummary(
        files=len(deliveries.landings),
        rows=sum(x.rows_in for x in deliveries.landings),
        households=households,
        persons=population.persons.height + people.count,
        planted_scenarios=len(plant.scenarios),
        seconds=time.perf_counter() - started,
        truth_rows=counts,
        checked=store is not None,
    )


def _manifest(
    households: int, months: int, seed: int, run_date: dt.date, bad: bool, schedule: Schedule, deliveries: Deliveries,
    plant: Plant, population: Any,
) -> dict[str, Any]:  # fmt: skip
    return {
        "generator": "synthetic",
        "arguments": {
            "households": households,
            "months": months,
            "seed": seed,
            "run_date": run_date.isoformat(),
            "bad_deliveries": bad,
        },
        "run_date": run_date.isoformat(),
        "cutoffs": {
            f: [d.isoformat() for d in schedule.cutoffs(f)] for f in ("monthly", "weekly", "quarterly", "each_term")
        },
        "counts": {
            "files": len(deliveries.landings),
            "rows": sum(x.rows_in for x in deliveries.landings),
            "background_households": households,
            "background_persons": population.persons.height,
            "planted_households": len(plant.households),
            "planted_scenarios": len(plant.scenarios),
        },
        "scenarios": plant.scenarios,
        "files": deliveries.styles,
    }
