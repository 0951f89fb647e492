"""One function per command: load the aggregate and the school's facts → decide → append.

Settling (AbsenceExcused for absences an accepted excuse covers, AbsenceThresholdReached when a
month's count reaches a threshold) runs right after every append that records an absence, a
correction or an accepted excuse, so the caller reads the consequence at once. It is a separate
transaction after the fact's commit: of two concurrent facts about one student (an absence and
an excuse) at least one settle sees both, and competing settles collide on the student stream's
version and retry. A student is noted in ``pending_settlements`` in the fact's own transaction and
cleared once settled, so a crash in between is caught up by the worker's ``settle_pending`` job.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from ezurnals.attendance import queries
from ezurnals.attendance.domain import (
    AcceptExcuse,
    CorrectMark,
    ExcuseAbsences,
    ExcuseRequest,
    LessonAttendance,
    RejectExcuse,
    Relationships,
    SubmitExcuse,
    TakeAttendance,
    check_attachment,
)
from ezurnals.attendance.domain import excuses as excuse_streams
from ezurnals.attendance.domain import lesson_attendance as lesson_streams
from ezurnals.attendance.domain import student_absences as student_streams
from ezurnals.attendance.domain.daily_report import ScheduleDailyReport
from ezurnals.attendance.domain.policy import (
    AttendanceSettings,
    DefineAbsenceCodes,
    SetExcusePolicy,
)
from ezurnals.shared.auth import Principal
from ezurnals.shared.contracts.attendance import (
    AbsenceCorrected,
    AbsenceRecorded,
    ExcuseAccepted,
    ExcuseRejected,
    ExcuseSubmitted,
)
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.domain import require_seen
from ezurnals.shared.eventstore import CommandContext, CommandResult, ConcurrencyConflict
from ezurnals.shared.eventstore.store import InlineProjection
from ezurnals.shared.http.commands import Decision, execute
from ezurnals.shared.service import Runtime

log = structlog.get_logger(__name__)

SETTLE_ATTEMPTS = 5
SETTLES = frozenset(
    {AbsenceRecorded.event_type, AbsenceCorrected.event_type, ExcuseAccepted.event_type}
)


@asynccontextmanager
async def reading(runtime: Runtime) -> Any:
    """A connection for reads; answers 503 while the worker has not yet created the read models."""
    async with runtime.db.raw() as conn:
        with read_models():
            yield conn


@contextmanager
def read_models() -> Iterator[None]:
    """Reads of the read models answer 503 while the worker has not yet created them."""
    try:
        yield
    except asyncpg.UndefinedTableError:
        raise queries.read_models_missing() from None


# --- own query tables, kept in the append's transaction -------------------------------------


async def record_facts(conn: asyncpg.Connection, envelopes: Sequence[EventEnvelope]) -> None:
    """Excuse requests' status for listing, and the students whose facts need settling (noted
    in one statement: a lesson's absences are one round trip, not one each)."""
    unsettled: dict[UUID, UUID | None] = {}
    for env in envelopes:
        event = env.parse()
        if isinstance(event, ExcuseSubmitted):
            await conn.execute(
                """INSERT INTO excuse_requests (request_id, school_id, student_id, status,
                       document_type, reason, covers_from, covers_to, lesson_ids, attachment_id,
                       submitted_by, submitted_as, submitted_at)
                   VALUES ($1, $2, $3, 'submitted', $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
                event.request_id,
                env.school_id,
                event.student_id,
                event.document_type,
                event.reason,
                event.covers_from,
                event.covers_to,
                list(event.lesson_ids),
                event.attachment.attachment_id if event.attachment else None,
                event.submitted_by,
                event.submitted_as,
                env.occurred_at,
            )
        elif isinstance(event, ExcuseAccepted | ExcuseRejected):
            decided_by = (
                event.accepted_by if isinstance(event, ExcuseAccepted) else event.rejected_by
            )
            await conn.execute(
                """UPDATE excuse_requests SET status = $2, decided_by = $3, decided_at = $4,
                       rejection_reason = $5 WHERE request_id = $1""",
                event.request_id,
                "accepted" if isinstance(event, ExcuseAccepted) else "rejected",
                decided_by,
                env.occurred_at,
                event.reason if isinstance(event, ExcuseRejected) else None,
            )
        if env.event_type in SETTLES:
            unsettled[UUID(env.payload["student_id"])] = env.school_id
    if unsettled:
        await conn.execute(
            """INSERT INTO pending_settlements
               SELECT student_id, school_id, clock_timestamp()
               FROM unnest($1::uuid[], $2::uuid[]) AS noted (student_id, school_id)
               ON CONFLICT (student_id) DO UPDATE SET noted_at = excluded.noted_at""",
            list(unsettled),
            list(unsettled.values()),
        )


def with_attachment(
    content: bytes,
    student_id: UUID,
    uploaded_by: UUID,
    school_id: UUID,
    attachment_id: UUID,
    meta: tuple[str, str, int],
) -> InlineProjection:
    """Stores the document in the same transaction as the request that refers to it."""

    async def store(conn: asyncpg.Connection, envelopes: Sequence[EventEnvelope]) -> None:
        content_type, sha256, size = meta
        await conn.execute(
            """INSERT INTO excuse_attachments (attachment_id, school_id, student_id, uploaded_by,
                   content_type, sha256, size_bytes, content) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)""",
            attachment_id,
            school_id,
            student_id,
            uploaded_by,
            content_type,
            sha256,
            size,
            content,
        )
        await record_facts(conn, envelopes)

    return store


# --- settling -------------------------------------------------------------------------------


async def settle(runtime: Runtime, ctx: CommandContext, students: Iterable[UUID]) -> int:
    """Append what each student's known facts imply; returns how many absences were excused."""
    excused = 0
    for student_id in sorted(set(students)):
        excused += await settle_student(runtime, ctx, student_id)
    return excused


async def settle_student(runtime: Runtime, ctx: CommandContext, student_id: UUID) -> int:
    """Reads, append and clearing the note on one connection: one pool checkout per student."""
    assert ctx.school_id is not None
    stream = student_streams.stream_id_for(student_id)
    async with runtime.db.raw() as conn:
        for _ in range(SETTLE_ATTEMPTS):
            noted = await conn.fetchval(
                "SELECT noted_at FROM pending_settlements WHERE student_id = $1", student_id
            )
            student = (await queries.students_absences(conn, ctx.school_id, [student_id]))[
                student_id
            ]
            settings = await queries.attendance_settings(runtime.store, ctx.school_id, conn=conn)
            events = student.settle(settings.policy_on)
            try:
                if events:
                    await runtime.store.append(stream, student.version, events, ctx, conn=conn)
            except ConcurrencyConflict:
                continue
            if noted is not None:
                await conn.execute(
                    "DELETE FROM pending_settlements WHERE student_id = $1 AND noted_at = $2",
                    student_id,
                    noted,
                )
            return sum(1 for e in events if e.event_type == "AbsenceExcused")
    log.warning("attendance.settle_contended", student_id=str(student_id))
    return 0


# --- commands -------------------------------------------------------------------------------


async def _lesson_inputs(
    runtime: Runtime,
    ctx: CommandContext,
    principal: Principal,
    lesson_id: UUID,
    conn: asyncpg.Connection,
) -> tuple[queries.Lesson, Relationships, LessonAttendance, AttendanceSettings]:
    """What a decision about a lesson's attendance needs: the lesson, who is asking in relation
    to it, its attendance so far and the school's codes (both streams in one round trip)."""
    with read_models():
        lesson = await queries.lesson(conn, principal.school_id, lesson_id)
        today = await queries.today_in_school(conn, principal.school_id, ctx.now)
        rel = await queries.relationships(conn, principal, today, lesson=lesson)
    taken = lesson_streams.stream_id_for(lesson_id)
    rules = queries.settings_stream_id(principal.school_id)
    loaded = await runtime.store.load_many([taken, rules], conn=conn)
    attendance = LessonAttendance.rehydrate(taken, queries.parsed(loaded[taken]))
    settings = AttendanceSettings.rehydrate(rules, queries.parsed(loaded[rules]))
    return lesson, rel, attendance, settings


async def take_attendance(
    runtime: Runtime, ctx: CommandContext, principal: Principal, cmd: TakeAttendance
) -> CommandResult:
    """Reads, decision and append share one pooled connection."""
    absent: list[UUID] = []
    ours: list[CommandResult] = []

    async def decide() -> Decision:
        lesson, rel, attendance, settings = await _lesson_inputs(
            runtime, ctx, principal, cmd.lesson_id, conn
        )
        events = attendance.take(
            cmd, lesson=lesson.context, codes=settings.codes, by=rel, now=ctx.now
        )
        taken = events[0]
        # decided again after a lost race: only the last decision counts
        absent[:] = [e.student_id for e in events if isinstance(e, AbsenceRecorded)]
        body = {
            "lesson_id": str(cmd.lesson_id),
            "all_present": cmd.all_present,
            "marks": len(absent),
            "late_entry": getattr(taken, "late_entry", False),
            "late_entry_minutes": getattr(taken, "late_entry_minutes", 0),
        }
        ours.append(CommandResult(201, body))
        return Decision(attendance.stream_id, attendance.version, events, ours[-1])

    async with runtime.db.raw() as conn:
        result = await execute(runtime.store, ctx, decide, inline=record_facts, conn=conn)
    if carried_out(result, ours):
        await settle(runtime, ctx, absent)
    return result


def carried_out(result: CommandResult, ours: Sequence[CommandResult]) -> bool:
    """Whether this request's decision was appended, not a retry answered as the first time
    (settling again for a retry would find nothing new)."""
    return bool(ours) and result is ours[-1]


async def correct_mark(
    runtime: Runtime, ctx: CommandContext, principal: Principal, cmd: CorrectMark
) -> CommandResult:
    changed: list[UUID] = []
    ours: list[CommandResult] = []

    async def decide() -> Decision:
        lesson, rel, attendance, settings = await _lesson_inputs(
            runtime, ctx, principal, cmd.lesson_id, conn
        )
        events = attendance.correct(cmd, lesson=lesson.context, codes=settings.codes, by=rel)
        changed[:] = [e.student_id for e in events if isinstance(e, AbsenceCorrected)]
        body = {
            "lesson_id": str(cmd.lesson_id),
            "changed": bool(events),
            "revision": attendance.revision + len(events),
        }
        ours.append(CommandResult(200, body))
        return Decision(attendance.stream_id, attendance.version, events, ours[-1])

    async with runtime.db.raw() as conn:
        result = await execute(runtime.store, ctx, decide, inline=record_facts, conn=conn)
    if carried_out(result, ours):
        await settle(runtime, ctx, changed)
    return result


@dataclasses.dataclass(frozen=True)
class Upload:
    content: bytes
    max_bytes: int


async def submit_excuse(
    runtime: Runtime,
    ctx: CommandContext,
    principal: Principal,
    fields: dict[str, Any],
    upload: Upload | None,
) -> CommandResult:
    """``fields`` are SubmitExcuse's without ``request_id`` and ``attachment``."""
    request_id = uuid.uuid4()
    inline: InlineProjection = record_facts

    async def decide() -> Decision:
        nonlocal inline
        async with reading(runtime) as conn:
            today = await queries.today_in_school(conn, principal.school_id, ctx.now)
            rel = await queries.relationships(conn, principal, today)
            dates = await queries.lesson_dates(
                conn, principal.school_id, fields.get("lesson_ids", ())
            )
            school_year = await queries.school_year(conn, principal.school_id, today)
        attachment = None
        if upload is not None:
            attachment = check_attachment(
                upload.content, attachment_id=uuid.uuid4(), max_bytes=upload.max_bytes
            )
        cmd = SubmitExcuse(request_id=request_id, attachment=attachment, **fields)
        settings = await queries.attendance_settings(runtime.store, principal.school_id)
        request = ExcuseRequest(excuse_streams.stream_id_for(request_id))
        events = request.submit(
            cmd,
            by=rel,
            policy=settings.policy_on(today),
            today=today,
            lesson_dates=dates,
            school_year=school_year,
        )
        if attachment is not None and upload is not None:
            inline = with_attachment(
                upload.content,
                cmd.student_id,
                principal.person_id,
                principal.school_id,
                attachment.attachment_id,
                (attachment.content_type, attachment.sha256, attachment.size_bytes),
            )
        body = {
            "request_id": str(request_id),
            "status": "submitted",
            "attachment_id": str(attachment.attachment_id) if attachment else None,
        }
        return Decision(request.stream_id, 0, events, CommandResult(201, body))

    async def inline_now(conn: asyncpg.Connection, envs: Sequence[EventEnvelope]) -> None:
        await inline(conn, envs)

    return await execute(runtime.store, ctx, decide, inline=inline_now)


async def decide_excuse(
    runtime: Runtime,
    ctx: CommandContext,
    principal: Principal,
    cmd: AcceptExcuse | RejectExcuse,
) -> CommandResult:
    """Accept (and excuse every covered absence) or reject a family's request."""
    student: list[UUID] = []
    ours: list[CommandResult] = []

    async def decide() -> Decision:
        stream = excuse_streams.stream_id_for(cmd.request_id)
        request = ExcuseRequest(stream)
        if await _request_in_school(runtime, principal.school_id, cmd.request_id):
            request = ExcuseRequest.rehydrate(
                stream, await queries.load_stream(runtime.store, stream)
            )
        async with reading(runtime) as conn:
            today = await queries.today_in_school(conn, principal.school_id, ctx.now)
            rel = await queries.relationships(conn, principal, today)
        if isinstance(cmd, AcceptExcuse):
            events = request.accept(cmd, by=rel)
            status = "accepted"
        else:
            events = request.reject(cmd, by=rel)
            status = "rejected"
        student[:] = [] if request.student_id is None else [request.student_id]
        body = {"request_id": str(cmd.request_id), "status": status}
        ours.append(CommandResult(200, body))
        return Decision(stream, request.version, events, ours[-1])

    result = await execute(runtime.store, ctx, decide, inline=record_facts)
    if result.body.get("status") == "accepted":
        excused = await settle(runtime, ctx, student if carried_out(result, ours) else ())
        return CommandResult(result.status, {**result.body, "excused_now": excused})
    return result


async def _request_in_school(runtime: Runtime, school_id: UUID, request_id: UUID) -> bool:
    async with runtime.db.raw() as conn:
        return bool(
            await conn.fetchval(
                "SELECT 1 FROM excuse_requests WHERE request_id = $1 AND school_id = $2",
                request_id,
                school_id,
            )
        )


async def excuse_directly(
    runtime: Runtime, ctx: CommandContext, principal: Principal, cmd: ExcuseAbsences
) -> CommandResult:
    """The class teacher excuses absences against a paper document they hold (rule 4)."""

    async def decide() -> Decision:
        async with reading(runtime) as conn:
            today = await queries.today_in_school(conn, principal.school_id, ctx.now)
            rel = await queries.relationships(conn, principal, today)
            in_school = await queries.student_in_school(conn, principal.school_id, cmd.student_id)
            require_seen(in_school, "student", "student_id")
            student = (
                await queries.students_absences(conn, principal.school_id, [cmd.student_id])
            )[cmd.student_id]
        events = student.excuse_directly(cmd, by=rel)
        body = {"excuse_id": str(cmd.excuse_id), "excused": len(events)}
        return Decision(student.stream_id, student.version, events, CommandResult(201, body))

    return await execute(runtime.store, ctx, decide, inline=record_facts)


async def define_codes(
    runtime: Runtime, ctx: CommandContext, principal: Principal, cmd: DefineAbsenceCodes
) -> CommandResult:
    return await _change_settings(
        runtime, ctx, principal, lambda s, rel, today: s.define_codes(cmd, by=rel)
    )


async def set_excuse_policy(
    runtime: Runtime, ctx: CommandContext, principal: Principal, cmd: SetExcusePolicy
) -> CommandResult:
    return await _change_settings(
        runtime, ctx, principal, lambda s, rel, today: s.set_excuse_policy(cmd, by=rel, today=today)
    )


async def schedule_daily_report(
    runtime: Runtime, ctx: CommandContext, principal: Principal, cmd: ScheduleDailyReport
) -> CommandResult:
    return await _change_settings(
        runtime,
        ctx,
        principal,
        lambda s, rel, today: s.schedule_daily_report(cmd, by=rel, today=today),
    )


async def _change_settings(
    runtime: Runtime,
    ctx: CommandContext,
    principal: Principal,
    change: Callable[[Any, Any, date], list[Any]],
) -> CommandResult:
    """``change`` decides on the settings, the caller's relationships and the school's today."""

    async def decide() -> Decision:
        async with reading(runtime) as conn:
            today = await queries.today_in_school(conn, principal.school_id, ctx.now)
            rel = await queries.relationships(conn, principal, today)
        settings = await queries.attendance_settings(runtime.store, principal.school_id)
        events = change(settings, rel, today)
        body = {"school_id": str(principal.school_id), "version": settings.version + len(events)}
        return Decision(settings.stream_id, settings.version, events, CommandResult(200, body))

    return await execute(runtime.store, ctx, decide)
