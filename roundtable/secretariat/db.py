"""The secretariat's SQLite store: an append-only op table, session scoping, tokens, events.

One connection per request (cheap with SQLite) and ``BEGIN IMMEDIATE`` for every write, so
concurrent pushes from uvicorn's thread pool serialize on SQLite's single writer lock.  WAL mode
lets pulls read while a push writes; ``synchronous=FULL`` because with NORMAL a committed push
can vanish on power loss after the client was told it was stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roundtable.errors import RoundtableError
from roundtable.model import REGIONS, Event, HlcClock, Op, new_id
from roundtable.text import quote

SCHEMA = """
CREATE TABLE IF NOT EXISTS ops (
    seq INTEGER PRIMARY KEY,
    op_id TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    hlc TEXT NOT NULL,
    device TEXT NOT NULL,
    base TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ops_event_seq ON ops (event_id, seq);
CREATE INDEX IF NOT EXISTS ops_record ON ops (record_id, seq);
CREATE INDEX IF NOT EXISTS ops_session ON ops (session_id, seq);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    region TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    regions TEXT NOT NULL,
    label TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (key, token_hash)
);
"""

SECRETARIAT_DEVICE = "secretariat"
ALL_REGIONS = "*"


class AdminError(RoundtableError, ValueError):
    """A secretariat command that cannot be carried out; the message says why."""


def connect(db_path: Path | str) -> sqlite3.Connection:
    """A connection with the durability settings every request needs."""
    conn = sqlite3.connect(str(db_path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def init_db(db_path: Path | str) -> None:
    """Create the tables (idempotent) and switch the file to WAL mode, which persists."""
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    conn = connect(db_path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
    finally:
        conn.close()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class TokenScope:
    """What a bearer token may see and write: one event, some regions (``*`` = all)."""

    token_hash: str
    event_id: str
    regions: tuple[str, ...]
    label: str

    def allows_region(self, region: str) -> bool:
        return ALL_REGIONS in self.regions or region in self.regions

    @property
    def all_regions(self) -> bool:
        return ALL_REGIONS in self.regions


def lookup_token(conn: sqlite3.Connection, token: str) -> TokenScope | None:
    """The token's scope, or None.  Every stored hash is compared in constant time, so the
    answer time does not tell how much of a guess was right."""
    wanted = hash_token(token)
    found = None
    for h, event_id, regions, label in conn.execute(
        "SELECT hash, event_id, regions, label FROM tokens"
    ):
        if hmac.compare_digest(h, wanted):
            found = TokenScope(h, event_id, tuple(json.loads(regions)), label)
    return found


def find_event(conn: sqlite3.Connection, name_or_id: str) -> tuple[str, str] | None:
    row = conn.execute(
        "SELECT event_id, name FROM events WHERE event_id = ? OR name = ?",
        (name_or_id, name_or_id),
    ).fetchone()
    return (row[0], row[1]) if row else None


def insert_ops(conn: sqlite3.Connection, ops: Iterable[Op], received_at: float) -> list[str]:
    """Insert the ops not stored yet; returns their op_ids (the rest are duplicates, also
    within the batch).  The caller holds the write transaction, so the check cannot race."""
    ops = list(ops)
    existing: set[str] = set()
    ids = [o.op_id for o in ops]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        existing.update(
            r[0]
            for r in conn.execute(
                f"SELECT op_id FROM ops WHERE op_id IN ({','.join('?' * len(chunk))})", chunk
            )
        )
    fresh: dict[str, Op] = {}
    for op in ops:
        if op.op_id not in existing and op.op_id not in fresh:
            fresh[op.op_id] = op
    conn.executemany(
        "INSERT OR IGNORE INTO ops (op_id, event_id, session_id, record_id, kind, field,"
        " value, hlc, device, base, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            (op.op_id, op.event_id, op.session_id, op.record_id, op.kind, op.field,
             json.dumps(op.value, ensure_ascii=False), op.hlc, op.device,
             json.dumps(list(op.base)), received_at)
            for op in fresh.values()
        ],
    )  # fmt: skip
    return list(fresh)


OP_COLUMNS = "seq, op_id, event_id, session_id, record_id, kind, field, value, hlc, device, base"


def row_to_dict(row: Sequence[Any]) -> dict[str, Any]:
    seq, op_id, event_id, session_id, record_id, kind, field, value, hlc, device, base = row[:11]
    return {
        "seq": seq,
        "op_id": op_id,
        "event_id": event_id,
        "session_id": session_id,
        "record_id": record_id,
        "kind": kind,
        "field": field,
        "value": json.loads(value),
        "hlc": hlc,
        "device": device,
        "base": json.loads(base),
    }


def row_to_op(row: Sequence[Any]) -> Op:
    d = row_to_dict(row)
    d.pop("seq")
    return Op.from_dict(d)


def scope_clause(scope: TokenScope) -> tuple[str, list[Any]]:
    """SQL condition (on table ``ops``) limiting rows to the token's regions."""
    if scope.all_regions:
        return "1", []
    marks = ",".join("?" * len(scope.regions))
    return (
        f"(ops.session_id = '' OR ops.session_id IN "
        f"(SELECT session_id FROM sessions WHERE region IN ({marks})))",
        list(scope.regions),
    )


# ---------------------------------------------------------------------------------------------
# Admin functions (the `roundtable events|tokens|serve` commands)
# ---------------------------------------------------------------------------------------------


def create_event(
    db_path: Path | str, name: str, venue: str = "", starts: str = "", ends: str = ""
) -> str:
    """Create an event on the server, as ops from device "secretariat"; returns its id."""
    name = name.strip()
    if not name:
        raise AdminError("an event needs a name")
    init_db(db_path)
    event = Event(id=new_id(), name=name, venue=venue, starts=starts, ends=ends)
    clock = HlcClock(SECRETARIAT_DEVICE)
    ops = [
        Op(
            new_id(),
            event.id,
            "",
            event.id,
            "event",
            field,
            value,
            (h := clock.now()).encode(),
            h.device,
        )  # fmt: skip
        for field, value in event.to_fields().items()
    ]
    conn = connect(db_path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if find_event(conn, name) is not None:
                raise AdminError(f"an event named {name!r} already exists")
            conn.execute(
                "INSERT INTO events (event_id, name, created) VALUES (?,?,?)",
                (event.id, name, time.time()),
            )
            insert_ops(conn, ops, time.time())
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    return event.id


def issue_token(db_path: Path | str, event: str, regions: Sequence[str], label: str = "") -> str:
    """Issue a bearer token for one event (by name or id) and some regions (``["*"]`` = all).
    The token is returned once; only its sha256 is stored."""
    regions = list(dict.fromkeys(r.strip() for r in regions if r.strip()))
    if not regions:
        raise AdminError("a token needs at least one region (or '*' for all)")
    for r in regions:
        if r != ALL_REGIONS and r not in REGIONS:
            raise AdminError(f"unknown region {r!r} (one of {', '.join(REGIONS)}, or '*')")
    if ALL_REGIONS in regions:
        regions = [ALL_REGIONS]
    init_db(db_path)
    token = secrets.token_urlsafe(32)
    conn = connect(db_path)
    try:
        found = find_event(conn, event)
        if found is None:
            raise AdminError(
                f"no event {quote(event)} on this server; see `roundtable events list`"
            )
        conn.execute(
            "INSERT INTO tokens (hash, event_id, regions, label, created) VALUES (?,?,?,?,?)",
            (hash_token(token), found[0], json.dumps(regions), label, time.time()),
        )
    finally:
        conn.close()
    return token


def list_events(db_path: Path | str) -> list[tuple[str, str]]:
    """(event_id, name) of every event, oldest first."""
    init_db(db_path)
    conn = connect(db_path)
    try:
        rows = conn.execute("SELECT event_id, name FROM events ORDER BY created").fetchall()
        return [(r[0], r[1]) for r in rows]
    finally:
        conn.close()
