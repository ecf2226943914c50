"""The fixed catalogue of planted scenarios (the same set whatever the province size)."""

from __future__ import annotations

import numpy as np

from synthetic import scenarios_ident as ident
from synthetic import scenarios_warnings as warn
from synthetic.plant import Plant
from synthetic.scenario_kit import Counties
from synthetic.scenarios_verification import plant_verification


def plant_all(p: Plant, counties: list[str], rng: np.random.Generator) -> None:
    c = Counties(counties, rng)
    warn.w01(p, c)
    warn.w01_near_misses(p, c)
    warn.w01_rural(p, c)
    found = warn.w02(p, c)
    warn.w02_near_misses(p, c)
    warn.w03a(p, c)
    warn.w03a_near_misses(p, c)
    warn.w03b(p, c)
    found |= warn.w04(p, c)
    warn.d02(p, c)
    warn.w05(p, c)
    warn.w05_near_misses(p, c)
    warn.w06(p, c)
    warn.w07(p, c)
    warn.w08a(p, c)
    warn.w08b(p, c)
    warn.w08c(p, c)
    warn.d01(p, c)
    ident.exits(p, c)
    ident.redelivery(p, c)
    ident.identification(p, c, found)
    plant_verification(p, c)
