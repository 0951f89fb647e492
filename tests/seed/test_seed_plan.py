"""The synthetic country's plan: the same seed plans the same people and choices, and the plan
is as realistic as the seeder promises (sizes, names, families, timetables, absence rate)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from ezurnals.cli.main import app
from ezurnals.tools.seeding.plan import (
    SchoolYear,
    period_value,
    plan_day,
    plan_school,
)

YEAR = SchoolYear.of("2025/2026")


def names(seed: int, max_students: int | None = None) -> list[tuple[str, str]]:
    plan = plan_school(seed, 0, YEAR, max_students)
    return [(p.first_name, p.last_name) for p in plan.people.values()]


def test_the_same_seed_plans_the_same_people_and_days() -> None:
    assert names(5, 60) == names(5, 60)
    assert names(5, 60) != names(6, 60)
    first, again = plan_school(5, 0, YEAR, 60), plan_school(5, 0, YEAR, 60)
    day = date(2025, 10, 2)
    for one, other in zip(first.classes, again.classes, strict=True):
        assert one.slots == other.slots
        assert plan_day(5, first, one, day) == plan_day(5, again, other, day)


def test_a_school_has_every_grade_families_and_staff_in_every_role() -> None:
    plan = plan_school(11, 2, YEAR, None)
    assert 300 <= len(plan.students) <= 1200
    assert {c.grade_level for c in plan.classes} == set(range(1, 13))
    assert all(re.fullmatch(r"\d{1,2}\.[a-d]", c.label) for c in plan.classes)
    people = list(plan.people.values())
    assert any(set(p.first_name + p.last_name) & set("āčēģīķļņšūž") for p in people)
    roles = {r for s in plan.staff for r in s.roles}
    assert roles == {"director", "deputy_director", "teacher", "class_teacher"}
    assert all(1 <= len(f.guardians) <= 2 for f in plan.families)
    assert any(len(f.children) > 1 for f in plan.families), "some guardians share siblings"
    codes = [p.personal_code for p in people if p.personal_code]
    assert len(codes) == len(plan.students) == len(set(codes))


def test_timetables_place_the_curriculum_without_a_teacher_in_two_rooms() -> None:
    plan = plan_school(3, 0, YEAR, None)
    taken: set[tuple[str, int, int]] = set()
    for school_class in plan.classes:
        needed = sum(
            plan.subjects[k].weekly[school_class.grade_level] for k in school_class.teaching
        )
        assert len(school_class.slots) == needed, school_class.label
        for slot in school_class.slots:
            assert (slot.teacher, slot.weekday, slot.period) not in taken
            taken.add((slot.teacher, slot.weekday, slot.period))
            assert school_class.teaching[slot.subject_key] == slot.teacher


def test_about_seven_percent_are_absent_and_each_present_student_gets_a_grade() -> None:
    plan = plan_school(4, 0, YEAR, None)
    day, absent, students, graded = date(2025, 11, 3), 0, 0, 0
    for offset in range(5):
        for school_class in plan.classes:
            choices, _ = plan_day(4, plan, school_class, day + timedelta(days=offset))
            first = next(iter(choices.values()))
            absent += len(first.absent)
            students += len(school_class.students)
            graded += sum(len(c.graded) for c in choices.values())
    assert 0.05 <= absent / students <= 0.09
    assert 0.85 <= graded / (students - absent) <= 1.0


def test_school_days_skip_weekends_and_holidays_and_stop_at_today() -> None:
    days = YEAR.last_school_days(5, date(2025, 10, 27))
    assert days == [date(2025, 10, 14), date(2025, 10, 15), date(2025, 10, 16),
                    date(2025, 10, 17), date(2025, 10, 27)]  # fmt: skip
    assert YEAR.last_school_days(3, date(2027, 1, 1))[-1] == date(2026, 5, 29)
    assert YEAR.period_of(date(2025, 12, 1)) == "semester1"
    assert YEAR.period_of(date(2026, 2, 1)) == "semester2"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["7", "8"], "8"),
        (["6", "7", "7"], "7"),
        (["T", "A", "A"], "A"),
        (["S", "P"], "P"),
        ([], None),
    ],
)
def test_period_grade_from_the_grades_given(values: list[str], expected: str | None) -> None:
    assert period_value(values) == expected


def test_a_bad_school_year_is_refused_by_the_command() -> None:
    result = CliRunner().invoke(app, ["seed", "--year", "2025-2026"])
    assert result.exit_code == 2
    assert "looks like 2025/2026" in " ".join(result.output.replace("│", " ").split())
