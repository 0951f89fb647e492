"""The event store: streams of immutable events in the service's own PostgreSQL database."""

from ezurnals.shared.eventstore.store import (
    CommandContext,
    CommandResult,
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    IdempotencyKeyReused,
)

__all__ = [
    "CommandContext",
    "CommandResult",
    "ConcurrencyConflict",
    "DuplicateCommand",
    "EventStore",
    "IdempotencyKeyReused",
]
