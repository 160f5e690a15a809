"""Liveness and the token's own scope."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from roundtable import protocol
from roundtable.secretariat.deps import Repo, Scope
from roundtable.secretariat.schemas import Health, WhoAmI, errors

router = APIRouter(prefix="/v1", tags=["meta"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness, without auth: the client uses it to tell offline from refused."""
    return Health(status="ok", protocol=protocol.PROTOCOL_VERSION)


@router.get("/whoami", response_model=WhoAmI, responses=errors(401))
def whoami(scope: Scope, repo: Repo) -> WhoAmI:
    found = repo.find_event(scope.event_id)
    return WhoAmI(
        event_id=scope.event_id,
        event_name=found[1] if found else "",
        regions=list(scope.regions),
        label=scope.label,
        max_tlp=scope.max_tlp,
        expires_at=(
            None
            if scope.expires is None
            else dt.datetime.fromtimestamp(scope.expires, dt.UTC).isoformat()
        ),
    )
