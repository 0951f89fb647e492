"""The command pipeline: one entry point, a retry after a lost race, the first answer for a
repeated command; on the in-memory unit of work and on the real store (one statement a commit)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import mypy.api
import pytest

from ezurnals.shared.domain import Aggregate, Command, Conflict
from ezurnals.shared.eventstore import CommandContext, ConcurrencyConflict, IdempotencyKeyReused
from ezurnals.shared.pipeline import (
    Handlers,
    InMemoryStreams,
    Pipeline,
    Result,
    Returns,
    StoreUnitOfWork,
    UnitOfWork,
)
from ezurnals.shared.service import Runtime
from ezurnals.shared.testing.probe import PROBE, ProbeRecorded
from ezurnals.shared.testing.stack import TestStack
from ezurnals.shared.testing.statements import counting


class Tally(Aggregate[ProbeRecorded]):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.total = 0

    def when_ProbeRecorded(self, event: ProbeRecorded) -> None:
        self.total += event.n


class Limits(Aggregate[ProbeRecorded]):
    """A second stream a decision reads: the highest total allowed."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.most = 100

    def when_ProbeRecorded(self, event: ProbeRecorded) -> None:
        self.most = event.n


class Total(Result):
    total: int


class Add(Command, Returns[Total]):
    stream: str
    n: int


class Facts:
    """The service's read models (this handler reads none)."""


async def add(cmd: Add, uow: UnitOfWork[Facts]) -> Total:
    tally, limits = await uow.get_two(Tally, cmd.stream, Limits, f"{cmd.stream}-limits")
    if tally.total + cmd.n > limits.most:
        raise Conflict("over the limit", field="n")
    uow.record(tally, [ProbeRecorded(n=cmd.n)])
    return Total(total=tally.total)


HANDLERS = Handlers(Add.handled_by(add))


def memory(streams: InMemoryStreams, facts: Facts | None = None) -> Pipeline[Facts]:
    return Pipeline(HANDLERS, lambda ctx: streams.unit(ctx, facts or Facts()))


def keyed(key: str, request: str = "h") -> CommandContext:
    return CommandContext(idempotency_key=key, request_hash=request)


async def test_a_handler_decides_on_the_given_events_and_its_result_is_answered() -> None:
    streams = InMemoryStreams()
    streams.given("t", ProbeRecorded(n=2))
    result = await memory(streams).handle(Add(stream="t", n=3), CommandContext())
    assert result == Total(total=5)
    assert streams.new_events() == [ProbeRecorded(n=3)]


async def test_a_repeated_command_gets_its_first_answer_even_once_it_would_be_refused() -> None:
    streams = InMemoryStreams()
    streams.given("t-limits", ProbeRecorded(n=5))
    bus = memory(streams)
    first = await bus.handle(Add(stream="t", n=5), keyed("k"))
    again = await bus.handle(Add(stream="t", n=5), keyed("k"))  # 10 > 5: refused, but a repeat
    assert first == again == Total(total=5)
    assert streams.new_events() == [ProbeRecorded(n=5)]
    with pytest.raises(Conflict):
        await bus.handle(Add(stream="t", n=5), keyed("other"))
    with pytest.raises(IdempotencyKeyReused):
        await bus.handle(Add(stream="t", n=5), keyed("k", request="another"))


async def test_a_lost_race_is_decided_again_on_the_stream_as_it_now_is() -> None:
    streams = InMemoryStreams()
    raced = iter([True, False])

    def begin(ctx: CommandContext) -> UnitOfWork[Facts]:
        unit = streams.unit(ctx, Facts())
        if next(raced, False):  # another writer appends after this attempt read the stream
            commit = unit.commit

            async def after_a_rival(answer):  # type: ignore[no-untyped-def]
                streams.given("t", ProbeRecorded(n=10))
                return await commit(answer)

            unit.commit = after_a_rival  # type: ignore[method-assign]
        return unit

    result = await Pipeline(HANDLERS, begin).handle(Add(stream="t", n=1), CommandContext())  # type: ignore[arg-type]
    assert result == Total(total=11)
    assert streams.streams["t"] == [ProbeRecorded(n=10), ProbeRecorded(n=1)]


async def test_a_stream_that_keeps_changing_answers_a_conflict() -> None:
    streams = InMemoryStreams()

    def begin(ctx: CommandContext) -> UnitOfWork[Facts]:
        unit = streams.unit(ctx, Facts())
        commit = unit.commit

        async def after_a_rival(answer):  # type: ignore[no-untyped-def]
            streams.given("t", ProbeRecorded(n=0))
            return await commit(answer)

        unit.commit = after_a_rival  # type: ignore[method-assign]
        return unit

    with pytest.raises(ConcurrencyConflict):
        await Pipeline(HANDLERS, begin).handle(Add(stream="t", n=1), CommandContext())  # type: ignore[arg-type]
    assert streams.new_events() == []


def test_a_command_has_one_handler() -> None:
    with pytest.raises(ValueError, match="two handlers"):
        Handlers(Add.handled_by(add), Add.handled_by(add))


@pytest.fixture(scope="module")
async def runtime(stack: TestStack) -> AsyncIterator[Runtime]:
    settings = await stack.settings(PROBE, database="pipeline")
    rt = Runtime.create(settings)
    yield rt
    await rt.close()


def on_store(runtime: Runtime) -> Pipeline[Facts]:
    return Pipeline(
        HANDLERS, lambda ctx: StoreUnitOfWork(runtime.store, runtime.aggregates, ctx, Facts())
    )


async def test_on_the_store_a_command_reads_two_streams_once_and_appends_once(
    runtime: Runtime,
) -> None:
    stream = f"t-{uuid.uuid4()}"
    bus = on_store(runtime)
    await bus.handle(Add(stream=stream, n=1), keyed(str(uuid.uuid4())))
    async with counting(runtime.db) as counted:
        result = await bus.handle(Add(stream=stream, n=2), keyed(str(uuid.uuid4())))
    assert result == Total(total=3)
    reads, append = counted.of_command()
    assert "LATERAL" in reads and "INSERT INTO events" in append
    # Kept in the cache: another process's event is caught up with, not missed.
    await runtime.store.append(stream, 2, [ProbeRecorded(n=10)])
    assert await bus.handle(Add(stream=stream, n=1), CommandContext()) == Total(total=14)


async def test_on_the_store_a_repeat_is_answered_from_the_stored_answer(runtime: Runtime) -> None:
    stream = f"t-{uuid.uuid4()}"
    await runtime.store.append(f"{stream}-limits", 0, [ProbeRecorded(n=4)])
    bus, key = on_store(runtime), str(uuid.uuid4())
    assert await bus.handle(Add(stream=stream, n=4), keyed(key)) == Total(total=4)
    fresh = Runtime.create(runtime.settings)  # a process that never saw the first attempt
    try:
        assert await on_store(fresh).handle(Add(stream=stream, n=4), keyed(key)) == Total(total=4)
    finally:
        await fresh.close()
    assert len(await runtime.store.load(stream)) == 1


def test_mypy_refuses_a_handler_for_another_command_or_result(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "from ezurnals.shared.domain import Command\n"
        "from ezurnals.shared.pipeline import Result, Returns, UnitOfWork\n"
        "class A(Result):\n    a: int\n"
        "class B(Result):\n    b: int\n"
        "class DoA(Command, Returns[A]):\n    pass\n"
        "class DoB(Command, Returns[B]):\n    pass\n"
        "async def answers_b(cmd: DoA, uow: UnitOfWork[None]) -> B:\n    return B(b=1)\n"
        "async def takes_b(cmd: DoB, uow: UnitOfWork[None]) -> A:\n    return A(a=1)\n"
        "async def right(cmd: DoA, uow: UnitOfWork[None]) -> A:\n    return A(a=1)\n"
        "DoA.handled_by(answers_b)\n"
        "DoA.handled_by(takes_b)\n"
        "DoA.handled_by(right)\n"
    )
    out, _, status = mypy.api.run(["--strict", "--no-incremental", str(wrong)])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1 and len(errors) == 2, out
    assert all('"handled_by" of "Returns"' in e for e in errors), out
