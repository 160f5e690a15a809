"""Documents rebuilt from the stored ops by the client's own renderers: minutes and report,
read and cut through the one outward gate (``gate``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from roundtable.secretariat import gate
from roundtable.secretariat.deps import Clock, Repo, Scope, check_event
from roundtable.secretariat.schemas import errors

router = APIRouter(prefix="/v1", tags=["documents"])

_DOC_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/markdown": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        }
    },
    **errors(401, 403, 404, 422),
}


Language = Literal["en", "fr", "es", "ar"]


def _text(body: str, format: str) -> Response:
    if format == "html":
        return HTMLResponse(body)
    return PlainTextResponse(body, media_type="text/markdown; charset=utf-8")


@router.get("/sessions/{session_id}/minutes", response_class=Response, responses=_DOC_RESPONSES)
def minutes(
    session_id: str,
    scope: Scope,
    repo: Repo,
    now: Clock,
    format: Literal["md", "html"] = "md",
    lang: Language = "en",
) -> Response:
    """The session's minutes, rebuilt from every op received, by the laptops' own function
    (``roundtable.minutes.render``): the same records give the same bytes as an export, cut
    to the token's TLP ceiling (through ``gate``)."""
    found = repo.session(session_id)
    if found is None:
        raise HTTPException(404, f"session {session_id[:40]}: not on this server")
    event_id, region = found
    if event_id != scope.event_id or not scope.allows_region(region):
        raise HTTPException(403, f"session {session_id}: outside this token's scope")
    view: gate.View = gate.read(repo, scope, now(), session_id=session_id)
    if not view.snaps:
        raise HTTPException(404, f"session {session_id}: its session record has not arrived")
    return _text(view.minutes(view.snaps[0], format, lang), format)


@router.get("/events/{event_id}/report", response_class=Response, responses=_DOC_RESPONSES)
def report(
    event_id: str,
    scope: Scope,
    repo: Repo,
    now: Clock,
    format: Literal["md", "html"] = "md",
    lang: Language = "en",
) -> Response:
    """The consolidated report over the sessions this token may see; each room's last sync is
    the last time its ops arrived here."""
    check_event(scope, event_id)
    return _text(gate.read(repo, scope, now()).report(repo, format, lang), format)
