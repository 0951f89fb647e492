"""Pure views over the attendance aggregates: what the family, the class teacher and the canteen
read. Hours are lesson hours (stundas): each missed lesson counts as one."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from ezurnals.attendance.domain.lesson_attendance import LessonAttendance
from ezurnals.attendance.domain.student_absences import Absence, StudentAbsences, month_of
from ezurnals.shared.contracts.attendance import DocumentType, ExcuseSource


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class MonthlyAbsences(_Row):
    month: str
    excused_hours: int
    unexcused_hours: int
    late_arrivals: int
    late_minutes: int

    @property
    def absent_hours(self) -> int:
        return self.excused_hours + self.unexcused_hours


def monthly_absences(student: StudentAbsences) -> list[MonthlyAbsences]:
    """A student's absences per month, oldest month first; months without marks are left out."""
    months: dict[str, list[Absence]] = {}
    for absence in student.absences:
        months.setdefault(month_of(absence.date), []).append(absence)
    rows = []
    for month, absences in sorted(months.items()):
        missed = [a for a in absences if a.counts_as_absence]
        late = [a for a in absences if a.is_late]
        unexcused = sum(1 for a in missed if student.is_unexcused_absence(a))
        rows.append(
            MonthlyAbsences(
                month=month,
                excused_hours=len(missed) - unexcused,
                unexcused_hours=unexcused,
                late_arrivals=len(late),
                late_minutes=sum(a.minutes_late or 0 for a in late),
            )
        )
    return rows


class ExcuseRecord(_Row):
    """Who excused an absence, when, and against which document (rule 4: the history is kept).

    ``excused_as`` is the capacity the person acted in (class teacher, deputy director …) when
    they themselves recorded the excuse; it is None when the system settled it later from a
    request they had accepted."""

    absence_id: UUID
    student_id: UUID
    lesson_id: UUID
    date: dt.date
    excuse_id: UUID
    source: ExcuseSource
    document_type: DocumentType
    reference: str | None
    excused_by: UUID
    excused_as: str | None
    excused_at: dt.datetime


class UnexcusedAbsence(_Row):
    student_id: UUID
    absence_id: UUID
    lesson_id: UUID
    date: dt.date
    code: str | None


def unexcused_absences(
    students: Iterable[StudentAbsences], class_id: UUID
) -> list[UnexcusedAbsence]:
    """A class's absences still waiting for an excuse, by date."""
    rows = [
        UnexcusedAbsence(
            student_id=student.student_id,
            absence_id=absence.absence_id,
            lesson_id=absence.lesson_id,
            date=absence.date,
            code=absence.code,
        )
        for student in students
        for absence in student.absences
        if absence.class_id == class_id and student.is_unexcused_absence(absence)
    ]
    return sorted(rows, key=lambda r: (r.date, str(r.student_id), str(r.lesson_id)))


class ClassOfDay(_Row):
    class_id: UUID
    name: str
    enrolled: int


class DailyAttendanceRow(_Row):
    class_name: str
    enrolled: int
    present: int
    absent: int
    lessons_taken: int


def daily_attendance(
    day: dt.date, classes: Iterable[ClassOfDay], lessons: Iterable[LessonAttendance]
) -> list[DailyAttendanceRow]:
    """Per class, who is in school on ``day`` so far: a student is absent when every lesson of
    the class taken that day marks them absent; a class with no lesson taken yet shows all
    enrolled students present and 0 lessons taken."""
    absent_in: dict[UUID, list[frozenset[UUID]]] = {}
    for lesson in lessons:
        if lesson.taken and lesson.date == day and lesson.class_id is not None:
            absent_in.setdefault(lesson.class_id, []).append(lesson.absent_students())
    rows = []
    for klass in sorted(classes, key=lambda c: _natural(c.name)):
        taken = absent_in.get(klass.class_id, [])
        absent = len(frozenset.intersection(*taken)) if taken else 0
        rows.append(
            DailyAttendanceRow(
                class_name=klass.name,
                enrolled=klass.enrolled,
                present=max(klass.enrolled - absent, 0),
                absent=absent,
                lessons_taken=len(taken),
            )
        )
    return rows


def _natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting "2.a" before "10.a"."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part
    )


DAILY_REPORT_HEADER = ("date", "class", "enrolled", "present", "absent", "lessons_taken")


def daily_attendance_csv(day: dt.date, rows: Iterable[DailyAttendanceRow]) -> str:
    """The daily report as CSV text (RFC 4180, comma-separated, with a header row)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DAILY_REPORT_HEADER)
    for row in rows:
        writer.writerow(
            (
                day.isoformat(),
                row.class_name,
                row.enrolled,
                row.present,
                row.absent,
                row.lessons_taken,
            )
        )
    return out.getvalue()
