"""The sync wire format and the merge rule, defined once and used by client and server.

Merge rule (per field, last writer wins by HLC, with every concurrent version kept):

* Each op names in ``base`` the versions of the field that its writer saw and replaces.
* A field's *heads* are the versions received that no other received op replaces.  The head
  with the greatest HLC is the field's value; any other head is a conflicting version that the
  record shows ("also edited by ...") until a write that lists it in its base resolves it.
* The heads are a function of the *set* of ops received, so replicas that received the same ops
  in any order, with any duplicates, hold the same record.  This is what makes sync converge.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from roundtable.errors import RoundtableError
from roundtable.model import (
    RECORD_KINDS,
    RECORD_TYPES,
    TLP_LABELS,
    Hlc,
    Op,
    is_id,
    stable_id,
)

PROTOCOL_VERSION = 5
"""Version of the sync wire format (push and pull bodies carry it); independent of the local
store's schema.  A body of a newer version is refused with a 4xx naming both versions; every
older version is accepted (DESIGN.md's wire rule), its ops checked against what that version
knew (``FIELDS_SINCE`` and ``VALUES_SINCE``).

1: the first.  2: an event's venue time zone, ``event.tz`` (issue 24).  3: the session status
``archived`` (issue 22).  4: a session's number in its event and region, ``session.number``, of
its document symbol (issue 23).  5: the room's procedure (issue 26): the session's
``projected`` message, ``quorum``, ``speaking_seconds``, ``warning_percent`` and
``warning_seconds``, and a speaker's right of ``reply``."""
FIELDS_SINCE: dict[tuple[str, str], int] = {
    ("event", "tz"): 2,
    ("session", "number"): 4,
    ("session", "projected"): 5,
    ("session", "quorum"): 5,
    ("session", "speaking_seconds"): 5,
    ("session", "warning_percent"): 5,
    ("session", "warning_seconds"): 5,
    ("speaker", "reply"): 5,
}
"""``(record kind, field)`` -> the protocol version that added it; a field not listed is of
version 1.  A laptop talking to an older secretariat keeps the ops of newer fields local."""
VALUES_SINCE: dict[tuple[str, str, str], int] = {("session", "status", "archived"): 3}
"""``(record kind, field, value)`` -> the protocol version that added this value of a field
the wire already carried; a value not listed is as old as its field.  Same rule as
``FIELDS_SINCE``: a body of an older version naming it is refused, and a laptop talking to an
older secretariat keeps such ops local."""
VALUED_FIELDS: frozenset[tuple[str, str]] = frozenset((k, f) for k, f, _v in VALUES_SINCE)
"""``(record kind, field)`` pairs some of whose values are newer than the field."""
PROTOCOL_PARAM = "protocol"

PULL_PAGE_BEFORE = 1000
"""The most ops a pull page held before issue 25: what a laptop asks of a secretariat whose
``whoami`` names no ``max_page`` (a server of before)."""
PULL_PAGE_MAX = 2000
"""The most ops a pull page holds (issue 25).  A secretariat says it in ``whoami``'s
``max_page``, and a laptop asks for pages of it: a room's round at the conference (the other
rooms of its region, ~1,400 ops every 2 s at 100 laptops) is then one page, not two."""


def pull_page_size(whoami: Mapping[str, Any]) -> int:
    """The page a laptop asks for of the secretariat that gave this ``whoami`` answer: its
    ``max_page`` (at most ours), or ``PULL_PAGE_BEFORE`` when it names none or a bad one."""
    offered = whoami.get("max_page")
    if not isinstance(offered, int) or isinstance(offered, bool) or offered < 1:
        return PULL_PAGE_BEFORE
    return min(offered, PULL_PAGE_MAX)


"""The query parameter by which a laptop names the version it speaks (``/v1/whoami``, a pull);
without it the secretariat answers in version 1, as the first laptops expect."""


def field_version(kind: str, field: str) -> int:
    """The protocol version that added a field to the wire."""
    return FIELDS_SINCE.get((kind, field), 1)


def value_version(kind: str, field: str, value: Any) -> int:
    """The protocol version that can carry ``value`` in this field: the field's own, or the
    later one that added this value (``VALUES_SINCE``)."""
    since = field_version(kind, field)
    if isinstance(value, str):
        since = max(since, VALUES_SINCE.get((kind, field, value), 1))
    return since


def op_version(op: Op) -> int:
    """The first protocol version that carries ``op``."""
    return value_version(op.kind, op.field, op.value)


def fits(op: Op, version: int) -> bool:
    """Can this op travel to a side speaking ``version``?"""
    return op_version(op) <= version


def novelty(op: Op, version: int) -> str:
    """What of ``op`` a side speaking ``version`` does not know, as people read it: its field
    (``event.tz``) or, in a field it knows, its value (``session.status 'archived'``)."""
    if field_version(op.kind, op.field) > version:
        return f"{op.kind}.{op.field}"
    return f"{op.kind}.{op.field} {str(op.value)[:30]!r}"


def spoken(asked: object) -> int:
    """The version to answer a request in: the one it names, at most ours; 1 when it names
    none (a laptop of the first version)."""
    if isinstance(asked, int) and not isinstance(asked, bool) and asked >= 1:
        return min(asked, PROTOCOL_VERSION)
    return 1


PROTOCOL_REFUSAL = "body: protocol "
"""How a refusal of a body's protocol version begins (a client told this by the server stops
the round instead of putting the batch in its rejected list)."""
MAX_FUTURE_SKEW_MS = 60_000
"""An op stamped more than this ahead of the receiver's clock is rejected: its device's clock is
wrong, and accepting it would let that device win every later edit."""

MAX_TEXT = 10_000
MAX_LIST_ITEMS = 200
MAX_LIST_ITEM_TEXT = 500
MIN_BATCH = 1
MAX_BATCH = 500

# ---------------------------------------------------------------------------------------------
# Field types, derived once from the record dataclasses
# ---------------------------------------------------------------------------------------------


def _field_types() -> dict[str, dict[str, type]]:
    table: dict[str, dict[str, type]] = {}
    for kind, cls in RECORD_TYPES.items():
        types: dict[str, type] = {}
        for f in dataclasses.fields(cls):
            if f.name == "id":
                continue
            default = f.default_factory() if callable(f.default_factory) else f.default
            types[f.name] = type(default)
        table[kind] = types
    return table


FIELD_TYPES: dict[str, dict[str, type]] = _field_types()


class ProtocolError(RoundtableError, ValueError):
    """An op or a batch that does not follow the wire format.  The message says what and where."""


def _check_text(kind: str, field: str, value: str) -> None:
    """Text the laptops refuse is refused everywhere: the capture line's own check
    (``capture.bad_character``: NUL, ESC and other control characters, line separators,
    bytes that were not UTF-8), so the server cannot store what no laptop could type."""
    from roundtable.capture import bad_character

    bad = bad_character(value)
    if bad is not None:
        raise ProtocolError(f"{kind}.{field}: {bad[1]} (character {bad[0] + 1})")


MAX_LABEL = 200


def check_label(label: Any) -> None:
    """A laptop's label (``roundtable connect --label``): text of 1-200 characters that
    passes the capture line's check."""
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
        raise ProtocolError(f"a label is text of 1-{MAX_LABEL} characters")
    _check_text("device", "label", label)


def parse_hlc(text: Any) -> Hlc:
    """An HLC as every side accepts it: well formed (``model.Hlc.parse``) and stamped after
    the epoch (a wall of 0 is a clock that was never set; it would lose every merge)."""
    hlc = Hlc.parse(text)
    if hlc.wall_ms <= 0:
        raise ValueError(f"HLC {str(text)[:80]!r} has no wall time (a clock that was never set)")
    return hlc


def check_value(kind: str, field: str, value: Any, version: int = PROTOCOL_VERSION) -> None:
    """Raise ProtocolError unless ``value`` has the type and size this field takes.
    ``version``: the protocol the value travels in (a field it did not know is unknown)."""
    types = FIELD_TYPES.get(kind)
    if types is None:
        raise ProtocolError(f"unknown record kind {kind!r}")
    expected = types.get(field)
    if expected is None or field_version(kind, field) > version:
        raise ProtocolError(f"unknown field {field!r} for {kind}")
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and -(2**53) < value < 2**53
    elif expected is str:
        ok = isinstance(value, str)
        if ok and len(value) > MAX_TEXT:
            raise ProtocolError(f"{kind}.{field}: text longer than {MAX_TEXT} characters")
        if ok:
            _check_text(kind, field, value)
    elif expected is list:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if ok and len(value) > MAX_LIST_ITEMS:
            raise ProtocolError(f"{kind}.{field}: more than {MAX_LIST_ITEMS} items")
        if ok and any(len(v) > MAX_LIST_ITEM_TEXT for v in value):
            raise ProtocolError(f"{kind}.{field}: an item longer than {MAX_LIST_ITEM_TEXT}")
        if ok:
            for v in value:
                _check_text(kind, field, v)
    else:  # pragma: no cover - a record type with a field type we forgot to handle
        raise ProtocolError(f"{kind}.{field}: unsupported field type {expected.__name__}")
    if not ok:
        want = "list of strings" if expected is list else expected.__name__
        raise ProtocolError(f"{kind}.{field}: expected {want}, got {type(value).__name__}")
    if (kind, field) == ("event", "tz") and value != "" and not _ZONE_RE.match(value):
        raise ProtocolError(f"{kind}.{field}: {str(value)[:40]!r} is not an IANA time zone name")
    if field in TLP_FIELDS and value not in TLP_LABELS and value != "":
        raise ProtocolError(
            f"{kind}.{field}: unknown label {str(value)[:30]!r}; use one of {', '.join(TLP_LABELS)}"
        )
    since = value_version(kind, field, value)
    if since > version:
        raise ProtocolError(
            f"{kind}.{field} {str(value)[:30]!r} needs protocol {since} (the body says {version})"
        )


_ZONE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")
"""The shape of an IANA zone name (``Europe/Paris``, ``America/Argentina/Cordoba``, ``UTC``):
the wire checks the shape; which names exist is the zone database's, newer on some laptops."""

TLP_FIELDS = ("tlp", "default_tlp")
"""Fields holding a Traffic Light Protocol label (issue 14)."""


def carries_red(kind: str, field: str, value: Any) -> bool:
    """Does this op label its record TLP:RED?  Such an op never leaves the laptop: the store
    keeps it out of the outbox and the secretariat refuses it (``parse_op``)."""
    return field == "tlp" and value == "red"


# ---------------------------------------------------------------------------------------------
# Withdrawal (issue 19): a record relabelled TLP:RED after the secretariat had it
# ---------------------------------------------------------------------------------------------


def withdrawal_op_id(kind: str, record_id: str, hlc: str) -> str:
    """The op id of the tombstone a laptop sends when a record it pushed becomes TLP:RED
    (``store.history.Labels``): derived from the record and the RED label's HLC, so every side
    recognises a withdrawal without a new field on the wire."""
    return stable_id("tlp-withdraw", kind, record_id, hlc, "deleted")


def is_withdrawal(op: Op) -> bool:
    """Is this op a withdrawal tombstone (``withdrawal_op_id``)?"""
    return (
        op.field == "deleted"
        and op.value is True
        and op.op_id == withdrawal_op_id(op.kind, op.record_id, op.hlc)
    )


def withdrawn(doc: Mapping[str, Any] | None) -> bool:
    """Is this merged record withdrawn now?  A withdrawal outranks every version written
    before it and every edit made after it on a laptop that had not seen it: the record stays
    withdrawn until a label op newer than the withdrawal (the record relabelled lower: its
    laptop then sends the record's current values again).  A function of the set of ops, like
    the rest of the merge."""
    if doc is None or not doc.get("withdrawn"):
        return False
    label = doc["heads"].get("tlp")
    return not (label and label[0][1] > doc["withdrawn"][-1])


# ---------------------------------------------------------------------------------------------
# An op's shape on the wire, declared once: the keys are ``model.Op``'s dataclass fields, and
# this table gives each one its JSON Schema.  The server's request schema (OpenAPI), its response
# model and the checks below (and the laptop's journal check) are all derived from it.
# ---------------------------------------------------------------------------------------------

UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
HLC_PATTERN = "^[0-9]{15}-[0-9]{6}-[A-Za-z0-9_.-]{1,64}$"
MAX_BASE = 64

OP_WIRE: dict[str, dict[str, Any]] = {
    "op_id": {"type": "string", "pattern": UUID_PATTERN},
    "event_id": {"type": "string", "pattern": UUID_PATTERN},
    "session_id": {"type": "string"},
    "record_id": {"type": "string", "pattern": UUID_PATTERN},
    "kind": {"type": "string", "enum": list(RECORD_KINDS)},
    "field": {"type": "string"},
    "value": {},
    "hlc": {"type": "string", "pattern": HLC_PATTERN},
    "device": {"type": "string"},
    "base": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_BASE},
}
"""JSON Schema of each key of an op, in ``model.Op``'s field order."""
OP_OPTIONAL = frozenset({"session_id", "base"})
"""Keys a sender may leave out (an event record's empty session id, a first write's base)."""

OP_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Op))
OP_REQUIRED: frozenset[str] = frozenset(OP_KEYS) - OP_OPTIONAL
"""The keys every op must carry: what the laptop's journal check and the server's schema ask."""
if tuple(OP_WIRE) != OP_KEYS:  # pragma: no cover - a field added to Op but not to the table
    raise RuntimeError(f"protocol.OP_WIRE {tuple(OP_WIRE)} differs from model.Op {OP_KEYS}")
_OP_KEYS = frozenset(OP_KEYS)


def op_json_schema() -> dict[str, Any]:
    """The JSON Schema of one op in a push body (what /openapi.json documents)."""
    return {
        "type": "object",
        "required": [k for k in OP_KEYS if k in OP_REQUIRED],
        "additionalProperties": False,
        "properties": {k: dict(v) for k, v in OP_WIRE.items()},
    }


def push_json_schema() -> dict[str, Any]:
    """The JSON Schema of a push body."""
    return {
        "type": "object",
        "required": ["protocol", "ops"],
        "properties": {
            "protocol": {"type": "integer", "enum": list(range(1, PROTOCOL_VERSION + 1))},
            "device": {"type": "string"},
            "label": {"type": "string", "maxLength": MAX_LABEL},
            "ops": {
                "type": "array",
                "minItems": MIN_BATCH,
                "maxItems": MAX_BATCH,
                "items": op_json_schema(),
            },
        },
    }


def parse_op(
    data: Any, *, where: str = "op", now_ms: int | None = None, version: int = PROTOCOL_VERSION
) -> Op:
    """Validate untrusted op data and build an Op.  ``where`` prefixes every message.

    With ``now_ms`` given, an op stamped more than MAX_FUTURE_SKEW_MS ahead is rejected.
    ``version``: the protocol of the body it came in (a field added later is unknown there).
    """
    if not isinstance(data, Mapping):
        raise ProtocolError(f"{where}: expected an object, got {type(data).__name__}")
    missing = OP_REQUIRED - set(data)
    if missing:
        raise ProtocolError(f"{where}: missing {', '.join(sorted(missing))}")
    unknown = set(data) - _OP_KEYS - {"seq"}
    if unknown:
        raise ProtocolError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    for key in ("op_id", "event_id", "record_id"):
        if not is_id(data[key]):
            raise ProtocolError(f"{where}: {key} must be a lowercase UUID")
    session_id = data.get("session_id", "")
    if session_id != "" and not is_id(session_id):
        raise ProtocolError(f"{where}: session_id must be a lowercase UUID or empty")
    kind = data["kind"]
    if kind not in RECORD_KINDS:
        raise ProtocolError(f"{where}: unknown record kind {str(kind)[:40]!r}")
    if (kind == "event") != (session_id == ""):
        raise ProtocolError(f"{where}: session_id must be empty exactly for event records")
    field = data["field"]
    if not isinstance(field, str):
        raise ProtocolError(f"{where}: field must be a string")
    try:
        check_value(kind, field, data["value"], version)
        hlc = parse_hlc(data["hlc"])
    except (ProtocolError, ValueError) as exc:
        raise ProtocolError(f"{where}: {exc}") from None
    if carries_red(kind, field, data["value"]):
        raise ProtocolError(f"{where}: a TLP:RED label never leaves the room's laptop")
    if not isinstance(data["device"], str) or data["device"] != hlc.device:
        raise ProtocolError(f"{where}: device does not match the HLC's device")
    base = data.get("base", [])
    if not isinstance(base, list) or len(base) > MAX_BASE:
        raise ProtocolError(f"{where}: base must be a list of at most {MAX_BASE} HLCs")
    for b in base:
        try:
            bh = parse_hlc(b)
        except ValueError as exc:
            raise ProtocolError(f"{where}: base: {exc}") from None
        if bh >= hlc:
            raise ProtocolError(f"{where}: base {b} is not older than the op's HLC")
    if now_ms is not None and hlc.wall_ms > now_ms + MAX_FUTURE_SKEW_MS:
        raise ProtocolError(
            f"{where}: HLC is {(hlc.wall_ms - now_ms) // 1000} s in the future; "
            f"check the clock of device {hlc.device}"
        )
    return Op(
        op_id=data["op_id"],
        event_id=data["event_id"],
        session_id=session_id,
        record_id=data["record_id"],
        kind=kind,
        field=field,
        value=data["value"],
        hlc=data["hlc"],
        device=data["device"],
        base=tuple(base),
    )


# ---------------------------------------------------------------------------------------------
# Merge
# ---------------------------------------------------------------------------------------------


def new_record_doc(op: Op) -> dict[str, Any]:
    """The view document of a record before any field is set.

    ``fields``: current value per field; ``heads``: per field, the unreplaced versions
    ``[value, hlc]`` sorted newest first (more than one = a conflict); ``replaced``: per field,
    HLCs some op has replaced.  Only the record's own meta and these three maps are stored.
    """
    return {
        "id": op.record_id,
        "kind": op.kind,
        "event_id": op.event_id,
        "session_id": op.session_id,
        "fields": {},
        "heads": {},
        "replaced": {},
    }


def apply_op(doc: dict[str, Any], op: Op) -> bool:
    """Merge ``op`` into a record's view document in place.  Returns whether the document
    changed.  Idempotent and order-independent (see the module docstring)."""
    field = op.field
    heads: list[list[Any]] = doc["heads"].get(field, [])
    replaced: list[str] = doc["replaced"].get(field, [])
    replaced_set = set(replaced)
    changed = False
    for b in op.base:
        if b not in replaced_set:
            replaced_set.add(b)
            replaced.append(b)
            changed = True
    head_hlcs = {h[1] for h in heads}
    if op.hlc not in replaced_set and op.hlc not in head_hlcs:
        heads.append([op.value, op.hlc])
        changed = True
    if is_withdrawal(op) and op.hlc not in doc.get("withdrawn", ()):
        doc["withdrawn"] = sorted([*doc.get("withdrawn", ()), op.hlc])
        changed = True
    if not changed:
        return False
    heads = [h for h in heads if h[1] not in replaced_set]
    heads.sort(key=lambda h: h[1], reverse=True)
    doc["heads"][field] = heads
    if replaced:
        replaced.sort()  # same set, same bytes: replicas' documents compare equal
        doc["replaced"][field] = replaced
    if heads:
        doc["fields"][field] = heads[0][0]
    if doc.get("withdrawn"):
        # a withdrawn record reads as deleted whatever its ``deleted`` heads say (issue 19)
        dheads = doc["heads"].get("deleted")
        if withdrawn(doc):
            doc["fields"]["deleted"] = True
        elif dheads:
            doc["fields"]["deleted"] = dheads[0][0]
    return True


def field_hlc(doc: Mapping[str, Any], field: str) -> str | None:
    """HLC of the field's current value, or None if it was never written."""
    heads = doc["heads"].get(field)
    return heads[0][1] if heads else None


def field_base(doc: Mapping[str, Any] | None, field: str) -> tuple[str, ...]:
    """What a local write of ``field`` replaces: every version the user could see (so an edit
    made while a conflict is shown resolves it)."""
    if doc is None:
        return ()
    return tuple(h[1] for h in doc["heads"].get(field, ()))


def delete_base(doc: Mapping[str, Any] | None) -> tuple[str, ...]:
    """What a delete replaces: the ``deleted`` field's versions, and every version of every
    field the deleting user could see.  Those go into the ``deleted`` field's replaced set, so
    an edit the deleter did *not* see (made offline elsewhere) stays detectable as a conflict
    (``delete_conflict``).  At most MAX_BASE, the newest kept."""
    if doc is None:
        return ()
    seen = {h for heads in doc["heads"].values() for _v, h in heads}
    return tuple(sorted(seen)[-MAX_BASE:])


@dataclasses.dataclass(frozen=True)
class DeleteConflict:
    """A record deleted on one laptop while another edited it without seeing the delete:
    the edit is not hidden; the record stays shown until it is restored or the delete is
    confirmed (a delete that sees the edit)."""

    deleted_by: tuple[str, ...]  # devices whose delete stands
    edited_by: tuple[str, ...]  # devices whose unseen edit stands
    fields: tuple[str, ...]  # the fields edited


def delete_conflict(doc: Mapping[str, Any] | None) -> DeleteConflict | None:
    """The delete-versus-edit conflict of a merged record, or None.

    A field version is *seen* by the delete when it is in the ``deleted`` field's replaced set
    (a delete lists every version its writer saw, ``delete_base``) or when the deleting device
    wrote it earlier itself (a device always saw its own writes; this also covers deletes
    written before deletes listed what they saw).  A function of the merged document, hence of
    the set of ops: every replica finds the same conflict whatever the order of delivery."""
    if doc is None or doc["fields"].get("deleted") is not True or withdrawn(doc):
        return None  # a withdrawal is never a conflict: it outranks every edit (issue 19)
    dheads = doc["heads"].get("deleted", [])
    deletes = [Hlc.parse(h) for v, h in dheads if v is True]
    if not deletes:
        return None
    seen = set(doc["replaced"].get("deleted", ())) | {h for _v, h in dheads}
    editors: set[str] = set()
    fields: set[str] = set()
    for field, heads in doc["heads"].items():
        if field == "deleted":
            continue
        for _v, h in heads:
            if h in seen:
                continue
            hlc = Hlc.parse(h)
            if any(hlc.device == d.device and hlc < d for d in deletes):
                continue
            editors.add(hlc.device)
            fields.add(field)
    if not editors:
        return None
    return DeleteConflict(
        deleted_by=tuple(sorted({d.device for d in deletes})),
        edited_by=tuple(sorted(editors)),
        fields=tuple(sorted(fields)),
    )


def conflicts(doc: Mapping[str, Any]) -> dict[str, list[tuple[Any, Hlc]]]:
    """Fields with more than one current version: field -> the losing versions
    ``(value, hlc)``, newest first.  ``hlc.device`` says who wrote each.

    A delete-versus-edit conflict (``delete_conflict``) is the field ``deleted``: the record
    shows as deleted, and the losing version is "not deleted" by each editor the delete did
    not see (choosing it restores the record; writing ``deleted`` again confirms the delete).
    """
    out: dict[str, list[tuple[Any, Hlc]]] = {}
    if withdrawn(doc):
        return out
    for field, heads in doc["heads"].items():
        if len(heads) > 1 and field != "deleted":
            out[field] = [(v, Hlc.parse(h)) for v, h in heads[1:]]
    gone = delete_conflict(doc)
    if gone is not None:
        edits = [
            Hlc.parse(h)
            for f in gone.fields
            for _v, h in doc["heads"].get(f, ())
            if Hlc.parse(h).device in gone.edited_by
        ]
        newest: dict[str, Hlc] = {}
        for e in edits:
            if e.device not in newest or e > newest[e.device]:
                newest[e.device] = e
        out["deleted"] = [(False, h) for h in sorted(newest.values(), reverse=True)]
    elif len(doc["heads"].get("deleted", ())) > 1:
        out["deleted"] = [(v, Hlc.parse(h)) for v, h in doc["heads"]["deleted"][1:]]
    return out


def conflict_devices(doc: Mapping[str, Any], own_device: str = "") -> list[str]:
    """Who else wrote the versions in conflict: every device of every competing version
    (winning or losing) but ``own_device``, so the laptop whose edit lost names the other
    laptop, never itself."""
    devices: set[str] = set()
    if withdrawn(doc):
        return []
    for field, heads in doc["heads"].items():
        if len(heads) > 1 and field != "deleted":
            devices.update(Hlc.parse(h).device for _v, h in heads)
    gone = delete_conflict(doc)
    if gone is not None:
        devices.update(gone.deleted_by)
        devices.update(gone.edited_by)
    devices.discard(own_device)
    return sorted(devices)


def merge_ops(ops: Iterable[Op], docs: dict[tuple[str, str], dict[str, Any]] | None = None):
    """Apply many ops to a ``{(kind, record_id): doc}`` map (created if None) and return it."""
    docs = {} if docs is None else docs
    for op in ops:
        key = (op.kind, op.record_id)
        doc = docs.get(key)
        if doc is None:
            doc = docs[key] = new_record_doc(op)
        apply_op(doc, op)
    return docs


# ---------------------------------------------------------------------------------------------
# Wire messages
# ---------------------------------------------------------------------------------------------


def push_body(
    ops: Iterable[Op], device: str, label: str | None = None, version: int = PROTOCOL_VERSION
) -> dict[str, Any]:
    """A push body in ``version`` (the secretariat's, when older than ours: the caller sends
    only ops that ``fits`` it)."""
    body: dict[str, Any] = {"protocol": version, "device": device}
    if label:
        body["label"] = label
    body["ops"] = [o.to_dict() for o in ops]
    return body


def parse_push_body(
    data: Any, *, now_ms: int | None = None, speaks: int = PROTOCOL_VERSION
) -> list[Op]:
    """Validate a push body.  Every op must be valid or the whole batch is rejected.
    ``speaks``: the newest version this side accepts (every older one too); a test passes the
    previous version to be the secretariat of before a field was added."""
    if not isinstance(data, Mapping):
        raise ProtocolError("body: expected an object")
    version = data.get("protocol")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= speaks:
        spoken_here = "1" if speaks == 1 else f"1-{speaks}"
        raise ProtocolError(
            f"{PROTOCOL_REFUSAL}{version!r} is not supported (this side speaks {spoken_here})"
        )
    ops = data.get("ops")
    if not isinstance(ops, list) or not (MIN_BATCH <= len(ops) <= MAX_BATCH):
        raise ProtocolError(f"body: ops must be a list of {MIN_BATCH}-{MAX_BATCH} ops")
    return [
        parse_op(o, where=f"ops[{i}]", now_ms=now_ms, version=version) for i, o in enumerate(ops)
    ]
