"""What every reporting endpoint shares: the read-model connection and the access checks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import time
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import HTTPException, Request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from ezurnals.reporting.domain.access import (
    Reader,
    StudentFacts,
    may_read_class,
    may_read_student,
)
from ezurnals.reporting.queries import Reads
from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.contracts.base import Actor
from ezurnals.shared.domain import require_seen
from ezurnals.shared.service import Runtime

PDF = "application/pdf"
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
#: A time on the school's clock, "HH:MM" or "HH:MM:SS[.ffffff]", without an offset.
WALL_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _wall_clock(value: Any) -> Any:
    """Only the documented text (or a ``time`` from the read models): pydantic alone would also
    take seconds as a number or an offset, which the schema does not promise."""
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str) and re.fullmatch(WALL_CLOCK, value):
        return value
    raise ValueError("a time of day such as 09:30, without an offset")


#: OpenAPI's ``format: time`` is RFC 3339's full-time, which needs an offset; a school's wall
#: clock has none, so the schema says what is sent and accepted instead.
WallClock = Annotated[
    time,
    BeforeValidator(_wall_clock),
    WithJsonSchema({"type": "string", "pattern": WALL_CLOCK, "examples": ["09:30"]}),
]


class DocumentRequest(BaseModel):
    """Display names for the people a document prints (see ``documents``); none are stored."""

    model_config = ConfigDict(extra="forbid")
    names: dict[UUID, DisplayName] = Field(default_factory=dict, max_length=5000)


@asynccontextmanager
async def reads(request: Request) -> AsyncIterator[Reads]:
    """Until the worker has created the read models the answer is 503, not a 500."""
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.raw() as conn:
        try:
            yield Reads(conn, runtime.settings.read_model_schema)
        except asyncpg.UndefinedTableError:
            raise HTTPException(503, "the read models are being built; try again") from None


async def require_student(db: Reads, principal: Principal, student_id: UUID) -> None:
    """Another school's student, or one the caller may not read, is simply not there (404, the
    shared rule ``ezurnals.shared.domain.require_seen``)."""
    reader, facts = await db.student_access(principal, student_id)
    check_student(reader, facts)


def check_student(reader: Reader, facts: StudentFacts | None) -> None:
    """The 404 of ``require_student`` for facts already read (the diary reads them with its
    week, in the same round trip)."""
    require_seen(facts is not None and may_read_student(reader, facts), "student", "student_id")


async def require_class(db: Reads, principal: Principal, class_id: UUID) -> None:
    known = await db.class_row(class_id, principal.school_id) is not None
    seen = known and may_read_class(await db.reader(principal), class_id)
    require_seen(seen, "class", "class_id")


def acting(principal: Principal) -> Actor:
    """The actor recorded on what a person issues: them, in one of their roles (chosen stably)."""
    return Actor(
        id=principal.person_id, role=sorted(principal.roles)[0] if principal.roles else "staff"
    )
