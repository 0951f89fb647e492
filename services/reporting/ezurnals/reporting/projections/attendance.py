"""Attendance marks with their excuse state.

Marks and excuses come from different streams (and so partitions), so they are kept apart and
joined when read: an excuse that overtakes its mark is still there when the mark arrives. Only a
mark's newest revision counts.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ezurnals.reporting.projections.base import SqlProjection, Statement
from ezurnals.shared.contracts import attendance as ev
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.messaging.notices import notice_ddl


class AttendanceRegister(SqlProjection):
    sources = ("attendance",)
    event_types = frozenset(
        {
            "AttendanceTaken",
            "AbsenceRecorded",
            "AbsenceCorrected",
            "AbsenceExcused",
            "ExcuseSubmitted",
            "ExcuseAccepted",
            "ExcuseRejected",
        }
    )
    ddl: ClassVar[tuple[str, ...]] = (
        """CREATE TABLE IF NOT EXISTS attendance_taken (
               lesson_id UUID PRIMARY KEY, class_id UUID NOT NULL, day DATE NOT NULL,
               taken_by UUID NOT NULL, late_entry BOOLEAN NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS attendance_marks (
               lesson_id UUID NOT NULL, student_id UUID NOT NULL, absence_id UUID NOT NULL,
               school_id UUID, class_id UUID NOT NULL, day DATE NOT NULL,
               code TEXT, counts_as_absence BOOLEAN NOT NULL, is_late BOOLEAN NOT NULL,
               excused_by_code BOOLEAN NOT NULL, minutes_late INTEGER,
               revision INTEGER NOT NULL, PRIMARY KEY (lesson_id, student_id))""",
        "CREATE INDEX IF NOT EXISTS marks_student_day ON attendance_marks (student_id, day)",
        "CREATE INDEX IF NOT EXISTS marks_class_day ON attendance_marks (class_id, day)",
        """CREATE TABLE IF NOT EXISTS absence_excuses (
               absence_id UUID PRIMARY KEY, student_id UUID NOT NULL, lesson_id UUID NOT NULL,
               excuse_id UUID NOT NULL, source TEXT NOT NULL, document_type TEXT NOT NULL)""",
        # Who excused it, when, as what and against which document (rule 4: the history).
        """ALTER TABLE absence_excuses ADD COLUMN IF NOT EXISTS reference TEXT,
               ADD COLUMN IF NOT EXISTS excused_by UUID,
               ADD COLUMN IF NOT EXISTS excused_as TEXT,
               ADD COLUMN IF NOT EXISTS excused_at TIMESTAMPTZ""",
        """CREATE TABLE IF NOT EXISTS excuse_requests (
               request_id UUID PRIMARY KEY, student_id UUID NOT NULL, state TEXT NOT NULL,
               covers_from DATE, covers_to DATE, lesson_ids UUID[] NOT NULL DEFAULT '{}')""",
        "CREATE INDEX IF NOT EXISTS excuse_requests_student ON excuse_requests (student_id)",
        # The diary kept in memory by the API is forgotten when its rows change.
        *notice_ddl("attendance_marks", "student", "student_id"),
        *notice_ddl("absence_excuses", "student", "student_id"),
        *notice_ddl("excuse_requests", "student", "student_id"),
    )

    TAKEN = """INSERT INTO attendance_taken (lesson_id, class_id, day, taken_by, late_entry)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (lesson_id) DO NOTHING"""
    MARK = """INSERT INTO attendance_marks (lesson_id, student_id, absence_id, school_id, class_id,
                  day, code, counts_as_absence, is_late, excused_by_code, minutes_late, revision)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
              ON CONFLICT (lesson_id, student_id) DO UPDATE SET code = excluded.code,
                  counts_as_absence = excluded.counts_as_absence, is_late = excluded.is_late,
                  excused_by_code = excluded.excused_by_code,
                  minutes_late = excluded.minutes_late, revision = excluded.revision
              WHERE attendance_marks.revision < excluded.revision"""
    EXCUSED = """INSERT INTO absence_excuses
                     (absence_id, student_id, lesson_id, excuse_id, source, document_type,
                      reference, excused_by, excused_as, excused_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (absence_id) DO NOTHING"""
    SUBMITTED = """INSERT INTO excuse_requests
                       (request_id, student_id, state, covers_from, covers_to, lesson_ids)
                   VALUES ($1, $2, 'submitted', $3, $4, $5) ON CONFLICT (request_id)
                   DO UPDATE SET covers_from = excluded.covers_from,
                       covers_to = excluded.covers_to, lesson_ids = excluded.lesson_ids"""
    DECIDED = """INSERT INTO excuse_requests (request_id, student_id, state) VALUES ($1, $2, $3)
                 ON CONFLICT (request_id) DO UPDATE SET state = excluded.state"""

    def on_AttendanceTaken(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.AttendanceTaken)
        return [(self.TAKEN, (e.lesson_id, e.class_id, e.date, e.taken_by, e.late_entry))]

    def on_AbsenceRecorded(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.AbsenceRecorded)
        row = (
            e.lesson_id,
            e.student_id,
            e.absence_id,
            env.school_id,
            e.class_id,
            e.date,
            e.code,
            e.counts_as_absence,
            e.is_late,
            e.excused_by_code,
            e.minutes_late,
            e.revision,
        )
        return [(self.MARK, row)]

    def on_AbsenceCorrected(self, env: EventEnvelope, e: Any) -> list[Statement]:
        """A correction to "present" keeps the row without a code, so an older revision that
        arrives later cannot bring the absence back."""
        assert isinstance(e, ev.AbsenceCorrected)
        present = e.new_code is None
        row = (
            e.lesson_id,
            e.student_id,
            e.absence_id,
            env.school_id,
            e.class_id,
            e.date,
            e.new_code,
            e.counts_as_absence and not present,
            e.is_late and not present,
            e.excused_by_code,
            e.minutes_late,
            e.revision,
        )
        return [(self.MARK, row)]

    def on_AbsenceExcused(self, env: EventEnvelope, e: Any) -> list[Statement]:
        """``excused_as``: the role the person acted in when they recorded the excuse themselves;
        None when the system settled it from a request they had accepted (as attendance has it)."""
        assert isinstance(e, ev.AbsenceExcused)
        excused_as = env.actor.role if env.actor.id == e.excused_by else None
        row = (
            e.absence_id,
            e.student_id,
            e.lesson_id,
            e.excuse_id,
            e.source,
            e.document_type,
            e.reference,
            e.excused_by,
            excused_as,
            env.occurred_at,
        )
        return [(self.EXCUSED, row)]

    def on_ExcuseSubmitted(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.ExcuseSubmitted)
        row = (e.request_id, e.student_id, e.covers_from, e.covers_to, list(e.lesson_ids))
        return [(self.SUBMITTED, row)]

    def on_ExcuseAccepted(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.ExcuseAccepted)
        return [(self.DECIDED, (e.request_id, e.student_id, "accepted"))]

    def on_ExcuseRejected(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.ExcuseRejected)
        return [(self.DECIDED, (e.request_id, e.student_id, "rejected"))]
