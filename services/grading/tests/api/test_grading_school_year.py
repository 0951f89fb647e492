"""A grade book written while grading spelled the school year "2025/26" keeps its history under
the one spelling, "2025/2026": migration 0002 re-keys its stream and the v1 events upcast."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg

from ezurnals.grading.domain import GradeBookKey
from ezurnals.grading.service import SERVICE
from ezurnals.shared.contracts import grading as g
from ezurnals.shared.contracts.base import registry
from ezurnals.shared.db import Database, plain_url
from ezurnals.shared.eventstore import CommandContext, EventStore
from ezurnals.shared.testing.stack import TestStack

(MIGRATION,) = [m for m in SERVICE.migrations() if m.name.startswith("0002_one_school_year")]


async def test_a_book_of_the_short_year_is_found_under_the_long_one(stack: TestStack) -> None:
    settings = await stack.settings(SERVICE, database="grading_one_year")
    school, klass, subject = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    short = ":".join(("grade-book", str(school), str(klass), str(subject), "2025/26"))
    recorded = registry.model("GradeRecorded", 1)(
        school_id=school, class_id=klass, subject_id=subject, school_year="2025/26",
        grade_id=uuid.uuid4(), student_id=uuid.uuid4(), term=g.Term.SEMESTER1,
        given_on=date(2025, 10, 6), work_title="Diktāts", work_kind=g.WorkKind.TEST,
        summative=True, scale=g.ScaleKind.TEN_POINT, value="7", points=7,
        recorded_by=uuid.uuid4(), recorded_at=datetime(2025, 10, 6, 9, tzinfo=UTC),
    )  # fmt: skip
    db = Database(settings.database_url, pool_size=2)
    try:
        store = EventStore(db, topic="one-year")
        # given a grade recorded under v1, in a stream keyed by "2025/26"
        ctx = CommandContext()
        await store.append_envelopes(store.envelopes(short, 0, [recorded], ctx), ctx)
        # when the migration runs
        conn = await asyncpg.connect(plain_url(settings.database_url))
        try:
            await conn.execute(MIGRATION.sql)
        finally:
            await conn.close()
        # then the book of "2025/2026" holds the grade, its year in the one spelling
        key = GradeBookKey(school, klass, subject, "2025/2026")
        assert key.stream_id.endswith(":2025/2026")
        (envelope,) = await store.load(key.stream_id)
        read = envelope.parse()
        assert isinstance(read, g.GradeRecorded) and envelope.schema_version == 1
        assert read.school_year == "2025/2026"
        assert await store.load(short) == []
    finally:
        await db.dispose()
