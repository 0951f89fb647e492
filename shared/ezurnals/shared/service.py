"""What a service is to the runtime: its name, routers, projections and background jobs.

Each service package exposes ``SERVICE: ServiceDefinition`` in ``ezurnals.<name>.service``; the API
server, the worker, ``ezurnals migrate`` and the tests all start from it, and ``Runtime`` is the one
place where a process's dependencies are built (nothing connects at import).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ezurnals.shared.db import Database
from ezurnals.shared.eventstore import EventStore
from ezurnals.shared.eventstore.cache import AggregateCache
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.migrations import Migration, apply_migrations, migrations_in
from ezurnals.shared.settings import Settings

if TYPE_CHECKING:
    import asyncio

    from fastapi import APIRouter, FastAPI

Job = Callable[["Runtime", "asyncio.Event"], Coroutine[Any, Any, None]]


@dataclass
class Runtime:
    """A process's wired dependencies."""

    settings: Settings
    db: Database
    store: EventStore
    aggregates: AggregateCache = field(default_factory=AggregateCache)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        return cls(settings, db, EventStore(db, topic=settings.topic(settings.service)))

    async def close(self) -> None:
        await self.db.dispose()


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    routers: Callable[[], Sequence[APIRouter]] = lambda: ()
    projections: Callable[[Settings], Sequence[Projection]] = lambda _s: ()
    #: Scheduled or long-running jobs run by the worker besides relay and projections.
    jobs: Sequence[Job] = field(default_factory=tuple)
    #: What an API process of the service keeps besides the runtime (in-memory answers and what
    #: keeps them true), opened and closed with the app: ``api_parts(app, runtime)``.
    api_parts: Callable[[FastAPI, Runtime], AbstractAsyncContextManager[None]] = (
        lambda _app, _runtime: contextlib.nullcontext()
    )
    #: Identity signs the tokens and owns the accounts: its API sets ``app.state.revocations``
    #: to a check of its own tables instead of following its own topic.
    issues_tokens: bool = False

    @property
    def package(self) -> str:
        return f"ezurnals.{self.name}"

    def all_projections(self, settings: Settings) -> list[Projection]:
        """The service's read models plus the access revocations every service keeps (identity's
        API checks its own tables instead, but its worker reading its own topic is what brings
        identity's own reads back to the access log, which must count them once)."""
        from ezurnals.shared.auth.revocations import AccessRevocations

        return [*self.projections(settings), AccessRevocations()]

    def migrations(self) -> list[Migration]:
        return migrations_in("ezurnals.shared.eventstore", "spine") + migrations_in(
            self.package, self.name
        )

    async def migrate(self, database_url: str) -> list[str]:
        return await apply_migrations(database_url, self.migrations())


def load_service(name: str) -> ServiceDefinition:
    module = importlib.import_module(f"ezurnals.{name}.service")
    definition = module.SERVICE
    assert isinstance(definition, ServiceDefinition)
    return definition
