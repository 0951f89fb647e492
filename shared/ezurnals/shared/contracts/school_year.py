"""The school year, spelled one way in every API, event and document: "2026/2027".

Every service used to write its own ("2026/2027" in identity, "2026/27" in grading and
reporting), so the same year was two keys. The long form is the only one written; the short one
is still read where a person types it (``SchoolYearInput``) or an older event carries it (the
contracts' upcasters), as the long one.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field

from ezurnals.shared.contracts.base import IntegrationEvent, JsonDict, contract, upcaster

PATTERN = r"^\d{4}/\d{4}$"
EXAMPLE = "2026/2027"
_EITHER = re.compile(r"^(\d{4})/(\d{2}|\d{4})$")


def starting(first_year: int) -> str:
    """The school year that begins in ``first_year``: 2026 → "2026/2027"."""
    return f"{first_year:04d}/{first_year + 1:04d}"


def spelled(value: str) -> str:
    """``value`` in the one spelling: "2026/27" and "2026/2027" both give "2026/2027".

    ValueError when it is not a school year, or does not span two consecutive years.
    """
    match = _EITHER.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a school year like {EXAMPLE}")
    first, second = int(match[1]), match[2]
    follows = int(second) == (first + 1 if len(second) == 4 else (first + 1) % 100)
    if first < 1 or not follows:
        raise ValueError(f"{value!r} does not span two consecutive years, like {EXAMPLE}")
    return starting(first)


def first_year(value: str) -> int:
    """The calendar year a school year begins in: "2026/2027" → 2026."""
    return int(spelled(value)[:4])


# The school year's dates, one definition for every service. Its actual days are the semesters
# identity defines (``SchoolYearDefined``): a service that has them uses them. Without them a
# year runs from 1 September to 31 August (``customary_days``, ``year_of``); it is planned from
# 1 July, when classes are opened and timetables made for it (``planned_year_of``), and what is
# dated in it (semesters, holidays, deadlines, timetable changes) may fall from that 1 July to
# the 31 August it ends (``year_span``).
FIRST_MONTH = 9
PLANNED_FROM_MONTH = 7
LAST_MONTH, LAST_DAY = 8, 31


def _first_in_calendar(value: str) -> int:
    first = first_year(value)
    if not 1 <= first < date.max.year:
        raise ValueError(f"{value!r} is outside the calendar")
    return first


def customary_days(value: str) -> tuple[date, date]:
    """1 September to 31 August: "2025/2026" → 2025-09-01 … 2026-08-31. ValueError for a year
    the calendar cannot hold."""
    first = _first_in_calendar(value)
    return date(first, FIRST_MONTH, 1), date(first + 1, LAST_MONTH, LAST_DAY)


def year_span(value: str) -> tuple[date, date]:
    """What a year's dates may cover, from 1 July before it: "2025/2026" → 2025-07-01 …
    2026-08-31. ValueError for a year the calendar cannot hold."""
    first = _first_in_calendar(value)
    return date(first, PLANNED_FROM_MONTH, 1), date(first + 1, LAST_MONTH, LAST_DAY)


def year_of(day: date) -> str:
    """The year whose customary days hold ``day``: from September on, the one begun then."""
    return starting(day.year if day.month >= FIRST_MONTH else day.year - 1)


def planned_year_of(day: date) -> str:
    """The year being planned on ``day``: from July on, the one that begins that autumn."""
    return starting(day.year if day.month >= PLANNED_FROM_MONTH else day.year - 1)


def _long_form(value: str) -> str:
    if spelled(value) != value:
        raise ValueError(f"{value!r} is not written like {EXAMPLE}")
    return value


def _read(value: Any) -> Any:
    return spelled(value) if isinstance(value, str) else value


#: A school year in a contract or an answer: the long form only.
SchoolYear = Annotated[str, AfterValidator(_long_form), Field(pattern=PATTERN, examples=[EXAMPLE])]
#: A school year a person gives (body or query): the long form, or the short one read as it.
SchoolYearInput = Annotated[str, BeforeValidator(_read), Field(pattern=PATTERN, examples=[EXAMPLE])]


def _long_school_year(payload: JsonDict) -> JsonDict:
    """v1 → v2: "2025/26" becomes "2025/2026"; nothing else changed. What is no school year is
    left for v2's validation to name."""
    try:
        return {**payload, "school_year": spelled(payload["school_year"])}
    except (KeyError, TypeError, ValueError):
        return payload


def earlier_spelling(model: type[IntegrationEvent], v1_year: Any) -> type[IntegrationEvent]:
    """Register the v1 contract of ``model`` (a v2 that writes the one spelling): the same but
    for its school year typed ``v1_year`` (and so its committed schema, docstring and title),
    with the upcaster to v2."""
    name = model.__name__
    old = type(
        f"{name}V1",
        (model,),
        {
            "__doc__": model.__doc__,
            "__module__": model.__module__,
            "__annotations__": {"school_year": v1_year, "schema_version": "ClassVar[int]"},
            "schema_version": 1,
            "model_config": ConfigDict(title=name),
        },
    )
    contract(old)
    upcaster(model.event_type, 1)(_long_school_year)
    return old
