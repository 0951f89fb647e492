"""What a route, a job or a reaction asks of the lessons service, and what each answers.

``commands.X`` names its target (school, lesson, timetable…) and carries the aggregate's own
input from ``ezurnals.lessons.domain`` where there is one (``commands.RecordLesson.entry`` is a
``domain.RecordLesson``). Each derives from ``Returns[Result]``: the handler registered for it
(``handlers.HANDLERS``) must answer with that result, and mypy checks it.
"""

from __future__ import annotations

from datetime import date, time
from uuid import UUID

from ezurnals.lessons import domain
from ezurnals.shared.contracts.lessons import AcknowledgedBy, ConsultationKind
from ezurnals.shared.domain import Command
from ezurnals.shared.pipeline import Result, Returns

# --- results -------------------------------------------------------------------------------------


class SubjectAnswer(Result):
    subject_id: UUID
    changed: bool


class OpenedTimetable(Result):
    timetable_id: UUID
    school_year: str


class TimetableChanges(Result):
    timetable_id: UUID
    changes: int


class ImportedTimetable(Result):
    timetable_id: UUID
    slots: int
    changes: int


class ScheduledLessons(Result):
    timetable_id: UUID
    lessons: int
    scheduled: int
    kept: int
    cancelled: int


class LessonView(Result):
    """A lesson as the API shows it: the plan, substitution, record with history, lateness."""

    lesson_id: UUID
    school_id: UUID
    timetable_id: UUID
    slot_id: UUID
    class_id: UUID
    subject_id: UUID
    teacher_id: UUID
    lesson_date: date
    starts_at: time
    ends_at: time
    period: int
    room: str | None
    grade_level: int
    substitute_teacher_id: UUID | None
    cancelled: bool
    recorded: bool
    late: bool
    minutes_late: int
    overdue: bool
    record: domain.LessonRecord | None
    history: tuple[domain.LessonRecord, ...]

    @classmethod
    def of(cls, lesson: domain.Lesson) -> LessonView:
        assert lesson.plan is not None
        return cls(
            **lesson.plan.model_dump(),
            substitute_teacher_id=lesson.substitute_teacher_id,
            cancelled=lesson.cancelled,
            recorded=lesson.recorded,
            late=lesson.late,
            minutes_late=lesson.minutes_late,
            overdue=lesson.overdue_raised,
            record=lesson.current,
            history=tuple(lesson.history),
        )


class PolicyVersions(Result):
    versions: tuple[domain.DeadlineRules, ...]


class OverdueAnswer(Result):
    raised: bool


class ConsultationNote(Result):
    consultation_id: UUID
    school_id: UUID
    kind: ConsultationKind
    participant_ids: tuple[UUID, ...]
    summary: str
    held_on: date
    recorded_by: UUID
    override_reason: str | None = None


class BriefingTypeAnswer(Result):
    briefing_type_id: UUID
    name_key: str


class ConductedBriefing(Result):
    briefing_id: UUID
    school_id: UUID
    briefing_type_id: UUID
    class_id: UUID | None = None
    student_ids: tuple[UUID, ...]
    conducted_on: date
    conducted_by: UUID
    topic: str


class BriefingView(ConductedBriefing):
    acknowledged: dict[UUID, AcknowledgedBy]
    not_acknowledged: tuple[UUID, ...]

    @classmethod
    def of(cls, briefing: domain.Briefing) -> BriefingView:
        assert briefing.conducted is not None
        return cls(
            **briefing.conducted.model_dump(),
            acknowledged=briefing.acknowledged,
            not_acknowledged=briefing.not_acknowledged,
        )


# --- commands ------------------------------------------------------------------------------------


class DefineSubject(Command, Returns[SubjectAnswer]):
    subject: domain.DefineSubject


class OpenTimetable(Command, Returns[OpenedTimetable]):
    """The class's timetable for its school year (one per class and year)."""

    school_id: UUID
    class_id: UUID


class DefineSlot(Command, Returns[TimetableChanges]):
    school_id: UUID
    timetable_id: UUID
    slot: domain.DefineTimetableSlot


class ChangeSlot(Command, Returns[TimetableChanges]):
    school_id: UUID
    timetable_id: UUID
    change: domain.ChangeTimetableSlot


class RemoveSlot(Command, Returns[TimetableChanges]):
    school_id: UUID
    timetable_id: UUID
    removal: domain.RemoveTimetableSlot


class ImportTimetable(Command, Returns[ImportedTimetable]):
    school_id: UUID
    timetable_id: UUID
    text: str
    effective_from: date


class ScheduleLessons(Command, Returns[ScheduledLessons]):
    school_id: UUID
    timetable_id: UUID
    first_day: date
    last_day: date


class SubstituteTeacher(Command, Returns[LessonView]):
    school_id: UUID
    lesson_id: UUID
    substitute_teacher_id: UUID


class CancelLesson(Command, Returns[LessonView]):
    school_id: UUID
    lesson_id: UUID
    reason: str


class RecordLesson(Command, Returns[LessonView]):
    school_id: UUID
    lesson_id: UUID
    entry: domain.RecordLesson


class CorrectLessonRecord(Command, Returns[LessonView]):
    school_id: UUID
    lesson_id: UUID
    correction: domain.CorrectLessonRecord


class SetEntryDeadlinePolicy(Command, Returns[PolicyVersions]):
    policy: domain.SetEntryDeadlinePolicy


class MarkLessonOverdue(Command, Returns[OverdueAnswer]):
    """The worker's job, at the lesson's entry deadline (each lesson's stream says whether it
    was raised already, so the job keeps no state)."""

    school_id: UUID
    lesson_id: UUID


class RecordConsultation(Command, Returns[ConsultationNote]):
    note: domain.RecordConsultation
    deputy_director: bool


class DefineBriefingType(Command, Returns[BriefingTypeAnswer]):
    briefing_type: domain.DefineBriefingType


class ConductBriefing(Command, Returns[ConductedBriefing]):
    briefing: domain.ConductBriefing


class AcknowledgeBriefing(Command, Returns[BriefingView]):
    school_id: UUID
    briefing_id: UUID
    acknowledgement: domain.AcknowledgeBriefing
