"""A unit's history, read from its journal: the ops it knows, its outbox and its undo stack.

* **Known ops**: every op id journaled here (local or pulled), so a pulled op is applied once.
* **Outbox**: the local ops (``change`` lines) not yet acknowledged (``ack`` lines); the
  pending count is kept as lines are noted, never recounted.
* **Undo stack**: each ``change`` line's label and ``before`` values; an undo is a new change
  that writes them back (``undo_plan``).

``note`` takes one journal line at a time, in journal order, exactly once (the unit sees to
that, including when the history is read in slices after the open).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from roundtable.model import RECORD_TYPES, Op
from roundtable.protocol import OP_REQUIRED


def check_line(line: Mapping[str, Any]) -> None:
    """The shape of a journal line, cheaply (KeyError/TypeError name what is wrong): lines
    covered by the checkpoint are not replayed, but their ops are the outbox."""
    kind = line.get("t")
    if kind not in ("change", "remote", "ack"):
        raise KeyError(f"line kind {kind!r}")
    items = line.get("op_ids" if kind == "ack" else "ops", ())
    if not isinstance(items, list):
        raise TypeError(f"{'op_ids' if kind == 'ack' else 'ops'} is not a list")
    for item in items:
        if kind == "ack":
            if not isinstance(item, str):
                raise TypeError("op id that is not a string")
        elif not isinstance(item, dict) or not OP_REQUIRED <= item.keys():
            raise KeyError("op field " + repr(sorted(OP_REQUIRED - set(item))[:1]))
        elif not isinstance(item["op_id"], str):
            raise TypeError("op id that is not a string")


def line_ops(line: Mapping[str, Any]) -> list[Op]:
    return [Op.from_dict(o) for o in line.get("ops", ())]


def default_of(kind: str, field: str) -> Any:
    """The value a record's field has before anything wrote it."""
    return getattr(RECORD_TYPES[kind](id=""), field)


class History:
    """Known ops, outbox and undo stack of one unit (see the module docstring)."""

    def __init__(self) -> None:
        self.known_ops: set[str] = set()
        self.local_ops: list[dict[str, Any]] = []  # as journaled; Op objects only on demand
        self.local_ids: set[str] = set()
        self.acked: set[str] = set()
        self.pending = 0  # local ops not acknowledged
        self.changes: list[dict[str, Any]] = []

    def clear(self) -> None:
        self.known_ops.clear()
        self.local_ops.clear()
        self.local_ids.clear()
        self.acked.clear()
        self.pending = 0
        self.changes.clear()

    def note(self, line: Mapping[str, Any]) -> None:
        """Take one journal line (checked with ``check_line`` first)."""
        check_line(line)
        kind = line.get("t")
        if kind == "change":
            raw_ops = line.get("ops", ())
            for raw in raw_ops:
                op_id = raw["op_id"]
                self.local_ops.append(raw)
                self.local_ids.add(op_id)
                self.known_ops.add(op_id)
            self.pending += len(raw_ops)
            self.changes.append(
                {
                    "change_id": line.get("change_id"),
                    "label": line.get("label", "change"),
                    "undo_of": line.get("undo_of"),
                    "before": line.get("before", []),
                }
            )
        elif kind == "remote":
            self.known_ops.update(o["op_id"] for o in line.get("ops", ()))
        elif kind == "ack":
            for op_id in line.get("op_ids", ()):
                if op_id in self.local_ids and op_id not in self.acked:
                    self.acked.add(op_id)
                    self.pending -= 1

    # -- outbox ----------------------------------------------------------------------------

    def outbox(self, limit: int | None = None, skip: frozenset[str] | set[str] = frozenset()):
        """The local ops not acknowledged (nor in ``skip``), oldest first, at most ``limit``."""
        out: list[Op] = []
        for raw in self.local_ops:
            if limit is not None and len(out) >= limit:
                break
            op_id = raw["op_id"]
            if op_id not in self.acked and op_id not in skip:
                out.append(Op.from_dict(raw))
        return out

    def unacked(self, op_ids: Iterable[str]) -> list[str]:
        """Those of ``op_ids`` that are local ops not yet acknowledged, once each."""
        return [i for i in dict.fromkeys(op_ids) if i in self.local_ids and i not in self.acked]

    # -- undo ------------------------------------------------------------------------------

    def undo_plan(
        self,
    ) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]] | None:
        """The latest change not undone and the field writes that undo it; None when there is
        nothing to undo (or only the creation of the session itself)."""
        undone = {c["undo_of"] for c in self.changes if c["undo_of"]}
        for change in reversed(self.changes):
            if change["undo_of"] or change["change_id"] in undone:
                continue
            if change["label"].startswith("create "):
                return None  # the session itself is not undone from the keyboard
            existing = {(k, rid) for k, rid, _f, _v, existed in change["before"] if existed}
            created = {
                (k, rid)
                for k, rid, _f, _v, existed in change["before"]
                if not existed and (k, rid) not in existing
            }
            writes: dict[tuple[str, str], dict[str, Any]] = {}
            for kind, rid, field, value, existed in change["before"]:
                if (kind, rid) in created:
                    writes[(kind, rid)] = {"deleted": True}
                elif existed:
                    writes.setdefault((kind, rid), {})[field] = value
                else:
                    writes.setdefault((kind, rid), {})[field] = default_of(kind, field)
            return change, [(k, rid, f) for (k, rid), f in writes.items()]
        return None


class OutboxHistory:
    """The outbox and known ops of a unit, kept lean for ``JournalHandle`` (sync's read of a
    unit it does not hold open): op ids as strings (which the garbage collector does not
    track) and only the pending ops' dicts, so a history of tens of thousands of ops read in a
    worker thread leaves few objects alive and triggers no long collection pass (those hold
    every thread, the app's event loop included)."""

    def __init__(self) -> None:
        self.known_ops: set[str] = set()
        self.local_ids: set[str] = set()
        self.acked: set[str] = set()
        self._pending: dict[str, dict[str, Any]] = {}  # op id -> op as journaled, in order

    @property
    def pending(self) -> int:
        return len(self._pending)

    def note(self, line: Mapping[str, Any]) -> None:
        check_line(line)
        kind = line.get("t")
        if kind == "change":
            for raw in line.get("ops", ()):
                op_id = raw["op_id"]
                self.local_ids.add(op_id)
                self.known_ops.add(op_id)
                if op_id not in self.acked:
                    self._pending[op_id] = raw
        elif kind == "remote":
            self.known_ops.update(o["op_id"] for o in line.get("ops", ()))
        elif kind == "ack":
            for op_id in line.get("op_ids", ()):
                if op_id in self.local_ids:
                    self.acked.add(op_id)
                    self._pending.pop(op_id, None)

    def outbox(self, limit: int | None = None, skip: frozenset[str] | set[str] = frozenset()):
        out: list[Op] = []
        for op_id, raw in self._pending.items():
            if limit is not None and len(out) >= limit:
                break
            if op_id not in skip:
                out.append(Op.from_dict(raw))
        return out

    def unacked(self, op_ids: Iterable[str]) -> list[str]:
        return [i for i in dict.fromkeys(op_ids) if i in self._pending]
