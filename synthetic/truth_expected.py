"""The planted identification truth (applications and exit reviews) and its comparison with the checker."""

from __future__ import annotations

from collections import Counter

import polars as pl

from ingestion.pseudonymise import person_key
from synthetic.applications import Applicant
from synthetic.calendar import Schedule
from synthetic.plant import ExpectedIdentification, ExpectedWarning, Plant, money
from synthetic.population import Population
from synthetic.truth_check import CheckResult


def _application(a: Applicant, key: bytes) -> ExpectedIdentification:
    keys = "|".join(sorted(person_key(i, key) for i in a.cover_ids))
    return ExpectedIdentification(
        a.app["application_id"], "", a.review_kind, a.result, keys, money(a.temp_cents), "", "", a.scenario
    )


def _background_exits(population: Population, schedule: Schedule) -> list[ExpectedIdentification]:
    leaving = population.households.filter(pl.col("exit_kind") != "")
    out = []
    for hid, k, result in leaving.select("hid", "leave_k", "exit_target").iter_rows():
        out.append(
            ExpectedIdentification(
                "", hid, "退出复核", result, "", "0.00",
                schedule.monthly[k - 1].isoformat(), schedule.monthly[k].isoformat(), "background exit",
            )
        )  # fmt: skip
    return out


def expected_identifications(
    plant: Plant, population: Population, schedule: Schedule, applicants: list[Applicant], key: bytes
) -> list[ExpectedIdentification]:
    apps = [_application(a, key) for a in applicants + plant.applications if not a.superseded]
    return apps + plant.identifications + _background_exits(population, schedule)


def compare(
    result: CheckResult, warnings: list[ExpectedWarning], identifications: list[ExpectedIdentification]
) -> list[str]:
    """Differences between the independent check and the planted truth (empty when they agree)."""
    problems = []
    planted = {
        (w.rule_code, w.sub_case, w.level, w.household_id, w.person_key, w.episode): w.scenario for w in warnings
    }
    dupes = [
        k
        for k, n in Counter(
            (w.rule_code, w.sub_case, w.level, w.household_id, w.person_key, w.episode) for w in warnings
        ).items()
        if n > 1
    ]
    problems += [f"planted twice: {d}" for d in dupes]
    for k in sorted(set(planted) - result.warnings):
        problems.append(f"planted but not raised: {k} ({planted[k]})")
    for k in sorted(result.warnings - set(planted)):
        problems.append(f"raised but not planted: {k}")
    expected = {tuple(i.__dict__[f] for f in list(i.__dict__)[:-1]): i.scenario for i in identifications}
    for k in sorted(set(expected) - result.identifications):
        problems.append(f"identification expected but not decided so: {k} ({expected[k]})")
    for k in sorted(result.identifications - set(expected)):
        problems.append(f"identification decided but not expected: {k}")
    return problems
