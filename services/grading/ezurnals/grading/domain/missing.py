"""The "missing period grades" view: which class-subject periods lack grades, and whose they are.

Computed from plain values (each grade book's progress, the school's deadlines and the teaching
assignments) so the same rule serves the administration's overview and a teacher's own list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from ezurnals.grading.domain.authorization import Relationships
from ezurnals.grading.domain.policy import GradingPolicy, SchoolGradingPolicy
from ezurnals.grading.domain.scales import GradeValue
from ezurnals.grading.domain.sitters import sitters
from ezurnals.shared.contracts.grading import PeriodKind


@dataclass(frozen=True)
class ClassSubjectProgress:
    """How far one class-subject period is: who is enrolled, who has a period grade, is it final,
    and the annual grades that decide who sits a re-exam."""

    class_id: UUID
    subject_id: UUID
    grade_level: int
    roster: frozenset[UUID]
    graded: frozenset[UUID]
    finalized: bool = False
    annual: Mapping[UUID, GradeValue] = field(default_factory=dict)


@dataclass(frozen=True)
class MissingPeriodGrades:
    class_id: UUID
    subject_id: UUID
    period: PeriodKind
    teacher_ids: frozenset[UUID]
    student_ids: tuple[UUID, ...]
    due_on: date | None
    overdue: bool


def missing_period_grades(
    period: PeriodKind,
    school_year: str,
    progress: Iterable[ClassSubjectProgress],
    *,
    policy: GradingPolicy | SchoolGradingPolicy,
    relationships: Relationships,
    today: date,
) -> list[MissingPeriodGrades]:
    """Every class-subject that still lacks period grades, the earliest deadline first; none for
    a period the school gives no grades for."""
    if not policy.gives(period):
        return []
    missing: list[MissingPeriodGrades] = []
    for p in progress:
        scale = policy.scale_for(p.grade_level, p.subject_id)
        students = sitters(period, p.roster, p.annual, scale) - p.graded
        if p.finalized or not students:
            continue
        due_on = policy.deadline_for(school_year, period, p.grade_level)
        missing.append(
            MissingPeriodGrades(
                class_id=p.class_id,
                subject_id=p.subject_id,
                period=period,
                teacher_ids=relationships.teachers_of(p.class_id, p.subject_id),
                student_ids=tuple(sorted(students, key=str)),
                due_on=due_on,
                overdue=due_on is not None and today > due_on,
            )
        )
    return sorted(missing, key=lambda m: (m.due_on or date.max, str(m.class_id), str(m.subject_id)))


def missing_for_teacher(
    missing: Iterable[MissingPeriodGrades], teacher_id: UUID
) -> list[MissingPeriodGrades]:
    """A teacher's own share of the view."""
    return [m for m in missing if teacher_id in m.teacher_ids]
