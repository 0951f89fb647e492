"""The grade book of one class in one subject for one school year.

Grades, their corrections and the class-subject periods (semester, annual, final, exam, re-exam)
live in one stream, so a finalised period and the grades it covers can never disagree: a
correction that races a finalisation loses on the stream version instead of slipping past the lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Self, TypedDict
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ezurnals.grading.domain.authorization import Caller, can_unlock_period
from ezurnals.grading.domain.missing import ClassSubjectProgress
from ezurnals.grading.domain.scales import GradeScale, GradeValue
from ezurnals.grading.domain.sitters import sitters
from ezurnals.grading.domain.suggestion import DEFAULT_RULE, CountedGrade, SuggestionRule
from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.contracts.grading import (
    GradeCorrected,
    GradeFinalized,
    GradeRecorded,
    PeriodFinalized,
    PeriodGradeSet,
    PeriodKind,
    PeriodUnlocked,
    ScaleKind,
    Term,
    WorkKind,
    YearGradeType,
)
from ezurnals.shared.domain import Aggregate, Command, Conflict, Forbidden, Invalid, NotFound

_STREAM_PREFIX = "grade-book"

#: Which terms' grades a period is computed from — and so which grades its lock freezes.
PERIOD_TERMS: dict[PeriodKind, frozenset[Term]] = {
    PeriodKind.SEMESTER1: frozenset({Term.SEMESTER1}),
    PeriodKind.SEMESTER2: frozenset({Term.SEMESTER2}),
    PeriodKind.ANNUAL: frozenset(Term),
    PeriodKind.FINAL: frozenset(Term),
    PeriodKind.EXAM: frozenset(),
    PeriodKind.REEXAM: frozenset(),
}

YEAR_GRADE_TYPES: dict[PeriodKind, YearGradeType] = {
    PeriodKind.ANNUAL: YearGradeType.GADA,
    PeriodKind.FINAL: YearGradeType.GALA,
}

PERIOD_LOCKED = "period_locked"
NOT_SITTING = "not_sitting"


class _BookIds(TypedDict):
    school_id: UUID
    class_id: UUID
    subject_id: UUID
    school_year: str


@dataclass(frozen=True)
class GradeBookKey:
    """Whose grade book it is; also its stream id."""

    school_id: UUID
    class_id: UUID
    subject_id: UUID
    school_year: str

    @property
    def stream_id(self) -> str:
        return ":".join(
            (
                _STREAM_PREFIX,
                str(self.school_id),
                str(self.class_id),
                str(self.subject_id),
                self.school_year,
            )
        )

    @classmethod
    def from_stream_id(cls, stream_id: str) -> GradeBookKey:
        parts = stream_id.split(":")
        if len(parts) != 5 or parts[0] != _STREAM_PREFIX:
            raise ValueError(f"not a grade-book stream: {stream_id!r}")
        return cls(UUID(parts[1]), UUID(parts[2]), UUID(parts[3]), parts[4])


# --- commands -------------------------------------------------------------------------------


class Work(BaseModel):
    """The piece of work a batch of grades is for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=500)]
    kind: WorkKind
    summative: bool = True
    weight: Annotated[Decimal, Field(gt=0, le=100)] = Decimal(1)
    lesson_id: UUID | None = None
    given_on: date
    #: The semester ``given_on`` falls in, per the school calendar.
    term: Term


class Mark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    grade_id: UUID
    student_id: UUID
    value: str


class RecordGrades(Command):
    """Grade one student, or a whole class at once, for one piece of work."""

    work: Work
    marks: Annotated[tuple[Mark, ...], Field(min_length=1)]


class CorrectGrade(Command):
    grade_id: UUID
    value: str
    reason: str


class PeriodGradeEntry(BaseModel):
    """One student's period grade; without a value the suggested one is confirmed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    student_id: UUID
    value: str | None = None


class SetPeriodGrades(Command):
    period: PeriodKind
    entries: Annotated[tuple[PeriodGradeEntry, ...], Field(min_length=1)]


class FinalizePeriod(Command):
    period: PeriodKind


class UnlockPeriod(Command):
    period: PeriodKind
    reason: str


# --- state ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    old_value: str
    new_value: str
    reason: str
    corrected_by: UUID
    corrected_at: datetime


@dataclass(frozen=True)
class Grade:
    grade_id: UUID
    student_id: UUID
    term: Term
    given_on: date
    lesson_id: UUID | None
    work_title: str
    work_kind: WorkKind
    summative: bool
    weight: Decimal
    scale: ScaleKind
    value: str
    points: int | None
    recorded_by: UUID
    recorded_at: datetime
    history: tuple[Correction, ...] = ()

    @property
    def corrected(self) -> bool:
        return bool(self.history)

    @property
    def counted(self) -> CountedGrade:
        return CountedGrade(points=self.points, summative=self.summative, weight=self.weight)


@dataclass(frozen=True)
class PeriodGrade:
    value: str
    points: int | None
    scale: ScaleKind
    suggested_value: str | None
    overridden: bool
    set_by: UUID
    set_at: datetime


@dataclass(frozen=True)
class Unlock:
    reason: str
    unlocked_by: UUID
    unlocked_at: datetime


@dataclass
class ClassSubjectPeriod:
    """One period of the class and subject: its period grades and whether it is locked."""

    period: PeriodKind
    grades: dict[UUID, PeriodGrade] = field(default_factory=dict)
    locked: bool = False
    finalized_by: UUID | None = None
    finalized_at: datetime | None = None
    unlocks: list[Unlock] = field(default_factory=list)

    def without_grade(self, takers: Set[UUID]) -> frozenset[UUID]:
        return frozenset(takers) - self.grades.keys()


def suggested(
    period: PeriodKind,
    grades: Iterable[Grade],
    scale: GradeScale,
    rule: SuggestionRule = DEFAULT_RULE,
) -> GradeValue | None:
    """The period grade ``rule`` computes from one student's ``grades`` of the period: for the
    grade book's decisions and for the sheet read from the views alike."""
    terms = PERIOD_TERMS[period]
    points = rule.suggest(g.counted for g in grades if g.term in terms)
    return None if points is None else scale.period_scale.from_points(points)


def annual_grades(annual: ClassSubjectPeriod) -> dict[UUID, GradeValue]:
    """Each student's annual grade as set so far (finalised or not)."""
    return {s: GradeValue(g.value, g.points) for s, g in annual.grades.items()}


def without_period_grade(
    periods: Mapping[PeriodKind, ClassSubjectPeriod],
    period: PeriodKind,
    roster: Set[UUID],
    scale: GradeScale,
) -> frozenset[UUID]:
    """The students who take ``period``'s grade and have none yet."""
    takers = sitters(period, roster, annual_grades(periods[PeriodKind.ANNUAL]), scale)
    return periods[period].without_grade(takers)


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise Invalid("say why", field="reason")
    return reason


def _require_enrolled(students: Set[UUID], roster: Set[UUID]) -> None:
    strangers = sorted(str(s) for s in students - roster)
    if strangers:
        raise Invalid(
            "not enrolled in this class: " + ", ".join(strangers),
            field="student_id",
            details={"students": strangers},
        )


def _parse(scale: GradeScale, raw: str, student_id: UUID) -> GradeValue:
    """Parse a value, naming the student whose value is off-scale in a whole-class batch."""
    try:
        return scale.parse(raw)
    except Invalid as err:
        raise Invalid(
            err.message, field="value", details={**err.details, "student_id": str(student_id)}
        ) from None


class GradeBook(Aggregate[IntegrationEvent]):
    """Grades and period grades of one class in one subject for one school year."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.key = GradeBookKey.from_stream_id(stream_id)
        self.grades: dict[UUID, Grade] = {}
        self.periods: dict[PeriodKind, ClassSubjectPeriod] = {
            kind: ClassSubjectPeriod(kind) for kind in PeriodKind
        }

    @classmethod
    def for_key(cls, key: GradeBookKey) -> Self:
        return cls(key.stream_id)

    def _ids(self) -> _BookIds:
        k = self.key
        return _BookIds(
            school_id=k.school_id,
            class_id=k.class_id,
            subject_id=k.subject_id,
            school_year=k.school_year,
        )

    # --- queries ---

    def grades_of(self, student_id: UUID) -> list[Grade]:
        return [g for g in self.grades.values() if g.student_id == student_id]

    def locking_period(self, term: Term) -> PeriodKind | None:
        """The finalised period that freezes a term's grades, if any."""
        for kind, period in self.periods.items():
            if period.locked and term in PERIOD_TERMS[kind]:
                return kind
        return None

    def suggest(
        self,
        period: PeriodKind,
        student_id: UUID,
        scale: GradeScale,
        rule: SuggestionRule = DEFAULT_RULE,
    ) -> GradeValue | None:
        """The period grade the school's rule computes from the student's grades of the period."""
        return suggested(period, self.grades_of(student_id), scale, rule)

    def annual_grades(self) -> dict[UUID, GradeValue]:
        """Each student's annual grade as set so far (finalised or not)."""
        return annual_grades(self.periods[PeriodKind.ANNUAL])

    def sitters(self, period: PeriodKind, roster: Set[UUID], scale: GradeScale) -> frozenset[UUID]:
        """The enrolled students who take ``period``'s grade (see :func:`sitters`)."""
        return sitters(period, roster, self.annual_grades(), scale)

    def students_without_period_grade(
        self, period: PeriodKind, roster: Set[UUID], scale: GradeScale
    ) -> frozenset[UUID]:
        return without_period_grade(self.periods, period, roster, scale)

    def progress(
        self, period: PeriodKind, roster: Set[UUID], grade_level: int
    ) -> ClassSubjectProgress:
        """This book's line in the "missing period grades" view."""
        state = self.periods[period]
        return ClassSubjectProgress(
            class_id=self.key.class_id,
            subject_id=self.key.subject_id,
            grade_level=grade_level,
            roster=frozenset(roster),
            graded=frozenset(state.grades),
            finalized=state.locked,
            annual=self.annual_grades(),
        )

    # --- decisions ---

    def _refuse_if_locked(self, term: Term) -> None:
        locked_by = self.locking_period(term)
        if locked_by is not None:
            raise Conflict(
                f"the {locked_by.value} period is finalised; a deputy director must unlock it",
                code=PERIOD_LOCKED,
                details={"period": locked_by.value},
            )

    def _refuse_if_period_locked(self, period: PeriodKind) -> None:
        if self.periods[period].locked:
            raise Conflict(
                f"the {period.value} period is finalised; a deputy director must unlock it",
                code=PERIOD_LOCKED,
                details={"period": period.value},
            )

    def _require_sitting(
        self, period: PeriodKind, students: Set[UUID], roster: Set[UUID], scale: GradeScale
    ) -> None:
        others = sorted(str(s) for s in students - self.sitters(period, roster, scale))
        if others:
            raise Invalid(
                "a re-exam grade is only for a student whose annual grade fails: "
                + ", ".join(others),
                field="student_id",
                code=NOT_SITTING,
                details={"students": others},
            )

    def record(
        self,
        cmd: RecordGrades,
        *,
        roster: Set[UUID],
        scale: GradeScale,
        by: UUID,
        now: datetime,
    ) -> list[IntegrationEvent]:
        """Grade the students named in ``cmd`` on the scale of this class and subject."""
        work = cmd.work
        self._refuse_if_locked(work.term)
        students = [m.student_id for m in cmd.marks]
        if len(set(students)) != len(students):
            raise Invalid("a student is graded twice for the same work", field="marks")
        _require_enrolled(set(students), roster)
        if len({m.grade_id for m in cmd.marks}) != len(cmd.marks):
            raise Invalid("two marks share a grade id", field="grade_id")
        taken = sorted(str(m.grade_id) for m in cmd.marks if m.grade_id in self.grades)
        if taken:
            raise Conflict("grade id already used", code="grade_exists", details={"ids": taken})
        events: list[IntegrationEvent] = []
        for mark in cmd.marks:
            value = _parse(scale, mark.value, mark.student_id)
            events.append(
                GradeRecorded(
                    **self._ids(),
                    grade_id=mark.grade_id,
                    student_id=mark.student_id,
                    lesson_id=work.lesson_id,
                    term=work.term,
                    given_on=work.given_on,
                    work_title=work.title,
                    work_kind=work.kind,
                    summative=work.summative,
                    weight=work.weight,
                    scale=scale.kind,
                    value=value.text,
                    points=value.points,
                    recorded_by=by,
                    recorded_at=now,
                )
            )
        return events

    def correct(
        self, cmd: CorrectGrade, *, scale: GradeScale, by: UUID, now: datetime
    ) -> list[IntegrationEvent]:
        """Change a grade's value; the old value, who, when and why stay in its history."""
        grade = self.grades.get(cmd.grade_id)
        if grade is None:
            raise NotFound("no such grade in this grade book", field="grade_id")
        self._refuse_if_locked(grade.term)
        reason = _require_reason(cmd.reason)
        value = _parse(scale, cmd.value, grade.student_id)
        if value.text == grade.value:
            raise Invalid(f"the grade already is {grade.value}", field="value")
        return [
            GradeCorrected(
                **self._ids(),
                grade_id=grade.grade_id,
                student_id=grade.student_id,
                scale=scale.kind,
                old_value=grade.value,
                new_value=value.text,
                old_points=grade.points,
                new_points=value.points,
                reason=reason,
                corrected_by=by,
                corrected_at=now,
            )
        ]

    def set_period_grades(
        self,
        cmd: SetPeriodGrades,
        *,
        roster: Set[UUID],
        scale: GradeScale,
        rule: SuggestionRule = DEFAULT_RULE,
        by: UUID,
        now: datetime,
    ) -> list[IntegrationEvent]:
        """Confirm the suggested period grade or override it, for one student or many."""
        self._refuse_if_period_locked(cmd.period)
        students = [e.student_id for e in cmd.entries]
        if len(set(students)) != len(students):
            raise Invalid("a student appears twice", field="entries")
        _require_enrolled(set(students), roster)
        self._require_sitting(cmd.period, set(students), roster, scale)
        period_scale = scale.period_scale
        events: list[IntegrationEvent] = []
        for entry in cmd.entries:
            suggested = self.suggest(cmd.period, entry.student_id, scale, rule)
            if entry.value is not None:
                value = _parse(period_scale, entry.value, entry.student_id)
            elif suggested is not None:
                value = suggested
            else:
                raise Invalid(
                    "there is nothing to suggest from; give the period grade",
                    field="value",
                    details={"student_id": str(entry.student_id)},
                )
            events.append(
                PeriodGradeSet(
                    **self._ids(),
                    student_id=entry.student_id,
                    period=cmd.period,
                    scale=period_scale.kind,
                    value=value.text,
                    points=value.points,
                    suggested_value=None if suggested is None else suggested.text,
                    overridden=suggested is not None and suggested.text != value.text,
                    set_by=by,
                    set_at=now,
                )
            )
        return events

    def finalize(
        self,
        cmd: FinalizePeriod,
        *,
        roster: Set[UUID],
        scale: GradeScale,
        by: UUID,
        now: datetime,
    ) -> list[IntegrationEvent]:
        """Publish the period grade of every enrolled student who takes it as final and lock the
        period; a re-exam asks only for the students who sit it."""
        period = self.periods[cmd.period]
        self._refuse_if_period_locked(cmd.period)
        takers = self.sitters(cmd.period, roster, scale)
        missing = sorted(str(s) for s in period.without_grade(takers))
        if missing:
            raise Invalid(
                f"{len(missing)} student(s) still have no {cmd.period.value} grade",
                field="period",
                details={"students": missing},
            )
        students = sorted(takers, key=str)
        events: list[IntegrationEvent] = []
        for student_id in students:
            grade = period.grades[student_id]
            events.append(
                GradeFinalized(
                    **self._ids(),
                    student_id=student_id,
                    period=cmd.period,
                    scale=grade.scale,
                    value=grade.value,
                    points=grade.points,
                    year_grade_type=YEAR_GRADE_TYPES.get(cmd.period),
                    finalized_at=now,
                )
            )
        events.append(
            PeriodFinalized(
                **self._ids(),
                period=cmd.period,
                student_ids=tuple(students),
                finalized_by=by,
                finalized_at=now,
            )
        )
        return events

    def unlock(self, cmd: UnlockPeriod, *, caller: Caller, now: datetime) -> list[IntegrationEvent]:
        """Reopen a finalised period: a (deputy) director only, always with a reason."""
        if not can_unlock_period(caller, self.key.school_id):
            raise Forbidden("only a deputy director may unlock a finalised period")
        reason = _require_reason(cmd.reason)
        if not self.periods[cmd.period].locked:
            raise Conflict(f"the {cmd.period.value} period is not locked", code="period_not_locked")
        return [
            PeriodUnlocked(
                **self._ids(),
                period=cmd.period,
                reason=reason,
                unlocked_by=caller.person_id,
                unlocked_at=now,
            )
        ]

    # --- evolution ---

    def when_GradeRecorded(self, e: GradeRecorded) -> None:
        self.grades[e.grade_id] = Grade(
            grade_id=e.grade_id,
            student_id=e.student_id,
            term=e.term,
            given_on=e.given_on,
            lesson_id=e.lesson_id,
            work_title=e.work_title,
            work_kind=e.work_kind,
            summative=e.summative,
            weight=e.weight,
            scale=e.scale,
            value=e.value,
            points=e.points,
            recorded_by=e.recorded_by,
            recorded_at=e.recorded_at,
        )

    def when_GradeCorrected(self, e: GradeCorrected) -> None:
        grade = self.grades[e.grade_id]
        correction = Correction(e.old_value, e.new_value, e.reason, e.corrected_by, e.corrected_at)
        self.grades[e.grade_id] = replace(
            grade,
            scale=e.scale,
            value=e.new_value,
            points=e.new_points,
            history=(*grade.history, correction),
        )

    def when_PeriodGradeSet(self, e: PeriodGradeSet) -> None:
        self.periods[e.period].grades[e.student_id] = PeriodGrade(
            value=e.value,
            points=e.points,
            scale=e.scale,
            suggested_value=e.suggested_value,
            overridden=e.overridden,
            set_by=e.set_by,
            set_at=e.set_at,
        )

    def when_PeriodFinalized(self, e: PeriodFinalized) -> None:
        period = self.periods[e.period]
        period.locked = True
        period.finalized_by = e.finalized_by
        period.finalized_at = e.finalized_at

    def when_PeriodUnlocked(self, e: PeriodUnlocked) -> None:
        period = self.periods[e.period]
        period.locked = False
        period.unlocks.append(Unlock(e.reason, e.unlocked_by, e.unlocked_at))
