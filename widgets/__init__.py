"""Reusable Textual widgets.  They know roundtable.model only; they post Messages and the
screens act on them (store, sync and capture parsing stay out of here).

``from widgets import X`` imports X's module on first use only, so the run screen does not pay
for the roll call's DataTable at start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

_HOMES = {
    "AgendaList": "widgets.agenda_list",
    "CaptureBar": "widgets.capture_bar",
    "EntryDetail": "widgets.entry_detail",
    "EntryTable": "widgets.entry_table",
    "KeyBar": "widgets.key_bar",
    "RollCall": "widgets.roll_call",
    "RosterTable": "widgets.roll_call",
    "SpeakerQueue": "widgets.speaker_queue",
    "SyncBadge": "widgets.sync_badge",
    "TimeBoxTimer": "widgets.timer",
    "TourDeTable": "widgets.tour",
}

__all__ = [
    "AgendaList",
    "CaptureBar",
    "EntryDetail",
    "EntryTable",
    "KeyBar",
    "RollCall",
    "RosterTable",
    "SpeakerQueue",
    "SyncBadge",
    "TimeBoxTimer",
    "TourDeTable",
]

if TYPE_CHECKING:
    from widgets.agenda_list import AgendaList
    from widgets.capture_bar import CaptureBar
    from widgets.entry_detail import EntryDetail
    from widgets.entry_table import EntryTable
    from widgets.key_bar import KeyBar
    from widgets.roll_call import RollCall, RosterTable
    from widgets.speaker_queue import SpeakerQueue
    from widgets.sync_badge import SyncBadge
    from widgets.timer import TimeBoxTimer
    from widgets.tour import TourDeTable


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'widgets' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
