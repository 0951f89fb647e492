"""Pure building blocks for each service's ``domain/``: commands, aggregates and domain errors.

No I/O and no framework here. A handler loads an aggregate by folding its past events, asks it to
``decide`` on a command (which returns new events or raises a DomainError), and appends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict

from ezurnals.shared.contracts.base import IntegrationEvent


class Command(BaseModel):
    """An imperative request (RecordLesson, ExcuseAbsence …); immutable once made."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def field_path(parts: Iterable[str | int]) -> str:
    """How every answer names a field: ``marks[0].student_id`` (an index in brackets, a name
    after a dot), whichever layer refused it: the request's validation, the text rule or the
    domain. An empty path is the body itself."""
    spelled = ""
    for part in parts:
        spelled += f"[{part}]" if isinstance(part, int) else f".{part}" if spelled else str(part)
    return spelled or "body"


class DomainError(Exception):
    """A rule of the school said no. ``code`` is stable for clients; ``field`` names the input."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "rule_violated"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}
        if code is not None:
            self.code = code  # type: ignore[misc]


class Invalid(DomainError):
    """The command breaks a rule (answered with 422)."""


class NotFound(DomainError):
    """The thing does not exist — or the caller may not know that it does (answered with 404)."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """The caller sees the thing but may not do this with it, or their role may not make a
    call that names nothing at all (answered with 403); see :func:`require_seen`."""

    status = 403
    code = "forbidden"


# --- "not yours": one answer in every service ---------------------------------------------------
#
# The rule (docs/ARCHITECTURE.md, "Identity and access"): a resource the caller does not see is
# answered exactly like an id that does not exist, so nobody learns by asking that another
# school's student, another class or another family's child is there. Seeing comes first, then
# permission: 403 only once the caller sees the resource.


def missing(thing: str, field: str) -> NotFound:
    """The one answer for a ``thing`` (``"student"``, ``"lesson"``…) named by ``field`` that
    does not exist *or* that the caller does not see: both must read the same, byte for byte."""
    return NotFound(f"no such {thing}", field=field)


#: A policy is decided for the year ahead at most: a start further out is a typing error.
POLICY_LEAD = timedelta(days=366)


def require_policy_start(
    effective_from: date, today: date, *, backdating: bool = False, field: str = "effective_from"
) -> None:
    """Invalid unless a policy version starts between today (any earlier day where
    ``backdating`` is allowed) and a year from today, naming the allowed range."""
    latest = today + POLICY_LEAD
    if not backdating and effective_from < today:
        raise Invalid(
            f"a policy cannot take effect in the past: from {today.isoformat()} to "
            f"{latest.isoformat()}",
            field=field,
            code="backdated",
            details={"first_day": today.isoformat(), "last_day": latest.isoformat()},
        )
    if effective_from > latest:
        raise Invalid(
            f"a policy takes effect at most a year ahead, by {latest.isoformat()}",
            field=field,
            code="too_far_ahead",
            details={"last_day": latest.isoformat()},
        )


def id_in_use(field: str) -> Conflict:
    """A client chose an id for what it creates that something else already has (in this school
    or another): ids are unique in the whole system. The answer names no school and nothing of
    the other holder; it tells only that a UUID the caller already knew is taken."""
    return Conflict("this id is already in use; choose another", field=field, code="id_in_use")


def require_seen(seen: bool, thing: str, field: str) -> None:
    """Refuse with :func:`missing` unless the caller sees the resource (another school's,
    another class's, another family's, a restricted guardian's child are not seen)."""
    if not seen:
        raise missing(thing, field)


def require_permitted(permitted: bool, message: str) -> None:
    """Refuse with 403 when the caller, who sees the resource, may not do this with it (a
    parent excusing their child's absence directly, a class teacher taking the attendance of a
    lesson another teacher gives)."""
    if not permitted:
        raise Forbidden(message)


class Conflict(DomainError):
    """The command conflicts with the current state, e.g. a decided request (answered with 409)."""

    status = 409
    code = "conflict"


Ev = TypeVar("Ev", bound=IntegrationEvent)


class Aggregate(Generic[Ev]):
    """Folds events into state through ``when_<EventType>`` methods (or an overridden ``when``).

    ``version`` is the number of events applied, i.e. the expected version for the next append.
    """

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        self.version = 0

    @classmethod
    def rehydrate(cls, stream_id: str, events: Iterable[IntegrationEvent]) -> Self:
        agg = cls(stream_id)
        for event in events:
            agg.apply(event)
        return agg

    def apply(self, event: IntegrationEvent) -> None:
        self.when(event)
        self.version += 1

    def when(self, event: IntegrationEvent) -> None:
        handler = getattr(self, f"when_{event.event_type}", None)
        if handler is not None:
            handler(event)

    @property
    def exists(self) -> bool:
        return self.version > 0

    def applied(self, events: Sequence[IntegrationEvent]) -> Self:
        """Apply freshly decided events and return self (handy in given–when–then tests)."""
        for event in events:
            self.apply(event)
        return self
