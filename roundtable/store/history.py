"""A unit's history, read from its journal: the ops it knows, its outbox and its undo stack.

* **Known ops**: every op id journaled here (local or pulled), so a pulled op is applied once.
* **Outbox**: the local ops (``change`` lines) not yet acknowledged (``ack`` lines); the
  pending count is kept as lines are noted, never recounted.
* **Undo stack**: each ``change`` line's label and ``before`` values; an undo is a new change
  that writes them back (``undo_plan``).
* **Labels** (issue 14): a record whose TLP label is RED now keeps its ops out of the outbox,
  and an op labelling a record RED never leaves; a record the secretariat already has is asked
  to be withdrawn instead (``Labels``).

``note`` takes one journal line at a time, in journal order, exactly once (the unit sees to
that, including when the history is read in slices after the open).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from roundtable.model import LABELLED_KINDS, RECORD_TYPES, Hlc, Op, stable_id
from roundtable.protocol import MAX_BASE, OP_REQUIRED, withdrawal_op_id


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


Key = tuple[str, str]  # (record kind, record id)


class Labels:
    """What the outbox must know of TLP labels, read from the journal's ops (issue 14).

    * A record whose latest ``tlp`` op says ``red`` is *held*: none of its ops is pushed while
      it is RED.  An op written while its record was RED (the ``tlp = red`` op itself, the
      fields of a RED capture, edits made while RED) is *sealed*: it never leaves, even once
      the record is labelled lower, because the secretariat keeps every version it receives.
    * A held record the secretariat already has (one of its ops was acknowledged, or pulled) is
      *withdrawn*: the outbox hands sync one tombstone ``deleted = true`` stamped with the RED
      label's HLC.  It is not a journaled change (the laptop keeps the entry); its op id is
      derived from the record and that HLC, so the journal's ack of it is recognised on replay.
    * A record labelled lower again is *restored*: for each field whose latest version is
      sealed, one op with the field's current value stamped with the new label's HLC (and
      ``deleted`` back to its local value when it was withdrawn).  Only current values leave,
      never what was written in between.
    """

    def __init__(self) -> None:
        self.tlp: dict[Key, tuple[str, str]] = {}  # latest label: (hlc, value)
        self.red_keys: set[Key] = set()  # records labelled RED now
        self.ever_red: set[Key] = set()
        self.latest: dict[Key, dict[str, tuple[str, Any, bool]]] = {}  # ever-RED records:
        # field -> (hlc, value, sealed) of its latest version
        self.shared_hlc: dict[tuple[Key, str], str] = {}  # latest version the server may have
        self.deleted: dict[Key, tuple[str, bool]] = {}  # latest deleted op, RED records
        self.on_server: set[Key] = set()
        self.withdrawn: dict[Key, str] = {}  # acked withdrawal -> the HLC it carried
        self.restored: dict[Key, str] = {}  # acked restore of ``deleted`` -> its HLC
        self.expected: dict[str, tuple[Key, str, str, str]] = {}  # synthetic op id -> what
        self.events: dict[Key, tuple[str, str]] = {}  # (event_id, session_id) of the record
        self.unacked: dict[Key, int] = {}  # local ops not acknowledged, per record
        self.sealed: dict[str, Key] = {}  # local ops that never leave -> their record
        self.seen: dict[tuple[Key, str], set[str]] = {}  # ever-RED records: versions the
        # laptop's own writes replaced, per field (a restore replaces them too)
        self.deleted_heads: dict[Key, set[str]] = {}  # labelled records: versions of
        self.deleted_replaced: dict[Key, set[str]] = {}  # ``deleted`` not replaced / replaced

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def note_ops(self, ops: Iterable[Mapping[str, Any]], *, local: bool) -> None:
        """Take the ops of one journal line; its labels count first, so the fields of a RED
        capture are sealed and the edits that come with a lower label are not."""
        ops = list(ops)
        for raw in ops:
            if raw["field"] == "tlp":
                self._label(raw)
        for raw in ops:
            self._op(raw, local)

    def _label(self, raw: Mapping[str, Any]) -> None:
        key = (raw["kind"], raw["record_id"])
        hlc, value = raw["hlc"], raw["value"]
        old = self.tlp.get(key)
        if old is None or hlc > old[0]:
            self.tlp[key] = (hlc, value)
            if value == "red":
                self.red_keys.add(key)
                self.ever_red.add(key)
                self.latest.setdefault(key, {})
            else:
                self.red_keys.discard(key)
        if value == "red":
            self.expected[synthetic_id("withdraw", key, hlc)] = (key, "withdraw", hlc, "deleted")
        elif key in self.ever_red:
            for name in RECORD_TYPES[key[0]].field_names():
                self.expected[synthetic_id("restore", key, hlc, name)] = (
                    key,
                    "restore",
                    hlc,
                    name,
                )

    def _op(self, raw: Mapping[str, Any], local: bool) -> None:
        key = (raw["kind"], raw["record_id"])
        field, hlc = raw["field"], raw["hlc"]
        if key not in self.events:
            self.events[key] = (raw["event_id"], raw.get("session_id", ""))
        if not local:
            self.on_server.add(key)
        sealed = local and key in self.red_keys
        if sealed:
            self.sealed[raw["op_id"]] = key
        if local:
            self.unacked[key] = self.unacked.get(key, 0) + 1
        if field == "deleted" and key[0] in LABELLED_KINDS:
            # every version of ``deleted`` this laptop knows and nothing replaced: what a
            # withdrawal replaces, so no earlier delete, restore or conflict outlives it
            replaced = self.deleted_replaced.setdefault(key, set())
            replaced.update(raw.get("base", ()))
            heads = self.deleted_heads.setdefault(key, set())
            if hlc not in replaced:
                heads.add(hlc)
            heads -= replaced
        if key in self.ever_red:
            if local and raw.get("base"):
                self.seen.setdefault((key, field), set()).update(raw["base"])
            fields = self.latest.setdefault(key, {})
            old = fields.get(field)
            if old is None or hlc > old[0]:
                fields[field] = (hlc, raw["value"], sealed)
            if not sealed and hlc > self.shared_hlc.get((key, field), ""):
                self.shared_hlc[(key, field)] = hlc
            if field == "deleted" and (key not in self.deleted or hlc > self.deleted[key][0]):
                self.deleted[key] = (hlc, bool(raw["value"]))

    def note_acked(self, raw: Mapping[str, Any]) -> None:
        key = (raw["kind"], raw["record_id"])
        self.on_server.add(key)
        self.unacked[key] = self.unacked.get(key, 1) - 1

    def note_synthetic_ack(self, op_id: str) -> bool:
        """An ack of a withdrawal or restore this history derived; False if unknown."""
        found = self.expected.get(op_id)
        if found is None:
            return False
        key, what, hlc, field = found
        self.on_server.add(key)
        if what == "withdraw":
            if hlc > self.withdrawn.get(key, ""):
                self.withdrawn[key] = hlc
            return True
        if field == "deleted" and hlc > self.restored.get(key, ""):
            self.restored[key] = hlc
        fields = self.latest.setdefault(key, {})
        old = fields.get(field)
        if old is not None and hlc > old[0]:
            fields[field] = (hlc, old[1], False)
        if hlc > self.shared_hlc.get((key, field), ""):
            self.shared_hlc[(key, field)] = hlc
        return True

    def is_known_to_server(self, key: Key) -> bool:
        """Has the secretariat any op of this record (acknowledged or pulled)?"""
        return key in self.on_server

    def is_red(self, key: Key) -> bool:
        return key in self.red_keys

    def held(self, raw: Mapping[str, Any]) -> bool:
        """Must this local op stay on the laptop now?"""
        return raw["op_id"] in self.sealed or (raw["kind"], raw["record_id"]) in self.red_keys

    def outgoing(self, raw: Mapping[str, Any]) -> Op:
        """A local op as it is pushed.  Of a record once RED, its base also lists what the
        laptop's sealed writes of the field replaced: those never leave, so without this the
        versions they replaced would stay heads elsewhere (a conflict bringing back what the
        record said before it was withdrawn, issue 19)."""
        op = Op.from_dict(raw)
        key = (op.kind, op.record_id)
        extra = self.seen.get((key, op.field)) if key in self.ever_red else None
        if extra:
            base = set(op.base) | {h for h in extra if h < op.hlc}
            if len(base) > len(op.base):
                op = dataclasses.replace(op, base=tuple(sorted(base)[-MAX_BASE:]))
        return op

    def held_count(self) -> int:
        """Local unacknowledged ops that stay on the laptop now."""
        held = sum(self.unacked.get(key, 0) for key in self.red_keys)
        return held + sum(1 for key in self.sealed.values() if key not in self.red_keys)

    def synthetic(self, acked: set[str]) -> list[Op]:
        """The withdrawals and restores the secretariat has not acknowledged yet."""
        out: list[Op] = []
        for key in sorted(self.ever_red):
            hlc, value = self.tlp[key]
            gone = self.withdrawn.get(key)
            if value == "red":
                if key not in self.on_server or (gone or "") >= hlc:
                    continue
                op_id = synthetic_id("withdraw", key, hlc)
                if op_id not in acked:
                    out.append(self._make(op_id, key, "deleted", True, hlc))
                continue
            for field, (f_hlc, f_value, sealed) in sorted(self.latest.get(key, {}).items()):
                if field == "tlp" or f_hlc >= hlc:
                    continue
                if field == "deleted" and gone is not None and gone > self.restored.get(key, ""):
                    continue  # sent below with the withdrawal's undoing
                if sealed:
                    op_id = synthetic_id("restore", key, hlc, field)
                    if op_id not in acked:
                        out.append(self._make(op_id, key, field, f_value, hlc))
            if gone is not None and gone > self.restored.get(key, "") and hlc > gone:
                op_id = synthetic_id("restore", key, hlc, "deleted")
                if op_id not in acked:
                    deleted = self.deleted.get(key, ("", False))[1]
                    out.append(self._make(op_id, key, "deleted", deleted, hlc, gone))
        return out

    def _make(
        self, op_id: str, key: Key, field: str, value: Any, hlc: str, seen: str | None = None
    ) -> Op:
        event_id, session_id = self.events[key]
        shared = self.shared_hlc.get((key, field))
        base = {h for h in (seen, shared) if h and h < hlc}
        base.update(h for h in self.seen.get((key, field), ()) if h < hlc)
        if field == "deleted":  # a withdrawal, or its undoing: replaces every version known
            base.update(h for h in self.deleted_heads.get(key, ()) if h < hlc)
        return Op(
            op_id=op_id,
            event_id=event_id,
            session_id=session_id,
            record_id=key[1],
            kind=key[0],
            field=field,
            value=value,
            hlc=hlc,
            device=Hlc.parse(hlc).device,
            base=tuple(sorted(base)[-MAX_BASE:]),
        )


def synthetic_id(what: str, key: Key, hlc: str, field: str = "deleted") -> str:
    if what == "withdraw":  # the secretariat and other laptops recognise it (issue 19)
        return withdrawal_op_id(key[0], key[1], hlc)
    return stable_id("tlp-" + what, key[0], key[1], hlc, field)


class History:
    """Known ops, outbox and undo stack of one unit (see the module docstring)."""

    def __init__(self) -> None:
        self.known_ops: set[str] = set()
        self.local_ops: list[dict[str, Any]] = []  # as journaled; Op objects only on demand
        self.local_ids: set[str] = set()
        self.acked: set[str] = set()
        self.unacked_count = 0  # local ops not acknowledged
        self.changes: list[dict[str, Any]] = []
        self.labels = Labels()
        self._raw: dict[str, dict[str, Any]] = {}  # local op id -> op as journaled
        self._scan_from = 0  # every local op before this index is acknowledged

    @property
    def pending(self) -> int:
        """Ops to push: local ops not acknowledged and not held back by a RED label, plus the
        withdrawals and restores labels call for."""
        labels = self.labels
        return self.unacked_count - labels.held_count() + len(labels.synthetic(self.acked))

    def clear(self) -> None:
        self.known_ops.clear()
        self.local_ops.clear()
        self.local_ids.clear()
        self.acked.clear()
        self.unacked_count = 0
        self.changes.clear()
        self.labels.clear()
        self._raw.clear()
        self._scan_from = 0

    def note_remote(self, ops: Iterable[Mapping[str, Any]]) -> None:
        """Pulled ops just applied (the unit journals them itself)."""
        ops = list(ops)
        self.known_ops.update(raw["op_id"] for raw in ops)
        self.labels.note_ops(ops, local=False)

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
                self._raw[op_id] = raw
            self.labels.note_ops(raw_ops, local=True)
            self.unacked_count += len(raw_ops)
            self.changes.append(
                {
                    "change_id": line.get("change_id"),
                    "label": line.get("label", "change"),
                    "undo_of": line.get("undo_of"),
                    "before": line.get("before", []),
                }
            )
        elif kind == "remote":
            self.note_remote(line.get("ops", ()))
        elif kind == "ack":
            for op_id in line.get("op_ids", ()):
                if op_id in self.local_ids and op_id not in self.acked:
                    self.acked.add(op_id)
                    self.unacked_count -= 1
                    self.labels.note_acked(self._raw[op_id])
                elif op_id not in self.acked and self.labels.note_synthetic_ack(op_id):
                    self.acked.add(op_id)
                    self.known_ops.add(op_id)

    # -- outbox ----------------------------------------------------------------------------

    def outbox(self, limit: int | None = None, skip: frozenset[str] | set[str] = frozenset()):
        """The ops to push (nor in ``skip``), at most ``limit``: the withdrawals and restores
        the labels call for first, then the local ops not acknowledged and not held back by a
        RED label, oldest first."""
        out = [o for o in self.labels.synthetic(self.acked) if o.op_id not in skip]
        out = out[:limit] if limit is not None else out
        held = self.labels.held
        local, acked = self.local_ops, self.acked
        while self._scan_from < len(local) and local[self._scan_from]["op_id"] in acked:
            self._scan_from += 1  # acks only grow: the prefix is never looked at again
        for raw in local[self._scan_from :] if self._scan_from else local:
            if limit is not None and len(out) >= limit:
                break
            op_id = raw["op_id"]
            if op_id not in self.acked and op_id not in skip and not held(raw):
                out.append(self.labels.outgoing(raw))
        return out

    def unacked(self, op_ids: Iterable[str]) -> list[str]:
        """Those of ``op_ids`` that are local ops (or withdrawals and restores) not yet
        acknowledged, once each."""
        return [
            i
            for i in dict.fromkeys(op_ids)
            if (i in self.local_ids or i in self.labels.expected) and i not in self.acked
        ]

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


LineReader = Callable[[Sequence[int]], dict[int, dict[str, Any]]]
"""Reads journal lines again: their start offsets -> the lines (``JournalHandle``)."""


class OutboxHistory:
    """The outbox and known ops of a unit, kept lean for ``JournalHandle`` (sync's read of a
    unit it does not hold open): op ids as strings (which the garbage collector does not
    track), and a pending op as where its journal line starts and its record, not as its
    dict: the journal is read again for the ops of each batch handed out (issue 25: a laptop
    pushing 10,000 captures, 70,000 ops, held every pending op's dict, ~1.3 KB each, and
    peaked above 150 MB).  Without ``read_lines`` (or for a line noted without its offset)
    the op's dict is kept.  Few objects stay alive, so a history of tens of thousands of ops
    read in a worker thread triggers no long collection pass (those hold every thread, the
    app's event loop included)."""

    def __init__(self, read_lines: LineReader | None = None) -> None:
        self.known_ops: set[str] = set()
        self.local_ids: set[str] = set()
        self.acked: set[str] = set()
        # op id -> op as journaled, or (offset of its journal line, its record's key), in order
        self._pending: dict[str, dict[str, Any] | tuple[int, Key]] = {}
        self._keys: dict[Key, Key] = {}  # one key object per record, shared by its ops
        self._read_lines = read_lines
        self.labels = Labels()

    @property
    def pending(self) -> int:
        labels = self.labels
        return len(self._pending) - labels.held_count() + len(labels.synthetic(self.acked))

    def note(self, line: Mapping[str, Any], at: int | None = None) -> None:
        """Take in one journal line; ``at``: where it starts in the journal, so that its
        pending ops can be read again rather than kept."""
        check_line(line)
        kind = line.get("t")
        if kind == "change":
            keep = at is None or self._read_lines is None
            for raw in line.get("ops", ()):
                op_id = raw["op_id"]
                self.local_ids.add(op_id)
                self.known_ops.add(op_id)
                if op_id not in self.acked:
                    if keep:
                        self._pending[op_id] = raw
                    else:
                        key = (raw["kind"], raw["record_id"])
                        self._pending[op_id] = (at or 0, self._keys.setdefault(key, key))
            self.labels.note_ops(line.get("ops", ()), local=True)
        elif kind == "remote":
            self.known_ops.update(raw["op_id"] for raw in line.get("ops", ()))
            self.labels.note_ops(line.get("ops", ()), local=False)
        elif kind == "ack":
            for op_id in line.get("op_ids", ()):
                if op_id in self.local_ids:
                    self.acked.add(op_id)
                    entry = self._pending.pop(op_id, None)
                    if isinstance(entry, tuple):
                        self.labels.note_acked({"kind": entry[1][0], "record_id": entry[1][1]})
                    elif entry is not None:
                        self.labels.note_acked(entry)
                elif op_id not in self.acked and self.labels.note_synthetic_ack(op_id):
                    self.acked.add(op_id)
                    self.known_ops.add(op_id)

    def outbox(self, limit: int | None = None, skip: frozenset[str] | set[str] = frozenset()):
        out = [o for o in self.labels.synthetic(self.acked) if o.op_id not in skip]
        out = out[:limit] if limit is not None else out
        labels = self.labels
        chosen: list[tuple[str, dict[str, Any] | tuple[int, Key]]] = []
        for op_id, entry in self._pending.items():
            if limit is not None and len(out) + len(chosen) >= limit:
                break
            if op_id in skip:
                continue
            if isinstance(entry, tuple):
                if op_id in labels.sealed or entry[1] in labels.red_keys:  # ``Labels.held``
                    continue
            elif labels.held(entry):
                continue
            chosen.append((op_id, entry))
        offsets = sorted({e[0] for _, e in chosen if isinstance(e, tuple)})
        lines: dict[int, dict[str, Mapping[str, Any]]] = {}
        if offsets and self._read_lines is not None:
            for at, line in self._read_lines(offsets).items():
                lines[at] = {raw["op_id"]: raw for raw in line.get("ops", ())}
        for op_id, entry in chosen:
            raw = lines[entry[0]][op_id] if isinstance(entry, tuple) else entry
            out.append(labels.outgoing(raw))
        return out

    def unacked(self, op_ids: Iterable[str]) -> list[str]:
        return [
            i
            for i in dict.fromkeys(op_ids)
            if i in self._pending or (i in self.labels.expected and i not in self.acked)
        ]
