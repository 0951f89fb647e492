"""The school: registration, its calendar, classes and password-policy versions."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from ezurnals.identity.domain.school import (
    ChangePasswordPolicy,
    DefineSchoolYear,
    OpenClass,
    RegisterSchool,
    School,
)
from ezurnals.shared.contracts.identity import (
    ClassOpened,
    GradeEndDate,
    Holiday,
    PasswordPolicyChanged,
    Role,
    SchoolRegistered,
    SchoolYearDefined,
    Semester,
)
from ezurnals.shared.domain import Conflict, Invalid, NotFound

SCHOOL = UUID("00000000-0000-7000-8000-000000000001")

YEAR_2025 = DefineSchoolYear(
    school_year="2025/2026",
    semesters=(
        Semester(number=1, first_day=date(2025, 9, 1), last_day=date(2025, 12, 19)),
        Semester(number=2, first_day=date(2026, 1, 5), last_day=date(2026, 5, 29)),
    ),
    grade_end_dates=(
        GradeEndDate(grade_level=9, last_day=date(2026, 6, 12)),
        GradeEndDate(grade_level=12, last_day=date(2026, 6, 19)),
    ),
    holidays=(
        Holiday(
            name="Rudens brīvdienas", first_day=date(2025, 10, 20), last_day=date(2025, 10, 24)
        ),
        Holiday(first_day=date(2026, 2, 16), last_day=date(2026, 2, 20), grade_levels=(1,)),
    ),
)


def registered() -> School:
    school = School(School.stream(SCHOOL))
    return school.applied(
        school.register(RegisterSchool(school_id=SCHOOL, name="Rēzeknes 2. vidusskola"))
    )


def with_year() -> School:
    school = registered()
    return school.applied(school.define_school_year(YEAR_2025))


def test_a_school_is_registered_in_riga_time_by_default() -> None:
    school = School(School.stream(SCHOOL))
    events = school.register(RegisterSchool(school_id=SCHOOL, name="Rēzeknes 2. vidusskola"))
    assert events == [
        SchoolRegistered(school_id=SCHOOL, name="Rēzeknes 2. vidusskola", time_zone="Europe/Riga")
    ]


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        School("school-x").register(
            RegisterSchool(school_id=SCHOOL, name="S", time_zone="Mars/Olympus")
        )
    assert err.value.field == "time_zone"


def test_a_school_is_registered_once() -> None:
    with pytest.raises(Conflict):
        registered().register(RegisterSchool(school_id=SCHOOL, name="Again"))


def test_a_school_year_with_semesters_grade_ends_and_holidays_is_defined() -> None:
    events = registered().define_school_year(YEAR_2025)
    assert isinstance(events[0], SchoolYearDefined)
    assert events[0].school_year == "2025/2026"


def test_the_calendar_answers_per_grade() -> None:
    calendar = with_year().calendar("2025/2026")
    assert calendar.last_day(12) == date(2026, 6, 19)
    assert calendar.last_day(5) == date(2026, 5, 29)
    assert calendar.semester_on(date(2026, 3, 2)) == 2
    assert calendar.semester_on(date(2025, 12, 29)) is None
    assert calendar.is_holiday(date(2026, 2, 17), grade_level=1)
    assert not calendar.is_holiday(date(2026, 2, 17), grade_level=2)
    assert calendar.is_school_day(date(2026, 6, 15), grade_level=12)
    assert not calendar.is_school_day(date(2026, 6, 15), grade_level=5)
    assert not calendar.is_school_day(date(2025, 10, 21), grade_level=5)
    assert not calendar.is_school_day(date(2025, 9, 6), grade_level=5)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"school_year": "2025/2027"}, "school_year"),
        (
            {
                "semesters": (
                    Semester(number=1, first_day=date(2025, 9, 1), last_day=date(2025, 8, 1)),
                )
            },
            "semesters",
        ),
        (
            {
                "semesters": (
                    Semester(number=1, first_day=date(2025, 9, 1), last_day=date(2026, 1, 10)),
                    Semester(number=2, first_day=date(2026, 1, 5), last_day=date(2026, 5, 29)),
                )
            },
            "semesters",
        ),
        ({"semesters": ()}, "semesters"),
        (
            {"grade_end_dates": (GradeEndDate(grade_level=9, last_day=date(2026, 9, 12)),)},
            "grade_end_dates",
        ),
        (
            {"holidays": (Holiday(first_day=date(2025, 10, 24), last_day=date(2025, 10, 20)),)},
            "holidays[0]",
        ),
    ],
)
def test_a_malformed_school_year_is_refused(change: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as err:
        registered().define_school_year(YEAR_2025.model_copy(update=change))
    assert err.value.field == field


def test_a_school_year_is_defined_once() -> None:
    with pytest.raises(Conflict):
        with_year().define_school_year(YEAR_2025)


def test_a_year_cannot_be_defined_for_an_unregistered_school() -> None:
    with pytest.raises(NotFound):
        School(School.stream(SCHOOL)).define_school_year(YEAR_2025)


def test_a_class_opens_with_a_normalised_label() -> None:
    class_id = uuid4()
    events = with_year().open_class(
        OpenClass(class_id=class_id, school_year="2025/2026", grade_level=7, label="7.B")
    )
    assert events == [
        ClassOpened(
            school_id=SCHOOL, class_id=class_id, school_year="2025/2026", grade_level=7, label="7.b"
        )
    ]


@pytest.mark.parametrize(
    ("grade", "label"), [(7, "8.b"), (7, "7b"), (13, "13.a"), (0, "0.a"), (7, "7.abcd")]
)
def test_a_class_label_must_match_its_grade(grade: int, label: str) -> None:
    with pytest.raises(Invalid):
        with_year().open_class(
            OpenClass(class_id=uuid4(), school_year="2025/2026", grade_level=grade, label=label)
        )


def test_two_classes_of_a_year_cannot_share_a_label() -> None:
    school = with_year()
    school.applied(
        school.open_class(
            OpenClass(class_id=uuid4(), school_year="2025/2026", grade_level=7, label="7.b")
        )
    )
    with pytest.raises(Conflict):
        school.open_class(
            OpenClass(class_id=uuid4(), school_year="2025/2026", grade_level=7, label="7. b")
        )


def test_a_class_needs_a_defined_year() -> None:
    with pytest.raises(NotFound):
        with_year().open_class(
            OpenClass(class_id=uuid4(), school_year="2026/2027", grade_level=1, label="1.a")
        )


def test_without_any_version_the_default_policy_applies() -> None:
    school = registered()
    assert school.policy_at(Role.TEACHER, date(2025, 9, 1)).max_age_days == 60
    assert school.policy_at(Role.GUARDIAN, date(2025, 9, 1)).max_age_days is None


def test_a_policy_version_applies_from_its_effective_date() -> None:
    # given the school decides on 1 Sept that teachers rotate every 90 days from 1 Oct
    school = registered()
    cmd = ChangePasswordPolicy(role=Role.TEACHER, effective_from=date(2025, 10, 1), max_age_days=90)
    events = school.change_password_policy(cmd, today=date(2025, 9, 1))
    assert isinstance(events[0], PasswordPolicyChanged)
    school.applied(events)
    # then the old rule applies until 30 Sept and the new one from 1 Oct; directors are unaffected
    assert school.policy_at(Role.TEACHER, date(2025, 9, 30)).max_age_days == 60
    assert school.policy_at(Role.TEACHER, date(2025, 10, 1)).max_age_days == 90
    assert school.policy_at(Role.DIRECTOR, date(2025, 10, 1)).max_age_days == 60


def test_later_versions_supersede_earlier_ones() -> None:
    school = registered()
    for day, age in [(date(2025, 10, 1), 90), (date(2026, 1, 1), 30)]:
        cmd = ChangePasswordPolicy(role=Role.TEACHER, effective_from=day, max_age_days=age)
        school.applied(school.change_password_policy(cmd, today=date(2025, 9, 1)))
    assert school.policy_at(Role.TEACHER, date(2025, 12, 31)).max_age_days == 90
    assert school.policy_at(Role.TEACHER, date(2026, 1, 1)).max_age_days == 30


def test_a_policy_cannot_be_backdated() -> None:
    cmd = ChangePasswordPolicy(role=Role.TEACHER, effective_from=date(2025, 8, 31))
    with pytest.raises(Invalid) as err:
        registered().change_password_policy(cmd, today=date(2025, 9, 1))
    assert err.value.code == "backdated"


def test_an_unworkable_policy_is_refused() -> None:
    cmd = ChangePasswordPolicy(role=Role.TEACHER, effective_from=date(2025, 9, 1), min_length=4)
    with pytest.raises(Invalid) as err:
        registered().change_password_policy(cmd, today=date(2025, 9, 1))
    assert err.value.field == "min_length"


def test_a_holiday_for_a_grade_that_does_not_exist_is_refused_naming_the_range() -> None:
    holidays = (
        Holiday(first_day=date(2025, 10, 20), last_day=date(2025, 10, 24)),
        Holiday(first_day=date(2026, 2, 16), last_day=date(2026, 2, 20), grade_levels=(1, 10**12)),
    )
    with pytest.raises(Invalid) as err:
        registered().define_school_year(YEAR_2025.model_copy(update={"holidays": holidays}))
    assert err.value.field == "holidays[1].grade_levels[1]"
    assert "1 to 12" in err.value.message


@pytest.mark.parametrize(
    ("settings", "field", "words"),
    [
        ({"max_age_days": 10**12}, "max_age_days", "between 1 and 365"),
        ({"max_age_days": 0}, "max_age_days", "between 1 and 365"),
        ({"max_age_days": None, "warn_days": 10**12}, "warn_days", "between 0 and 30"),
        ({"max_age_days": 10, "warn_days": 10}, "warn_days", "between 0 and 9"),
        ({"max_age_days": 60, "warn_days": 45}, "warn_days", "between 0 and 30"),
    ],
)
def test_a_password_policy_out_of_its_ranges_is_refused_naming_the_range(
    settings: dict[str, int | None], field: str, words: str
) -> None:
    cmd = ChangePasswordPolicy(role=Role.TEACHER, effective_from=date(2025, 9, 1), **settings)
    with pytest.raises(Invalid) as err:
        registered().change_password_policy(cmd, today=date(2025, 9, 1))
    assert err.value.field == field
    assert words in err.value.message


def test_a_password_policy_at_the_edges_of_its_ranges_is_recorded() -> None:
    cmd = ChangePasswordPolicy(
        role=Role.TEACHER, effective_from=date(2025, 9, 1), max_age_days=365, warn_days=30
    )
    assert registered().change_password_policy(cmd, today=date(2025, 9, 1))
