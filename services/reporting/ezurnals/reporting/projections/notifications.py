"""Queues family notifications as the events they are about arrive (rule 1).

Rows go to the service's own ``notification_queue`` (not the read-model schema), so a rebuild,
which replays everything, finds them there; and events older than two days are not notified, so
a replay never reaches families.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar

from ezurnals.reporting.domain.notifications import Kind
from ezurnals.reporting.projections.base import SqlProjection, Statement
from ezurnals.shared.contracts import attendance as at
from ezurnals.shared.contracts import grading as gr
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import reporting as rp
from ezurnals.shared.contracts.base import EventEnvelope

_FAMILY = """FROM guardianships g
    JOIN public.notification_preferences p
      ON p.guardian_id = g.guardian_id AND p.school_id = g.school_id
    CROSS JOIN LATERAL unnest(p.channels) AS ch
    WHERE g.student_id = $2::uuid AND g.linked AND NOT g.restricted
      AND g.keeps_access IS NOT FALSE AND $3 = ANY (p.events)
      AND $5::timestamptz > now() - interval '2 days'"""


class NotificationFeed(SqlProjection):
    sources = ("attendance", "grading", "reporting", "identity")
    event_types = frozenset(
        {
            "AbsenceRecorded",
            "ExcuseAccepted",
            "ExcuseRejected",
            "GradeRecorded",
            "StatementIssued",
            "PersonalDataErased",
        }
    )
    ddl: ClassVar[tuple[str, ...]] = ()

    QUEUE = f"""INSERT INTO public.notification_queue
                    (guardian_id, source_event_id, channel, school_id, student_id, kind, facts,
                     queued_at)
                SELECT p.guardian_id, $1::uuid, ch, p.school_id, g.student_id, $3::text, $4::jsonb,
                       $5::timestamptz
                {_FAMILY}
                ON CONFLICT DO NOTHING"""
    #: Once a month per guardian: the key is derived from the student and the month.
    THRESHOLD = f"""INSERT INTO public.notification_queue
                    (guardian_id, source_event_id, channel, school_id, student_id, kind, facts,
                     queued_at)
                SELECT p.guardian_id, $1::uuid, ch, p.school_id, g.student_id, $3::text,
                       $4::jsonb || jsonb_build_object('count', p.absence_threshold),
                       $5::timestamptz
                {_FAMILY}
                  AND p.absence_threshold <= (
                      SELECT count(*) FROM attendance_marks m
                      WHERE m.student_id = $2 AND m.counts_as_absence AND m.code IS NOT NULL
                        AND m.day >= date_trunc('month', $6::date)
                        AND m.day < date_trunc('month', $6::date) + interval '1 month')
                ON CONFLICT DO NOTHING"""
    ERASE = "DELETE FROM public.notification_preferences WHERE guardian_id = $1"
    FORGET = "DELETE FROM public.notification_queue WHERE guardian_id = $1 AND state = 'pending'"

    def _queue(
        self, env: EventEnvelope, student: uuid.UUID, kind: Kind, facts: dict[str, Any]
    ) -> Statement:
        return (self.QUEUE, (env.event_id, student, str(kind), json.dumps(facts), env.recorded_at))

    def on_AbsenceRecorded(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, at.AbsenceRecorded)
        if e.revision != 1:
            return []
        facts = {"date": e.date.isoformat(), "code": e.code, "is_late": e.is_late}
        month_key = uuid.uuid5(e.student_id, f"absences-{e.date:%Y-%m}")
        threshold = (
            self.THRESHOLD,
            (
                month_key,
                e.student_id,
                str(Kind.ABSENCE_THRESHOLD),
                json.dumps({"month": f"{e.date:%Y-%m}"}),
                env.recorded_at,
                e.date,
            ),
        )
        return [self._queue(env, e.student_id, Kind.ABSENCE_RECORDED, facts), threshold]

    def on_ExcuseAccepted(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, at.ExcuseAccepted)
        return [self._queue(env, e.student_id, Kind.EXCUSE_DECIDED, {"decision": "accepted"})]

    def on_ExcuseRejected(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, at.ExcuseRejected)
        facts = {"decision": "rejected", "reason": e.reason}
        return [self._queue(env, e.student_id, Kind.EXCUSE_DECIDED, facts)]

    def on_GradeRecorded(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, gr.GradeRecorded)
        facts = {"date": e.given_on.isoformat(), "value": e.value, "work_title": e.work_title}
        return [self._queue(env, e.student_id, Kind.GRADE_RECORDED, facts)]

    def on_StatementIssued(self, env: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, rp.StatementIssued)
        return [self._queue(env, e.student_id, Kind.STATEMENT_READY, {"month": e.month})]

    def on_PersonalDataErased(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, idn.PersonalDataErased)
        return [(self.ERASE, (e.person_id,)), (self.FORGET, (e.person_id,))]
