"""What the secretariat must hold on either engine, and on PostgreSQL behind several workers:
migrations from one list, a pull cursor that skips nothing while pushes commit concurrently,
one answer per Idempotency-Key, the idempotency table trimmed by age, and `roundtable serve`'s
engine options refused with one line when they cannot work."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fixtures_pg import PgLiveServer, _free_port
from fixtures_server import LiveServer
from test_secretariat import entry_ops, get, push, session_ops

from roundtable import protocol
from roundtable.model import HlcClock
from roundtable.secretariat.db import open_ready
from roundtable.secretariat.repository import MIGRATIONS, SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent
ALL_THREE = ["sqlite", "postgresql", "postgresql-2-workers"]


@pytest.fixture
def live_server(engine_server):
    return engine_server


def read(db, sql: str) -> list[tuple]:
    with open_ready(db) as database, database.repository() as repo:
        return repo.rows(sql)


# -- migrations --------------------------------------------------------------------------------


def test_migrations_run_once_from_one_list_and_are_recorded(server_db):
    with open_ready(server_db) as database:
        assert database.migrate() == SCHEMA_VERSION  # already there: nothing to do
    versions = read(server_db, "SELECT version FROM schema_version ORDER BY version")
    assert versions == [(m[0],) for m in MIGRATIONS]


def test_concurrent_first_starts_migrate_once(server_db):
    """Several workers starting together on an empty database: one migrates, none fails."""
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: open_ready(server_db).close(), range(4)))
    assert read(server_db, "SELECT COUNT(*) FROM schema_version") == [(len(MIGRATIONS),)]


OLD_SQLITE_SCHEMA = """
CREATE TABLE ops (seq INTEGER PRIMARY KEY, op_id TEXT NOT NULL UNIQUE, event_id TEXT NOT NULL,
    session_id TEXT NOT NULL, record_id TEXT NOT NULL, kind TEXT NOT NULL, field TEXT NOT NULL,
    value TEXT NOT NULL, hlc TEXT NOT NULL, device TEXT NOT NULL, base TEXT NOT NULL,
    received_at REAL NOT NULL);
CREATE TABLE sessions (session_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, region TEXT NOT NULL);
CREATE TABLE events (event_id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created REAL NOT NULL);
CREATE TABLE tokens (hash TEXT PRIMARY KEY, event_id TEXT NOT NULL, regions TEXT NOT NULL,
    label TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE idempotency (key TEXT NOT NULL, token_hash TEXT NOT NULL, response TEXT NOT NULL,
    created REAL NOT NULL, PRIMARY KEY (key, token_hash));
INSERT INTO events VALUES ('e1', 'Old conference', 1.0);
INSERT INTO idempotency VALUES ('k', 'h', '{}', 1.0);
"""


def test_a_server_file_from_before_the_version_table_is_brought_forward(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(OLD_SQLITE_SCHEMA)
    conn.close()
    from roundtable.secretariat import list_events

    assert list_events(db) == [("e1", "Old conference")]  # opening migrates; data kept
    versions = read(db, "SELECT version FROM schema_version ORDER BY version")
    assert versions == [(m[0],) for m in MIGRATIONS]
    indexes = read(db, "SELECT name FROM sqlite_master WHERE type = 'index'")
    assert ("idempotency_created",) in indexes
    assert read(db, "PRAGMA journal_mode") == [("wal",)]


# -- concurrency -------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ALL_THREE, indirect=True)
def test_a_puller_following_concurrent_pushes_misses_nothing(live_server):
    """Six laptops push at once while a seventh pulls with its cursor the whole time: every op
    stored reaches the puller exactly once (sequence values that committed out of order would
    make a ``seq > cursor`` pull skip rows)."""
    server = live_server
    event_id = server.create_event("Busy conference")
    token = server.token(event_id)
    clock = HlcClock("lap-0")
    sid, first = session_ops(event_id, "europe", clock)
    assert push(server.url, event_id, token, first).status_code == 200
    done = threading.Event()
    seen: list[str] = []
    seqs: list[int] = []

    def follow() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            while True:
                # a laptop of today: it speaks the current protocol, so every field reaches it
                # (one speaking 1 is sent no event.tz, by design: tests/test_venue_time.py)
                page = get(
                    server.url,
                    f"/v1/events/{event_id}/ops",
                    token,
                    since=cursor,
                    protocol=protocol.PROTOCOL_VERSION,
                ).json()
                seen.extend(o["op_id"] for o in page["ops"])
                seqs.extend(o["seq"] for o in page["ops"])
                cursor = page["next"]
                if not page["more"]:
                    break
            if finished:
                return

    def laptop(n: int) -> None:
        c = HlcClock(f"lap-{n}")
        for k in range(12):
            ops = []
            for j in range(3):
                ops += entry_ops(event_id, sid, c, f"laptop {n} batch {k} entry {j}")
            assert push(server.url, event_id, token, ops).status_code == 200

    puller = threading.Thread(target=follow)
    puller.start()
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(laptop, range(1, 7)))
    done.set()
    puller.join(120)
    stored = [r[0] for r in server.query("SELECT op_id FROM ops WHERE event_id = ?", (event_id,))]
    assert len(seen) == len(set(seen))  # nothing twice
    assert set(seen) == set(stored)  # nothing skipped
    assert seqs == sorted(seqs)


@pytest.mark.parametrize("engine", ALL_THREE, indirect=True)
def test_one_key_sent_many_times_at_once_is_one_batch(live_server):
    """The same batch under the same Idempotency-Key, eight times at once (a client retrying
    over a flaky link, the retries landing on different workers): one stored copy, one answer."""
    server = live_server
    event_id = server.create_event("Retry conference")
    token = server.token(event_id)
    clock = HlcClock("lap-a")
    sid, ops = session_ops(event_id, "africa", clock)
    ops += entry_ops(event_id, sid, clock, "A need")
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: push(server.url, event_id, token, ops, key=key), range(8))
        )
    assert {a.status_code for a in answers} == {200}
    bodies = {tuple(a.json()["accepted"]) for a in answers}
    assert bodies == {tuple(o.op_id for o in ops)}  # every answer is the first one's
    assert server.query("SELECT COUNT(*) FROM ops WHERE device = 'lap-a'") == [(len(ops),)]
    assert server.query("SELECT COUNT(*) FROM idempotency") == [(1,)]


# -- the idempotency table ---------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


def test_idempotency_keys_older_than_the_limit_are_forgotten(engine, server_db):
    """Saved answers older than ``idempotency_days`` are removed (checked at most hourly, on a
    push); a key replayed after that is answered afresh, and op_id UNIQUE still stores each op
    once."""
    clock = Clock()
    cls = LiveServer if engine == "sqlite" else PgLiveServer
    server = cls(server_db, now=clock, idempotency_days=7).start()  # type: ignore[arg-type]
    try:
        event_id = server.create_event("Long conference")
        token = server.token(event_id)
        hlc = HlcClock("lap-a")
        sid, ops = session_ops(event_id, "mena", hlc)
        batches = [ops] + [entry_ops(event_id, sid, hlc, f"need {n}") for n in range(2)]
        keys = ["day-0", "day-3", "day-8"]
        for key, batch, day in zip(keys, batches, (0, 3, 5), strict=True):
            clock.t += day * 86400
            assert push(server.url, event_id, token, batch, key=key).status_code == 200
        assert server.query("SELECT key FROM idempotency ORDER BY key") == [("day-3",), ("day-8",)]
        r = push(server.url, event_id, token, batches[0], key="day-0")  # a very late retry
        assert r.status_code == 200
        assert r.json()["accepted"] == [] and len(r.json()["duplicates"]) == len(ops)
        total = sum(len(b) for b in batches)
        assert server.query("SELECT COUNT(*) FROM ops WHERE device = 'lap-a'") == [(total,)]
    finally:
        server.stop()


def test_trim_idempotency_removes_only_older_keys(server_db):
    from roundtable.secretariat import create_event, trim_idempotency

    create_event(server_db, "Conference")
    now = time.time()
    with open_ready(server_db) as database, database.repository() as repo:
        with repo.write_transaction():
            for key, age_days in (("old", 10), ("edge", 6.9), ("new", 0)):
                repo.save_answer(key, "h", {}, now - age_days * 86400)
    assert trim_idempotency(server_db, 7, now=now) == 1
    assert read(server_db, "SELECT key FROM idempotency ORDER BY key") == [("edge",), ("new",)]


# -- roundtable serve ----------------------------------------------------------------------------


def _serve(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "roundtable", "serve", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--workers", "2"], "SQLite has one writer"),
        (["--workers", "0"], "--workers 0: expected 1-64"),
        (["--idempotency-days", "0"], "--idempotency-days 0: expected more than 0"),
        (["--db", "mysql://x/y"], "expected a postgresql:// URL or a file"),
    ],
)
def test_serve_refuses_engine_options_that_cannot_work(tmp_path, args, needle):
    db = ["--db", str(tmp_path / "s.db")] if "--db" not in args else []
    out = _serve(*db, *args)
    assert out.returncode != 0
    assert needle in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.db").exists()


def test_serve_needs_a_database(tmp_path):
    out = _serve(env={"ROUNDTABLE_DB_URL": ""})
    assert out.returncode != 0 and "ROUNDTABLE_DB_URL" in out.stderr
    assert "Traceback" not in out.stderr


def test_serve_names_an_unreachable_postgresql_in_one_line(tmp_path):
    url = f"postgresql://rt@/nope?host={tmp_path}&port={_free_port()}"
    out = _serve("--db", url, "--port", str(_free_port()))
    assert out.returncode != 0
    assert "--db: cannot open the database" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_serve_takes_its_database_from_the_environment(server_db):
    from roundtable.secretariat import create_event, issue_token

    event_id = create_event(server_db, "Conference")
    token = issue_token(server_db, event_id, ["*"])
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "roundtable", "serve", "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(ROOT), "ROUNDTABLE_DB_URL": str(server_db)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"{url}/v1/whoami", headers={"Authorization": f"Bearer {token}"})
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["event_id"] == event_id
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_more_requests_than_pooled_connections_wait_their_turn(server_db):
    """60 pushes at once against a pool of 2 connections: all are answered.  (Threads that
    blocked waiting for a pooled connection used to hold every worker thread that the pushes
    holding the two connections needed, until the pool's 30 s timeout turned them into 500s.)"""
    server = PgLiveServer(server_db, pool_size=2).start()  # type: ignore[arg-type]
    try:
        event_id = server.create_event("Crowded conference")
        token = server.token(event_id)
        clock = HlcClock("lap-a")
        sid, ops = session_ops(event_id, "americas", clock)
        assert push(server.url, event_id, token, ops).status_code == 200
        batches = [entry_ops(event_id, sid, clock, f"need {n}") for n in range(60)]
        with ThreadPoolExecutor(60) as pool:
            answers = list(pool.map(lambda b: push(server.url, event_id, token, b), batches))
        assert [a.status_code for a in answers] == [200] * 60
        total = len(ops) + sum(len(b) for b in batches)
        assert server.query("SELECT COUNT(*) FROM ops WHERE device = 'lap-a'") == [(total,)]
    finally:
        server.stop()
