"""The service's clock: the real one, or the one a test puts on ``app.state.clock``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import Request

from ezurnals.shared.contracts.base import utcnow

Clock = Callable[[], datetime]


def now(request: Request) -> datetime:
    """The current UTC instant as this app sees it."""
    clock: Clock = getattr(request.app.state, "clock", None) or utcnow
    return clock()
