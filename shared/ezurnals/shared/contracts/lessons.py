"""Integration events of the lessons service: subjects, timetables, lessons and their records,
entry deadlines, consultations and safety briefings.

Times of day (``starts_at``, deadlines, cut-offs) are local wall-clock times in the school's time
zone; instants (``deadline`` of an overdue or late entry) are UTC. Events carry ids, never the
names of people.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ezurnals.shared.contracts.base import IntegrationEvent, contract
from ezurnals.shared.contracts.school_year import SchoolYear, earlier_spelling

#: How v1 of ``TimetableOpened`` took the school year: "2025/26" or "2025/2026".
EitherSchoolYear = Annotated[str, Field(pattern=r"^\d{4}/(\d{2}|\d{4})$")]
GradeLevel = Annotated[int, Field(ge=1, le=12)]
#: ISO weekday: 1 = Monday (pirmdiena) … 7 = Sunday.
Weekday = Annotated[int, Field(ge=1, le=7)]
#: Lesson number within the day; some schools have a "0. stunda" before the first lesson.
Period = Annotated[int, Field(ge=0, le=15)]
#: A stable key for matching and imports (e.g. "matematika", "ugunsdrosiba").
NameKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,79}$")]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Homework(_Value):
    """What the students are to do by the due date; links point to materials."""

    text: Annotated[str, Field(min_length=1, max_length=4000)]
    links: tuple[str, ...] = ()
    due_date: date


class WeeklySlot(_Value):
    """One recurring lesson of a class's week."""

    weekday: Weekday
    period: Period
    starts_at: time
    ends_at: time
    subject_id: UUID
    teacher_id: UUID
    room: str | None = None


class GradeBandDeadline(_Value):
    """The local time by which lessons of grades ``first_grade``…``last_grade`` must be entered."""

    first_grade: GradeLevel
    last_grade: GradeLevel
    deadline: time


class ConsultationKind(StrEnum):
    """Rule 2 names both: an individual consultation and a conversation with parents."""

    CONSULTATION = "consultation"
    PARENT_CONVERSATION = "parent_conversation"


class AcknowledgedBy(StrEnum):
    """How a student acknowledged a safety briefing (rule 3)."""

    PAPER = "paper"
    APP = "app"


class LessonsEvent(IntegrationEvent):
    service: ClassVar[str] = "lessons"


# --- subjects ------------------------------------------------------------------------------------


@contract
class SubjectDefined(LessonsEvent):
    """A subject of a school with its curriculum-plan hours per grade (printed on report cards)."""

    event_type: ClassVar[str] = "SubjectDefined"
    schema_version: ClassVar[int] = 1
    subject_id: UUID
    school_id: UUID
    name_key: NameKey
    #: The name as documents print it, e.g. "Matemātika" (not personal data).
    name: str
    curriculum_hours: dict[GradeLevel, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)


# --- timetable -----------------------------------------------------------------------------------


@contract
class TimetableOpened(LessonsEvent):
    """A class's timetable for one school year; the class's grade level fixes its deadlines."""

    event_type: ClassVar[str] = "TimetableOpened"
    #: v2: the school year in its one spelling, "2025/2026" (v1 took "2025/26" too).
    schema_version: ClassVar[int] = 2
    timetable_id: UUID
    school_id: UUID
    class_id: UUID
    school_year: SchoolYear
    grade_level: GradeLevel


TimetableOpenedV1 = earlier_spelling(TimetableOpened, EitherSchoolYear)


@contract
class TimetableSlotDefined(LessonsEvent):
    event_type: ClassVar[str] = "TimetableSlotDefined"
    schema_version: ClassVar[int] = 1
    timetable_id: UUID
    slot_id: UUID
    effective_from: date
    slot: WeeklySlot


@contract
class TimetableSlotChanged(LessonsEvent):
    """From ``effective_from`` on, the slot is as given; earlier lessons keep the old version."""

    event_type: ClassVar[str] = "TimetableSlotChanged"
    schema_version: ClassVar[int] = 1
    timetable_id: UUID
    slot_id: UUID
    effective_from: date
    slot: WeeklySlot


@contract
class TimetableSlotRemoved(LessonsEvent):
    event_type: ClassVar[str] = "TimetableSlotRemoved"
    schema_version: ClassVar[int] = 1
    timetable_id: UUID
    slot_id: UUID
    effective_from: date


# --- lessons -------------------------------------------------------------------------------------


@contract
class LessonScheduled(LessonsEvent):
    """A concrete lesson of the timetable on a school day. Repeated when the plan for it changes."""

    event_type: ClassVar[str] = "LessonScheduled"
    schema_version: ClassVar[int] = 1
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


@contract
class LessonSubstituted(LessonsEvent):
    """Another teacher gives this lesson on its date and may record it (rule 2)."""

    event_type: ClassVar[str] = "LessonSubstituted"
    schema_version: ClassVar[int] = 1
    lesson_id: UUID
    lesson_date: date
    substitute_teacher_id: UUID
    replaced_teacher_id: UUID


@contract
class LessonCancelled(LessonsEvent):
    event_type: ClassVar[str] = "LessonCancelled"
    schema_version: ClassVar[int] = 1
    lesson_id: UUID
    lesson_date: date
    reason: str


@contract
class LessonRecorded(LessonsEvent):
    """The topic and either homework or an explicit "no homework" (rule 2)."""

    event_type: ClassVar[str] = "LessonRecorded"
    schema_version: ClassVar[int] = 1
    lesson_id: UUID
    topic: str
    homework: Homework | None = None
    no_homework: bool = False
    recorded_by: UUID
    late: bool = False
    minutes_late: int = 0


@contract
class LessonRecordCorrected(LessonsEvent):
    """A new version of the record; the earlier versions stay in the history."""

    event_type: ClassVar[str] = "LessonRecordCorrected"
    schema_version: ClassVar[int] = 1
    lesson_id: UUID
    topic: str
    homework: Homework | None = None
    no_homework: bool = False
    corrected_by: UUID
    reason: str | None = None


@contract
class LessonEntryLate(LessonsEvent):
    """The record came after the entry deadline; visible to the administration (rule 2)."""

    event_type: ClassVar[str] = "LessonEntryLate"
    schema_version: ClassVar[int] = 1
    lesson_id: UUID
    class_id: UUID
    subject_id: UUID
    teacher_id: UUID
    recorded_by: UUID
    lesson_date: date
    deadline: datetime
    minutes_late: int


@contract
class LessonEntryOverdue(LessonsEvent):
    """Raised once, at the deadline, for a lesson still without a record."""

    event_type: ClassVar[str] = "LessonEntryOverdue"
    schema_version: ClassVar[int] = 1
    lesson_id: UUID
    class_id: UUID
    subject_id: UUID
    teacher_id: UUID
    substitute_teacher_id: UUID | None = None
    lesson_date: date
    deadline: datetime


@contract
class HomeworkAssigned(LessonsEvent):
    """Homework for the class's diary, from a record or a correction that changed it."""

    event_type: ClassVar[str] = "HomeworkAssigned"
    schema_version: ClassVar[int] = 1
    lesson_id: UUID
    class_id: UUID
    subject_id: UUID
    lesson_date: date
    homework: Homework


# --- consultations -------------------------------------------------------------------------------


@contract
class ConsultationRecorded(LessonsEvent):
    """A consultation or parent-conversation note; ``override_reason`` is set when a deputy
    director allowed it after the same-day cut-off."""

    event_type: ClassVar[str] = "ConsultationRecorded"
    schema_version: ClassVar[int] = 1
    consultation_id: UUID
    school_id: UUID
    kind: ConsultationKind
    participant_ids: tuple[UUID, ...]
    summary: str
    held_on: date
    recorded_by: UUID
    override_reason: str | None = None


# --- safety briefings ----------------------------------------------------------------------------


@contract
class BriefingTypeDefined(LessonsEvent):
    event_type: ClassVar[str] = "BriefingTypeDefined"
    schema_version: ClassVar[int] = 1
    briefing_type_id: UUID
    school_id: UUID
    name_key: NameKey
    #: The name as the printed form shows it, e.g. "Ugunsdrošība".
    name: str


@contract
class BriefingConducted(LessonsEvent):
    """A safety briefing (instruktāža) given to a class or a group of students (rule 3)."""

    event_type: ClassVar[str] = "BriefingConducted"
    schema_version: ClassVar[int] = 1
    briefing_id: UUID
    school_id: UUID
    briefing_type_id: UUID
    class_id: UUID | None = None
    student_ids: tuple[UUID, ...]
    conducted_on: date
    conducted_by: UUID
    topic: str


@contract
class BriefingAcknowledged(LessonsEvent):
    event_type: ClassVar[str] = "BriefingAcknowledged"
    schema_version: ClassVar[int] = 1
    briefing_id: UUID
    student_id: UUID
    how: AcknowledgedBy
    recorded_by: UUID


# --- policy --------------------------------------------------------------------------------------


@contract
class EntryDeadlinePolicySet(LessonsEvent):
    """A school's entry-deadline policy in force from ``effective_from`` (rules 11–12)."""

    event_type: ClassVar[str] = "EntryDeadlinePolicySet"
    schema_version: ClassVar[int] = 1
    school_id: UUID
    effective_from: date
    deadlines: tuple[GradeBandDeadline, ...]
    consultation_cutoff: time
