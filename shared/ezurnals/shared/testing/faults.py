"""Fault injection for tests: a TCP proxy that can cut a service off and let it back in.

Putting the proxy between clients and a server (and advertising the proxy's port) gives a real
network outage — refused connections and reset sockets — while the server keeps its state.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(
        self,
        listen_port: int,
        target_port: int = 0,
        host: str = "127.0.0.1",
        *,
        target_socket: str | None = None,
    ) -> None:
        self.listen_port = listen_port
        self.target_port = target_port
        self.host = host
        #: A Unix socket to forward to instead of ``target_port`` (embedded PostgreSQL).
        self.target_socket = target_socket
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.listen_port)

    async def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.target_socket:
                up_reader, up_writer = await asyncio.open_unix_connection(self.target_socket)
            else:
                up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        dst.transport.abort()
