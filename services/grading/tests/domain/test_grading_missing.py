"""The "missing period grades" view per class and teacher, with deadlines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from ezurnals.grading.domain import (
    ClassSubjectProgress,
    GradeBook,
    MissingPeriodGrades,
    PeriodGradeEntry,
    Relationships,
    SchoolGradingPolicy,
    SetPeriodGradeDeadline,
    SetPeriodGrades,
    TeachingAssignment,
    missing_for_teacher,
    missing_period_grades,
)
from ezurnals.grading.domain.scales import TEN_POINT
from ezurnals.shared.contracts.grading import GradeBand, PeriodKind

SCHOOL = UUID(int=1)
CLASS_4A, CLASS_9A = UUID(int=10), UUID(int=11)
MATHS = UUID(int=20)
MARA, JANIS = UUID(int=30), UUID(int=31)
S1, S2, S3 = UUID(int=41), UUID(int=42), UUID(int=43)

REL = Relationships(
    school_id=SCHOOL,
    teaching=frozenset(
        {TeachingAssignment(MARA, CLASS_4A, MATHS), TeachingAssignment(JANIS, CLASS_9A, MATHS)}
    ),
)


def _policy(now: datetime) -> SchoolGradingPolicy:
    policy = SchoolGradingPolicy.for_school(SCHOOL)
    for cmd in (
        SetPeriodGradeDeadline(
            school_year="2025/2026", period=PeriodKind.ANNUAL, due_on=date(2026, 5, 29)
        ),
        SetPeriodGradeDeadline(
            school_year="2025/2026",
            period=PeriodKind.ANNUAL,
            due_on=date(2026, 6, 12),
            band=GradeBand(first=9, last=9),
        ),
    ):
        policy.applied(policy.set_deadline(cmd, by=MARA, now=now))
    return policy


def _progress(
    class_id: UUID, level: int, graded: set[UUID], finalized: bool = False
) -> ClassSubjectProgress:
    return ClassSubjectProgress(
        class_id=class_id,
        subject_id=MATHS,
        grade_level=level,
        roster=frozenset({S1, S2, S3}),
        graded=frozenset(graded),
        finalized=finalized,
    )


def _view(
    period: PeriodKind, progress: list[ClassSubjectProgress], now: datetime
) -> list[MissingPeriodGrades]:
    """When the view is computed on 1 June 2026."""
    return missing_period_grades(
        period,
        "2025/2026",
        progress,
        policy=_policy(now),
        relationships=REL,
        today=date(2026, 6, 1),
    )


def test_missing_period_grades_name_the_students_teachers_and_deadline(now: datetime) -> None:
    # given 4.a lacks two annual grades and 9.a one, on 1 June
    progress = [_progress(CLASS_9A, 9, {S1, S2}), _progress(CLASS_4A, 4, {S1})]
    # when the view is computed
    missing = _view(PeriodKind.ANNUAL, progress, now)
    # then 4.a comes first (its deadline passed), with its teacher; 9.a is not yet overdue
    assert [(m.class_id, m.student_ids, m.teacher_ids, m.due_on, m.overdue) for m in missing] == [
        (CLASS_4A, (S2, S3), frozenset({MARA}), date(2026, 5, 29), True),
        (CLASS_9A, (S3,), frozenset({JANIS}), date(2026, 6, 12), False),
    ]


def test_complete_and_finalised_periods_are_not_missing(now: datetime) -> None:
    progress = [_progress(CLASS_9A, 9, {S1, S2, S3}), _progress(CLASS_4A, 4, set(), finalized=True)]
    missing = _view(PeriodKind.ANNUAL, progress, now)
    assert missing == []


def test_without_a_deadline_nothing_is_overdue(now: datetime) -> None:
    missing = _view(PeriodKind.SEMESTER1, [_progress(CLASS_4A, 4, set())], now)
    assert [(m.due_on, m.overdue) for m in missing] == [(None, False)]


def test_a_teacher_sees_only_their_own_share(now: datetime) -> None:
    progress = [_progress(CLASS_9A, 9, {S1}), _progress(CLASS_4A, 4, {S1})]
    missing = _view(PeriodKind.ANNUAL, progress, now)
    assert [m.class_id for m in missing_for_teacher(missing, JANIS)] == [CLASS_9A]
    assert missing_for_teacher(missing, UUID(int=99)) == []


def test_a_grade_books_progress_feeds_the_view(
    book: GradeBook,
    students: tuple[UUID, UUID, UUID],
    roster: frozenset[UUID],
    finalized: Callable[[GradeBook, PeriodKind, str], GradeBook],
    teacher: UUID,
    now: datetime,
) -> None:
    # given semester 1 finalised and one semester-2 grade set
    finalized(book, PeriodKind.SEMESTER1, "7")
    cmd = SetPeriodGrades(
        period=PeriodKind.SEMESTER2, entries=(PeriodGradeEntry(student_id=students[0], value="8"),)
    )
    book.applied(book.set_period_grades(cmd, roster=roster, scale=TEN_POINT, by=teacher, now=now))
    # then the book reports its progress per period
    s1 = book.progress(PeriodKind.SEMESTER1, roster, grade_level=7)
    s2 = book.progress(PeriodKind.SEMESTER2, roster, grade_level=7)
    assert (s1.finalized, s1.graded) == (True, roster)
    assert (s2.finalized, s2.graded, s2.roster) == (False, frozenset({students[0]}), roster)
    assert (s2.class_id, s2.subject_id) == (book.key.class_id, book.key.subject_id)
