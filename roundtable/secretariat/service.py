"""The push transaction and its checks, apart from HTTP: routers call ``push``; a refused batch
raises ``Refusal`` (status + one line saying what and where), and nothing of it is written."""

from __future__ import annotations

import json
import re
from typing import Any

from roundtable import protocol
from roundtable.model import REGIONS, Op
from roundtable.secretariat.repository import Repository, TokenScope


class Refusal(Exception):
    """A request the secretariat refuses: an HTTP status and a one-line reason."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def parse_json(raw: bytes) -> Any:
    """A push body's JSON, or a Refusal saying where it breaks."""
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise Refusal(422, "body: not UTF-8") from None
    except RecursionError:
        raise Refusal(422, "body: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise Refusal(
            422, f"body: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None


def push(
    repo: Repository,
    scope: TokenScope,
    event_id: str,
    key: str,
    data: Any,
    digest: str | tuple[str, ...],
    now: float,
) -> dict[str, Any]:
    """Store a batch all or nothing; replaying ``key`` returns the stored answer.  Returns
    ``{"protocol", "accepted", "duplicates"}``."""
    with repo.write_transaction():
        repo.lock_batch(key, scope.token_hash)
        digests = (digest,) if isinstance(digest, str) else tuple(digest)
        digest = digests[0]
        saved = repo.saved_answer(key, scope.token_hash)
        if saved is not None:
            if saved.pop("request_sha256", digest) not in digests:
                raise Refusal(
                    422,
                    "Idempotency-Key: already used for a different batch; a new batch needs a "
                    "new key",
                )
            # the same answer, marked: a client that did not just send this batch counts its
            # ops as already on the server, not as new (issue 12)
            return saved | {"replayed": True}
        data = neutralise_bidi(data)
        try:
            ops = protocol.parse_push_body(data, now_ms=int(now * 1000))
        except protocol.ProtocolError as exc:
            raise Refusal(422, str(exc)[:500]) from None
        label = device_label(data)
        new_sessions = check_batch(repo, scope, event_id, ops)
        devices = {o.device for o in ops} | ({label[0]} if label is not None else set())
        check_devices(repo, scope, event_id, devices)
        repo.add_sessions(event_id, new_sessions)
        if label is not None:
            repo.set_label(event_id, label[0], label[1])
        accepted = repo.insert_ops(ops, now)
        fresh = set(accepted)
        duplicates = list(dict.fromkeys(o.op_id for o in ops if o.op_id not in fresh))
        answer = {
            "protocol": data["protocol"],  # the body's: checked by parse_push_body
            "accepted": accepted,
            "duplicates": duplicates,
        }
        repo.save_answer(key, scope.token_hash, answer | {"request_sha256": digest}, now)
        return answer


BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
"""Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they can make
"Invoice \u202egpj.exe\u202c" read "Invoice exe.jpg".  The marks (LRM, RLM, ALM) stay."""


def _without_bidi(value: Any) -> Any:
    if isinstance(value, str):
        return BIDI_CONTROLS.sub("", value)
    if isinstance(value, list):
        return [_without_bidi(v) for v in value]
    return value


def neutralise_bidi(data: Any) -> Any:
    """The push body with bidirectional controls removed from every op's value and from the
    laptop's label (issue 19): a laptop that let one through (an older version, a script) gets
    its batch stored without them rather than refused whole."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    if isinstance(out.get("label"), str):
        out["label"] = _without_bidi(out["label"])
    ops = out.get("ops")
    if isinstance(ops, list):
        out["ops"] = [
            {**op, "value": _without_bidi(op["value"])}
            if isinstance(op, dict) and "value" in op
            else op
            for op in ops
        ]
    return out


def check_devices(repo: Repository, scope: TokenScope, event_id: str, devices: set[str]) -> None:
    """Within an event a device id belongs to the region scope of the first token that pushed
    under it (issue 19): a token reissued for the same regions keeps it, a token of other
    regions is refused (403), so no laptop can write under another room's name."""
    mine = json.dumps(sorted(scope.regions))
    # bind first, then read: pushes to one event run in parallel on PostgreSQL (issue 25), so
    # "read, then bind" could let two pushes of other scopes each see a device unbound.  The
    # insert (ON CONFLICT DO NOTHING) waits for a concurrent push binding the same id to end,
    # and the read that follows sees whichever binding came first; a refusal rolls ours back.
    repo.bind_devices(event_id, sorted(devices), mine, scope.token_hash)
    bound = repo.device_scopes(event_id, sorted(devices))
    for device in sorted(devices):
        if bound.get(device, mine) != mine:
            raise Refusal(
                403,
                f"device {device[:64]}: this device id belongs to a laptop of other regions "
                "in this event; a laptop pushes under its own id",
            )


def body_digests(data: Any, raw: bytes) -> tuple[str, str]:
    """What an Idempotency-Key is bound to: the batch without the laptop's label (a label
    changed between two tries of one batch is still the same batch), then the raw body's
    SHA-256 (what answers saved before labels existed were bound to)."""
    import hashlib

    raw_digest = hashlib.sha256(raw).hexdigest()
    if not isinstance(data, dict):
        return raw_digest, raw_digest
    batch = {k: v for k, v in data.items() if k != "label"}
    text = json.dumps(batch, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), raw_digest


def device_label(data: Any) -> tuple[str, str] | None:
    """``(device, label)`` a push body names (the laptop's people, shown in conflicts), checked
    with the rules every text follows; None when the body names no label."""
    label = data.get("label") if isinstance(data, dict) else None
    if label is None:
        return None
    device = data.get("device")
    try:
        protocol.check_label(label)
        protocol.parse_hlc(f"{'1':0>15}-000000-{device}")  # a device id as an HLC takes it
    except (protocol.ProtocolError, ValueError) as exc:
        raise Refusal(422, f"body: label: {exc}"[:500]) from None
    return str(device), label


def check_batch(
    repo: Repository, scope: TokenScope, event_id: str, ops: list[Op]
) -> dict[str, str]:
    """Check every op's event, record shape and region against the token.  Returns the regions
    of sessions first seen in this batch.  Raises Refusal (422 or 403)."""
    batch_regions: dict[str, str] = {}
    for i, op in enumerate(ops):
        where = f"ops[{i}]"
        if op.event_id != event_id:
            raise Refusal(422, f"{where}: event_id {op.event_id} differs from the path's")
        if op.kind == "event" and op.record_id != op.event_id:
            raise Refusal(422, f"{where}: an event record's record_id must be its event_id")
        if op.kind == "event" and not scope.all_regions:
            raise Refusal(403, f"{where}: the event record needs a token for all regions ('*')")
        if op.kind == "session":
            if op.record_id != op.session_id:
                raise Refusal(422, f"{where}: a session record's record_id must be its session_id")
            if op.field == "event_id" and op.value != event_id:
                raise Refusal(422, f"{where}: a session cannot move to another event")
            if op.field == "region":
                if op.value not in REGIONS:
                    raise Refusal(
                        422, f"{where}: region {str(op.value)[:40]!r} is not one of "
                        f"{', '.join(REGIONS)}"
                    )  # fmt: skip
                prev = batch_regions.setdefault(op.session_id, op.value)
                if prev != op.value:
                    raise Refusal(422, f"{where}: session {op.session_id} is given two regions")
    known = repo.sessions([o.session_id for o in ops if o.session_id])
    new: dict[str, str] = {}
    for i, op in enumerate(ops):
        sid = op.session_id
        if not sid:
            continue
        where = f"ops[{i}]"
        if sid in known:
            ev, region = known[sid]
            if ev != event_id:
                raise Refusal(422, f"{where}: session {sid} belongs to another event")
            if batch_regions.get(sid, region) != region:
                raise Refusal(
                    422, f"{where}: session {sid} is in region {region}; its region cannot change"
                )
        else:
            region = batch_regions.get(sid, "")
            if not region:
                raise Refusal(
                    422,
                    f"{where}: session {sid} is not on the server and this batch does not give "
                    "its region",
                )
            new[sid] = region
        if not scope.allows_region(region):
            raise Refusal(
                403, f"{where}: session {sid} is in region {region}, outside this token's regions"
            )
    check_records(repo, scope, ops)
    return new


def check_records(repo: Repository, scope: TokenScope, ops: list[Op]) -> None:
    """A record stays in the event, session and kind it was created in, and an HLC names one
    version of a field: an op that reuses a stored record id elsewhere, or a stored HLC with
    another op id, is forged (or a broken device) and refused before it can reach a merge."""
    owner: dict[str, tuple[str, str, str]] = {}
    versions: dict[tuple[str, str, str], str] = {}
    for op_id, rid, ev, sid, kind, field, hlc in repo.record_versions([o.record_id for o in ops]):
        owner.setdefault(rid, (ev, sid, kind))
        versions.setdefault((rid, field, hlc), op_id)
    for i, op in enumerate(ops):
        where = f"ops[{i}]"
        ev, sid, kind = owner.setdefault(op.record_id, (op.event_id, op.session_id, op.kind))
        if ev != op.event_id:
            raise Refusal(403, f"{where}: record {op.record_id} belongs to another event")
        if sid != op.session_id:
            found = repo.session(sid) if sid else None
            if sid and not scope.allows_region(found[1] if found else ""):
                raise Refusal(
                    403,
                    f"{where}: record {op.record_id} belongs to a session outside this "
                    "token's regions",
                )
            raise Refusal(
                422, f"{where}: record {op.record_id} belongs to session {sid or '(the event)'}"
            )
        if kind != op.kind:
            raise Refusal(
                422, f"{where}: record {op.record_id} is a {kind} record, not a {op.kind}"
            )
        first = versions.setdefault((op.record_id, op.field, op.hlc), op.op_id)
        if first != op.op_id:
            raise Refusal(
                409, f"{where}: HLC {op.hlc} of {op.field} is already op {first}'s; "
                "a new version needs a new HLC"
            )  # fmt: skip
