"""Whether a school gives semester grades: a per-school setting, used by default."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from ezurnals.grading.domain import (
    ClassSubjectProgress,
    Relationships,
    SchoolGradingPolicy,
    SemesterGradesUsageSet,
    SetSemesterGradesUsage,
    missing_period_grades,
)
from ezurnals.shared.contracts.base import registry
from ezurnals.shared.contracts.grading import PeriodKind
from ezurnals.shared.domain import Invalid

SCHOOL, ADMIN = UUID(int=1), UUID(int=2)
NOW = datetime(2025, 9, 1, 8, tzinfo=UTC)
PROGRESS = ClassSubjectProgress(
    class_id=UUID(int=10),
    subject_id=UUID(int=20),
    grade_level=7,
    roster=frozenset({UUID(int=30)}),
    graded=frozenset(),
)


def policy(*used: bool) -> SchoolGradingPolicy:
    stream = SchoolGradingPolicy.for_school(SCHOOL).stream_id
    events = [
        SemesterGradesUsageSet(school_id=SCHOOL, used=u, set_by=ADMIN, set_at=NOW) for u in used
    ]
    return SchoolGradingPolicy.rehydrate(stream, events)


def missing(p: SchoolGradingPolicy, period: PeriodKind) -> int:
    found = missing_period_grades(
        period,
        "2025/2026",
        [PROGRESS],
        policy=p,
        relationships=Relationships(SCHOOL),
        today=NOW.date(),
    )
    return len(found)


def test_by_default_every_period_is_given() -> None:
    given = policy()
    assert given.semester_grades_used is True
    assert all(given.gives(period) for period in PeriodKind)
    given.require_given(PeriodKind.SEMESTER1)


def test_a_school_without_semester_grades_refuses_them_naming_the_period() -> None:
    given = policy(False)
    with pytest.raises(Invalid) as err:
        given.require_given(PeriodKind.SEMESTER2)
    assert err.value.field == "period"
    for period in (PeriodKind.ANNUAL, PeriodKind.FINAL, PeriodKind.EXAM, PeriodKind.REEXAM):
        given.require_given(period)


def test_the_missing_view_ignores_semesters_the_school_does_not_give() -> None:
    assert missing(policy(), PeriodKind.SEMESTER1) == 1
    assert missing(policy(False), PeriodKind.SEMESTER1) == 0
    assert missing(policy(False), PeriodKind.ANNUAL) == 1
    assert missing(policy(False, True), PeriodKind.SEMESTER1) == 1


def test_setting_what_is_already_set_records_nothing() -> None:
    assert (
        policy().set_semester_grades_usage(SetSemesterGradesUsage(used=True), by=ADMIN, now=NOW)
        == []
    )
    [event] = policy().set_semester_grades_usage(
        SetSemesterGradesUsage(used=False), by=ADMIN, now=NOW
    )
    assert event == SemesterGradesUsageSet(school_id=SCHOOL, used=False, set_by=ADMIN, set_at=NOW)
    assert not registry.is_published("SemesterGradesUsageSet", 1)
