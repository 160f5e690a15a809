"""Liveness and the token's own scope."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from roundtable import protocol
from roundtable.secretariat.deps import Scope
from roundtable.secretariat.schemas import Health, Ready, WhoAmI, errors

router = APIRouter(prefix="/v1", tags=["meta"])

SpokenProtocol = Annotated[
    int,
    Query(
        alias=protocol.PROTOCOL_PARAM,
        ge=1,
        le=2**31,
        description="the sync protocol the laptop speaks; the answer is in it, or in ours "
        "when older (default 1: the first laptops)",
    ),
]


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness, without auth: the process answers (it does not touch the database, so a
    service manager does not restart a server whose database is away).  The client uses it to
    tell offline from refused.  Whether requests can be served: ``/v1/ready``."""
    return Health(status="ok", protocol=protocol.PROTOCOL_VERSION)


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready}})
def ready(request: Request) -> Response:
    """Readiness, without auth: the database answers within 3 s and its schema is the one this
    server runs (200), else 503 with the reason (a load balancer sends no traffic here)."""
    ok, why, schema = request.app.state.database.readiness(timeout=3.0)
    answer = Ready(status="ready" if ok else "unavailable", schema_version=schema, detail=why)
    return JSONResponse(answer.model_dump(), status_code=200 if ok else 503)


@router.get("/whoami", response_model=WhoAmI, responses=errors(401, 422))
async def whoami(scope: Scope, asked: SpokenProtocol = 1) -> WhoAmI:
    """The token's event and scope, in the protocol the laptop names (at most ours; 1 when
    it names none, as the first laptops expect).  The event's name was read with the token
    (``TokenScope.event_name``): answered on the event loop, with no statement and no hop to
    the thread pool of its own (a laptop asks at every sync round, issue 25)."""
    return WhoAmI(
        protocol=protocol.spoken(asked),
        event_id=scope.event_id,
        event_name=scope.event_name,
        regions=list(scope.regions),
        label=scope.label,
        max_tlp=scope.max_tlp,
        max_page=protocol.PULL_PAGE_MAX,
        expires_at=(
            None
            if scope.expires is None
            else dt.datetime.fromtimestamp(scope.expires, dt.UTC).isoformat()
        ),
    )
