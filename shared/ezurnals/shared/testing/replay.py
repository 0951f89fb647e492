"""Replay properties for aggregates: any sequence of decisions, replayed from the events it
produced (directly and after a trip through JSON), gives the aggregate's whole state and version
back, and a decision refused leaves the state exactly as it was.

Used by each service's ``tests/domain/test_*_properties.py``: they draw ``sequences`` of ``calls``
and hand them to ``check_replay``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.domain import Aggregate, DomainError

ZONE = ZoneInfo("Europe/Riga")


class Clock(Enum):
    """Stands in a step for the moment it is decided at, bound when the sequence is drawn."""

    NOW = "now"
    TODAY = "today"


@dataclass(frozen=True)
class Call:
    """One decision put to an aggregate: a method and its arguments (printed on failure)."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, aggregate: Aggregate[Any]) -> list[IntegrationEvent]:
        decided = getattr(aggregate, self.method)(*self.args, **self.kwargs)
        # a decision that also answers something (a sign-in) carries its events beside it
        events: list[IntegrationEvent] = getattr(decided, "events", decided)
        return events

    def at(self, now: datetime) -> Call:
        moments = {Clock.NOW: now, Clock.TODAY: now.astimezone(ZONE).date()}

        def bind(value: Any) -> Any:
            return moments[value] if isinstance(value, Clock) else value

        return Call(
            self.method,
            tuple(bind(a) for a in self.args),
            {k: bind(v) for k, v in self.kwargs.items()},
        )


def calls(method: str, *args: Any, **kwargs: Any) -> st.SearchStrategy[Call]:
    """Steps calling ``method``; plain values (and Clock) are passed as they are.

    A step listed twice in ``st.one_of`` is drawn about twice as often.
    """
    return st.builds(
        lambda *a, **k: Call(method, a, k),
        *(a if isinstance(a, st.SearchStrategy) else st.just(a) for a in args),
        **{k: v if isinstance(v, st.SearchStrategy) else st.just(v) for k, v in kwargs.items()},
    )


@st.composite
def sequences(
    draw: st.DrawFn,
    steps: st.SearchStrategy[Call],
    *,
    start: datetime,
    max_steps: int = 12,
    max_minutes: int = 12 * 60,
) -> list[Call]:
    """Decisions in the order a clock would see them from ``start``: time only moves forward."""
    now, sequence = start, []
    for _ in range(draw(st.integers(0, max_steps))):
        now += timedelta(minutes=draw(st.integers(0, max_minutes)))
        sequence.append(draw(steps).at(now))
    return sequence


def over_the_wire(stream_id: str, events: list[IntegrationEvent]) -> list[IntegrationEvent]:
    """The events as a later load gets them: stored as JSON, parsed back (and upcast)."""
    return [
        EventEnvelope.model_validate_json(
            EventEnvelope(
                event_type=event.event_type,
                schema_version=event.schema_version,
                stream_id=stream_id,
                stream_version=n,
                payload=event.model_dump(mode="json"),
            ).model_dump_json()
        ).parse()
        for n, event in enumerate(events, 1)
    ]


def check_replay(
    live: Aggregate[Any],
    sequence: list[Call],
    counts: Callable[[IntegrationEvent], bool] = lambda _event: True,
) -> list[IntegrationEvent]:
    """Live through ``sequence``, then replay what was decided; returns the decided events.

    ``counts`` says which events advance the version (all, unless the aggregate folds facts
    from other streams too).
    """
    history: list[IntegrationEvent] = []
    for decision in sequence:
        before = copy.deepcopy(vars(live))
        try:
            new = decision(live)
        except DomainError:
            assert vars(live) == before, f"refused {decision} changed the state"
            continue
        assert vars(live) == before, f"deciding {decision} changed the state before applying"
        live.applied(new)
        history.extend(new)
    assert live.version == sum(map(counts, history))
    for events in (history, over_the_wire(live.stream_id, history)):
        replayed = type(live).rehydrate(live.stream_id, events)
        assert vars(replayed) == vars(live)
    return history
