"""The SQLite engine: the embedded default, one file, one process.

One connection per request (cheap with SQLite) and ``BEGIN IMMEDIATE`` for every write, so
concurrent pushes from uvicorn's thread pool serialize on SQLite's single writer lock.  WAL mode
lets pulls read while a push writes; ``synchronous=FULL`` because with NORMAL a committed push
can vanish on power loss after the client was told it was stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
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


def connect(db_path: Path | str) -> sqlite3.Connection:
    """A connection with the durability settings every request needs."""
    conn = sqlite3.connect(str(db_path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class SqliteRepository(Repository):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, tuple(args))

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def lock_batch(self, key: str, token_hash: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already holds the file's only writer lock."""

    def _insert_fresh_ops(self, ops: list[Op], received_at: float) -> set[str]:
        # the writer lock is held since the existence check: every one of them goes in
        self.conn.executemany(
            "INSERT OR IGNORE INTO ops (op_id, event_id, session_id, record_id, kind, field,"
            " value, hlc, device, base, received_at, wire, region) VALUES"
            " (?,?,?,?,?,?,?,?,?,?,?,?, CASE WHEN ? = '' THEN '' ELSE"
            " (SELECT region FROM sessions WHERE session_id = ?) END)",
            [(*op_row(op, received_at), op.session_id, op.session_id) for op in ops],
        )
        return {op.op_id for op in ops}


class SqliteDatabase(Database):
    """The SQLite file ``path`` (created, with its directory's parent required to exist)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.target = str(self.path)
        self.migration_backup: Path | None = None
        """Where ``migrate`` copied the file before changing it (None: nothing to keep)."""
        self.page_cache = PageCache()

    unavailable = (sqlite3.OperationalError,)

    def is_unavailable(self, exc: BaseException) -> bool:
        # a file locked past busy_timeout, or one that cannot be opened; not an SQL mistake
        text = str(exc).lower()
        return isinstance(exc, sqlite3.OperationalError) and (
            "locked" in text or "unable to open" in text or "disk i/o" in text
        )

    def readiness(self, timeout: float = 3.0) -> tuple[bool, str, int]:
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=timeout)
        except sqlite3.Error as exc:
            return False, f"database: {exc}", 0
        try:
            return self._readiness(SqliteRepository(conn))
        except sqlite3.Error as exc:
            return False, f"database: {exc}", 0
        finally:
            conn.close()

    @contextmanager
    def repository(self) -> Iterator[SqliteRepository]:
        conn = connect(self.path)
        try:
            repo = SqliteRepository(conn)
            repo.page_cache = self.page_cache
            yield repo
        finally:
            conn.close()

    def migrate(self) -> int:
        """Create or upgrade the tables and switch the file to WAL mode, which persists."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            found = (conn.execute("SELECT MAX(version) FROM schema_version").fetchone() or (0,))[0]
            found = found or 0
            if found >= SCHEMA_VERSION:
                return found
            # a file that holds data is copied aside before anything of it changes
            from roundtable.secretariat.backup import backup_before_migration

            self.migration_backup = backup_before_migration(self.path, found)
            conn.execute("BEGIN IMMEDIATE")
            try:
                # read again under the writer lock: another process may have just migrated
                now = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
                for version, _what, sqlite_sql, _pg in MIGRATIONS:
                    if version > now:
                        for stmt in statements(sqlite_sql):
                            conn.execute(stmt)
                        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return found
        finally:
            conn.close()
