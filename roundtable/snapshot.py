"""One session snapshot from records: the single builder the laptop and the server share.

The laptop's store (``SessionStore.snapshot``) hands it the records of its journal; the
secretariat (``secretariat.gate``) hands it the merged documents of the ops it received.  Both
used to build the snapshot on their own, and the server's copy never set the item clocks, so
its minutes lost the agenda table's actual times (issue 21).  Pure: no store, no files, no
network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from roundtable.model import (
    RECORD_TYPES,
    ActionReview,
    AgendaItem,
    Attendance,
    ClockEvent,
    Entry,
    Event,
    Record,
    Session,
    SessionSnapshot,
    Speaker,
    Speech,
)
from roundtable.protocol import delete_conflict

_ORDER: dict[str, Callable[[Any], tuple[Any, ...]]] = {
    "agenda_item": lambda r: (r.position, r.id),
    "entry": lambda r: (r.created_at, r.id),
    "speech": lambda r: (r.started_at, r.id),
    "attendance": lambda r: (r.country, r.id),
    "action_review": lambda r: (r.reviewed_at, r.id),
}


def display_order(kind: str, records: Iterable[Record]) -> list[Any]:
    """Records of one kind in their display order (every other kind: by id, which for the
    UUIDv7 ids is creation order)."""
    return sorted(records, key=_ORDER.get(kind, lambda r: (r.id,)))


def shown(kind: str, doc: Mapping[str, Any] | None) -> bool:
    """Whether a merged document is shown: not deleted, or an entry deleted while someone
    edited it without seeing the delete (``protocol.delete_conflict``): that edit stays."""
    if doc is None:
        return False
    if not doc["fields"].get("deleted", False):
        return True
    return kind == "entry" and delete_conflict(doc) is not None


def record_from_doc(doc: Mapping[str, Any]) -> Record:
    """The model object for one merged view document (fields this version lacks ignored)."""
    record: Record = RECORD_TYPES[doc["kind"]].from_fields(doc["id"], doc["fields"])
    return record


def build(
    event: Event,
    session: Session,
    records: Mapping[str, Sequence[Record]],
    countries: Mapping[str, str],
) -> SessionSnapshot:
    """The snapshot of one session from its shown records per kind (any order: they are put
    in display order here) and the roster's names (code -> name)."""

    def kind(name: str) -> list[Any]:
        return display_order(name, records.get(name, ()))

    agenda: list[AgendaItem] = kind("agenda_item")
    attendance: list[Attendance] = kind("attendance")
    entries: list[Entry] = kind("entry")
    speeches: list[Speech] = kind("speech")
    clocks: list[ClockEvent] = kind("clock_event")
    reviews: list[ActionReview] = kind("action_review")
    speakers: list[Speaker] = kind("speaker")
    codes: set[str] = {a.country for a in attendance} | {s.country for s in speeches}
    for e in entries:
        codes.update(e.delegations)
        if e.owner in countries:
            codes.add(e.owner)
    return SessionSnapshot(
        event=event,
        session=session,
        agenda=agenda,
        attendance=attendance,
        entries=entries,
        speeches=speeches,
        countries={c: countries[c] for c in sorted(codes) if c in countries},
        clock_events=clocks,
        action_reviews=reviews,
        speakers=speakers,
    )


def snapshots_from_docs(
    docs: Iterable[Mapping[str, Any]], countries: Mapping[str, str]
) -> tuple[Event | None, list[SessionSnapshot]]:
    """The event and one snapshot per live session, from the merged docs of one event.

    Records not shown are left out; a session whose ``session`` record never arrived is
    skipped (its ops are still stored and will show once the record is pushed)."""
    event: Event | None = None
    sessions: dict[str, Session] = {}
    by_session: dict[str, dict[str, list[Record]]] = {}
    for doc in docs:
        if not shown(doc["kind"], doc):
            continue
        rec = record_from_doc(doc)
        if isinstance(rec, Event):
            event = rec
        elif isinstance(rec, Session):
            sessions[rec.id] = rec
        else:
            by_session.setdefault(doc["session_id"], {}).setdefault(doc["kind"], []).append(rec)
    snaps = [
        build(
            event or Event(id=sessions[sid].event_id),
            sessions[sid],
            by_session.get(sid, {}),
            countries,
        )  # fmt: skip
        for sid in sorted(sessions)
    ]
    return event, snaps
