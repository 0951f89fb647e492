"""A small school for the attendance domain tests: one class, its teachers and one family."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest

from ezurnals.attendance.domain import (
    DEFAULT_CODES,
    LessonAttendance,
    LessonContext,
    Relationships,
    StudentAbsences,
    TakeAttendance,
    lesson_attendance,
    student_absences,
)
from ezurnals.attendance.domain.lesson_attendance import MarkEntry
from ezurnals.shared.contracts.attendance import AttendanceEvent, ExcuseAccepted

RIGA = dt.timezone(dt.timedelta(hours=3))  # EEST, valid for the early-October dates used here


@dataclass
class School:
    class_id: UUID = field(default_factory=uuid4)
    other_class_id: UUID = field(default_factory=uuid4)
    anna: UUID = field(default_factory=uuid4)
    berzs: UUID = field(default_factory=uuid4)
    cirulis: UUID = field(default_factory=uuid4)
    outsider: UUID = field(default_factory=uuid4)
    teacher_id: UUID = field(default_factory=uuid4)
    class_teacher_id: UUID = field(default_factory=uuid4)
    guardian_id: UUID = field(default_factory=uuid4)
    lessons: dict[dt.date, list[UUID]] = field(default_factory=dict)

    @property
    def roster(self) -> frozenset[UUID]:
        return frozenset({self.anna, self.berzs, self.cirulis})

    def lesson(self, day: dt.date, period: int = 1) -> LessonContext:
        """The ``period``-th lesson of the class on ``day`` (08:30 + 50 min per period)."""
        ids = self.lessons.setdefault(day, [])
        while len(ids) < period:
            ids.append(uuid4())
        starts = dt.datetime.combine(day, dt.time(8, 30), RIGA) + dt.timedelta(minutes=50) * (
            period - 1
        )
        return LessonContext(
            lesson_id=ids[period - 1],
            class_id=self.class_id,
            date=day,
            starts_at=starts.astimezone(dt.UTC),
            entry_deadline=dt.datetime.combine(day, dt.time(16, 0), RIGA).astimezone(dt.UTC),
            roster=self.roster,
        )

    def teacher_of(self, *lessons: LessonContext) -> Relationships:
        return Relationships(
            person_id=self.teacher_id, taught_lessons=frozenset(x.lesson_id for x in lessons)
        )

    @property
    def class_teacher(self) -> Relationships:
        return Relationships(
            person_id=self.class_teacher_id,
            homeroom_classes=frozenset({self.class_id}),
            homeroom_students=self.roster,
        )

    @property
    def guardian(self) -> Relationships:
        return Relationships(person_id=self.guardian_id, children=frozenset({self.anna}))

    def absent(
        self, lesson: LessonContext, *students: UUID, code: str | None = None
    ) -> LessonAttendance:
        """Attendance taken for ``lesson`` with ``students`` absent, decided and applied."""
        attendance = LessonAttendance(lesson_attendance.stream_id_for(lesson.lesson_id))
        cmd = TakeAttendance(
            lesson_id=lesson.lesson_id,
            all_present=not students,
            marks=tuple(MarkEntry(student_id=s, code=code) for s in students),
        )
        events = attendance.take(
            cmd,
            lesson=lesson,
            codes=DEFAULT_CODES,
            by=self.teacher_of(lesson),
            now=lesson.starts_at + dt.timedelta(minutes=5),
        )
        return attendance.applied(events)

    def absence_events(
        self,
        lesson: LessonContext,
        student: UUID,
        code: str | None = None,
        minutes_late: int | None = None,
    ) -> list[AttendanceEvent]:
        """The AbsenceRecorded of ``student``'s mark in ``lesson`` (absent unless told)."""
        attendance = LessonAttendance(lesson_attendance.stream_id_for(lesson.lesson_id))
        mark = MarkEntry(student_id=student, code=code, minutes_late=minutes_late)
        events = attendance.take(
            TakeAttendance(lesson_id=lesson.lesson_id, marks=(mark,)),
            lesson=lesson,
            codes=DEFAULT_CODES,
            by=self.teacher_of(lesson),
            now=lesson.starts_at,
        )
        return [e for e in events if e.event_type == "AbsenceRecorded"]

    def accepted(
        self,
        student: UUID,
        first: dt.date,
        last: dt.date,
        *,
        document_type: str = "doctor_certificate",
        request_id: UUID | None = None,
    ) -> ExcuseAccepted:
        return ExcuseAccepted.model_validate(
            {
                "request_id": request_id or uuid4(),
                "student_id": student,
                "document_type": document_type,
                "accepted_by": self.class_teacher_id,
                "covers_from": first,
                "covers_to": last,
            }
        )

    def student_absences(self, student: UUID) -> StudentAbsences:
        return StudentAbsences(student_absences.stream_id_for(student))


@pytest.fixture
def school() -> School:
    return School()
