"""SessionStore: one session's records, read and written through its unit.

Every write is durable when the method returns (one journal line, flushed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from roundtable import commands
from roundtable.commands.session import ARCHIVE, CLOSE, REOPEN, UNARCHIVE
from roundtable.model import (
    LABELLED_KINDS,
    TLP_LABELS,
    AgendaItem,
    Attendance,
    Entry,
    Event,
    Op,
    Record,
    Session,
    SessionSnapshot,
    Speech,
    effective_tlp,
    new_id,
    record_tlp,
    tlp_name,
)
from roundtable.snapshot import shown
from roundtable.store.errors import StoreError, UnknownSessionError
from roundtable.store.unit import Unit, _utc_now_iso

if TYPE_CHECKING:
    from roundtable.commands import Changes, SessionState
    from roundtable.model import ActionReview, ClockEvent, Speaker
    from roundtable.store.home import LocalStore

UNDO_BARRIERS = {
    CLOSE: "the session is closed: undo stops at the close (reopen it with "
    '"session: reopen" or `roundtable reopen`)',
    REOPEN: "the session was reopened: undo stops there (close it again with x)",
    ARCHIVE: "the session is archived: undo stops there (`roundtable unarchive` brings it back)",
    UNARCHIVE: "the session was unarchived: undo stops there",
}
"""Changes undo never goes past, and why: closing, reopening, archiving and unarchiving are
each their own recorded command."""

R = TypeVar("R", bound=Record)


class SessionStore:
    """One session's records.  Every write is durable when the method returns."""

    def __init__(self, local: LocalStore, unit: Unit, session_id: str) -> None:
        self.local = local
        self.unit = unit
        self.session_id = session_id
        session = unit.get("session", session_id)
        if not isinstance(session, Session):
            unit.close()
            raise UnknownSessionError(f"{unit.path}: holds no session record")
        self.event_id = session.event_id

    # context manager
    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self.unit.path

    @property
    def session(self) -> Session:
        return self.unit.get("session", self.session_id)  # type: ignore[return-value]

    @property
    def event(self) -> Event:
        return self.local.event(self.event_id)

    def _write(self, label: str, changes, undo_of: str | None = None) -> list[Op]:
        ops = self.unit.write(
            label, changes, event_id=self.event_id, session_id=self.session_id, undo_of=undo_of
        )
        self._notify(sorted({(op.kind, op.record_id) for op in ops}))
        return ops

    def _now(self) -> str:
        return _utc_now_iso(self.local.wall())

    # -- writes ----------------------------------------------------------------------------

    # -- commands: the unit of work (issue 21) ----------------------------------------------

    def state(self, *, floor: str = "") -> SessionState:
        """What the pure commands (``roundtable.commands``) need of this session, now: its
        record, the time, and this store as their ``Records``."""
        from roundtable.commands import SessionState

        session = self.session
        wall = self.local.wall()
        return SessionState(
            session_id=self.session_id,
            current_item=session.current_item,
            default_tlp=session.default_tlp,
            now=_utc_now_iso(wall),
            floor=floor,
            now_ms=int(wall * 1000),
            event_id=self.event_id,
            session=session,
            view=self,
        )

    def apply(self, changes: Changes) -> list[Op]:
        """Journal a command's changes as one undoable change: durable when it returns."""
        if not changes:
            return []
        ops = self._write(changes.label, [c.as_write() for c in changes.changes])
        for c in changes.changes:
            if c.fields.get("tlp") == "red" and c.record_id != changes.created:
                self._withdrawal_notice(c.kind, c.record_id)
        return ops

    def perform(
        self, command: Callable[..., Changes], *args: Any, floor: str = "", **kwargs: Any
    ) -> Changes:
        """Run a pure command on this session's state and apply its changes; StoreError (one
        line) when the command refuses, and nothing is written."""
        from roundtable.commands import CommandError

        try:
            changes = command(self.state(floor=floor), *args, **kwargs)
        except CommandError as exc:
            raise StoreError(str(exc)) from None
        self.apply(changes)
        return changes

    # -- writes ----------------------------------------------------------------------------

    def add_entry(
        self,
        entry_kind: str,
        text: str,
        delegations: Sequence[str] = (),
        crime_areas: Sequence[str] = (),
        priority: str = "",
        owner: str = "",
        due: str = "",
        status: str = "",
        agenda_item: str | None = None,
        parked: bool = False,
        tlp: str = "",
    ) -> Entry:
        """A new entry (``commands.capture``: its rules), journalled at once."""
        from roundtable import commands

        changes = self.perform(
            commands.capture,
            entry_kind,
            text,
            delegations=delegations,
            crime_areas=crime_areas,
            priority=priority,
            owner=owner,
            due=due,
            status=status,
            agenda_item=agenda_item,
            parked=parked,
            tlp=tlp,
        )
        return self.unit.get("entry", changes.created)  # type: ignore[return-value]

    def update(self, kind: str, record_id: str, **fields: Any) -> list[Op]:
        current = self.unit.get(kind, record_id)
        if current is None:
            raise StoreError(f"no {kind} {record_id} in session {self.session_id}")
        changed = {
            k: v
            for k, v in fields.items()
            if k not in current.to_fields()
            or getattr(current, k) != v
            or k in _conflicted(self.unit, kind, record_id)
        }
        if "tlp" in changed and kind in LABELLED_KINDS:
            # an edit line without a ~label keeps the label (`roundtable edit`, a capture
            # line rewritten): "" never relabels a record to the session's default
            if changed["tlp"] == "":
                del changed["tlp"]
            else:
                changed["tlp"] = self._label(changed["tlp"])
        if not changed:
            return []
        label = f"edit {kind.replace('_', ' ')} {', '.join(sorted(changed))}"
        ops = self._write(label, [(kind, record_id, changed)])
        if changed.get("tlp") == "red":
            self._withdrawal_notice(kind, record_id)
        return ops

    # -- labels (issue 14) -------------------------------------------------------------------

    @property
    def default_tlp(self) -> str:
        """The label of new entries and speeches: the session's, else TLP:AMBER."""
        return effective_tlp("", self.session.default_tlp)

    def _label(self, tlp: str) -> str:
        if tlp == "":
            return self.default_tlp
        if tlp not in TLP_LABELS:
            raise StoreError(f"unknown label {tlp!r} (one of {', '.join(TLP_LABELS)})")
        return tlp

    def set_default_tlp(self, tlp: str) -> None:
        """Choose the session's default label (set-up, ``roundtable new --tlp``)."""
        if tlp not in TLP_LABELS:
            raise StoreError(f"unknown label {tlp!r} (one of {', '.join(TLP_LABELS)})")
        self.update("session", self.session_id, default_tlp=tlp)

    def label_of(self, record: Any) -> str:
        """A record's label as documents and screens show it (``TLP:AMBER``)."""
        kind = getattr(record, "KIND", "")
        return tlp_name(record_tlp(kind, getattr(record, "tlp", ""), self.session.default_tlp))

    def delete(self, kind: str, record_id: str) -> list[Op]:
        """Delete a record; on an entry deleted while another laptop edited it (a delete
        conflict), confirm the delete: it then lists the edit as seen."""
        current = self.unit.get(kind, record_id)
        if current is None or (current.deleted and self.delete_conflict(kind, record_id) is None):
            raise StoreError(f"no {kind} {record_id} in session {self.session_id}")
        what = getattr(current, "entry_kind", kind.replace("_", " "))
        return self._write(f"delete {what}", [(kind, record_id, {"deleted": True})])

    def restore(self, kind: str, record_id: str) -> list[Op]:
        """Bring back a deleted record (resolves a delete conflict the other way)."""
        current = self.unit.get(kind, record_id)
        if current is None or not current.deleted:
            raise StoreError(f"no deleted {kind} {record_id} in session {self.session_id}")
        from roundtable.protocol import withdrawn

        if withdrawn(self.doc(kind, record_id)):
            raise StoreError(
                f"{kind} {record_id[:8]} was withdrawn: the laptop that labelled it TLP:RED "
                "brings it back by labelling it lower"
            )
        what = getattr(current, "entry_kind", kind.replace("_", " "))
        return self._write(f"restore {what}", [(kind, record_id, {"deleted": False})])

    def delete_conflict(self, kind: str, record_id: str):
        """``protocol.delete_conflict`` of one record (None when there is none)."""
        from roundtable.protocol import delete_conflict

        return delete_conflict(self.doc(kind, record_id))

    def conflicted_entries(self) -> dict[str, dict[str, list]]:
        """Every entry with an unresolved conflict: id -> field -> losing ``(value, hlc)``."""
        from roundtable.protocol import conflicts

        out = {}
        for rid, *_light in self.unit.entry_keys():
            if self.unit.conflict_free("entry", rid):
                continue
            doc = self.doc("entry", rid)
            found = conflicts(doc) if doc is not None and shown("entry", doc) else {}
            if found:
                out[rid] = found
        return out

    def undo(self) -> str | None:
        """Undo this laptop's last change; None when there is nothing to undo.  Undo never
        crosses a close or a reopening (issue 22, finding 8): each is its own recorded
        command, so StoreError says how to go the other way."""
        self.unit.ensure_history()
        plan = self.unit.history.undo_plan()
        if plan is not None and plan[0]["label"] in UNDO_BARRIERS:
            raise StoreError(UNDO_BARRIERS[plan[0]["label"]])
        labels = self.unit.history.labels
        red_before = set(labels.red_keys)
        label = self.unit.undo(event_id=self.event_id, session_id=self.session_id)
        for kind, record_id in sorted(labels.red_keys - red_before):
            self._withdrawal_notice(kind, record_id)
        self._notify(None)
        return label

    def _withdrawal_notice(self, kind: str, record_id: str) -> None:
        """Say it when a record the secretariat has becomes TLP:RED (issue 14)."""
        if self.unit.history.labels.is_known_to_server((kind, record_id)):
            self.local.notices.append(
                f"{kind} {record_id[:8]} is TLP:RED now: the secretariat will be asked to "
                "withdraw it at the next sync"
            )

    def set_attendance(
        self, country: str, status: str | None = None, delegates: Sequence[str] | None = None
    ) -> Attendance:
        """``commands.set_attendance``, applied; the delegation's attendance record."""
        from roundtable import commands

        changes = self.perform(commands.set_attendance, country, status, delegates)
        return self.unit.get("attendance", changes.created)  # type: ignore[return-value]

    def mark_rest_absent(self, members: Sequence[str]) -> list[str]:
        """``commands.mark_rest_absent``, applied: returns the codes marked."""
        from roundtable import commands

        codes: list[str] = self.perform(commands.mark_rest_absent, members).value
        return codes

    def add_speech(
        self,
        country: str,
        mode: str,
        seconds: int,
        started_at: str,
        agenda_item: str = "",
        passed: bool = False,
    ) -> Speech:
        speech = Speech(
            id=new_id(),
            session_id=self.session_id,
            country=country,
            mode=mode,
            agenda_item=agenda_item,
            started_at=started_at,
            seconds=int(seconds),
            passed=passed,
            tlp=self.default_tlp,
        )
        self._write(f"speech {country}", [_creation(speech)])
        return self.unit.get("speech", speech.id)  # type: ignore[return-value]

    def add_agenda_item(
        self,
        title: str,
        minutes: int,
        prompts: Sequence[str] = (),
        item_kind: str = "discussion",
        position: int | None = None,
    ) -> AgendaItem:
        if position is None:
            position = len(self.records("agenda_item"))
        item = AgendaItem(
            id=new_id(),
            session_id=self.session_id,
            position=position,
            title=title,
            minutes=minutes,
            prompts=list(prompts),
            item_kind=item_kind,
        )
        self._write("add agenda item", [_creation(item)])
        return self.unit.get("agenda_item", item.id)  # type: ignore[return-value]

    # --- The meeting's running state (issue 16) ---
    # The current item, item clocks, the list of speakers, the tour de table, the floor, close
    # and reopen are records like entries: they survive a restart and travel with sync.
    # ``roundtable.meeting`` (pure) reads them; these methods write them, each as one change.

    def subscribe(self, listener: Callable[[list[tuple[str, str]] | None], None]) -> None:
        """Call ``listener(keys)`` after each change of this session's records made through
        this SessionStore: ``keys`` are the ``(kind, record id)`` pairs written, or None when
        anything may have changed (undo, ops from sync).  The app turns it into its
        session-changed signal."""
        self.__dict__.setdefault("_listeners", []).append(listener)

    def _notify(self, keys: list[tuple[str, str]] | None) -> None:
        for listener in list(self.__dict__.get("_listeners", ())):
            listener(keys)

    def _record(self, kind: str, record_id: str) -> Any:
        """A record of this session as its dataclass (None if unknown)."""
        return self.unit.get(kind, record_id)

    def _now_ms(self) -> int:
        return int(self.local.wall() * 1000)

    @property
    def session_closed(self) -> bool:
        """The session was closed (by the facilitator); ``closed`` is this store's own end."""
        return self.session.status == "closed"

    def check_open(self) -> None:
        """Raise StoreError, naming how to reopen, when the session is closed (a capture or a
        new turn must not land silently in closed minutes): ``commands.check_open``."""
        try:
            commands.check_open(self.state())
        except commands.CommandError as exc:
            raise StoreError(str(exc)) from None

    def current_item_id(self) -> str:
        """The agenda item being discussed: ``Session.current_item``, else the first item."""
        return commands.current_item_id(self.state())

    def clock_events(self) -> list[Any]:
        return self.records("clock_event")

    def _clock_writes(self, item_id: str, action: str, at: int) -> list[tuple[str, str, dict]]:
        from roundtable.commands.clocks import clock_writes

        return [c.as_write() for c in clock_writes(self.state(), item_id, action, at)]

    def item_elapsed(self, item_id: str, now_ms: int | None = None) -> float:
        """Seconds the item's clock has run (``meeting.elapsed`` of its clock events)."""
        from roundtable import meeting

        now = self._now_ms() if now_ms is None else now_ms
        return meeting.elapsed(self.clock_events(), item_id, now)

    def go_to_item(self, item_id: str) -> None:
        """``commands.go_to_item``, applied."""
        self.perform(commands.go_to_item, item_id)

    def clock(self, action: str, item_id: str | None = None) -> bool:
        """``commands.clock``, applied: False when it changed nothing."""
        return bool(self.perform(commands.clock, action, item_id))

    def clock_state(self, item_id: str) -> str:
        from roundtable import meeting

        return meeting.clock_state(self.clock_events(), item_id)

    # the floor and the lists of speakers

    def speeches(self) -> list[Any]:
        return self.records("speech")

    def floor(self) -> Speech | None:
        """The speech in progress, or None when nobody has the floor."""
        return commands.floor_speech(self.state())

    def floor_speaker(self) -> Any:
        return commands.floor_speaker(self.state())

    def _end_floor_writes(self, at: int, *, keep: bool = True) -> list[tuple[str, str, dict]]:
        from roundtable.commands.floor import end_floor_writes

        return [c.as_write() for c in end_floor_writes(self.state(), at, keep=keep)]

    def end_floor(self) -> Speech | None:
        """``commands.end_floor``, applied: the ended speech (None if nobody had the floor)."""
        ended: str = self.perform(commands.end_floor).value
        return self._record("speech", ended) if ended else None

    def give_floor(self, speaker_id: str) -> Speech:
        """``commands.give_floor``, applied: the new speech."""
        changes = self.perform(commands.give_floor, speaker_id)
        return self._record("speech", changes.created)  # type: ignore[return-value]

    def speakers(self, item_id: str | None = None, mode: str = "queue") -> list[Any]:
        """An item's speakers of one list, in stored order (removed ones left out)."""
        return commands.speakers(self.state(), item_id, mode)

    def waiting_speakers(self, item_id: str | None = None, mode: str = "queue") -> list[Any]:
        """Who waits on the list, in speaking order (``commands.waiting_speakers``)."""
        return commands.waiting_speakers(self.state(), item_id, mode)

    def add_speaker(
        self,
        country: str,
        *,
        item_id: str | None = None,
        point_of_order: bool = False,
        limit_seconds: int = 0,
        mode: str = "queue",
        reply: bool = False,
    ) -> Any:
        """``commands.add_speaker``, applied: the speaker record."""
        changes = self.perform(
            commands.add_speaker,
            country,
            item_id=item_id,
            point_of_order=point_of_order,
            limit_seconds=limit_seconds,
            mode=mode,
            reply=reply,
        )
        return self._record("speaker", changes.created)

    def remove_speaker(self, speaker_id: str) -> None:
        """``commands.remove_speaker``, applied."""
        self.perform(commands.remove_speaker, speaker_id)

    def move_speaker(self, speaker_id: str, step: int) -> bool:
        """``commands.move_speaker``, applied: False at either end of the list."""
        return bool(self.perform(commands.move_speaker, speaker_id, step))

    def set_speaker_limit(self, speaker_id: str, seconds: int) -> None:
        if seconds < 0:
            raise StoreError(f"speaking-time limit must be 0 or more seconds, got {seconds}")
        self.update("speaker", speaker_id, limit_seconds=int(seconds))

    def set_speaking_time(self, seconds: int, item_id: str | None = None) -> int:
        """``commands.set_speaking_time``, applied: how many waiting speakers it changed."""
        changed: int = self.perform(commands.set_speaking_time, seconds, item_id).value
        return changed

    def set_balanced_order(self, on: bool) -> None:
        self.update("session", self.session_id, balanced_order=bool(on))

    def next_speaker(self, item_id: str | None = None, mode: str = "queue") -> Speech | None:
        """``commands.next_speaker``, applied: the new speech (None: the turn just ended)."""
        changes = self.perform(commands.next_speaker, item_id, mode)
        return self._record("speech", changes.created) if changes.created else None

    # the tour de table (speakers of mode "tour")

    def tour_start(
        self, codes: Sequence[str], limit_seconds: int, item_id: str | None = None
    ) -> int:
        """``commands.tour_start``, applied: how many delegations were added."""
        added: int = self.perform(commands.tour_start, codes, limit_seconds, item_id).value
        return added

    def tour_rotate(self, item_id: str | None = None) -> bool:
        """``commands.tour_rotate``, applied: False once anyone on the tour has spoken."""
        return bool(self.perform(commands.tour_rotate, item_id))

    def tour_next(self, item_id: str | None = None) -> Speech | None:
        """``commands.tour_next``, applied: the new speech (None: the turn just ended)."""
        changes = self.perform(commands.tour_next, item_id)
        return self._record("speech", changes.created) if changes.created else None

    def has_spoken(self, country: str, item_id: str) -> bool:
        """``commands.has_spoken`` on this session now."""
        return commands.has_spoken(self.state(), country, item_id)

    def tour_pass(self, item_id: str | None = None) -> str | None:
        """``commands.tour_pass``, then ``tour_next`` as its own change: the code that
        passed (None when the tour had nobody left)."""
        item = self.current_item_id() if item_id is None else item_id
        passed: str | None = self.perform(commands.tour_pass, item).value
        if passed is not None:
            self.perform(commands.tour_next, item)
        return passed

    def tour_skip(self, item_id: str | None = None) -> str | None:
        """``commands.tour_skip``, then ``tour_next`` as its own change: the code skipped."""
        item = self.current_item_id() if item_id is None else item_id
        skipped: str | None = self.perform(commands.tour_skip, item).value
        if skipped is not None:
            self.perform(commands.tour_next, item)
        return skipped

    # close, reopen, observers, moving entries

    def close_session(self, accept: Sequence[str] = ()) -> None:
        """``commands.close``, applied."""
        self.perform(commands.close, accept)

    def project(self, text: str, tlp: str = "clear") -> str:
        """Put a message up on the room's projector (issue 26): only TLP:CLEAR, at most
        ``projection.PROJECT_MAX`` characters; an empty ``text`` with ``tlp`` "clear" is refused,
        use ``clear_projection``.  Returns the text as projected."""
        from roundtable.projection import check_projectable

        try:
            shown = check_projectable(text, tlp)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        self._write("project", [("session", self.session_id, {"projected": shown})])
        return shown

    def clear_projection(self) -> bool:
        """Take the projected message down; False when none was up."""
        if not self.session.projected:
            return False
        self._write("clear projection", [("session", self.session_id, {"projected": ""})])
        return True

    def reopen(self) -> None:
        """``commands.reopen``, applied."""
        self.perform(commands.reopen)

    def archive(self) -> None:
        """``commands.archive``, applied."""
        self.perform(commands.archive)

    def unarchive(self) -> str:
        """``commands.unarchive``, applied: returns the status it has again."""
        status: str = self.perform(commands.unarchive).value
        return status

    def add_observer(self, country: str) -> None:
        """``commands.add_observer``, applied."""
        from roundtable import commands

        self.perform(commands.add_observer, country)

    def move_entry(self, entry_id: str, item_id: str) -> bool:
        """File an entry under another agenda item; False when it is already there."""
        entry = self._record("entry", entry_id)
        item = self._record("agenda_item", item_id)
        if entry is None or entry.deleted:
            raise StoreError(f"no entry {entry_id} in session {self.session_id}")
        if item is None or item.deleted:
            raise StoreError(f"no agenda item {item_id} in session {self.session_id}")
        return bool(self.update("entry", entry_id, agenda_item=item_id))

    # --- end of the meeting's running state ---

    # --- Actions carried forward (issue 12) ---
    # An earlier conference's action is reviewed by a record of this session that names it
    # (``model.ActionReview``): the action itself stays in its own event's session.

    def action_reviews(self) -> list[Any]:
        """This session's reviews of earlier actions, in the order they were made."""
        return sorted(self.records("action_review"), key=lambda r: (r.reviewed_at, r.id))

    def review_action(
        self, action: Any, status: str, note: str = "", agenda_item: str | None = None
    ) -> Any:
        """``commands.review_action``, applied: the review.  Durable when it returns, like any
        capture."""
        changes = self.perform(commands.review_action, action, status, note, agenda_item)
        return self._record("action_review", changes.created)

    # --- end of actions carried forward ---

    # -- reads -----------------------------------------------------------------------------

    def get(self, kind: str, record_id: str) -> Record | None:
        return self.unit.get(kind, record_id)

    def doc(self, kind: str, record_id: str) -> dict[str, Any] | None:
        """The merged document (fields and heads) of one record."""
        return self.unit.doc(kind, record_id)

    def conflict_free(self, kind: str, record_id: str) -> bool:
        """True when the record surely has no conflict, found without reading its heads."""
        return self.unit.conflict_free(kind, record_id)

    @overload
    def records(self, kind: type[R], include_deleted: bool = False) -> list[R]: ...

    @overload
    def records(self, kind: Literal["entry"], include_deleted: bool = False) -> list[Entry]: ...

    @overload
    def records(
        self, kind: Literal["agenda_item"], include_deleted: bool = False
    ) -> list[AgendaItem]: ...

    @overload
    def records(
        self, kind: Literal["attendance"], include_deleted: bool = False
    ) -> list[Attendance]: ...

    @overload
    def records(self, kind: Literal["speech"], include_deleted: bool = False) -> list[Speech]: ...

    @overload
    def records(
        self, kind: Literal["clock_event"], include_deleted: bool = False
    ) -> list[ClockEvent]: ...

    @overload
    def records(self, kind: Literal["speaker"], include_deleted: bool = False) -> list[Speaker]: ...

    @overload
    def records(
        self, kind: Literal["action_review"], include_deleted: bool = False
    ) -> list[ActionReview]: ...

    @overload
    def records(self, kind: str, include_deleted: bool = False) -> list[Any]: ...

    def records(self, kind: type[Record] | str, include_deleted: bool = False) -> list[Any]:
        """The session's shown records of one kind in display order: by record class
        (``records(Entry) -> list[Entry]``) or by kind name."""
        from roundtable.snapshot import display_order

        name = kind if isinstance(kind, str) else kind.KIND
        return display_order(name, self.unit.iter_records(name, include_deleted))

    def entry_counts(self) -> dict[str, int]:
        """Entries (not deleted) per agenda item id, counted on the view's index: building
        5,000 records only to count them took ~45 ms of the run screen's start."""
        return self.unit.entry_counts()

    def latest_entries(
        self, *, agenda_item: str | None = None, entry_kind: str | None = None, limit: int
    ) -> tuple[int, list[Entry]]:
        """How many entries (not deleted) belong to ``agenda_item`` (any when None) and are of
        ``entry_kind`` (any when None), and the latest ``limit`` of them in the order of
        ``records("entry")``; only those are read and built as records."""
        total, ids = self.unit.latest_entry_ids(agenda_item, entry_kind, limit)
        return total, [cast(Entry, self.unit.get("entry", rid)) for rid in ids]

    def entry_overview(
        self, *, agenda_item: str | None = None, entry_kind: str | None = None, limit: int
    ) -> tuple[dict[str, int], int, list[str]]:
        """``entry_counts`` and ``latest_entries`` (as ids, none of them read: a list builds
        the rows it draws) in one pass over the view's index."""
        return self.unit.entry_overview(agenda_item, entry_kind, limit)

    def snapshot(self, countries: Mapping[str, str]) -> SessionSnapshot:
        """The session's snapshot, built by ``roundtable.snapshot.build`` as the server's is."""
        from roundtable import snapshot

        kinds = (
            "agenda_item",
            "attendance",
            "entry",
            "speech",
            "clock_event",
            "action_review",
            "speaker",
        )
        records = {kind: list(self.unit.iter_records(kind)) for kind in kinds}
        return snapshot.build(self.event, self.session, records, countries)

    # -- sync and life cycle -----------------------------------------------------------------

    def outbox(self, limit: int | None = None) -> list[Op]:
        return self.unit.outbox(limit)

    def pending_count(self) -> int:
        return self.unit.pending_count()

    def load_history_step(self, max_lines: int = 500) -> bool:
        """Read the next slice of the history; True once it is all loaded (``Unit``)."""
        return self.unit.load_history_step(max_lines)

    def read_records(self, max_records: int) -> bool:
        """Read the next ``max_records`` records the view left unread (the app, between frames,
        after the history); True once none is left."""
        return self.unit.read_records(max_records)

    def mark_acked(self, op_ids: Iterable[str]) -> int:
        return self.unit.mark_acked(op_ids)

    def apply_remote(self, ops: Iterable[Op]) -> int:
        applied = self.unit.apply_remote(ops)
        if applied:
            self._notify(None)
        return applied

    def checkpoint(self) -> None:
        self.unit.checkpoint()

    @property
    def read_only(self) -> bool:
        return self.unit.read_only

    @property
    def closed(self) -> bool:
        """Closed (by ``close``, or its LocalStore's): no read or write may follow."""
        return self.unit.closed

    def close(self) -> None:
        if not self.unit.closed:
            if not self.unit.read_only:
                self.local.forget(self.unit)
            self.unit.close()


def _creation(record: Record) -> tuple[str, str, dict[str, Any]]:
    """The field writes that create a record: every field that differs from its default."""
    defaults = type(record)(id=record.id).to_fields()
    fields = {k: v for k, v in record.to_fields().items() if v != defaults[k]}
    if not fields:
        fields = {"deleted": False}
    return (record.KIND, record.id, fields)


def _conflicted(unit: Unit, kind: str, record_id: str) -> set[str]:
    doc = unit.doc(kind, record_id)
    if doc is None:
        return set()
    from roundtable.protocol import conflicts

    return set(conflicts(doc))
