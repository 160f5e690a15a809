"""What sync sees of the store: per-unit outboxes to push, and a puller to apply pulled ops.

Sync never touches a unit.  ``LocalStore.outboxes(event_id)`` lists the units of an event that
have something to push, counting their pending ops *without opening them* where it can (the
open unit's own count; else the summary a session's last checkpoint wrote plus the journal past
it; an event unit, a few records, is read).  An :class:`Outbox` opens its unit only when its ops
are asked for, and closes it (with a checkpoint) in :meth:`Outbox.close`.

Threads: the unit the app holds open (``Outbox.shared`` / ``Puller.apply(..., shared=True)``)
belongs to the app's event loop and is only ever called there.  Every other unit is opened by
the outbox or the puller itself, under the unit's file lock, and touches nothing the app holds
but the HLC clock (which has its own lock) and the notices list: sync runs that file work in a
worker thread (``asyncio.to_thread``) so a round never holds the app's frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from roundtable.model import Op
from roundtable.store.unit import JournalHandle, NeedsFullOpen, Unit

if TYPE_CHECKING:
    from roundtable.store.home import LocalStore, UnitHold


class Outbox:
    """One unit's outbox: ``pending`` ops to push, ``mark_acked`` once the server answered."""

    def __init__(
        self, store: LocalStore, path: Path, event_id: str, session_id: str, pending: int
    ) -> None:
        self.store = store
        self.path = path
        self.event_id = event_id
        self.session_id = session_id  # "" for the event's own unit
        self.count = pending
        """Pending ops when the outbox was listed (without opening the unit)."""
        self._unit: Unit | JournalHandle | None = store.held(path)
        self.shared = self._unit is not None
        """The unit is the one this process holds open (the app's session): call this outbox
        on the owner's thread only."""
        self._hold: UnitHold | None = None

    def __repr__(self) -> str:
        return f"Outbox({self.session_id or self.event_id}, {self.count} pending)"

    def _open(self) -> Unit | JournalHandle:
        if self._unit is None:
            hold = self.store.hold(self.path)
            try:
                self._unit = _journal_or_unit(self.store, self.path)
            except BaseException:
                hold.release()
                raise
            self._hold = hold
        return self._unit

    def pending(
        self, limit: int | None = None, skip: frozenset[str] | set[str] = frozenset()
    ) -> list[Op]:
        """The ops not yet acknowledged (nor in ``skip``), oldest first.  Opens the unit for
        writing if this process does not hold it (``SessionLockedError`` when another does)."""
        return self._open().outbox(limit, skip)

    def mark_acked(self, op_ids: Iterable[str]) -> int:
        """Journal the server's acknowledgement of these ops; returns how many were new."""
        return self._open().mark_acked(op_ids)

    def close(self) -> None:
        """Let go of a unit this outbox opened (checkpointed); the shared one stays open."""
        hold, self._hold = self._hold, None
        try:
            if hold is not None and self._unit is not None:
                self._unit.close()
        finally:
            if hold is not None:
                hold.release()
            self._unit = None

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_unit(store: LocalStore, path: Path, create: bool = False) -> Unit:
    return Unit(
        path,
        store.clock,
        checkpoint_every=store.checkpoint_every,
        create=create,
        notices=store.notices,
        cipher=store.cipher_for(path),
    )


def _journal_or_unit(store: LocalStore, path: Path, create: bool = False) -> Unit | JournalHandle:
    """The unit's journal alone when it can serve (see ``JournalHandle``), else the unit."""
    try:
        return JournalHandle(path, store.cipher_for(path))
    except NeedsFullOpen:
        return _open_unit(store, path, create=create)


class Puller:
    """Applies pulled ops to their units, keeping the units it opened until ``close`` (a pull
    of many pages opens each unit once)."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self._held: dict[Path, Unit | JournalHandle] = {}
        self._holds: dict[Path, UnitHold] = {}

    def apply(self, ops: Iterable[Op], *, shared: bool | None = None) -> int:
        """Apply ops (idempotent by op id) to their units, creating units for sessions new to
        this laptop.  ``shared=True``: only ops of units this process holds open; ``False``:
        only the others (a worker thread may do these); None: all."""
        by_unit: dict[Path, list[Op]] = {}
        for op in ops:
            by_unit.setdefault(self.store.unit_path_for(op), []).append(op)
        applied = 0
        for path, unit_ops in by_unit.items():
            held = self.store.held(path)
            if shared is not None and shared != (held is not None):
                continue
            if held is not None:
                applied += held.apply_remote(unit_ops)
                continue
            unit = self._held.get(path)
            if unit is None:
                # most pulled ops are known here (our own, pushed earlier): the journal alone
                # tells, and the view is read only for ops that are new
                hold = self.store.hold(path)
                try:
                    unit = self._held[path] = _journal_or_unit(self.store, path, create=True)
                except BaseException:
                    hold.release()
                    raise
                self._holds[path] = hold
            if isinstance(unit, JournalHandle):
                if all(o.op_id in unit.history.known_ops for o in unit_ops):
                    continue
                unit.close()
                del self._held[path]
                try:
                    unit = self._held[path] = _open_unit(self.store, path, create=True)
                except BaseException:
                    self._holds.pop(path).release()
                    raise
            applied += unit.apply_remote(unit_ops)
        return applied

    def close(self) -> None:
        held, self._held = self._held, {}
        holds, self._holds = self._holds, {}
        try:
            for unit in held.values():
                unit.close()
        finally:
            for hold in holds.values():
                hold.release()

    def __enter__(self) -> Puller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
