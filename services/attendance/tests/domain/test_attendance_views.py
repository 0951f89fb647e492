"""What families, class teachers and the canteen read."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import TYPE_CHECKING
from uuid import uuid4

from ezurnals.attendance.domain import (
    DEFAULT_EXCUSE_POLICY,
    ClassOfDay,
    MonthlyAbsences,
    absence_id_for,
    daily_attendance,
    daily_attendance_csv,
    monthly_absences,
    unexcused_absences,
)

if TYPE_CHECKING:
    from .conftest import School

SEP = dt.date(2025, 9, 30)
MON = dt.date(2025, 10, 6)
TUE = dt.date(2025, 10, 7)


def test_a_students_absences_per_month_split_excused_and_unexcused(school: School) -> None:
    student = school.student_absences(school.anna)
    for period in (1, 2):
        student.applied(school.absence_events(school.lesson(SEP, period), school.anna))
    for period in (1, 2, 3):
        student.applied(school.absence_events(school.lesson(MON, period), school.anna))
    student.applied(school.absence_events(school.lesson(MON, 4), school.anna, code="ns"))
    student.applied(school.absence_events(school.lesson(TUE, 1), school.anna, minutes_late=7))
    student.applied(school.absence_events(school.lesson(TUE, 2), school.anna, minutes_late=3))
    student.applied([school.accepted(school.anna, SEP, SEP)])
    student.applied(student.settle(lambda _day: DEFAULT_EXCUSE_POLICY))

    rows = monthly_absences(student)

    assert rows == [
        MonthlyAbsences(
            month="2025-09", excused_hours=2, unexcused_hours=0, late_arrivals=0, late_minutes=0
        ),
        MonthlyAbsences(
            month="2025-10", excused_hours=1, unexcused_hours=3, late_arrivals=2, late_minutes=10
        ),
    ]
    assert rows[1].absent_hours == 4


def test_a_class_list_of_unexcused_absences(school: School) -> None:
    anna, berzs = school.student_absences(school.anna), school.student_absences(school.berzs)
    first, second = school.lesson(MON, 1), school.lesson(TUE, 1)
    anna.applied(school.absence_events(second, school.anna))
    anna.applied(school.absence_events(first, school.anna, code="nc"))
    berzs.applied(school.absence_events(first, school.berzs))
    elsewhere = school.lesson(MON, 2).model_copy(update={"class_id": school.other_class_id})
    berzs.applied(school.absence_events(elsewhere, school.berzs))

    rows = unexcused_absences([anna, berzs], school.class_id)

    assert [(r.student_id, r.date, r.absence_id) for r in rows] == [
        (school.berzs, MON, absence_id_for(first.lesson_id, school.berzs)),
        (school.anna, TUE, absence_id_for(second.lesson_id, school.anna)),
    ]


def test_the_daily_report_counts_students_absent_from_every_lesson_taken(school: School) -> None:
    first, second = school.lesson(MON, 1), school.lesson(MON, 2)
    other_day = school.absent(school.lesson(TUE), school.anna, school.berzs, school.cirulis)
    lessons = [
        school.absent(first, school.anna, school.berzs),
        school.absent(second, school.anna),
        other_day,
    ]
    classes = [
        ClassOfDay(class_id=school.class_id, name="10.a", enrolled=3),
        ClassOfDay(class_id=school.other_class_id, name="2.b", enrolled=24),
    ]

    rows = daily_attendance(MON, classes, lessons)

    assert [(r.class_name, r.enrolled, r.present, r.absent, r.lessons_taken) for r in rows] == [
        ("2.b", 24, 24, 0, 0),
        ("10.a", 3, 2, 1, 2),
    ]


def test_the_daily_report_renders_as_csv(school: School) -> None:
    lessons = [school.absent(school.lesson(MON), school.anna)]
    classes = [ClassOfDay(class_id=school.class_id, name="9.a, ģimnāzija", enrolled=3)]

    text = daily_attendance_csv(MON, daily_attendance(MON, classes, lessons))

    assert list(csv.reader(io.StringIO(text))) == [
        ["date", "class", "enrolled", "present", "absent", "lessons_taken"],
        ["2025-10-06", "9.a, ģimnāzija", "3", "2", "1", "1"],
    ]


def test_a_class_without_lessons_today_reports_everyone_present() -> None:
    rows = daily_attendance(MON, [ClassOfDay(class_id=uuid4(), name="1.a", enrolled=20)], [])

    assert daily_attendance_csv(MON, rows).splitlines()[1] == "2025-10-06,1.a,20,20,0,0"
