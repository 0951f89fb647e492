"""The school as identity tells it: schools, years, classes, enrolment, families, staff, teaching.

Reporting holds no names: people are ids here, and documents get display names from the caller.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, ClassVar

from ezurnals.reporting.domain.calendar import school_year
from ezurnals.reporting.projections.base import SqlProjection, Statement
from ezurnals.shared.contracts import identity as ev
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.messaging.notices import notice_ddl


class SchoolDirectory(SqlProjection):
    sources = ("identity",)
    event_types = frozenset(
        {
            "SchoolRegistered",
            "SchoolYearDefined",
            "ClassOpened",
            "StudentEnrolled",
            "StudentMoved",
            "StudentWithdrawn",
            "StudentsPromoted",
            "GuardianLinked",
            "GuardianUnlinked",
            "GuardianshipRestricted",
            "GuardianshipUnrestricted",
            "GuardianAccessDecided",
            "StaffMemberHired",
            "StaffRolesChanged",
            "EmploymentEnded",
            "ClassTeacherAssigned",
            "TeachingAssigned",
            "TeachingUnassigned",
        }
    )
    ddl: ClassVar[tuple[str, ...]] = (
        """CREATE TABLE IF NOT EXISTS schools (
               school_id UUID PRIMARY KEY, name TEXT NOT NULL, time_zone TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS school_years (
               school_id UUID NOT NULL, school_year TEXT NOT NULL, semesters JSONB NOT NULL,
               PRIMARY KEY (school_id, school_year))""",
        """CREATE TABLE IF NOT EXISTS classes (
               class_id UUID PRIMARY KEY, school_id UUID NOT NULL, school_year TEXT NOT NULL,
               grade_level INTEGER NOT NULL, label TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS classes_school ON classes (school_id, school_year)",
        """CREATE TABLE IF NOT EXISTS enrolments (
               student_id UUID NOT NULL, class_id UUID NOT NULL, from_day DATE NOT NULL,
               school_id UUID NOT NULL, school_year TEXT NOT NULL,
               to_day DATE, PRIMARY KEY (student_id, class_id, from_day))""",
        "CREATE INDEX IF NOT EXISTS enrolments_class ON enrolments (class_id)",
        "CREATE INDEX IF NOT EXISTS enrolments_school ON enrolments (school_id, school_year)",
        """CREATE TABLE IF NOT EXISTS guardianships (
               student_id UUID NOT NULL, guardian_id UUID NOT NULL, school_id UUID NOT NULL,
               linked BOOLEAN NOT NULL, restricted BOOLEAN NOT NULL, keeps_access BOOLEAN,
               PRIMARY KEY (student_id, guardian_id))""",
        "CREATE INDEX IF NOT EXISTS guardianships_guardian ON guardianships (guardian_id)",
        """CREATE TABLE IF NOT EXISTS staff (
               school_id UUID NOT NULL, person_id UUID NOT NULL, roles TEXT[] NOT NULL,
               employed BOOLEAN NOT NULL, PRIMARY KEY (school_id, person_id))""",
        """CREATE TABLE IF NOT EXISTS class_teachers (
               class_id UUID NOT NULL, valid_from DATE NOT NULL, teacher_id UUID NOT NULL,
               school_id UUID NOT NULL, PRIMARY KEY (class_id, valid_from))""",
        "CREATE INDEX IF NOT EXISTS class_teachers_teacher ON class_teachers (teacher_id)",
        """CREATE TABLE IF NOT EXISTS teaching (
               assignment_id UUID PRIMARY KEY, school_id UUID NOT NULL, class_id UUID NOT NULL,
               teacher_id UUID NOT NULL, subject_id UUID NOT NULL, valid_from DATE NOT NULL,
               valid_to DATE, substitute BOOLEAN NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS teaching_teacher ON teaching (teacher_id)",
        "CREATE INDEX IF NOT EXISTS teaching_class ON teaching (class_id)",
        # The diary kept in memory by the API is forgotten when its rows change.
        *notice_ddl("enrolments", "student", "student_id"),
        *notice_ddl("guardianships", "student", "student_id"),
    )

    SCHOOL = """INSERT INTO schools (school_id, name, time_zone) VALUES ($1, $2, $3)
                ON CONFLICT (school_id) DO UPDATE SET name = excluded.name,
                    time_zone = excluded.time_zone"""
    YEAR = """INSERT INTO school_years (school_id, school_year, semesters) VALUES ($1, $2, $3)
              ON CONFLICT (school_id, school_year) DO UPDATE SET semesters = excluded.semesters"""
    CLASS = """INSERT INTO classes (class_id, school_id, school_year, grade_level, label)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (class_id) DO UPDATE SET grade_level = excluded.grade_level,
                   label = excluded.label, school_year = excluded.school_year"""
    ENROL = """INSERT INTO enrolments (student_id, class_id, from_day, school_id, school_year)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"""
    LEAVE = """UPDATE enrolments SET to_day = $3
               WHERE student_id = $1 AND class_id = $2 AND to_day IS NULL"""
    GUARDIAN = """INSERT INTO guardianships
                      (student_id, guardian_id, school_id, linked, restricted, keeps_access)
                  VALUES ($1, $2, $3, $4, $5, NULL)
                  ON CONFLICT (student_id, guardian_id) DO UPDATE SET linked = excluded.linked,
                      restricted = excluded.restricted, keeps_access = NULL"""
    UNLINK = "UPDATE guardianships SET linked = FALSE WHERE student_id = $1 AND guardian_id = $2"
    RESTRICT = "UPDATE guardianships SET restricted = $3 WHERE student_id = $1 AND guardian_id = $2"
    DECIDE = "UPDATE guardianships SET keeps_access = $3 WHERE student_id = $1 AND guardian_id = $2"
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
                      valid_to = excluded.valid_to"""
    UNTEACH = "UPDATE teaching SET valid_to = $2 WHERE assignment_id = $1"

    def on_SchoolRegistered(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.SchoolRegistered)
        return [(self.SCHOOL, (e.school_id, e.name, e.time_zone))]

    def on_SchoolYearDefined(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.SchoolYearDefined)
        semesters = json.dumps([s.model_dump(mode="json") for s in e.semesters])
        return [(self.YEAR, (e.school_id, school_year(e.school_year), semesters))]

    def on_ClassOpened(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.ClassOpened)
        year = school_year(e.school_year)
        return [(self.CLASS, (e.class_id, e.school_id, year, e.grade_level, e.label))]

    def on_StudentEnrolled(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StudentEnrolled)
        year = school_year(e.school_year)
        return [(self.ENROL, (e.student_id, e.class_id, e.enrolled_on, e.school_id, year))]

    def on_StudentMoved(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StudentMoved)
        year = school_year(e.school_year)
        last_day = e.moved_on - timedelta(days=1)
        return [
            (self.LEAVE, (e.student_id, e.from_class_id, last_day)),
            (self.ENROL, (e.student_id, e.to_class_id, e.moved_on, e.school_id, year)),
        ]

    def on_StudentWithdrawn(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StudentWithdrawn)
        return [(self.LEAVE, (e.student_id, e.class_id, e.withdrawn_on - timedelta(days=1)))]

    def on_StudentsPromoted(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.StudentsPromoted)
        year = school_year(e.to_year)
        last_day = e.promoted_on - timedelta(days=1)
        out: list[Statement] = []
        for p in e.promotions:
            out.append((self.LEAVE, (p.student_id, p.from_class_id, last_day)))
            if p.to_class_id is not None:
                out.append(
                    (self.ENROL, (p.student_id, p.to_class_id, e.promoted_on, e.school_id, year))
                )
        return out

    def on_GuardianLinked(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.GuardianLinked)
        return [
            (self.GUARDIAN, (e.student_id, e.guardian_id, e.school_id, True, e.restricted)),
        ]

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
        assert isinstance(e, ev.GuardianAccessDecided)
        return [(self.DECIDE, (e.student_id, e.guardian_id, e.keeps_access))]

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
