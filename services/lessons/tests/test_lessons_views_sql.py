"""The query tables (``VIEWS``) kept by the append's own statement, or after it for a batch that
does not fit it, hold exactly what each event applied alone, in order, writes: every event type,
plans changed and records corrected, and the batches that two events write one row of."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time

import pytest

from ezurnals.lessons.projections import VIEWS
from ezurnals.lessons.service import SERVICE
from ezurnals.shared.contracts import lessons as ev
from ezurnals.shared.contracts.base import IntegrationEvent, registry
from ezurnals.shared.eventstore import EventStore
from ezurnals.shared.testing.projections import append_both_ways, two_stores
from ezurnals.shared.testing.stack import TestStack

TABLES = (
    "subjects",
    "timetables",
    "lessons",
    "consultations",
    "briefing_types",
    "briefings",
    "briefing_acknowledgements",
)
DAY = date(2025, 10, 6)


@pytest.fixture(scope="module")
async def stores(stack: TestStack) -> AsyncIterator[tuple[EventStore, EventStore]]:
    """Two fresh databases of the service: one kept batch by batch, one event by event."""
    made = [await stack.settings(SERVICE, database=f"lessons_views_{s}") for s in ("bulk", "each")]
    urls = [settings.database_url for settings in made]
    async with two_stores(urls) as pair:
        yield pair


class School:
    """One school's ids and the events the lessons service writes about them."""

    def __init__(self) -> None:
        self.school_id = uuid.uuid4()
        self.class_id = uuid.uuid4()
        self.subject_id = uuid.uuid4()
        self.timetable_id = uuid.uuid4()
        self.teacher = uuid.uuid4()
        self.substitute = uuid.uuid4()
        self.students = (uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
        self.briefing_type = uuid.uuid4()
        self.briefing = uuid.uuid4()
        self.consultation = uuid.uuid4()

    def subject(self, name: str, hours: dict[int, int]) -> ev.SubjectDefined:
        return ev.SubjectDefined(
            subject_id=self.subject_id,
            school_id=self.school_id,
            name_key="matematika",
            name=name,
            curriculum_hours=hours,
        )

    def timetable(self) -> ev.TimetableOpened:
        return ev.TimetableOpened(
            timetable_id=self.timetable_id,
            school_id=self.school_id,
            class_id=self.class_id,
            school_year="2025/2026",
            grade_level=7,
        )

    def slot(self) -> ev.WeeklySlot:
        return ev.WeeklySlot(
            weekday=1,
            period=2,
            starts_at=time(9, 0),
            ends_at=time(9, 40),
            subject_id=self.subject_id,
            teacher_id=self.teacher,
            room="12",
        )

    def scheduled(
        self,
        lesson: uuid.UUID,
        period: int,
        room: str | None = "12",
        teacher: uuid.UUID | None = None,
    ) -> ev.LessonScheduled:
        return ev.LessonScheduled(
            lesson_id=lesson,
            school_id=self.school_id,
            timetable_id=self.timetable_id,
            slot_id=uuid.uuid4(),
            class_id=self.class_id,
            subject_id=self.subject_id,
            teacher_id=teacher or self.teacher,
            lesson_date=DAY,
            starts_at=time(8 + period, 0),
            ends_at=time(8 + period, 40),
            period=period,
            room=room,
            grade_level=7,
        )

    def recorded(self, lesson: uuid.UUID, *, homework: bool, late: int = 0) -> ev.LessonRecorded:
        return ev.LessonRecorded(
            lesson_id=lesson,
            topic="Daļskaitļi: saskaitīšana",
            homework=self.homework() if homework else None,
            no_homework=not homework,
            recorded_by=self.teacher,
            late=late > 0,
            minutes_late=late,
        )

    def homework(self) -> ev.Homework:
        return ev.Homework(
            text='Uzdevumi 1–5, "grāmata" 12. lpp.',
            links=("https://example.org/a",),
            due_date=date(2025, 10, 8),
        )

    def late(self, lesson: uuid.UUID) -> list[IntegrationEvent]:
        """What a late record brings besides the record: neither is the views' business."""
        return [
            ev.LessonEntryLate(
                lesson_id=lesson,
                class_id=self.class_id,
                subject_id=self.subject_id,
                teacher_id=self.teacher,
                recorded_by=self.teacher,
                lesson_date=DAY,
                deadline=datetime(2025, 10, 6, 13, 0, tzinfo=UTC),
                minutes_late=25,
            ),
            ev.HomeworkAssigned(
                lesson_id=lesson,
                class_id=self.class_id,
                subject_id=self.subject_id,
                lesson_date=DAY,
                homework=self.homework(),
            ),
        ]

    def briefing_type_defined(self, name: str) -> ev.BriefingTypeDefined:
        return ev.BriefingTypeDefined(
            briefing_type_id=self.briefing_type,
            school_id=self.school_id,
            name_key="ugunsdrosiba",
            name=name,
        )

    def acknowledged(self, student: int) -> ev.BriefingAcknowledged:
        return ev.BriefingAcknowledged(
            briefing_id=self.briefing,
            student_id=self.students[student],
            how=ev.AcknowledgedBy.APP if student else ev.AcknowledgedBy.PAPER,
            recorded_by=self.teacher,
        )

    def consultation_recorded(self, summary: str) -> ev.ConsultationRecorded:
        return ev.ConsultationRecorded(
            consultation_id=self.consultation,
            school_id=self.school_id,
            kind=ev.ConsultationKind.PARENT_CONVERSATION,
            participant_ids=(self.students[2], self.students[0]),
            summary=summary,
            held_on=DAY,
            recorded_by=self.teacher,
        )


def _batches(s: School) -> list[tuple[list[IntegrationEvent], bool]]:
    """Batches as commands append them, and whether each fits the append's statement."""
    one, two, three, four = (uuid.uuid4() for _ in range(4))
    briefing = ev.BriefingConducted(
        briefing_id=s.briefing,
        school_id=s.school_id,
        briefing_type_id=s.briefing_type,
        student_ids=s.students,
        conducted_on=DAY,
        conducted_by=s.teacher,
        topic="Evakuācija",
    )
    policy = ev.EntryDeadlinePolicySet(
        school_id=s.school_id,
        effective_from=DAY,
        deadlines=(ev.GradeBandDeadline(first_grade=1, last_grade=12, deadline=time(16, 0)),),
        consultation_cutoff=time(18, 0),
    )
    slot_id = uuid.uuid4()
    slots: list[IntegrationEvent] = [
        ev.TimetableSlotChanged(
            timetable_id=s.timetable_id, slot_id=slot_id, effective_from=DAY, slot=s.slot()
        ),
        ev.TimetableSlotRemoved(timetable_id=s.timetable_id, slot_id=slot_id, effective_from=DAY),
    ]
    defined_slot = ev.TimetableSlotDefined(
        timetable_id=s.timetable_id, slot_id=slot_id, effective_from=DAY, slot=s.slot()
    )
    return [
        ([s.subject("Matemātika", {7: 2, 8: 3})], True),
        ([s.subject("Matemātika un loģika", {})], True),
        ([s.timetable(), defined_slot], True),
        ([s.timetable()], True),  # opened again: kept as it was
        ([s.scheduled(one, 1), s.scheduled(two, 2, room=None), s.scheduled(three, 3)], True),
        ([s.scheduled(one, 4, room="Zāle", teacher=s.substitute), cancel(two, "ekskursija")], True),
        ([s.recorded(one, homework=True, late=25), *s.late(one)], True),
        ([corrected(one, "Daļskaitļi: atņemšana", s.substitute)], True),
        ([overdue(s, three)], True),
        ([s.recorded(four, homework=False)], True),  # no such lesson: nothing changes
        (
            [
                s.consultation_recorded("Runājām par mājasdarbiem"),
                s.briefing_type_defined("Ugunsdrošība"),
                briefing,
            ],
            True,
        ),
        ([s.briefing_type_defined("Drošība un evakuācija"), *map(s.acknowledged, (0, 1))], True),
        ([s.consultation_recorded("Cits kopsavilkums")], True),  # recorded again: kept
        ([policy, *slots], True),
        # two events on one row: applied after the append, in order
        ([substituted(s, three), s.recorded(three, homework=False)], False),
        ([s.acknowledged(2), s.acknowledged(2)], False),
        ([s.scheduled(four, 5), cancel(four, "slimība")], False),
        ([corrected(one, "Atkārtojums", s.teacher), cancel(one, "kļūda")], False),
    ]


def cancel(lesson: uuid.UUID, reason: str) -> ev.LessonCancelled:
    return ev.LessonCancelled(lesson_id=lesson, lesson_date=DAY, reason=reason)


def corrected(lesson: uuid.UUID, topic: str, by: uuid.UUID) -> ev.LessonRecordCorrected:
    return ev.LessonRecordCorrected(
        lesson_id=lesson, topic=topic, no_homework=True, corrected_by=by, reason="precizēts"
    )


def substituted(s: School, lesson: uuid.UUID) -> ev.LessonSubstituted:
    return ev.LessonSubstituted(
        lesson_id=lesson,
        lesson_date=DAY,
        substitute_teacher_id=s.substitute,
        replaced_teacher_id=s.teacher,
    )


def overdue(s: School, lesson: uuid.UUID) -> ev.LessonEntryOverdue:
    return ev.LessonEntryOverdue(
        lesson_id=lesson,
        class_id=s.class_id,
        subject_id=s.subject_id,
        teacher_id=s.teacher,
        lesson_date=DAY,
        deadline=datetime(2025, 10, 6, 13, 0, tzinfo=UTC),
    )


async def test_views_by_batch_equal_event_by_event_row_for_row(
    stores: tuple[EventStore, EventStore],
) -> None:
    batches = _batches(School())
    done = await append_both_ways(VIEWS, [events for events, _ in batches], TABLES, stores)

    assert done.fits == [fits for _, fits in batches]
    # one round trip for a batch that fits; BEGIN, append, the fed statements, COMMIT else
    assert [a.statements == 1 for a in done.batched] == done.fits
    assert [a.refused_by for a in done.batched + done.one_by_one] == [None] * 2 * len(batches)
    rows = done.rows_batched
    assert rows == done.rows_one_by_one
    assert [len(rows[t]) for t in TABLES] == [1, 1, 4, 1, 1, 1, 3]

    lessons = {m.event_type for m in registry if m.service == "lessons"}
    assert {e.event_type for events, _ in batches for e in events} == lessons
