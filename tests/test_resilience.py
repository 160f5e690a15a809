"""The secretariat through database trouble.

Fast tier: ``/v1/health`` is liveness (no database), ``/v1/ready`` says whether requests can be
served (database reachable, schema current) with 503 and the reason otherwise; a database that
cannot be reached answers 503 + Retry-After (which a laptop retries), not 500.

e2e: ``roundtable serve --workers 2`` on a real PostgreSQL cluster that is restarted under it.
After a restart while idle, every pooled connection is stale; not one of the next 100 requests
may fail (before issue 25: one 500 or reset per stale connection).  During an outage, a
laptop's ``roundtable sync`` keeps retrying and completes once PostgreSQL is back."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from _cli import rt
from fixtures_pg import PgCluster, pg_bindir

from roundtable.secretariat import create_app, create_event, issue_token
from roundtable.secretariat.repository import SCHEMA_VERSION
from roundtable.store import LocalStore

AGENDA = [{"title": "Needs", "item_kind": "needs"}]


def asgi(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_ready_when_the_schema_is_current_and_503_with_the_reason_when_older(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    app = create_app(db)
    async with asgi(app) as web:
        ready = await web.get("/v1/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "schema_version": SCHEMA_VERSION, "detail": ""}
        with sqlite3.connect(db) as conn:  # as if an older server had written the file
            conn.execute("DELETE FROM schema_version WHERE version = ?", (SCHEMA_VERSION,))
        stale = await web.get("/v1/ready")
        assert stale.status_code == 503
        assert stale.json()["status"] == "unavailable"
        assert "run roundtable migrate" in stale.json()["detail"]
        assert (await web.get("/v1/health")).status_code == 200  # liveness: still alive


async def test_a_database_that_cannot_be_reached_is_503_with_retry_after(tmp_path: Path) -> None:
    db = tmp_path / "data" / "s.db"
    db.parent.mkdir()
    event = create_event(db, "Conference")
    token = issue_token(db, event, ["*"])
    app = create_app(db)
    db.parent.rename(tmp_path / "elsewhere")  # the volume went away under the server
    async with asgi(app) as web:
        answer = await web.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        ready = await web.get("/v1/ready")
        alive = await web.get("/v1/health")
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "2"
    assert "retry" in answer.json()["detail"]
    assert ready.status_code == 503 and ready.json()["detail"].startswith("database:")
    assert alive.status_code == 200


# -- e2e: a real PostgreSQL restarted under the server -------------------------------------------


def _workers(parent: int) -> list[int]:
    """The uvicorn worker processes of ``serve`` (spawned children running spawn_main)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _burst(url: str, token: str, event_id: str, n: int, width: int = 20) -> list[int]:
    """``n`` requests (whoami and pulls), ``width`` at a time; their statuses (0: no answer)."""
    headers = {"Authorization": f"Bearer {token}"}
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as web:

        async def one(i: int) -> int:
            path = "/v1/whoami" if i % 2 else f"/v1/events/{event_id}/ops?since=0"
            try:
                return (await web.get(path)).status_code
            except httpx.HTTPError:
                return 0

        for start in range(0, n, width):
            statuses += await asyncio.gather(*(one(i) for i in range(start, min(n, start + width))))
    return statuses


@pytest.mark.e2e
def test_postgresql_restarts_under_the_server(tmp_path: Path) -> None:
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found; .ci/run installs them")
    cluster = PgCluster(bindir).start()
    server = None
    try:
        url = cluster.new_database()
        event_id = create_event(url, "Conference", ends="2999-12-31")
        token = issue_token(url, event_id, ["*"], label="Room B laptop")
        port = _free_port()
        log = tmp_path / "serve.log"
        server = subprocess.Popen(
            [sys.executable, "-m", "roundtable", "serve", "--db", url, "--port", str(port),
             "--workers", "2", "--debug-log", str(tmp_path / "debug.log")],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

        # 1. a restart while idle: every pooled connection is stale afterwards
        assert set(asyncio.run(_burst(base, token, event_id, 80, width=40))) == {200}
        cluster.pause()
        cluster.resume()
        after = asyncio.run(_burst(base, token, event_id, 100))
        assert after.count(200) == 100, f"{100 - after.count(200)} of 100 failed: {after}"

        # 2. an outage: liveness stays, readiness goes, a laptop's sync waits it out
        home = tmp_path / "laptop"
        home.mkdir()
        (home / "settings.toml").write_text("sync_deadline = 120\n")
        assert rt("connect", base, "--token", token, home=home).returncode == 0
        sid = LocalStore(home).create_session(event_id, "africa", "Room B", AGENDA).id
        for text in ("Training on container profiling @GH", "Database access @NG"):
            assert rt("add", sid, f"/need {text}", home=home).returncode == 0
        cluster.pause()
        # a worker that dies now is restarted by uvicorn while PostgreSQL is away: it must
        # start (and answer 503 until the database is back), not die again at start
        workers = _workers(server.pid)
        assert len(workers) == 2, workers
        os.kill(workers[0], signal.SIGKILL)
        assert httpx.get(f"{base}/v1/health", timeout=5).status_code == 200
        down = httpx.get(f"{base}/v1/ready", timeout=10)
        assert down.status_code == 503 and down.json()["detail"].startswith("database:")
        env = {
            **os.environ,
            "ROUNDTABLE_HOME": str(home),
            "ROUNDTABLE_CONFIG": str(home / "settings.toml"),
        }
        laptop = subprocess.Popen(
            [sys.executable, "-m", "roundtable", "sync", "--quiet"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(4)
        assert laptop.poll() is None, laptop.communicate()  # still trying
        cluster.resume()
        out, err = laptop.communicate(timeout=150)
        assert laptop.returncode == 0, err
        assert "pushed" in err
        import psycopg

        with psycopg.connect(url) as conn:
            texts = [
                r[0]
                for r in conn.execute(
                    "SELECT value FROM ops WHERE session_id = %s AND field = 'text'", (sid,)
                )
            ]
        assert len(texts) == 2
        assert httpx.get(f"{base}/v1/ready", timeout=10).status_code == 200
        replaced = time.monotonic() + 60  # uvicorn's supervisor restarts it in its own time
        while len(_workers(server.pid)) < 2 and time.monotonic() < replaced:
            time.sleep(0.2)
        assert len(_workers(server.pid)) == 2  # the killed one was replaced
        time.sleep(3)  # and has started (it died at start before issue 25)
        assert len(_workers(server.pid)) == 2
        again = asyncio.run(_burst(base, token, event_id, 60))
        assert again.count(200) == 60, again
        other = [x for x in log.read_text().splitlines() if not x[:2].isdigit()]
        assert not any("Traceback" in x for x in other), "\n".join(other)  # the debug log
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        cluster.stop()


def test_serve_refuses_more_connections_than_postgresql_allows(pg_cluster, capsys) -> None:
    from roundtable import cli
    from roundtable.secretariat.postgres import check_capacity

    url = pg_cluster.new_database()
    limit = pg_cluster.max_connections
    workers = limit // 10  # x (10 pooled + 1) each: over the limit
    code = cli.main(["serve", "--db", url, "--workers", str(workers), "--pool-size", "10"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"max_connections {limit}" in err and "lower --pool-size or --workers" in err
    assert len(err.strip().splitlines()) == 1
    assert "leaves" in check_capacity(url, 2, 10)  # 22 of 300: fine
