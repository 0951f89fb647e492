"""Streams named after their school: ``<kind>-<school id>-<entity id>``.

The school is part of every stream's name, so a handler can never load another school's
aggregate by accident, and aggregates know their school before their first event.
"""

from __future__ import annotations

import re
from typing import ClassVar, Self
from uuid import UUID

from ezurnals.shared.contracts.identity import IdentityEvent
from ezurnals.shared.domain import Aggregate

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class SchoolScoped(Aggregate[IdentityEvent]):
    """An aggregate about one thing (a person, a student, a class) within one school."""

    kind: ClassVar[str]

    @classmethod
    def stream(cls, school_id: UUID, entity_id: UUID) -> str:
        return f"{cls.kind}-{school_id}-{entity_id}"

    @classmethod
    def of(cls, school_id: UUID, entity_id: UUID) -> Self:
        return cls(cls.stream(school_id, entity_id))

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        match = re.fullmatch(
            rf"{re.escape(self.kind)}-({UUID_PATTERN})-({UUID_PATTERN})", stream_id
        )
        if match is None:
            raise ValueError(f"not a {self.kind} stream: {stream_id!r}")
        self.school_id = UUID(match[1])
        self.entity_id = UUID(match[2])
