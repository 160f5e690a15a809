"""Documents rebuilt from the stored ops by the client's own renderers: minutes and report."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from roundtable import protocol
from roundtable.secretariat.deps import Repo, Scope, check_event
from roundtable.secretariat.records import snapshots_from_docs
from roundtable.secretariat.repository import in_session, scope_clause
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


def _countries() -> dict[str, Any]:
    from sessions.roster import load_roster

    return dict(load_roster())


@router.get("/sessions/{session_id}/minutes", response_class=Response, responses=_DOC_RESPONSES)
def minutes(
    session_id: str, scope: Scope, repo: Repo, format: Literal["md", "html"] = "md"
) -> Response:
    """The session's minutes, rebuilt from every op received, by the client's renderer."""
    from roundtable import minutes as minutes_mod

    found = repo.session(session_id)
    if found is None:
        raise HTTPException(404, f"session {session_id[:40]}: not on this server")
    event_id, region = found
    if event_id != scope.event_id or not scope.allows_region(region):
        raise HTTPException(403, f"session {session_id}: outside this token's scope")
    docs = protocol.merge_ops(repo.event_ops(event_id, *in_session(session_id)))
    names = {code: c.name for code, c in _countries().items()}
    event, snaps = snapshots_from_docs(docs.values(), names)
    if not snaps:
        raise HTTPException(404, f"session {session_id}: its session record has not arrived")
    snap = snaps[0]
    md = minutes_mod.render_markdown(snap, conference=event.name if event else None)
    if format == "html":
        html = minutes_mod.render_html(md, title=minutes_mod.document_title(snap))
        return HTMLResponse(html)
    return PlainTextResponse(md, media_type="text/markdown; charset=utf-8")


@router.get("/events/{event_id}/report", response_class=Response, responses=_DOC_RESPONSES)
def report(
    event_id: str, scope: Scope, repo: Repo, format: Literal["md", "html"] = "md"
) -> Response:
    """The consolidated report over the sessions this token may see."""
    from roundtable import report as report_mod
    from roundtable.model import Event

    check_event(scope, event_id)
    docs = protocol.merge_ops(repo.event_ops(event_id, *scope_clause(scope)))
    found = repo.find_event(event_id)
    countries = _countries()
    names = {code: c.name for code, c in countries.items()}
    event, snaps = snapshots_from_docs(docs.values(), names)
    event = event or Event(id=event_id, name=found[1] if found else "")
    rep = report_mod.build_report(event, snaps, countries)
    if format == "html":
        return HTMLResponse(report_mod.report_html(rep))
    return PlainTextResponse(
        report_mod.report_markdown(rep), media_type="text/markdown; charset=utf-8"
    )
