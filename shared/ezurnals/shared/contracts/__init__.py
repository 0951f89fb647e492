"""Integration-event contracts: the only models that cross a service boundary.

One module per producing service (``identity``, ``lessons`` …) defines frozen pydantic models
derived from :class:`IntegrationEvent`. Importing :mod:`ezurnals.shared.contracts.catalog`
registers every contract, so a consumer can parse any event on the bus.
"""

from ezurnals.shared.contracts.base import (
    Actor,
    EventEnvelope,
    IntegrationEvent,
    UnknownEventType,
    registry,
    upcaster,
)

__all__ = ["Actor", "EventEnvelope", "IntegrationEvent", "UnknownEventType", "registry", "upcaster"]
