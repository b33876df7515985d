"""A counting PostgreSQL proxy: round trips and the SQL a server sends, exactly.

Sits between a server (Happy or the baseline) and PostgreSQL on loopback and reads the
client's side of the wire protocol (v3): every message is a type byte and a length. A
**round trip** is a message the client must wait for the answer to: ``Sync`` (``S``, the
end of an extended-protocol pipeline: Parse/Bind/Describe/Execute... then Sync) or a simple
``Query`` (``Q``: BEGIN, COMMIT and ROLLBACK as asyncpg sends them). ``executemany``
pipelines several Bind/Execute pairs before one Sync: one round trip, as on the wire.

The proxy also records the statements executed, in order: the text of each ``Query``, and
for each ``Bind`` the text of the statement it binds (from the connection's earlier
``Parse`` of that statement name). ``python -m bench.capture_sql`` prints them per
operation; ``bench.run`` compares Happy's with the baseline's (``bench/baseline_sql.py``).

Why a proxy and not the server log: ``log_statement`` shows executions but not the
Parse/Describe round trips, needs the cluster's log file, and PostgreSQL here is shared
(``pg_stat_statements`` is not preloaded and the cluster must not be restarted). The proxy
is exact, needs nothing from the cluster and sees only the servers pointed at it. It is
used in a measuring phase of its own (a few requests of each operation), never during the
timed load rounds, where it would cost CPU of its own.

The proxy answers an ``SSLRequest`` or ``GSSENCRequest`` itself with ``N`` (no
encryption), so the conversation stays readable; it is for loopback benchmarks only.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from dataclasses import dataclass, field

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102


@dataclass
class Traffic:
    """What the clients sent since the last :meth:`CountingProxy.reset`."""

    round_trips: int = 0
    statements: list[str] = field(default_factory=list)
    # For each statement, the round trips counted when it was sent (its own included for
    # a simple Query): where in the conversation it happened.
    marks: list[int] = field(default_factory=list)
    # Round trips that carried no statement execution (prepares, describes, pings).
    empty_round_trips: int = 0
    # For each statement, the client connection that sent it (numbered as accepted): the
    # comparison tells concurrent transactions apart by it.
    connections: list[int] = field(default_factory=list)


@dataclass
class _Connection:
    number: int = 0
    prepared: dict[bytes, str] = field(default_factory=dict)
    executed_since_sync: int = 0


def _cstring(data: bytes, start: int) -> tuple[bytes, int]:
    end = data.index(b"\0", start)
    return data[start:end], end + 1


class CountingProxy:
    """``async with CountingProxy(pg_host, pg_port) as proxy``: listen on ``proxy.port``."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.port = 0
        self.traffic = Traffic()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepted = 0

    async def __aenter__(self) -> CountingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def reset(self) -> Traffic:
        """The traffic so far, and start counting again from zero."""
        seen, self.traffic = self.traffic, Traffic()
        return seen

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The startup phase: untyped messages (length, code); encryption requests refused.
        while True:
            head = await reader.readexactly(8)
            length, code = struct.unpack("!ii", head)
            rest = await reader.readexactly(length - 8)
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                writer.write(b"N")
                await writer.drain()
                continue
            break
        up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        up_writer.write(head + rest)
        if code == CANCEL_REQUEST:
            await up_writer.drain()
            up_writer.close()
            return
        back = asyncio.ensure_future(self._pipe(up_reader, writer))
        try:
            await self._client_messages(reader, up_writer)
        finally:
            back.cancel()
            up_writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _client_messages(
        self, reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter
    ) -> None:
        self._accepted += 1
        connection = _Connection(number=self._accepted)
        while True:
            head = await reader.readexactly(5)
            kind = head[:1]
            (length,) = struct.unpack("!i", head[1:])
            body = await reader.readexactly(length - 4)
            self._observe(connection, kind, body)
            up_writer.write(head + body)
            await up_writer.drain()
            if kind == b"X":
                return

    def _observe(self, connection: _Connection, kind: bytes, body: bytes) -> None:
        traffic = self.traffic
        if kind == b"P":
            name, at = _cstring(body, 0)
            query, _ = _cstring(body, at)
            connection.prepared[name] = query.decode("utf-8", "replace")
        elif kind == b"B":
            _portal, at = _cstring(body, 0)
            statement, _ = _cstring(body, at)
            traffic.statements.append(connection.prepared.get(statement, "<unknown statement>"))
            traffic.connections.append(connection.number)
            traffic.marks.append(traffic.round_trips + 1)  # its Sync follows
            connection.executed_since_sync += 1
        elif kind == b"C" and body[:1] == b"S":
            name, _ = _cstring(body, 1)
            connection.prepared.pop(name, None)
        elif kind == b"Q":
            query, _ = _cstring(body, 0)
            traffic.round_trips += 1
            traffic.statements.append(query.decode("utf-8", "replace"))
            traffic.connections.append(connection.number)
            traffic.marks.append(traffic.round_trips)
        elif kind == b"S":
            traffic.round_trips += 1
            if connection.executed_since_sync == 0:
                traffic.empty_round_trips += 1
            connection.executed_since_sync = 0


class ProxyThread:
    """:class:`CountingProxy` on its own event loop in a thread, for synchronous callers
    (the harness runs wrk as a subprocess): ``with ProxyThread(host, port) as proxy``."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.proxy = CountingProxy(upstream_host, upstream_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.proxy.port

    def __enter__(self) -> ProxyThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.__aenter__(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.__aexit__(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def reset(self) -> Traffic:
        async def _reset() -> Traffic:
            return self.proxy.reset()

        return asyncio.run_coroutine_threadsafe(_reset(), self._loop).result(10)
