"""The typed command pipeline every service's routes, jobs and reactions go through.

``route → Command → Pipeline.handle → handler(cmd, uow) → Result``; see ``bus.py`` for what the
entry point answers and ``uow.py`` for what a handler may do.
"""

from ezurnals.shared.pipeline.bus import CONFLICT_ATTEMPTS, Handlers, Pipeline
from ezurnals.shared.pipeline.memory import InMemoryStreams, InMemoryUnitOfWork
from ezurnals.shared.pipeline.messages import Handler, Result, Returns
from ezurnals.shared.pipeline.postgres import StoreUnitOfWork
from ezurnals.shared.pipeline.uow import Committing, UnitOfWork

__all__ = [
    "CONFLICT_ATTEMPTS",
    "Committing",
    "Handler",
    "Handlers",
    "InMemoryStreams",
    "InMemoryUnitOfWork",
    "Pipeline",
    "Result",
    "Returns",
    "StoreUnitOfWork",
    "UnitOfWork",
]
