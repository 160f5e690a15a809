"""The secretariat's reference central API: FastAPI + uvicorn over SQLite (one process) or
PostgreSQL (several workers).  Installed with the `server` extra.

Imports nothing of the client but model, protocol, minutes and report.  The admin functions
(create_event, issue_token, revoke_token, ...) work on the database directly and need no
running server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roundtable.secretariat.db import (
    AdminError,
    create_event,
    issue_token,
    list_events,
    list_tokens,
    parse_expiry,
    revoke_token,
    trim_idempotency,
)
from roundtable.secretariat.repository import SCHEMA_VERSION, is_url

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = [
    "SCHEMA_VERSION",
    "AdminError",
    "backup_database",
    "check_proxies",
    "create_app",
    "create_event",
    "is_url",
    "issue_token",
    "list_events",
    "list_tokens",
    "migrate",
    "migration_plan",
    "parse_expiry",
    "restore_database",
    "revoke_token",
    "serve",
    "trim_idempotency",
]

DB_ENV = "ROUNDTABLE_DB_URL"
DAYS_ENV = "ROUNDTABLE_IDEMPOTENCY_DAYS"
DOCS_ENV = "ROUNDTABLE_SERVE_DOCS"  # "1": the workers serve /docs and /redoc


def create_app(target: Path | str, **kwargs) -> FastAPI:
    """The ASGI app (see ``secretariat.app.create_app``); fastapi is imported only here."""
    from roundtable.secretariat.app import create_app as _create

    return _create(target, **kwargs)


# -- the administration commands' entry points (issue 21): the command line imports this package
# only, never its internals (an import-linter contract); each imports its module when called.
# (Not named after a submodule: importing ``secretariat.backup`` sets the package's ``backup``.)


def check_proxies(value: str) -> None:
    """``--forwarded-allow-ips`` checked as ``serve`` will read it (ValueError: why not)."""
    from roundtable.secretariat.middleware import trusted_peers

    trusted_peers(value)


def backup_database(target: Path | str, out: Path, *, force: bool = False) -> str:
    """Write a backup of the database ``target`` to ``out``; returns what was written."""
    from roundtable.secretariat.backup import backup as _backup

    return _backup(target, out, force=force)


def restore_database(backup_file: Path, target: Path | str, *, force: bool = False) -> str:
    """Put a backup in place as the database ``target`` (see ``secretariat.backup``)."""
    from roundtable.secretariat.backup import restore as _restore

    return _restore(backup_file, target, force=force)


def migration_plan(target: Path | str) -> tuple[int | None, list[tuple[int, str]]]:
    """The database's schema version (None: an SQLite file not there yet) and the migrations
    it still needs, (version, what) each."""
    from roundtable.secretariat.backup import pending_migrations, schema_found

    found = schema_found(target)
    return found, pending_migrations(found or 0)


def migrate(target: Path | str) -> Path | None:
    """Migrate the database to ``SCHEMA_VERSION``; returns the copy of an SQLite file kept
    from before, if one was made.  The database's own errors are raised as they are."""
    from roundtable.secretariat.repository import open_database

    database = open_database(target, pooled=False)
    try:
        database.migrate()
    finally:
        database.close()
    kept = getattr(database, "migration_backup", None)
    return Path(kept) if kept else None


FORWARDED_ENV = "ROUNDTABLE_FORWARDED_ALLOW_IPS"
POOL_ENV = "ROUNDTABLE_POOL_SIZE"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def app_from_env() -> FastAPI:
    """The app of one uvicorn worker process, configured by ``serve`` through the environment."""
    return create_app(
        os.environ[DB_ENV],
        idempotency_days=float(os.environ.get(DAYS_ENV, "7")),
        forwarded_allow_ips=os.environ.get(FORWARDED_ENV, "127.0.0.1"),
        pool_size=int(os.environ.get(POOL_ENV, "10")),
        migrate=False,  # serve migrated before starting the workers
        docs=os.environ.get(DOCS_ENV) == "1",
    )


def serve(
    target: Path | str,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    workers: int = 1,
    idempotency_days: float = 7.0,
    forwarded_allow_ips: str = "127.0.0.1",
    root_path: str = "",
    log_level: str = "info",
    pool_size: int = 10,
    debug_log: str | None = None,
    docs: bool = False,
) -> None:
    """Run the API with uvicorn until interrupted.  Binds loopback unless told otherwise.
    Several workers need PostgreSQL (SQLite has one writer; the caller checks).

    Behind a reverse proxy: ``forwarded_allow_ips`` lists the proxies whose X-Forwarded-Proto,
    -For and -Host are believed (``middleware.Forwarded``; uvicorn's own handling is off so
    that there is one place), ``root_path`` the path prefix the proxy serves it under."""
    import uvicorn

    from roundtable.secretariat.middleware import log_config

    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "log_config": log_config(log_level, debug_log),
        "proxy_headers": False,
        "root_path": root_path.rstrip("/"),
        "access_log": False,  # middleware.AccessLog writes one line per request
    }
    if is_url(target):
        from roundtable.secretariat.postgres import check_capacity

        check_capacity(str(target), workers, pool_size)  # AdminError: one line, nothing started
    if workers <= 1:
        app = create_app(
            target,
            idempotency_days=idempotency_days,
            forwarded_allow_ips=forwarded_allow_ips,
            pool_size=pool_size,
            docs=docs,
        )
        uvicorn.run(app, **common)
        return
    from roundtable.secretariat.db import open_ready

    open_ready(target).close()  # migrate once, before the workers start
    os.environ[DB_ENV] = str(target)
    os.environ[DAYS_ENV] = str(idempotency_days)
    os.environ[FORWARDED_ENV] = forwarded_allow_ips
    os.environ[POOL_ENV] = str(pool_size)
    os.environ[DOCS_ENV] = "1" if docs else "0"
    uvicorn.run("roundtable.secretariat:app_from_env", factory=True, workers=workers, **common)
