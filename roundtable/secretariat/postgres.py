"""The PostgreSQL engine (psycopg 3): the secretariat scaled out over several uvicorn workers.

Each worker process holds a small connection pool; a request borrows one connection (autocommit,
so a read is its own statement) and a push runs in an explicit transaction.  How the pull cursor
and the idempotency constraints hold under concurrent workers: see ``repository``'s docstring.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from roundtable.model import Op
from roundtable.secretariat.pages import PageCache
from roundtable.secretariat.repository import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Database,
    Repository,
    op_row,
    statements,
)

_MIGRATION_LOCK = 0x726F756E64  # pg_advisory_xact_lock key: one migrating worker at a time
_QMARK = re.compile(r"\?")
_CACHE: dict[str, str] = {}


def _sql(sql: str) -> str:
    """The shared SQL's ``?`` placeholders as psycopg's ``%s`` (the shared SQL has no ``%``)."""
    out = _CACHE.get(sql)
    if out is None:
        out = _CACHE[sql] = _QMARK.sub("%s", sql)
    return out


def text_array(values: Iterable[str]) -> str:
    """A PostgreSQL array literal of these strings, for a ``?::text[]`` parameter: each
    element double-quoted, its backslashes and double quotes escaped (inside quotes every
    other character stands for itself).  psycopg's list dumper, in Python, cost ~2 ms of a
    worker's CPU for a push's ten text columns of 74 ops (issue 25); this is one pass, and
    PostgreSQL parses the literal in C."""
    values = list(values)
    if not values:
        return "{}"
    probe = "".join(values)
    if "\\" in probe or '"' in probe:  # only then element by element (a JSON value, a wire)
        values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
    return '{"' + '","'.join(values) + '"}'


SEQ_POSITION_BITS = 20
SEQ_ROWS_PER_TRANSACTION = 1 << SEQ_POSITION_BITS
# Rows whose seq lies below this were written by transactions that have all ended: a pull
# returns no other (the pull rule, ``repository``'s docstring).  Evaluated in the statement's
# own snapshot (pg_current_snapshot() is the active snapshot).
HORIZON = f"(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << {SEQ_POSITION_BITS})"


class PostgresRepository(Repository):
    dialect = "postgresql"
    horizon = HORIZON
    # The event as a sub-select, whose value the planner cannot see: it then estimates the
    # event's rows from the column's statistics (all of them for the first event), not from
    # the event id's own.  A new event is in no statistics until autovacuum analyses the table
    # again (after 10 % more rows: late on a large table), and it is then taken for a single
    # row, so an index on the event alone looked best for a lookup of record ids: each pull
    # page's label lookup read every op of the event through it (70-80 ms at 70,000 ops, the
    # largest cost of the issue 25 load), where the (event, field, record) or record index
    # takes well under a millisecond.
    event_is = "event_id = (SELECT ?::text)"

    def __init__(self, conn: Any, lender: PostgresDatabase | None = None) -> None:
        self._conn = conn
        self._lender = lender  # lends the connection at the first statement (``repository``)
        self._pos = 0  # rows numbered in this (push) transaction so far

    @property
    def conn(self) -> Any:
        if self._conn is None:
            assert self._lender is not None
            self._conn = self._lender.pool.getconn()
        return self._conn

    def give_back(self) -> None:
        """Return a lent connection to its pool (committing or rolling back first, as the
        pool's own ``connection()`` block does)."""
        conn, self._conn = self._conn, None
        if conn is None or self._lender is None:
            return
        try:
            with conn:  # an open transaction is rolled back (never one here: autocommit)
                pass
        finally:
            self._lender.pool.putconn(conn)

    def returns_without_io(self) -> bool:
        """Giving back holds no I/O: no connection was taken, or it is idle (no transaction
        to end; the pool then only files it)."""
        if self._conn is None:
            return True
        from psycopg import pq

        return bool(
            not self._conn.closed
            and self._conn.pgconn.transaction_status == pq.TransactionStatus.IDLE
        )

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.conn.execute(_sql(sql), tuple(args))

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        # rows are tuples already; fetchall loads them in one call (not row by row)
        return self.conn.execute(_sql(sql), tuple(args)).fetchall()

    def _in_chunks(self, sql: str, ids: Sequence[str], extra: Sequence[Any] = ()) -> list[tuple]:
        """``IN ({marks})`` as ``= ANY(?)`` with the ids as one array: one statement text
        whatever the number of ids, so psycopg converts it once and PostgreSQL prepares it
        after a few runs instead of parsing and planning a new text each time (a pull page's
        label lookup names ~90 ids, a push's checks 74)."""
        if not ids:
            return []
        assert sql.count("IN ({marks})") == 1, sql
        return self._rows(
            sql.replace("IN ({marks})", "= ANY(?::text[])"), (*extra, text_array(ids))
        )

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            with self.conn.cursor() as cur:
                cur.executemany(_sql(sql), rows)

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        self._pos = 0
        try:
            with self.conn.transaction():
                yield
        finally:
            self._pos = 0

    def lock_batch(self, key: str, token_hash: str) -> None:
        """Two tries of one batch (same Idempotency-Key and token) wait for each other, so the
        second replays the first's answer; other pushes, of any event, go on in parallel."""
        self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{token_hash}:{key}",)
        )

    def _positions(self, n: int) -> int:
        """The position in this transaction of the first of ``n`` new rows (the rows' seq is
        the transaction's id, shifted, plus the position: the pull rule, ``repository``'s
        docstring)."""
        if self._pos + n > SEQ_ROWS_PER_TRANSACTION:
            raise RuntimeError(
                f"one transaction may number {SEQ_ROWS_PER_TRANSACTION} ops; push smaller batches"
            )
        start, self._pos = self._pos, self._pos + n
        return start

    def insert_ops(self, ops: Iterable[Op], received_at: float) -> list[str]:
        """As ``Repository.insert_ops``, without reading which ops are stored first: the
        insert's ``ON CONFLICT (op_id) DO NOTHING RETURNING op_id`` says which went in (one
        statement fewer a push; a stored op's number is a gap, as for a lost race)."""
        fresh: dict[str, Op] = {}
        for op in ops:
            fresh.setdefault(op.op_id, op)  # the first of an op sent twice in the batch
        if not fresh:
            return []
        inserted = self._insert_fresh_ops(list(fresh.values()), received_at)
        return [op_id for op_id in fresh if op_id in inserted]

    def _insert_fresh_ops(self, ops: list[Op], received_at: float) -> set[str]:
        start = self._positions(len(ops))
        columns: list[list[Any]] = [[] for _ in range(11)]
        for op in ops:
            row = op_row(op, received_at)  # op_id, event_id, ..., base, received_at, wire
            for column, value in zip(
                columns, (op.event_id, row[0], *row[2:10], row[11]), strict=True
            ):
                column.append(value)
        # one statement text whatever the batch's size (each column an array literal, built by
        # ``text_array``): psycopg converts it once and the server prepares it, where a VALUES
        # list of 12 x 500 placeholders was parsed again by psycopg at every push.  The seq is
        # numbered in the statement (the transaction's id, shifted, plus the row's position),
        # not read first.
        cur = self.conn.execute(
            "INSERT INTO ops (event_id, seq, op_id, session_id, record_id, kind, field, value,"
            " hlc, device, base, received_at, wire, region) SELECT r.event_id,"
            f" (pg_current_xact_id()::text::bigint << {SEQ_POSITION_BITS}) + %s + r.n - 1,"
            " r.op_id, r.session_id, r.record_id, r.kind, r.field, r.value, r.hlc, r.device,"
            " r.base, %s::float8, r.wire, CASE WHEN r.session_id = '' THEN '' ELSE (SELECT"
            " s.region FROM sessions s WHERE s.session_id = r.session_id) END FROM"
            " unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
            " %s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) WITH ORDINALITY"
            " AS r (event_id, op_id, session_id, record_id, kind, field, value, hlc, device,"
            " base, wire, n)"
            " ON CONFLICT (op_id) DO NOTHING RETURNING op_id",
            (start, received_at, *(text_array(column) for column in columns)),
        )
        # numbers of rows that lost a race on op_id are gaps: the cursor skips no row, only
        # numbers
        return {r[0] for r in cur.fetchall()}


def check_capacity(url: str, workers: int, pool_size: int) -> str:
    """Whether ``workers`` processes of ``pool_size`` connections each (and one more each, for
    ``/v1/ready``) fit in the server's ``max_connections`` less its reserved slots; AdminError
    naming the numbers and what to change when they do not.  Returns the figures."""
    import psycopg

    from roundtable.secretariat.repository import AdminError

    def one(conn: Any, sql: str) -> int:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        limit = one(conn, "SHOW max_connections")
        reserved = one(conn, "SHOW superuser_reserved_connections")
        others = one(
            conn,
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()",
        )
    need = workers * (pool_size + 1)
    room = limit - reserved - others
    figures = (
        f"{workers} worker{'s' if workers != 1 else ''} x ({pool_size} pooled + 1) = {need} "
        f"connections; PostgreSQL's max_connections {limit} less {reserved} reserved and "
        f"{others} in use leaves {room}"
    )
    if need > room:
        raise AdminError(
            f"--workers/--pool-size: {figures}; lower --pool-size or --workers, or raise "
            "max_connections in postgresql.conf"
        )
    return figures


class PostgresDatabase(Database):
    """A PostgreSQL database named by a ``postgresql://`` URL, behind a connection pool."""

    lends_lazily = True

    def __init__(self, url: str, *, pool_size: int = 10, pooled: bool = True) -> None:
        self.target = url
        self.pool_size = self.max_connections = pool_size
        self.pooled = pooled
        self._pool: Any = None
        self._purging = threading.Lock()
        self._opening = threading.Lock()
        self._purge_running = False
        self.page_cache = PageCache() if pooled else None

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.target, autocommit=True, connect_timeout=10)

    @property
    def unavailable(self) -> tuple[type[Exception], ...]:  # type: ignore[override]
        import psycopg
        from psycopg_pool import PoolTimeout

        return (psycopg.OperationalError, PoolTimeout)

    @property
    def pool(self) -> Any:
        with self._opening:  # the first requests arrive together: one pool, not one each
            if self._pool is None:
                self._pool = self._open_pool()
        return self._pool

    def _open_pool(self) -> Any:
        from psycopg_pool import ConnectionPool

        return ConnectionPool(
            self.target,
            min_size=1,
            max_size=self.pool_size,
            kwargs={"autocommit": True, "connect_timeout": 5},
            # a pooled connection is checked before it is lent: after a restart of
            # PostgreSQL the stale ones are dropped here, not in the middle of a request
            check=self._check,
            # a request never waits behind others for a slot (deps.get_repo), only for a
            # connection being made: past this, 503 + Retry-After and the laptop retries
            timeout=8,
            # a refill that keeps failing gives up soon, so that the next request starts a
            # new one at once instead of waiting out a long backoff once PostgreSQL is back
            reconnect_timeout=5,
            max_lifetime=3600,
            open=True,
            name="secretariat",
        )

    def _check(self, conn: Any) -> None:
        """``ConnectionPool.check_connection``; on the first stale connection, every idle one
        is checked at once (a restart leaves all of them stale; one by one, the pool would
        pause between them and a request could time out)."""
        from psycopg_pool import ConnectionPool

        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            self._purge()
            raise

    def _purge(self) -> None:
        with self._purging:
            if self._purge_running:
                return
            self._purge_running = True

        def run() -> None:
            try:
                pool = self._pool
                if pool is not None:
                    pool.check()
            except Exception:  # the pool closed meanwhile, or the server is down: next time
                pass
            finally:
                with self._purging:
                    self._purge_running = False

        threading.Thread(target=run, name="pool-check", daemon=True).start()

    def readiness(self, timeout: float = 3.0) -> tuple[bool, str, int]:
        import psycopg

        try:
            # a connection of its own: readiness is not queued behind the requests' pool
            wait = max(1, int(timeout))
            with psycopg.connect(self.target, autocommit=True, connect_timeout=wait) as conn:
                return self._readiness(PostgresRepository(conn))
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return False, f"database: {first[:200]}", 0

    @contextmanager
    def repository(self) -> Iterator[PostgresRepository]:
        if not self.pooled:  # a command's single connection: no pool to start and stop
            with self._connect() as conn:
                yield PostgresRepository(conn)
            return
        # the connection is taken at the first statement, in the thread that runs it, so that
        # a request's dependency on its repository costs no hop to the thread pool
        # (deps.get_repo); given back at the block's end
        repo = PostgresRepository(None, lender=self)
        repo.page_cache = self.page_cache
        try:
            yield repo
        finally:
            repo.give_back()

    def migrate(self) -> int:
        with self._connect() as conn:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                found = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                found = found or 0
                for version, _what, _sqlite, pg_sql in MIGRATIONS:
                    if version > found:
                        for stmt in statements(pg_sql):
                            conn.execute(stmt)
                        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
            return min(found, SCHEMA_VERSION)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
