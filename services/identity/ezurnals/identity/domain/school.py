"""The school: its registration, school years (calendar), classes and password-policy versions.

Policies are versioned data with an effective date (seed rules 11–12): a version applies from
its ``effective_from`` until the next one, and ``policy_at`` picks the version in force on a day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from ezurnals.identity.domain.passwords import (
    STAFF_DEFAULT,
    PasswordPolicy,
    check_policy_ranges,
    default_policy,
)
from ezurnals.shared.contracts.identity import (
    DEFAULT_TIME_ZONE,
    ClassOpened,
    DateRange,
    GradeEndDate,
    Holiday,
    IdentityEvent,
    PasswordPolicyChanged,
    Role,
    SchoolRegistered,
    SchoolYearDefined,
    Semester,
)
from ezurnals.shared.contracts.school_year import first_year, spelled, starting, year_span
from ezurnals.shared.domain import (
    Aggregate,
    Command,
    Conflict,
    Invalid,
    NotFound,
    missing,
    require_policy_start,
)

_CLASS_LABEL = re.compile(r"^(\d{1,2})\.\s?([a-zāčēģīķļņšūž]{1,3})$", re.IGNORECASE)


class RegisterSchool(Command):
    school_id: UUID
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = DEFAULT_TIME_ZONE


class DefineSchoolYear(Command):
    school_year: str
    semesters: tuple[Semester, ...]
    grade_end_dates: tuple[GradeEndDate, ...] = ()
    holidays: tuple[Holiday, ...] = ()


class OpenClass(Command):
    class_id: UUID
    school_year: str
    grade_level: int
    label: str


class ChangePasswordPolicy(Command):
    """A field left out keeps rule 9's value for staff (``STAFF_DEFAULT``)."""

    role: Role
    effective_from: date
    max_age_days: int | None = STAFF_DEFAULT.max_age_days
    warn_days: int = STAFF_DEFAULT.warn_days
    history: int = STAFF_DEFAULT.history
    min_length: int = STAFF_DEFAULT.min_length
    require_totp: bool = STAFF_DEFAULT.require_totp


@dataclass(frozen=True)
class SchoolClass:
    class_id: UUID
    school_year: str
    grade_level: int
    label: str


@dataclass(frozen=True)
class SchoolYearCalendar:
    """A school year's semesters, per-grade last days and holidays."""

    school_year: str
    semesters: tuple[Semester, ...]
    grade_end_dates: tuple[GradeEndDate, ...]
    holidays: tuple[Holiday, ...]

    @property
    def first_day(self) -> date:
        return self.semesters[0].first_day

    def last_day(self, grade_level: int) -> date:
        """The grade's own end date if set (exam grades end later), else the last semester's."""
        for end in self.grade_end_dates:
            if end.grade_level == grade_level:
                return end.last_day
        return self.semesters[-1].last_day

    def semester_on(self, day: date, grade_level: int | None = None) -> int | None:
        """For a grade, its own last day extends the last semester (exam grades study longer)."""
        *earlier, last = self.semesters
        found = next((s.number for s in earlier if s.covers(day)), None)
        end = (
            last.last_day if grade_level is None else max(last.last_day, self.last_day(grade_level))
        )
        return last.number if found is None and last.first_day <= day <= end else found

    def is_holiday(self, day: date, grade_level: int) -> bool:
        return any(
            h.covers(day) and (not h.grade_levels or grade_level in h.grade_levels)
            for h in self.holidays
        )

    def is_school_day(self, day: date, grade_level: int) -> bool:
        """A weekday of a semester, before the grade's last day, outside holidays."""
        return (
            day.weekday() < 5
            and self.semester_on(day, grade_level) is not None
            and day <= self.last_day(grade_level)
            and not self.is_holiday(day, grade_level)
        )


def year_bounds(school_year: str) -> DateRange:
    """The widest span a school year may cover: 1 July of its first year to 31 August after."""
    try:
        first = first_year(school_year)
    except ValueError:
        first = 0
    if first < 1 or first >= date.max.year or spelled(school_year) != school_year:
        raise Invalid(
            "a school year is written like 2025/2026", field="school_year", code="bad_school_year"
        )
    first_day, last_day = year_span(school_year)
    return DateRange(first_day=first_day, last_day=last_day)


def require_in_year(school_year: str, day: date, field: str) -> None:
    """Invalid naming ``field`` and the year's widest span when ``day`` lies outside it."""
    bounds = year_bounds(school_year)
    if not bounds.covers(day):
        raise Invalid(
            f"{field} must lie within school year {school_year}: "
            f"{bounds.first_day.isoformat()} to {bounds.last_day.isoformat()}",
            field=field,
            code="outside_school_year",
            details={
                "first_day": bounds.first_day.isoformat(),
                "last_day": bounds.last_day.isoformat(),
            },
        )


def next_school_year(school_year: str) -> str:
    return starting(year_bounds(school_year).first_day.year + 1)


class School(Aggregate[IdentityEvent]):
    @staticmethod
    def stream(school_id: UUID) -> str:
        return f"school-{school_id}"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.school_id: UUID | None = None
        self.name = ""
        self.time_zone = DEFAULT_TIME_ZONE
        self.years: dict[str, SchoolYearCalendar] = {}
        self.classes: dict[UUID, SchoolClass] = {}
        self._policies: dict[Role, dict[date, PasswordPolicy]] = {}

    # --- decisions ---------------------------------------------------------------------------

    def register(self, cmd: RegisterSchool) -> list[IdentityEvent]:
        if self.exists:
            raise Conflict("the school is already registered", code="school_exists")
        try:
            ZoneInfo(cmd.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                f"unknown time zone {cmd.time_zone!r}", field="time_zone", code="bad_time_zone"
            ) from None
        return [SchoolRegistered(school_id=cmd.school_id, name=cmd.name, time_zone=cmd.time_zone)]

    def define_school_year(self, cmd: DefineSchoolYear) -> list[IdentityEvent]:
        school_id = self._require()
        bounds = year_bounds(cmd.school_year)
        if cmd.school_year in self.years:
            raise Conflict(f"school year {cmd.school_year} is already defined", field="school_year")
        _check_semesters(cmd.semesters, bounds)
        grades = [end.grade_level for end in cmd.grade_end_dates]
        if len(grades) != len(set(grades)):
            raise Invalid("each grade has one end date", field="grade_end_dates")
        last_start = cmd.semesters[-1].first_day
        if any(not last_start < end.last_day <= bounds.last_day for end in cmd.grade_end_dates):
            raise Invalid(
                "a grade's last day must fall after the last semester begins and within the year",
                field="grade_end_dates",
            )
        for i, holiday in enumerate(cmd.holidays):
            if holiday.first_day > holiday.last_day or not (
                bounds.covers(holiday.first_day) and bounds.covers(holiday.last_day)
            ):
                raise Invalid(
                    f"a holiday must be a date range within the year: "
                    f"{bounds.first_day.isoformat()} to {bounds.last_day.isoformat()}",
                    field=f"holidays[{i}]",
                )
            for j, grade in enumerate(holiday.grade_levels):
                if not 1 <= grade <= 12:
                    raise Invalid(
                        "grade levels are 1 to 12",
                        field=f"holidays[{i}].grade_levels[{j}]",
                        code="out_of_range",
                        details={"min": 1, "max": 12},
                    )
        return [
            SchoolYearDefined(
                school_id=school_id,
                school_year=cmd.school_year,
                semesters=cmd.semesters,
                grade_end_dates=cmd.grade_end_dates,
                holidays=cmd.holidays,
            )
        ]

    def open_class(self, cmd: OpenClass) -> list[IdentityEvent]:
        school_id = self._require()
        if cmd.school_year not in self.years:
            raise NotFound(f"school year {cmd.school_year} is not defined", field="school_year")
        if not 1 <= cmd.grade_level <= 12:
            raise Invalid("grade levels are 1 to 12", field="grade_level")
        match = _CLASS_LABEL.match(cmd.label.strip())
        if match is None or int(match[1]) != cmd.grade_level:
            raise Invalid(
                f"a class of grade {cmd.grade_level} is labelled like {cmd.grade_level}.b",
                field="label",
                code="bad_class_label",
            )
        label = f"{match[1]}.{match[2].lower()}"
        if cmd.class_id in self.classes:
            raise Conflict("the class is already open", field="class_id")
        if self.class_by_label(cmd.school_year, label) is not None:
            raise Conflict(f"class {label} already exists in {cmd.school_year}", field="label")
        return [
            ClassOpened(
                school_id=school_id,
                class_id=cmd.class_id,
                school_year=cmd.school_year,
                grade_level=cmd.grade_level,
                label=label,
            )
        ]

    def change_password_policy(self, cmd: ChangePasswordPolicy, today: date) -> list[IdentityEvent]:
        """Record a policy version; it may start today or later, never rewrite the past."""
        school_id = self._require()
        require_policy_start(cmd.effective_from, today)
        check_policy_ranges(cmd.max_age_days, cmd.warn_days)
        _policy_of(cmd)
        return [PasswordPolicyChanged(school_id=school_id, **cmd.model_dump())]

    # --- queries -----------------------------------------------------------------------------

    def policy_at(self, role: Role, on: date) -> PasswordPolicy:
        """The version in force on ``on``: the latest that took effect by then, else the default."""
        versions = self._policies.get(role, {})
        started = [d for d in versions if d <= on]
        return versions[max(started)] if started else default_policy(role)

    def policy_versions(self, role: Role) -> list[PasswordPolicy]:
        """Every version recorded for ``role``, oldest first; before any, rule 9's default."""
        versions = self._policies.get(role, {})
        return [versions[d] for d in sorted(versions)] or [default_policy(role)]

    def class_(self, class_id: UUID) -> SchoolClass:
        try:
            return self.classes[class_id]
        except KeyError:
            raise missing("class", "class_id") from None

    def class_by_label(self, school_year: str, label: str) -> SchoolClass | None:
        wanted = label.replace(" ", "").casefold()
        return next(
            (
                c
                for c in self.classes.values()
                if c.school_year == school_year and c.label.casefold() == wanted
            ),
            None,
        )

    def classes_of(self, school_year: str) -> list[SchoolClass]:
        return sorted(
            (c for c in self.classes.values() if c.school_year == school_year),
            key=lambda c: (c.grade_level, c.label),
        )

    def calendar(self, school_year: str) -> SchoolYearCalendar:
        try:
            return self.years[school_year]
        except KeyError:
            raise NotFound(
                f"school year {school_year} is not defined", field="school_year"
            ) from None

    def _require(self) -> UUID:
        if self.school_id is None:
            raise NotFound("no such school", field="school_id")
        return self.school_id

    # --- evolution ---------------------------------------------------------------------------

    def when_SchoolRegistered(self, event: SchoolRegistered) -> None:
        self.school_id = event.school_id
        self.name = event.name
        self.time_zone = event.time_zone

    def when_SchoolYearDefined(self, event: SchoolYearDefined) -> None:
        self.years[event.school_year] = SchoolYearCalendar(
            event.school_year, event.semesters, event.grade_end_dates, event.holidays
        )

    def when_ClassOpened(self, event: ClassOpened) -> None:
        self.classes[event.class_id] = SchoolClass(
            event.class_id, event.school_year, event.grade_level, event.label
        )

    def when_PasswordPolicyChanged(self, event: PasswordPolicyChanged) -> None:
        self._policies.setdefault(event.role, {})[event.effective_from] = _policy_of(event)


def seed_password_policies(school_id: UUID) -> list[IdentityEvent]:
    """Rule 9 as a newly registered school's first policy version for every role, in force from
    the start, so what the school was given is recorded like any later decision."""
    return [
        PasswordPolicyChanged(
            school_id=school_id,
            role=role,
            **{
                name: getattr(default_policy(role), name)
                for name in PasswordPolicy.__dataclass_fields__
            },
        )
        for role in Role
    ]


def _policy_of(source: ChangePasswordPolicy | PasswordPolicyChanged) -> PasswordPolicy:
    """The policy a command asks for or an event recorded (validated on the way)."""
    return PasswordPolicy(**source.model_dump(include=set(PasswordPolicy.__dataclass_fields__)))


def _check_semesters(semesters: tuple[Semester, ...], bounds: DateRange) -> None:
    if not semesters:
        raise Invalid("a school year has at least one semester", field="semesters")
    previous_end: date | None = None
    for expected, semester in enumerate(semesters, start=1):
        if semester.number != expected:
            raise Invalid("semesters are numbered 1, 2 … in order", field="semesters")
        if semester.first_day > semester.last_day:
            raise Invalid(f"semester {expected} ends before it begins", field="semesters")
        if not (bounds.covers(semester.first_day) and bounds.covers(semester.last_day)):
            raise Invalid(f"semester {expected} lies outside the school year", field="semesters")
        if previous_end is not None and semester.first_day <= previous_end:
            raise Invalid(f"semester {expected} overlaps the one before", field="semesters")
        previous_end = semester.last_day
