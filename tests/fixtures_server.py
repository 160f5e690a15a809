"""Pytest fixtures: a real uvicorn serving the secretariat on 127.0.0.1 (a free port, a fresh
SQLite file in tmp_path), and the fault proxy in front of it.  Loaded by conftest.py."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import pytest
from faultproxy import FaultProxy


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
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
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
