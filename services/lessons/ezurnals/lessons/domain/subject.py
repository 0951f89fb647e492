"""A school's subject with the curriculum-plan hours per grade that report cards print."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from ezurnals.lessons.domain._checks import required_text
from ezurnals.shared.contracts.lessons import GradeLevel, LessonsEvent, NameKey, SubjectDefined
from ezurnals.shared.domain import Aggregate, Command, Invalid, id_in_use

#: More than a lesson every school day of a year would be a typing error, not a plan.
MAX_YEARLY_HOURS = 1400
MAX_NAME_LENGTH = 120


class DefineSubject(Command):
    """Define a subject, or redefine its name and hours (the latest definition counts)."""

    subject_id: UUID
    school_id: UUID
    name_key: NameKey
    name: str
    curriculum_hours: dict[GradeLevel, int] = Field(default_factory=dict)


class Subject(Aggregate[LessonsEvent]):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.school_id: UUID | None = None
        self.name_key = ""
        self.name = ""
        self.curriculum_hours: dict[int, int] = {}

    def define(self, cmd: DefineSubject) -> list[LessonsEvent]:
        if self.school_id is not None and self.school_id != cmd.school_id:
            raise id_in_use("subject_id")
        name = required_text(cmd.name, "name", max_length=MAX_NAME_LENGTH)
        for grade, hours in cmd.curriculum_hours.items():
            if not 0 <= hours <= MAX_YEARLY_HOURS:
                raise Invalid(
                    f"curriculum hours for grade {grade} must be 0–{MAX_YEARLY_HOURS}",
                    field="curriculum_hours",
                )
        unchanged = self.exists and (self.name_key, self.name, self.curriculum_hours) == (
            cmd.name_key,
            name,
            dict(cmd.curriculum_hours),
        )
        if unchanged:
            return []
        return [
            SubjectDefined(
                subject_id=cmd.subject_id,
                school_id=cmd.school_id,
                name_key=cmd.name_key,
                name=name,
                curriculum_hours=dict(cmd.curriculum_hours),
            )
        ]

    def hours_for(self, grade_level: int) -> int | None:
        """The plan's hours for a grade, or None where the subject is not taught in that grade."""
        return self.curriculum_hours.get(grade_level)

    def when_SubjectDefined(self, event: SubjectDefined) -> None:
        self.school_id = event.school_id
        self.name_key = event.name_key
        self.name = event.name
        self.curriculum_hours = dict(event.curriculum_hours)
