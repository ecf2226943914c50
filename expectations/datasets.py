"""What the contracts cannot say: each dataset's plausible ranges, key amounts and cross-file links.

One declarative table. The generic checks (volume, keys, required columns, enums, fill rates, dates,
ages, parts flags) come from the contract (`expectations.suites`); a dataset missing here still gets
them. Ranges are warnings: a single implausible row is worth a look, not a reason to hold a delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Range:
    column: str
    low: float
    high: float
    why: str = ""


@dataclass(frozen=True)
class MedianBasis:
    """An amount whose median must not jump between deliveries (positive amounts only).

    `only_when` restricts the rows (column, values kept): reversals are left out of 医保 costs, and
    wage bases are those of the employee schemes (residents' bases are a tenth of them, and their
    share of a delivery varies). A jump beyond the critical factor holds the delivery when
    `critical`; otherwise the suite only warns, at the warning factor.
    """

    column: str
    only_when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    critical: bool = True


@dataclass(frozen=True)
class Reference:
    """Rows of this dataset must find `column` in `target_column` of `target` of the same cut-off."""

    column: str
    target: str
    target_column: str


@dataclass(frozen=True)
class DatasetRules:
    ranges: tuple[Range, ...] = ()
    medians: tuple[MedianBasis, ...] = ()
    references: tuple[Reference, ...] = ()
    ordered_dates: tuple[tuple[str, str], ...] = ()  # (later, earlier): later ≥ earlier when both set
    patterns: tuple[tuple[str, str], ...] = ()  # (column, regex)
    future_dates: frozenset[str] = field(default_factory=frozenset)  # may be after the cut-off
    compare_volume: bool = True  # rows against the previous delivery (not for files of varying origin)


EMPLOYEE_SCHEMES = ("企业职工基本养老保险", "机关事业单位养老保险")
YUAN_MONTHLY = 20_000  # no monthly benefit or wage base of a low-income household comes near this

RULES: dict[str, DatasetRules] = {
    "mz_household": DatasetRules(
        ranges=(
            Range("member_count", 1, 20, "a household of more than 20 is a typing error"),
            Range("annual_income", 0, 2_000_000),
            Range("monthly_benefit", 0, YUAN_MONTHLY),
        ),
        ordered_dates=(("exited_on", "recognised_on"),),
        future_dates=frozenset({"exited_on"}),  # an exit may be decided ahead of its date
    ),
    "mz_member": DatasetRules(
        references=(Reference("household_id", "mz_household", "household_id"),),
    ),
    "mz_payment": DatasetRules(
        ranges=(Range("amount", -50_000, 50_000, "negative = a recovered overpayment"),),
        medians=(MedianBasis("amount"),),
        future_dates=frozenset({"period"}),  # a month may be paid in advance
    ),
    "mz_application": DatasetRules(
        ranges=(
            Range("member_count", 1, 20),
            Range("annual_income", 0, 5_000_000),
            Range("financial_assets", 0, 50_000_000),
            Range("vehicle_count", 0, 10),
            Range("extra_property_count", 0, 10),
            Range("medical_expense_12m", 0, 5_000_000),
            Range("education_expense_12m", 0, 1_000_000),
        ),
    ),
    "mz_cremation": DatasetRules(ordered_dates=(("cremated_on", "died_on"),)),
    "ybj_settlement": DatasetRules(
        ranges=(
            Range("total_cost", -2_000_000, 2_000_000, "negative on a reversal"),
            Range("self_paid", -1_000_000, 1_000_000, "negative on a reversal"),
        ),
        medians=(MedianBasis("self_paid", only_when=(("settlement_type", ("正常",)),)),),
    ),
    "rsj_unemployment": DatasetRules(ordered_dates=(("closed_on", "registered_on"),)),
    "rsj_contribution": DatasetRules(
        ranges=(Range("wage_base", 0, 100_000),),
        # W05 reads it, but wages do move: a warning only
        medians=(MedianBasis("wage_base", only_when=(("scheme", EMPLOYEE_SCHEMES),), critical=False),),
    ),
    "yjj_disaster": DatasetRules(
        ranges=(
            Range("loss", 0, 50_000_000),
            Range("people_affected", 1, 50),
            Range("relief_paid", 0, 1_000_000),
        ),
    ),
    "nync_monitored": DatasetRules(
        ranges=(Range("member_count", 1, 20), Range("income_per_capita", 0, 1_000_000)),
    ),
    "jyt_student_aid": DatasetRules(
        ranges=(Range("amount", 0, 100_000),),
        patterns=(("school_year", r"^\d{4}-\d{4}$"),),
    ),
    # each county returns its own workbook: one delivery's size says nothing about the next one's
    "feedback": DatasetRules(compare_volume=False),
    # the 核对 registers (docs/verification.md): a header without its 万元 unit would make capitals 10,000× too small
    "zrzy_property": DatasetRules(ranges=(Range("floor_area", 5, 2_000, "m²: a dwelling outside this is a typo"),)),
    "scjg_business": DatasetRules(
        ranges=(Range("registered_capital", 0, 10_000_000_000),),
        medians=(MedianBasis("registered_capital"),),
    ),
    "zjt_housing_aid": DatasetRules(
        ranges=(Range("amount", 0, 2_000_000),),
        ordered_dates=(("ends_on", "starts_on"),),
        future_dates=frozenset({"starts_on", "ends_on"}),  # a lease or subsidy may be agreed ahead
    ),
}


def rules_for(dataset: str) -> DatasetRules:
    return RULES.get(dataset, DatasetRules())
