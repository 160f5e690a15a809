"""Merged view documents -> model objects and session snapshots.

Written once here so the server's minutes and report come from the same records as the
client's; the client store could build its snapshots with the same function (the ordering below
mirrors ``SessionStore.records``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from roundtable.model import RECORD_TYPES, Event, Record, Session, SessionSnapshot
from roundtable.protocol import delete_conflict

_ORDER = {
    "agenda_item": lambda r: (r.position, r.id),
    "entry": lambda r: (r.created_at, r.id),
    "speech": lambda r: (r.started_at, r.id),
    "attendance": lambda r: (r.country, r.id),
}


def record_from_doc(doc: Mapping[str, Any]) -> Record:
    """The model object for one merged view document (fields this version lacks ignored)."""
    return RECORD_TYPES[doc["kind"]].from_fields(doc["id"], doc["fields"])


def snapshots_from_docs(
    docs: Iterable[Mapping[str, Any]], countries: Mapping[str, str]
) -> tuple[Event | None, list[SessionSnapshot]]:
    """The event and one snapshot per live session, from merged docs of one event.

    Deleted records are left out; a session whose ``session`` record never arrived is skipped
    (its ops are still stored and will show once the record is pushed).
    """
    event: Event | None = None
    sessions: dict[str, Session] = {}
    by_session: dict[str, dict[str, list[Any]]] = {}  # per kind, as SessionStore.records
    for doc in docs:
        rec = record_from_doc(doc)
        if rec.deleted and not (doc["kind"] == "entry" and delete_conflict(doc) is not None):
            continue  # an entry deleted while someone edited it stays shown (issue 12)
        if isinstance(rec, Event):
            event = rec
        elif isinstance(rec, Session):
            sessions[rec.id] = rec
        else:
            by_session.setdefault(doc["session_id"], {}).setdefault(doc["kind"], []).append(rec)
    snaps = []
    for sid in sorted(sessions):
        s = sessions[sid]
        kinds = by_session.get(sid, {})
        lists = {k: sorted(kinds.get(k, []), key=_ORDER[k]) for k in _ORDER}
        codes: set[str] = {a.country for a in lists["attendance"]}
        codes |= {sp.country for sp in lists["speech"]}
        for e in lists["entry"]:
            codes.update(e.delegations)
            if e.owner in countries:
                codes.add(e.owner)
        snaps.append(
            SessionSnapshot(
                event=event or Event(id=s.event_id),
                session=s,
                agenda=lists["agenda_item"],
                attendance=lists["attendance"],
                entries=lists["entry"],
                speeches=lists["speech"],
                countries={c: countries[c] for c in sorted(codes) if c in countries},
                action_reviews=sorted(
                    kinds.get("action_review", []), key=lambda r: (r.reviewed_at, r.id)
                ),
                speakers=list(kinds.get("speaker", [])),
            )
        )
    return event, snaps
