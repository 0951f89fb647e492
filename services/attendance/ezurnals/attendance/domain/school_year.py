"""The school year as attendance knows it from identity's ``SchoolYearDefined``: the span of days
an excuse may cover.

Identity owns the calendar; attendance keeps only each year's first and last school day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from ezurnals.shared.contracts.school_year import customary_days, year_of
from ezurnals.shared.domain import Invalid


class SchoolYearSpan(BaseModel):
    """A school year's first and last school day, both included."""

    model_config = ConfigDict(frozen=True)

    school_year: str
    first_day: dt.date
    last_day: dt.date

    def require_covers(self, day: dt.date, field: str) -> None:
        """Invalid naming ``field`` and the allowed range when ``day`` is outside the year."""
        if not self.first_day <= day <= self.last_day:
            raise Invalid(
                f"{field} must lie within the school year {self.school_year}: "
                f"{self.first_day.isoformat()} to {self.last_day.isoformat()}",
                field=field,
                code="outside_school_year",
                details={
                    "first_day": self.first_day.isoformat(),
                    "last_day": self.last_day.isoformat(),
                },
            )


def customary_year(today: dt.date) -> SchoolYearSpan:
    """Until identity's calendar arrives: the customary year that holds ``today``."""
    year = year_of(today)
    first_day, last_day = customary_days(year)
    return SchoolYearSpan(school_year=year, first_day=first_day, last_day=last_day)


def current_year(years: Iterable[SchoolYearSpan], today: dt.date) -> SchoolYearSpan:
    """The year ``today`` falls in; in the summer the one that ended last; without any, the
    customary one."""
    begun = [y for y in years if y.first_day <= today]
    if not begun:
        return customary_year(today)
    return max(begun, key=lambda y: y.first_day)
