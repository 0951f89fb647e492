"""Givens shared by the grading domain tests: one class, one subject, three students, a clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from ezurnals.grading.domain import (
    Caller,
    FinalizePeriod,
    GradeBook,
    GradeBookKey,
    GradeScale,
    Mark,
    PeriodGradeEntry,
    RecordGrades,
    Role,
    SetPeriodGrades,
    Work,
)
from ezurnals.grading.domain.scales import TEN_POINT
from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.contracts.grading import PeriodKind, Term, WorkKind

SCHOOL = UUID(int=1)
CLASS = UUID(int=2)
SUBJECT = UUID(int=3)
TEACHER = UUID(int=4)
DEPUTY = UUID(int=5)
NOW = datetime(2025, 12, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def students() -> tuple[UUID, UUID, UUID]:
    return UUID(int=101), UUID(int=102), UUID(int=103)


@pytest.fixture
def roster(students: tuple[UUID, UUID, UUID]) -> frozenset[UUID]:
    return frozenset(students)


@pytest.fixture
def key() -> GradeBookKey:
    return GradeBookKey(SCHOOL, CLASS, SUBJECT, "2025/2026")


@pytest.fixture
def book(key: GradeBookKey) -> GradeBook:
    return GradeBook.for_key(key)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def teacher() -> UUID:
    return TEACHER


@pytest.fixture
def deputy() -> Caller:
    return Caller(person_id=DEPUTY, school_id=SCHOOL, role=Role.DEPUTY_DIRECTOR)


def _work(
    term: Term = Term.SEMESTER1,
    *,
    summative: bool = True,
    weight: Decimal = Decimal(1),
    title: str = "Kontroldarbs: daļskaitļi",
) -> Work:
    return Work(
        title=title,
        kind=WorkKind.TEST,
        summative=summative,
        weight=weight,
        given_on=date(2025, 10, 1) if term is Term.SEMESTER1 else date(2026, 3, 2),
        term=term,
    )


GradeFn = Callable[..., list[IntegrationEvent]]


@pytest.fixture
def grade(roster: frozenset[UUID]) -> GradeFn:
    """When the teacher grades these (student, value) pairs for one piece of work."""

    def when(
        book: GradeBook,
        *pairs: tuple[UUID, str],
        scale: GradeScale = TEN_POINT,
        term: Term = Term.SEMESTER1,
        summative: bool = True,
        weight: Decimal = Decimal(1),
        first_id: int = 900,
    ) -> list[IntegrationEvent]:
        cmd = RecordGrades(
            work=_work(term, summative=summative, weight=weight),
            marks=tuple(
                Mark(grade_id=UUID(int=first_id + i), student_id=s, value=v)
                for i, (s, v) in enumerate(pairs)
            ),
        )
        return book.record(cmd, roster=roster, scale=scale, by=TEACHER, now=NOW)

    return when


@pytest.fixture
def record(grade: GradeFn) -> GradeFn:
    """Given these grades were recorded (and applied to the book)."""

    def given(
        book: GradeBook, values: Mapping[UUID, str], **options: object
    ) -> list[IntegrationEvent]:
        first_id = 10_000 + len(book.grades)
        events = grade(book, *values.items(), first_id=first_id, **options)
        book.applied(events)
        return events

    return given


@pytest.fixture
def finalized(roster: frozenset[UUID]) -> Callable[[GradeBook, PeriodKind, str], GradeBook]:
    """Given every student got ``value`` as the period grade and the period was finalised."""

    def given(book: GradeBook, period: PeriodKind, value: str) -> GradeBook:
        entries = tuple(PeriodGradeEntry(student_id=s, value=value) for s in sorted(roster))
        book.applied(
            book.set_period_grades(
                SetPeriodGrades(period=period, entries=entries),
                roster=roster,
                scale=TEN_POINT,
                by=TEACHER,
                now=NOW,
            )
        )
        return book.applied(
            book.finalize(
                FinalizePeriod(period=period), roster=roster, scale=TEN_POINT, by=TEACHER, now=NOW
            )
        )

    return given
