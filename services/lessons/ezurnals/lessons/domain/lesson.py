"""A concrete lesson: its plan, substitution or cancellation, and its record (rule 2).

The record is a topic plus either homework or an explicit "no homework". Recording late is
allowed and marked; a lesson still without a record at its deadline raises one overdue event.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from ezurnals.lessons.domain._checks import required_text
from ezurnals.lessons.domain.deadlines import (
    DeadlineSchedule,
    entry_deadline,
    local_instant,
    minutes_late,
)
from ezurnals.shared.contracts.lessons import (
    GradeLevel,
    Homework,
    HomeworkAssigned,
    LessonCancelled,
    LessonEntryLate,
    LessonEntryOverdue,
    LessonRecordCorrected,
    LessonRecorded,
    LessonScheduled,
    LessonsEvent,
    LessonSubstituted,
    Period,
)
from ezurnals.shared.domain import (
    Aggregate,
    Command,
    Conflict,
    Forbidden,
    Invalid,
    missing,
)

MAX_TOPIC_LENGTH = 500
MAX_HOMEWORK_LENGTH = 4000
MAX_REASON_LENGTH = 500
#: Homework is due within about a term of its lesson (a summer reading list at the longest).
MAX_HOMEWORK_DAYS = 120
_REPORTED = {"lesson_id", "class_id", "subject_id", "teacher_id", "lesson_date"}


class ScheduleLesson(Command):
    """Put a lesson of the timetable on the calendar, or bring its plan up to date."""

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
    period: Period
    room: str | None = None
    grade_level: GradeLevel


class SubstituteTeacher(Command):
    substitute_teacher_id: UUID


class CancelLesson(Command):
    reason: str


class RecordLesson(Command):
    topic: str
    homework: Homework | None = None
    no_homework: bool = False
    recorded_by: UUID


class CorrectLessonRecord(Command):
    topic: str
    homework: Homework | None = None
    no_homework: bool = False
    corrected_by: UUID
    reason: str | None = None


class LessonRecord(BaseModel):
    """One version of what was entered for the lesson."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    homework: Homework | None
    no_homework: bool
    entered_by: UUID
    correction_reason: str | None = None


class Lesson(Aggregate[LessonsEvent]):
    """One stream per lesson; the stream id is the lesson id the timetable derives."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.plan: ScheduleLesson | None = None
        self.substitute_teacher_id: UUID | None = None
        self.cancelled = False
        self.history: list[LessonRecord] = []
        self.late = False
        self.minutes_late = 0
        self.overdue_raised = False

    # --- reading -------------------------------------------------------------------------------

    @property
    def current(self) -> LessonRecord | None:
        """The record as it stands after the latest correction."""
        return self.history[-1] if self.history else None

    @property
    def recorded(self) -> bool:
        return bool(self.history)

    def deadline(self, policy: DeadlineSchedule, zone: ZoneInfo) -> datetime:
        plan = self._planned()
        return entry_deadline(plan.lesson_date, plan.grade_level, policy, zone)

    def may_record(self, person_id: UUID) -> bool:
        """The assigned teacher, or the substitute for the lesson's day (rule 2)."""
        plan = self._planned()
        return person_id in (plan.teacher_id, self.substitute_teacher_id)

    # --- decisions -----------------------------------------------------------------------------

    def schedule(self, cmd: ScheduleLesson) -> list[LessonsEvent]:
        if self.plan == cmd:
            return []
        if self.plan is not None and (self.recorded or self.cancelled):
            raise Conflict(
                "a recorded or cancelled lesson cannot be re-planned", code="lesson_closed"
            )
        return [LessonScheduled(**cmd.model_dump())]

    def substitute(self, cmd: SubstituteTeacher) -> list[LessonsEvent]:
        plan = self._open_plan()
        if self.recorded:
            raise Conflict("a recorded lesson cannot be substituted", code="already_recorded")
        if cmd.substitute_teacher_id == plan.teacher_id:
            raise Invalid(
                "the substitute is the lesson's own teacher", field="substitute_teacher_id"
            )
        if cmd.substitute_teacher_id == self.substitute_teacher_id:
            return []
        return [
            LessonSubstituted(
                lesson_id=plan.lesson_id,
                lesson_date=plan.lesson_date,
                substitute_teacher_id=cmd.substitute_teacher_id,
                replaced_teacher_id=plan.teacher_id,
            )
        ]

    def cancel(self, cmd: CancelLesson) -> list[LessonsEvent]:
        plan = self._planned()
        if self.cancelled:
            return []
        if self.recorded:
            raise Conflict("a recorded lesson cannot be cancelled", code="already_recorded")
        reason = required_text(cmd.reason, "reason", max_length=MAX_REASON_LENGTH)
        return [
            LessonCancelled(lesson_id=plan.lesson_id, lesson_date=plan.lesson_date, reason=reason)
        ]

    def record(
        self, cmd: RecordLesson, now: datetime, policy: DeadlineSchedule, zone: ZoneInfo
    ) -> list[LessonsEvent]:
        plan = self._open_plan()
        self._authorise(cmd.recorded_by)
        if self.recorded:
            raise Conflict(
                "the lesson is already recorded; correct it instead", code="already_recorded"
            )
        starts = local_instant(plan.lesson_date, plan.starts_at, zone)
        if now < starts:
            raise Invalid(
                "a lesson that has not started yet cannot be recorded",
                code="lesson_in_future",
                details={"starts_at": starts.isoformat()},
            )
        topic, homework = self._content(cmd.topic, cmd.homework, cmd.no_homework)
        deadline = entry_deadline(plan.lesson_date, plan.grade_level, policy, zone)
        late_by = minutes_late(deadline, now)
        events: list[LessonsEvent] = [
            LessonRecorded(
                lesson_id=plan.lesson_id,
                topic=topic,
                homework=homework,
                no_homework=cmd.no_homework,
                recorded_by=cmd.recorded_by,
                late=late_by > 0,
                minutes_late=late_by,
            )
        ]
        if homework is not None:
            events.append(self._homework_assigned(homework))
        if late_by > 0:
            events.append(
                LessonEntryLate(
                    **self._facts(),
                    recorded_by=cmd.recorded_by,
                    deadline=deadline,
                    minutes_late=late_by,
                )
            )
        return events

    def correct(self, cmd: CorrectLessonRecord) -> list[LessonsEvent]:
        plan = self._planned()
        self._authorise(cmd.corrected_by)
        current = self.current
        if current is None:
            raise Conflict("the lesson has no record to correct", code="not_recorded")
        topic, homework = self._content(cmd.topic, cmd.homework, cmd.no_homework)
        if (topic, homework, cmd.no_homework) == (
            current.topic,
            current.homework,
            current.no_homework,
        ):
            return []
        reason = (
            required_text(cmd.reason, "reason", max_length=MAX_REASON_LENGTH)
            if cmd.reason is not None
            else None
        )
        events: list[LessonsEvent] = [
            LessonRecordCorrected(
                lesson_id=plan.lesson_id,
                topic=topic,
                homework=homework,
                no_homework=cmd.no_homework,
                corrected_by=cmd.corrected_by,
                reason=reason,
            )
        ]
        if homework is not None and homework != current.homework:
            events.append(self._homework_assigned(homework))
        return events

    def overdue(
        self, now: datetime, policy: DeadlineSchedule, zone: ZoneInfo
    ) -> list[LessonsEvent]:
        """At the deadline a lesson without a record is overdue — said once, however often asked."""
        self._planned()
        if self.recorded or self.cancelled or self.overdue_raised:
            return []
        deadline = self.deadline(policy, zone)
        if now < deadline:
            return []
        return [
            LessonEntryOverdue(
                **self._facts(),
                substitute_teacher_id=self.substitute_teacher_id,
                deadline=deadline,
            )
        ]

    # --- rules ---------------------------------------------------------------------------------

    def _planned(self) -> ScheduleLesson:
        if self.plan is None:
            raise missing("lesson", "lesson_id")
        return self.plan

    def _open_plan(self) -> ScheduleLesson:
        plan = self._planned()
        if self.cancelled:
            raise Conflict("the lesson was cancelled", code="lesson_cancelled")
        return plan

    def _authorise(self, person_id: UUID) -> None:
        if not self.may_record(person_id):
            raise Forbidden("only the lesson's teacher or its substitute may record it")

    def _content(
        self, topic: str, homework: Homework | None, no_homework: bool
    ) -> tuple[str, Homework | None]:
        """The topic is required, and exactly one of homework or "no homework" (rule 2)."""
        clean_topic = required_text(topic, "topic", max_length=MAX_TOPIC_LENGTH)
        if homework is None and not no_homework:
            raise Invalid(
                'give the homework or mark the lesson "no homework"',
                field="homework",
                code="homework_or_none_required",
            )
        if homework is not None and no_homework:
            raise Invalid(
                'a lesson cannot have homework and "no homework" at once',
                field="homework",
                code="homework_and_none",
            )
        if homework is None:
            return clean_topic, None
        text = required_text(homework.text, "homework.text", max_length=MAX_HOMEWORK_LENGTH)
        links = tuple(link.strip() for link in homework.links)
        if any(not link.startswith(("https://", "http://")) for link in links):
            raise Invalid("homework links must be web addresses", field="homework.links")
        lesson_date = self._planned().lesson_date
        if not 1 <= (homework.due_date - lesson_date).days <= MAX_HOMEWORK_DAYS:
            last = lesson_date + timedelta(days=MAX_HOMEWORK_DAYS)
            raise Invalid(
                f"homework is due after the lesson and within {MAX_HOMEWORK_DAYS} days of it: "
                f"{(lesson_date + timedelta(days=1)).isoformat()} to {last.isoformat()}",
                field="homework.due_date",
                code="out_of_range",
                details={
                    "first_day": (lesson_date + timedelta(days=1)).isoformat(),
                    "last_day": last.isoformat(),
                },
            )
        return clean_topic, Homework(text=text, links=links, due_date=homework.due_date)

    def _facts(self) -> dict[str, Any]:
        """What every report about this lesson names: which lesson, class, subject, teacher, day."""
        return self._planned().model_dump(include=_REPORTED)

    def _homework_assigned(self, homework: Homework) -> HomeworkAssigned:
        facts = self._facts()
        del facts["teacher_id"]
        return HomeworkAssigned(**facts, homework=homework)

    # --- folding -------------------------------------------------------------------------------

    def when_LessonScheduled(self, event: LessonScheduled) -> None:
        self.plan = ScheduleLesson(**event.model_dump())

    def when_LessonSubstituted(self, event: LessonSubstituted) -> None:
        self.substitute_teacher_id = event.substitute_teacher_id

    def when_LessonCancelled(self, event: LessonCancelled) -> None:
        self.cancelled = True

    def when_LessonRecorded(self, event: LessonRecorded) -> None:
        self.history.append(
            LessonRecord(
                topic=event.topic,
                homework=event.homework,
                no_homework=event.no_homework,
                entered_by=event.recorded_by,
            )
        )
        self.late = event.late
        self.minutes_late = event.minutes_late

    def when_LessonRecordCorrected(self, event: LessonRecordCorrected) -> None:
        self.history.append(
            LessonRecord(
                topic=event.topic,
                homework=event.homework,
                no_homework=event.no_homework,
                entered_by=event.corrected_by,
                correction_reason=event.reason,
            )
        )

    def when_LessonEntryOverdue(self, event: LessonEntryOverdue) -> None:
        self.overdue_raised = True
