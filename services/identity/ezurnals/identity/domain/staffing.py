"""Who works with one class: its class teacher over time and who teaches which subject in it.

Substitutes are teaching assignments for a date range; the regular teacher keeps theirs, so both
may record for the class during the substitution.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from ezurnals.identity.domain.school import require_in_year
from ezurnals.identity.domain.scoped import SchoolScoped
from ezurnals.shared.contracts.identity import (
    ClassTeacherAssigned,
    IdentityEvent,
    TeachingAssigned,
    TeachingUnassigned,
)
from ezurnals.shared.domain import Command, Conflict, Invalid, NotFound


class AssignClassTeacher(Command):
    teacher_id: UUID
    valid_from: date


class AssignTeaching(Command):
    assignment_id: UUID
    teacher_id: UUID
    subject_id: UUID
    valid_from: date
    valid_to: date | None = None
    substitute: bool = False


class UnassignTeaching(Command):
    assignment_id: UUID
    last_day: date


@dataclass(frozen=True)
class Assignment:
    assignment_id: UUID
    teacher_id: UUID
    subject_id: UUID
    valid_from: date
    valid_to: date | None
    substitute: bool

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def overlaps(self, first: date, last: date | None) -> bool:
        return (last is None or self.valid_from <= last) and (
            self.valid_to is None or first <= self.valid_to
        )


class ClassStaffing(SchoolScoped):
    kind = "class-staffing"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        #: (valid_from, teacher_id), in order of valid_from.
        self.class_teachers: list[tuple[date, UUID]] = []
        self.assignments: dict[UUID, Assignment] = {}

    @property
    def class_id(self) -> UUID:
        return self.entity_id

    def assign_class_teacher(
        self, cmd: AssignClassTeacher, *, school_year: str | None = None
    ) -> list[IdentityEvent]:
        """``school_year``: the class's, within which the assignment starts."""
        if school_year is not None:
            require_in_year(school_year, cmd.valid_from, "valid_from")
        if self.class_teachers:
            since, current = self.class_teachers[-1]
            if current == cmd.teacher_id:
                raise Conflict("this teacher is already the class teacher", field="teacher_id")
            if cmd.valid_from <= since:
                raise Invalid(
                    "a new class teacher starts after the current one started", field="valid_from"
                )
        return [
            ClassTeacherAssigned(
                school_id=self.school_id,
                class_id=self.class_id,
                teacher_id=cmd.teacher_id,
                valid_from=cmd.valid_from,
            )
        ]

    def assign_teaching(
        self, cmd: AssignTeaching, *, school_year: str | None = None
    ) -> list[IdentityEvent]:
        """``school_year``: the class's, within which the assignment lies."""
        if school_year is not None:
            require_in_year(school_year, cmd.valid_from, "valid_from")
            if cmd.valid_to is not None:
                require_in_year(school_year, cmd.valid_to, "valid_to")
        if cmd.substitute and cmd.valid_to is None:
            raise Invalid("a substitution needs its last day", field="valid_to")
        if cmd.valid_to is not None and cmd.valid_to < cmd.valid_from:
            raise Invalid("the last day comes before the first", field="valid_to")
        if cmd.assignment_id in self.assignments:
            raise Conflict("the assignment already exists", field="assignment_id")
        if any(
            a.teacher_id == cmd.teacher_id
            and a.subject_id == cmd.subject_id
            and a.overlaps(cmd.valid_from, cmd.valid_to)
            for a in self.assignments.values()
        ):
            raise Conflict(
                "the teacher already teaches this subject in this class then", field="teacher_id"
            )
        return [
            TeachingAssigned(
                school_id=self.school_id,
                assignment_id=cmd.assignment_id,
                class_id=self.class_id,
                teacher_id=cmd.teacher_id,
                subject_id=cmd.subject_id,
                valid_from=cmd.valid_from,
                valid_to=cmd.valid_to,
                substitute=cmd.substitute,
            )
        ]

    def unassign_teaching(self, cmd: UnassignTeaching) -> list[IdentityEvent]:
        """End an assignment after ``last_day``; it can only be shortened, never extended."""
        assignment = self.assignments.get(cmd.assignment_id)
        if assignment is None:
            raise NotFound("no such teaching assignment", field="assignment_id")
        if cmd.last_day < assignment.valid_from:
            raise Invalid("an assignment cannot end before it began", field="last_day")
        if assignment.valid_to is not None and cmd.last_day >= assignment.valid_to:
            return []
        return [
            TeachingUnassigned(
                school_id=self.school_id,
                assignment_id=assignment.assignment_id,
                class_id=self.class_id,
                teacher_id=assignment.teacher_id,
                subject_id=assignment.subject_id,
                last_day=cmd.last_day,
            )
        ]

    def class_teacher_on(self, day: date) -> UUID | None:
        started = [teacher for since, teacher in self.class_teachers if since <= day]
        return started[-1] if started else None

    def teaches(self, teacher_id: UUID, subject_id: UUID, on_date: date) -> bool:
        return any(
            a.teacher_id == teacher_id and a.subject_id == subject_id and a.covers(on_date)
            for a in self.assignments.values()
        )

    def teachers_on(self, day: date) -> frozenset[UUID]:
        return frozenset(a.teacher_id for a in self.assignments.values() if a.covers(day))

    def when_ClassTeacherAssigned(self, event: ClassTeacherAssigned) -> None:
        self.class_teachers.append((event.valid_from, event.teacher_id))

    def when_TeachingAssigned(self, event: TeachingAssigned) -> None:
        self.assignments[event.assignment_id] = Assignment(
            event.assignment_id,
            event.teacher_id,
            event.subject_id,
            event.valid_from,
            event.valid_to,
            event.substitute,
        )

    def when_TeachingUnassigned(self, event: TeachingUnassigned) -> None:
        self.assignments[event.assignment_id] = replace(
            self.assignments[event.assignment_id], valid_to=event.last_day
        )
