"""What a command asks for and what its handler answers: typed, and checked by mypy.

A service's command is a pydantic ``Command`` that also derives from ``Returns[SomeResult]``; its
handler is ``async def handle(cmd: ThatCommand, uow: UnitOfWork[Facts]) -> SomeResult``, and
``ThatCommand.handled_by(handle)`` refuses (in mypy) a handler that takes another command or
answers with another result. A result is a plain value, never an HTTP status: the edge maps
success to the route's status and each DomainError to its own (``http/errors.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from ezurnals.shared.pipeline.uow import UnitOfWork


class Result(BaseModel):
    """A handler's answer. Stored as JSON under the command's Idempotency-Key, so a retry is
    answered with an equal value (read back with ``model_validate``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


R = TypeVar("R", bound=Result)
C = TypeVar("C", bound="Returns[Any]")


@dataclass(frozen=True)
class Handler(Generic[C, R]):
    """One command type and the function that handles it."""

    command: type[C]
    handle: Callable[[C, UnitOfWork[Any]], Awaitable[R]]

    @property
    def answer(self) -> type[Result]:
        return result_type(self.command)


class Returns(Generic[R]):
    """Mixed into a ``Command``: the result its handler answers with."""

    @classmethod
    def handled_by(
        cls: type[C], handle: Callable[[C, UnitOfWork[Any]], Awaitable[R]]
    ) -> Handler[C, R]:
        """The command with its handler; mypy checks that ``handle`` takes this command and
        answers with this command's result."""
        return Handler(cls, handle)


def result_type(kind: type[Returns[Any]]) -> type[Result]:
    """The ``R`` of the ``Returns[R]`` a command type derives from."""
    for klass in kind.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            if get_origin(base) is Returns:
                (answer,) = get_args(base)
                assert isinstance(answer, type) and issubclass(answer, Result), answer
                return answer
    raise TypeError(f"{kind.__name__} does not say what it returns (Returns[...])")
