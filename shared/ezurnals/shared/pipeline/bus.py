"""The one entry point of every command: a route's, a job's and a reaction's.

``Pipeline.handle(cmd, ctx)`` finds the handler registered for the command's type, gives it a
fresh unit of work, and commits what it recorded together with its answer. It answers:

- the handler's result, once the append succeeded;
- the first answer again for a repeat of the command (same Idempotency-Key), even once the state
  has moved on so that the handler now refuses (a lesson already recorded refuses a second
  record): the key is not looked up before deciding (a round trip on every command for the rare
  retry), only when the append's unique constraint or the handler refuses;
- a DomainError the handler raised, for the edge to map (``http/errors.py``);
- after a lost race for a stream (another command or a job appended first), the handler's
  answer on the stream as it now is, up to ``CONFLICT_ATTEMPTS`` times: handlers expect the
  version they read, not one the client sent, so the caller has nothing to reconsider; only a
  stream that keeps changing raises ConcurrencyConflict (409).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from ezurnals.shared.eventstore import CommandContext, CommandResult, ConcurrencyConflict
from ezurnals.shared.eventstore.store import IdempotencyKeyReused
from ezurnals.shared.pipeline.messages import Handler, Result, Returns
from ezurnals.shared.pipeline.uow import Committing

F = TypeVar("F")
R = TypeVar("R", bound=Result)

CONFLICT_ATTEMPTS = 3

#: The ``status`` stored with a typed answer: its HTTP status is the edge's to choose.
TYPED_ANSWER = 0


class Handlers:
    """A service's handlers by command type: each command type has exactly one."""

    def __init__(self, *handlers: Handler[Any, Any]) -> None:
        self._by_command: dict[type[Any], Handler[Any, Any]] = {}
        for handler in handlers:
            if handler.command in self._by_command:
                raise ValueError(f"{handler.command.__name__} has two handlers")
            handler.answer  # noqa: B018 - a command that names no result fails here, at import
            self._by_command[handler.command] = handler

    def of(self, kind: type[Any]) -> Handler[Any, Any]:
        try:
            return self._by_command[kind]
        except KeyError:
            raise LookupError(f"no handler for {kind.__name__}") from None

    def __iter__(self) -> Any:
        return iter(self._by_command.values())


class Pipeline(Generic[F]):
    """``begin`` opens a unit of work for one attempt (the real one or the in-memory one)."""

    def __init__(
        self,
        handlers: Handlers,
        begin: Callable[[CommandContext], Committing[F]],
        *,
        attempts: int = CONFLICT_ATTEMPTS,
    ) -> None:
        self.handlers = handlers
        self.begin = begin
        self.attempts = attempts

    async def handle(self, cmd: Returns[R], ctx: CommandContext) -> R:
        handler = self.handlers.of(type(cmd))
        for attempt in range(1, self.attempts + 1):
            uow = self.begin(ctx)
            try:
                result: R = await handler.handle(cmd, uow)
            except Exception as refusal:
                if not ctx.idempotency_key:
                    raise
                try:
                    earlier = await uow.recall()
                except IdempotencyKeyReused:
                    raise
                except Exception:
                    raise refusal from None
                if earlier is None:
                    raise
                return cast(R, handler.answer.model_validate(earlier.body))
            answer = CommandResult(TYPED_ANSWER, result.model_dump(mode="json"))
            try:
                stored = await uow.commit(answer)
            except ConcurrencyConflict:
                if attempt == self.attempts:
                    raise
                continue
            if stored is answer:
                return result
            return cast(R, handler.answer.model_validate(stored.body))
        raise AssertionError("unreachable: the last attempt returns or raises")
