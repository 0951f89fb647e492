"""Recording grades (one student or a whole class) and correcting them with a kept history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from ezurnals.grading.domain import (
    PERIOD_LOCKED,
    Caller,
    CorrectGrade,
    Correction,
    GradeBook,
    GradeBookKey,
    UnlockPeriod,
)
from ezurnals.grading.domain.scales import PASS_FAIL, PERCENT, TEN_POINT
from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.contracts.grading import (
    GradeCorrected,
    GradeRecorded,
    PeriodKind,
    ScaleKind,
    Term,
)
from ezurnals.shared.domain import Conflict, Invalid, NotFound

Students = tuple[UUID, UUID, UUID]
Grade = Callable[..., list[IntegrationEvent]]


def _correct(
    book: GradeBook, grade_id: UUID, value: str, reason: str, *, by: UUID, now: datetime
) -> list[IntegrationEvent]:
    """When the grade is corrected on the 10-point scale."""
    return book.correct(
        CorrectGrade(grade_id=grade_id, value=value, reason=reason), scale=TEN_POINT, by=by, now=now
    )


def test_grading_one_student_records_one_grade(
    book: GradeBook, students: Students, grade: Grade, teacher: UUID, now: datetime
) -> None:
    # given an empty grade book; when a teacher grades one student
    anna = students[0]
    events = grade(book, (anna, "7"))
    # then one GradeRecorded with the work, the scale and the points
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, GradeRecorded)
    assert (event.grade_id, event.student_id, event.value, event.points) == (
        UUID(int=900),
        anna,
        "7",
        7,
    )
    assert (event.class_id, event.subject_id, event.school_year) == (
        book.key.class_id,
        book.key.subject_id,
        "2025/2026",
    )
    assert (event.work_title, event.summative, event.term) == (
        "Kontroldarbs: daļskaitļi",
        True,
        Term.SEMESTER1,
    )
    assert (event.scale, event.recorded_by, event.recorded_at) == (
        ScaleKind.TEN_POINT,
        teacher,
        now,
    )
    # and the book holds it
    book.applied(events)
    assert [g.value for g in book.grades_of(anna)] == ["7"]


def test_grading_a_whole_class_records_a_grade_for_each_student(
    book: GradeBook, students: Students, grade: Grade
) -> None:
    events = grade(book, *zip(students, ["8", "nv", "4"], strict=True))
    assert [(e.student_id, e.value, e.points) for e in events if isinstance(e, GradeRecorded)] == [
        (students[0], "8", 8),
        (students[1], "nv", None),
        (students[2], "4", 4),
    ]


def test_a_percent_grade_keeps_its_percentage_and_counts_as_the_tables_points(
    book: GradeBook, students: Students, grade: Grade
) -> None:
    [event] = grade(book, (students[0], "85%"), scale=PERCENT)
    assert isinstance(event, GradeRecorded)
    assert (event.scale, event.value, event.points) == (ScaleKind.PERCENT, "85%", 8)


def test_a_student_not_enrolled_is_refused_and_named(
    book: GradeBook, students: Students, grade: Grade
) -> None:
    stranger = UUID(int=999)
    with pytest.raises(Invalid) as err:
        grade(book, (students[0], "7"), (stranger, "7"))
    assert err.value.field == "student_id"
    assert err.value.details == {"students": [str(stranger)]}


def test_an_off_scale_value_in_a_class_batch_names_the_student_and_the_allowed_values(
    book: GradeBook, students: Students, grade: Grade
) -> None:
    with pytest.raises(Invalid) as err:
        grade(book, (students[0], "i"), (students[1], "7"), scale=PASS_FAIL)
    assert err.value.field == "value"
    assert err.value.details["allowed"] == ["i", "ni", "nv"]
    assert err.value.details["student_id"] == str(students[1])


def test_a_student_graded_twice_for_one_work_is_refused(
    book: GradeBook, students: Students, grade: Grade
) -> None:
    with pytest.raises(Invalid) as err:
        grade(book, (students[0], "7"), (students[0], "8"))
    assert err.value.field == "marks"


def test_a_grade_id_already_in_the_book_is_a_conflict(
    book: GradeBook, students: Students, grade: Grade
) -> None:
    book.applied(grade(book, (students[0], "7")))
    with pytest.raises(Conflict) as err:
        grade(book, (students[1], "7"))
    assert err.value.code == "grade_exists"


def test_correcting_a_grade_keeps_who_when_old_new_and_why(
    book: GradeBook,
    students: Students,
    record: Callable[..., list[GradeRecorded]],
    now: datetime,
) -> None:
    # given Anna got 5
    grade_id = record(book, {students[0]: "5"})[0].grade_id
    # when another teacher corrects it to 7 a day later
    corrector, later = UUID(int=44), now + timedelta(days=1)
    events = _correct(book, grade_id, "7", "  Kļūda summēšanā ", by=corrector, now=later)
    # then GradeCorrected says old → new, the reason, who and when
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, GradeCorrected)
    assert (event.old_value, event.new_value, event.old_points, event.new_points) == (
        "5",
        "7",
        5,
        7,
    )
    assert (event.reason, event.corrected_by, event.corrected_at) == (
        "Kļūda summēšanā",
        corrector,
        later,
    )
    # and the grade shows the new value with its history
    grade = book.applied(events).grades[grade_id]
    assert (grade.value, grade.points, grade.corrected) == ("7", 7, True)
    assert grade.history == (Correction("5", "7", "Kļūda summēšanā", corrector, later),)


def test_two_corrections_keep_both_in_order(
    book: GradeBook,
    students: Students,
    record: Callable[..., list[GradeRecorded]],
    teacher: UUID,
    now: datetime,
) -> None:
    grade_id = record(book, {students[0]: "5"})[0].grade_id
    for value in ("nv", "6"):
        book.applied(
            book.correct(
                CorrectGrade(grade_id=grade_id, value=value, reason="x"),
                scale=TEN_POINT,
                by=teacher,
                now=now,
            )
        )
    grade = book.grades[grade_id]
    assert [(c.old_value, c.new_value) for c in grade.history] == [("5", "nv"), ("nv", "6")]
    assert grade.points == 6


@pytest.mark.parametrize(
    ("value", "reason", "field"),
    [("7", "", "reason"), ("7", "   ", "reason"), (" 5", "x", "value"), ("12", "x", "value")],
)
def test_a_correction_without_a_reason_or_a_new_value_on_the_scale_is_refused(
    value: str,
    reason: str,
    field: str,
    book: GradeBook,
    students: Students,
    record: Callable[..., list[GradeRecorded]],
    teacher: UUID,
    now: datetime,
) -> None:
    # given a 5; when it is "corrected" to the same 5, off the scale, or without saying why
    grade_id = record(book, {students[0]: "5"})[0].grade_id
    with pytest.raises(Invalid) as err:
        _correct(book, grade_id, value, reason, by=teacher, now=now)
    # then 422 naming the field at fault
    assert err.value.field == field
    assert book.grades[grade_id].history == ()


def test_correcting_an_unknown_grade_is_not_found(
    book: GradeBook, teacher: UUID, now: datetime
) -> None:
    with pytest.raises(NotFound) as err:
        _correct(book, UUID(int=1), "7", "x", by=teacher, now=now)
    assert err.value.field == "grade_id"


def test_a_correction_in_a_finalised_semester_is_a_period_locked_conflict(
    book: GradeBook,
    students: Students,
    record: Callable[..., list[GradeRecorded]],
    finalized: Callable[[GradeBook, PeriodKind, str], GradeBook],
    teacher: UUID,
    now: datetime,
) -> None:
    # given a semester-1 grade and a finalised semester 1
    grade_id = record(book, {students[0]: "5"})[0].grade_id
    finalized(book, PeriodKind.SEMESTER1, "6")
    # when the grade is corrected
    with pytest.raises(Conflict) as err:
        _correct(book, grade_id, "7", "x", by=teacher, now=now)
    # then 409 period_locked, naming the period
    assert err.value.code == PERIOD_LOCKED
    assert err.value.status == 409
    assert err.value.details == {"period": "semester1"}


def test_recording_into_a_finalised_semester_is_a_period_locked_conflict(
    book: GradeBook,
    students: Students,
    record: Callable[..., list[GradeRecorded]],
    finalized: Callable[[GradeBook, PeriodKind, str], GradeBook],
) -> None:
    finalized(book, PeriodKind.SEMESTER1, "6")
    with pytest.raises(Conflict) as err:
        record(book, {students[0]: "5"}, term=Term.SEMESTER1)
    assert err.value.code == PERIOD_LOCKED


def test_a_finalised_semester_1_leaves_semester_2_open(
    book: GradeBook,
    students: Students,
    record: Callable[..., list[GradeRecorded]],
    finalized: Callable[[GradeBook, PeriodKind, str], GradeBook],
) -> None:
    finalized(book, PeriodKind.SEMESTER1, "6")
    events = record(book, {students[0]: "5"}, term=Term.SEMESTER2)
    assert len(events) == 1


def test_a_finalised_annual_grade_locks_the_whole_years_grades(
    book: GradeBook,
    students: Students,
    record: Callable[..., list[GradeRecorded]],
    finalized: Callable[[GradeBook, PeriodKind, str], GradeBook],
    teacher: UUID,
    now: datetime,
) -> None:
    grade_id = record(book, {students[0]: "5"}, term=Term.SEMESTER2)[0].grade_id
    finalized(book, PeriodKind.ANNUAL, "6")
    with pytest.raises(Conflict) as err:
        _correct(book, grade_id, "7", "x", by=teacher, now=now)
    assert err.value.details == {"period": "annual"}


def test_after_an_unlock_the_grade_can_be_corrected_again(
    book: GradeBook,
    students: Students,
    record: Callable[..., list[GradeRecorded]],
    finalized: Callable[[GradeBook, PeriodKind, str], GradeBook],
    deputy: Caller,
    teacher: UUID,
    now: datetime,
) -> None:
    grade_id = record(book, {students[0]: "5"})[0].grade_id
    finalized(book, PeriodKind.SEMESTER1, "6")
    book.applied(
        book.unlock(
            UnlockPeriod(period=PeriodKind.SEMESTER1, reason="Vecāku sūdzība"),
            caller=deputy,
            now=now,
        )
    )
    events = _correct(book, grade_id, "7", "x", by=teacher, now=now)
    assert [type(e) for e in events] == [GradeCorrected]


def test_the_stream_id_names_school_class_subject_and_year(key: GradeBookKey) -> None:
    assert GradeBookKey.from_stream_id(key.stream_id) == key
    assert len(key.stream_id) <= 200
    with pytest.raises(ValueError):
        GradeBook("grading-policy:x")


def test_weights_are_kept_exactly(
    book: GradeBook,
    students: Students,
    record: Callable[..., list[GradeRecorded]],
) -> None:
    grade_id = record(book, {students[0]: "9"}, weight=Decimal("0.5"))[0].grade_id
    assert book.grades[grade_id].weight == Decimal("0.5")
