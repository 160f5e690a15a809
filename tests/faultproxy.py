"""A misbehaving HTTP/1.1 proxy on loopback, between a sync client and the real server.

It runs its own asyncio loop in a thread.  Each client connection carries one request (the
proxy asks the server to close after answering, so clients open a new connection per request)
and gets one fault, chosen by ``mode`` at the moment the connection is accepted:

* ``pass``  - forward the request and the whole response;
* ``drop``  - close the connection on accept, before reading anything;
* ``cut``   - forward the request (the server does the work), send back only the first
  ``cut_after`` bytes of the response, then close: the answer is lost;
* ``delay`` - forward the request, then hold the response for ``delay`` seconds (beyond the
  client's read timeout) before sending it;
* ``503``   - answer "503 Service Unavailable" with ``Retry-After: retry_after`` without
  contacting the server;
* ``random`` - one of the above per connection, from a seeded ``random.Random``.

``script`` (a list of modes) overrides ``mode`` for the next connections, one each.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter

MODES = ("pass", "drop", "cut", "delay", "503")


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        *,
        upstream_host: str = "127.0.0.1",
        mode: str = "pass",
        seed: int = 0,
        cut_after: int = 40,
        delay: float = 2.0,
        retry_after: int = 0,
        weights: dict[str, float] | None = None,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode = mode
        self.rng = random.Random(seed)
        self.cut_after = cut_after
        self.delay = delay
        self.retry_after = retry_after
        self.weights = weights or {"pass": 4, "drop": 1, "cut": 1, "delay": 1, "503": 1}
        self.script: list[str] = []  # modes for the next connections, then ``mode``
        self.counts: Counter[str] = Counter()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, "127.0.0.1", 0)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # reported to start()
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="faultproxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one connection --------------------------------------------------------------------

    def _choose(self) -> str:
        if self.script:
            return self.script.pop(0)
        if self.mode != "random":
            return self.mode
        modes = list(self.weights)
        return self.rng.choices(modes, weights=[self.weights[m] for m in modes])[0]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        mode = self._choose()
        self.counts[mode] += 1
        try:
            if mode == "drop":
                return
            request = await _read_request(reader)
            if request is None:
                return
            if mode == "503":
                body = b'{"detail": "service unavailable (fault proxy)"}'
                writer.write(
                    b"HTTP/1.1 503 Service Unavailable\r\n"
                    + f"Retry-After: {self.retry_after}\r\n".encode()
                    + b"Content-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n".encode()
                    + b"Connection: close\r\n\r\n"
                    + body
                )
                await writer.drain()
                return
            response = await self._forward(request)
            if mode == "cut":
                writer.write(response[: self.cut_after])
            elif mode == "delay":
                await asyncio.sleep(self.delay)
                writer.write(response)
            else:
                writer.write(response)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, asyncio.CancelledError):
                pass

    async def _forward(self, request: bytes) -> bytes:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        try:
            up_writer.write(request)
            await up_writer.drain()
            return await up_reader.read(-1)
        finally:
            up_writer.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request, with ``Connection: close`` put in its head so the server closes after it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head[:-4].split(b"\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        if key in (b"connection", b"keep-alive"):
            continue
        kept.append(line)
    kept.append(b"Connection: close")
    body = await reader.readexactly(length) if length else b""
    return b"\r\n".join(kept) + b"\r\n\r\n" + body
