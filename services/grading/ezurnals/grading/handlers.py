"""One function per command: load the aggregate and the facts it needs, decide, append.

The facts come from the read models (class, roster, calendar, the caller's relationships); the
grade book and the school's policy are rehydrated from their streams, so the decisions about
locks and scales are always made on the latest committed state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import structlog
from pydantic import BaseModel, ConfigDict, Field

from ezurnals.grading import queries
from ezurnals.grading.access import Access, require_sees_book
from ezurnals.grading.domain import (
    CorrectGrade,
    DefineGradeScale,
    FinalizePeriod,
    GradeBook,
    GradeBookKey,
    GradeScale,
    GradingPolicy,
    Mark,
    RecordGrades,
    Relationships,
    SchoolGradingPolicy,
    SetPeriodGradeDeadline,
    SetPeriodGrades,
    SetSemesterGradesUsage,
    UnlockPeriod,
    Work,
    can_define_grading_policy,
    can_finalize_period,
    can_record_grades,
    can_unlock_period,
)
from ezurnals.grading.projections import OWN_VIEWS, POLICY_VIEWS
from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.contracts.grading import PeriodKind, WorkKind
from ezurnals.shared.domain import Command, Invalid
from ezurnals.shared.eventstore import CommandContext, CommandResult, parse_column
from ezurnals.shared.http.commands import Decision, execute, execute_on
from ezurnals.shared.service import Runtime

log = structlog.get_logger(__name__)


# --- commands as the API receives them ------------------------------------------------------


class NewWork(BaseModel):
    """The piece of work as the teacher names it; the term comes from the school calendar."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=500)]
    kind: WorkKind
    summative: bool = True
    weight: Annotated[Decimal, Field(gt=0, le=100)] = Decimal(1)
    lesson_id: UUID | None = None
    #: Defaults to the lesson's date when the grade is for a lesson.
    given_on: date | None = None


class NewMark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    student_id: UUID
    value: Annotated[str, Field(min_length=1, max_length=16)]
    #: Chosen by the client to make retries safe; generated otherwise.
    grade_id: UUID | None = None


class GradeWork(Command):
    """Grade one student or a whole class for one piece of work."""

    work: NewWork
    marks: Annotated[tuple[NewMark, ...], Field(min_length=1, max_length=60)]


# --- policy -----------------------------------------------------------------------------------


async def load_policy(
    runtime: Runtime, school_id: UUID, *, conn: asyncpg.Connection | None = None
) -> SchoolGradingPolicy:
    """``conn``: the connection the command already holds, so it needs no second checkout."""
    policy = SchoolGradingPolicy.for_school(school_id)
    loaded = await runtime.store.load(policy.stream_id, conn=conn)
    return SchoolGradingPolicy.rehydrate(policy.stream_id, [e.parse() for e in loaded])


PolicyChange = Callable[[SchoolGradingPolicy], Sequence[IntegrationEvent]]


async def _on_policy(
    runtime: Runtime,
    conn: asyncpg.Connection,
    ctx: CommandContext,
    access: Access,
    action: str,
    change: PolicyChange,
    body: dict[str, Any],
) -> CommandResult:
    """The school's administration changes its grading policy; ``action`` names it for a 403."""
    access.acting(lambda c: can_define_grading_policy(c, access.school_id), action)

    async def decide() -> Decision:
        policy = await load_policy(runtime, access.school_id, conn=conn)
        events = change(policy)
        return Decision(policy.stream_id, policy.version, events, CommandResult(200, body))

    return await execute(runtime.store, ctx, decide, inline=POLICY_VIEWS, conn=conn)


async def define_scale(
    runtime: Runtime,
    conn: asyncpg.Connection,
    ctx: CommandContext,
    access: Access,
    cmd: DefineGradeScale,
) -> CommandResult:
    body = {"scale_id": str(cmd.scale_id), "allowed": list(_scale_of(cmd).allowed_values)}
    return await _on_policy(
        runtime,
        conn,
        ctx,
        access,
        "define grade scales",
        lambda policy: policy.define_scale(cmd, by=access.person_id, now=ctx.now),
        body,
    )


def _scale_of(cmd: DefineGradeScale) -> GradeScale:
    return GradeScale(
        cmd.kind,
        lowest_pass=cmd.lowest_pass,
        percent_table=cmd.percent_table,
        level_bands=cmd.level_bands,
    )


async def set_deadline(
    runtime: Runtime,
    conn: asyncpg.Connection,
    ctx: CommandContext,
    access: Access,
    cmd: SetPeriodGradeDeadline,
) -> CommandResult:
    return await _on_policy(
        runtime,
        conn,
        ctx,
        access,
        "set period-grade deadlines",
        lambda policy: policy.set_deadline(cmd, by=access.person_id, now=ctx.now),
        cmd.model_dump(mode="json"),
    )


async def set_semester_grades_usage(
    runtime: Runtime,
    conn: asyncpg.Connection,
    ctx: CommandContext,
    access: Access,
    cmd: SetSemesterGradesUsage,
) -> CommandResult:
    return await _on_policy(
        runtime,
        conn,
        ctx,
        access,
        "decide about semester grades",
        lambda policy: policy.set_semester_grades_usage(cmd, by=access.person_id, now=ctx.now),
        {"semester_grades_used": cmd.used},
    )


# --- grade books ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookContext:
    """Everything a decision on one class-subject grade book needs besides the book itself."""

    key: GradeBookKey
    klass: queries.ClassInfo
    roster: frozenset[UUID]
    scale: GradeScale
    relationships: Relationships
    today: date
    policy: GradingPolicy
    #: The book's events read with the facts, if its stream was known before they were read.
    read: queries.BookRead | None = None


def _book_of(
    facts: queries.BookFacts,
    access: Access,
    klass: queries.ClassInfo,
    subject_id: UUID,
    now: datetime,
) -> BookContext:
    school_id = access.school_id
    today = facts.today(now)
    relationships = facts.relationships(school_id, access.person_id, today)
    require_sees_book(access, relationships, klass.class_id, subject_id)
    return BookContext(
        key=GradeBookKey(school_id, klass.class_id, subject_id, klass.school_year),
        klass=klass,
        roster=facts.roster,
        scale=facts.policy.scale_for(klass.grade_level, subject_id),
        relationships=relationships,
        today=today,
        policy=facts.policy,
        read=facts.book,
    )


def _context(
    ctx: CommandContext, access: Access, facts: queries.BookFacts, subject_id: UUID
) -> BookContext:
    """The book's context from ``facts``, which bring the school's policy along."""
    return _book_of(facts, access, facts.found_class(), subject_id, ctx.now)


def _require_teacher(access: Access, book: BookContext) -> None:
    k = book.key
    access.acting(
        lambda c: can_record_grades(c, book.relationships, k.class_id, k.subject_id),
        "grade this class in this subject",
    )


#: What a grade book decided: the new events and the answer to give.
Outcome = tuple[Sequence[IntegrationEvent], dict[str, Any]]
Decide = Callable[[GradeBook], Outcome]


def book_to_read(
    runtime: Runtime, school_id: UUID, class_id: UUID, subject_id: UUID
) -> tuple[str, int] | None:
    """The stream of the class-subject's grade book as this process last decided on it (its
    name holds the school year, which the request does not say), and the version kept of it (0:
    none); None for a book not seen yet."""
    stream_id = runtime.aggregates.stream_named(GradeBook, (school_id, class_id, subject_id))
    if stream_id is None:
        return None
    return stream_id, runtime.aggregates.version_of(GradeBook, stream_id)


async def _on_book(
    runtime: Runtime,
    conn: asyncpg.Connection,
    ctx: CommandContext,
    book_ctx: BookContext,
    decision: Decide,
    status: int = 200,
) -> CommandResult:
    """Take the grade book (kept between commands, and caught up by the events read with its
    facts when that was the book's stream), let it decide, append and update the views."""
    key, read = book_ctx.key, book_ctx.read
    if read is not None and read.stream_id == key.stream_id:
        newer = parse_column(read.events)
        runtime.aggregates.caught_up(GradeBook, key.stream_id, read.after_version, newer)
    name = (key.school_id, key.class_id, key.subject_id)
    runtime.aggregates.named(GradeBook, name, key.stream_id)

    def decide(book: GradeBook) -> tuple[Sequence[IntegrationEvent], CommandResult]:
        events, body = decision(book)
        return events, CommandResult(status, body)

    return await execute_on(
        runtime.aggregates,
        runtime.store,
        ctx,
        GradeBook,
        key.stream_id,
        decide,
        inline=OWN_VIEWS,
        conn=conn,
    )


def _shown(events: Sequence[IntegrationEvent], fields: set[str]) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json", include=fields) for e in events]


async def record_grades(
    runtime: Runtime,
    conn: asyncpg.Connection,
    ctx: CommandContext,
    access: Access,
    facts: queries.BookFacts,
    class_id: UUID,
    subject_id: UUID,
    request: GradeWork,
) -> CommandResult:
    book_ctx = _context(ctx, access, facts, subject_id)
    _require_teacher(access, book_ctx)
    work = request.work
    given_on = work.given_on
    if work.lesson_id is not None:
        if facts.lesson_date is None:
            raise Invalid("no such lesson of this class and subject", field="work.lesson_id")
        given_on = given_on or facts.lesson_date
    if given_on is None:
        raise Invalid("say when the work was given", field="work.given_on")
    term = queries.term_of(facts.semesters, book_ctx.klass.school_year, given_on)
    cmd = RecordGrades(
        work=Work(**work.model_dump(exclude={"given_on"}), given_on=given_on, term=term),
        marks=tuple(
            Mark(grade_id=m.grade_id or uuid.uuid4(), student_id=m.student_id, value=m.value)
            for m in request.marks
        ),
    )

    def decision(book: GradeBook) -> Outcome:
        events = book.record(
            cmd, roster=book_ctx.roster, scale=book_ctx.scale, by=access.person_id, now=ctx.now
        )
        fields = {"grade_id", "student_id", "value", "points", "scale"}
        body = {"term": term.value, "given_on": str(given_on), "grades": _shown(events, fields)}
        return events, body

    return await _on_book(runtime, conn, ctx, book_ctx, decision, status=201)


async def correct_grade(
    runtime: Runtime,
    conn: asyncpg.Connection,
    ctx: CommandContext,
    access: Access,
    facts: queries.BookFacts,
    class_id: UUID,
    subject_id: UUID,
    cmd: CorrectGrade,
) -> CommandResult:
    book_ctx = _context(ctx, access, facts, subject_id)
    _require_teacher(access, book_ctx)

    def decision(book: GradeBook) -> Outcome:
        events = book.correct(cmd, scale=book_ctx.scale, by=access.person_id, now=ctx.now)
        [body] = _shown(events, {"grade_id", "old_value", "new_value", "reason"})
        return events, body

    return await _on_book(runtime, conn, ctx, book_ctx, decision)


async def set_period_grades(
    runtime: Runtime,
    conn: asyncpg.Connection,
    ctx: CommandContext,
    access: Access,
    facts: queries.BookFacts,
    class_id: UUID,
    subject_id: UUID,
    cmd: SetPeriodGrades,
) -> CommandResult:
    book_ctx = _context(ctx, access, facts, subject_id)
    _require_teacher(access, book_ctx)
    book_ctx.policy.require_given(cmd.period)

    def decision(book: GradeBook) -> Outcome:
        events = book.set_period_grades(
            cmd, roster=book_ctx.roster, scale=book_ctx.scale, by=access.person_id, now=ctx.now
        )
        fields = {"student_id", "value", "suggested_value", "overridden"}
        return events, {"period": cmd.period.value, "grades": _shown(events, fields)}

    return await _on_book(runtime, conn, ctx, book_ctx, decision)


async def finalize_period(
    runtime: Runtime,
    conn: asyncpg.Connection,
    ctx: CommandContext,
    access: Access,
    facts: queries.BookFacts,
    class_id: UUID,
    subject_id: UUID,
    period: PeriodKind,
) -> CommandResult:
    book_ctx = _context(ctx, access, facts, subject_id)
    access.acting(
        lambda c: can_finalize_period(c, book_ctx.relationships, class_id, subject_id),
        "finalise this class-subject period",
    )
    book_ctx.policy.require_given(period)

    def decision(book: GradeBook) -> Outcome:
        cmd = FinalizePeriod(period=period)
        events = book.finalize(
            cmd, roster=book_ctx.roster, scale=book_ctx.scale, by=access.person_id, now=ctx.now
        )
        # every GradeFinalized, then the one PeriodFinalized
        return events, {"period": period.value, "locked": True, "students": len(events) - 1}

    return await _on_book(runtime, conn, ctx, book_ctx, decision)


async def unlock_period(
    runtime: Runtime,
    conn: asyncpg.Connection,
    ctx: CommandContext,
    access: Access,
    facts: queries.BookFacts,
    class_id: UUID,
    subject_id: UUID,
    cmd: UnlockPeriod,
) -> CommandResult:
    book_ctx = _context(ctx, access, facts, subject_id)
    caller = access.acting(
        lambda c: can_unlock_period(c, access.school_id), "unlock a finalised period"
    )

    def decision(book: GradeBook) -> Outcome:
        events = book.unlock(cmd, caller=caller, now=ctx.now)
        return events, {"period": cmd.period.value, "locked": False, "reason": cmd.reason.strip()}

    result = await _on_book(runtime, conn, ctx, book_ctx, decision)
    log.info(
        "grading.period_unlocked",
        school_id=str(access.school_id),
        class_id=str(class_id),
        subject_id=str(subject_id),
        period=cmd.period.value,
        unlocked_by=str(access.person_id),
        reason=cmd.reason.strip(),
    )
    return result
