"""The school roll of one school year: who is enrolled in which class, since when.

One stream per school and year keeps every enrolment decision of the year consistent (a student
is in at most one class at a time) without one ever-growing stream per school. Dates mean the
first day of the new state: a student enrolled on D sits in the class from D; moved on D sits in
the new class from D; withdrawn on D no longer belongs from D.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from ezurnals.identity.domain.school import (
    SchoolClass,
    next_school_year,
    require_in_year,
)
from ezurnals.identity.domain.scoped import UUID_PATTERN
from ezurnals.shared.contracts.identity import (
    IdentityEvent,
    Promotion,
    StudentEnrolled,
    StudentMoved,
    StudentsPromoted,
    StudentWithdrawn,
    WithdrawalReason,
)
from ezurnals.shared.domain import Aggregate, Command, Conflict, Invalid, NotFound


class EnrolStudent(Command):
    student_id: UUID
    class_id: UUID
    enrolled_on: date


class MoveStudent(Command):
    student_id: UUID
    to_class_id: UUID
    moved_on: date


class WithdrawStudent(Command):
    student_id: UUID
    withdrawn_on: date
    reason: WithdrawalReason = WithdrawalReason.OTHER


class ClassPromotion(Command):
    """Where an old-year class goes: its next-grade class, or None for grade 12 (graduation)."""

    from_class_id: UUID
    to_class_id: UUID | None


class KeepBack(Command):
    """A student who repeats the grade goes to this class instead of the class's successor."""

    student_id: UUID
    to_class_id: UUID


class PromoteStudents(Command):
    promoted_on: date
    classes: tuple[ClassPromotion, ...]
    kept_back: tuple[KeepBack, ...] = ()


@dataclass(frozen=True)
class Stint:
    """Days a student spent in one class; ``last_day`` None while they are still there."""

    class_id: UUID
    first_day: date
    last_day: date | None = None

    def covers(self, day: date) -> bool:
        return self.first_day <= day and (self.last_day is None or day <= self.last_day)


@dataclass(frozen=True)
class RollState:
    """Everything the roll knows, comparable (for replay checks and tests)."""

    placements: Mapping[UUID, UUID]
    history: Mapping[UUID, tuple[Stint, ...]]
    graduates: frozenset[UUID]
    promoted_from: str | None


class SchoolRoll(Aggregate[IdentityEvent]):
    @staticmethod
    def stream(school_id: UUID, school_year: str) -> str:
        return f"roll-{school_id}-{school_year}"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        match = _STREAM.match(stream_id)
        if match is None:
            raise ValueError(f"not a school roll stream: {stream_id!r}")
        self.school_id = UUID(match[1])
        self.school_year = match[2]
        self._history: dict[UUID, list[Stint]] = {}
        self.graduates: set[UUID] = set()
        self.promoted_from: str | None = None

    # --- decisions ---------------------------------------------------------------------------

    def enrol(self, cmd: EnrolStudent, klass: SchoolClass) -> list[IdentityEvent]:
        self._check_class(klass)
        self._check_day(cmd.enrolled_on, "enrolled_on")
        if self.class_of(cmd.student_id) is not None:
            raise Conflict("the student is already enrolled in a class", field="student_id")
        left = self._last_day(cmd.student_id)
        if left is not None and cmd.enrolled_on <= left:
            raise Invalid("re-enrolment must come after the student left", field="enrolled_on")
        return [
            StudentEnrolled(
                school_id=self.school_id,
                student_id=cmd.student_id,
                class_id=klass.class_id,
                school_year=self.school_year,
                enrolled_on=cmd.enrolled_on,
            )
        ]

    def move(self, cmd: MoveStudent, klass: SchoolClass) -> list[IdentityEvent]:
        self._check_class(klass)
        self._check_day(cmd.moved_on, "moved_on")
        current = self._current(cmd.student_id)
        if current.class_id == klass.class_id:
            raise Conflict("the student is already in this class", field="to_class_id")
        if cmd.moved_on <= current.first_day:
            raise Invalid("a move must come after the student joined the class", field="moved_on")
        return [
            StudentMoved(
                school_id=self.school_id,
                student_id=cmd.student_id,
                from_class_id=current.class_id,
                to_class_id=klass.class_id,
                school_year=self.school_year,
                moved_on=cmd.moved_on,
            )
        ]

    def withdraw(self, cmd: WithdrawStudent) -> list[IdentityEvent]:
        self._check_day(cmd.withdrawn_on, "withdrawn_on")
        current = self._current(cmd.student_id)
        if cmd.withdrawn_on <= current.first_day:
            raise Invalid(
                "a withdrawal must come after the student joined the class", field="withdrawn_on"
            )
        return [
            StudentWithdrawn(
                school_id=self.school_id,
                student_id=cmd.student_id,
                class_id=current.class_id,
                school_year=self.school_year,
                withdrawn_on=cmd.withdrawn_on,
                reason=cmd.reason,
            )
        ]

    def promote(
        self,
        cmd: PromoteStudents,
        previous: SchoolRoll,
        classes: Mapping[UUID, SchoolClass],
    ) -> list[IdentityEvent]:
        """Move everyone enrolled at the end of ``previous`` into this year's classes.

        Each class goes to a class one grade higher; grade 12 graduates; a kept-back student
        goes to a class of the same grade. Every enrolled student must be placed.
        """
        self._check_day(cmd.promoted_on, "promoted_on")
        from_year, school_year = previous.school_year, self.school_year
        if previous.school_id != self.school_id or next_school_year(from_year) != school_year:
            raise Invalid("students are promoted from the year just before", field="school_year")
        if self.promoted_from is not None:
            raise Conflict(f"students were already promoted from {self.promoted_from}")
        targets = {c.from_class_id: c.to_class_id for c in cmd.classes}
        kept = {k.student_id: k.to_class_id for k in cmd.kept_back}
        promotions: list[Promotion] = []
        for student_id, from_class_id in sorted(previous.placements().items()):
            source = _class_in(classes, from_class_id, from_year, "classes")
            if student_id in kept:
                target = _class_in(classes, kept[student_id], school_year, "kept_back")
                if target.grade_level != source.grade_level:
                    raise Invalid("a kept-back student stays in the same grade", field="kept_back")
                to_class_id: UUID | None = target.class_id
            elif from_class_id not in targets:
                raise Invalid(
                    f"class {source.label} has students but no class to go to",
                    field="classes",
                    details={"class_id": str(from_class_id)},
                )
            else:
                to_class_id = _successor(source, targets[from_class_id], school_year, classes)
            if self.class_of(student_id) is not None:
                raise Conflict(
                    "a student is already enrolled in the new year",
                    field="classes",
                    details={"student_id": str(student_id)},
                )
            promotions.append(
                Promotion(
                    student_id=student_id, from_class_id=from_class_id, to_class_id=to_class_id
                )
            )
        return [
            StudentsPromoted(
                school_id=self.school_id,
                from_year=from_year,
                to_year=school_year,
                promoted_on=cmd.promoted_on,
                promotions=tuple(promotions),
            )
        ]

    # --- queries -----------------------------------------------------------------------------

    def class_of(self, student_id: UUID) -> UUID | None:
        stints = self._history.get(student_id)
        if stints and stints[-1].last_day is None:
            return stints[-1].class_id
        return None

    def class_on(self, student_id: UUID, day: date) -> UUID | None:
        return next((s.class_id for s in self._history.get(student_id, []) if s.covers(day)), None)

    def placements(self) -> dict[UUID, UUID]:
        """Every enrolled student and their class now."""
        return {
            student_id: stints[-1].class_id
            for student_id, stints in self._history.items()
            if stints[-1].last_day is None
        }

    def students_in(self, class_id: UUID) -> list[UUID]:
        return sorted(s for s, c in self.placements().items() if c == class_id)

    def state(self) -> RollState:
        return RollState(
            placements=self.placements(),
            history={s: tuple(stints) for s, stints in self._history.items()},
            graduates=frozenset(self.graduates),
            promoted_from=self.promoted_from,
        )

    def _current(self, student_id: UUID) -> Stint:
        stints = self._history.get(student_id)
        if not stints or stints[-1].last_day is not None:
            raise NotFound("the student is not enrolled in this school year", field="student_id")
        return stints[-1]

    def _last_day(self, student_id: UUID) -> date | None:
        stints = self._history.get(student_id)
        return stints[-1].last_day if stints else None

    def _check_class(self, klass: SchoolClass) -> None:
        if klass.school_year != self.school_year:
            raise Invalid(f"the class is not a class of {self.school_year}", field="class_id")

    def _check_day(self, day: date, field: str) -> None:
        require_in_year(self.school_year, day, field)

    # --- evolution ---------------------------------------------------------------------------

    def _start(self, student_id: UUID, class_id: UUID, first_day: date) -> None:
        self._history.setdefault(student_id, []).append(Stint(class_id, first_day))

    def _end(self, student_id: UUID, first_day_gone: date) -> None:
        stints = self._history[student_id]
        stints[-1] = Stint(stints[-1].class_id, stints[-1].first_day, first_day_gone - _DAY)

    def when_StudentEnrolled(self, event: StudentEnrolled) -> None:
        self._start(event.student_id, event.class_id, event.enrolled_on)

    def when_StudentMoved(self, event: StudentMoved) -> None:
        self._end(event.student_id, event.moved_on)
        self._start(event.student_id, event.to_class_id, event.moved_on)

    def when_StudentWithdrawn(self, event: StudentWithdrawn) -> None:
        self._end(event.student_id, event.withdrawn_on)

    def when_StudentsPromoted(self, event: StudentsPromoted) -> None:
        self.promoted_from = event.from_year
        for promotion in event.promotions:
            if promotion.to_class_id is None:
                self.graduates.add(promotion.student_id)
            else:
                self._start(promotion.student_id, promotion.to_class_id, event.promoted_on)


_DAY = timedelta(days=1)
_STREAM = re.compile(rf"^roll-({UUID_PATTERN})-(\d{{4}}/\d{{4}})$")


def _class_in(
    classes: Mapping[UUID, SchoolClass], class_id: UUID, school_year: str, field: str
) -> SchoolClass:
    klass = classes.get(class_id)
    if klass is None or klass.school_year != school_year:
        raise NotFound(f"no such class in {school_year}", field=field)
    return klass


def _successor(
    source: SchoolClass,
    to_class_id: UUID | None,
    school_year: str,
    classes: Mapping[UUID, SchoolClass],
) -> UUID | None:
    if source.grade_level == 12:
        if to_class_id is not None:
            raise Invalid(f"class {source.label} graduates; it has no next class", field="classes")
        return None
    if to_class_id is None:
        raise Invalid(f"only grade 12 graduates, not {source.label}", field="classes")
    target = _class_in(classes, to_class_id, school_year, "classes")
    if target.grade_level != source.grade_level + 1:
        raise Invalid(
            f"class {source.label} goes to a grade {source.grade_level + 1} class", field="classes"
        )
    return target.class_id
