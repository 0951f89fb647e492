"""Issuing documents: load what the read models say → assemble (pure) → append what changed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from ezurnals.reporting.domain.calendar import month_days
from ezurnals.reporting.domain.report_cards import ReportCard, assemble_report_cards
from ezurnals.reporting.domain.statements import MonthlyStatement, assemble_statement
from ezurnals.reporting.queries import Reads
from ezurnals.shared.contracts.base import SYSTEM, Actor, EventEnvelope
from ezurnals.shared.contracts.reporting import ReportCardIssued, ReportPeriod, StatementIssued
from ezurnals.shared.domain import Conflict
from ezurnals.shared.eventstore import CommandContext, ConcurrencyConflict
from ezurnals.shared.eventstore.store import InlineProjection
from ezurnals.shared.service import Runtime


@dataclass(frozen=True)
class StatementRun:
    month: str
    issued: int
    unchanged: int


def statement_stream(student_id: UUID, month: str) -> str:
    return f"statement-{student_id}-{month}"


def _storing(content: str) -> InlineProjection:
    """Keep the statement's content beside its event, in the append's transaction."""

    async def store(conn: asyncpg.Connection, envelopes: Sequence[EventEnvelope]) -> None:
        for env in envelopes:
            e = StatementIssued.model_validate(env.payload)
            await conn.execute(
                """INSERT INTO statements (student_id, month, school_id, class_id, statement_id,
                       version, content, content_sha256, issued_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)
                   ON CONFLICT (student_id, month) DO UPDATE SET class_id = excluded.class_id,
                       statement_id = excluded.statement_id, version = excluded.version,
                       content = excluded.content, content_sha256 = excluded.content_sha256,
                       issued_at = excluded.issued_at""",
                e.student_id,
                e.month,
                e.school_id,
                e.class_id,
                e.statement_id,
                env.stream_version,
                content,
                e.content_sha256,
                e.issued_at,
            )

    return store


async def issue_statements(
    runtime: Runtime,
    school_id: UUID,
    month: str,
    *,
    now: datetime,
    class_id: UUID | None = None,
    actor: Actor = SYSTEM,
) -> StatementRun:
    """Issue the month's statement of every student of the school (or one class).

    Idempotent: a student whose statement content is unchanged gets nothing new, so the job and
    any re-run for any month may run as often as they like.
    """
    first, last = month_days(month)
    async with runtime.db.raw() as conn:
        reads = Reads(conn, runtime.settings.read_model_schema)
        students = await reads.students_between(school_id, first, last, class_id)
        ids = [s.student_id for s in students]
        grades, absences, names = await reads.month_facts(school_id, ids, first, last)
        issued = {
            r["student_id"]: (r["content_sha256"], r["version"])
            for r in await conn.fetch(
                "SELECT student_id, content_sha256, version FROM statements "
                "WHERE month = $1 AND student_id = ANY ($2::uuid[])",
                month,
                ids,
            )
        }
    fresh = unchanged = 0
    for enrolment in students:
        statement = assemble_statement(
            student_id=enrolment.student_id,
            class_id=enrolment.class_id,
            month=month,
            grades=grades[enrolment.student_id],
            absences=absences[enrolment.student_id],
            subject_names=names,
        )
        digest, version = issued.get(enrolment.student_id, (None, 0))
        if digest == statement.content_sha256:
            unchanged += 1
            continue
        if await _append_statement(runtime, school_id, statement, version, now, actor):
            fresh += 1
        else:
            unchanged += 1
    return StatementRun(month=month, issued=fresh, unchanged=unchanged)


async def _append_statement(
    runtime: Runtime,
    school_id: UUID,
    statement: MonthlyStatement,
    version: int,
    now: datetime,
    actor: Actor,
) -> bool:
    """False when a concurrent run issued this statement first."""
    event = StatementIssued(
        statement_id=uuid.uuid4(),
        school_id=school_id,
        student_id=statement.student_id,
        class_id=statement.class_id,
        month=statement.month,
        grades=statement.grades,
        absences_excused=statement.absences_excused,
        absences_unexcused=statement.absences_unexcused,
        content_sha256=statement.content_sha256,
        issued_at=now,
    )
    content = json.dumps(statement.model_dump(mode="json"))
    try:
        await runtime.store.append(
            statement_stream(statement.student_id, statement.month),
            version,
            [event],
            CommandContext(actor=actor, school_id=school_id, now=now),
            inline=_storing(content),
        )
    except ConcurrencyConflict:
        return False
    return True


@dataclass(frozen=True)
class ReportCardRun:
    period: str
    issued: int
    unchanged: int


def report_card_stream(student_id: UUID, school_year: str, period: str) -> str:
    return f"report-card-{student_id}-{school_year.replace('/', '-')}-{period}"


def _storing_cards(contents: dict[UUID, str]) -> InlineProjection:
    async def store(conn: asyncpg.Connection, envelopes: Sequence[EventEnvelope]) -> None:
        rows = []
        for env in envelopes:
            e = ReportCardIssued.model_validate(env.payload)
            rows.append(
                (
                    e.student_id,
                    e.school_year,
                    str(e.period),
                    e.school_id,
                    e.class_id,
                    e.report_card_id,
                    env.stream_version,
                    contents[e.student_id],
                    e.content_sha256,
                    e.issued_at,
                )
            )
        await conn.executemany(
            """INSERT INTO report_cards (student_id, school_year, period, school_id, class_id,
                   report_card_id, version, content, content_sha256, issued_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
               ON CONFLICT (student_id, school_year, period) DO UPDATE SET
                   class_id = excluded.class_id, report_card_id = excluded.report_card_id,
                   version = excluded.version, content = excluded.content,
                   content_sha256 = excluded.content_sha256, issued_at = excluded.issued_at""",
            rows,
        )

    return store


async def issue_report_cards(
    runtime: Runtime,
    klass: asyncpg.Record,
    period: ReportPeriod,
    *,
    now: datetime,
    actor: Actor = SYSTEM,
) -> ReportCardRun:
    """Issue the report cards of a class for a period, all in one transaction.

    Refused (409, with the list) while any student lacks a finalised grade in any subject of the
    class. Cards whose content is unchanged are not issued again, so re-running is harmless.
    """
    async with runtime.db.raw() as conn:
        reads = Reads(conn, runtime.settings.read_model_schema)
        facts = await reads.class_facts(klass, period)
        issued = {
            r["student_id"]: (r["content_sha256"], r["version"])
            for r in await conn.fetch(
                "SELECT student_id, content_sha256, version FROM report_cards "
                "WHERE school_year = $1 AND period = $2 AND student_id = ANY ($3::uuid[])",
                facts.school_year,
                str(period),
                list(facts.students),
            )
        }
    cards, missing = assemble_report_cards(facts, period)
    if missing:
        raise Conflict(
            f"{len(missing)} finalised grade(s) missing for the {period} report cards",
            field="period",
            code="grades_missing",
            details={"missing": [m.model_dump(mode="json") for m in missing]},
        )
    ctx = CommandContext(actor=actor, school_id=klass["school_id"], now=now)
    envelopes: list[EventEnvelope] = []
    contents: dict[UUID, str] = {}
    for card in cards:
        digest, version = issued.get(card.student_id, (None, 0))
        if digest == card.content_sha256:
            continue
        contents[card.student_id] = json.dumps(card.model_dump(mode="json"))
        envelopes += runtime.store.envelopes(
            report_card_stream(card.student_id, card.school_year, period),
            version,
            [_card_issued(card, klass["school_id"], actor, now)],
            ctx,
        )
    if envelopes:
        try:
            await runtime.store.append_envelopes(envelopes, ctx, inline=_storing_cards(contents))
        except ConcurrencyConflict:
            raise Conflict(
                "the report cards were issued at the same moment elsewhere; try again",
                field="period",
            ) from None
    return ReportCardRun(
        period=str(period), issued=len(envelopes), unchanged=len(cards) - len(envelopes)
    )


def _card_issued(
    card: ReportCard, school_id: UUID, actor: Actor, now: datetime
) -> ReportCardIssued:
    return ReportCardIssued(
        report_card_id=uuid.uuid4(),
        school_id=school_id,
        student_id=card.student_id,
        class_id=card.class_id,
        school_year=card.school_year,
        period=card.period,
        content_sha256=card.content_sha256,
        issued_by=actor.id,
        issued_at=now,
    )
