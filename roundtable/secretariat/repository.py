"""The secretariat's storage behind one interface: a ``Database`` (one per process: the SQLite
file, or a PostgreSQL connection pool) hands out ``Repository`` objects, one per request, each
holding one connection.  Routers and the push service speak only to ``Repository``.

Both engines share the SQL below (``?`` placeholders; the PostgreSQL repository turns them into
``%s``) and one list of migrations, recorded in a ``schema_version`` table.  What differs:

* SQLite: one writer.  A push runs in ``BEGIN IMMEDIATE``, which serializes every write, and the
  global ``seq`` (INTEGER PRIMARY KEY) is the pull cursor: rows become visible in seq order, so
  the horizon is just past the highest stored seq.
* PostgreSQL: many writers (several uvicorn workers), and pushes to one event run in parallel
  (issue 25).  A counter taken in the transaction would commit out of order, so a ``seq >
  cursor`` pull could skip a row that commits late.  The pull rule instead:

  - a row's ``seq`` is ``(xid << 20) + position``: the 64-bit id of the transaction that wrote
    it (``pg_current_xact_id()``), then the row's position within that transaction;
  - a pull returns only rows with ``seq < pg_snapshot_xmin(pg_current_snapshot()) << 20``,
    evaluated in the pull statement's own snapshot: rows of transactions older than every
    transaction still running;
  - why no cursor can skip: every transaction whose id is below the snapshot's ``xmin`` has
    ended, so its committed rows are all visible to the pull, and no transaction will ever
    again write a row numbered below the horizon (a new transaction gets an id above every
    ended one).  A pull reads, in ``seq`` order, every row between its cursor and the horizon
    (or the first ``limit`` of them); so everything up to the new cursor was returned, and
    nothing can appear there later.  ``xmin`` never moves back, so neither can the horizon.
  - the price: a row becomes pullable once every older transaction (in the whole cluster) has
    ended: a push that runs long holds back what later pushes wrote until it ends, never
    longer.
  - the rows below a horizon never change again (ops are immutable and never deleted), so a
    server process keeps the rows it read below one and serves later pages from them
    (``pages``, issue 25): a page's rows are read below the horizon of its first statement,
    from the kept rows where they reach that far and from the database above them, every
    branch of the page cut at that one horizon: the same rows as the page query.

  ``op_id UNIQUE`` with ``ON CONFLICT DO NOTHING`` has the last word on what is new, and two
  tries of one batch (same Idempotency-Key and token) wait on an advisory lock, so the second
  replays the first's answer.  Rows written before issue 25 kept their per-event numbers
  (small, below every new one), so laptops' saved cursors stay valid.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from roundtable.errors import RoundtableError
from roundtable.model import (
    LABELLED_KINDS,
    TOKEN_CEILING_DEFAULT,
    Op,
    effective_tlp,
    record_tlp,
    within,
)
from roundtable.protocol import is_withdrawal, withdrawal_op_id
from roundtable.secretariat import pages

ALL_REGIONS = "*"
SECRETARIAT_DEVICE = "secretariat"
OP_COLUMNS = "seq, op_id, event_id, session_id, record_id, kind, field, value, hlc, device, base"
_CHUNK = 500  # ids per IN (...) list
_MARK_COLUMNS = "op_id, record_id, kind, field, value, hlc"
"""The columns of ``Repository._marks``: what a label or a withdrawal is decided by."""


class AdminError(RoundtableError, ValueError):
    """A secretariat command that cannot be carried out; the message says why."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class TokenScope:
    """What a bearer token may see and write: one event, some regions (``*`` = all)."""

    token_hash: str
    event_id: str
    regions: tuple[str, ...]
    label: str
    max_tlp: str = TOKEN_CEILING_DEFAULT
    """The reader's ceiling (issue 14): no entry or speech labelled above it is ever in an
    answer to this token (pull, history, minutes, report, the console)."""
    expires: float | None = None
    """When the token stops working (epoch seconds), None for never (issue 19)."""
    last_used: float | None = None
    event_name: str = dataclasses.field(default="", compare=False)
    """The event's name, read with the token (``whoami`` answers it without a query)."""

    def allows_region(self, region: str) -> bool:
        return ALL_REGIONS in self.regions or region in self.regions

    @property
    def all_regions(self) -> bool:
        return ALL_REGIONS in self.regions


# ---------------------------------------------------------------------------------------------
# Migrations: one list for both engines.  Each step is (version, what, sqlite SQL, postgres SQL);
# steps run in order inside one transaction each, and the version is recorded.
# ---------------------------------------------------------------------------------------------

_COMMON_TABLES = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    region TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    regions TEXT NOT NULL,
    label TEXT NOT NULL,
    created {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created {real} NOT NULL,
    PRIMARY KEY (key, token_hash)
);
CREATE INDEX IF NOT EXISTS ops_event_seq ON ops (event_id, seq);
CREATE INDEX IF NOT EXISTS ops_record ON ops (record_id, seq);
CREATE INDEX IF NOT EXISTS ops_session ON ops (session_id, seq);
"""

_SQLITE_V1 = """
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
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL
);
""" + _COMMON_TABLES.format(real="REAL")

_POSTGRES_V1 = """
CREATE TABLE IF NOT EXISTS ops (
    event_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    op_id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    hlc TEXT NOT NULL,
    device TEXT NOT NULL,
    base TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (event_id, seq)
);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created DOUBLE PRECISION NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0
);
""" + _COMMON_TABLES.format(real="DOUBLE PRECISION")

_IDEMPOTENCY_AGE = "CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created);"
_TOKEN_CEILING = (
    f"ALTER TABLE tokens ADD COLUMN max_tlp TEXT NOT NULL DEFAULT '{TOKEN_CEILING_DEFAULT}';"
    "CREATE INDEX IF NOT EXISTS ops_labels ON ops (event_id, field, record_id)"
)

_DEVICES = """
CREATE TABLE IF NOT EXISTS devices (
    event_id TEXT NOT NULL,
    device TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (event_id, device)
);
"""

# issue 19: tokens that expire or are revoked, sign-ins of the web console held here (so that
# signing out, a revocation or an expiry ends them at once on every worker), and the region
# scope each laptop's device id belongs to within an event.
_SIGN_INS = """
ALTER TABLE tokens ADD COLUMN expires {real};
ALTER TABLE tokens ADD COLUMN revoked {real};
ALTER TABLE tokens ADD COLUMN last_used {real};
CREATE TABLE IF NOT EXISTS sign_ins (
    hash TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    created {real} NOT NULL,
    expires {real} NOT NULL,
    ended {real}
);
CREATE INDEX IF NOT EXISTS sign_ins_token ON sign_ins (token_hash);
CREATE TABLE IF NOT EXISTS device_scopes (
    event_id TEXT NOT NULL,
    device TEXT NOT NULL,
    regions TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    PRIMARY KEY (event_id, device)
)
"""

LAST_USED_EVERY_S = 60.0
"""A token's ``last_used`` is written at most this often (one write a minute, not a request)."""

# issue 25: each op's JSON object as a pull page writes it (``rawjson.wire_text``), stored once
# at push.  NULL for the rows stored before: a page writes those from their columns.
_WIRE = "ALTER TABLE ops ADD COLUMN wire TEXT"

# issue 25: each op's region (its session's; '' for the event's own records; NULL for an op of
# a session the server does not know, which no region's page holds), so that a page for one
# region's token reads that region's rows only (``Repository.pull_rows``): the page read the
# event's rows in seq order and dropped the other regions' (~5 read for 1 sent).
_REGION = """
ALTER TABLE ops ADD COLUMN region TEXT;
UPDATE ops SET region = CASE WHEN session_id = '' THEN '' ELSE
    (SELECT s.region FROM sessions s WHERE s.session_id = ops.session_id) END;
CREATE INDEX IF NOT EXISTS ops_region ON ops (event_id, region, seq)
"""

# issue 25: the label and withdrawal lookup of every pull page (``Repository._marks``) reads the
# ops of three fields only; an index of every op by (event, field, record) cost each insert a
# wide index entry for the other eleven fields of an entry.  The partial index holds those
# three fields' ops alone, by record id only (``Repository._mark_rows``).  On PostgreSQL the
# table's primary key is (event_id, seq): ``ops_event_seq`` repeated it, one more index entry
# per op stored (SQLite's key is seq alone, so there it stays).
_MARKS = """
DROP INDEX IF EXISTS ops_labels;
CREATE INDEX IF NOT EXISTS ops_marks ON ops (record_id)
    WHERE field IN ('tlp', 'default_tlp', 'deleted')
"""

MIGRATIONS: tuple[tuple[int, str, str, str], ...] = (
    (1, "ops, events, sessions, tokens, idempotency", _SQLITE_V1, _POSTGRES_V1),
    (2, "index the idempotency keys by age, for trimming", _IDEMPOTENCY_AGE, _IDEMPOTENCY_AGE),
    (3, "each laptop's label, for conflicts named by people", _DEVICES, _DEVICES),
    (4, "a TLP ceiling per token; labels found by field", _TOKEN_CEILING, _TOKEN_CEILING),
    (
        5,
        "token expiry and revocation, console sign-ins, each device's region scope",
        _SIGN_INS.format(real="REAL"),
        _SIGN_INS.format(real="DOUBLE PRECISION"),
    ),
    (6, "each op's wire text, written at push for the pull pages", _WIRE, _WIRE),
    (7, "each op's region, indexed for a region's pull pages", _REGION, _REGION),
    (
        8,
        "labels and withdrawals indexed alone; no second index of the primary key",
        _MARKS,
        _MARKS + ";\nDROP INDEX IF EXISTS ops_event_seq",
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def statements(script: str) -> list[str]:
    """A migration script split into statements (no ``;`` inside the scripts above)."""
    return [s.strip() for s in script.split(";") if s.strip()]


# ---------------------------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------------------------


class Repository(ABC):
    """One connection's worth of the secretariat's data.  Reads run as they come; a write runs
    inside ``write_transaction()``.  SQL is written with ``?`` and passed through ``_sql``."""

    dialect: str = ""

    # -- engine-specific ----------------------------------------------------------------------

    @abstractmethod
    def _execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Run one statement; returns a cursor (iterable of row tuples, ``fetchone``)."""

    @abstractmethod
    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    def write_transaction(self) -> AbstractContextManager[None]:
        """All or nothing: committed when the block ends, rolled back if it raises."""

    event_is = "event_id = ?"
    """An SQL condition naming one event, in the queries that look records up by id within
    it (labels, withdrawals, a record's versions): see ``PostgresRepository.event_is``."""

    def returns_without_io(self) -> bool:
        """Can the block's end give the connection back without I/O (``lends_lazily``)?"""
        return False

    horizon = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM ops)"
    """An SQL expression: a seq below which every row is final, no row below it being added
    later: a pull returns only rows below it (the pull rule, above).  SQLite has one writer at
    a time, and a new row's seq is past every stored one."""

    page_cache: pages.PageCache | None = None
    """The process's kept pull-page rows (``Database.page_cache``); None: a page reads its
    own."""

    page_top = 0
    """The event's highest seq below the horizon the last page (``pull_rows``) was read under:
    where a pull that found nothing more (its own ops being left out) may move its cursor, as
    every row up to it is final.  Read in the page's first statement."""

    @abstractmethod
    def lock_batch(self, key: str, token_hash: str) -> None:
        """Until the transaction ends, make a second push of the same batch (Idempotency-Key
        and token) wait, so that it replays this one's answer (see the module doc)."""

    @abstractmethod
    def _insert_fresh_ops(self, ops: list[Op], received_at: float) -> set[str]:
        """Insert ops not seen stored (inside the push transaction); returns the op ids
        actually inserted (``op_id UNIQUE`` has the last word)."""

    # -- shared SQL -----------------------------------------------------------------------------

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        return [tuple(r) for r in self._execute(sql, args)]

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        """The rows of a read-only query written with ``?`` (checks by tests and benchmarks)."""
        return self._rows(sql, args)

    def _in_chunks(self, sql: str, ids: Sequence[str], extra: Sequence[Any] = ()) -> list[tuple]:
        """``sql`` holds ``{marks}`` for an ``IN (...)`` list; run it over ``ids`` in chunks."""
        out: list[tuple] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            out += self._rows(sql.format(marks=",".join("?" * len(chunk))), (*extra, *chunk))
        return out

    # tokens and events

    _TOKENS = (
        "SELECT t.hash, t.event_id, t.regions, t.label, t.max_tlp, t.expires, t.revoked, "
        "t.last_used, e.name FROM tokens t LEFT JOIN events e ON e.event_id = t.event_id"
    )

    @staticmethod
    def _scope(row: Sequence[Any], now: float) -> TokenScope | None:
        """The scope of a token row (``_TOKENS``), or None when it is revoked or expired at
        ``now``."""
        h, event_id, regions, label, max_tlp, expires, revoked, last_used, name = row
        if revoked is not None or (expires is not None and float(expires) <= now):
            return None
        return TokenScope(
            h,
            event_id,
            tuple(json.loads(regions)),
            label,
            max_tlp,
            None if expires is None else float(expires),
            None if last_used is None else float(last_used),
            name or "",
        )

    def lookup_token(self, token: str, now: float | None = None) -> TokenScope | None:
        """The token's scope, or None (unknown, revoked, or expired at ``now``).  Every stored
        hash is compared in constant time, so the answer time does not tell how much of a
        guess was right."""
        import time

        wanted = hash_token(token)
        found = None
        for row in self._rows(self._TOKENS):
            if hmac.compare_digest(row[0], wanted):
                found = row
        if found is None:
            return None
        return self._scope(found, time.time() if now is None else now)

    def token_by_hash(self, token_hash: str, now: float) -> TokenScope | None:
        """The scope of a stored token hash, or None once it is gone, revoked or expired."""
        for row in self._rows(f"{self._TOKENS} WHERE t.hash = ?", (token_hash,)):
            return self._scope(row, now)
        return None

    def add_token(self, token_hash: str, event_id: str, regions: list[str], label: str,
                  created: float, max_tlp: str = TOKEN_CEILING_DEFAULT,
                  expires: float | None = None) -> None:  # fmt: skip
        self._execute(
            "INSERT INTO tokens (hash, event_id, regions, label, created, max_tlp, expires) "
            "VALUES (?,?,?,?,?,?,?)",
            (token_hash, event_id, json.dumps(regions), label, created, max_tlp, expires),
        )

    def used(self, scope: TokenScope, now: float) -> None:
        """Note that the token was used at ``now``: written at most once a minute."""
        last = scope.last_used
        if last is not None and now - last < LAST_USED_EVERY_S:
            return
        self._execute(
            "UPDATE tokens SET last_used = ? WHERE hash = ? "
            "AND (last_used IS NULL OR last_used <= ?)",
            (now, scope.token_hash, now - LAST_USED_EVERY_S),
        )

    def list_tokens(self) -> list[dict[str, Any]]:
        """Every token's row but the hash's secret part: oldest first (the admin's list)."""
        rows = self._rows(
            "SELECT t.hash, e.name, t.event_id, t.regions, t.label, t.max_tlp, t.created, "
            "t.expires, t.revoked, t.last_used FROM tokens t LEFT JOIN events e "
            "ON e.event_id = t.event_id ORDER BY t.created, t.hash"
        )
        keys = ("hash", "event", "event_id", "regions", "label", "max_tlp", "created",
                "expires", "revoked", "last_used")  # fmt: skip
        out = []
        for row in rows:
            d = dict(zip(keys, row, strict=True))
            d["regions"] = json.loads(d["regions"])
            out.append(d)
        return out

    def revoke_token(self, token_hash: str, now: float) -> None:
        """Revoke a token: its bearer requests get 401 and its console sign-ins end."""
        self._execute(
            "UPDATE tokens SET revoked = ? WHERE hash = ? AND revoked IS NULL", (now, token_hash)
        )
        self._execute(
            "UPDATE sign_ins SET ended = ? WHERE token_hash = ? AND ended IS NULL",
            (now, token_hash),
        )

    # the web console's sign-ins (issue 19): the cookie holds a random value, this table its
    # sha256; signing out, revoking the token or its expiry ends it for every worker at once

    def add_sign_in(self, sign_in_hash: str, token_hash: str, now: float, expires: float) -> None:
        self._execute(
            "INSERT INTO sign_ins (hash, token_hash, created, expires) VALUES (?,?,?,?)",
            (sign_in_hash, token_hash, now, expires),
        )

    def sign_in_scope(self, sign_in_hash: str, now: float) -> TokenScope | None:
        """The token scope of a live sign-in (not ended, not expired, its token valid)."""
        row = self._execute(
            "SELECT token_hash FROM sign_ins WHERE hash = ? AND ended IS NULL AND expires > ?",
            (sign_in_hash, now),
        ).fetchone()
        return self.token_by_hash(row[0], now) if row else None

    def trim_sign_ins(self, before: float) -> int:
        """Forget sign-ins that expired or ended before ``before``; returns how many."""
        cur = self._execute(
            "DELETE FROM sign_ins WHERE expires < ? OR (ended IS NOT NULL AND ended < ?)",
            (before, before),
        )
        return max(0, cur.rowcount)

    def end_sign_in(self, sign_in_hash: str, now: float) -> None:
        self._execute(
            "UPDATE sign_ins SET ended = ? WHERE hash = ? AND ended IS NULL", (now, sign_in_hash)
        )

    # each laptop's device id within an event belongs to the region scope of the first token
    # that pushed under it (issue 19)

    def device_scopes(self, event_id: str, devices: Sequence[str]) -> dict[str, str]:
        """device -> the region scope (JSON list) it belongs to, for those already bound."""
        rows = self._in_chunks(
            "SELECT device, regions FROM device_scopes WHERE event_id = ? AND device IN ({marks})",
            sorted(set(devices)),
            (event_id,),
        )
        return {device: regions for device, regions in rows}

    def bind_devices(
        self, event_id: str, devices: Sequence[str], regions: str, token_hash: str
    ) -> None:
        self._executemany(
            "INSERT INTO device_scopes (event_id, device, regions, token_hash) VALUES (?,?,?,?) "
            "ON CONFLICT DO NOTHING",
            [(event_id, d, regions, token_hash) for d in sorted(set(devices))],
        )

    def find_event(self, name_or_id: str) -> tuple[str, str] | None:
        row = self._execute(
            "SELECT event_id, name FROM events WHERE event_id = ? OR name = ?",
            (name_or_id, name_or_id),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def add_event(self, event_id: str, name: str, created: float) -> None:
        self._execute(
            "INSERT INTO events (event_id, name, created) VALUES (?,?,?)",
            (event_id, name, created),
        )

    def list_events(self) -> list[tuple[str, str]]:
        rows = self._rows("SELECT event_id, name FROM events ORDER BY created")
        return [(r[0], r[1]) for r in rows]

    # sessions

    def session(self, session_id: str) -> tuple[str, str] | None:
        """(event_id, region) of a session the server knows."""
        row = self._execute(
            "SELECT event_id, region FROM sessions WHERE session_id = ?", (session_id,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def sessions(self, session_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """session_id -> (event_id, region), for those the server knows."""
        rows = self._in_chunks(
            "SELECT session_id, event_id, region FROM sessions WHERE session_id IN ({marks})",
            sorted(set(session_ids)),
        )
        return {sid: (ev, region) for sid, ev, region in rows}

    def add_sessions(self, event_id: str, regions: dict[str, str]) -> None:
        self._executemany(
            "INSERT INTO sessions (session_id, event_id, region) VALUES (?,?,?) "
            "ON CONFLICT DO NOTHING",
            [(sid, event_id, region) for sid, region in regions.items()],
        )

    # ops

    def existing_op_ids(self, op_ids: Sequence[str]) -> set[str]:
        rows = self._in_chunks("SELECT op_id FROM ops WHERE op_id IN ({marks})", op_ids)
        return {r[0] for r in rows}

    def insert_ops(self, ops: Iterable[Op], received_at: float) -> list[str]:
        """Insert the ops not stored yet; returns their op_ids (the rest are duplicates, also
        within the batch).  The caller holds the write transaction."""
        ops = list(ops)
        existing = self.existing_op_ids([o.op_id for o in ops])
        fresh: dict[str, Op] = {}
        for op in ops:
            if op.op_id not in existing and op.op_id not in fresh:
                fresh[op.op_id] = op
        if not fresh:
            return []
        inserted = self._insert_fresh_ops(list(fresh.values()), received_at)
        return [op_id for op_id in fresh if op_id in inserted]

    def record_versions(self, record_ids: Sequence[str]) -> list[tuple]:
        """(op_id, record_id, event_id, session_id, kind, field, hlc) of every stored op of
        these records, oldest first."""
        rows = self._in_chunks(
            "SELECT seq, op_id, record_id, event_id, session_id, kind, field, hlc FROM ops "
            "WHERE record_id IN ({marks})",
            sorted(set(record_ids)),
        )
        rows.sort(key=lambda r: r[0])
        return [r[1:] for r in rows]

    def event_ops(self, event_id: str, where: str = "TRUE", args: Sequence[Any] = ()) -> list[Op]:
        """The event's ops (``where`` narrows them, e.g. ``scope_clause``), oldest first, less
        the versions of withdrawn records (``cut_withdrawn``)."""
        rows = self._rows(
            f"SELECT {OP_COLUMNS} FROM ops WHERE event_id = ? AND {where} ORDER BY seq",
            (event_id, *args),
        )
        return cut_withdrawn([row_to_op(r) for r in rows])

    def last_received(
        self, event_id: str, where: str = "TRUE", args: Sequence[Any] = ()
    ) -> dict[str, float]:
        """Each session's last arrival of ops (epoch seconds): when that room last synced."""
        rows = self._rows(
            f"SELECT session_id, MAX(received_at) FROM ops WHERE event_id = ? AND {where} "
            "AND session_id <> '' GROUP BY session_id",
            (event_id, *args),
        )
        return {session_id: float(at) for session_id, at in rows}

    def pull(
        self, event_id: str, since: int, limit: int, scope: TokenScope, exclude: str = ""
    ) -> list[dict]:
        """Up to ``limit`` ops after ``since`` in the token's scope, as wire dicts with seq;
        ``exclude`` leaves out one device's ops (a laptop never downloads its own back).  Ops
        of records labelled above the token's ceiling are left out (``pull_page``)."""
        return self.pull_page(event_id, since, limit, scope, exclude)[0]

    def pull_page(
        self, event_id: str, since: int, limit: int, scope: TokenScope, exclude: str = ""
    ) -> tuple[list[dict], int, bool]:
        """A page of ``pull``: the ops shown, the cursor (the seq of the last row read,
        withheld or not, so the next page moves past them) and whether more rows follow.
        ``pull_rows`` decides what the page holds; here each op is a decoded wire dict."""
        items, cursor, more = self.pull_rows(event_id, since, limit, scope, exclude)
        return [op_dict(item) for item in items], cursor, more

    def pull_rows(
        self, event_id: str, since: int, limit: int, scope: TokenScope, exclude: str = ""
    ) -> tuple[list[PageItem], int, bool]:
        """``pull_page``'s page with each op as it is kept: a stored op as its row
        (``OP_COLUMNS``, the value still JSON text, and mostly its ``wire`` text: ``rawjson``
        writes it out as stored), an op the secretariat derives as a wire dict.

        Labels moving across the token's ceiling (issue 14): where the page holds an op that
        labels a record (``model.LABELLED_KINDS``) above it while its previous label was
        within it, the page also carries a tombstone (``deleted = true`` stamped with that op's
        HLC), so a reader that pulled the record before loses it; where it holds an op
        labelling a record within the ceiling again, and the record is within it now, the
        record's current value of every field follows (and ``deleted`` back as stored), never
        the versions between."""
        rows = self._page_rows(event_id, since, limit + 1, scope, exclude)
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = rows[-1][0] if rows else since
        ceiling = scope.max_tlp
        records = {(r[5], r[4], r[3]) for r in rows if r[5] in LABELLED_KINDS}
        marks = self._marks(event_id, records)
        labels = self._labels(event_id, records, marks)
        hidden = {rid for rid, found in labels.items() if not within(found.now, ceiling)}
        out: list[PageItem] = []
        for r in rows:
            record_id, kind, field = r[4], r[5], r[6]
            if field == "tlp" and kind in LABELLED_KINDS:
                found = labels[record_id]
                before = found.before(r[8])
                label = effective_tlp(json.loads(r[7]), found.default)
                if before is None:
                    pass  # the record's first label: nobody had it under another one
                elif not within(label, ceiling) and within(before, ceiling):
                    out.append(_ceiling_op("withdraw", ceiling, r, "deleted", True, ()))
                elif within(label, ceiling) and not within(before, ceiling):
                    if record_id not in hidden:
                        out += self._current_fields(event_id, r, ceiling, found.prior(r[8]))
            if record_id not in hidden:
                out.append(r)
        return self._cut_page(event_id, out, marks), cursor, more

    def _page_rows(
        self, event_id: str, since: int, limit: int, scope: TokenScope, exclude: str
    ) -> list[tuple]:
        """The first ``limit`` rows (``OP_COLUMNS``, wire) after ``since`` in the scope, in
        seq order, less ``exclude``'s and those not final yet (the pull rule).  A token of
        every region reads the event's rows; a token of some regions reads each of its regions'
        rows and the event's own (region ''), merged: an op's region is its session's, which
        never changes, so that is the event's rows in the scope, read through the
        ``(event_id, region, seq)`` index (issue 25).  Read through the process's
        ``pages.PageCache`` when it has one: every row below the horizon read first is final,
        so the page is the same rows whoever read them from the database."""
        branches = [pages.ALL] if scope.all_regions else ["", *sorted(set(scope.regions))]
        horizon, top = self._execute(
            "SELECT h, (SELECT MAX(seq) FROM ops WHERE event_id = ? AND seq < h) "
            f"FROM (SELECT {self.horizon} AS h) AS x",
            (event_id,),
        ).fetchone()
        horizon = int(horizon)
        self.page_top = int(top or 0)
        return pages.page_rows(
            self.page_cache, event_id, branches, since, limit, exclude, horizon,
            lambda branch, start, below, n, without: self._branch_rows(
                event_id, branch, start, below, n, without
            ),
        )  # fmt: skip

    def _branch_rows(
        self, event_id: str, branch: str, start: int, below: int, n: int, without: str
    ) -> list:
        """Up to ``n`` rows of one branch of a page (a region, '' for the event's own, ``*``
        for all) with ``start <= seq < below``, less device ``without``'s, in seq order."""
        if branch == pages.ALL:
            return self._rows(
                f"SELECT {OP_COLUMNS}, wire FROM ops WHERE event_id = ? AND seq >= ? "
                "AND seq < ? AND device <> ? ORDER BY seq LIMIT ?",
                (event_id, start, below, without, n),
            )
        return self._rows(
            f"SELECT {OP_COLUMNS}, wire FROM ops WHERE event_id = ? AND region = ? "
            "AND seq >= ? AND seq < ? AND device <> ? ORDER BY seq LIMIT ?",
            (event_id, branch, start, below, without, n),
        )

    def _withdrawals(
        self, event_id: str, record_ids: Iterable[str], marks: list[tuple] | None = None
    ) -> dict[str, Withdrawal]:
        """record_id -> ``Withdrawal`` of those of these records ever withdrawn: their
        ``deleted = true`` ops (from ``marks`` when the caller read them, else one indexed
        query), and their ops only where one is a withdrawal."""
        ids = sorted(set(record_ids))
        if not ids:
            return {}
        if marks is None:
            marks = self._mark_rows(
                event_id, ids, "field = 'deleted' AND value = 'true' AND record_id IN ({marks})"
            )
        wanted = set(ids)
        hit = sorted(
            {
                rid
                for op_id, rid, kind, field, value, hlc in marks
                if field == "deleted"
                and value == "true"
                and rid in wanted
                and op_id == withdrawal_op_id(kind, rid, hlc)
            }
        )
        if not hit:
            return {}
        ops: dict[str, list[tuple]] = {}
        for r in self._in_chunks(
            f"SELECT {OP_COLUMNS} FROM ops WHERE {self.event_is} AND record_id IN ({{marks}})",
            hit,
            (event_id,),
        ):
            ops.setdefault(r[4], []).append(r)
        out = {}
        for rid, found in ops.items():
            found.sort(key=lambda r: r[0])
            gone = Withdrawal.of([row_to_op(r) for r in found])
            if gone is not None:
                out[rid] = gone
                gone.rows.update({r[1]: r for r in found})
        return out

    def _cut_page(
        self, event_id: str, page: list[PageItem], marks: list[tuple] | None = None
    ) -> list[PageItem]:
        """A pull page less the versions of withdrawn records no reader may have (issue 19):
        a record withdrawn now leaves only as its withdrawal; one relabelled lower since
        leaves as its current values, which the page also carries where it holds the label op
        that brought the record back (a laptop that pulled only the withdrawal gets the
        record whole again).  Ops the secretariat derives (ceilings) pass."""
        labelled = (i[4] for i in page if isinstance(i, tuple) and i[5] in LABELLED_KINDS)
        gone = self._withdrawals(event_id, labelled, marks)
        if not gone:
            return page
        out: list[PageItem] = []
        for item in page:
            if not isinstance(item, tuple):
                out.append(item)
                continue
            found = gone.get(item[4])
            if found is None:
                out.append(item)
                continue
            if item[1] in found.rows and item[1] not in found.served:
                continue
            if item[6] == "tlp" and item[8] == found.back_at:
                out += [(item[0], *found.rows[i][1:11]) for i in found.current]
            out.append(item)
        return out

    def _marks(self, event_id: str, records: Iterable[tuple[str, str, str]]) -> list[tuple]:
        """What a pull page's labels and withdrawals are decided by, in one indexed query:
        ``_MARK_COLUMNS`` of the label ops (``tlp``, ``default_tlp``) and the ``deleted =
        true`` ops of these (kind, record_id, session_id)'s labelled records and their
        sessions.  (Two queries before: the withdrawals' one, ``field = 'deleted'`` alone,
        was planned on PostgreSQL as a scan of every ``deleted`` op of the event, ~6,000 at
        90,000 ops, for each pull page: issue 25.)"""
        labelled = {(kind, rid, sid) for kind, rid, sid in records if kind in LABELLED_KINDS}
        if not labelled:
            return []
        ids = sorted({rid for _, rid, _ in labelled} | {sid for _, _, sid in labelled if sid})
        return self._mark_rows(
            event_id,
            ids,
            "field IN ('tlp', 'default_tlp', 'deleted') AND (field <> 'deleted' OR value = 'true') "
            "AND record_id IN ({marks})",
        )

    def _mark_rows(self, event_id: str, ids: Sequence[str], where: str) -> list[tuple]:
        """``_MARK_COLUMNS`` of the ops of these record ids meeting ``where``, of this event.
        Looked up by record id alone (the ``ops_marks`` index: ids are unique to an event, as
        ``service.check_records`` holds) and the event checked here: with the event in the
        statement, PostgreSQL planned a table not analysed yet (a new database's first
        minutes) as a scan of the event's whole primary key beside the ids (issue 25)."""
        rows = self._in_chunks(f"SELECT {_MARK_COLUMNS}, event_id FROM ops WHERE {where}", ids)
        return [r[:-1] for r in rows if r[-1] == event_id]

    def _labels(
        self,
        event_id: str,
        records: Iterable[tuple[str, str, str]],
        marks: list[tuple] | None = None,
    ) -> dict:
        """(kind, record_id, session_id) -> ``_Labels`` of the labelled records
        (``model.LABELLED_KINDS``: entries, speeches, action reviews); ``marks``: the
        ``_marks`` of these records when the caller read them."""
        labelled = {(kind, rid, sid) for kind, rid, sid in records if kind in LABELLED_KINDS}
        if not labelled:
            return {}
        if marks is None:
            marks = self._marks(event_id, labelled)
        found: dict[str, list[tuple[str, str]]] = {}
        for _op_id, record_id, _kind, field, value, hlc in marks:
            if field != "deleted":
                found.setdefault(record_id, []).append((hlc, json.loads(value)))
        out = {}
        for kind, rid, sid in labelled:
            defaults = sorted(found.get(sid, []))
            default = record_tlp(kind, "", defaults[-1][1] if defaults else "")
            out[rid] = _Labels(sorted(found.get(rid, [])), default)
        return out

    def above_ceiling(
        self, event_id: str, records: Iterable[tuple[str, str, str]], ceiling: str
    ) -> set[str]:
        """Of these (kind, record_id, session_id), the ids of labelled records (entries,
        speeches, action reviews) whose current label (their latest ``tlp`` op, else
        ``model.record_tlp``'s default) is above ``ceiling``."""
        labels = self._labels(event_id, records)
        return {rid for rid, found in labels.items() if not within(found.now, ceiling)}

    def _current_fields(
        self, event_id: str, row: Sequence[Any], ceiling: str, withdrawn_at: str
    ) -> list[PageItem]:
        """The record's latest stored op of every field (as rows), and ``deleted`` as stored,
        stamped with the relabelling op's HLC (which undoes the tombstone a reader got)."""
        ops = self._rows(
            f"SELECT {OP_COLUMNS} FROM ops WHERE {self.event_is} AND record_id = ? ORDER BY seq",
            (event_id, row[4]),
        )
        latest: dict[str, Sequence[Any]] = {}
        for op in ops:
            if op[6] not in latest or op[8] > latest[op[6]][8]:
                latest[op[6]] = op
        out: list[PageItem] = [tuple(op) for name, op in sorted(latest.items()) if name != "tlp"]
        deleted = json.loads(latest["deleted"][7]) if "deleted" in latest else False
        base = tuple(h for h in (withdrawn_at,) if h and h < row[8])
        out.append(_ceiling_op("restore", ceiling, row, "deleted", deleted, base))
        return out

    def set_label(self, event_id: str, device: str, label: str) -> None:
        self._execute(
            "INSERT INTO devices (event_id, device, label) VALUES (?,?,?) "
            "ON CONFLICT (event_id, device) DO UPDATE SET label = excluded.label",
            (event_id, device, label),
        )

    def labels(self, event_id: str, reader: TokenScope) -> dict[str, str]:
        """device -> the label its laptop gave (``roundtable connect --label``, else its
        token's label), of the devices whose region scope ``reader``'s regions cover (all of
        them for a token of every region; a device of no known scope only for that one)."""
        rows = self._rows(
            "SELECT d.device, d.label, s.regions FROM devices d LEFT JOIN device_scopes s "
            "ON s.event_id = d.event_id AND s.device = d.device WHERE d.event_id = ?",
            (event_id,),
        )
        if reader.all_regions:
            return {device: label for device, label, _regions in rows}
        shown: dict[str, bool] = {}  # per scope text: the devices of a region share one
        out = {}
        for device, label, regions in rows:
            if regions is None:
                continue
            if regions not in shown:
                scope = json.loads(regions)
                shown[regions] = ALL_REGIONS not in scope and all(
                    reader.allows_region(r) for r in scope
                )
            if shown[regions]:
                out[device] = label
        return out

    def history(self, event_id: str, record_id: str) -> list[dict]:
        """Every stored op of a record, oldest first, with ``received_at``; of a withdrawn
        record only what ``Withdrawal`` serves (issue 19)."""
        rows = self._rows(
            f"SELECT {OP_COLUMNS}, received_at FROM ops WHERE {self.event_is} AND record_id = ? "
            "ORDER BY seq",
            (event_id, record_id),
        )
        gone = Withdrawal.of([row_to_op(r) for r in rows])
        if gone is not None:
            rows = [r for r in rows if r[1] in gone.served]
        return [row_to_dict(r) | {"received_at": r[11]} for r in rows]

    def region_action_ops(self, region: str, up_to: str) -> list[Op]:
        """What carried actions are built from (issue 12): the session, agenda item, action
        entry and action-review ops of ``region``'s sessions in every event up to ``up_to``
        (event ids are UUIDv7: they sort by creation), and the events' own records.  Entries
        never made actions (notes, needs: most of them) are left out in SQL."""
        sessions = "SELECT session_id FROM sessions WHERE region = ? AND event_id <= ?"
        rows = self._rows(
            f"SELECT {OP_COLUMNS} FROM ops WHERE event_id <= ? AND ("
            "(session_id = '' AND kind = 'event') OR "
            f"(session_id IN ({sessions}) AND (kind IN ('session', 'agenda_item', "
            "'action_review') OR (kind = 'entry' AND record_id IN (SELECT a.record_id FROM ops a "
            "WHERE a.kind = 'entry' AND a.field = 'entry_kind' AND a.value = ? "
            f"AND a.session_id IN ({sessions})))))) ORDER BY event_id, seq",
            (up_to, region, up_to, json.dumps("action"), region, up_to),
        )
        return cut_withdrawn([row_to_op(r) for r in rows])

    # idempotency

    def saved_answer(self, key: str, token_hash: str) -> dict | None:
        row = self._execute(
            "SELECT response FROM idempotency WHERE key = ? AND token_hash = ?", (key, token_hash)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def save_answer(self, key: str, token_hash: str, answer: dict, created: float) -> None:
        self._execute(
            "INSERT INTO idempotency (key, token_hash, response, created) VALUES (?,?,?,?) "
            "ON CONFLICT DO NOTHING",
            (key, token_hash, json.dumps(answer), created),
        )

    def trim_idempotency(self, before: float) -> int:
        """Forget the answers saved before ``before`` (epoch seconds); returns how many."""
        cur = self._execute("DELETE FROM idempotency WHERE created < ?", (before,))
        return max(0, cur.rowcount)

    def schema_version(self) -> int:
        """The last migration recorded (0 when none ran)."""
        try:
            row = self._execute("SELECT MAX(version) FROM schema_version").fetchone()
        except Exception as exc:  # no table yet: nothing ran
            if "schema_version" not in str(exc):
                raise
            return 0
        return int(row[0] or 0) if row else 0


class Database(ABC):
    """One per process: where the data lives, and how a request gets its connection."""

    target: str
    lends_lazily: bool = False
    """Entering ``repository()`` holds no I/O (the connection is taken at the first
    statement): ``deps.get_repo`` then enters it on the event loop, with no thread-pool hop."""
    max_connections: int = 40
    """How many requests may hold a connection at once (the pool's size for PostgreSQL)."""
    _slots: Any = None
    page_cache: pages.PageCache | None = None
    """The pull pages' rows this process keeps (``pages``), lent to each repository; None for
    a command's one-off PostgreSQL connection (``pooled=False``)."""

    @property
    def slots(self) -> Any:
        """An asyncio.Semaphore of ``max_connections``, made on first use (in the server's
        event loop)."""
        if self._slots is None:
            import asyncio

            self._slots = asyncio.Semaphore(self.max_connections)
        return self._slots

    @abstractmethod
    def repository(self) -> AbstractContextManager[Repository]:
        """One connection for the block (a request), closed or returned afterwards."""

    @abstractmethod
    def migrate(self) -> int:
        """Bring the schema up to SCHEMA_VERSION; returns the version found before."""

    def close(self) -> None:  # noqa: B027 - engines with nothing to release keep this
        """Release what the process holds (a pool's connections)."""

    unavailable: tuple[type[Exception], ...] = ()
    """The errors that mean "the database cannot be reached now" (answered 503 + Retry-After,
    so that a laptop retries), as opposed to a fault of the server (500)."""

    def is_unavailable(self, exc: BaseException) -> bool:
        return isinstance(exc, self.unavailable)

    @abstractmethod
    def readiness(self, timeout: float = 3.0) -> tuple[bool, str, int]:
        """Whether requests can be served now: (ready, why not, schema version found).  Reaches
        the database within ``timeout`` seconds, without waiting behind the requests."""

    def _readiness(self, repo: Repository) -> tuple[bool, str, int]:
        found = repo.schema_version()
        if found < SCHEMA_VERSION:
            why = f"schema {found} is older than {SCHEMA_VERSION}: run roundtable migrate"
            return False, why, found
        if found > SCHEMA_VERSION:
            return False, f"schema {found} is newer than this server ({SCHEMA_VERSION})", found
        return True, "", found

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_database(target: str | Any, *, pool_size: int = 10, pooled: bool = True) -> Database:
    """The database named by ``target``: a ``postgresql://`` URL, or an SQLite file path.
    ``pooled=False``: one connection per ``repository()`` (commands, not the server)."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        from roundtable.secretariat.postgres import PostgresDatabase

        return PostgresDatabase(text, pool_size=pool_size, pooled=pooled)
    from roundtable.secretariat.sqlite import SqliteDatabase

    return SqliteDatabase(text)


def is_url(target: str | Any) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------


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


PageItem = tuple | dict[str, Any]
"""An op of a pull page: a stored op's row (``OP_COLUMNS``) or an op the secretariat derives,
already a wire dict (``_ceiling_op``)."""


def op_dict(item: PageItem) -> dict[str, Any]:
    """A page's op as a wire dict with its seq."""
    return row_to_dict(item) if isinstance(item, tuple) else item


def row_to_op(row: Sequence[Any]) -> Op:
    d = row_to_dict(row)
    d.pop("seq")
    return Op.from_dict(d)


def op_row(op: Op, received_at: float) -> tuple:
    """The stored columns after ``seq``: op_id, event_id, ..., received_at, wire (the op as
    a pull page writes it, ``rawjson.wire_text`` of the columns before)."""
    from roundtable.secretariat.rawjson import wire_text

    row = (op.op_id, op.event_id, op.session_id, op.record_id, op.kind, op.field,
           json.dumps(op.value, ensure_ascii=False), op.hlc, op.device,
           json.dumps(list(op.base)))  # fmt: skip
    return (*row, received_at, wire_text(*row))


@dataclass
class Withdrawal:
    """What the secretariat may serve of a record withdrawn at least once (issue 19): a
    laptop withdraws a record it pushed by relabelling it TLP:RED (``protocol.is_withdrawal``),
    and the op table keeps every version, so the cut is made when they are read.

    * Withdrawn now (no label op newer than the latest withdrawal): only its withdrawals.
    * Relabelled lower since: its withdrawals, what was written after the latest one, and of
      older versions only each field's latest (its current value); never the versions in
      between."""

    at: str  # HLC of the latest withdrawal
    now: bool  # still withdrawn
    back_at: str  # HLC of the first label op after ``at`` ("" while withdrawn)
    served: set[str]  # op ids that may leave
    current: list[str]  # op ids of each field's latest version older than ``at``
    rows: dict[str, Any]  # op id -> stored row (filled by the repository when it has them)

    @classmethod
    def of(cls, ops: Sequence[Op]) -> Withdrawal | None:
        """From every stored op of one record; None if it was never withdrawn."""
        marks = [op for op in ops if is_withdrawal(op)]
        if not marks:
            return None
        at = max(op.hlc for op in marks)
        later_labels = sorted(op.hlc for op in ops if op.field == "tlp" and op.hlc > at)
        served = {op.op_id for op in marks}
        current: list[str] = []
        if later_labels:
            latest: dict[str, Op] = {}
            for op in ops:
                if op.field not in latest or op.hlc > latest[op.field].hlc:
                    latest[op.field] = op
            served |= {op.op_id for op in ops if op.hlc > at}
            current = [op.op_id for _f, op in sorted(latest.items()) if op.hlc < at]
            served |= set(current)
        back_at = later_labels[0] if later_labels else ""
        return cls(at, not later_labels, back_at, served, current, {})


def cut_withdrawn(ops: list[Op]) -> list[Op]:
    """``ops`` (oldest first) less what ``Withdrawal`` keeps from leaving the secretariat."""
    hit = {op.record_id for op in ops if is_withdrawal(op)}
    if not hit:
        return ops
    by_record: dict[str, list[Op]] = {}
    for op in ops:
        if op.record_id in hit:
            by_record.setdefault(op.record_id, []).append(op)
    served: set[str] = set()
    for found in by_record.values():
        gone = Withdrawal.of(found)
        if gone is not None:
            served |= gone.served
    return [op for op in ops if op.record_id not in hit or op.op_id in served]


@dataclass(frozen=True)
class _Labels:
    """A record's label ops (hlc, value), oldest first, and its session's default label."""

    ops: list[tuple[str, str]]
    default: str

    @property
    def now(self) -> str:
        return effective_tlp(self.ops[-1][1] if self.ops else "", self.default)

    def before(self, hlc: str) -> str | None:
        """The label the record had just before the label op stamped ``hlc``; None for its
        first label op (its creation: nobody saw it under another label)."""
        older = [value for h, value in self.ops if h < hlc]
        return effective_tlp(older[-1], self.default) if older else None

    def prior(self, hlc: str) -> str:
        """The HLC of the label op just before ``hlc`` ("" if none)."""
        older = [h for h, _value in self.ops if h < hlc]
        return older[-1] if older else ""


def _ceiling_op(
    what: str, ceiling: str, row: Sequence[Any], field: str, value: Any, base: tuple[str, ...]
) -> dict[str, Any]:
    """An op the secretariat derives for the readers of one ceiling (a label moved across
    it): its id is derived from the ceiling and the label op, so every page gives the same."""
    from roundtable.model import stable_id

    seq, op_id, event_id, session_id, record_id, kind, _f, _v, hlc, device = row[:10]
    return {
        "seq": seq,
        "op_id": stable_id("ceiling-" + what, ceiling, op_id),
        "event_id": event_id,
        "session_id": session_id,
        "record_id": record_id,
        "kind": kind,
        "field": field,
        "value": value,
        "hlc": hlc,
        "device": device,
        "base": list(base),
    }


def scope_clause(scope: TokenScope) -> tuple[str, list[Any]]:
    """SQL condition (on table ``ops``) limiting rows to the token's regions."""
    if scope.all_regions:
        return "TRUE", []
    marks = ",".join("?" * len(scope.regions))
    return (
        f"(ops.session_id = '' OR ops.session_id IN "
        f"(SELECT session_id FROM sessions WHERE region IN ({marks})))",
        list(scope.regions),
    )


def in_session(session_id: str) -> tuple[str, list[Any]]:
    """SQL condition: the event's own records and one session's."""
    return "(session_id = '' OR session_id = ?)", [session_id]
