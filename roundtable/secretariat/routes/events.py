"""Events and their sessions, as the token may see them."""

from __future__ import annotations

from fastapi import APIRouter

from roundtable import protocol
from roundtable.secretariat.deps import Repo, Scope, check_event
from roundtable.secretariat.repository import scope_clause
from roundtable.secretariat.schemas import EventList, EventOut, SessionList, SessionOut, errors

router = APIRouter(prefix="/v1", tags=["events"])


@router.get("/events", response_model=EventList, responses=errors(401))
def events(scope: Scope, repo: Repo) -> EventList:
    """The events this token may see (one: its own)."""
    found = repo.find_event(scope.event_id)
    if found is None:
        return EventList(events=[])
    event_id, name = found
    docs = protocol.merge_ops(repo.event_ops(event_id, "kind = 'event'"))
    fields = docs.get(("event", event_id), {}).get("fields", {})
    out = EventOut(
        event_id=event_id,
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
    clause, args = scope_clause(scope)
    docs = protocol.merge_ops(repo.event_ops(event_id, f"kind = 'session' AND {clause}", args))
    out = []
    for (_, sid), doc in sorted(docs.items()):
        f = doc["fields"]
        if f.get("deleted"):
            continue
        out.append(
            SessionOut(
                session_id=sid,
                event_id=event_id,
                region=str(f.get("region", "")),
                title=str(f.get("title", "")),
                status=str(f.get("status", "planned")),
                date=str(f.get("date", "")),
            )
        )
    return SessionList(sessions=out)
