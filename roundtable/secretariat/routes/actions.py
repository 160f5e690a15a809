"""Actions carried forward (issue 12): a region's actions from earlier events, with the history
of their status across events, for the "Review of action items" of its next round table."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from roundtable import protocol
from roundtable.secretariat import gate
from roundtable.secretariat.deps import Repo, Scope
from roundtable.secretariat.schemas import errors

router = APIRouter(prefix="/v1", tags=["actions"])


class StepOut(BaseModel):
    event_id: str
    event_name: str
    session_id: str
    date: str = Field(description="the session's date (ISO)")
    status: str = Field(description="open, in_progress, carried, done or dropped")
    note: str
    at: str = Field(description="when it was recorded (ISO datetime)")
    review_id: str = Field(description="empty for the action's own status at its event")


class CarriedActionOut(BaseModel):
    id: str = Field(description="the action's entry id (a record of its own session)")
    region: str
    event_id: str
    event_name: str
    session_id: str
    session_title: str
    date: str
    agenda_item: str = Field(description="the title of the agenda item it was agreed under")
    text: str
    owner: str
    due: str
    delegations: list[str]
    status: str = Field(description="its status now: the last review's, else its own")
    history: list[StepOut]
    tlp: str = Field("", description="its TLP label; none above the token's ceiling is listed")


class CarriedActionList(BaseModel):
    protocol: int = protocol.PROTOCOL_VERSION
    region: str
    before: str
    actions: list[CarriedActionOut]


@router.get(
    "/regions/{region}/actions",
    response_model=CarriedActionList,
    responses=errors(401, 403, 404, 422),
)
def region_actions(
    region: str,
    scope: Scope,
    repo: Repo,
    before: Annotated[
        str | None,
        Query(
            pattern=protocol.UUID_PATTERN,
            description="an event id: actions of the events created before it (default: the "
            "token's event, which must not be earlier than this one)",
        ),
    ] = None,
    open: Annotated[
        bool, Query(description="only actions still open, in progress or carried")
    ] = False,
) -> CarriedActionList:
    """The actions agreed in the region's sessions of earlier events, each with its history:
    its own status, then every review made at a later session of the region (up to the event
    ``before``).  A token sees the regions it was issued for, and no event after its own."""
    from roundtable.actions import is_earlier
    from roundtable.model import REGIONS

    if region not in REGIONS:
        raise HTTPException(422, f"path.region: {region[:40]!r} is not one of {', '.join(REGIONS)}")
    if not scope.allows_region(region):
        raise HTTPException(403, f"region {region}: outside this token's regions")
    before = before or scope.event_id
    if before != scope.event_id:
        if repo.find_event(before) is None:
            raise HTTPException(404, f"query.before: event {before}: not on this server")
        if is_earlier(scope.event_id, before):
            raise HTTPException(403, f"query.before: event {before} is after this token's event")
    actions = gate.carried_in_region(repo, scope, region, before, only_open=open)
    # already in the documented shape (to_json): skip validating thousands of rows again
    body = {
        "protocol": protocol.PROTOCOL_VERSION,
        "region": region,
        "before": before,
        "actions": [a.to_json() for a in actions],
    }
    return JSONResponse(body)  # type: ignore[return-value]
