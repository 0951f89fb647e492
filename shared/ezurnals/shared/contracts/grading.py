"""Integration events of the grading service: scales, grades with their history, period grades.

Grade values travel as the scale's own text ("7", "i", "ni", "nv", "A", "85%") together with the
scale kind and, where the value counts in an average, its points — so a consumer never has to
re-interpret a value with a table that may since have changed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ezurnals.shared.contracts.base import IntegrationEvent, contract
from ezurnals.shared.contracts.school_year import SchoolYear, earlier_spelling

GradeLevel = Annotated[int, Field(ge=1, le=12)]
Points = Annotated[int, Field(ge=1, le=10)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class ScaleKind(StrEnum):
    """How a grade is written: 1–10 points, ieskaitīts/neieskaitīts, S/T/A/P levels or percent."""

    TEN_POINT = "ten_point"
    PASS_FAIL = "pass_fail"
    LEVELS = "levels"
    PERCENT = "percent"


class WorkKind(StrEnum):
    """What a grade was given for."""

    TEST = "test"
    HOMEWORK = "homework"
    ORAL = "oral"
    PROJECT = "project"
    CLASSWORK = "classwork"
    PRACTICAL = "practical"
    OTHER = "other"


class Term(StrEnum):
    """The semester of the school calendar a piece of work falls in."""

    SEMESTER1 = "semester1"
    SEMESTER2 = "semester2"


class PeriodKind(StrEnum):
    """A period for which a period grade is given (rule 6)."""

    SEMESTER1 = "semester1"
    SEMESTER2 = "semester2"
    ANNUAL = "annual"
    FINAL = "final"
    EXAM = "exam"
    REEXAM = "reexam"


class YearGradeType(StrEnum):
    """What a report card must state for the year's grade: gada (annual) or gala (final)."""

    GADA = "gada"
    GALA = "gala"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GradeBand(_Part):
    """A range of grade levels (klases), e.g. 1–3 or 4–12, both ends included."""

    first: GradeLevel
    last: GradeLevel

    def covers(self, grade_level: int) -> bool:
        return self.first <= grade_level <= self.last

    def overlaps(self, other: GradeBand) -> bool:
        return self.first <= other.last and other.first <= self.last


class PercentBand(_Part):
    """A row of a school's %→points table: from ``min_percent`` up a result earns ``points``."""

    min_percent: Annotated[int, Field(ge=0, le=100)]
    points: Points


class LevelBand(_Part):
    """One row of the 10-point → learning level mapping, e.g. 6–8 points → "A"."""

    min_points: Points
    max_points: Points
    level: Annotated[str, Field(pattern=r"^[STAP]$")]


class GradingEvent(IntegrationEvent):
    service: ClassVar[str] = "grading"


@contract
class GradeScaleDefined(GradingEvent):
    """A school set the scale used for a grade band, optionally only for one subject.

    Defining the same ``scale_id`` again replaces the earlier definition.
    """

    event_type: ClassVar[str] = "GradeScaleDefined"
    schema_version: ClassVar[int] = 1

    scale_id: UUID
    school_id: UUID
    kind: ScaleKind
    band: GradeBand
    subject_id: UUID | None = None
    #: The lowest passing points on a 10-point scale (4 in Latvia).
    lowest_pass: Points = 4
    #: The %→points table; filled for percent scales only.
    percent_table: tuple[PercentBand, ...] = ()
    #: 10-point → level mapping; filled for levels scales only.
    level_bands: tuple[LevelBand, ...] = ()
    defined_by: UUID | None = None
    defined_at: datetime


@contract
class PeriodGradeDeadlineSet(GradingEvent):
    """The date by which a period's grades must be entered, for the whole school or a grade band."""

    event_type: ClassVar[str] = "PeriodGradeDeadlineSet"
    #: v2: the school year in its one spelling, "2025/2026" (v1 wrote "2025/26").
    schema_version: ClassVar[int] = 2

    school_id: UUID
    school_year: SchoolYear
    period: PeriodKind
    due_on: date
    band: GradeBand | None = None
    set_by: UUID | None = None
    set_at: datetime


class _ClassSubjectEvent(GradingEvent):
    school_id: UUID
    class_id: UUID
    subject_id: UUID
    school_year: SchoolYear


@contract
class GradeRecorded(_ClassSubjectEvent):
    """A teacher gave a student a grade for a piece of work."""

    event_type: ClassVar[str] = "GradeRecorded"
    #: v2: the school year in its one spelling, "2025/2026" (v1 wrote "2025/26").
    schema_version: ClassVar[int] = 2

    grade_id: UUID
    student_id: UUID
    lesson_id: UUID | None = None
    term: Term
    given_on: date
    work_title: Text
    work_kind: WorkKind
    summative: bool
    weight: Annotated[Decimal, Field(gt=0, le=100)] = Decimal(1)
    scale: ScaleKind
    #: The value as written on its scale: "7", "i", "ni", "nv", "A", "85%".
    value: Annotated[str, Field(min_length=1, max_length=8)]
    #: The points the value counts as in an average; None for nv, i/ni and levels.
    points: Points | None = None
    recorded_by: UUID
    recorded_at: datetime


@contract
class GradeCorrected(_ClassSubjectEvent):
    """A grade was changed; the old value stays in the history ("5|7" in a diary)."""

    event_type: ClassVar[str] = "GradeCorrected"
    #: v2: the school year in its one spelling, "2025/2026" (v1 wrote "2025/26").
    schema_version: ClassVar[int] = 2

    grade_id: UUID
    student_id: UUID
    scale: ScaleKind
    old_value: str
    new_value: Annotated[str, Field(min_length=1, max_length=8)]
    old_points: Points | None = None
    new_points: Points | None = None
    reason: Text
    corrected_by: UUID
    corrected_at: datetime


@contract
class PeriodGradeSet(_ClassSubjectEvent):
    """A teacher confirmed the suggested period grade, or overrode it, for one student."""

    event_type: ClassVar[str] = "PeriodGradeSet"
    #: v2: the school year in its one spelling, "2025/2026" (v1 wrote "2025/26").
    schema_version: ClassVar[int] = 2

    student_id: UUID
    period: PeriodKind
    scale: ScaleKind
    value: Annotated[str, Field(min_length=1, max_length=8)]
    points: Points | None = None
    #: What the school's rule computed from the period's grades, if it could compute anything.
    suggested_value: str | None = None
    overridden: bool
    set_by: UUID
    set_at: datetime


@contract
class GradeFinalized(_ClassSubjectEvent):
    """A student's period grade became final when the class-subject period was finalised."""

    event_type: ClassVar[str] = "GradeFinalized"
    #: v2: the school year in its one spelling, "2025/2026" (v1 wrote "2025/26").
    schema_version: ClassVar[int] = 2

    student_id: UUID
    period: PeriodKind
    scale: ScaleKind
    value: str
    points: Points | None = None
    #: gada for an annual grade, gala for a final grade, None for other periods.
    year_grade_type: YearGradeType | None = None
    finalized_at: datetime


@contract
class PeriodFinalized(_ClassSubjectEvent):
    """A class-subject period was finalised and is locked from now on."""

    event_type: ClassVar[str] = "PeriodFinalized"
    #: v2: the school year in its one spelling, "2025/2026" (v1 wrote "2025/26").
    schema_version: ClassVar[int] = 2

    period: PeriodKind
    student_ids: tuple[UUID, ...]
    finalized_by: UUID
    finalized_at: datetime


@contract
class PeriodUnlocked(_ClassSubjectEvent):
    """A deputy director reopened a finalised period; the reason is kept for the record."""

    event_type: ClassVar[str] = "PeriodUnlocked"
    #: v2: the school year in its one spelling, "2025/2026" (v1 wrote "2025/26").
    schema_version: ClassVar[int] = 2

    period: PeriodKind
    reason: Text
    unlocked_by: UUID
    unlocked_at: datetime


#: How v1 wrote the school year ("2025/26"); kept to read the events written then.
ShortSchoolYear = Annotated[str, Field(pattern=r"^\d{4}/\d{2}$")]

V1_WITH_SHORT_SCHOOL_YEAR = tuple(
    earlier_spelling(m, ShortSchoolYear)
    for m in (
        PeriodGradeDeadlineSet,
        GradeRecorded,
        GradeCorrected,
        PeriodGradeSet,
        GradeFinalized,
        PeriodFinalized,
        PeriodUnlocked,
    )
)


__all__ = [
    "GradeBand",
    "GradeCorrected",
    "GradeFinalized",
    "GradeRecorded",
    "GradeScaleDefined",
    "GradingEvent",
    "LevelBand",
    "PercentBand",
    "PeriodFinalized",
    "PeriodGradeDeadlineSet",
    "PeriodGradeSet",
    "PeriodKind",
    "PeriodUnlocked",
    "ScaleKind",
    "SchoolYear",
    "Term",
    "WorkKind",
    "YearGradeType",
]
