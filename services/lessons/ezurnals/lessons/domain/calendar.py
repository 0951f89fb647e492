"""The school calendar as a plain value: which days are school days for which grade.

Identity owns the calendar; the lessons service receives it as this value (from its projection of
identity's events) and never stores it as its own fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ezurnals.shared.contracts.identity import SchoolYearDefined
from ezurnals.shared.domain import Invalid


class DateRange(BaseModel):
    """Both ends included, as calendars are written ("20.–24. oktobris")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_day: date
    last_day: date

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.last_day < self.first_day:
            raise ValueError("last_day is before first_day")
        return self

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first_day <= day <= self.last_day

    def days(self) -> Iterator[date]:
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += timedelta(days=1)


class Holiday(DateRange):
    """School holidays; ``grades`` limits them to some grades (grade 1's extra week), else all."""

    grades: frozenset[int] = frozenset()

    def applies_to(self, grade_level: int) -> bool:
        return not self.grades or grade_level in self.grades


class SchoolCalendar(BaseModel):
    """One school year: semesters, holidays, and the last school day of grades that end early
    or late (grade 9 and 12 exams)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    school_year: str
    semesters: tuple[DateRange, ...]
    holidays: tuple[Holiday, ...] = ()
    grade_end_dates: dict[int, date] = Field(default_factory=dict)
    #: ISO weekdays on which lessons take place.
    school_weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})

    @classmethod
    def from_school_year(cls, event: SchoolYearDefined) -> SchoolCalendar:
        """The calendar as identity publishes it."""
        return cls(
            school_year=event.school_year,
            semesters=tuple(
                DateRange(first_day=s.first_day, last_day=s.last_day) for s in event.semesters
            ),
            holidays=tuple(
                Holiday(
                    first_day=h.first_day, last_day=h.last_day, grades=frozenset(h.grade_levels)
                )
                for h in event.holidays
            ),
            grade_end_dates={g.grade_level: g.last_day for g in event.grade_end_dates},
        )

    @property
    def first_day(self) -> date:
        return min(s.first_day for s in self.semesters)

    @property
    def last_day(self) -> date:
        """The year's last school day for any grade (exam grades end latest)."""
        return max([s.last_day for s in self.semesters] + list(self.grade_end_dates.values()))

    def covers(self, day: date) -> bool:
        return not self.semesters or self.first_day <= day <= self.last_day

    def require_within(self, day: date, field: str) -> None:
        """Invalid naming ``field`` and the year's range when ``day`` lies outside the year."""
        if not self.covers(day):
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

    def is_school_day(self, day: date, grade_level: int) -> bool:
        if day.isoweekday() not in self.school_weekdays:
            return False
        if not any(day in semester for semester in self.semesters):
            return False
        last_day = self.grade_end_dates.get(grade_level)
        if last_day is not None and day > last_day:
            return False
        return not any(day in h and h.applies_to(grade_level) for h in self.holidays)


def current_calendar(calendars: Iterable[SchoolCalendar], today: date) -> SchoolCalendar | None:
    """The year ``today`` falls in, or in the summer the one that ended last; None before any."""
    begun = [c for c in calendars if c.semesters and c.first_day <= today]
    return max(begun, key=lambda c: c.first_day, default=None)
