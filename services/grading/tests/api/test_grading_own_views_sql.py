"""The grade views (``OWN_VIEWS``) kept by the append's own statement, or after it for a batch
that does not fit it, hold exactly what each event applied alone, in order, writes: every event
type, corrections upon corrections, and the batches that two events write one row of."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from ezurnals.grading.projections import OWN_VIEWS
from ezurnals.grading.service import SERVICE
from ezurnals.shared.contracts import grading as g
from ezurnals.shared.contracts.base import IntegrationEvent, registry
from ezurnals.shared.eventstore import EventStore
from ezurnals.shared.testing.projections import append_both_ways, two_stores
from ezurnals.shared.testing.stack import TestStack

TABLES = ("grade_entries", "period_grade_entries", "class_subject_periods")
AT = datetime(2025, 10, 6, 9, 30, 0, 123456, tzinfo=UTC)
#: An instant not in UTC: the history keeps the offset it was written with.
AT_RIGA = datetime(2025, 10, 7, 11, 0, tzinfo=timezone(timedelta(hours=3)))


@pytest.fixture(scope="module")
async def stores(stack: TestStack) -> AsyncIterator[tuple[EventStore, EventStore]]:
    """Two fresh databases of the service: one kept batch by batch, one event by event."""
    made = [await stack.settings(SERVICE, database=f"grading_views_{s}") for s in ("bulk", "each")]
    urls = [settings.database_url for settings in made]
    async with two_stores(urls) as pair:
        yield pair


class Book:
    """One class-subject grade book of one school year, writing events as grading does."""

    def __init__(self) -> None:
        self.ids = {
            "school_id": uuid.uuid4(),
            "class_id": uuid.uuid4(),
            "subject_id": uuid.uuid4(),
            "school_year": "2025/2026",
        }
        self.students = [uuid.uuid4() for _ in range(4)]
        self.teacher = uuid.uuid4()

    def recorded(
        self, student: int, value: str, points: int | None, **work: Any
    ) -> g.GradeRecorded:
        fields: dict[str, Any] = {
            "grade_id": uuid.uuid4(),
            "term": g.Term.SEMESTER1,
            "given_on": date(2025, 10, 6),
            "work_title": "Kontroldarbs Nr. 1",
            "work_kind": g.WorkKind.TEST,
            "summative": True,
            "scale": g.ScaleKind.TEN_POINT,
            **work,
        }
        return g.GradeRecorded(
            **self.ids,
            student_id=self.students[student],
            value=value,
            points=points,
            recorded_by=self.teacher,
            recorded_at=AT,
            **fields,
        )

    def corrected(
        self, grade: g.GradeRecorded, old: str, new: str, points: int | None, at: datetime = AT
    ) -> g.GradeCorrected:
        return g.GradeCorrected(
            **self.ids,
            grade_id=grade.grade_id,
            student_id=grade.student_id,
            scale=grade.scale,
            old_value=old,
            new_value=new,
            new_points=points,
            reason='pārrēķināts: "O\'Brien" \\ 50%',
            corrected_by=self.teacher,
            corrected_at=at,
        )

    def period_grade(
        self,
        student: int,
        value: str,
        period: g.PeriodKind = g.PeriodKind.SEMESTER1,
        suggested: str | None = "8",
    ) -> g.PeriodGradeSet:
        return g.PeriodGradeSet(
            **self.ids,
            student_id=self.students[student],
            period=period,
            scale=g.ScaleKind.TEN_POINT,
            value=value,
            points=int(value),
            suggested_value=suggested,
            overridden=suggested != value,
            set_by=self.teacher,
            set_at=AT,
        )

    def finalized(self, students: range, period: g.PeriodKind) -> list[IntegrationEvent]:
        finals: list[IntegrationEvent] = [
            g.GradeFinalized(
                **self.ids,
                student_id=self.students[s],
                period=period,
                scale=g.ScaleKind.TEN_POINT,
                value="8",
                points=8,
                finalized_at=AT,
            )
            for s in students
        ]
        whole = g.PeriodFinalized(
            **self.ids,
            period=period,
            student_ids=tuple(self.students[s] for s in students),
            finalized_by=self.teacher,
            finalized_at=AT,
        )
        return [*finals, whole]

    def unlocked(self, period: g.PeriodKind, at: datetime = AT) -> g.PeriodUnlocked:
        return g.PeriodUnlocked(
            **self.ids, period=period, reason="kļūda vērtējumā", unlocked_by=self.teacher,
            unlocked_at=at,
        )  # fmt: skip


def _policy(book: Book) -> list[IntegrationEvent]:
    """The school's policy events: not the views' business, on either path."""
    school = book.ids["school_id"]
    return [
        g.GradeScaleDefined(
            scale_id=uuid.uuid4(),
            school_id=school,
            kind=g.ScaleKind.PASS_FAIL,
            band=g.GradeBand(first=1, last=3),
            defined_at=AT,
        ),
        g.PeriodGradeDeadlineSet(
            school_id=school,
            school_year="2025/2026",
            period=g.PeriodKind.SEMESTER1,
            due_on=date(2025, 12, 19),
            set_at=AT,
        ),
    ]


def _batches(book: Book) -> list[tuple[list[IntegrationEvent], bool]]:
    """Batches as commands append them, and whether each fits the append's statement."""
    s1, annual = g.PeriodKind.SEMESTER1, g.PeriodKind.ANNUAL
    first = book.recorded(0, "8", 8, lesson_id=uuid.uuid4())
    missed = book.recorded(
        1, "nv", None, summative=False, work_kind=g.WorkKind.HOMEWORK, weight=Decimal("1.50")
    )
    passed = book.recorded(2, "i", None, scale=g.ScaleKind.PASS_FAIL, term=g.Term.SEMESTER2)
    later = book.recorded(3, "6", 6, given_on=date(2025, 11, 3), work_title="Mājasdarbs")
    fresh = book.recorded(3, "5", 5)
    twin = book.recorded(0, "7", 7)
    never = book.recorded(1, "4", 4)
    return [
        ([first, missed, passed], True),
        ([book.corrected(first, "8", "9", 9)], True),
        ([book.corrected(first, "9", "nv", None, at=AT_RIGA)], True),
        ([book.corrected(never, "4", "5", 5)], True),  # no such grade: nothing changes
        ([later, book.corrected(missed, "nv", "7", 7)], True),
        ([book.period_grade(s, v) for s, v in ((0, "8"), (1, "6"), (2, "9"))], True),
        ([book.period_grade(1, "7", suggested=None)], True),
        (book.finalized(range(3), s1), True),
        ([book.unlocked(s1)], True),
        ([book.period_grade(0, "9")], True),
        (book.finalized(range(3), s1), True),
        ([book.unlocked(s1, at=AT_RIGA)], True),
        (_policy(book), True),
        # two events on one row: applied after the append, in order
        ([fresh, book.corrected(fresh, "5", "6", 6)], False),
        ([book.corrected(passed, "i", "ni", None), book.corrected(passed, "ni", "i", None)], False),
        ([book.period_grade(0, "7", annual), book.period_grade(0, "8", annual)], False),
        ([book.period_grade(1, "7", annual), book.unlocked(annual)], False),
        ([*book.finalized(range(2), annual), book.unlocked(annual)], False),
        # refused on both paths, with nothing written
        ([first], True),
        ([twin, twin], False),
    ]


async def test_own_views_by_batch_equal_event_by_event_row_for_row(
    stores: tuple[EventStore, EventStore],
) -> None:
    batches = _batches(Book())
    done = await append_both_ways(OWN_VIEWS, [events for events, _ in batches], TABLES, stores)

    assert done.fits == [fits for _, fits in batches]
    # one round trip for a batch that fits; BEGIN, append, the fed statements, COMMIT else
    assert [a.statements == 1 for a in done.batched] == done.fits
    refused = [a.refused_by for a in done.batched]
    assert refused == [a.refused_by for a in done.one_by_one]
    assert refused[-2:] == ["grade_entries_pkey"] * 2 and not any(refused[:-2])
    rows = done.rows_batched
    assert rows == done.rows_one_by_one
    assert [len(rows[t]) for t in TABLES] == [5, 5, 2]
    assert any("+03:00" in row and "+00:00" in row for row in rows["grade_entries"])

    grading = {m.event_type for m in registry if m.service == "grading"}
    assert {e.event_type for events, _ in batches for e in events} == grading
