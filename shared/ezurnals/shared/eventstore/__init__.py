"""The event store: streams of immutable events in the service's own PostgreSQL database."""

from ezurnals.shared.eventstore.store import (
    CommandContext,
    CommandResult,
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    IdempotencyKeyReused,
    SqlProjection,
    appended,
    parse_column,
    row_of,
    stream_column,
)

__all__ = [
    "CommandContext",
    "CommandResult",
    "ConcurrencyConflict",
    "DuplicateCommand",
    "EventStore",
    "IdempotencyKeyReused",
    "SqlProjection",
    "appended",
    "parse_column",
    "row_of",
    "stream_column",
]
