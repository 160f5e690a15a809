"""Sync: push a batch of ops, pull a page since a cursor, a record's history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from roundtable import protocol
from roundtable.secretariat import gate, service
from roundtable.secretariat.deps import Clock, Repo, Scope, check_event
from roundtable.secretariat.routes.meta import SpokenProtocol
from roundtable.secretariat.schemas import (
    AUTH_ERRORS,
    History,
    PullPage,
    PushResult,
    Version,
    errors,
)

router = APIRouter(prefix="/v1", tags=["sync"])


@router.post(
    "/events/{event_id}/ops",
    response_model=PushResult,
    responses={**AUTH_ERRORS, **errors(409, 415)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": protocol.push_json_schema()}},
        }
    },
)
async def push(
    event_id: str,
    request: Request,
    scope: Scope,
    repo: Repo,
    now: Clock,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=100)],
) -> PushResult:
    """Store a batch of ops, all or nothing.  Replaying a key returns the stored answer."""
    check_event(scope, event_id)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(
            415, f"body: Content-Type must be application/json, got {media_type[:60]!r}"
        )
    raw = await request.body()
    data = service.parse_json(raw)
    digest = service.body_digests(data, raw)
    at = now()
    answer = await run_in_threadpool(
        service.push, repo, scope, event_id, idempotency_key, data, digest, at
    )
    trim = request.app.state.trim
    if trim.due(at):
        await run_in_threadpool(trim.run, repo, at)
    if answer.get("replayed"):
        return PushResult(**answer)
    return JSONResponse(answer)  # type: ignore[return-value]  # no "replayed" key when fresh


@router.get("/events/{event_id}/ops", response_model=PullPage, responses=errors(401, 403, 422))
def pull(
    event_id: str,
    scope: Scope,
    repo: Repo,
    since: Annotated[int, Query(ge=0, le=2**62, description="last seq already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=protocol.PULL_PAGE_MAX)] = 500,
    exclude: Annotated[
        str,
        Query(
            max_length=64,
            pattern="^[A-Za-z0-9_.-]*$",
            description="a device whose ops to leave out",
        ),
    ] = "",
    asked: SpokenProtocol = 1,
) -> PullPage:
    """Ops after ``since`` in the token's scope, oldest first, one page; ``exclude`` leaves
    out the asking laptop's own ops, and ``labels`` names the laptops of the token's regions.
    A laptop of an older protocol is not sent the ops of fields it does not know
    (``protocol.FIELDS_SINCE``); the cursor still moves past them."""
    check_event(scope, event_id)
    # ops of entries and speeches labelled above the token's ceiling are left out; the cursor
    # still moves past them (issue 14).  Already in the documented shape: skip re-validating
    # up to 1,000 ops per page, and write the stored ops' JSON text as it is (issue 25)
    body = gate.pull_json(repo, scope, since, limit, exclude, protocol.spoken(asked))
    return Response(body, media_type="application/json")  # type: ignore[return-value]


@router.get(
    "/events/{event_id}/records/{record_id}/history",
    response_model=History,
    responses=errors(401, 403, 404, 422),
)
def history(event_id: str, record_id: str, scope: Scope, repo: Repo) -> History:
    """Every version of every field of a record ever pushed, oldest first."""
    check_event(scope, event_id)
    try:
        rows = gate.history(repo, scope, record_id)
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    if rows is None:
        raise HTTPException(404, f"record {record_id[:40]}: no versions in this event")
    return History(record_id=record_id, versions=[Version(**r) for r in rows])
