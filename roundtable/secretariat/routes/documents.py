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


Language = Literal["en", "fr", "es", "ar"]


def _entry_conflicts(docs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    from roundtable.documents import conflicts_from_docs

    return conflicts_from_docs(d for d in docs.values() if d.get("kind") == "entry")


def _text(body: str, format: str) -> Response:
    if format == "html":
        return HTMLResponse(body)
    return PlainTextResponse(body, media_type="text/markdown; charset=utf-8")


@router.get("/sessions/{session_id}/minutes", response_class=Response, responses=_DOC_RESPONSES)
def minutes(
    session_id: str,
    scope: Scope,
    repo: Repo,
    format: Literal["md", "html"] = "md",
    lang: Language = "en",
) -> Response:
    """The session's minutes, rebuilt from every op received, by the laptops' own function
    (``roundtable.minutes.render``): the same records give the same bytes as an export, cut
    to the token's TLP ceiling."""
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
    body = minutes_mod.render(
        snaps[0], format, lang=lang, conflicts=_entry_conflicts(docs), ceiling=scope.max_tlp
    )
    return _text(body, format)


@router.get("/events/{event_id}/report", response_class=Response, responses=_DOC_RESPONSES)
def report(
    event_id: str,
    scope: Scope,
    repo: Repo,
    format: Literal["md", "html"] = "md",
    lang: Language = "en",
) -> Response:
    """The consolidated report over the sessions this token may see; each room's last sync is
    the last time its ops arrived here."""
    import datetime as dt

    from roundtable import report as report_mod
    from roundtable.model import Event

    check_event(scope, event_id)
    where = scope_clause(scope)
    docs = protocol.merge_ops(repo.event_ops(event_id, *where))
    last_sync = {
        sid: dt.datetime.fromtimestamp(at, dt.UTC).replace(microsecond=0).isoformat()
        for sid, at in repo.last_received(event_id, *where).items()
    }
    found = repo.find_event(event_id)
    countries = _countries()
    names = {code: c.name for code, c in countries.items()}
    event, snaps = snapshots_from_docs(docs.values(), names)
    event = event or Event(id=event_id, name=found[1] if found else "")
    from roundtable.secretariat.routes.actions import carried_in_scope

    rep = report_mod.build_report(
        event,
        snaps,
        countries,
        lang=lang,
        last_sync=last_sync,
        conflicts=_entry_conflicts(docs),
        regions=None if scope.all_regions else sorted(scope.regions),
        carried=carried_in_scope(repo, scope, event_id),
        ceiling=scope.max_tlp,
    )
    return _text(report_mod.render(rep, format), format)
