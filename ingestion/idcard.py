"""Citizen ID numbers (公民身份号码, GB 11643-1999): normalise, validate, derive.

Shared by landing (normalise what departments deliver) and the synthetic generator (make valid IDs),
so that both agree on what a valid ID is.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

PROVINCE_CODES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    }
)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SCIENTIFIC = re.compile(r"^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$")
_ID18 = re.compile(r"^[0-9]{17}[0-9X]$")
_ID15 = re.compile(r"^[0-9]{15}$")

# Reason codes (docs/extracts.md#reason-codes); each bad ID gets exactly one.
BAD_FORMAT = "bad_id_format"
INVALID_PROVINCE = "invalid_province"
INVALID_BIRTH_DATE = "invalid_birth_date"
BAD_CHECK_DIGIT = "bad_check_digit"
SPREADSHEET_MANGLED = "id_spreadsheet_mangled"


class IdError(ValueError):
    """An ID that cannot be normalised; `reason` is one of the reason codes above."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class IdFacts:
    """What an ID says about its holder, derived before the ID is replaced by a key."""

    id_number: str
    birth_date: dt.date
    sex: str  # 男 / 女
    region6: str


def check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def fold(text: str) -> str:
    """Full-width forms to half-width, surrounding spaces (incl. ideographic) removed."""
    return unicodedata.normalize("NFKC", text).strip()


def _birth_date(digits8: str) -> dt.date | None:
    try:
        born = dt.date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None
    if born.year < 1880 or born > dt.date.today():
        return None
    return born


def normalise_id(value: object) -> str:
    """Return the 18-character normal form of an ID, or raise IdError with a reason code.

    A number (an Excel number cell) or scientific notation means a spreadsheet turned the ID into a
    number and lost digits: it cannot be recovered.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, (int, float)):
            raise IdError(SPREADSHEET_MANGLED, "ID stored as a number by a spreadsheet; digits lost")
        raise IdError(BAD_FORMAT, f"ID of unexpected type {type(value).__name__}")
    text = fold(value).upper()
    if _SCIENTIFIC.match(text):
        raise IdError(SPREADSHEET_MANGLED, "ID in scientific notation; digits lost")
    if _ID15.match(text):
        return _from_legacy(text)
    if not _ID18.match(text):
        raise IdError(BAD_FORMAT, "ID must be 18 characters (17 digits and a digit or X) or 15 digits")
    if text[:2] not in PROVINCE_CODES:
        raise IdError(INVALID_PROVINCE, f"ID starts with {text[:2]}, not a province code")
    if _birth_date(text[6:14]) is None:
        raise IdError(INVALID_BIRTH_DATE, f"ID birth date {text[6:14]} is not a valid date")
    if check_digit(text[:17]) != text[17]:
        raise IdError(BAD_CHECK_DIGIT, "ID check digit does not match (GB 11643)")
    return text


def _from_legacy(text15: str) -> str:
    if text15[:2] not in PROVINCE_CODES:
        raise IdError(INVALID_PROVINCE, f"ID starts with {text15[:2]}, not a province code")
    first17 = text15[:6] + "19" + text15[6:]
    if _birth_date(first17[6:14]) is None:
        raise IdError(INVALID_BIRTH_DATE, f"ID birth date {first17[6:14]} is not a valid date")
    return first17 + check_digit(first17)


def to_legacy(id18: str) -> str:
    """The 15-digit form of an ID born in the 1900s (for the generator's messy deliveries)."""
    if id18[6:8] != "19":
        raise ValueError("only IDs born 1900-1999 have a 15-digit form")
    return id18[:6] + id18[8:17]


def facts(id18: str) -> IdFacts:
    """Birth date, sex and county of a normalised ID."""
    born = _birth_date(id18[6:14])
    assert born is not None, "facts() takes a normalised ID"
    return IdFacts(id18, born, "男" if int(id18[16]) % 2 else "女", id18[:6])


def make_id(region6: str, born: dt.date, sequence: int) -> str:
    """A valid 18-character ID: region, birth date, 3-digit sequence (odd = male), check digit."""
    first17 = f"{region6}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)
