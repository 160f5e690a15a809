"""The tour de table (issue 21): start it, rotate it, next delegation, pass, skip.  Pure:
state in, changes out.  A pass or a skip is its own change; the floor then goes on to the
next delegation as another (``tour_next``), as the tour screen and the store do it: one
ctrl+z takes back the move on, a second the pass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from roundtable.commands.floor import (
    end_floor,
    end_floor_writes,
    floor_speaker,
    floor_speech,
    give_floor,
    speakers,
)
from roundtable.model import Entry, Speaker, Speech, new_id

__all__ = [
    "SPOKEN_AFTER",
    "has_spoken",
    "tour_next",
    "tour_pass",
    "tour_rotate",
    "tour_skip",
    "tour_start",
    "tour_target",
]

SPOKEN_AFTER = 10
"""Seconds on the floor after which a delegation has spoken (it can no longer pass), even
before a note is captured for it."""


def tour_start(
    state: SessionState, codes: Sequence[str], limit_seconds: int, item_id: str | None = None
) -> Changes:
    """Put on the item's tour every delegation of ``codes`` (in that order) not already on
    it; ``value``: how many were added."""
    check_open(state)
    item = current_item_id(state) if item_id is None else item_id
    rows = speakers(state, item, "tour")
    known = {s.country for s in rows}
    order = meeting.order_after(rows)
    changes = []
    for code in dict.fromkeys(codes):
        if code in known:
            continue
        speaker = Speaker(
            id=new_id(),
            session_id=state.session_id,
            agenda_item=item,
            country=code,
            mode="tour",
            order=order,
            limit_seconds=limit_seconds,
        )
        changes.append(creation(speaker))
        order += meeting.ORDER_STEP
    return Changes("tour de table", tuple(changes), value=len(changes))


def tour_rotate(state: SessionState, item_id: str | None = None) -> Changes:
    """Start the tour one delegation later (the first waiting one goes to the end); only
    before anyone on it has spoken (no changes otherwise)."""
    item = current_item_id(state) if item_id is None else item_id
    rows = speakers(state, item, "tour")
    if not rows or any(s.status != "waiting" for s in rows):
        return Changes("rotate tour")
    first = rows[0]
    change = Change("speaker", first.id, {"order": meeting.order_after(rows)})
    return Changes(f"rotate tour {first.country}", (change,))


def tour_target(state: SessionState, item: str) -> Speaker | None:
    """The delegation a tour key acts on: the one speaking, else the next waiting one."""
    speaker = floor_speaker(state)
    if speaker is not None and speaker.mode == "tour" and speaker.agenda_item == item:
        return speaker
    pending = meeting.not_yet_heard(state.records(Speaker), item)
    return pending[0] if pending else None


def tour_next(state: SessionState, item_id: str | None = None) -> Changes:
    """End the turn in progress and give the floor to the next delegation of the tour."""
    item = current_item_id(state) if item_id is None else item_id
    pending = meeting.not_yet_heard(state.records(Speaker), item)
    if not pending:
        return end_floor(state)
    return give_floor(state, pending[0].id)


def has_spoken(state: SessionState, country: str, item_id: str) -> bool:
    """Whether ``country`` has spoken on ``item_id``: a finished turn (a pass is not one),
    or, on the floor now, a capture attributed to it on this item or a turn longer than
    ``SPOKEN_AFTER`` seconds."""
    floor = floor_speech(state)
    speeches = [s for s in state.records(Speech) if floor is None or s.id != floor.id]
    if country in meeting.heard_on(speeches, item_id):
        return True
    if floor is None or floor.country != country or floor.agenda_item != item_id:
        return False
    started = meeting.iso_ms(floor.started_at) or state.now_ms
    if state.now_ms - started > SPOKEN_AFTER * 1000:
        return True
    return any(
        country in e.delegations and e.agenda_item == item_id and e.created_at >= floor.started_at
        for e in state.records(Entry)
    )


def tour_pass(state: SessionState, item_id: str | None = None) -> Changes:
    """The delegation with the floor, if it has not spoken yet, else the next of the tour
    that has not spoken on this item, passes: marked passed and recorded as a passed turn
    (``value``: its code; no changes when the tour has nobody left).  Refused in one line
    when the delegation with the floor has already spoken (issue 22, finding 3).  The floor
    then goes on with ``tour_next``, its own change."""
    item = current_item_id(state) if item_id is None else item_id
    speaker = tour_target(state, item)
    if speaker is None:
        return Changes("pass")
    check_open(state)
    if has_spoken(state, speaker.country, item):
        raise CommandError(
            f"{speaker.country} has already spoken on this item: it cannot pass "
            "(Enter ends its turn)"
        )
    at = state.now_ms
    changes = end_floor_writes(state, at, keep=False)
    passed = Speech(
        id=new_id(),
        session_id=state.session_id,
        country=speaker.country,
        mode="tour",
        agenda_item=item,
        started_at=iso_at(at),
        ended_at=iso_at(at),
        passed=True,
        speaker=speaker.id,
        tlp=state.tlp,
    )
    changes.append(creation(passed))
    changes.append(Change("speaker", speaker.id, {"status": "passed"}))
    return Changes(f"{speaker.country} passes", tuple(changes), value=speaker.country)


def tour_skip(state: SessionState, item_id: str | None = None) -> Changes:
    """The speaking (or next) delegation is not in the room: the first time it moves to the
    end of the tour, marked; the second time it is out ("skipped").  ``value``: its code (no
    changes when the tour has nobody left).  The floor then goes on with ``tour_next``."""
    item = current_item_id(state) if item_id is None else item_id
    speaker = tour_target(state, item)
    if speaker is None:
        return Changes("skip")
    check_open(state)
    changes: list[Change] = []
    on_floor = floor_speaker(state)
    if on_floor is not None and on_floor.id == speaker.id:
        changes += end_floor_writes(state, state.now_ms, keep=False)
    if speaker.skips:
        fields: dict[str, Any] = {"status": "skipped", "skips": speaker.skips + 1}
    else:
        rows = speakers(state, item, "tour")
        fields = {"status": "waiting", "skips": 1, "order": meeting.order_after(rows)}
    changes.append(Change("speaker", speaker.id, fields))
    return Changes(f"skip {speaker.country}", tuple(changes), value=speaker.country)
