"""Per-request dependencies: one connection (a ``Repository``) per request, opened on entry and
closed or returned to the pool when the endpoint returns, and the bearer token's scope."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from roundtable.secretariat.middleware import note_token
from roundtable.secretariat.repository import Repository, TokenScope


async def get_repo(request: Request) -> AsyncIterator[Repository]:
    """One connection for the request.  A request first waits (on the event loop, holding no
    thread) for one of the database's ``slots``, so a connection is free when a thread asks for
    it: threads blocked on an empty pool could otherwise hold every thread of the pool that the
    connection holders need to finish (a deadlock until the pool's timeout)."""
    database = request.app.state.database
    async with database.slots:
        opened = database.repository()
        if database.lends_lazily:
            # no I/O: the connection is taken at the first statement, in the thread that runs
            # it (a request's hops to the thread pool cost a tenth of a worker's CPU, issue 25)
            repo = opened.__enter__()
        else:
            repo = await run_in_threadpool(opened.__enter__)
        try:
            yield repo
        except BaseException as exc:
            await run_in_threadpool(opened.__exit__, type(exc), exc, exc.__traceback__)
            raise
        if database.lends_lazily and repo.returns_without_io():
            opened.__exit__(None, None, None)  # an idle connection is only filed by its pool
        else:
            await run_in_threadpool(opened.__exit__, None, None, None)


# scope="function": the connection goes back as soon as the endpoint returns, before the answer
# is sent (a slow reader does not hold a pooled connection)
Repo = Annotated[Repository, Depends(get_repo, scope="function")]

bearer = HTTPBearer(auto_error=False, description="a token issued by the secretariat")


def authorize(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    repo: Repo,
) -> TokenScope:
    """The bearer token's scope; 401 when it is missing, unknown, revoked or expired."""
    unauthorized = {"WWW-Authenticate": "Bearer"}
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(401, "Authorization: a bearer token is required", unauthorized)
    now = request.app.state.now()
    scope = repo.lookup_token(creds.credentials, now)
    if scope is None:
        raise HTTPException(401, "Authorization: the token is not valid", unauthorized)
    note_token(scope.label)
    repo.used(scope, now)
    return scope


Scope = Annotated[TokenScope, Depends(authorize)]


def check_event(scope: TokenScope, event_id: str) -> None:
    if event_id != scope.event_id:
        raise HTTPException(403, f"event {event_id[:40]}: outside this token's event")


def get_clock(request: Request) -> Callable[[], float]:
    return request.app.state.now


Clock = Annotated[Callable[[], float], Depends(get_clock)]


# -- the web console's session -----------------------------------------------------------------
#
# Signing in with a token stores a sign-in in the database and sets a cookie holding a random
# value (never the token); the database keeps only its sha256.  Each request looks the sign-in
# up: signing out ends it, and so do revoking its token and the token's expiry, at once and on
# every worker (issue 19).

SESSION_COOKIE = "roundtable_session"
SESSION_SECONDS = 12 * 3600  # a conference day; then sign in again
_COOKIE_PREFIX = "s1."


class SignInRequired(Exception):
    """A console page asked for without a valid session: the browser goes to the sign-in."""


def new_sign_in() -> tuple[str, str]:
    """(cookie value, the sha256 stored for it)."""
    import secrets

    value = _COOKIE_PREFIX + secrets.token_urlsafe(32)
    return value, sign_in_hash(value)


def sign_in_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def console_authorize(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    repo: Repo,
) -> TokenScope:
    """The scope of a console request: a bearer token (scripts) or the session cookie
    (browsers).  No valid one: ``SignInRequired`` (the console sends the browser to sign in)."""
    if creds is not None:
        return authorize(request, creds, repo)
    value = request.cookies.get(SESSION_COOKIE, "")
    if value.startswith(_COOKIE_PREFIX) and len(value) < 200:
        now = request.app.state.now()
        scope = repo.sign_in_scope(sign_in_hash(value), now)
        if scope is not None:
            note_token(scope.label)
            repo.used(scope, now)
            return scope
    raise SignInRequired()


ConsoleScope = Annotated[TokenScope, Depends(console_authorize)]
