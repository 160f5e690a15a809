"""Meeting commands as pure functions (issue 21): the session's state in, the changes out.

A face (the app's screens, the ``roundtable`` command) parses its input, calls a command here
and hands the ``Changes`` to ``SessionStore.apply`` (or lets ``SessionStore.perform`` run the
command on the session's state), which journals them as one undoable change.  The rules live
here once; the store only writes.  Pure: no store, no files, no Textual, no clock of their
own (the state carries the time).

- entries (``core``): ``capture``, ``edit``, ``relabel``
- attendance: ``set_attendance``, ``mark_rest_absent``, ``add_observer``
- the session's life cycle (``session``): ``close``, ``reopen``, ``archive``, ``unarchive``
- item clocks (``clocks``): ``clock``, ``go_to_item``
- the floor and the list of speakers (``floor``): ``give_floor``, ``end_floor``,
  ``next_speaker``, ``add_speaker`` (a point of order, a right of reply), ``remove_speaker``,
  ``move_speaker``, ``set_speaking_time``; reads ``floor_speech``, ``floor_speaker``,
  ``speakers``, ``waiting_speakers``
- the tour de table (``tour``): ``tour_start``, ``tour_rotate``, ``tour_next``, ``tour_pass``
  and ``tour_skip`` (each followed by ``tour_next`` as its own change); ``has_spoken``
- reviews of earlier actions (``reviews``): ``review_action``

Each module is imported when one of its names is first used (``__getattr__``): the run screen's
first frame needs none of them (start-up, issue 22).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roundtable.commands.attendance import (
        add_observer,
        attendance_id,
        mark_rest_absent,
        set_attendance,
    )
    from roundtable.commands.clocks import clock, clock_writes, go_to_item
    from roundtable.commands.core import (
        FLOOR_KINDS,
        Change,
        Changes,
        CommandError,
        InMemory,
        Records,
        SessionState,
        capture,
        check_open,
        creation,
        current_item_id,
        edit,
        iso_at,
        relabel,
    )
    from roundtable.commands.floor import (
        add_speaker,
        end_floor,
        end_floor_writes,
        floor_speaker,
        floor_speech,
        give_floor,
        move_speaker,
        next_speaker,
        remove_speaker,
        set_speaking_time,
        speakers,
        waiting_speakers,
    )
    from roundtable.commands.reviews import review_action, review_id
    from roundtable.commands.session import (
        ARCHIVE,
        CLOSE,
        REOPEN,
        UNARCHIVE,
        archive,
        close,
        reopen,
        unarchive,
    )
    from roundtable.commands.tour import (
        SPOKEN_AFTER,
        has_spoken,
        tour_next,
        tour_pass,
        tour_rotate,
        tour_skip,
        tour_start,
        tour_target,
    )

_MODULE_OF = {
    "ARCHIVE": "session",
    "CLOSE": "session",
    "Change": "core",
    "Changes": "core",
    "CommandError": "core",
    "FLOOR_KINDS": "core",
    "InMemory": "core",
    "REOPEN": "session",
    "Records": "core",
    "SPOKEN_AFTER": "tour",
    "SessionState": "core",
    "UNARCHIVE": "session",
    "add_observer": "attendance",
    "add_speaker": "floor",
    "archive": "session",
    "attendance_id": "attendance",
    "capture": "core",
    "check_open": "core",
    "clock": "clocks",
    "clock_writes": "clocks",
    "close": "session",
    "creation": "core",
    "current_item_id": "core",
    "edit": "core",
    "end_floor": "floor",
    "end_floor_writes": "floor",
    "floor_speaker": "floor",
    "floor_speech": "floor",
    "give_floor": "floor",
    "go_to_item": "clocks",
    "has_spoken": "tour",
    "iso_at": "core",
    "mark_rest_absent": "attendance",
    "move_speaker": "floor",
    "next_speaker": "floor",
    "relabel": "core",
    "remove_speaker": "floor",
    "reopen": "session",
    "review_action": "reviews",
    "review_id": "reviews",
    "set_attendance": "attendance",
    "set_speaking_time": "floor",
    "speakers": "floor",
    "tour_next": "tour",
    "tour_pass": "tour",
    "tour_rotate": "tour",
    "tour_skip": "tour",
    "tour_start": "tour",
    "tour_target": "tour",
    "unarchive": "session",
    "waiting_speakers": "floor",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ARCHIVE",
    "CLOSE",
    "REOPEN",
    "SPOKEN_AFTER",
    "UNARCHIVE",
    "has_spoken",
    "review_action",
    "review_id",
    "tour_next",
    "tour_pass",
    "tour_rotate",
    "tour_skip",
    "tour_start",
    "tour_target",
    "archive",
    "clock",
    "clock_writes",
    "close",
    "add_speaker",
    "end_floor",
    "end_floor_writes",
    "give_floor",
    "move_speaker",
    "next_speaker",
    "remove_speaker",
    "set_speaking_time",
    "speakers",
    "waiting_speakers",
    "floor_speaker",
    "floor_speech",
    "go_to_item",
    "reopen",
    "unarchive",
    "FLOOR_KINDS",
    "Change",
    "Changes",
    "CommandError",
    "InMemory",
    "Records",
    "SessionState",
    "add_observer",
    "attendance_id",
    "capture",
    "check_open",
    "creation",
    "current_item_id",
    "edit",
    "iso_at",
    "mark_rest_absent",
    "relabel",
    "set_attendance",
]
