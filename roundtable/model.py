"""Records of a round table as plain dataclasses, the op that changes them, and the HLC clock.

No I/O here: the store, the sync client, the minutes and the server all build on these shapes.

A record is identified by ``(kind, id)`` and is nothing more than a set of fields, each with the
HLC of the op that last wrote it.  Every change is an :class:`Op` that sets one field of one
record; a new entry is a few ops, an edit one, a delete a tombstone op (``deleted = True``).
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

STORE_SCHEMA = 2
"""Version of the local store's files (journal lines and view), written into both.
1: journal lines are plain JSON.  2: each journal line ends with a tab and the CRC-32 of its
JSON, so a damaged line in the middle of a journal is found and named (``roundtable.store.migrate``
brings a version-1 store forward, keeping a backup).  The wire protocol has its own version,
``roundtable.protocol.PROTOCOL_VERSION``."""


REGIONS: dict[str, str] = {
    "africa": "Africa",
    "americas": "Americas",
    "asia-pacific": "Asia & South Pacific",
    "europe": "Europe",
    "mena": "Middle East & North Africa",
}

ENTRY_KINDS = ("issue", "need", "action", "decision", "note")
PRIORITIES = ("high", "medium", "low")
ACTION_STATUSES = ("open", "in_progress", "carried", "done", "dropped")
OPEN_ACTION_STATUSES = ("open", "in_progress", "carried")
"""An action with one of these statuses is still to be done: it is listed again at the region's
next round table ("Actions carried forward", issue 12)."""
REVIEW_STATUSES = ("done", "in_progress", "dropped", "carried")
"""What a review of an earlier conference's action may mark it (``ActionReview.status``)."""
SESSION_STATUSES = ("planned", "running", "closed", "archived")
"""``archived`` (issue 22, protocol 3): hidden from lists, briefs and reports, kept on disk;
unarchiving brings back the status its dates say (closed, running or planned)."""
ATTENDANCE_STATUSES = ("unknown", "present", "apologies", "absent")
AGENDA_KINDS = ("opening", "discussion", "tour", "needs", "actions", "close")
SPEECH_MODES = ("tour", "queue")
CLOCK_ACTIONS = ("start", "pause", "resume", "stop")
SPEAKER_LISTS = ("queue", "tour")  # the list of speakers of an item, and its tour de table
SPEAKER_STATUSES = ("waiting", "speaking", "done", "passed", "skipped", "removed")

# ---------------------------------------------------------------------------------------------
# Sensitivity: FIRST's Traffic Light Protocol 2.0 (issue 14)
# ---------------------------------------------------------------------------------------------

TLP_LABELS = ("clear", "green", "amber", "amber+strict", "red")
"""The labels in rising order of sensitivity; a record's ``tlp`` field holds one of them."""
TLP_DEFAULT = "amber"
"""The label of a session whose plan and set-up chose none."""
TLP_RANK = {label: rank for rank, label in enumerate(TLP_LABELS)}

AUDIENCES: dict[str, str] = {
    "public": "clear",
    "community": "green",
    "participants": "amber+strict",
    "room": "red",
}
"""Who a document is for -> the highest label it may show.  ``room`` never leaves the laptop."""

TOKEN_CEILINGS = ("green", "amber", "amber+strict")
"""The ceilings a secretariat token may carry (``tokens issue --max-tlp``)."""
TOKEN_CEILING_DEFAULT = "amber+strict"


def tlp_name(label: str) -> str:
    """``amber+strict`` -> ``TLP:AMBER+STRICT``, as FIRST writes it."""
    return "TLP:" + label.upper()


def effective_tlp(label: str, session_default: str = "") -> str:
    """A record's label: its own, else its session's default, else TLP:AMBER (records written
    before labels existed)."""
    if label in TLP_RANK:
        return label
    return session_default if session_default in TLP_RANK else TLP_DEFAULT


LABELLED_KINDS = ("entry", "speech", "action_review")
"""The record kinds that carry a ``tlp`` label: every place that decides a record's label (the
store, the outbox, the secretariat's pull and history, the documents' cut) asks this."""


def record_tlp(kind: str, label: str, session_default: str = "") -> str:
    """A labelled record's label: its own, else (written before labels) its session's default
    for an entry or a speech, and TLP:AMBER for an action review, whose text is copied from
    another session's action and so says nothing of this session's default."""
    return effective_tlp(label, "" if kind == "action_review" else session_default)


def within(label: str, ceiling: str) -> bool:
    """May a record of ``label`` be shown to a reader whose ceiling is ``ceiling``?"""
    return TLP_RANK.get(label, TLP_RANK[TLP_DEFAULT]) <= TLP_RANK[ceiling]


# ---------------------------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------------------------

_ID_NAMESPACE = uuid.UUID("6f1c8a52-3e0b-4c1e-9a57-2b8f4e6d9c10")
_uuid_lock = threading.Lock()
_last_uuid_ms = 0
_last_uuid_seq = 0


def new_id(now_ms: int | None = None) -> str:
    """A UUIDv7: time-ordered, so ids sort by creation and index well on both sides."""
    global _last_uuid_ms, _last_uuid_seq
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _uuid_lock:
        if ms <= _last_uuid_ms:
            ms = _last_uuid_ms
            _last_uuid_seq += 1
        else:
            _last_uuid_ms = ms
            _last_uuid_seq = int.from_bytes(os.urandom(2), "big") & 0x3FF
        seq = _last_uuid_seq & 0xFFF
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand
    return str(uuid.UUID(int=value))


def stable_id(*parts: str) -> str:
    """A deterministic id, so two laptops that create the same thing create one record.

    Used for attendance (one record per session and country), whatever laptop takes the roll.
    """
    return str(uuid.uuid5(_ID_NAMESPACE, "\x1f".join(parts)))


_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_id(value: object) -> bool:
    return isinstance(value, str) and bool(_UUID_RE.match(value))


# ---------------------------------------------------------------------------------------------
# Hybrid logical clock
# ---------------------------------------------------------------------------------------------

_DEVICE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True, order=True, slots=True)
class Hlc:
    """A hybrid logical clock reading ``(wall_ms, counter, device)``.

    Ordering is the tuple ordering, so the device id breaks ties deterministically.  The text
    form is fixed-width and sorts like the tuple.
    """

    wall_ms: int
    counter: int
    device: str

    def encode(self) -> str:
        return f"{self.wall_ms:015d}-{self.counter:06d}-{self.device}"

    def __str__(self) -> str:
        return self.encode()

    @classmethod
    def parse(cls, text: str) -> Hlc:
        if not isinstance(text, str):
            raise ValueError(f"HLC must be a string, got {type(text).__name__}")
        parts = text.split("-", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            raise ValueError(f"malformed HLC {text[:80]!r}")
        if len(parts[0]) != 15 or len(parts[1]) != 6:
            raise ValueError(f"malformed HLC {text[:80]!r}")
        if not _DEVICE_RE.match(parts[2]):
            raise ValueError(f"malformed HLC device in {text[:80]!r}")
        return cls(int(parts[0]), int(parts[1]), parts[2])


MAX_COUNTER = 999_999


class HlcClock:
    """Issues HLCs for one device; monotonic even when the wall clock steps backwards."""

    def __init__(self, device: str, wall: Callable[[], float] | None = None) -> None:
        if not _DEVICE_RE.match(device):
            raise ValueError(f"device id {device!r} must be 1-64 characters of A-Z a-z 0-9 _ . -")
        self.device = device
        self._wall = wall or time.time
        self._last = Hlc(0, 0, device)
        self._lock = threading.Lock()
        self._later: list[Callable[[], Hlc | None]] = []

    def _wall_ms(self) -> int:
        return int(self._wall() * 1000)

    def now(self) -> Hlc:
        if self._later:
            self._observe_deferred()
        with self._lock:
            wall = self._wall_ms()
            if wall > self._last.wall_ms:
                self._last = Hlc(wall, 0, self.device)
            elif self._last.counter < MAX_COUNTER:
                self._last = Hlc(self._last.wall_ms, self._last.counter + 1, self.device)
            else:
                self._last = Hlc(self._last.wall_ms + 1, 0, self.device)
            return self._last

    def observe(self, seen: Hlc) -> None:
        """Move past a timestamp seen in a stored or received op, so our next one is later."""
        with self._lock:
            if (seen.wall_ms, seen.counter) > (self._last.wall_ms, self._last.counter):
                self._last = Hlc(seen.wall_ms, seen.counter, self.device)

    def observe_later(self, find_latest: Callable[[], Hlc | None]) -> None:
        """Observe a timestamp that is costly to find (the latest of a view's 5,000 records:
        ~20 ms) just before the next one is issued, rather than when a store opens."""
        with self._lock:
            self._later.append(find_latest)

    def _observe_deferred(self) -> None:
        with self._lock:
            later, self._later = self._later, []
        for find_latest in later:
            seen = find_latest()
            if seen is not None:
                self.observe(seen)


# ---------------------------------------------------------------------------------------------
# Ops
# ---------------------------------------------------------------------------------------------

RECORD_KINDS = (
    "event",
    "session",
    "agenda_item",
    "attendance",
    "entry",
    "speech",
    "clock_event",
    "speaker",
    "action_review",
)


@dataclass(frozen=True, slots=True)
class Op:
    """One change: set ``field`` of record ``(kind, record_id)`` to ``value``.

    ``base`` lists the HLCs of the field versions the writer saw and replaces (empty for a first
    write).  Two writes that do not list each other are concurrent: both are kept and the record
    shows a conflict until a write that lists both resolves it.
    ``session_id`` is empty for event-level records (the event itself).
    """

    op_id: str
    event_id: str
    session_id: str
    record_id: str
    kind: str
    field: str
    value: Any
    hlc: str
    device: str
    base: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "op_id": self.op_id,
            "event_id": self.event_id,
            "session_id": self.session_id,
            "record_id": self.record_id,
            "kind": self.kind,
            "field": self.field,
            "value": self.value,
            "hlc": self.hlc,
            "device": self.device,
            "base": list(self.base),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Op:
        """Build an op from trusted data (our own journal).  Untrusted input goes through
        ``protocol.parse_op``, which validates every field first."""
        return cls(
            op_id=data["op_id"],
            event_id=data["event_id"],
            session_id=data.get("session_id", ""),
            record_id=data["record_id"],
            kind=data["kind"],
            field=data["field"],
            value=data["value"],
            hlc=data["hlc"],
            device=data["device"],
            base=tuple(data.get("base", ())),
        )


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass
class Record:
    """Common shape: an id and the fields an op may set.  ``deleted`` is the tombstone."""

    KIND: ClassVar[str] = ""
    id: str
    deleted: bool = False

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        names = _FIELD_NAMES.get(cls)
        if names is None:  # dataclasses.fields() is slow: asked 5,000 times when a view opens
            names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls) if f.name != "id")
        return names

    @classmethod
    def from_fields(cls, record_id: str, values: Mapping[str, Any]):
        """Build from a view's field values, ignoring fields this version does not know."""
        known = cls.field_names()
        return cls(id=record_id, **{k: v for k, v in values.items() if k in known})

    def to_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.field_names()}


@dataclass
class Event(Record):
    KIND: ClassVar[str] = "event"
    name: str = ""
    venue: str = ""
    starts: str = ""  # ISO date
    ends: str = ""
    tz: str = ""  # the venue's IANA time zone ("" = UTC: an event older than zones; issue 24)


@dataclass
class Session(Record):
    KIND: ClassVar[str] = "session"
    event_id: str = ""
    region: str = ""
    title: str = ""
    room: str = ""
    date: str = ""  # ISO date
    facilitator: str = ""
    rapporteur: str = ""
    status: str = "planned"
    plan: str = ""  # name of the plan it was created from
    current_item: str = ""  # agenda item id being discussed
    attendance_confirmed: bool = False
    accepted_gaps: list[str] = field(default_factory=list)  # completeness findings accepted
    opened_at: str = ""  # ISO datetime
    closed_at: str = ""
    floor: str = ""  # id of the speech in progress (one floor: tour and list of speakers)
    balanced_order: bool = False  # list of speakers: delegations not yet heard on the item first
    observers: list[str] = field(default_factory=list)  # codes from other regions, confirmed
    reopened_at: str = ""  # ISO datetime of the last reopening after a close
    default_tlp: str = ""  # label of new entries and speeches; "" = TLP_DEFAULT (issue 14)
    speaking_seconds: int = 0  # the list of speakers' time limit; 0 = the plan's tour time
    warning_percent: int = 0  # countdowns warn in the last N % ... (0 = 20; issue 26)
    warning_seconds: int = 0  # ... or the last N s, whichever is shorter (0 = 30)
    quorum: int = 0  # delegations present for a quorum; 0 = a majority of the members (issue 26)
    projected: str = ""  # the TLP:CLEAR message on the room's projector; "" = none (issue 26)
    number: int = 0  # issue 23: n of the symbol RT/<REGION>/<YEAR>/<n>, fixed at creation
    # (0: a session made before symbols; documents.symbol gives it a fallback)


@dataclass
class AgendaItem(Record):
    KIND: ClassVar[str] = "agenda_item"
    session_id: str = ""
    position: int = 0
    title: str = ""
    minutes: int = 10  # time box
    prompts: list[str] = field(default_factory=list)
    item_kind: str = "discussion"  # one of AGENDA_KINDS
    summary: str = ""
    started_at: str = ""
    ended_at: str = ""


@dataclass
class Attendance(Record):
    KIND: ClassVar[str] = "attendance"
    session_id: str = ""
    country: str = ""  # ISO 3166 alpha-2 code
    delegates: list[str] = field(default_factory=list)
    status: str = "unknown"  # one of ATTENDANCE_STATUSES


@dataclass
class Entry(Record):
    KIND: ClassVar[str] = "entry"
    session_id: str = ""
    entry_kind: str = "note"  # one of ENTRY_KINDS
    text: str = ""
    delegations: list[str] = field(default_factory=list)  # ISO codes
    crime_areas: list[str] = field(default_factory=list)
    priority: str = ""  # "" or one of PRIORITIES
    owner: str = ""  # an ISO code, a secretariat unit, or "region"
    due: str = ""  # ISO date
    status: str = ""  # actions: one of ACTION_STATUSES
    agenda_item: str = ""  # agenda item id
    parked: bool = False  # parking lot: raised, deferred to a later session
    created_at: str = ""  # ISO datetime, for ordering in the minutes
    tlp: str = ""  # one of TLP_LABELS; "" (written before labels) = the session's default


@dataclass
class Speech(Record):
    KIND: ClassVar[str] = "speech"
    session_id: str = ""
    country: str = ""
    mode: str = "tour"  # one of SPEECH_MODES
    agenda_item: str = ""
    started_at: str = ""
    seconds: int = 0
    passed: bool = False  # the delegation passed its turn
    ended_at: str = ""  # ISO datetime; "" while the delegation has the floor
    speaker: str = ""  # the speaker record (list of speakers or tour) the turn came from
    tlp: str = ""  # one of TLP_LABELS; "" = the session's default


@dataclass
class ClockEvent(Record):
    """One start, pause, resume or stop of an agenda item's time box (``meeting.elapsed``)."""

    KIND: ClassVar[str] = "clock_event"
    session_id: str = ""
    agenda_item: str = ""
    action: str = "start"  # one of CLOCK_ACTIONS
    at: int = 0  # wall time, ms since the epoch


@dataclass
class Speaker(Record):
    """A delegation on an item's list of speakers (``mode`` queue) or its tour de table."""

    KIND: ClassVar[str] = "speaker"
    session_id: str = ""
    agenda_item: str = ""
    country: str = ""
    mode: str = "queue"  # one of SPEAKER_LISTS
    order: int = 0  # sort key within the list; a skipped or moved speaker gets a new one
    point_of_order: bool = False  # goes to the top of the list, marked
    status: str = "waiting"  # one of SPEAKER_STATUSES
    limit_seconds: int = 0  # speaking-time limit, 0 = none
    skips: int = 0  # tour: times skipped (once: moved to the end; twice: out)
    reply: bool = False  # right of reply: right after the current speaker, marked (issue 26)


@dataclass
class ActionReview(Record):
    """An earlier conference's action, reviewed at this session ("Actions carried forward").

    The action itself stays in its own event's session: a token is scoped to one event, and a
    record keeps its place, so the review is a record of the session where it was made that
    names the action (``action``, ``action_event``, ``action_session``).  One review per
    session and action (``stable_id(session_id, "action_review", action)``), so two laptops of
    one room marking the same action write one record.  The action's text, owner, due date and
    origin are copied in, so this session's minutes are built from its own records."""

    KIND: ClassVar[str] = "action_review"
    session_id: str = ""
    action: str = ""  # the reviewed action's entry id
    action_event: str = ""  # its event id
    action_session: str = ""  # its session id
    status: str = ""  # one of REVIEW_STATUSES
    note: str = ""
    agenda_item: str = ""  # the review item ("Review of action items") it was marked under
    reviewed_at: str = ""  # ISO datetime
    text: str = ""  # the action as it was written at its own event
    owner: str = ""
    due: str = ""
    origin: str = ""  # the event's name where it was agreed
    origin_date: str = ""  # ISO date of the session where it was agreed
    tlp: str = ""  # the reviewed action's label when reviewed (issue 14; "" = TLP:AMBER)


RECORD_TYPES: dict[str, type[Record]] = {
    cls.KIND: cls
    for cls in (
        Event,
        Session,
        AgendaItem,
        Attendance,
        Entry,
        Speech,
        ClockEvent,
        Speaker,
        ActionReview,
    )
}


@dataclass(frozen=True, slots=True)
class Country:
    code: str  # ISO 3166 alpha-2
    name: str
    region: str  # a key of REGIONS


@dataclass
class SessionSnapshot:
    """Everything the minutes need for one session, read at one moment.  Deleted records are
    already filtered out; lists are in their display order."""

    event: Event
    session: Session
    agenda: list[AgendaItem]
    attendance: list[Attendance]
    entries: list[Entry]
    speeches: list[Speech]
    countries: dict[str, str]  # ISO code -> name, for every code the session mentions
    clock_events: list[ClockEvent] = field(default_factory=list)  # item clocks: planned vs
    # actual per item is ``meeting.planned_vs_actual(agenda, clock_events, now_ms)``
    action_reviews: list[ActionReview] = field(default_factory=list)  # earlier conferences'
    # actions reviewed in this session (issue 12), in the order they were reviewed
    # issue 14: ``documents.audience.cut`` moves what is above a reader's ceiling here, so that
    # references are counted over the whole session and the withheld are counted, not dropped
    withheld: list[Entry] = field(default_factory=list)
    withheld_speeches: list[Speech] = field(default_factory=list)
    withheld_reviews: list[ActionReview] = field(default_factory=list)
    ceiling: str = "red"  # the highest label the snapshot may hold (red: not cut)
    speakers: list[Speaker] = field(default_factory=list)  # lists and tours: procedure (issue 26)
