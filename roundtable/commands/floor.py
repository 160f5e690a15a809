"""The floor and the list of speakers (issue 21): give and end the floor, put a delegation on
the list (a point of order first, a right of reply next), remove and move one.  Pure: state
in, changes out; one floor for the tour and the list of speakers."""

from __future__ import annotations

from roundtable import meeting
from roundtable.commands.core import Change, SessionState, iso_at
from roundtable.model import Speaker, Speech

__all__ = ["end_floor_writes", "floor_speech", "floor_speaker"]


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
