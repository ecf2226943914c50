"""A realistic warning load (`warning_rate`): planted warning scenarios repeated until a share of the monitored
households is flagged, over every rule, level and county in the proportions a real month shows.

The background is kept away from every threshold (background_events.py), so without a load a province raises only
the catalogue's ~100 warnings whatever its size. A real month flags a few percent of the monitored households:
medical surges (W01) and unemployment (W03) most often, missed entitlements (W08) and incomes over the standard
(W05) next, the 核对 rules (W09–W11) and duplicates (W07) less, deaths (W02, W06) and disasters (W04) rarely.
The load plants more instances of the catalogue's own firing scenarios (scenarios_warnings.py,
scenarios_verification.py), so each one states its truth and the independent checker confirms it like the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from synthetic import scenarios_verification as verify
from synthetic import scenarios_warnings as warn
from synthetic.plant import ExpectedWarning, Plant
from synthetic.scenario_kit import Counties


@dataclass(frozen=True)
class Family:
    rule: str
    share: float  # of the flagged households (discovery rules: of the same count, on top)
    scenarios: tuple[Callable[[Plant, Counties], object], ...]  # planted in turn


MONITORED = (
    Family("W01", 0.30, (warn.w01, warn.w01, warn.w01, warn.w01, warn.w01_rural)),  # one 防返贫 call in five
    Family("W03", 0.20, (warn.w03a, warn.w03b)),
    Family("W08", 0.12, (warn.w08a, warn.w08b, warn.w08c)),
    Family("W05", 0.08, (warn.w05,)),
    Family("W09", 0.06, (verify.w09,)),
    Family("W10", 0.05, (verify.w10,)),
    Family("W11", 0.03, (verify.w11,)),
    Family("W07", 0.04, (warn.w07,)),
    Family("W02", 0.04, (warn.w02,)),
    Family("W06", 0.04, (warn.w06,)),
    Family("W04", 0.04, (warn.w04,)),
)
DISCOVERY = (Family("D01", 0.02, (warn.d01,)), Family("D02", 0.01, (warn.d02,)))
FAMILIES = MONITORED + DISCOVERY
SCALE_WARNING_RATE = 0.03  # what bench/ generates its tiers with: a real month flags a few percent
LARGEST_CALL = 9  # flagged units one scenario call can add (w10); a family overshoots its quota by less


def flagged_units(warnings: list[ExpectedWarning], rule: str) -> int:
    """What a family's quota counts: monitored households flagged by the rule; for discovery, the warnings
    (D01 and D02 concern people and disaster records outside the monitored households)."""
    mine = [w for w in warnings if w.rule_code == rule]
    return len(mine) if rule.startswith("D") else len({w.household_id for w in mine})


def quotas(households: int, rate: float) -> dict[str, int]:
    """Flagged units per family for `rate` × `households`; at least one each, so every rule is present."""
    target = rate * households
    return {f.rule: max(1, round(target * f.share)) for f in FAMILIES}


def plant_load(p: Plant, counties: Counties, households: int, rate: float) -> dict[str, int]:
    """Plant each family's scenarios in turn until its quota is met; returns the flagged units per family."""
    if rate <= 0:
        return {}
    planted, wanted = {}, quotas(households, rate)
    for family in FAMILIES:
        done, turn = 0, 0
        while done < wanted[family.rule]:
            before = len(p.warnings)
            family.scenarios[turn % len(family.scenarios)](p, counties)
            done += flagged_units(p.warnings[before:], family.rule)
            turn += 1
        planted[family.rule] = done
    return planted
