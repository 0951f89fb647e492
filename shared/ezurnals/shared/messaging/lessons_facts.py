"""Lessons' events as the other services keep them: one projection, configured per service.

A service names the parts it needs (``parts``): ``SUBJECTS`` (the ``subjects`` table: names and
curriculum hours), ``LESSONS`` (the ``lessons`` table: when, which class and subject, who gives
it, a substitute, a cancellation), ``ENTRIES`` (the same rows' topic, homework, and whether the
entry came on time, late or not at all) and ``DEADLINES`` (``entry_deadline_policies``: the bands
lessons decided, by effective date). Columns a service's parts do not fill stay null or at their
defaults.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, ClassVar

from ezurnals.shared.contracts import lessons as ev
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.messaging.statements import Statement, StatementProjection


class LessonPart(StrEnum):
    SUBJECTS = "subjects"
    LESSONS = "lessons"
    ENTRIES = "entries"
    DEADLINES = "deadlines"


_SUBJECTS = (
    """CREATE TABLE IF NOT EXISTS subjects (
           subject_id UUID PRIMARY KEY, school_id UUID NOT NULL, name_key TEXT NOT NULL,
           name TEXT NOT NULL, curriculum_hours JSONB NOT NULL)""",
)
_LESSONS = (
    """CREATE TABLE IF NOT EXISTS lessons (
           lesson_id UUID PRIMARY KEY, school_id UUID,
           class_id UUID, subject_id UUID, teacher_id UUID, substitute_teacher_id UUID,
           lesson_date DATE, starts_at TIME, ends_at TIME, period INTEGER, room TEXT,
           grade_level INTEGER, cancelled BOOLEAN NOT NULL DEFAULT FALSE,
           topic TEXT, homework JSONB, no_homework BOOLEAN NOT NULL DEFAULT FALSE,
           recorded_by UUID, recorded_at TIMESTAMPTZ,
           corrected BOOLEAN NOT NULL DEFAULT FALSE,
           entry_late BOOLEAN NOT NULL DEFAULT FALSE,
           minutes_late INTEGER NOT NULL DEFAULT 0,
           overdue BOOLEAN NOT NULL DEFAULT FALSE, deadline TIMESTAMPTZ)""",
    "CREATE INDEX IF NOT EXISTS lessons_class_day ON lessons (class_id, lesson_date)",
    "CREATE INDEX IF NOT EXISTS lessons_school_day ON lessons (school_id, lesson_date)",
)
_DEADLINES = (
    """CREATE TABLE IF NOT EXISTS entry_deadline_policies (
           school_id UUID NOT NULL, effective_from DATE NOT NULL, bands JSONB NOT NULL,
           PRIMARY KEY (school_id, effective_from))""",
)
_EVENTS: dict[LessonPart, frozenset[str]] = {
    LessonPart.SUBJECTS: frozenset({"SubjectDefined"}),
    LessonPart.LESSONS: frozenset({"LessonScheduled", "LessonSubstituted", "LessonCancelled"}),
    LessonPart.ENTRIES: frozenset(
        {"LessonRecorded", "LessonRecordCorrected", "LessonEntryLate", "LessonEntryOverdue"}
    ),
    LessonPart.DEADLINES: frozenset({"EntryDeadlinePolicySet"}),
}


class LessonsFacts(StatementProjection):
    """Subclass per service with the ``parts`` it needs (and ``extra_ddl`` of its own)."""

    sources = ("lessons",)
    parts: ClassVar[frozenset[LessonPart]] = frozenset(LessonPart)
    extra_ddl: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ddl: tuple[str, ...] = ()
        if LessonPart.SUBJECTS in cls.parts:
            ddl += _SUBJECTS
        if cls.parts & {LessonPart.LESSONS, LessonPart.ENTRIES}:
            ddl += _LESSONS
        if LessonPart.DEADLINES in cls.parts:
            ddl += _DEADLINES
        cls.ddl = ddl + cls.extra_ddl
        cls.event_types = frozenset(t for part in cls.parts for t in _EVENTS[part])

    SUBJECT = """INSERT INTO subjects (subject_id, school_id, name_key, name, curriculum_hours)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject_id) DO UPDATE SET
                     name_key = excluded.name_key, name = excluded.name,
                     curriculum_hours = excluded.curriculum_hours"""
    SCHEDULED = """INSERT INTO lessons (lesson_id, school_id, class_id, subject_id, teacher_id,
                       lesson_date, starts_at, ends_at, period, room, grade_level)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                   ON CONFLICT (lesson_id) DO UPDATE SET school_id = excluded.school_id,
                       class_id = excluded.class_id, subject_id = excluded.subject_id,
                       teacher_id = excluded.teacher_id, lesson_date = excluded.lesson_date,
                       starts_at = excluded.starts_at, ends_at = excluded.ends_at,
                       period = excluded.period, room = excluded.room,
                       grade_level = excluded.grade_level"""
    SUBSTITUTED = """INSERT INTO lessons (lesson_id, school_id, substitute_teacher_id)
                     VALUES ($1, $2, $3) ON CONFLICT (lesson_id)
                     DO UPDATE SET substitute_teacher_id = excluded.substitute_teacher_id"""
    CANCELLED = """INSERT INTO lessons (lesson_id, school_id, cancelled) VALUES ($1, $2, TRUE)
                   ON CONFLICT (lesson_id) DO UPDATE SET cancelled = TRUE"""
    RECORDED = """INSERT INTO lessons (lesson_id, school_id, topic, homework, no_homework,
                      recorded_by, recorded_at, entry_late, minutes_late, corrected)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                  ON CONFLICT (lesson_id) DO UPDATE SET topic = excluded.topic,
                      homework = excluded.homework, no_homework = excluded.no_homework,
                      recorded_by = COALESCE(lessons.recorded_by, excluded.recorded_by),
                      recorded_at = COALESCE(lessons.recorded_at, excluded.recorded_at),
                      entry_late = lessons.entry_late OR excluded.entry_late,
                      minutes_late = GREATEST(lessons.minutes_late, excluded.minutes_late),
                      corrected = lessons.corrected OR excluded.corrected"""
    LATE = """INSERT INTO lessons (lesson_id, school_id, class_id, subject_id, teacher_id,
                  lesson_date, entry_late, minutes_late, deadline)
              VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8) ON CONFLICT (lesson_id)
              DO UPDATE SET entry_late = TRUE, deadline = excluded.deadline,
                  minutes_late = GREATEST(lessons.minutes_late, excluded.minutes_late)"""
    OVERDUE = """INSERT INTO lessons (lesson_id, school_id, class_id, subject_id, teacher_id,
                     lesson_date, overdue, deadline)
                 VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7) ON CONFLICT (lesson_id)
                 DO UPDATE SET overdue = TRUE, deadline = excluded.deadline"""

    POLICY = """INSERT INTO entry_deadline_policies (school_id, effective_from, bands)
                VALUES ($1, $2, $3) ON CONFLICT (school_id, effective_from)
                DO UPDATE SET bands = excluded.bands"""

    def on_SubjectDefined(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.SubjectDefined)
        hours = json.dumps({str(k): v for k, v in e.curriculum_hours.items()})
        return [(self.SUBJECT, (e.subject_id, e.school_id, e.name_key, e.name, hours))]

    def on_LessonScheduled(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.LessonScheduled)
        row = (
            e.lesson_id,
            e.school_id,
            e.class_id,
            e.subject_id,
            e.teacher_id,
            e.lesson_date,
            e.starts_at,
            e.ends_at,
            e.period,
            e.room,
            e.grade_level,
        )
        return [(self.SCHEDULED, row)]

    def on_LessonSubstituted(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.LessonSubstituted)
        return [(self.SUBSTITUTED, (e.lesson_id, env.school_id, e.substitute_teacher_id))]

    def on_LessonCancelled(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.LessonCancelled)
        return [(self.CANCELLED, (e.lesson_id, env.school_id))]

    def _record(
        self,
        env: EventEnvelope,
        e: ev.LessonRecorded | ev.LessonRecordCorrected,
        by: Any,
        *,
        late: bool,
        minutes: int,
        corrected: bool,
    ) -> list[Statement]:
        homework = json.dumps(e.homework.model_dump(mode="json")) if e.homework else None
        row = (
            e.lesson_id,
            env.school_id,
            e.topic,
            homework,
            e.no_homework,
            by,
            env.occurred_at,
            late,
            minutes,
            corrected,
        )
        return [(self.RECORDED, row)]

    def on_LessonRecorded(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.LessonRecorded)
        return self._record(
            env, e, e.recorded_by, late=e.late, minutes=e.minutes_late, corrected=False
        )

    def on_LessonRecordCorrected(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.LessonRecordCorrected)
        return self._record(env, e, e.corrected_by, late=False, minutes=0, corrected=True)

    def on_LessonEntryLate(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.LessonEntryLate)
        row = (
            e.lesson_id,
            env.school_id,
            e.class_id,
            e.subject_id,
            e.teacher_id,
            e.lesson_date,
            e.minutes_late,
            e.deadline,
        )
        return [(self.LATE, row)]

    def on_LessonEntryOverdue(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.LessonEntryOverdue)
        row = (
            e.lesson_id,
            env.school_id,
            e.class_id,
            e.subject_id,
            e.teacher_id,
            e.lesson_date,
            e.deadline,
        )
        return [(self.OVERDUE, row)]

    def on_EntryDeadlinePolicySet(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.EntryDeadlinePolicySet)
        bands = json.dumps([b.model_dump(mode="json") for b in e.deadlines])
        return [(self.POLICY, (e.school_id, e.effective_from, bands))]
