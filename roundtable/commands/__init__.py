"""Meeting commands as pure functions (issue 21): the session's state in, the changes out.

A face (the app's screens, the ``roundtable`` command) parses its input, calls a command here
and hands the ``Changes`` to ``SessionStore.apply`` (or lets ``SessionStore.perform`` run the
command on the session's state), which journals them as one undoable change.  The rules live
here once; the store only writes.  Pure: no store, no files, no Textual, no clock of their
own (the state carries the time).

- entries (``core``): ``capture``, ``edit``, ``relabel``
- attendance: ``set_attendance``, ``mark_rest_absent``, ``add_observer``
"""

from __future__ import annotations

from roundtable.commands.attendance import (
    add_observer,
    attendance_id,
    mark_rest_absent,
    set_attendance,
)
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

__all__ = [
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
