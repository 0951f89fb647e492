"""The diary kept in memory: what is kept, what a change makes it forget, and the notices that
PostgreSQL sends for changes to the read models (real server, real triggers)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import asyncpg
import pytest

from ezurnals.reporting.diary_cache import DiaryCache, Key
from ezurnals.reporting.domain.access import StudentFacts
from ezurnals.reporting.projections import all_projections
from ezurnals.shared.db import Database
from ezurnals.shared.messaging.notices import Notice, NoticeListener, swap_notice
from ezurnals.shared.messaging.projection import install
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.stack import TestStack, eventually

SCHOOL = uuid.uuid4()
MONDAY = date(2025, 10, 6)


def _facts(*classes: uuid.UUID) -> StudentFacts:
    return StudentFacts(student_id=uuid.uuid4(), class_ids=frozenset(classes))


def _live(capacity: int = 100) -> DiaryCache:
    cache = DiaryCache(capacity, "rm")
    cache.reset(connected=True)
    return cache


def _keep(cache: DiaryCache, facts: StudentFacts, body: bytes = b"{}") -> Key:
    key = (SCHOOL, facts.student_id, MONDAY)
    with cache.filling() as ticket:
        assert cache.put(key, facts, body, ticket)
    return key


# --- given–when–then, in memory ---------------------------------------------------------------


def test_a_kept_week_is_answered_from_memory_until_its_student_changes() -> None:
    cache = _live()
    facts = _facts(uuid.uuid4())
    key = _keep(cache, facts, b'{"lessons": []}')

    kept = cache.get(key)
    assert kept is not None and kept.body == b'{"lessons": []}' and kept.facts == facts

    cache.notice(Notice("rm", "student", str(facts.student_id)))
    assert cache.get(key) is None
    assert len(cache) == 0


def test_a_change_to_a_lesson_of_the_class_forgets_every_week_of_its_students() -> None:
    cache = _live()
    class_a, class_b = uuid.uuid4(), uuid.uuid4()
    in_a, in_b = _facts(class_a), _facts(class_b)
    key_a, key_b = _keep(cache, in_a), _keep(cache, in_b)

    cache.notice(Notice("rm", "class", str(class_a)))

    assert cache.get(key_a) is None
    assert cache.get(key_b) is not None


def test_notices_of_another_schema_change_nothing() -> None:
    cache = _live()
    facts = _facts(uuid.uuid4())
    key = _keep(cache, facts)

    cache.notice(Notice("rm_rebuild", "student", str(facts.student_id)))

    assert cache.get(key) is not None


def test_a_week_read_before_a_change_noticed_during_the_read_is_not_kept() -> None:
    cache = _live()
    facts = _facts(uuid.uuid4())
    key = (SCHOOL, facts.student_id, MONDAY)
    with cache.filling() as ticket:
        cache.notice(Notice("rm", "class", str(next(iter(facts.class_ids)))))
        assert not cache.put(key, facts, b"{}", ticket)
    assert cache.get(key) is None
    # Read again after the notice, it is kept.
    with cache.filling() as ticket:
        assert cache.put(key, facts, b"{}", ticket)


def test_a_change_to_someone_else_during_the_read_does_not_stop_keeping_it() -> None:
    cache = _live()
    facts = _facts(uuid.uuid4())
    with cache.filling() as ticket:
        cache.notice(Notice("rm", "student", str(uuid.uuid4())))
        assert cache.put((SCHOOL, facts.student_id, MONDAY), facts, b"{}", ticket)


def test_nothing_is_kept_while_notices_could_be_lost() -> None:
    cache = DiaryCache(100, "rm")  # the listener has not connected yet
    facts = _facts(uuid.uuid4())
    with cache.filling() as ticket:
        assert not cache.put((SCHOOL, facts.student_id, MONDAY), facts, b"{}", ticket)

    cache.reset(connected=True)
    key = _keep(cache, facts)
    cache.reset(connected=False)
    assert cache.get(key) is None and len(cache) == 0


def test_a_read_in_flight_when_the_listener_reconnects_is_not_kept() -> None:
    cache = _live()
    facts = _facts(uuid.uuid4())
    with cache.filling() as ticket:
        cache.reset(connected=False)
        cache.reset(connected=True)
        assert not cache.put((SCHOOL, facts.student_id, MONDAY), facts, b"{}", ticket)


def test_a_swapped_schema_forgets_everything() -> None:
    cache = _live()
    key = _keep(cache, _facts(uuid.uuid4()))
    cache.notice(Notice("rm", "all", "-"))
    assert cache.get(key) is None


def test_the_least_recently_read_week_goes_first_when_full() -> None:
    cache = _live(capacity=2)
    first, second = _keep(cache, _facts(uuid.uuid4())), _keep(cache, _facts(uuid.uuid4()))
    assert cache.get(first) is not None  # read again: now the second is the oldest
    third = _keep(cache, _facts(uuid.uuid4()))

    assert cache.get(second) is None
    assert cache.get(first) is not None and cache.get(third) is not None


def test_an_old_week_is_read_again_even_without_a_notice() -> None:
    cache = _live()
    cache.max_age_s = 0.0
    key = _keep(cache, _facts(uuid.uuid4()))
    assert cache.get(key) is None


def test_a_cache_of_no_entries_keeps_nothing() -> None:
    cache = DiaryCache(0, "rm")
    cache.reset(connected=True)
    facts = _facts(uuid.uuid4())
    with cache.filling() as ticket:
        assert not cache.put((SCHOOL, facts.student_id, MONDAY), facts, b"{}", ticket)


# --- the notices, from a real PostgreSQL -------------------------------------------------------


def _until(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return condition()

    return probe


class Heard:
    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.resets: list[bool] = []

    def notice(self, notice: Notice) -> None:
        self.notices.append(notice)

    def reset(self, connected: bool) -> None:
        self.resets.append(connected)


@pytest.fixture
async def read_models(stack: TestStack) -> AsyncIterator[Database]:
    url = await stack.database(f"notices_{uuid.uuid4().hex[:6]}")
    db = Database(url, pool_size=2)
    async with db.raw() as conn:
        await install(conn, "rm", all_projections(Settings(service="reporting")))
    yield db
    await db.dispose()


@pytest.fixture
async def listening(read_models: Database) -> AsyncIterator[tuple[Heard, NoticeListener]]:
    """A listener on the read models, connected, with a subscriber that notes what it hears."""
    heard = Heard()
    listener = NoticeListener(read_models)
    listener.subscribe(heard)
    listener.start()
    try:
        await eventually(_until(lambda: heard.resets == [True]))
        yield heard, listener
    finally:
        await listener.stop()


async def test_changed_rows_of_the_read_models_are_noticed_when_committed(
    read_models: Database, listening: tuple[Heard, NoticeListener]
) -> None:
    heard, _ = listening
    student, class_id, lesson = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with read_models.raw() as conn:
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO rm.grades (grade_id, school_id, class_id, subject_id,
                       school_year, student_id, term, given_on, work_title, work_kind,
                       summative, scale, value)
                   VALUES ($1, $2, $3, $4, '2025/2026', $5, 'I', $6, 'Darbs', 'test', true,
                           '10', '7')""",
                uuid.uuid4(),
                SCHOOL,
                class_id,
                uuid.uuid4(),
                student,
                MONDAY,
            )
            await asyncio.sleep(0.2)
            assert heard.notices == [], "nothing is noticed before the commit"
        await conn.execute(
            "INSERT INTO rm.lessons (lesson_id, class_id, lesson_date) VALUES ($1, $2, $3)",
            lesson,
            class_id,
            MONDAY,
        )
        await conn.execute("DELETE FROM rm.grades WHERE student_id = $1", student)
        await conn.execute(
            "INSERT INTO rm.subjects VALUES ($1, $2, 'math', 'Matemātika', '{}')",
            uuid.uuid4(),
            SCHOOL,
        )
        await conn.execute(swap_notice("rm"))

    expected = [
        Notice("rm", "student", str(student)),
        Notice("rm", "class", str(class_id)),
        Notice("rm", "student", str(student)),
        Notice("rm", "all", "-"),
        Notice("rm", "all", "-"),
    ]
    await eventually(_until(lambda: heard.notices == expected))


async def test_a_lost_listener_connection_is_told_and_replaced(
    read_models: Database, listening: tuple[Heard, NoticeListener]
) -> None:
    heard, listener = listening
    async with read_models.raw() as conn:
        await conn.execute(
            """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE query LIKE 'LISTEN%' AND datname = current_database()"""
        )
    await eventually(_until(lambda: heard.resets == [True, False, True]), timeout=15.0)
    assert listener.connected
    student = uuid.uuid4()
    async with read_models.raw() as conn:
        await conn.execute(
            """INSERT INTO rm.enrolments (student_id, class_id, from_day, school_id,
                   school_year) VALUES ($1, $2, $3, $4, '2025/2026')""",
            student,
            uuid.uuid4(),
            MONDAY,
            SCHOOL,
        )
    await eventually(_until(lambda: Notice("rm", "student", str(student)) in heard.notices))


async def test_the_listener_keeps_trying_while_the_database_is_away() -> None:
    heard = Heard()
    listener = NoticeListener(Database("postgresql://postgres@127.0.0.1:1/nowhere"))
    listener.subscribe(heard)
    listener.start()
    await asyncio.sleep(0.3)
    assert not listener.connected and heard.resets == []
    await listener.stop()
    with pytest.raises((OSError, asyncpg.PostgresError)):
        await Database("postgresql://postgres@127.0.0.1:1/nowhere").dedicated()
