"""The session's life cycle (issue 21): close, reopen, archive, unarchive.  Each is its own
recorded command, and undo never goes past one (``UNDO_BARRIERS``).  Pure: state in, changes
out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from roundtable.commands.clocks import clock_writes
from roundtable.commands.core import Change, Changes, CommandError, SessionState, iso_at
from roundtable.commands.floor import end_floor_writes

__all__ = ["ARCHIVE", "CLOSE", "REOPEN", "UNARCHIVE", "archive", "close", "reopen", "unarchive"]

CLOSE, REOPEN = "close session", "reopen session"
ARCHIVE, UNARCHIVE = "archive session", "unarchive session"


def close(state: SessionState, accept: Sequence[str] = ()) -> Changes:
    """Close: every item clock stops, the turn in progress ends, ``accept`` joins the
    accepted findings of the completeness check; one change."""
    at = state.now_ms
    session = state.record
    accepted = list(dict.fromkeys([*session.accepted_gaps, *accept]))
    changes = clock_writes(state, "", "stop", at) + end_floor_writes(state, at)
    fields: dict[str, Any] = {"status": "closed", "closed_at": iso_at(at)}
    if accepted != session.accepted_gaps:
        fields["accepted_gaps"] = accepted
    changes.append(Change("session", state.session_id, fields))
    return Changes(CLOSE, tuple(changes))


def reopen(state: SessionState) -> Changes:
    """Reopen a closed session (recorded, so the minutes can say it was reopened)."""
    if state.record.status != "closed":
        raise CommandError(f"session {state.session_id[:8]} is not closed")
    fields = {"status": "running", "reopened_at": state.now}
    return Changes(REOPEN, (Change("session", state.session_id, fields),))


def archive(state: SessionState) -> Changes:
    """Archive the session (issue 22): lists, briefs and reports leave it out; nothing is
    deleted, the turn in progress and the clocks stop as at a close."""
    if state.record.status == "archived":
        raise CommandError(f"session {state.session_id[:8]} is already archived")
    at = state.now_ms
    changes = clock_writes(state, "", "stop", at) + end_floor_writes(state, at)
    changes.append(Change("session", state.session_id, {"status": "archived"}))
    return Changes(ARCHIVE, tuple(changes))


def unarchive(state: SessionState) -> Changes:
    """Bring an archived session back, with the status its dates say (``value``)."""
    session = state.record
    if session.status != "archived":
        raise CommandError(f"session {state.session_id[:8]} is not archived")
    reopened = bool(session.reopened_at) and session.reopened_at >= session.closed_at
    if session.closed_at and not reopened:
        status = "closed"
    elif session.opened_at or session.closed_at or session.attendance_confirmed:
        status = "running"
    else:
        status = "planned"
    change = Change("session", state.session_id, {"status": status})
    return Changes(UNARCHIVE, (change,), value=status)
