"""The event envelope, the contract base class and the (type, version) registry with upcasters.

Old events are replayed forever, so a stored payload of version *n* is upcast step by step to
the newest version before it is validated (backward-transitive reading).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import uuid_utils
from pydantic import BaseModel, ConfigDict, Field

JsonDict = dict[str, Any]


def new_event_id() -> UUID:
    """A UUIDv7: time-ordered, so ids sort roughly by creation."""
    return UUID(bytes=uuid_utils.uuid7().bytes)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Actor(BaseModel):
    """Who caused an event: a person id (none for the system itself) and the role they acted in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID | None = None
    role: str = "system"


SYSTEM = Actor()


class IntegrationEvent(BaseModel):
    """Base of every contract payload. Subclasses set ``event_type`` and ``schema_version``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    #: The topic family of the producing service (e.g. "identity"); set by each contract module.
    service: ClassVar[str]
    #: False for events that stay inside their service (secrets, sign-in noise): never relayed.
    published: ClassVar[bool] = True


class EventEnvelope(BaseModel):
    """What travels on Kafka and what the event store keeps: metadata plus the payload as JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(default_factory=new_event_id)
    event_type: str = Field(min_length=1, max_length=200)
    schema_version: int = Field(ge=1)
    stream_id: str = Field(min_length=1, max_length=200)
    stream_version: int = Field(ge=1)
    school_id: UUID | None = None
    occurred_at: datetime = Field(default_factory=utcnow)
    recorded_at: datetime = Field(default_factory=utcnow)
    actor: Actor = SYSTEM
    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    payload: JsonDict = Field(default_factory=dict)

    def parse(self) -> IntegrationEvent:
        """The payload as its upcast contract model; raises UnknownEventType or ValidationError."""
        return registry.parse(self.event_type, self.schema_version, self.payload)


class UnknownEventType(LookupError):
    """An event whose (type, version) no contract in this build knows."""


Upcaster = Callable[[JsonDict], JsonDict]


class Registry:
    """Maps (event_type, schema_version) to its model, and older versions to upcasters."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[IntegrationEvent]] = {}
        self._latest: dict[str, int] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, model: type[IntegrationEvent]) -> type[IntegrationEvent]:
        key = (model.event_type, model.schema_version)
        existing = self._models.get(key)
        if existing is not None and existing is not model:
            raise ValueError(
                f"two contracts claim {key}: {existing.__qualname__}, {model.__qualname__}"
            )
        self._models[key] = model
        self._latest[model.event_type] = max(self._latest.get(model.event_type, 0), key[1])
        return model

    def add_upcaster(self, event_type: str, from_version: int, fn: Upcaster) -> None:
        self._upcasters[(event_type, from_version)] = fn

    def latest_version(self, event_type: str) -> int:
        try:
            return self._latest[event_type]
        except KeyError:
            raise UnknownEventType(f"unknown event type {event_type!r}") from None

    def model(self, event_type: str, version: int | None = None) -> type[IntegrationEvent]:
        version = version or self.latest_version(event_type)
        try:
            return self._models[(event_type, version)]
        except KeyError:
            raise UnknownEventType(f"unknown event {event_type!r} v{version}") from None

    def is_published(self, event_type: str, version: int) -> bool:
        model = self._models.get((event_type, version))
        return model.published if model is not None else True

    def unpublished(self) -> list[str]:
        return sorted({m.event_type for m in self._models.values() if not m.published})

    def upcast(self, event_type: str, version: int, payload: JsonDict) -> tuple[int, JsonDict]:
        latest = self.latest_version(event_type)
        if version > latest:
            raise UnknownEventType(
                f"{event_type!r} v{version} is newer than this build knows (v{latest})"
            )
        while version < latest:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise UnknownEventType(f"no upcaster for {event_type!r} v{version}")
            payload = step(dict(payload))
            version += 1
        return version, payload

    def parse(self, event_type: str, version: int, payload: JsonDict) -> IntegrationEvent:
        version, payload = self.upcast(event_type, version, payload)
        return self.model(event_type, version).model_validate(payload)

    def __iter__(self) -> Iterator[type[IntegrationEvent]]:
        return iter(sorted(self._models.values(), key=lambda m: (m.event_type, m.schema_version)))


registry = Registry()


E = TypeVar("E", bound=IntegrationEvent)


def contract(model: type[E]) -> type[E]:
    """Class decorator: register a contract model."""
    registry.register(model)
    return model


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Decorator for a function that turns a v``from_version`` payload into v``from_version+1``."""

    def wrap(fn: Upcaster) -> Upcaster:
        registry.add_upcaster(event_type, from_version, fn)
        return fn

    return wrap
