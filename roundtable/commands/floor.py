"""The floor and the list of speakers (issue 21): give and end the floor, put a delegation on
the list (a point of order first, a right of reply next), remove and move one.  Pure: state
in, changes out; one floor for the tour and the list of speakers."""

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
from roundtable.model import Speaker, Speech, new_id

__all__ = [
    "add_speaker",
    "end_floor",
    "end_floor_writes",
    "floor_speaker",
    "floor_speech",
    "give_floor",
    "move_speaker",
    "next_speaker",
    "remove_speaker",
    "set_speaking_time",
    "speakers",
    "waiting_speakers",
]


def floor_speech(state: SessionState) -> Speech | None:
    """The speech in progress, or None when nobody has the floor."""
    floor = state.record.floor
    if not floor:
        return None
    speech = state.get(Speech, floor)
    return meeting.floor_speech(floor, [speech] if speech is not None else [])


def floor_speaker(state: SessionState) -> Speaker | None:
    """The speaker (of the list or the tour) whose turn is in progress, if any."""
    speech = floor_speech(state)
    if speech is None or not speech.speaker:
        return None
    return state.get(Speaker, speech.speaker)


def end_floor_writes(state: SessionState, at: int, *, keep: bool = True) -> list[Change]:
    """End the turn in progress at ``at`` (ms): the speech gets its end and length and its
    speaker is done (``keep=False``: the turn is withdrawn, as when a delegation is skipped)."""
    speech = floor_speech(state)
    changes: list[Change] = []
    if speech is not None:
        if keep:
            started = meeting.iso_ms(speech.started_at) or at
            seconds = max(0, (at - started) // 1000)
            changes.append(
                Change("speech", speech.id, {"ended_at": iso_at(at), "seconds": seconds})
            )
        else:
            changes.append(Change("speech", speech.id, {"deleted": True}))
        speaker = state.get(Speaker, speech.speaker) if speech.speaker else None
        if speaker is not None and speaker.status == "speaking" and keep:
            changes.append(Change("speaker", speaker.id, {"status": "done"}))
    if state.record.floor:
        changes.append(Change("session", state.session_id, {"floor": ""}))
    return changes


def speakers(state: SessionState, item_id: str | None = None, mode: str = "queue") -> list[Speaker]:
    """An item's speakers of one list (the current item by default), removed ones left out."""
    item = current_item_id(state) if item_id is None else item_id
    return meeting.speakers_of(state.records(Speaker), item, mode)


def waiting_speakers(
    state: SessionState, item_id: str | None = None, mode: str = "queue"
) -> list[Speaker]:
    """Who waits on the list, in speaking order (points of order, then the balanced order
    when the session uses it)."""
    item = current_item_id(state) if item_id is None else item_id
    return meeting.waiting(
        state.records(Speaker),
        item,
        mode=mode,
        balanced=state.record.balanced_order and mode == "queue",
        heard=meeting.heard_on(state.records(Speech), item),
    )


def end_floor(state: SessionState) -> Changes:
    """End the turn in progress (nothing when nobody has the floor); ``value``: the ended
    speech's id ("" when nobody had the floor)."""
    speech = floor_speech(state)
    changes = end_floor_writes(state, state.now_ms)
    return Changes("end turn", tuple(changes), value=speech.id if speech is not None else "")


def give_floor(state: SessionState, speaker_id: str) -> Changes:
    """Give the floor to a waiting speaker: the previous turn ends in the same change (one
    floor for the tour and the list of speakers).  ``created``: the new speech's id."""
    check_open(state)
    speaker = state.get(Speaker, speaker_id)
    if speaker is None or speaker.deleted or speaker.status in ("removed", "done"):
        raise CommandError(f"no waiting speaker {speaker_id} in session {state.session_id}")
    at = state.now_ms
    changes = end_floor_writes(state, at)
    speech = Speech(
        id=new_id(),
        session_id=state.session_id,
        country=speaker.country,
        mode=speaker.mode,
        agenda_item=speaker.agenda_item,
        started_at=iso_at(at),
        speaker=speaker.id,
        tlp=state.tlp,
    )
    changes.append(creation(speech))
    changes.append(Change("speaker", speaker.id, {"status": "speaking"}))
    changes.append(Change("session", state.session_id, {"floor": speech.id}))
    return Changes(f"floor to {speaker.country}", tuple(changes), created=speech.id)


def next_speaker(state: SessionState, item_id: str | None = None, mode: str = "queue") -> Changes:
    """Give the floor to the first waiting speaker; with nobody waiting, end the turn."""
    waiting = waiting_speakers(state, item_id, mode)
    if not waiting:
        return end_floor(state)
    return give_floor(state, waiting[0].id)


def add_speaker(
    state: SessionState,
    country: str,
    *,
    item_id: str | None = None,
    point_of_order: bool = False,
    limit_seconds: int = 0,
    mode: str = "queue",
    reply: bool = False,
) -> Changes:
    """Put a delegation on an item's list of speakers (a point of order goes to the top; a
    right of ``reply`` right after the current speaker: before everyone waiting but points
    of order and earlier replies, issue 26).  ``created``: the speaker's id."""
    check_open(state)
    item = current_item_id(state) if item_id is None else item_id
    rows = speakers(state, item, mode)
    # a point of order takes precedence whatever the list holds (issue 22, finding 6): the
    # delegation keeps its place on the list too; only a second point of order waiting from
    # it is refused
    if any(
        s.country == country
        and s.status in ("waiting", "speaking")
        and (not point_of_order or (s.point_of_order and s.status == "waiting"))
        for s in rows
    ):
        what = "a point of order" if point_of_order else "on the list of speakers"
        raise CommandError(
            f"{country} is already {'waiting with ' if point_of_order else ''}{what}"
        )
    if limit_seconds < 0:
        raise CommandError(f"speaking-time limit must be 0 or more seconds, got {limit_seconds}")
    if reply and point_of_order:
        raise CommandError("a right of reply is not a point of order: give one or the other")
    if reply and mode != "queue":
        raise CommandError("a right of reply goes on the list of speakers, not the tour")
    waiting = [s for s in rows if s.status == "waiting"]
    if reply:  # after the replies already waiting, before everyone else
        replies = [s for s in waiting if s.reply and not s.point_of_order]
        rest = [s for s in waiting if not s.reply and not s.point_of_order]
        order = meeting.order_after(replies) if replies else meeting.order_before(rest or waiting)
    else:
        order = meeting.order_before(waiting) if point_of_order else meeting.order_after(rows)
    speaker = Speaker(
        id=new_id(),
        session_id=state.session_id,
        agenda_item=item,
        country=country,
        mode=mode,
        order=order,
        point_of_order=point_of_order,
        limit_seconds=limit_seconds,
        reply=reply,
    )
    label = "point of order" if point_of_order else "right of reply" if reply else "add speaker"
    return Changes(f"{label} {country}", (creation(speaker),), created=speaker.id)


def remove_speaker(state: SessionState, speaker_id: str) -> Changes:
    """Take a waiting speaker off the list."""
    speaker = state.get(Speaker, speaker_id)
    if speaker is None or speaker.status != "waiting":
        raise CommandError("only a waiting speaker can be removed from the list")
    change = Change("speaker", speaker_id, {"status": "removed"})
    return Changes(f"remove speaker {speaker.country}", (change,))


def move_speaker(state: SessionState, speaker_id: str, step: int) -> Changes:
    """Move a waiting speaker one place up (-1) or down (+1) in the list as shown (among the
    points of order, or among the others); nothing at either end."""
    speaker = state.get(Speaker, speaker_id)
    if speaker is None:
        raise CommandError(f"no speaker {speaker_id} in session {state.session_id}")
    rows = [
        s
        for s in waiting_speakers(state, speaker.agenda_item, speaker.mode)
        if s.point_of_order == speaker.point_of_order
    ]
    writes = meeting.swap_orders(rows, speaker_id, step)
    changes = tuple(Change("speaker", sid, {"order": order}) for sid, order in writes)
    return Changes(f"move speaker {speaker.country}", changes)


def set_speaking_time(state: SessionState, seconds: int, item_id: str | None = None) -> Changes:
    """The list-wide speaking time (issue 26): the session's ``speaking_seconds`` (new
    speakers get it) and the limit of everyone waiting on the item's list of speakers, in one
    change.  ``value``: how many waiting speakers it changed."""
    if not 0 <= int(seconds) <= 1800:
        raise CommandError(f"speaking time must be 0-1800 seconds, got {seconds}")
    check_open(state)
    seconds = int(seconds)
    changes: list[Change] = []
    if state.record.speaking_seconds != seconds:
        changes.append(Change("session", state.session_id, {"speaking_seconds": seconds}))
    waiting = [s for s in speakers(state, item_id, "queue") if s.status == "waiting"]
    changed = [s for s in waiting if s.limit_seconds != seconds]
    changes += [Change("speaker", s.id, {"limit_seconds": seconds}) for s in changed]
    return Changes(f"speaking time {seconds} s", tuple(changes), value=len(changed))
