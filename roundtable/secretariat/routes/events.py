"""Events and their sessions, as the token may see them (through ``gate``)."""

from __future__ import annotations

from fastapi import APIRouter

from roundtable.secretariat import gate
from roundtable.secretariat.deps import Repo, Scope, check_event
from roundtable.secretariat.schemas import EventList, EventOut, SessionList, SessionOut, errors

router = APIRouter(prefix="/v1", tags=["events"])


@router.get("/events", response_model=EventList, responses=errors(401))
def events(scope: Scope, repo: Repo) -> EventList:
    """The events this token may see (one: its own)."""
    found = gate.event_fields(repo, scope)
    if found is None:
        return EventList(events=[])
    name, fields = found
    out = EventOut(
        event_id=scope.event_id,
        name=fields.get("name") or name,
        venue=fields.get("venue", ""),
        starts=fields.get("starts", ""),
        ends=fields.get("ends", ""),
        tz=fields.get("tz", ""),
    )
    return EventList(events=[out])


@router.get("/events/{event_id}/sessions", response_model=SessionList, responses=errors(401, 403))
def sessions(event_id: str, scope: Scope, repo: Repo) -> SessionList:
    """Sessions of the event in the token's regions, with their current title and status."""
    check_event(scope, event_id)
    out = [
        SessionOut(
            session_id=sid,
            event_id=event_id,
            region=str(f.get("region", "")),
            title=str(f.get("title", "")),
            status=str(f.get("status", "planned")),
            date=str(f.get("date", "")),
        )
        for sid, f in gate.sessions(repo, scope)
    ]
    return SessionList(sessions=out)
