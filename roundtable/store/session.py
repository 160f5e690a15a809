"""SessionStore: one session's records, read and written through its unit.

Every write is durable when the method returns (one journal line, flushed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from roundtable.model import (
    ACTION_STATUSES,
    ENTRY_KINDS,
    PRIORITIES,
    AgendaItem,
    Attendance,
    Entry,
    Event,
    Op,
    Record,
    Session,
    SessionSnapshot,
    Speech,
    new_id,
    stable_id,
)
from roundtable.store.errors import StoreError, UnknownSessionError
from roundtable.store.history import default_of
from roundtable.store.unit import Unit, _utc_now_iso

if TYPE_CHECKING:
    from roundtable.store.home import LocalStore


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
        return self.unit.write(
            label, changes, event_id=self.event_id, session_id=self.session_id, undo_of=undo_of
        )

    def _now(self) -> str:
        return _utc_now_iso(self.local.wall())

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
    ) -> Entry:
        if entry_kind not in ENTRY_KINDS:
            raise StoreError(f"unknown entry kind {entry_kind!r} (one of {', '.join(ENTRY_KINDS)})")
        if not text.strip():
            raise StoreError("an entry needs some text")
        if agenda_item is None:
            agenda_item = self.session.current_item
        if entry_kind == "action" and not status:
            status = "open"
        if priority not in ("", *PRIORITIES):
            raise StoreError(f"unknown priority {priority!r} (one of {', '.join(PRIORITIES)})")
        if status not in ("", *ACTION_STATUSES):
            raise StoreError(f"unknown status {status!r} (one of {', '.join(ACTION_STATUSES)})")
        entry = Entry(
            id=new_id(),
            session_id=self.session_id,
            entry_kind=entry_kind,
            text=text,
            delegations=list(delegations),
            crime_areas=list(crime_areas),
            priority=priority,
            owner=owner,
            due=due,
            status=status,
            agenda_item=agenda_item,
            parked=parked,
            created_at=self._now(),
        )
        self._write(f"add {'parked note' if parked else entry_kind}", [_creation(entry)])
        return self.unit.get("entry", entry.id)  # type: ignore[return-value]

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
        if not changed:
            return []
        label = f"edit {kind.replace('_', ' ')} {', '.join(sorted(changed))}"
        return self._write(label, [(kind, record_id, changed)])

    def delete(self, kind: str, record_id: str) -> list[Op]:
        current = self.unit.get(kind, record_id)
        if current is None or current.deleted:
            raise StoreError(f"no {kind} {record_id} in session {self.session_id}")
        what = getattr(current, "entry_kind", kind.replace("_", " "))
        return self._write(f"delete {what}", [(kind, record_id, {"deleted": True})])

    def undo(self) -> str | None:
        return self.unit.undo(event_id=self.event_id, session_id=self.session_id)

    def set_attendance(
        self, country: str, status: str | None = None, delegates: Sequence[str] | None = None
    ) -> Attendance:
        from roundtable.model import ATTENDANCE_STATUSES

        if status is not None and status not in ATTENDANCE_STATUSES:
            raise StoreError(f"unknown attendance status {status!r}")
        record_id = stable_id(self.session_id, country)
        current = cast("Attendance | None", self.unit.get("attendance", record_id))
        fields: dict[str, Any] = {}
        if current is None or current.deleted:
            fields = {"session_id": self.session_id, "country": country, "deleted": False}
            if current is None:
                fields.pop("deleted")
        if status is not None and (current is None or current.status != status):
            fields["status"] = status
        if delegates is not None and (current is None or current.delegates != list(delegates)):
            fields["delegates"] = list(delegates)
        if fields:
            self._write(f"attendance {country}", [("attendance", record_id, fields)])
        return self.unit.get("attendance", record_id)  # type: ignore[return-value]

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

    # -- reads -----------------------------------------------------------------------------

    def get(self, kind: str, record_id: str) -> Record | None:
        return self.unit.get(kind, record_id)

    def doc(self, kind: str, record_id: str) -> dict[str, Any] | None:
        return self.unit.docs.get((kind, record_id))

    def records(self, kind: str, include_deleted: bool = False) -> list[Any]:
        items: list[Any] = list(self.unit.iter_records(kind, include_deleted))
        if kind == "agenda_item":
            items.sort(key=lambda r: (r.position, r.id))
        elif kind == "entry":
            items.sort(key=lambda r: (r.created_at, r.id))
        elif kind == "speech":
            items.sort(key=lambda r: (r.started_at, r.id))
        elif kind == "attendance":
            items.sort(key=lambda r: r.country)
        else:
            items.sort(key=lambda r: r.id)
        return items

    def entry_counts(self) -> dict[str, int]:
        """Entries (not deleted) per agenda item id, counted on the view: building 5,000
        records only to count them took ~45 ms of the run screen's start."""
        counts: dict[str, int] = {}
        no_item = default_of("entry", "agenda_item")
        for _rid, fields in self.unit.fields_of("entry"):
            if not fields.get("deleted", False):
                item = fields.get("agenda_item", no_item)
                counts[item] = counts.get(item, 0) + 1
        return counts

    def latest_entries(
        self, *, agenda_item: str | None = None, entry_kind: str | None = None, limit: int
    ) -> tuple[int, list[Entry]]:
        """How many entries (not deleted) belong to ``agenda_item`` (any when None) and are of
        ``entry_kind`` (any when None), and the latest ``limit`` of them in the order of
        ``records("entry")``; only those are built as records."""
        no_item = default_of("entry", "agenda_item")
        default_kind = default_of("entry", "entry_kind")
        keys: list[tuple[str, str]] = []
        for rid, fields in self.unit.fields_of("entry"):
            if fields.get("deleted", False):
                continue
            if agenda_item is not None and fields.get("agenda_item", no_item) != agenda_item:
                continue
            if entry_kind is not None and fields.get("entry_kind", default_kind) != entry_kind:
                continue
            keys.append((fields.get("created_at", ""), rid))
        keys.sort()
        latest = keys[-limit:] if limit > 0 else []
        return len(keys), [cast(Entry, self.unit.get("entry", rid)) for _created, rid in latest]

    def snapshot(self, countries: Mapping[str, str]) -> SessionSnapshot:
        attendance = self.records("attendance")
        entries = self.records("entry")
        speeches = self.records("speech")
        codes: set[str] = {a.country for a in attendance} | {s.country for s in speeches}
        for e in entries:
            codes.update(e.delegations)
            if e.owner in countries:
                codes.add(e.owner)
        return SessionSnapshot(
            event=self.event,
            session=self.session,
            agenda=self.records("agenda_item"),
            attendance=attendance,
            entries=entries,
            speeches=speeches,
            countries={c: countries[c] for c in sorted(codes) if c in countries},
        )

    # -- sync and life cycle -----------------------------------------------------------------

    def outbox(self, limit: int | None = None) -> list[Op]:
        return self.unit.outbox(limit)

    def pending_count(self) -> int:
        return self.unit.pending_count()

    def load_history_step(self, max_lines: int = 500) -> bool:
        """Read the next slice of the history; True once it is all loaded (``Unit``)."""
        return self.unit.load_history_step(max_lines)

    def mark_acked(self, op_ids: Iterable[str]) -> int:
        return self.unit.mark_acked(op_ids)

    def apply_remote(self, ops: Iterable[Op]) -> int:
        return self.unit.apply_remote(ops)

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
                self.local._forget(self.unit)
            self.unit.close()


def _creation(record: Record) -> tuple[str, str, dict[str, Any]]:
    """The field writes that create a record: every field that differs from its default."""
    defaults = type(record)(id=record.id).to_fields()
    fields = {k: v for k, v in record.to_fields().items() if v != defaults[k]}
    if not fields:
        fields = {"deleted": False}
    return (record.KIND, record.id, fields)


def _conflicted(unit: Unit, kind: str, record_id: str) -> set[str]:
    doc = unit.docs.get((kind, record_id))
    if doc is None:
        return set()
    return {f for f, heads in doc["heads"].items() if len(heads) > 1}
