"""The secretariat's HTTP API (FastAPI), versioned under ``/v1``: the app assembled from its
layers.

    routes/*      one APIRouter per resource (meta, events, ops, documents)
    deps          per-request connection (``Repo``) and the bearer token's scope (``Scope``)
    service       the push transaction and its checks; ``Refusal`` for a refused request
    schemas       the wire models (an op's fields from ``protocol.OP_WIRE``)
    middleware    body size limit, OPTIONS/405, Server-Timing
    repository    the storage interface; sqlite.py and postgres.py implement it

Every data endpoint needs a bearer token scoped to one event and some regions.  Push bodies are
read raw and validated by ``protocol.parse_push_body`` (the same checks as the client), so a bad
batch gets one line saying what and where, and nothing of it is written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from roundtable.secretariat.middleware import AccessLog, Forwarded, Guard, trusted_peers
from roundtable.secretariat.repository import Database, Repository, open_database
from roundtable.secretariat.routes import ROUTERS, console
from roundtable.secretariat.service import Refusal

API_VERSION = "v1"
DEFAULT_IDEMPOTENCY_DAYS = 7.0
TRIM_EVERY_S = 3600.0
RETRY_AFTER_S = 2


def _one_line(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "request: invalid"
    err = errors[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "request"
    return f"{where}: {err.get('msg', 'invalid')}"[:300]


class IdempotencyTrim:
    """Forgets saved push answers older than ``days``, at most once per ``every`` seconds of
    the server's clock, piggybacked on a push (so an idle server does no work).  A laptop that
    replays a key after that gets its ops back as duplicates: op_id UNIQUE still holds."""

    def __init__(self, days: float, every: float = TRIM_EVERY_S) -> None:
        self.days = days
        self.every = every
        self._last: float | None = None
        self._lock = threading.Lock()

    def due(self, now: float) -> bool:
        with self._lock:
            if self._last is not None and now - self._last < self.every:
                return False
            self._last = now
            return True

    def run(self, repo: Repository, now: float) -> int:
        """Also forgets the console's sign-ins that ended or expired as long ago (issue 19)."""
        with repo.write_transaction():
            repo.trim_sign_ins(now - self.days * 86400)
            return repo.trim_idempotency(now - self.days * 86400)


class PathsWithoutQuery(logging.Filter):
    """uvicorn's access log shows paths without their query strings: whatever a client puts
    there (a token, by mistake) is never written to a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def _access_log_without_queries() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PathsWithoutQuery) for f in logger.filters):
        logger.addFilter(PathsWithoutQuery())


def create_app(
    target: Path | str | Database,
    *,
    max_body_bytes: int = 1_000_000,
    now: Callable[[], float] = time.time,
    idempotency_days: float = DEFAULT_IDEMPOTENCY_DAYS,
    pool_size: int = 10,
    console_refresh: float = console.REFRESH_SECONDS,
    forwarded_allow_ips: str = "127.0.0.1",
    migrate: bool = True,
    docs: bool = False,
) -> FastAPI:
    """The secretariat's ASGI app over ``target``: an SQLite file (created if missing), a
    ``postgresql://`` URL, or an open Database.  The schema is migrated first, unless
    ``migrate`` is false (the workers of ``serve --workers N``: the parent migrated, and a
    worker restarted while PostgreSQL is away must start anyway and answer 503 until it is
    back, not die at start).

    ``docs``: serve the interactive API pages (``/docs``, ``/redoc``).  They load Swagger's
    and ReDoc's scripts from a CDN, so they are off unless asked for (``serve --docs``): a
    secretariat serves no third-party script by default (issue 19).  ``/openapi.json`` is
    always served."""
    if isinstance(target, Database):
        database = target
    else:
        database = open_database(target, pool_size=pool_size)
    if migrate:
        database.migrate()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        database.close()  # a worker that stops hands its pooled connections back

    app = FastAPI(
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        title="roundtable secretariat",
        version="1.0",
        description="Central API of the regional round tables: push and pull ops, minutes, "
        "the consolidated report.",
    )
    app.state.database = database
    app.state.now = now
    app.state.trim = IdempotencyTrim(idempotency_days)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=422)

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        # the database cannot be reached (PostgreSQL restarting, SQLite locked too long): 503
        # with Retry-After, which a laptop retries; anything else is the server's fault
        if not database.is_unavailable(exc):
            raise exc
        return JSONResponse(
            {"detail": "the database cannot be reached just now; retry shortly"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    for kind in database.unavailable:
        app.add_exception_handler(kind, _unavailable)

    @app.exception_handler(Refusal)
    async def _refused(request: Request, exc: Refusal) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    for router in ROUTERS:
        app.include_router(router)
    # the web console at /: pages, sign-in, static files
    web = console.install(app, refresh=console_refresh)
    _access_log_without_queries()
    # the routers' own routes: newer FastAPI wraps an included router in one opaque route
    routes = [*app.router.routes, *(r for router in (*ROUTERS, web) for r in router.routes)]
    app.add_middleware(Guard, max_body_bytes=max_body_bytes, routes=lambda: routes)
    app.add_middleware(AccessLog)
    # outermost: the proxy's X-Forwarded-* are read first, and only from a trusted proxy
    app.add_middleware(Forwarded, trusted=trusted_peers(forwarded_allow_ips))
    return app
