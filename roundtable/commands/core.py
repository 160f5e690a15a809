"""Meeting commands as pure functions (issue 21): the session's state in, the changes out.

This module holds what every command shares (``SessionState``, ``Change``, ``Changes``, the
record reads ``Records``) and the entry commands; the others live beside it
(``roundtable.commands.attendance``, ``.session``, ``.clocks``, ``.floor``, ``.tour``,
``.reviews``) and ``roundtable.commands`` offers them all.

A face (the app's capture bar and edit dialog, `roundtable add` and `roundtable edit`) parses
its input, calls a command here and hands the ``Changes`` to ``SessionStore.apply``, which
journals them as one undoable change.  The rules — what a capture fills in, which delegation an
unattributed line is credited to, what an edit changes, how a label is checked — live here
once; the store only writes.  Pure: no store, no files, no clock of its own (the caller gives
the time and, if it wants, the new record's id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from roundtable.errors import RoundtableError
from roundtable.model import (
    ACTION_STATUSES,
    ENTRY_KINDS,
    PRIORITIES,
    TLP_LABELS,
    AgendaItem,
    Entry,
    Record,
    Session,
    effective_tlp,
    new_id,
)
from roundtable.snapshot import display_order

__all__ = [
    "FLOOR_KINDS",
    "Change",
    "Changes",
    "CommandError",
    "InMemory",
    "Records",
    "SessionState",
    "capture",
    "check_open",
    "creation",
    "current_item_id",
    "edit",
    "iso_at",
    "relabel",
]

R = TypeVar("R", bound=Record)

FLOOR_KINDS = ("issue", "need", "note")
"""Kinds that, naming no delegation, are credited to the delegation that has the floor."""


class CommandError(RoundtableError):
    """A command refused: one line saying why (the store raises it as a ``StoreError``)."""


@dataclass(frozen=True)
class Change:
    """New values of some fields of one record (a creation gives every non-default one)."""

    kind: str
    record_id: str
    fields: Mapping[str, Any]

    def as_write(self) -> tuple[str, str, dict[str, Any]]:
        return (self.kind, self.record_id, dict(self.fields))


@dataclass(frozen=True)
class Changes:
    """What one command changes, as one undoable change named ``label`` ("add issue")."""

    label: str
    changes: tuple[Change, ...] = ()
    created: str = ""
    """The id of the record the command created, if it created one."""
    value: Any = None
    """What the command answers besides its changes (the delegation that passed, the codes
    marked absent): the store's methods return it."""

    def __bool__(self) -> bool:
        return bool(self.changes)

    def fields(self) -> list[str]:
        return sorted({f for c in self.changes for f in c.fields})


class Records(Protocol):
    """The session's records as the commands read them (the store gives its own; tests and
    the pure callers give ``InMemory``)."""

    def get(self, kind: str, record_id: str) -> Record | None:
        """One record of the session, deleted or not (None if unknown)."""
        ...

    def records(self, kind: str) -> Sequence[Any]:
        """The shown records of one kind, in display order."""
        ...


class InMemory:
    """``Records`` over a list of records (pure: tests, a state built from a snapshot)."""

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self._by_key = {(r.KIND, r.id): r for r in records}

    def get(self, kind: str, record_id: str) -> Record | None:
        return self._by_key.get((kind, record_id))

    def records(self, kind: str) -> list[Any]:
        return display_order(
            kind, [r for (k, _id), r in self._by_key.items() if k == kind and not r.deleted]
        )


@dataclass(frozen=True)
class SessionState:
    """What the commands need to know of the session: never the store itself."""

    session_id: str
    current_item: str = ""
    default_tlp: str = ""  # the session's default label ("" = TLP:AMBER)
    now: str = ""  # ISO time at the venue's clock of this laptop, for ``created_at``
    floor: str = ""  # the delegation that has the floor, if any (the capture bar's rule)
    now_ms: int = 0  # the same moment in ms since the epoch (clocks, turns)
    event_id: str = ""
    session: Session | None = None  # the session record (None: one built of the fields above)
    view: Records = field(default_factory=InMemory)  # the session's other records

    @property
    def record(self) -> Session:
        """The session record (built from ``session_id`` etc. when none was given)."""
        if self.session is not None:
            return self.session
        return Session(
            id=self.session_id, current_item=self.current_item, default_tlp=self.default_tlp
        )

    def get(self, kind: type[R], record_id: str) -> R | None:
        """One record of the given class (None if unknown or of another kind)."""
        record = self.view.get(kind.KIND, record_id)
        return record if isinstance(record, kind) else None

    def records(self, kind: type[R]) -> list[R]:
        return [r for r in self.view.records(kind.KIND) if isinstance(r, kind)]

    @property
    def tlp(self) -> str:
        """The label of new entries and speeches: the session's, else TLP:AMBER."""
        return effective_tlp("", self.record.default_tlp)


def iso_at(ms: int) -> str:
    """An ISO time (UTC, whole seconds) of a time in ms, as the journal writes them."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="seconds")


def check_open(state: SessionState) -> None:
    """Refuse, naming how to reopen, when the session is closed or archived (a capture or a
    new turn must not land silently in closed minutes)."""
    session = state.record
    short = state.session_id[:8]
    if session.status == "archived":
        raise CommandError(
            f"session {short} is archived: restore it with "
            f"`roundtable unarchive {short}` or delete on the archived list"
        )
    if session.status == "closed":
        raise CommandError(
            f"session {short} is closed: reopen it with "
            f'`roundtable reopen {short}` or the palette\'s "session: reopen"'
        )


def current_item_id(state: SessionState) -> str:
    """The agenda item being discussed: the session's ``current_item``, else the first item."""
    current = state.record.current_item
    item = state.get(AgendaItem, current) if current else None
    if item is not None and not item.deleted:
        return current
    agenda = state.records(AgendaItem)
    return agenda[0].id if agenda else ""


def creation(record: Record) -> Change:
    """The field writes that create a record: every field that differs from its default."""
    defaults = type(record)(id=record.id).to_fields()
    fields = {k: v for k, v in record.to_fields().items() if v != defaults[k]}
    return Change(record.KIND, record.id, fields or {"deleted": False})


def _label(state: SessionState, tlp: str) -> str:
    if tlp == "":
        return effective_tlp("", state.default_tlp)
    if tlp not in TLP_LABELS:
        raise CommandError(f"unknown label {tlp!r} (one of {', '.join(TLP_LABELS)})")
    return tlp


def capture(
    state: SessionState,
    entry_kind: str,
    text: str,
    *,
    delegations: Sequence[str] = (),
    crime_areas: Sequence[str] = (),
    priority: str = "",
    owner: str = "",
    due: str = "",
    status: str = "",
    agenda_item: str | None = None,
    parked: bool = False,
    tlp: str = "",
    by_floor: bool = False,
    entry_id: str | None = None,
) -> Changes:
    """A new entry (a capture line's fields, ``Captured.entry_fields()``): under
    ``agenda_item``, else the session's current item; an action is open; no label means the
    session's default.  ``by_floor``: an issue, need or note naming no delegation is credited
    to the delegation that has the floor (the capture bar's rule: the line was typed while it
    spoke)."""
    if entry_kind not in ENTRY_KINDS:
        raise CommandError(f"unknown entry kind {entry_kind!r} (one of {', '.join(ENTRY_KINDS)})")
    if not text.strip():
        raise CommandError("an entry needs some text")
    if priority not in ("", *PRIORITIES):
        raise CommandError(f"unknown priority {priority!r} (one of {', '.join(PRIORITIES)})")
    if entry_kind == "action" and not status:
        status = "open"
    if status not in ("", *ACTION_STATUSES):
        raise CommandError(f"unknown status {status!r} (one of {', '.join(ACTION_STATUSES)})")
    named = list(delegations)
    if by_floor and state.floor and not named and entry_kind in FLOOR_KINDS:
        named = [state.floor]
    entry = Entry(
        id=entry_id or new_id(),
        session_id=state.session_id,
        entry_kind=entry_kind,
        text=text,
        delegations=named,
        crime_areas=list(crime_areas),
        priority=priority,
        owner=owner,
        due=due,
        status=status,
        agenda_item=state.current_item if agenda_item is None else agenda_item,
        parked=parked,
        created_at=state.now,
        tlp=_label(state, tlp),
    )
    return Changes(
        f"add {'parked note' if parked else entry_kind}", (creation(entry),), created=entry.id
    )


def edit(state: SessionState, entry: Entry, fields: Mapping[str, Any]) -> Changes:
    """Rewrite an entry from new field values (an edit line's ``entry_fields()``, the edit
    dialog's status and label): only what differs is written (a field in conflict keeps its
    conflict unless its value changes: the dialog's "keep" buttons resolve it).  A line without
    a label keeps the entry's (``tlp`` ""); an action gets a status ("open") if it had none."""
    new = dict(fields)
    if new.get("tlp", "") == "":
        new.pop("tlp", None)
    else:
        new["tlp"] = _label(state, str(new["tlp"]))
    if new.get("entry_kind", entry.entry_kind) == "action" and not new.get("status", entry.status):
        new["status"] = "open"
    if "entry_kind" in new and new["entry_kind"] not in ENTRY_KINDS:
        raise CommandError(f"unknown entry kind {new['entry_kind']!r}")
    if "text" in new and not str(new["text"]).strip():
        raise CommandError("an entry needs some text")
    changed = {k: v for k, v in new.items() if getattr(entry, k, None) != v}
    if not changed:
        return Changes("edit entry")
    change = Change("entry", entry.id, changed)
    return Changes(f"edit entry {', '.join(sorted(changed))}", (change,))


def relabel(state: SessionState, entry: Entry, tlp: str) -> Changes:
    """Give an entry another TLP label (the edit dialog's label list, a line's ``~label``)."""
    if tlp == "":
        raise CommandError("a label is needed (one of " + ", ".join(TLP_LABELS) + ")")
    return edit(state, entry, {"tlp": tlp})
