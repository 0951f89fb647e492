"""Taking and correcting a lesson's attendance (seed rule 2)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

from ezurnals.attendance.domain import (
    DEFAULT_CODES,
    CorrectMark,
    LessonAttendance,
    LessonContext,
    MarkEntry,
    Relationships,
    TakeAttendance,
    absence_id_for,
)
from ezurnals.shared.contracts.attendance import (
    AbsenceCorrected,
    AbsenceRecorded,
    AttendanceEvent,
    AttendanceTaken,
)
from ezurnals.shared.domain import Conflict, Forbidden, Invalid, NotFound

if TYPE_CHECKING:
    from .conftest import School

DAY = dt.date(2025, 10, 6)


def take(
    school: School,
    lesson: LessonContext,
    cmd: TakeAttendance,
    *,
    now: dt.datetime | None = None,
    by: Relationships | None = None,
) -> tuple[LessonAttendance, list[AttendanceEvent]]:
    attendance = LessonAttendance(f"lesson-attendance-{lesson.lesson_id}")
    return attendance, attendance.take(
        cmd,
        lesson=lesson,
        codes=DEFAULT_CODES,
        by=by or school.teacher_of(lesson),
        now=now or lesson.starts_at + dt.timedelta(minutes=10),
    )


def test_all_present_is_one_explicit_entry_without_absences(school: School) -> None:
    lesson = school.lesson(DAY)

    _, events = take(school, lesson, TakeAttendance(lesson_id=lesson.lesson_id, all_present=True))

    assert len(events) == 1
    taken = events[0]
    assert isinstance(taken, AttendanceTaken)
    assert taken.all_present and taken.marks == ()
    assert (taken.lesson_id, taken.class_id, taken.date) == (lesson.lesson_id, school.class_id, DAY)
    assert taken.taken_by == school.teacher_id and not taken.late_entry


def test_marks_become_absences_with_the_default_codes(school: School) -> None:
    lesson = school.lesson(DAY)
    cmd = TakeAttendance(
        lesson_id=lesson.lesson_id,
        marks=(
            MarkEntry(student_id=school.anna),
            MarkEntry(student_id=school.berzs, minutes_late=7),
            MarkEntry(student_id=school.cirulis, code="ns"),
        ),
    )

    _, events = take(school, lesson, cmd)

    taken, *recorded = events
    assert isinstance(taken, AttendanceTaken) and not taken.all_present
    by_student = {e.student_id: e for e in recorded if isinstance(e, AbsenceRecorded)}
    anna, berzs, cirulis = (by_student[s] for s in (school.anna, school.berzs, school.cirulis))
    assert (anna.code, anna.counts_as_absence, anna.excused_by_code) == ("n", True, False)
    assert (berzs.code, berzs.is_late, berzs.counts_as_absence) == ("nk", True, False)
    assert berzs.minutes_late == 7
    assert (cirulis.code, cirulis.excused_by_code) == ("ns", True)
    assert anna.absence_id == absence_id_for(lesson.lesson_id, school.anna)
    assert len(by_student) == len(recorded)
    assert {e.revision for e in by_student.values()} == {1}


def test_a_mark_for_a_student_outside_the_class_names_the_field_and_the_student(
    school: School,
) -> None:
    lesson = school.lesson(DAY)
    cmd = TakeAttendance(
        lesson_id=lesson.lesson_id,
        marks=(MarkEntry(student_id=school.anna), MarkEntry(student_id=school.outsider)),
    )

    with pytest.raises(Invalid) as err:
        take(school, lesson, cmd)

    assert err.value.field == "marks[1].student_id"
    assert err.value.details == {"student_id": str(school.outsider)}
    assert str(school.outsider) in err.value.message


def test_a_student_marked_twice_is_refused(school: School) -> None:
    lesson = school.lesson(DAY)
    cmd = TakeAttendance(
        lesson_id=lesson.lesson_id,
        marks=(MarkEntry(student_id=school.anna), MarkEntry(student_id=school.anna, code="ns")),
    )

    with pytest.raises(Invalid) as err:
        take(school, lesson, cmd)

    assert err.value.field == "marks[1].student_id"


@pytest.mark.parametrize(
    ("mark", "field"),
    [
        ({"code": "zz"}, "marks[0].code"),
        ({"code": "nk"}, "marks[0].minutes_late"),
        ({"code": "n", "minutes_late": 5}, "marks[0].minutes_late"),
        ({"minutes_late": 0}, "marks[0].minutes_late"),
    ],
)
def test_a_mark_that_does_not_fit_the_code_table_is_refused(
    school: School, mark: dict[str, Any], field: str
) -> None:
    lesson = school.lesson(DAY)
    cmd = TakeAttendance(
        lesson_id=lesson.lesson_id, marks=(MarkEntry(student_id=school.anna, **mark),)
    )

    with pytest.raises(Invalid) as err:
        take(school, lesson, cmd)

    assert err.value.field == field


def test_neither_marks_nor_all_present_is_refused(school: School) -> None:
    lesson = school.lesson(DAY)

    with pytest.raises(Invalid) as err:
        take(school, lesson, TakeAttendance(lesson_id=lesson.lesson_id))

    assert err.value.field == "all_present"


def test_all_present_with_marks_is_refused(school: School) -> None:
    lesson = school.lesson(DAY)
    cmd = TakeAttendance(
        lesson_id=lesson.lesson_id, all_present=True, marks=(MarkEntry(student_id=school.anna),)
    )

    with pytest.raises(Invalid) as err:
        take(school, lesson, cmd)

    assert err.value.field == "marks"


def test_attendance_before_the_lesson_starts_is_refused(school: School) -> None:
    lesson = school.lesson(DAY)

    with pytest.raises(Invalid) as err:
        take(
            school,
            lesson,
            TakeAttendance(lesson_id=lesson.lesson_id, all_present=True),
            now=lesson.starts_at - dt.timedelta(minutes=1),
        )

    assert err.value.field == "lesson_id"


@pytest.mark.parametrize(
    ("riga_time", "late", "minutes"),
    [
        (dt.time(15, 59, 59), False, 0),
        (dt.time(16, 0), False, 0),
        (dt.time(16, 0, 1), True, 1),
        (dt.time(16, 1), True, 1),
        (dt.time(18, 30), True, 150),
    ],
)
def test_an_entry_after_the_deadline_is_marked_late(
    school: School, riga_time: dt.time, late: bool, minutes: int
) -> None:
    lesson = school.lesson(DAY)
    now = dt.datetime.combine(DAY, riga_time, dt.timezone(dt.timedelta(hours=3)))

    _, events = take(
        school, lesson, TakeAttendance(lesson_id=lesson.lesson_id, all_present=True), now=now
    )

    taken = events[0]
    assert isinstance(taken, AttendanceTaken)
    assert (taken.late_entry, taken.late_entry_minutes) == (late, minutes)


def test_only_the_lessons_teacher_takes_attendance(school: School) -> None:
    lesson = school.lesson(DAY)
    someone_else = Relationships(
        person_id=uuid4(), taught_lessons=frozenset({school.lesson(DAY, 2).lesson_id})
    )

    with pytest.raises(NotFound):  # another teacher's lesson is not seen
        take(
            school,
            lesson,
            TakeAttendance(lesson_id=lesson.lesson_id, all_present=True),
            by=someone_else,
        )
    with pytest.raises(Forbidden):  # the class teacher sees it but does not give it
        take(
            school,
            lesson,
            TakeAttendance(lesson_id=lesson.lesson_id, all_present=True),
            by=school.class_teacher,
        )


def test_attendance_is_taken_once_and_then_corrected(school: School) -> None:
    lesson = school.lesson(DAY)
    attendance = school.absent(lesson, school.anna)

    with pytest.raises(Conflict):
        attendance.take(
            TakeAttendance(lesson_id=lesson.lesson_id, all_present=True),
            lesson=lesson,
            codes=DEFAULT_CODES,
            by=school.teacher_of(lesson),
            now=lesson.starts_at,
        )


def correct(
    school: School, attendance: LessonAttendance, lesson: LessonContext, **fields: Any
) -> list[AttendanceEvent]:
    return attendance.correct(
        CorrectMark(lesson_id=lesson.lesson_id, **fields),
        lesson=lesson,
        codes=DEFAULT_CODES,
        by=school.teacher_of(lesson),
    )


def test_correcting_keeps_history_and_the_absence_id(school: School) -> None:
    lesson = school.lesson(DAY)
    attendance = school.absent(lesson, school.anna)

    first = correct(school, attendance, lesson, student_id=school.anna, code="ns", reason="slima")
    attendance.applied(first)
    second = correct(school, attendance, lesson, student_id=school.anna, present=True)
    attendance.applied(second)

    assert [type(e) for e in first + second] == [AbsenceCorrected, AbsenceCorrected]
    one, two = attendance.corrections
    assert (one.old_code, one.new_code, one.revision, one.reason) == ("n", "ns", 2, "slima")
    assert (two.old_code, two.new_code, two.revision) == ("ns", None, 3)
    assert one.absence_id == two.absence_id == absence_id_for(lesson.lesson_id, school.anna)
    assert attendance.marks == {} and attendance.all_present


def test_marking_a_present_student_absent_later_is_a_correction_from_nothing(
    school: School,
) -> None:
    lesson = school.lesson(DAY)
    attendance = school.absent(lesson)

    events = correct(school, attendance, lesson, student_id=school.berzs, minutes_late=3)

    (event,) = events
    assert isinstance(event, AbsenceCorrected)
    assert (event.old_code, event.new_code, event.minutes_late, event.is_late) == (
        None,
        "nk",
        3,
        True,
    )
    attendance.applied(events)
    assert not attendance.all_present and school.berzs in attendance.marks


def test_a_correction_that_changes_nothing_yields_nothing(school: School) -> None:
    lesson = school.lesson(DAY)
    attendance = school.absent(lesson, school.anna)

    assert correct(school, attendance, lesson, student_id=school.anna, code="n") == []
    assert correct(school, attendance, lesson, student_id=school.berzs, present=True) == []


def test_correcting_before_attendance_is_taken_is_refused(school: School) -> None:
    lesson = school.lesson(DAY)
    attendance = LessonAttendance(f"lesson-attendance-{lesson.lesson_id}")

    with pytest.raises(Conflict):
        correct(school, attendance, lesson, student_id=school.anna, code="n")


def test_correcting_a_student_outside_the_class_is_refused(school: School) -> None:
    lesson = school.lesson(DAY)
    attendance = school.absent(lesson, school.anna)

    with pytest.raises(Invalid) as err:
        correct(school, attendance, lesson, student_id=school.outsider, code="n")

    assert err.value.field == "student_id"
    assert err.value.details == {"student_id": str(school.outsider)}


def test_a_present_correction_with_a_code_is_refused(school: School) -> None:
    lesson = school.lesson(DAY)
    attendance = school.absent(lesson, school.anna)

    with pytest.raises(Invalid) as err:
        correct(school, attendance, lesson, student_id=school.anna, present=True, code="n")

    assert err.value.field == "code"


def test_absent_students_leave_out_late_arrivals(school: School) -> None:
    lesson = school.lesson(DAY)
    attendance = school.absent(lesson, school.anna)
    attendance.applied(correct(school, attendance, lesson, student_id=school.berzs, minutes_late=2))

    assert attendance.absent_students() == {school.anna}
