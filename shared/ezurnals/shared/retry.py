"""Waiting before trying again after a connection error: full-jitter exponential backoff.

After a PostgreSQL failover (or a broker restart) every relay, consumer, LISTEN loop and request
of every pod loses its connection at the same moment. Waits that only double bring them back in
step, all knocking on the new primary in the same instant just as it starts accepting
connections. Full jitter waits a uniformly random time between nothing and the doubling ceiling,
which spreads them out ("Exponential Backoff And Jitter", the AWS Architecture Blog, 2015).

The one definition of how long to wait; each loop keeps its own count of failures in a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    #: The ceiling of the first wait; each failure in a row doubles it…
    first_s: float
    #: …up to this.
    most_s: float

    def ceiling(self, attempt: int) -> float:
        """The longest wait after ``attempt`` failures in a row before it (0 for the first)."""
        return min(self.most_s, self.first_s * 2.0 ** min(attempt, 32))

    def delay(self, attempt: int, uniform: Callable[[], float] = random.random) -> float:
        """Full jitter: anything from nothing up to the ceiling, uniformly."""
        return uniform() * self.ceiling(attempt)


#: A background loop (relay, consumer, LISTEN, the worker's producer) reconnecting.
RECONNECT = Backoff(first_s=0.2, most_s=5.0)
#: A request opening a database connection: a failover's moment of refused connections is
#: waited out, a longer outage still answers 503 within half a second or so.
ACQUIRE = Backoff(first_s=0.05, most_s=0.4)
ACQUIRE_ATTEMPTS = 4


class Retrying:
    """One loop's failures in a row, and the wait before its next try."""

    def __init__(self, backoff: Backoff = RECONNECT) -> None:
        self.backoff = backoff
        self.failures = 0

    async def wait(self, stop: asyncio.Event | None = None) -> None:
        """Wait the jittered delay for one more failure (returning early once ``stop`` is set)."""
        delay = self.backoff.delay(self.failures)
        self.failures += 1
        if stop is None:
            await asyncio.sleep(delay)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    def succeeded(self) -> None:
        self.failures = 0
