"""Latvian personal codes (personas kods).

Two formats: the old ``DDMMYY-CNNNN`` carries the birth date (C is the century: 0 for the
1800s, 1 for the 1900s, 2 for the 2000s) and a check digit; the new one, issued since 2017,
starts with 32, carries nothing about the person and has no check digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_FORMAT = re.compile(r"^(\d{6})-?(\d{5})$")
_WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CENTURIES = {"0": 1800, "1": 1900, "2": 2000}


class PersonalCodeError(ValueError):
    pass


@dataclass(frozen=True)
class PersonalCode:
    #: Normalised as ``NNNNNN-NNNNN``.
    value: str
    #: The birth date the old format carries; None for new codes.
    birth_date: date | None


def parse_personal_code(text: str) -> PersonalCode:
    """The code in its normal form, or PersonalCodeError saying what is wrong."""
    match = _FORMAT.match(text.strip())
    if match is None:
        raise PersonalCodeError("a personal code looks like 010115-21234 or 321234-56789")
    digits = match[1] + match[2]
    value = f"{match[1]}-{match[2]}"
    if digits.startswith("32"):
        return PersonalCode(value, None)
    century = _CENTURIES.get(digits[6])
    if century is None:
        raise PersonalCodeError("the 7th digit of an old-format code must be 0, 1 or 2")
    try:
        born = date(century + int(digits[4:6]), int(digits[2:4]), int(digits[0:2]))
    except ValueError:
        raise PersonalCodeError("the first six digits are not a date (DDMMYY)") from None
    check = (1101 - sum(w * int(d) for w, d in zip(_WEIGHTS, digits, strict=False))) % 11
    if check != int(digits[10]):
        raise PersonalCodeError("the check digit does not match")
    return PersonalCode(value, born)
