"""Item clock commands (issue 21): start, pause, resume or stop an item's clock, and move on
to another item.  Pure: state in, changes out; one clock runs at a time."""

from __future__ import annotations

from roundtable import meeting
from roundtable.commands.core import (
    Change,
    Changes,
    CommandError,
    SessionState,
    check_open,
    creation,
    current_item_id,
    iso_at,
)
from roundtable.commands.floor import end_floor_writes, floor_speech
from roundtable.model import CLOCK_ACTIONS, AgendaItem, ClockEvent, new_id

__all__ = ["clock", "clock_writes", "go_to_item"]


def clock_writes(state: SessionState, item_id: str, action: str, at: int) -> list[Change]:
    """The clock events that make ``action`` happen on ``item_id`` at ``at`` (ms), starting
    or resuming one clock stopping any other (``meeting.clock_changes``); an item's first start
    is its ``started_at``."""
    changes = []
    for item, act in meeting.clock_changes(state.records(ClockEvent), item_id, action):
        event = ClockEvent(
            id=new_id(), session_id=state.session_id, agenda_item=item, action=act, at=at
        )
        changes.append(creation(event))
        if act == "start":
            agenda_item = state.get(AgendaItem, item)
            if agenda_item is not None and not agenda_item.started_at:
                changes.append(Change("agenda_item", item, {"started_at": iso_at(at)}))
    return changes


def clock(state: SessionState, action: str, item_id: str | None = None) -> Changes:
    """Start, pause, resume or stop an item's clock (the current item by default); starting
    one stops any other.  No changes when it changed nothing (``bool(changes)`` False)."""
    if action not in CLOCK_ACTIONS:
        raise CommandError(f"unknown clock action {action!r} (one of {', '.join(CLOCK_ACTIONS)})")
    item = item_id if item_id is not None else current_item_id(state)
    if not item:
        return Changes(f"{action} clock")
    if action in ("start", "resume"):
        check_open(state)
    return Changes(f"{action} clock", tuple(clock_writes(state, item, action, state.now_ms)))


def go_to_item(state: SessionState, item_id: str) -> Changes:
    """Make ``item_id`` the current item: the previous item's clock stops and this one's
    starts (on a closed session only the current item moves), in one change; the turn in
    progress ends with its item (issue 22, finding 4)."""
    item = state.get(AgendaItem, item_id)
    if item is None or item.deleted or item.session_id != state.session_id:
        raise CommandError(f"no agenda item {item_id} in session {state.session_id}")
    at = state.now_ms
    session = state.record
    closed = session.status == "closed"
    changes = [] if closed else clock_writes(state, item_id, "start", at)
    if session.current_item != item_id:
        # the next item's first note is never the previous speaker's, and no turn spans two
        floor = floor_speech(state)
        if floor is not None and floor.agenda_item != item_id:
            changes += end_floor_writes(state, at)
        changes.append(Change("session", state.session_id, {"current_item": item_id}))
    return Changes(f"go to item {item.position + 1}", tuple(changes))
