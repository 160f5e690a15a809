"""Backups, restores and upgrades of the secretariat's database (`roundtable backup`, `restore`,
`migrate`).

SQLite: SQLite's online backup API (``Connection.backup``), so a running server keeps serving
while the copy is taken and the copy is one consistent moment; written to a temporary file,
flushed and renamed, so a backup file is whole or absent.  PostgreSQL: ``pg_dump
--format=custom`` and ``pg_restore`` (from ``pg_config --bindir``, PATH or Debian's
``/usr/lib/postgresql/*/bin``); the password comes from ``PGPASSWORD`` or ``~/.pgpass``, never
the command line.  Before a migration changes an SQLite file that already holds data, a backup
of it is written next to it.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from roundtable import osfiles
from roundtable.secretariat.repository import (
    MIGRATIONS,
    SCHEMA_VERSION,
    AdminError,
    is_url,
)

REQUIRED_TABLES = frozenset({"schema_version", "ops", "events", "tokens"})


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _flush(path: Path) -> None:
    """A copied database file made durable, with its directory entry (``osfiles``: the one
    place that knows each platform's way)."""
    with open(path, "rb+") as f:
        osfiles.flush_file(f.fileno())
    try:
        osfiles.flush_dir(path.parent)
    except OSError:
        pass  # a directory that cannot be opened for flushing: the file itself is durable


def sqlite_copy(source: Path, target: Path) -> None:
    """An online, consistent copy of the SQLite file ``source`` into the new file ``target``
    (written under a temporary name, flushed, then renamed)."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        finally:
            dst.close()
        _flush(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()


def check_sqlite_backup(path: Path) -> int:
    """The schema version of a roundtable SQLite backup; AdminError naming what is wrong."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            missing = REQUIRED_TABLES - tables
            if missing:
                raise AdminError(
                    f"{path}: not a roundtable secretariat database "
                    f"(no table {', '.join(sorted(missing))})"
                )
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise AdminError(f"{path}: damaged ({str(ok)[:200]})")
            return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise AdminError(f"{path}: not an SQLite database ({exc})") from None


def pg_tool(name: str) -> str:
    """Where ``pg_dump`` / ``pg_restore`` is: ``pg_config --bindir``, PATH, Debian's dirs."""
    candidates: list[str] = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(str(Path(out.stdout.strip()) / name))
    candidates.append(shutil.which(name) or "")
    candidates += [str(Path(d) / name) for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"))]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise AdminError(f"{name} not found: install PostgreSQL's client programs (postgresql-client)")


def _pg_run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [x for x in (done.stderr or done.stdout).splitlines() if x.strip()]
        first = lines[0].strip() if lines else f"exit status {done.returncode}"
        raise AdminError(f"{Path(args[0]).name}: {first[:300]}")


def backup(target: Path | str, out: Path, *, force: bool = False) -> str:
    """Write a backup of the database ``target`` to ``out``; returns what was written."""
    if out.exists() and not force:
        raise AdminError(f"-o {out}: exists; give another name or --force")
    if not out.parent.is_dir():
        raise AdminError(f"-o {out}: directory {out.parent} does not exist")
    if is_url(target):
        partial = out.with_name(f".{out.name}.partial")
        try:
            _pg_run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file",
                     str(partial), "--dbname", str(target)])  # fmt: skip
            _flush(partial)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        return f"{out}: pg_dump custom format ({out.stat().st_size:,} bytes)"
    source = Path(target)
    if not source.is_file():
        raise AdminError(f"--db {source}: no such file")
    version = check_sqlite_backup(source)
    sqlite_copy(source, out)
    return f"{out}: SQLite copy, schema {version} ({out.stat().st_size:,} bytes)"


def restore(backup_file: Path, target: Path | str, *, force: bool = False) -> str:
    """Put the backup ``backup_file`` in place as the database ``target`` (the server stopped).
    An SQLite file already there is kept aside (``*.before-restore-<time>``) with ``force``;
    a PostgreSQL database must be empty unless ``force`` (then its objects are replaced)."""
    if not backup_file.is_file():
        raise AdminError(f"{backup_file}: no such file")
    if is_url(target):
        args = [pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction",
                "--dbname", str(target)]  # fmt: skip
        if force:
            args[1:1] = ["--clean", "--if-exists"]
        elif _pg_has_tables(str(target)):
            raise AdminError(
                "--db: that database already has tables; restore into a new, empty database "
                "(createdb), or give --force to replace its contents"
            )
        _pg_run([*args, str(backup_file)])
        return "restored with pg_restore"
    path = Path(target)
    version = check_sqlite_backup(backup_file)
    if version > SCHEMA_VERSION:
        raise AdminError(
            f"{backup_file}: schema {version} is newer than this roundtable ({SCHEMA_VERSION})"
        )
    kept = ""
    if path.exists():
        if not force:
            raise AdminError(f"--db {path}: exists; give --force to replace it (it is kept aside)")
        aside = path.with_name(f"{path.name}.before-restore-{_stamp()}")
        sqlite_copy(path, aside)
        kept = f"; the replaced file is kept as {aside}"
        for extra in ("-wal", "-shm"):
            path.with_name(path.name + extra).unlink(missing_ok=True)
    sqlite_copy(backup_file, path)
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").connection.close()
    return f"{path}: restored from {backup_file} (schema {version}){kept}"


def _pg_has_tables(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AdminError(f"--db: cannot open the database: {first[:300]}") from None
    return bool(row and row[0])


def pending_migrations(found: int) -> list[tuple[int, str]]:
    """The migrations a database at schema ``found`` still needs: (version, what)."""
    return [(version, what) for version, what, _s, _p in MIGRATIONS if version > found]


def schema_found(target: Path | str) -> int | None:
    """The schema version of the database (0: none yet), or None when an SQLite file does not
    exist yet."""
    if not is_url(target):
        path = Path(target)
        if not path.exists():
            return None
        return _sqlite_version(path)
    import psycopg

    try:
        with psycopg.connect(str(target), connect_timeout=10) as conn:
            exists = conn.execute("SELECT to_regclass('schema_version')").fetchone()
            if not exists or exists[0] is None:
                return 0
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AdminError(f"--db: cannot open the database: {first[:300]}") from None
    return int(row[0] or 0) if row else 0


def _sqlite_version(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "schema_version" not in names:
                return 0
            return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise AdminError(f"--db {path}: not an SQLite database ({exc})") from None


def backup_before_migration(path: Path, found: int) -> Path | None:
    """Before migrating an SQLite file that holds data (schema ``found`` > 0): a consistent
    copy next to it, ``<name>.before-schema<N>-<time>``; returns its path."""
    if found <= 0 or found >= SCHEMA_VERSION or not path.exists():
        return None
    aside = path.with_name(f"{path.name}.before-schema{SCHEMA_VERSION}-{_stamp()}")
    sqlite_copy(path, aside)
    return aside
