"""Identity's directory as every other service keeps it: one projection, configured per service.

A service names the parts it decides with (``parts``); only their tables are created and only
their events applied. The directory carries ids, dates, roles and the school's own name and
labels, never a person's name or personal code, so no service holds personal data through it.

The tables, in the read-model schema:

- ``schools`` (school_id, name, time_zone); ``school_years`` (school_id, school_year, calendar:
  the whole ``SchoolYearDefined``, semesters);
- ``classes`` (class_id, school_id, school_year, grade_level, label);
- ``enrolments`` (student_id, class_id, from_day, to_day: the last day in the class or null,
  left_by: moved, withdrawn or promoted; ``active``: still on the class's roll, which a
  promotion leaves as it was, for last year's grade book);
- ``guardianships`` (student_id, guardian_id, linked, restricted, keeps_access: the adult
  student's decision, null until one is made since the last link);
- ``adult_students`` (student_id, adult_since: the earliest day any fact shows them of age);
- ``staff`` (school_id, person_id, roles, employed);
- ``class_teachers`` (class_id, valid_from, teacher_id): every assignment, the latest one that
  has begun is in force;
- ``teaching`` (assignment_id, class_id, teacher_id, subject_id, valid_from, valid_to,
  substitute).

School years are kept in their one spelling ("2026/2027").
"""

from __future__ import annotations

import json
from datetime import timedelta
from enum import StrEnum
from typing import Any, ClassVar

from ezurnals.shared.contracts import identity as ev
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.contracts.school_year import spelled
from ezurnals.shared.messaging.statements import Statement, StatementProjection


class Part(StrEnum):
    SCHOOLS = "schools"
    SCHOOL_YEARS = "school_years"
    CLASSES = "classes"
    ENROLMENTS = "enrolments"
    GUARDIANSHIPS = "guardianships"
    ADULT_STUDENTS = "adult_students"
    STAFF = "staff"
    CLASS_TEACHERS = "class_teachers"
    TEACHING = "teaching"


_DDL: dict[Part, tuple[str, ...]] = {
    Part.SCHOOLS: (
        """CREATE TABLE IF NOT EXISTS schools (
               school_id UUID PRIMARY KEY, name TEXT NOT NULL, time_zone TEXT NOT NULL)""",
    ),
    Part.SCHOOL_YEARS: (
        """CREATE TABLE IF NOT EXISTS school_years (
               school_id UUID NOT NULL, school_year TEXT NOT NULL, calendar JSONB NOT NULL,
               semesters JSONB GENERATED ALWAYS AS (calendar -> 'semesters') STORED,
               PRIMARY KEY (school_id, school_year))""",
    ),
    Part.CLASSES: (
        """CREATE TABLE IF NOT EXISTS classes (
               class_id UUID PRIMARY KEY, school_id UUID NOT NULL, school_year TEXT NOT NULL,
               grade_level INTEGER NOT NULL, label TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS classes_school ON classes (school_id, school_year)",
    ),
    Part.ENROLMENTS: (
        """CREATE TABLE IF NOT EXISTS enrolments (
               student_id UUID NOT NULL, class_id UUID NOT NULL, from_day DATE NOT NULL,
               school_id UUID NOT NULL, school_year TEXT NOT NULL, to_day DATE, left_by TEXT,
               active BOOLEAN GENERATED ALWAYS AS (to_day IS NULL OR left_by = 'promoted') STORED,
               PRIMARY KEY (student_id, class_id, from_day))""",
        "CREATE INDEX IF NOT EXISTS enrolments_class ON enrolments (class_id)",
        "CREATE INDEX IF NOT EXISTS enrolments_school ON enrolments (school_id, school_year)",
        "CREATE INDEX IF NOT EXISTS enrolments_student ON enrolments (school_id, student_id)",
    ),
    Part.GUARDIANSHIPS: (
        """CREATE TABLE IF NOT EXISTS guardianships (
               student_id UUID NOT NULL, guardian_id UUID NOT NULL, school_id UUID NOT NULL,
               linked BOOLEAN NOT NULL, restricted BOOLEAN NOT NULL, keeps_access BOOLEAN,
               PRIMARY KEY (student_id, guardian_id))""",
        "CREATE INDEX IF NOT EXISTS guardianships_guardian ON guardianships (guardian_id)",
    ),
    Part.ADULT_STUDENTS: (
        """CREATE TABLE IF NOT EXISTS adult_students (
               student_id UUID PRIMARY KEY, school_id UUID NOT NULL, adult_since DATE NOT NULL)""",
    ),
    Part.STAFF: (
        """CREATE TABLE IF NOT EXISTS staff (
               school_id UUID NOT NULL, person_id UUID NOT NULL, roles TEXT[] NOT NULL,
               employed BOOLEAN NOT NULL, PRIMARY KEY (school_id, person_id))""",
    ),
    Part.CLASS_TEACHERS: (
        """CREATE TABLE IF NOT EXISTS class_teachers (
               class_id UUID NOT NULL, valid_from DATE NOT NULL, teacher_id UUID NOT NULL,
               school_id UUID NOT NULL, PRIMARY KEY (class_id, valid_from))""",
        "CREATE INDEX IF NOT EXISTS class_teachers_teacher ON class_teachers (teacher_id)",
    ),
    Part.TEACHING: (
        """CREATE TABLE IF NOT EXISTS teaching (
               assignment_id UUID PRIMARY KEY, school_id UUID NOT NULL, class_id UUID NOT NULL,
               teacher_id UUID NOT NULL, subject_id UUID NOT NULL, valid_from DATE NOT NULL,
               valid_to DATE, substitute BOOLEAN NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS teaching_teacher ON teaching (school_id, teacher_id)",
        "CREATE INDEX IF NOT EXISTS teaching_class ON teaching (class_id)",
    ),
}

_EVENTS: dict[Part, frozenset[str]] = {
    Part.SCHOOLS: frozenset({"SchoolRegistered"}),
    Part.SCHOOL_YEARS: frozenset({"SchoolYearDefined"}),
    Part.CLASSES: frozenset({"ClassOpened"}),
    Part.ENROLMENTS: frozenset(
        {"StudentEnrolled", "StudentMoved", "StudentWithdrawn", "StudentsPromoted"}
    ),
    Part.GUARDIANSHIPS: frozenset(
        {
            "GuardianLinked",
            "GuardianUnlinked",
            "GuardianshipRestricted",
            "GuardianshipUnrestricted",
            "GuardianAccessDecided",
        }
    ),
    Part.ADULT_STUDENTS: frozenset({"StudentCameOfAge", "GuardianAccessDecided"}),
    Part.STAFF: frozenset({"StaffMemberHired", "StaffRolesChanged", "EmploymentEnded"}),
    Part.CLASS_TEACHERS: frozenset({"ClassTeacherAssigned"}),
    Part.TEACHING: frozenset({"TeachingAssigned", "TeachingUnassigned"}),
}


class Directory(StatementProjection):
    """Subclass per service with the ``parts`` it needs (and ``extra_ddl`` of its own, such as
    change notices on a table)."""

    sources = ("identity",)
    parts: ClassVar[frozenset[Part]] = frozenset(Part)
    extra_ddl: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.ddl = tuple(s for part in Part if part in cls.parts for s in _DDL[part]) + cls.extra_ddl
        cls.event_types = frozenset(t for part in cls.parts for t in _EVENTS[part])

    SCHOOL = """INSERT INTO schools (school_id, name, time_zone) VALUES ($1, $2, $3)
                ON CONFLICT (school_id) DO UPDATE SET name = excluded.name,
                    time_zone = excluded.time_zone"""
    YEAR = """INSERT INTO school_years (school_id, school_year, calendar) VALUES ($1, $2, $3)
              ON CONFLICT (school_id, school_year) DO UPDATE SET calendar = excluded.calendar"""
    CLASS = """INSERT INTO classes (class_id, school_id, school_year, grade_level, label)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (class_id) DO UPDATE SET grade_level = excluded.grade_level,
                   label = excluded.label, school_year = excluded.school_year"""
    ENROL = """INSERT INTO enrolments (student_id, class_id, from_day, school_id, school_year)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"""
    LEAVE = """UPDATE enrolments SET to_day = $3, left_by = $4
               WHERE student_id = $1 AND class_id = $2 AND to_day IS NULL"""
    GUARDIAN = """INSERT INTO guardianships
                      (student_id, guardian_id, school_id, linked, restricted, keeps_access)
                  VALUES ($1, $2, $3, TRUE, $4, NULL)
                  ON CONFLICT (student_id, guardian_id) DO UPDATE SET linked = TRUE,
                      restricted = excluded.restricted, keeps_access = NULL"""
    UNLINK = "UPDATE guardianships SET linked = FALSE WHERE student_id = $1 AND guardian_id = $2"
    RESTRICT = "UPDATE guardianships SET restricted = $3 WHERE student_id = $1 AND guardian_id = $2"
    DECIDE = "UPDATE guardianships SET keeps_access = $3 WHERE student_id = $1 AND guardian_id = $2"
    ADULT = """INSERT INTO adult_students (student_id, school_id, adult_since) VALUES ($1, $2, $3)
               ON CONFLICT (student_id) DO UPDATE
               SET adult_since = least(adult_students.adult_since, excluded.adult_since)"""
    STAFF = """INSERT INTO staff (school_id, person_id, roles, employed) VALUES ($1, $2, $3, TRUE)
               ON CONFLICT (school_id, person_id) DO UPDATE SET roles = excluded.roles,
                   employed = TRUE"""
    ENDED = "UPDATE staff SET employed = FALSE WHERE school_id = $1 AND person_id = $2"
    CLASS_TEACHER = """INSERT INTO class_teachers (class_id, valid_from, teacher_id, school_id)
                       VALUES ($1, $2, $3, $4) ON CONFLICT (class_id, valid_from)
                       DO UPDATE SET teacher_id = excluded.teacher_id"""
    TEACHING = """INSERT INTO teaching (assignment_id, school_id, class_id, teacher_id, subject_id,
                                        valid_from, valid_to, substitute)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                  ON CONFLICT (assignment_id) DO UPDATE SET valid_from = excluded.valid_from,
                      valid_to = excluded.valid_to, substitute = excluded.substitute"""
    UNTEACH = """UPDATE teaching SET valid_to = least(coalesce(valid_to, $2), $2)
                 WHERE assignment_id = $1"""

    def on_SchoolRegistered(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.SchoolRegistered)
        return [(self.SCHOOL, (e.school_id, e.name, e.time_zone))]

    def on_SchoolYearDefined(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.SchoolYearDefined)
        calendar = e.model_dump(mode="json")
        calendar["school_year"] = spelled(e.school_year)
        return [(self.YEAR, (e.school_id, calendar["school_year"], json.dumps(calendar)))]

    def on_ClassOpened(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.ClassOpened)
        year = spelled(e.school_year)
        return [(self.CLASS, (e.class_id, e.school_id, year, e.grade_level, e.label))]

    def on_StudentEnrolled(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StudentEnrolled)
        year = spelled(e.school_year)
        return [(self.ENROL, (e.student_id, e.class_id, e.enrolled_on, e.school_id, year))]

    def on_StudentMoved(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StudentMoved)
        year = spelled(e.school_year)
        last_day = e.moved_on - timedelta(days=1)
        return [
            (self.LEAVE, (e.student_id, e.from_class_id, last_day, "moved")),
            (self.ENROL, (e.student_id, e.to_class_id, e.moved_on, e.school_id, year)),
        ]

    def on_StudentWithdrawn(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StudentWithdrawn)
        last_day = e.withdrawn_on - timedelta(days=1)
        return [(self.LEAVE, (e.student_id, e.class_id, last_day, "withdrawn"))]

    def on_StudentsPromoted(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StudentsPromoted)
        year = spelled(e.to_year)
        last_day = e.promoted_on - timedelta(days=1)
        out: list[Statement] = []
        for p in e.promotions:
            out.append((self.LEAVE, (p.student_id, p.from_class_id, last_day, "promoted")))
            if p.to_class_id is not None:
                out.append(
                    (self.ENROL, (p.student_id, p.to_class_id, e.promoted_on, e.school_id, year))
                )
        return out

    def on_GuardianLinked(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.GuardianLinked)
        return [(self.GUARDIAN, (e.student_id, e.guardian_id, e.school_id, e.restricted))]

    def on_GuardianUnlinked(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.GuardianUnlinked)
        return [(self.UNLINK, (e.student_id, e.guardian_id))]

    def on_GuardianshipRestricted(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.GuardianshipRestricted)
        return [(self.RESTRICT, (e.student_id, e.guardian_id, True))]

    def on_GuardianshipUnrestricted(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.GuardianshipUnrestricted)
        return [(self.RESTRICT, (e.student_id, e.guardian_id, False))]

    def on_GuardianAccessDecided(self, _: EventEnvelope, e: Any) -> list[Statement]:
        """Identity lets only a student of 18 decide, so the decision also proves they are of
        age on that day: kept for students who came of age before identity announced it."""
        assert isinstance(e, ev.GuardianAccessDecided)
        out: list[Statement] = []
        if Part.GUARDIANSHIPS in self.parts:
            out.append((self.DECIDE, (e.student_id, e.guardian_id, e.keeps_access)))
        if Part.ADULT_STUDENTS in self.parts:
            out.append((self.ADULT, (e.student_id, e.school_id, e.decided_on)))
        return out

    def on_StudentCameOfAge(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StudentCameOfAge)
        return [(self.ADULT, (e.student_id, e.school_id, e.on))]

    def on_StaffMemberHired(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StaffMemberHired)
        return [(self.STAFF, (e.school_id, e.person_id, [str(r) for r in e.roles]))]

    def on_StaffRolesChanged(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StaffRolesChanged)
        return [(self.STAFF, (e.school_id, e.person_id, [str(r) for r in e.roles]))]

    def on_EmploymentEnded(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.EmploymentEnded)
        return [(self.ENDED, (e.school_id, e.person_id))]

    def on_ClassTeacherAssigned(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.ClassTeacherAssigned)
        return [(self.CLASS_TEACHER, (e.class_id, e.valid_from, e.teacher_id, e.school_id))]

    def on_TeachingAssigned(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.TeachingAssigned)
        row = (
            e.assignment_id,
            e.school_id,
            e.class_id,
            e.teacher_id,
            e.subject_id,
            e.valid_from,
            e.valid_to,
            e.substitute,
        )
        return [(self.TEACHING, row)]

    def on_TeachingUnassigned(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.TeachingUnassigned)
        return [(self.UNTEACH, (e.assignment_id, e.last_day))]
