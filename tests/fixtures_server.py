"""Pytest fixtures: a real uvicorn serving the secretariat on 127.0.0.1 (a free port, a fresh
SQLite file in tmp_path), and the fault proxy in front of it.  Loaded by conftest.py.

``live_server`` is one server per test.  A module whose tests each make their own event (and
compare the tables before and after, never their absolute contents) shares one server instead:
it overrides ``live_server`` with ``shared_server`` (SQLite) or ``shared_engine_server``
(tests/fixtures_pg.py, one per engine), a ``SharedServer`` whose ``create_event`` keeps event
names unique across the module's tests."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import pytest
from faultproxy import FaultProxy


def _quick_server_class():
    """uvicorn's Server, stopped as soon as it is told: its main loop waits on an event instead
    of polling ``should_exit`` every 0.1 s (each test's server stopped ~0.1 s sooner)."""
    import asyncio

    import uvicorn

    class QuickServer(uvicorn.Server):
        async def main_loop(self) -> None:
            self._wake = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            counter = 0
            while not await self.on_tick(counter):
                counter = (counter + 10) % 864000  # on_tick refreshes the Date header each call
                try:
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                except TimeoutError:
                    pass

        def wake(self) -> None:
            loop = getattr(self, "_loop", None)
            if loop is not None and not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(self._wake.set)
                except RuntimeError:  # the loop closed meanwhile: nothing to wake
                    pass

    return QuickServer


class LiveServer:
    """uvicorn in a thread of this process; ``url`` is where it listens."""

    def __init__(self, db_path: Path, **app_kwargs) -> None:
        self.db_path = db_path
        self.app_kwargs = app_kwargs
        self.port = 0
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        import uvicorn

        from roundtable.secretariat import create_app

        self.app = app = create_app(self.db_path, **self.app_kwargs)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", access_log=False
        )
        self._server = server = _quick_server_class()(config)
        self._thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self, wait: bool = True) -> None:
        """Stop serving; ``wait=False`` returns at once (the thread ends on its own ~0.1 s later,
        its port never reused) for a test that starts many servers in a row."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._server.wake()
            if wait:
                self._thread.join(20)
            self._server = None

    # -- helpers for tests -----------------------------------------------------------------

    def create_event(self, name: str = "Regional round tables 2026", **kw) -> str:
        from roundtable.secretariat import create_event

        return create_event(self.db_path, name, **kw)

    def token(self, event: str, regions: list[str] | tuple[str, ...] = ("*",)) -> str:
        from roundtable.secretariat import issue_token

        return issue_token(self.db_path, event, list(regions), label="test")

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Read the server's database directly, to check what was (not) written."""
        conn = sqlite3.connect(self.db_path)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def op_count(self) -> int:
        return self.query("SELECT COUNT(*) FROM ops")[0][0]


class SharedServer(LiveServer):
    """A server shared by a module's tests: each test creates its own event, and a name already
    taken by an earlier test gets a number (``Conference (2)``), as event names are unique."""

    _names: dict[str, int]

    def create_event(self, name: str = "Regional round tables 2026", **kw) -> str:
        names = self.__dict__.setdefault("_names", {})
        names[name] = names.get(name, 0) + 1
        unique = name if names[name] == 1 else f"{name} ({names[name]})"
        return super().create_event(unique, **kw)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One secretariat (SQLite) for all the tests of a module; each test makes its own event."""
    server = SharedServer(tmp_path_factory.mktemp("shared") / "secretariat.db").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh secretariat on 127.0.0.1 for one test."""
    server = LiveServer(tmp_path / "secretariat.db").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fault_proxy(live_server: LiveServer) -> Iterator[FaultProxy]:
    """The fault proxy in front of ``live_server``, passing everything until told otherwise."""
    proxy = FaultProxy(live_server.port).start()
    try:
        yield proxy
    finally:
        proxy.stop()
