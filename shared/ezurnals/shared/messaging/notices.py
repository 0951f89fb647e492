"""Change notices from the read models: PostgreSQL tells an API process which rows changed.

An API that keeps answers in memory must forget one as soon as what it was built from changes,
whoever changed it: the projection worker, a rebuild, an inline projection. Triggers on the read
model's tables (``notice_ddl``) send the changed row's key with ``pg_notify`` on ``CHANNEL``,
delivered when its transaction commits; ``NoticeListener`` holds one connection that listens
and hands every notice to the process's subscribers.

A notice reads ``<schema> <kind> <key>``, e.g. ``rm student 6f1c…``; ``<schema> all -`` means
anything may have changed (a rebuilt schema was swapped in). While the listener is not
connected, notices are lost: subscribers are told (``reset``) and must keep nothing until it is
connected again.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import structlog

from ezurnals.shared.db import Database
from ezurnals.shared.retry import Retrying

log = structlog.get_logger(__name__)

CHANNEL = "ezurnals_read_model"


def notice_ddl(table: str, kind: str, column: str | None) -> tuple[str, ...]:
    """A trigger on ``table`` that sends each changed row's ``column`` (old and new value) as a
    ``kind`` notice; without ``column``, an ``all`` notice. Unqualified, for ``install``'s
    search path; PostgreSQL drops a transaction's repeated notices itself."""
    function = f"notify_{table}_changed"
    if column is None:
        body = f"PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA || ' all -');"
    else:
        body = f"""IF TG_OP <> 'INSERT' AND OLD.{column} IS NOT NULL THEN
                     PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA || ' {kind} ' || OLD.{column});
                   END IF;
                   IF TG_OP <> 'DELETE' AND NEW.{column} IS NOT NULL THEN
                     PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA || ' {kind} ' || NEW.{column});
                   END IF;"""
    return (
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {body} RETURN NULL; END $$""",
        f"""CREATE OR REPLACE TRIGGER {table}_notices
            AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}()""",
    )


def swap_notice(schema: str) -> str:
    """The statement that tells listeners everything in ``schema`` may have changed."""
    return f"SELECT pg_notify('{CHANNEL}', '{schema} all -')"


@dataclass(frozen=True)
class Notice:
    schema: str
    kind: str
    key: str


class Subscriber(Protocol):
    def notice(self, notice: Notice) -> None: ...

    def reset(self, connected: bool) -> None:
        """The listener lost its connection (``connected`` False) or has one again."""


class NoticeListener:
    """Listens on ``CHANNEL`` with its own connection, reconnecting with a pause after a loss."""

    def __init__(self, db: Database, *, check_every_s: float = 5.0) -> None:
        self.db = db
        self._check_every_s = check_every_s
        self._subscribers: list[Subscriber] = []
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self.connected = False

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notice-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._set_connected(False)

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            for subscriber in self._subscribers:
                subscriber.reset(connected)

    def _on_lost(self, _conn: object) -> None:
        """Subscribers forget at once, not when the loop next looks: notices are lost from now."""
        self._lost.set()
        self._set_connected(False)

    def _on_notice(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        schema, _, rest = payload.partition(" ")
        kind, _, key = rest.partition(" ")
        notice = Notice(schema, kind, key)
        for subscriber in self._subscribers:
            subscriber.notice(notice)

    async def _run(self) -> None:
        retrying = Retrying()
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await self.db.dedicated()
                self._lost.clear()
                conn.add_termination_listener(self._on_lost)
                await conn.add_listener(CHANNEL, self._on_notice)
                self._set_connected(True)
                retrying.succeeded()
                log.info("notices.listening", channel=CHANNEL)
                # A connection that died without a word (a network partition) is found by the
                # round trip; one that was closed, by its termination listener at once.
                while not self._lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._lost.wait(), self._check_every_s)
                    if not self._lost.is_set():
                        await asyncio.wait_for(conn.execute("SELECT 1"), self._check_every_s)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("notices.connection_lost", error=repr(exc))
            finally:
                self._set_connected(False)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=1.0)
            await retrying.wait()
