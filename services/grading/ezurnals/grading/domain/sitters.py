"""Who takes a period's grade (rule 6): everyone enrolled, but a re-exam (pēcpārbaudījums) only
the students whose annual grade fails. One definition for the grade book, its sheet and the
"missing period grades" view."""

from __future__ import annotations

from collections.abc import Mapping, Set
from uuid import UUID

from ezurnals.grading.domain.scales import GradeScale, GradeValue
from ezurnals.shared.contracts.grading import PeriodKind


def fails_the_year(scale: GradeScale, annual: GradeValue) -> bool:
    """Whether an annual grade sends the student to a re-exam (rule 6): below the lowest pass,
    "ni", or "nv" (no grade at all)."""
    return annual.is_no_grade or scale.period_scale.is_pass(annual) is False


def sitters(
    period: PeriodKind,
    roster: Set[UUID],
    annual: Mapping[UUID, GradeValue],
    scale: GradeScale,
) -> frozenset[UUID]:
    """Who takes the period's grade: every enrolled student, but a re-exam only those enrolled
    students whose annual grade fails — re-exam grades exist only for those who sit one."""
    if period is not PeriodKind.REEXAM:
        return frozenset(roster)
    return frozenset(s for s in roster if s in annual and fails_the_year(scale, annual[s]))
