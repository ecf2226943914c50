"""Value kinds (docs/extracts.md#values): the vectorised normalisers, checked against the reference
ingestion.idcard and against hand-written date rules on random inputs (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion import idcard, kinds
from ingestion.idvector import normalise_ids
from ingestion.pseudonymise import keyed_hashes, opaque_key, person_key

TODAY = dt.date.today()
FULL = {str(d): chr(0xFF10 + d) for d in range(10)}


def _vector(values: list[str], numbers: list[bool] | None = None) -> list[tuple[str | None, str | None]]:
    frame = normalise_ids(
        pl.Series(values, dtype=pl.String), pl.Series(numbers or [False] * len(values), dtype=pl.Boolean), TODAY
    )
    return list(zip(frame.get_column("id18").to_list(), frame.get_column("reason").to_list()))


def _reference(value: str) -> tuple[str | None, str | None]:
    if idcard.fold(value) == "":
        return None, None
    try:
        return idcard.normalise_id(value), None
    except idcard.IdError as err:
        return None, err.reason


@st.composite
def messy_ids(draw: st.DrawFn) -> str:
    """Valid IDs dressed up (case, spaces, full-width, 15-digit) or broken in one place."""
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)))
    region = draw(st.sampled_from(["370102", "110101", "990101", "370000", "000000", "820000"]))
    first17 = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    id18 = first17 + idcard.check_digit(first17)
    form = draw(
        st.sampled_from(
            [
                "plain",
                "legacy",
                "lower",
                "spaces",
                "fullwidth",
                "wrong_check",
                "bad_date",
                "short",
                "letters",
                "scientific",
                "random",
            ]
        )
    )
    if form == "legacy":
        return idcard.to_legacy(id18)
    if form == "lower":
        return id18.lower()
    if form == "spaces":
        return draw(st.sampled_from([" ", "\u3000", "\t", "  "])) + id18 + " "
    if form == "fullwidth":
        return "".join(FULL.get(c, c) for c in id18)
    if form == "wrong_check":
        return id18[:17] + draw(st.sampled_from("0123456789Xx"))
    if form == "bad_date":
        return id18[:10] + draw(st.sampled_from(["1301", "0230", "0000", "0431"])) + id18[14:]
    if form == "short":
        return id18[: draw(st.integers(0, 17))]
    if form == "letters":
        i = draw(st.integers(0, 17))
        return id18[:i] + draw(st.sampled_from("ABxy-. ")) + id18[i + 1 :]
    if form == "scientific":
        return f"{int(id18[:17]) / 1e17:.5f}E+17"
    return draw(st.text(alphabet="0123456789Xx \u3000０１２３ＸａE.+-", max_size=20))


@settings(max_examples=400, deadline=None)
@given(st.lists(messy_ids(), min_size=1, max_size=30))
def test_vectorised_ids_agree_with_idcard(values: list[str]) -> None:
    assert _vector(values) == [_reference(v) for v in values]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=10))
def test_vectorised_ids_agree_on_any_text(values: list[str]) -> None:
    assert _vector(values) == [_reference(v) for v in values]


def test_number_cell_ids_are_mangled_whatever_they_look_like() -> None:
    valid = idcard.make_id("370102", dt.date(1980, 1, 1), 5)
    assert _vector([valid, valid], [True, False]) == [(None, idcard.SPREADSHEET_MANGLED), (valid, None)]


def test_keys_match_pseudonymise() -> None:
    key = b"k" * 32
    ids = [idcard.make_id("370102", dt.date(1980, 1, 1), i) for i in range(5)] + [None]
    keys = keyed_hashes(pl.Series(ids, dtype=pl.String), key).to_list()
    assert keys[:5] == [person_key(i, key) for i in ids[:5]]
    assert keys[5] is None
    certs = keyed_hashes(pl.Series(["ABC"]), key, kind="certificate_no").to_list()
    assert certs == [opaque_key("ABC", key, "certificate_no")]


def _parse(parser, values: list[str]) -> list:
    return pl.select(parser(kinds.trimmed(pl.lit(pl.Series(values, dtype=pl.String))))).to_series().to_list()


def _full(text: str) -> str:
    return "".join(FULL.get(c, c) for c in text)


@st.composite
def date_forms(draw: st.DrawFn) -> tuple[str, dt.date]:
    day = draw(st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)))
    form = draw(
        st.sampled_from(
            [
                "{y}-{m:02d}-{d:02d}",
                "{y}/{m}/{d}",
                "{y}/{m:02d}/{d:02d}",
                "{y}{m:02d}{d:02d}",
                "{y}年{m}月{d}日",
                "{y}.{m:02d}.{d:02d}",
                "{y}-{m:02d}-{d:02d} 13:45:00",
                "{y}/{m}/{d} 8:05",
                "{y}-{m:02d}-{d:02d}T00:00:00",
            ]
        )
    )
    text = form.format(y=day.year, m=day.month, d=day.day)
    if draw(st.booleans()):
        text = _full(text)
    if draw(st.booleans()):
        text = f" {text}\u3000"
    return text, day


@settings(max_examples=300, deadline=None)
@given(st.lists(date_forms(), min_size=1, max_size=20))
def test_dates_in_every_accepted_form(pairs: list[tuple[str, dt.date]]) -> None:
    assert _parse(kinds.parse_date, [t for t, _ in pairs]) == [d for _, d in pairs]


@settings(max_examples=200, deadline=None)
@given(st.integers(1900, 2099), st.integers(1, 12), st.integers(29, 40))
def test_impossible_days_are_not_dates(year: int, month: int, day: int) -> None:
    try:
        expected = dt.date(year, month, day)
    except ValueError:
        expected = None
    assert _parse(kinds.parse_date, [f"{year}-{month:02d}-{day:02d}", f"{year}年{month}月{day}日"]) == [expected] * 2


@pytest.mark.parametrize("text", ["2026-03", "abc", "2026-3-5-1", "26-03-05", "2026-03-05 noon", "3/5/2026", ""])
def test_not_dates(text: str) -> None:
    assert _parse(kinds.parse_date, [text]) == [None]


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("202603", dt.date(2026, 3, 1)),
        ("2026-03", dt.date(2026, 3, 1)),
        ("2026/3", dt.date(2026, 3, 1)),
        ("2026年3月", dt.date(2026, 3, 1)),
        (_full("202611"), dt.date(2026, 11, 1)),
        ("2026-03-01 00:00:00", dt.date(2026, 3, 1)),
        ("202613", None),
        ("2026-00", None),
        ("2026-03-05", None),
        ("march", None),
    ],
)
def test_months(text: str, month: dt.date | None) -> None:
    assert _parse(kinds.parse_month, [text]) == [month]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1234.5", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1234.50元", "1234.50"),
        ("￥1234.5", "1234.50"),
        ("¥1,234", "1234.00"),
        (_full("1234") + "．５", "1234.50"),
        ("-88.1", "-88.10"),
        ("-￥5", "-5.00"),
        ("0.30000000000000004", "0.30"),
        (".5", "0.50"),
        ("12,34", None),
        ("1e3", None),
        ("abc", None),
        ("1234567890123", None),
        ("1.2.3", None),
    ],
)
def test_amounts(text: str, amount: str | None) -> None:
    got = _parse(kinds.parse_amount, [text])[0]
    assert got == (Decimal(amount) if amount else None)


@pytest.mark.parametrize(
    ("text", "value"), [("3", 3), (_full("12"), 12), ("007", 7), ("-1", None), ("3.5", None), ("三", None)]
)
def test_ints(text: str, value: int | None) -> None:
    assert _parse(kinds.parse_int, [text]) == [value]


def test_regions() -> None:
    assert (
        _parse(
            lambda s: kinds.parse_region(s, 12), ["370102001001", _full("370102001001"), "3701020010", "37010200100A"]
        )
        == ["370102001001"] * 2 + [None] * 2
    )
    assert _parse(lambda s: kinds.parse_region(s, 6), ["370102", "3701021"]) == ["370102", None]


def test_enums_fold_and_map_synonyms() -> None:
    synonyms = {"城市": "城市", "城镇": "城市", "农村": "农村"}
    values = pl.Series([" 城镇 ", "农村", "城市\u3000", "乡村", ""])
    assert kinds.parse_enum(values.str.strip_chars(), synonyms).to_list() == ["城市", "农村", "城市", None, None]
