"""Per-request dependencies: one connection (a ``Repository``) per request, opened on entry and
closed or returned to the pool when the endpoint returns, and the bearer token's scope."""

from __future__ import annotations

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
        repo = await run_in_threadpool(opened.__enter__)
        try:
            yield repo
        except BaseException as exc:
            await run_in_threadpool(opened.__exit__, type(exc), exc, exc.__traceback__)
            raise
        await run_in_threadpool(opened.__exit__, None, None, None)


# scope="function": the connection goes back as soon as the endpoint returns, before the answer
# is sent (a slow reader does not hold a pooled connection)
Repo = Annotated[Repository, Depends(get_repo, scope="function")]

bearer = HTTPBearer(auto_error=False, description="a token issued by the secretariat")


def authorize(
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)], repo: Repo
) -> TokenScope:
    unauthorized = {"WWW-Authenticate": "Bearer"}
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(401, "Authorization: a bearer token is required", unauthorized)
    scope = repo.lookup_token(creds.credentials)
    if scope is None:
        raise HTTPException(401, "Authorization: the token is not valid", unauthorized)
    note_token(scope.label)
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
# Signing in with a token sets a cookie holding a signed value, never the token:
# ``v1.<expires>.<token sha256>.<HMAC-SHA256 of the rest under the server's secret>``.  Each
# request checks the signature and the expiry, then looks the token up by its hash, so a token
# removed from the server signs its browsers out.  The secret is per process unless
# ``ROUNDTABLE_CONSOLE_SECRET`` gives one (``serve`` sets it for its workers).

SESSION_COOKIE = "roundtable_session"
SESSION_SECONDS = 12 * 3600  # a conference day; then sign in again


class SignInRequired(Exception):
    """A console page asked for without a valid session: the browser goes to the sign-in."""


def _mac(secret: bytes, payload: str) -> str:
    import base64
    import hmac

    digest = hmac.new(secret, payload.encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_session(secret: bytes, token_hash: str, expires: int) -> str:
    payload = f"v1.{expires}.{token_hash}"
    return f"{payload}.{_mac(secret, payload)}"


def read_session(secret: bytes, value: str, now: float) -> str | None:
    """The token hash a session cookie names, or None (forged, malformed or expired)."""
    import hmac

    parts = value.split(".")
    if len(parts) != 4 or parts[0] != "v1" or not parts[1].isdigit():
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_mac(secret, payload), parts[3]):
        return None
    if int(parts[1]) <= now:
        return None
    return parts[2]


def console_authorize(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    repo: Repo,
) -> TokenScope:
    """The scope of a console request: a bearer token (scripts) or the session cookie
    (browsers).  No valid one: ``SignInRequired`` (the console sends the browser to sign in)."""
    if creds is not None:
        return authorize(creds, repo)
    value = request.cookies.get(SESSION_COOKIE)
    if value:
        token_hash = read_session(request.app.state.console_secret, value, request.app.state.now())
        if token_hash is not None:
            scope = repo.token_by_hash(token_hash)
            if scope is not None:
                note_token(scope.label)
                return scope
    raise SignInRequired()


ConsoleScope = Annotated[TokenScope, Depends(console_authorize)]
