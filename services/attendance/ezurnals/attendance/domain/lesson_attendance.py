"""Attendance of one lesson: taken once in one action, then corrected mark by mark.

"All present" is an explicit entry, so a lesson without attendance is distinguishable from a
lesson where nobody was absent. Every mark becomes an absence with an id derived from the lesson
and the student, so the same absence keeps its id through corrections and redeliveries.
"""

from __future__ import annotations

import datetime as dt
import math
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from ezurnals.attendance.domain.access import Relationships, require_take_attendance
from ezurnals.attendance.domain.policy import AbsenceCodeTable
from ezurnals.shared.contracts.attendance import (
    AbsenceCorrected,
    AbsenceRecorded,
    AttendanceEvent,
    AttendanceMark,
    AttendanceTaken,
)
from ezurnals.shared.domain import Aggregate, Command, Conflict, Invalid

ABSENCE_NAMESPACE = UUID("6f1d8a52-3c1e-4d0b-9b7e-2a41f0c9d5e3")

#: A Latvian school's standard lesson (mācību stunda), for a lesson whose end attendance does not
#: know (projected before lessons' end times were kept).
STANDARD_LESSON_MINUTES = 40


def absence_id_for(lesson_id: UUID, student_id: UUID) -> UUID:
    """The one id a student's absence from a lesson has, whoever computes it and however often."""
    return uuid5(ABSENCE_NAMESPACE, f"{lesson_id}/{student_id}")


def stream_id_for(lesson_id: UUID) -> str:
    return f"lesson-attendance-{lesson_id}"


class LessonContext(BaseModel):
    """What the handler knows about the lesson from lessons' and identity's events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lesson_id: UUID
    class_id: UUID
    date: dt.date
    starts_at: dt.datetime
    #: None while lessons' policy for the day has not arrived: the entry is not judged late.
    entry_deadline: dt.datetime | None
    roster: frozenset[UUID]
    ends_at: dt.datetime | None = None

    @property
    def minutes(self) -> int:
        """The lesson's length: a student later than that missed it, so was not late."""
        if self.ends_at is None or self.ends_at <= self.starts_at:
            return STANDARD_LESSON_MINUTES
        return math.ceil((self.ends_at - self.starts_at).total_seconds() / 60)


class MarkEntry(BaseModel):
    """A teacher's mark: no code means the school's default absent code, or its default late
    code when minutes late are given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    student_id: UUID
    code: str | None = None
    minutes_late: int | None = None


class TakeAttendance(Command):
    lesson_id: UUID
    all_present: bool = False
    marks: tuple[MarkEntry, ...] = ()


class CorrectMark(Command):
    """Change one student's mark; ``present=True`` removes the absence."""

    lesson_id: UUID
    student_id: UUID
    present: bool = False
    code: str | None = None
    minutes_late: int | None = None
    reason: str | None = Field(default=None, max_length=500)


def resolve_mark(
    codes: AbsenceCodeTable,
    student_id: UUID,
    code: str | None,
    minutes_late: int | None,
    *,
    lesson_minutes: int,
    field: str = "",
) -> AttendanceMark:
    """The mark with its code's meaning, or Invalid naming the offending field."""
    if minutes_late is not None and not 1 <= minutes_late <= lesson_minutes:
        raise Invalid(
            f"minutes late must be between 1 and {lesson_minutes} (the lesson's length)",
            field=f"{field}minutes_late",
            code="out_of_range",
            details={"min": 1, "max": lesson_minutes},
        )
    if code is None:
        entry = codes.default_absent if minutes_late is None else codes.default_late
    else:
        found = codes.entry(code)
        if found is None:
            raise Invalid(f"unknown absence code {code!r}", field=f"{field}code")
        entry = found
    if entry.is_late and minutes_late is None:
        raise Invalid(
            f"a late mark ({entry.code}) needs the minutes late", field=f"{field}minutes_late"
        )
    if not entry.is_late and minutes_late is not None:
        raise Invalid(
            f"minutes late go with a late code, not {entry.code!r}", field=f"{field}minutes_late"
        )
    return AttendanceMark(
        student_id=student_id,
        code=entry.code,
        counts_as_absence=entry.counts_as_absence,
        is_late=entry.is_late,
        excused_by_code=entry.excused,
        minutes_late=minutes_late,
    )


def minutes_after(deadline: dt.datetime, now: dt.datetime) -> int:
    """Whole minutes past the deadline, rounded up: one second late is one minute late."""
    return max(0, math.ceil((now - deadline).total_seconds() / 60))


class LessonAttendance(Aggregate[AttendanceEvent]):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.taken = False
        self.lesson_id: UUID | None = None
        self.class_id: UUID | None = None
        self.date: dt.date | None = None
        self.all_present = False
        self.late_entry = False
        self.marks: dict[UUID, AttendanceMark] = {}
        self.revision = 0
        self.corrections: list[AbsenceCorrected] = []

    def take(
        self,
        cmd: TakeAttendance,
        *,
        lesson: LessonContext,
        codes: AbsenceCodeTable,
        by: Relationships,
        now: dt.datetime,
    ) -> list[AttendanceEvent]:
        _check_lesson(cmd.lesson_id, lesson)
        require_take_attendance(by, lesson.lesson_id, lesson.class_id)
        if self.taken:
            raise Conflict("attendance of this lesson is already taken; correct the marks instead")
        if now < lesson.starts_at:
            raise Invalid("attendance can be taken once the lesson has started", field="lesson_id")
        if cmd.all_present and cmd.marks:
            raise Invalid("'all present' leaves no one to mark", field="marks")
        if not cmd.all_present and not cmd.marks:
            raise Invalid(
                "mark the absent students or say that all are present", field="all_present"
            )
        marks = self._resolve_marks(cmd.marks, lesson, codes)
        late_minutes = (
            minutes_after(lesson.entry_deadline, now) if lesson.entry_deadline is not None else 0
        )
        events: list[AttendanceEvent] = [
            AttendanceTaken(
                lesson_id=lesson.lesson_id,
                class_id=lesson.class_id,
                date=lesson.date,
                all_present=cmd.all_present,
                marks=marks,
                taken_by=by.person_id,
                late_entry=late_minutes > 0,
                late_entry_minutes=late_minutes,
            )
        ]
        events.extend(
            AbsenceRecorded(
                absence_id=absence_id_for(lesson.lesson_id, mark.student_id),
                student_id=mark.student_id,
                lesson_id=lesson.lesson_id,
                class_id=lesson.class_id,
                date=lesson.date,
                code=mark.code,
                counts_as_absence=mark.counts_as_absence,
                is_late=mark.is_late,
                excused_by_code=mark.excused_by_code,
                minutes_late=mark.minutes_late,
                recorded_by=by.person_id,
                revision=1,
            )
            for mark in marks
        )
        return events

    def correct(
        self,
        cmd: CorrectMark,
        *,
        lesson: LessonContext,
        codes: AbsenceCodeTable,
        by: Relationships,
    ) -> list[AttendanceEvent]:
        """One AbsenceCorrected, or nothing when the mark already says this."""
        _check_lesson(cmd.lesson_id, lesson)
        require_take_attendance(by, lesson.lesson_id, lesson.class_id)
        if not self.taken:
            raise Conflict("attendance of this lesson has not been taken yet")
        old = self.marks.get(cmd.student_id)
        if old is None and cmd.student_id not in lesson.roster:
            raise Invalid(
                f"student {cmd.student_id} is not in this lesson's class",
                field="student_id",
                details={"student_id": str(cmd.student_id)},
            )
        if cmd.present and (cmd.code is not None or cmd.minutes_late is not None):
            raise Invalid("a present student has no code", field="code")
        new = (
            None
            if cmd.present
            else resolve_mark(
                codes,
                cmd.student_id,
                cmd.code,
                cmd.minutes_late,
                lesson_minutes=lesson.minutes,
            )
        )
        if old == new:
            return []
        return [
            AbsenceCorrected(
                absence_id=absence_id_for(lesson.lesson_id, cmd.student_id),
                student_id=cmd.student_id,
                lesson_id=lesson.lesson_id,
                class_id=lesson.class_id,
                date=lesson.date,
                old_code=old.code if old else None,
                new_code=new.code if new else None,
                counts_as_absence=new.counts_as_absence if new else False,
                is_late=new.is_late if new else False,
                excused_by_code=new.excused_by_code if new else False,
                minutes_late=new.minutes_late if new else None,
                reason=cmd.reason,
                corrected_by=by.person_id,
                revision=self.revision + 1,
            )
        ]

    def absent_students(self) -> frozenset[UUID]:
        """Students missing from the lesson (late arrivals were there)."""
        return frozenset(s for s, mark in self.marks.items() if mark.counts_as_absence)

    @staticmethod
    def _resolve_marks(
        entries: tuple[MarkEntry, ...], lesson: LessonContext, codes: AbsenceCodeTable
    ) -> tuple[AttendanceMark, ...]:
        roster = lesson.roster
        seen: set[UUID] = set()
        marks = []
        for i, entry in enumerate(entries):
            field = f"marks[{i}]."
            if entry.student_id not in roster:
                raise Invalid(
                    f"student {entry.student_id} is not in this lesson's class",
                    field=f"{field}student_id",
                    details={"student_id": str(entry.student_id)},
                )
            if entry.student_id in seen:
                raise Invalid(
                    f"student {entry.student_id} is marked twice",
                    field=f"{field}student_id",
                    details={"student_id": str(entry.student_id)},
                )
            seen.add(entry.student_id)
            marks.append(
                resolve_mark(
                    codes,
                    entry.student_id,
                    entry.code,
                    entry.minutes_late,
                    lesson_minutes=lesson.minutes,
                    field=field,
                )
            )
        return tuple(marks)

    def when_AttendanceTaken(self, event: AttendanceTaken) -> None:
        self.taken = True
        self.lesson_id = event.lesson_id
        self.class_id = event.class_id
        self.date = event.date
        self.all_present = event.all_present
        self.late_entry = event.late_entry
        self.marks = {mark.student_id: mark for mark in event.marks}
        self.revision = max(self.revision, 1)

    def when_AbsenceCorrected(self, event: AbsenceCorrected) -> None:
        if event.new_code is None:
            self.marks.pop(event.student_id, None)
        else:
            self.marks[event.student_id] = AttendanceMark(
                student_id=event.student_id,
                code=event.new_code,
                counts_as_absence=event.counts_as_absence,
                is_late=event.is_late,
                excused_by_code=event.excused_by_code,
                minutes_late=event.minutes_late,
            )
        self.all_present = not self.marks
        self.revision = event.revision
        self.corrections.append(event)


def _check_lesson(lesson_id: UUID, lesson: LessonContext) -> None:
    if lesson_id != lesson.lesson_id:
        raise Invalid("the command is for another lesson", field="lesson_id")
