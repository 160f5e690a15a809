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
from roundtable.secretariat.repository import is_url

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = [
    "AdminError",
    "create_app",
    "create_event",
    "is_url",
    "issue_token",
    "list_events",
    "list_tokens",
    "parse_expiry",
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
