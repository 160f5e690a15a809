"""Per-request dependencies: one connection (a ``Repository``) per request, opened on entry and
closed or returned to the pool when the endpoint returns, and the bearer token's scope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

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
    return scope


Scope = Annotated[TokenScope, Depends(authorize)]


def check_event(scope: TokenScope, event_id: str) -> None:
    if event_id != scope.event_id:
        raise HTTPException(403, f"event {event_id[:40]}: outside this token's event")


def get_clock(request: Request) -> Callable[[], float]:
    return request.app.state.now


Clock = Annotated[Callable[[], float], Depends(get_clock)]
