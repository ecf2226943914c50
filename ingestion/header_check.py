"""Is a delivered header cell a column name, or a value? Delivered values never leave the vault, lake and quarantine.

A column the contract does not know is reported by its name (the ledger's `extra_columns`, copied into the mart).
But a file delivered without its header row puts its first data row where the header should be: a settlement
number, an ID number, a name. So a header cell is recorded only when it looks like a column name:

- it is not digits and punctuation only (a number, a date, an amount);
- it holds no run of more than `MAX_DIGIT_RUN` digits (ID, phone, account and settlement numbers are values);
- it is at most `MAX_HEADER_CHARS` characters long (the longest header of any contract is 14);
- it is not a person's name the vault knows, or the delivery itself names.

A cell that fails is recorded as `#<column number> (withheld: looks like a value)`. A row none of whose cells is
a header of the contract, and some of whose cells look like values, is a data row: the file has no header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

MAX_HEADER_CHARS = 30
MAX_DIGIT_RUN = 5  # a year (2026) or a short count may appear in a header; six digits or more is a value
_LONG_NUMBER = re.compile(rf"\d{{{MAX_DIGIT_RUN + 1},}}")
_WORD = re.compile(r"[^\W\d_]")  # a letter of any script (Chinese characters included)
_DIGIT = re.compile(r"\d")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def looks_like_value(cell: str, names: Collection[str] = ()) -> bool:
    """Whether a header cell is more likely a delivered value than a column name."""
    text = _folded(cell)
    if not text:
        return False
    return (
        (_DIGIT.search(text) is not None and _WORD.search(text) is None)
        or bool(_LONG_NUMBER.search(text))
        or len(text) > MAX_HEADER_CHARS
        or text in names
        or cell.strip() in names
    )


def looks_like_data_row(cells: list[str], names: Collection[str] = ()) -> bool:
    """Whether a row that matched no header of the contract is a data row (the file has no header)."""
    return any(looks_like_value(cell, names) for cell in cells)


def withheld(position: int) -> str:
    return f"#{position} (withheld: looks like a value)"


def recordable(extras: list[tuple[int, str]], names: Collection[str] = ()) -> list[str]:
    """Unknown columns (1-based position, header as delivered) as the ledger may show them."""
    return [withheld(position) if looks_like_value(header, names) else header for position, header in extras]
