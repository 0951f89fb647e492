"""The policy's views (migration 0003) hold what the policy's events stored before them decided:
the latest definition of each scale in the order first defined, the latest deadline of each
period and band (a v1 deadline's year in the one spelling), and the semester-grades setting."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg

from ezurnals.grading import queries
from ezurnals.grading.domain import SemesterGradesUsageSet
from ezurnals.grading.service import SERVICE
from ezurnals.shared.contracts import grading as g
from ezurnals.shared.contracts.base import registry
from ezurnals.shared.db import Database, plain_url
from ezurnals.shared.eventstore import CommandContext, EventStore
from ezurnals.shared.testing.stack import TestStack

(MIGRATION,) = [m for m in SERVICE.migrations() if m.name.startswith("0003_policy_views")]
AT = datetime(2025, 9, 1, 9, tzinfo=UTC)


async def test_the_policy_views_are_filled_from_the_events_stored_before_them(
    stack: TestStack,
) -> None:
    settings = await stack.settings(SERVICE, database="grading_policy_views")
    school, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def scale(scale_id: uuid.UUID, kind: g.ScaleKind, band: tuple[int, int]) -> g.GradeScaleDefined:
        return g.GradeScaleDefined(
            scale_id=scale_id, school_id=school, kind=kind,
            band=g.GradeBand(first=band[0], last=band[1]), defined_at=AT,
        )  # fmt: skip

    short_deadline = registry.model("PeriodGradeDeadlineSet", 1)(
        school_id=school, school_year="2025/26", period=g.PeriodKind.SEMESTER1,
        due_on=date(2025, 12, 12), set_at=AT,
    )  # fmt: skip
    moved = g.PeriodGradeDeadlineSet(
        school_id=school, school_year="2025/2026", period=g.PeriodKind.SEMESTER1,
        due_on=date(2025, 12, 19), set_at=AT,
    )  # fmt: skip
    events = [
        scale(first, g.ScaleKind.PASS_FAIL, (1, 3)),
        scale(second, g.ScaleKind.TEN_POINT, (4, 12)),
        scale(first, g.ScaleKind.LEVELS, (1, 3)),  # redefined: keeps its place
        short_deadline,
        moved,
        SemesterGradesUsageSet(school_id=school, used=True, set_by=uuid.uuid4(), set_at=AT),
        SemesterGradesUsageSet(school_id=school, used=False, set_by=uuid.uuid4(), set_at=AT),
    ]
    db = Database(settings.database_url, pool_size=2)
    try:
        store = EventStore(db, topic="policy-views")
        ctx = CommandContext()
        stream = f"grading-policy:{school}"
        async with db.raw() as conn:
            # given the events, appended without the views (as before the migration)
            await store.append_envelopes(store.envelopes(stream, 0, events, ctx), ctx, conn=conn)
            await conn.execute(
                "TRUNCATE grade_scales, period_grade_deadlines, semester_grades_usage"
            )
        # when the migration runs
        conn = await asyncpg.connect(plain_url(settings.database_url))
        try:
            await conn.execute(MIGRATION.sql)
        finally:
            await conn.close()
        # then the views say what the policy decided
        async with db.raw() as conn:
            policy = await queries.school_policy(conn, school)
        assert list(policy.scales) == [first, second]
        assert policy.scales[first].kind is g.ScaleKind.LEVELS
        assert policy.deadlines == {("2025/2026", g.PeriodKind.SEMESTER1, None): date(2025, 12, 19)}
        assert policy.semester_grades_used is False
    finally:
        await db.dispose()
