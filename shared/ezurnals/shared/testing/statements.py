"""Counting the statements a request runs, to hold a command to its round trips."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from ezurnals.shared.db import Database
from ezurnals.shared.testing.projections import asyncpg_lookup

#: The token check's reads of the revocations every service projects (not the command's work).
REVOCATIONS = ("revoked_sessions", "revoked_people", "signed_out_everywhere")


@dataclass
class Counted:
    """Every statement run on the database's pooled connections meanwhile, in order."""

    statements: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.statements.clear()

    def of_command(self) -> list[str]:
        """The statements but asyncpg's type look-ups and the token check's."""
        return [
            s
            for s in self.statements
            if not asyncpg_lookup(s) and not any(t in s for t in REVOCATIONS)
        ]


@asynccontextmanager
async def counting(db: Database) -> AsyncIterator[Counted]:
    """Count the statements of ``db``'s connections while the block runs."""
    counted = Counted()
    pooled = db.raw
    logged: dict[int, Any] = {}

    def log(query: Any) -> None:
        counted.statements.append(query.query)

    @asynccontextmanager
    async def raw() -> AsyncIterator[asyncpg.Connection]:
        async with pooled() as conn:
            inner = getattr(conn, "_con", conn)
            if id(inner) not in logged:
                logged[id(inner)] = inner
                inner.add_query_logger(log)
            try:
                yield conn
            finally:
                # asyncpg calls its query loggers soon after a statement, not during it
                await asyncio.sleep(0)

    db.raw = raw  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        db.raw = pooled  # type: ignore[method-assign]
        for inner in logged.values():
            inner.remove_query_logger(log)
