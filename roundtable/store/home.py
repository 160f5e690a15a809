"""LocalStore: everything on this laptop, under one home directory.

``<home>/device.json`` (this laptop's device id), ``events/<id>/`` and ``sessions/<id>/`` (one
unit each, see ``roundtable.store.unit``).  The LocalStore keeps the units open for writing in
this process, so one session is never opened twice for writing; readers get their own
lock-free unit.

Encrypted sessions (``roundtable.store.crypto``): the LocalStore keeps the key of each session
unlocked in this process (``unlock``), and asks ``ask_passphrase`` (the command line's prompt or
``ROUNDTABLE_PASSPHRASE``) for one it needs; without either, opening one is refused with
``EncryptedSessionError`` and the sessions list shows it as locked.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from roundtable.model import REGIONS, AgendaItem, Event, Hlc, HlcClock, Op, Session, new_id
from roundtable.osfiles import (
    atomic_write_bytes,
    flush_dir,
    not_private,
    private_dirs,
    tighten_tree,
)
from roundtable.store import crypto
from roundtable.store.crypto import SessionCipher
from roundtable.store.errors import SessionLockedError, StoreError, UnknownSessionError
from roundtable.store.outbox import Outbox, Puller
from roundtable.store.session import SessionStore, _creation
from roundtable.store.summary import (
    SessionSummary,
    read_locked_summary,
    read_pending,
    read_summary,
    read_summary_event,
)
from roundtable.store.unit import CHECKPOINT_EVERY, Unit
from roundtable.text import quote

SYNC_HOLD_WAIT = 5.0
"""Seconds ``open_session`` waits for a unit this process's sync holds (a push of one unit's
outbox, or a pull into it, takes well under that)."""

# ---------------------------------------------------------------------------------------------
# The home directory
# ---------------------------------------------------------------------------------------------


class LocalStore:
    """Everything on this laptop: events and sessions under one home directory."""

    def __init__(
        self,
        home: Path | str,
        *,
        clock: HlcClock | None = None,
        wall: Callable[[], float] | None = None,
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> None:
        self.home = Path(home)
        self.wall = wall or time.time
        self.checkpoint_every = checkpoint_every
        self.device = self._device_id()
        self.clock = clock or HlcClock(self.device, self.wall)
        self._open: dict[Path, Unit] = {}
        self._unit_events: dict[Path, str] = {}  # session unit -> its event (never changes)
        self._holds: Counter[Path] = Counter()
        """Units sync's outboxes and puller hold open right now (maybe in a worker thread), by
        how many holders (``hold``): an ``open_session`` of one waits for it instead of
        refusing."""
        self._holds_lock = threading.Lock()
        self.notices: list[str] = []
        """One-line messages for the user from the units opened so far (e.g. a unit brought
        forward from an older store schema, with where its backup is)."""
        self.skipped: list[str] = []
        """One line per session ``sessions()`` could not read (newer schema, damaged), with why."""
        self._ciphers: dict[Path, SessionCipher] = {}
        self._refused: set[Path] = set()
        self._locked_noted: set[Path] = set()  # locked sessions sync said it skipped
        self.ask_passphrase: Callable[[str], str | None] | None = None
        """Asked for the passphrase of an encrypted session this process needs and has not
        unlocked (its argument names the session); None = no passphrase (it stays locked)."""
        self._make_private()

    # -- encrypted sessions ----------------------------------------------------------------

    def is_encrypted(self, session_id: str) -> bool:
        return crypto.is_encrypted(self._session_path(session_id))

    def is_locked(self, session_id: str) -> bool:
        """Encrypted, and its key not known in this process."""
        path = self._session_path(session_id)
        return crypto.is_encrypted(path) and path not in self._ciphers

    def unlock(self, session_id: str, passphrase: str) -> None:
        """Derive the session's key and check it (``WrongPassphraseError``: nothing changed)."""
        path = self._session_path(session_id)
        if not path.is_dir():
            raise UnknownSessionError(f"no session {quote(session_id)} in {self.home}")
        if not crypto.is_encrypted(path):
            return
        self._ciphers[path] = crypto.unlock(path, passphrase, f"session {session_id}")
        self._refused.discard(path)

    def cipher_for(self, path: Path) -> SessionCipher | None:
        """The key of an encrypted unit: known, else asked for (``ask_passphrase``); None for
        a plain unit, or a locked one nobody gave a passphrase for (the unit refuses it)."""
        if not crypto.is_encrypted(path):
            return None
        cipher = self._ciphers.get(path)
        if cipher is not None or self.ask_passphrase is None:
            return cipher
        what = f"session {path.name}"
        if path in self._refused:  # asked once already: do not derive a wrong key again
            raise crypto.WrongPassphraseError(f"{what}: wrong passphrase; nothing was changed")
        passphrase = self.ask_passphrase(what)
        if passphrase is None:
            return None
        try:
            cipher = crypto.unlock(path, passphrase, what)
        except crypto.WrongPassphraseError:
            self._refused.add(path)
            raise
        self._ciphers[path] = cipher
        return cipher

    # -- set-up ----------------------------------------------------------------------------

    def _make_private(self) -> None:
        """A home made before its files were private (issue 19: 0755 directories, 0644
        journals, so any account on the laptop could read a session's TLP:RED text) is
        tightened on its first open, and the store says so once (``notices``).  A home made
        since is private from the start, and the check costs two ``stat`` calls."""
        loose = not_private(self.home, self.home / "device.json")
        changed = tighten_tree(self.home) if loose else 0
        if changed:
            self.notices.append(
                f"{self.home}: made readable by this account only (directories 0700, files "
                f"0600; {changed} changed): other users of this computer could read it"
            )

    def _device_id(self) -> str:
        path = self.home / "device.json"
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                device = data["device"]
                if isinstance(device, str) and device:
                    return device
            except (OSError, ValueError, KeyError, TypeError):
                pass
            raise StoreError(f"{path}: not a device file; move it aside to get a new device id")
        device = f"lap-{secrets.token_hex(4)}"
        try:
            private_dirs(self.home)
            atomic_write_bytes(path, json.dumps({"device": device}).encode())
        except OSError as exc:
            raise StoreError(f"{self.home}: cannot create the store here: {exc.strerror}") from None
        return device

    # -- who the other laptops are (issue 12) ------------------------------------------------

    LABELS_FILE = "labels.json"

    def device_labels(self) -> dict[str, str]:
        """device -> its people's label (``roundtable connect --label``, else its token's
        label), as the secretariat last told this laptop; empty before any sync."""
        try:
            data = json.loads((self.home / self.LABELS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}

    def save_device_labels(self, labels: dict[str, str]) -> None:
        """Keep the labels a pull brought (written only when they changed)."""
        clean = {k: v[:200] for k, v in labels.items() if isinstance(k, str) and isinstance(v, str)}
        if clean == self.device_labels():
            return
        atomic_write_bytes(
            self.home / self.LABELS_FILE, json.dumps(clean, ensure_ascii=False).encode()
        )

    def name(self, device: str) -> str:
        """One device as people know it: its label, "this laptop" for our own."""
        if device == self.device:
            return "this laptop"
        return self.device_labels().get(device, device)

    def who(self, devices) -> str:
        """The people behind these devices, for a conflict: labels where known, never this
        laptop itself ("another laptop" when nobody else is left)."""
        labels = self.device_labels()
        names = sorted({labels.get(d, d) for d in devices if d != self.device})
        return ", ".join(names) if names else "another laptop"

    def conflict_names(self, doc) -> str:
        """Who else wrote the versions of a record in conflict, by label and never this
        laptop, worded to follow "also edited by": ``Room B`` for two edits, ``Room B
        (deleted on this laptop)`` / ``Room A, who deleted it`` for a delete conflict."""
        from roundtable.protocol import conflict_devices, delete_conflict

        if doc is None:
            return ""
        gone = delete_conflict(doc)
        if gone is None:
            return self.who(conflict_devices(doc, self.device))
        if set(gone.edited_by) - {self.device}:
            if set(gone.deleted_by) - {self.device}:
                return f"{self.who(gone.edited_by)} (deleted by {self.who(gone.deleted_by)})"
            return f"{self.who(gone.edited_by)} (deleted on this laptop)"
        return f"{self.who(gone.deleted_by)}, who deleted it"

    def _unit(
        self,
        path: Path,
        *,
        read_only: bool = False,
        create: bool = False,
        lazy_history: bool = False,
    ) -> Unit:
        unit = self._open.get(path)
        if unit is not None and not unit.closed:
            return unit
        unit = Unit(
            path,
            self.clock,
            read_only=read_only,
            checkpoint_every=self.checkpoint_every,
            create=create,
            notices=self.notices,
            lazy_history=lazy_history,
            cipher=self.cipher_for(path),
        )
        if not read_only:
            self._open[path] = unit
        return unit

    def forget(self, unit: Unit) -> None:
        """``unit`` is no longer this process's writer of its path (it is being closed)."""
        if self._open.get(unit.path) is unit:
            del self._open[unit.path]

    # -- holding units: the public API sync (and any worker thread) uses --------------------

    def held(self, path: Path) -> Unit | None:
        """The unit of ``path`` this process holds open for writing (the app's session), or
        None.  A held unit belongs to its owner's thread (the app's event loop): call it there
        only (``roundtable.store.outbox``)."""
        unit = self._open.get(path)
        return unit if unit is not None and not unit.closed else None

    def hold(self, path: Path) -> UnitHold:
        """Say that this process holds ``path``'s unit for a moment, maybe from a worker thread
        (a push of its outbox, a pull into it): ``open_session`` of it waits up to
        ``SYNC_HOLD_WAIT`` instead of refusing.  A context manager; or ``release`` it."""
        with self._holds_lock:
            self._holds[path] += 1
        return UnitHold(self, path)

    def is_held(self, path: Path) -> bool:
        with self._holds_lock:
            return self._holds[path] > 0

    def _let_go(self, path: Path) -> None:
        with self._holds_lock:
            self._holds[path] -= 1
            if self._holds[path] <= 0:
                del self._holds[path]

    def _event_path(self, event_id: str) -> Path:
        return self.home / "events" / event_id

    def _session_path(self, session_id: str) -> Path:
        return self.home / "sessions" / session_id

    # -- events ----------------------------------------------------------------------------

    def create_event(
        self, name: str, venue: str = "", starts: str = "", ends: str = "", tz: str = ""
    ) -> Event:
        name = name.strip()
        if not name:
            raise StoreError("an event needs a name")
        if self.find_event(name) is not None:
            raise StoreError(f"an event named {name!r} already exists")
        event = Event(id=new_id(), name=name, venue=venue, starts=starts, ends=ends, tz=tz)
        unit = self._unit(self._event_path(event.id), create=True)
        try:
            unit.write("create event", [_creation(event)], event_id=event.id, session_id="")
        finally:
            self.forget(unit)
            unit.close()
        return event

    def event_in_zone(self, name: str, tz: str, *, chosen: bool, where: str = "--tz") -> Event:
        """The event a new session goes in (issue 24), created in the venue's zone ``tz`` when
        it is new.  An event keeps its zone: one older than zones takes ``tz``; a zone the user
        ``chosen`` (``--tz``, a plan's ``tz``, the dialog) that differs from the event's is
        refused in one line naming ``where``, and nothing is created."""
        from roundtable.zones import check_zone

        check_zone(tz, where)
        event = self.find_event(name)
        if event is None:
            return self.create_event(name, tz=tz)
        held = self.held_zone(event)
        if not held:
            self.set_event_zone(event.id, tz)
            return self.event(event.id)
        if chosen and held != tz:
            raise StoreError(
                f"{where}: event {event.name!r} is held in {held}, not {tz}; leave the zone "
                f"as it is or name another event"
            )
        return event

    def held_zone(self, event: Event) -> str:
        """The zone an existing event is held in, as every face shows and checks it: its own;
        UTC for the "" of an event this laptop may not set (the secretariat's, created without
        ``--tz``); "" for an event of this laptop's own older than zones, which takes the zone
        of its next session."""
        from roundtable.zones import UTC_NAME

        if event.tz:
            return event.tz
        return "" if self._zone_is_ours_to_set(event.id) else UTC_NAME

    def _zone_is_ours_to_set(self, event_id: str) -> bool:
        """May this laptop write the zone of an event that has none?  Only of an event it
        created itself before zones existed (no ``tz`` ever written).  An event from the
        secretariat carries its zone, "" meaning UTC (``roundtable events create`` without
        ``--tz``), and its record is the secretariat's: a laptop of a region's token writing it
        had the change refused at every sync (found in use: ``roundtable new --event`` on a
        connected laptop)."""
        unit = self._event_unit(event_id)
        doc = (unit.doc("event", event_id) if unit is not None else None) or {}
        heads = doc.get("heads", {})
        if "tz" in heads or not heads.get("name"):
            return False
        return all(Hlc.parse(hlc).device == self.device for _value, hlc in heads["name"])

    def set_event_zone(self, event_id: str, tz: str) -> None:
        """Write the venue's zone of an event (an op on the event record: it syncs)."""
        path = self._event_path(event_id)
        held = self._open.get(path)
        unit = self._unit(path)
        try:
            unit.write("set the venue's time zone", [("event", event_id, {"tz": tz})],
                       event_id=event_id, session_id="")  # fmt: skip
        finally:
            if held is None or held.closed:  # opened here: closed here
                self.forget(unit)
                unit.close()

    def _event_unit(self, event_id: str) -> Unit | None:
        """The event's unit: the open one, else read-only from its files; None when the
        event is not on this laptop."""
        path = self._event_path(event_id)
        unit = self._open.get(path)
        if unit is None and path.is_dir():
            unit = Unit(path, self.clock, read_only=True)
        return unit

    def event(self, event_id: str) -> Event:
        unit = self._event_unit(event_id)
        if unit is None:
            return Event(id=event_id, name="(event not on this laptop yet)")
        found = unit.get("event", event_id)
        return found if isinstance(found, Event) else Event(id=event_id)

    def events(self) -> list[Event]:
        base = self.home / "events"
        if not base.is_dir():
            return []
        out = [self.event(p.name) for p in sorted(base.iterdir()) if p.is_dir()]
        return sorted(out, key=lambda e: (e.name, e.id))

    def find_event(self, name_or_id: str) -> Event | None:
        for event in self.events():
            if event.id == name_or_id or event.name.casefold() == name_or_id.casefold():
                return event
        return None

    # -- sessions --------------------------------------------------------------------------

    def create_session(
        self,
        event_id: str,
        region: str,
        title: str,
        agenda: Sequence[Mapping[str, Any]],
        room: str = "",
        date: str = "",
        facilitator: str = "",
        rapporteur: str = "",
        plan: str = "",
        passphrase: str | None = None,
        quorum: int = 0,
        speaking_seconds: int = 0,
        warning_percent: int = 0,
        warning_seconds: int = 0,
    ) -> Session:
        """A new session; with a ``passphrase``, encrypted at rest (``roundtable.store.crypto``)
        from its first line, and unlocked in this process."""
        if passphrase is not None:
            crypto.check_passphrase_text(passphrase)
        if region not in REGIONS:
            raise StoreError(f"unknown region {region!r} (one of {', '.join(REGIONS)})")
        if not self._event_path(event_id).is_dir():
            raise StoreError(f"no event {event_id} on this laptop")
        # the session's number in its event and region, for its document symbol (issue 23)
        number = 1 + sum(s.region == region for s in self.sessions(event_id))
        session = Session(
            id=new_id(),
            event_id=event_id,
            region=region,
            title=title,
            room=room,
            date=date,
            facilitator=facilitator,
            rapporteur=rapporteur,
            plan=plan,
            quorum=quorum,
            speaking_seconds=speaking_seconds,
            warning_percent=warning_percent,
            warning_seconds=warning_seconds,
            number=number,
        )
        changes = [_creation(session)]
        for n, item in enumerate(agenda):
            changes.append(
                _creation(
                    AgendaItem(
                        id=new_id(),
                        session_id=session.id,
                        position=n,
                        title=str(item["title"]),
                        minutes=int(item.get("minutes", 10)),
                        prompts=list(item.get("prompts", [])),
                        item_kind=str(item.get("item_kind", "discussion")),
                    )
                )
            )
        path = self._session_path(session.id)
        if passphrase is not None:
            self._create_encrypted(path, passphrase)
        unit = self._unit(path, create=True)
        try:
            unit.write("create session", changes, event_id=event_id, session_id=session.id)
        finally:
            self.forget(unit)
            unit.close()
        return session

    def _create_encrypted(self, path: Path, passphrase: str) -> None:
        """The unit's directory and key file, durable before its first journal line."""
        base_existed = path.parent.is_dir()
        try:
            if path.exists():
                raise FileExistsError(errno.EEXIST, "exists", str(path))
            private_dirs(path)
            flush_dir(path.parent)
            if not base_existed:
                flush_dir(path.parent.parent)
            self._ciphers[path] = crypto.create(path, passphrase)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the session: {exc.strerror}") from None

    def session_ids(self) -> list[str]:
        base = self.home / "sessions"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir())

    def resolve_session(self, text: str) -> str:
        text = text.strip().lower()
        ids = self.session_ids()
        if text in ids:
            return text
        if len(text) >= 4:
            matches = [i for i in ids if i.startswith(text)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise UnknownSessionError(
                    f"session prefix {text!r} matches {len(matches)} sessions; give more of the id"
                )
        raise UnknownSessionError(
            f"no session {quote(text)} in {self.home}; see `roundtable sessions`"
        )

    def open_session(
        self, session_id: str, read_only: bool = False, *, lazy_history: bool = False
    ) -> SessionStore:
        """The session's records.  ``lazy_history`` (a writer; for the app): open with the view
        and the journal past it only, and read the history (outbox, undo stack, known ops) later
        with ``SessionStore.load_history_step`` or at the first write.  Readers are always lazy."""
        path = self._session_path(session_id)
        if not path.is_dir():
            raise UnknownSessionError(f"no session {quote(session_id)} in {self.home}")
        if read_only:
            # its own lock-free view, so closing it never closes the writer's unit
            unit = Unit(path, self.clock, read_only=True, cipher=self.cipher_for(path))
            return SessionStore(self, unit, session_id)
        held = self._open.get(path)
        if held is not None and not held.closed:
            raise SessionLockedError(
                f"session {session_id} is already open in this roundtable; close it first"
            )
        deadline = time.monotonic() + SYNC_HOLD_WAIT
        while True:
            was_held = self.is_held(path)
            try:
                unit = self._unit(path, lazy_history=lazy_history)
                break
            except SessionLockedError:
                # this process's sync holds the unit for a moment (``roundtable.store.outbox``);
                # held at the attempt and let go since, the lock is free now: try again
                if not (was_held or self.is_held(path)) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        return SessionStore(self, unit, session_id)

    def sessions(
        self, event_id: str | None = None, *, include_archived: bool = False
    ) -> list[SessionSummary]:
        """The readable sessions; those that cannot be read are named in ``skipped``.  An
        archived session is left out (lists, briefs, reports) unless ``include_archived``: it
        is kept on disk, and ``SessionStore.unarchive`` brings it back."""
        found = self._sessions(event_id)
        if include_archived:
            return found
        return [s for s in found if s.status != "archived"]

    def _sessions(self, event_id: str | None) -> list[SessionSummary]:
        self.skipped.clear()
        out = []
        names: dict[str, str] = {}
        for sid in self.session_ids():
            path = self._session_path(sid)
            unit = self._open.get(path)
            cipher = self._ciphers.get(path)
            if unit is None and cipher is None and crypto.is_encrypted(path):
                locked = read_locked_summary(path, sid)  # listed, never asked for here
                if event_id and locked.event_id != event_id:
                    continue
                if locked.event_id and locked.event_id not in names:
                    names[locked.event_id] = self.event(locked.event_id).name
                out.append(dataclasses.replace(locked, event_name=names.get(locked.event_id, "")))
                continue
            cached = read_summary(path, sid, cipher) if unit is None else None
            if cached is not None:
                if event_id and cached.event_id != event_id:
                    continue
                if cached.event_id not in names:
                    names[cached.event_id] = self.event(cached.event_id).name
                out.append(dataclasses.replace(cached, event_name=names[cached.event_id]))
                continue
            try:
                if unit is None:
                    unit = Unit(path, self.clock, read_only=True, cipher=cipher)
            except StoreError as exc:
                self.skipped.append(f"session {sid} not listed: {exc}")
                continue  # and reported again when the session itself is opened
            s = unit.get("session", sid)
            if not isinstance(s, Session) or (event_id and s.event_id != event_id):
                continue
            if s.event_id not in names:
                names[s.event_id] = self.event(s.event_id).name
            entries = sum(1 for _ in unit.iter_records("entry"))
            out.append(
                SessionSummary(
                    s.id,
                    s.event_id,
                    names[s.event_id],
                    s.region,
                    s.title,
                    s.status,
                    s.date,
                    entries,
                    unit.pending_count(),
                    encrypted=unit.cipher is not None,
                )
            )
        return out

    # -- sync ------------------------------------------------------------------------------

    def _unit_dirs(self) -> list[tuple[bool, Path]]:
        """(is an event unit, path) of every unit directory, events first."""
        out: list[tuple[bool, Path]] = []
        for base, is_event in (("events", True), ("sessions", False)):
            directory = self.home / base
            if directory.is_dir():
                out.extend((is_event, p) for p in sorted(directory.iterdir()) if p.is_dir())
        return out

    def _session_event(self, path: Path) -> str | None:
        """The event a session unit belongs to: remembered (it never changes), else from the
        session's summary, else read from its view; None when it cannot be read."""
        event_id = self._unit_events.get(path)
        if event_id is not None:
            return event_id
        event_id = read_summary_event(path)
        held = self._open.get(path)
        if event_id is None and held is not None and not held.closed:
            # the app's open unit: only read (this may run in sync's worker thread)
            doc = held.docs.get(("session", path.name))
            value = doc["fields"].get("event_id") if doc else None
            event_id = value if isinstance(value, str) and value else None
        elif event_id is None:
            try:
                s = Unit(path, self.clock, read_only=True, cipher=self._ciphers.get(path)).get(
                    "session", path.name
                )
            except StoreError:
                return None
            if not isinstance(s, Session):
                return None
            event_id = s.event_id
        if event_id is None:
            return None
        self._unit_events[path] = event_id
        return event_id

    def units(self) -> list[tuple[str, str, Path]]:
        """(event_id, session_id or "", path) of every unit, events first."""
        out: list[tuple[str, str, Path]] = []
        for is_event, p in self._unit_dirs():
            if is_event:
                out.append((p.name, "", p))
            else:
                event_id = self._session_event(p)
                if event_id is not None:
                    out.append((event_id, p.name, p))
        return out

    def _unit_pending(self, path: Path, is_event: bool) -> int | None:
        """A unit's pending ops without opening it for writing (None: it cannot be read)."""
        unit = self._open.get(path)
        if unit is not None and not unit.closed:
            return unit.pending_count()
        if not is_event:
            pending = read_pending(path, self._ciphers.get(path))
            if pending is not None:
                return pending
        try:
            cipher = self.cipher_for(path)
            return Unit(path, self.clock, read_only=True, cipher=cipher).pending_count()
        except StoreError:
            return None

    def outboxes(self, event_id: str) -> list[Outbox]:
        """The outboxes of the event's units that have ops to push (see
        ``roundtable.store.outbox``); no unit is opened for this."""
        out: list[Outbox] = []
        for ev, sid, path in self.units():
            if ev != event_id:
                continue
            if sid and not self._can_sync(path):
                continue
            pending = self._unit_pending(path, is_event=not sid)
            if pending:
                out.append(Outbox(self, path, ev, sid, pending))
        return out

    def _can_sync(self, path: Path) -> bool:
        """False for an encrypted session whose key this process does not have and cannot get
        (``ask_passphrase``): its changes wait, and a notice says so once per session."""
        if not crypto.is_encrypted(path):
            return True
        try:
            if self.cipher_for(path) is not None:
                return True
            reason = f"session {path.name} is encrypted and locked"
        except StoreError as exc:
            reason = str(exc).removesuffix("; nothing was changed")
        if read_pending(path) != 0 and path not in self._locked_noted:
            self._locked_noted.add(path)
            self.notices.append(
                f"{reason}; its changes are not synced until it is opened with its passphrase"
            )
        return False

    def held_back(self, event_id: str) -> list[str]:
        """The sessions of the event whose changes wait because they are encrypted and this
        process has not their key (see ``_can_sync``): what a sync could not send."""
        held = []
        for ev, sid, path in self.units():
            if ev != event_id or not sid or not crypto.is_encrypted(path):
                continue
            if self._ciphers.get(path) is None and read_pending(path) != 0:
                held.append(sid)
        return held

    def puller(self) -> Puller:
        """Applies pulled ops to their units; close it when the pull is over."""
        return Puller(self)

    def with_unit(self, path: Path, create: bool = False) -> tuple[Unit, bool]:
        """A writable unit (tests and tools): the one already open in this process, or a
        short-lived one (the caller must call ``release``)."""
        unit = self._open.get(path)
        if unit is not None and not unit.closed:
            return unit, False
        return self._unit(path, create=create), True

    def release(self, unit: Unit, opened: bool) -> None:
        if opened:
            self.forget(unit)
            unit.close()

    def unit_path_for(self, op: Op) -> Path:
        return self._session_path(op.session_id) if op.session_id else self._event_path(op.event_id)

    def apply_remote(self, ops: Iterable[Op]) -> int:
        """Apply pulled ops to their units (the open ones included); idempotent by op id."""
        with self.puller() as puller:
            return puller.apply(ops)

    def pending_count(self) -> int:
        """Ops not yet acknowledged by the secretariat, on the whole laptop."""
        total = 0
        for is_event, path in self._unit_dirs():
            total += self._unit_pending(path, is_event) or 0
        return total

    def close(self) -> None:
        for unit in list(self._open.values()):
            unit.close()
        self._open.clear()


class UnitHold:
    """One hold of a unit (``LocalStore.hold``): released once, by ``release`` or on leaving
    its ``with`` block."""

    def __init__(self, local: LocalStore, path: Path) -> None:
        self.path = path
        self._local: LocalStore | None = local

    def release(self) -> None:
        local, self._local = self._local, None
        if local is not None:
            local._let_go(self.path)

    def __enter__(self) -> UnitHold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
