"""Reusable Textual widgets.  They know roundtable.model only; they post Messages and the
screens act on them (store, sync and capture parsing stay out of here)."""

from widgets.agenda_list import AgendaList
from widgets.capture_bar import CaptureBar
from widgets.entry_table import EntryTable
from widgets.roll_call import RollCall, RosterTable
from widgets.speaker_queue import SpeakerQueue
from widgets.sync_badge import SyncBadge
from widgets.timer import TimeBoxTimer
from widgets.tour import TourDeTable

__all__ = [
    "AgendaList",
    "CaptureBar",
    "EntryTable",
    "RollCall",
    "RosterTable",
    "SpeakerQueue",
    "SyncBadge",
    "TimeBoxTimer",
    "TourDeTable",
]
