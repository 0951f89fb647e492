"""A student's absences and excuses: the mark and the excuse are separate facts (seed rule 4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import pytest

from ezurnals.attendance.domain import (
    DEFAULT_CODES,
    CorrectMark,
    ExcuseAbsences,
    ExcusePolicy,
    LessonContext,
    Relationships,
    StudentAbsences,
    absence_id_for,
)
from ezurnals.shared.contracts.attendance import (
    AbsenceExcused,
    AbsenceThresholdReached,
    AttendanceEvent,
)
from ezurnals.shared.domain import Conflict, Forbidden, Invalid, NotFound

if TYPE_CHECKING:
    from .conftest import School

MON = dt.date(2025, 10, 6)
TUE = dt.date(2025, 10, 7)
WED = dt.date(2025, 10, 8)


def policy(thresholds: tuple[int, ...] = (10, 20)) -> Callable[[dt.date], ExcusePolicy]:
    fixed = ExcusePolicy(unexcused_thresholds=thresholds)
    return lambda _day: fixed


def settled(
    student: StudentAbsences, policy_on: Callable[[dt.date], ExcusePolicy] | None = None
) -> list[AttendanceEvent]:
    """Settle and apply what settling decided; returns those events."""
    events = student.settle(policy_on or policy())
    student.applied(events)
    return events


def excused_ids(events: list[AttendanceEvent]) -> set[UUID]:
    return {e.absence_id for e in events if isinstance(e, AbsenceExcused)}


def test_accepting_an_excuse_excuses_every_covered_absence(school: School) -> None:
    student = school.student_absences(school.anna)
    covered = [school.lesson(MON, 1), school.lesson(MON, 2), school.lesson(TUE)]
    outside = school.lesson(WED)
    for lesson in [*covered, outside]:
        student.applied(school.absence_events(lesson, school.anna))
    excuse = school.accepted(school.anna, MON, TUE)

    events = settled(student.applied([excuse]))

    assert excused_ids(events) == {absence_id_for(x.lesson_id, school.anna) for x in covered}
    excused = [e for e in events if isinstance(e, AbsenceExcused)]
    assert len(excused) == len(events)
    assert all(e.excuse_id == excuse.request_id and e.source == "request" for e in excused)
    assert all(e.excused_by == school.class_teacher_id for e in excused)
    assert all(e.document_type == "doctor_certificate" for e in excused)


def test_an_excuse_accepted_before_the_absence_is_recorded_still_excuses_it(school: School) -> None:
    student = school.student_absences(school.anna)
    excuse = school.accepted(school.anna, MON, WED)
    assert settled(student.applied([excuse])) == []
    lesson = school.lesson(TUE)

    events = settled(student.applied(school.absence_events(lesson, school.anna)))

    assert excused_ids(events) == {absence_id_for(lesson.lesson_id, school.anna)}
    assert [a.absence_id for a in student.absences if not student.is_excused(a)] == []


def test_an_excuse_for_lessons_covers_only_those_lessons(school: School) -> None:
    student = school.student_absences(school.anna)
    first, second = school.lesson(MON, 1), school.lesson(MON, 2)
    for lesson in (first, second):
        student.applied(school.absence_events(lesson, school.anna))
    excuse = school.accepted(school.anna, MON, MON).model_copy(
        update={"covers_from": None, "covers_to": None, "lesson_ids": (second.lesson_id,)}
    )

    events = settled(student.applied([excuse]))

    assert excused_ids(events) == {absence_id_for(second.lesson_id, school.anna)}


def test_a_redelivered_absence_changes_nothing(school: School) -> None:
    student = school.student_absences(school.anna)
    recorded = school.absence_events(school.lesson(MON), school.anna)
    student.applied(recorded)
    before = (student.absences, student.version)

    student.applied(recorded)

    assert (student.absences, student.version) == before
    assert len(student.absences) == 1


def test_settling_again_decides_nothing_new(school: School) -> None:
    student = school.student_absences(school.anna)
    student.applied(school.absence_events(school.lesson(MON), school.anna))
    student.applied([school.accepted(school.anna, MON, MON)])
    assert len(settled(student)) == 1

    assert student.settle(policy()) == []


def test_a_stale_absence_does_not_undo_its_correction(school: School) -> None:
    lesson = school.lesson(MON)
    attendance = school.absent(lesson, school.anna)
    recorded = school.absence_events(lesson, school.anna)
    removed = attendance.correct(
        CorrectMark(lesson_id=lesson.lesson_id, student_id=school.anna, present=True),
        lesson=lesson,
        codes=DEFAULT_CODES,
        by=school.teacher_of(lesson),
    )
    student = school.student_absences(school.anna)

    student.applied([*recorded, *removed, *recorded])

    assert student.absences == []


def test_a_correction_keeps_the_excuse_because_they_are_separate_facts(school: School) -> None:
    lesson = school.lesson(MON)
    attendance = school.absent(lesson, school.anna)
    student = school.student_absences(school.anna)
    student.applied(school.absence_events(lesson, school.anna))
    student.applied([school.accepted(school.anna, MON, MON)])
    settled(student)

    student.applied(
        attendance.correct(
            CorrectMark(lesson_id=lesson.lesson_id, student_id=school.anna, minutes_late=10),
            lesson=lesson,
            codes=DEFAULT_CODES,
            by=school.teacher_of(lesson),
        )
    )

    (absence,) = student.absences
    assert (absence.code, absence.is_late, absence.minutes_late) == ("nk", True, 10)
    assert student.is_excused(absence)


def test_an_absence_whose_code_justifies_it_needs_no_excuse(school: School) -> None:
    student = school.student_absences(school.anna)
    student.applied(school.absence_events(school.lesson(MON), school.anna, code="ns"))
    student.applied([school.accepted(school.anna, MON, MON)])

    events = student.settle(policy())

    assert events == []
    assert student.is_excused(student.absences[0])
    assert student.excuses == {}


def test_an_excuse_also_covers_a_late_arrival_but_lates_do_not_count_as_absences(
    school: School,
) -> None:
    student = school.student_absences(school.anna)
    student.applied(school.absence_events(school.lesson(MON), school.anna, code="n"))
    student.applied(school.absence_events(school.lesson(TUE), school.anna, minutes_late=5))

    assert [student.is_unexcused_absence(a) for a in student.absences] == [True, False]
    events = settled(student.applied([school.accepted(school.anna, MON, TUE)]))
    assert len(excused_ids(events)) == 2


def test_facts_about_another_student_are_ignored(school: School) -> None:
    student = school.student_absences(school.anna)
    berzs = school.student_absences(school.berzs)
    facts = [
        *school.absence_events(school.lesson(MON), school.berzs),
        school.accepted(school.berzs, MON, MON),
    ]
    decided = berzs.applied(facts).settle(policy())

    student.applied([*facts, *decided])

    assert len(decided) == 1
    assert student.absences == [] and student.accepted_excuses == []
    assert student.excuses == {} and student.version == 0


def test_only_its_own_decisions_advance_the_version(school: School) -> None:
    student = school.student_absences(school.anna)
    student.applied(school.absence_events(school.lesson(MON), school.anna))
    student.applied([school.accepted(school.anna, MON, MON)])
    assert student.version == 0

    settled(student)

    assert student.version == 1


def direct(
    school: School,
    student: StudentAbsences,
    *absence_ids: UUID,
    by: Relationships | None = None,
    reference: str = "izziņa Nr. 17",
) -> list[AttendanceEvent]:
    return student.excuse_directly(
        ExcuseAbsences(
            excuse_id=uuid4(),
            student_id=student.student_id,
            absence_ids=absence_ids,
            document_type="doctor_certificate",
            reference=reference,
        ),
        by=by or school.class_teacher,
    )


def test_the_class_teacher_excuses_directly_from_a_paper_document(school: School) -> None:
    student = school.student_absences(school.anna)
    lesson = school.lesson(MON)
    student.applied(school.absence_events(lesson, school.anna))
    absence_id = absence_id_for(lesson.lesson_id, school.anna)

    events = direct(school, student, absence_id, absence_id)

    (event,) = events
    assert isinstance(event, AbsenceExcused)
    assert (event.absence_id, event.source, event.document_type, event.reference) == (
        absence_id,
        "direct",
        "doctor_certificate",
        "izziņa Nr. 17",
    )
    assert event.excused_by == school.class_teacher_id
    assert student.applied(events).is_excused(student.absences[0])


def test_excusing_an_unknown_or_removed_absence_is_not_found(school: School) -> None:
    student = school.student_absences(school.anna)
    lesson = school.lesson(MON)
    student.applied(school.absence_events(lesson, school.anna))
    unknown = uuid4()

    with pytest.raises(NotFound) as err:
        direct(school, student, absence_id_for(lesson.lesson_id, school.anna), unknown)

    assert err.value.field == "absence_ids[1]"
    assert err.value.details == {"absence_id": str(unknown)}


def test_excusing_an_excused_absence_is_a_conflict(school: School) -> None:
    student = school.student_absences(school.anna)
    lesson = school.lesson(MON)
    student.applied(school.absence_events(lesson, school.anna))
    absence_id = absence_id_for(lesson.lesson_id, school.anna)
    student.applied(direct(school, student, absence_id))

    with pytest.raises(Conflict) as err:
        direct(school, student, absence_id)

    assert err.value.field == "absence_ids[0]"


def test_a_direct_excuse_names_its_document(school: School) -> None:
    student = school.student_absences(school.anna)
    lesson = school.lesson(MON)
    student.applied(school.absence_events(lesson, school.anna))

    with pytest.raises(Invalid) as err:
        direct(school, student, absence_id_for(lesson.lesson_id, school.anna), reference=" ")

    assert err.value.field == "reference"


def test_only_the_class_teacher_excuses_directly(school: School) -> None:
    student = school.student_absences(school.anna)
    lesson = school.lesson(MON)
    student.applied(school.absence_events(lesson, school.anna))
    absence_id = absence_id_for(lesson.lesson_id, school.anna)
    other_class_teacher = Relationships(
        person_id=uuid4(),
        homeroom_classes=frozenset({school.other_class_id}),
        homeroom_students=frozenset({school.outsider}),
    )

    for someone in (school.teacher_of(lesson), other_class_teacher):
        with pytest.raises(NotFound):  # they do not see the student
            direct(school, student, absence_id, by=someone)
    with pytest.raises(Forbidden):  # the guardian sees the child but sends a request instead
        direct(school, student, absence_id, by=school.guardian)


def miss(
    school: School, student: StudentAbsences, day: dt.date, lessons: int
) -> list[LessonContext]:
    """``student`` misses the first ``lessons`` lessons of ``day``; returns the lessons."""
    missed = [school.lesson(day, period) for period in range(1, lessons + 1)]
    for lesson in missed:
        student.applied(school.absence_events(lesson, student.student_id))
    return missed


def thresholds(events: list[AttendanceEvent]) -> list[tuple[str, int, int]]:
    return [
        (e.month, e.threshold, e.unexcused_lessons)
        for e in events
        if isinstance(e, AbsenceThresholdReached)
    ]


def test_a_threshold_is_reported_once_when_reached(school: School) -> None:
    student = school.student_absences(school.anna)
    miss(school, student, MON, 6)
    assert thresholds(settled(student)) == []
    miss(school, student, TUE, 4)

    events = settled(student)
    miss(school, student, WED, 1)

    assert thresholds(events) == [("2025-10", 10, 10)]
    assert isinstance(events[0], AbsenceThresholdReached)
    assert events[0].student_id == school.anna
    assert thresholds(settled(student)) == []


def test_jumping_past_two_thresholds_reports_both(school: School) -> None:
    student = school.student_absences(school.anna)
    miss(school, student, MON, 8)
    miss(school, student, TUE, 8)
    miss(school, student, WED, 5)

    assert thresholds(settled(student)) == [("2025-10", 10, 21), ("2025-10", 20, 21)]


def test_excused_absences_do_not_count_towards_thresholds(school: School) -> None:
    student = school.student_absences(school.anna)
    miss(school, student, MON, 6)
    miss(school, student, TUE, 6)
    student.applied([school.accepted(school.anna, TUE, TUE)])

    assert thresholds(settled(student)) == []


def test_thresholds_count_each_month_on_its_own(school: School) -> None:
    student = school.student_absences(school.anna)
    miss(school, student, dt.date(2025, 9, 30), 6)
    miss(school, student, MON, 6)
    assert thresholds(settled(student)) == []
    miss(school, student, TUE, 4)
    miss(school, student, dt.date(2025, 9, 29), 4)

    assert thresholds(settled(student)) == [("2025-09", 10, 10), ("2025-10", 10, 10)]


def test_a_threshold_falling_back_and_rising_again_is_not_reported_twice(school: School) -> None:
    student = school.student_absences(school.anna)
    missed = miss(school, student, MON, 10)
    assert thresholds(settled(student)) == [("2025-10", 10, 10)]
    student.applied(direct(school, student, absence_id_for(missed[0].lesson_id, school.anna)))
    miss(school, student, TUE, 1)

    assert thresholds(settled(student)) == []


def test_each_month_is_judged_by_the_policy_in_force_on_its_first_day(school: School) -> None:
    student = school.student_absences(school.anna)
    miss(school, student, dt.date(2025, 9, 30), 3)
    miss(school, student, MON, 3)

    def policy_on(day: dt.date) -> ExcusePolicy:
        return ExcusePolicy(unexcused_thresholds=(3,) if day.month == 10 else (5,))

    assert thresholds(settled(student, policy_on)) == [("2025-10", 3, 3)]
