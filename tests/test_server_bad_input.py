"""More bad requests against the real server (tests/test_secretariat.py has the invalid-batch
matrix): forged duplicates, non-numbers, oversized fields and batches, bad cursors and paging,
bad idempotency keys.  Each gets a 4xx with a one-line JSON reason (never a 500), and the
server's tables are exactly as they were."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from test_secretariat import entry_ops, get, push, session_ops

from roundtable.model import HlcClock, Op, new_id
from roundtable.protocol import MAX_BATCH, push_body


@pytest.fixture(scope="module")
def live_server(shared_engine_server):
    """Every test here runs against SQLite and against PostgreSQL (tests/fixtures_pg.py): one
    server per engine for the module, a fresh event per test (``seeded``); the tables are
    compared before and after each refusal, so other tests' rows change nothing."""
    return shared_engine_server


def snapshot(server) -> list:
    return [
        server.query("SELECT op_id, value, hlc, device FROM ops ORDER BY seq"),
        server.query("SELECT * FROM sessions ORDER BY session_id"),
        server.query("SELECT key FROM idempotency ORDER BY key"),
    ]


@pytest.fixture
def seeded(live_server):
    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    clock = HlcClock("lap-a")
    sid, ops = session_ops(event_id, "europe", clock)
    ops += entry_ops(event_id, sid, clock, "Original text")
    assert push(live_server.url, event_id, token, ops).status_code == 200
    return live_server, event_id, token, sid, ops, clock


def post_raw(server, event_id, token, body: bytes, key: str | None = None, **headers):
    return httpx.post(
        f"{server.url}/v1/events/{event_id}/ops",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4()),
                 "Content-Type": "application/json", **headers},
        timeout=10,
    )  # fmt: skip


def assert_refused(resp: httpx.Response, status: int, needle: str) -> None:
    assert resp.status_code == status, resp.text
    detail = resp.json()["detail"]
    assert isinstance(detail, str) and needle in detail and "\n" not in detail, detail


def test_a_forged_op_reusing_an_id_changes_nothing(seeded) -> None:
    server, event_id, token, sid, ops, clock = seeded
    before = snapshot(server)
    text_op = next(o for o in ops if o.field == "text")
    forged = text_op.to_dict() | {"value": "Forged text"}
    body = push_body([], "lap-a") | {"ops": [forged]}
    r = post_raw(server, event_id, token, json.dumps(body).encode())
    assert r.status_code == 200 and r.json()["duplicates"] == [text_op.op_id]
    assert snapshot(server)[0] == before[0]  # the stored op keeps its first content
    (value,) = server.query("SELECT value FROM ops WHERE op_id = ?", (text_op.op_id,))[0]
    assert json.loads(value) == "Original text"


@pytest.mark.parametrize(
    ("case", "status", "needle"),
    [
        ("nan", 422, "entry.text: expected str, got float"),
        ("infinity", 422, "entry.text: expected str, got float"),
        ("huge-number", 422, "ops[0]"),
        ("not-uuid-op-id", 422, "ops[0]: op_id"),
        ("bool-counter-hlc", 422, "ops[0]: HLC must be a string"),
        ("negative-hlc", 422, "ops[0]: malformed HLC"),
        ("too-many-ops", 422, f"1-{MAX_BATCH} ops"),
        ("huge-field", 422, "ops[0]: "),
        ("wrong-content-type", 415, "application/json"),
        ("key-too-long", 422, "Idempotency-Key"),
        ("missing-field", 422, "ops[1]: missing hlc"),
        ("extra-field", 422, "ops[1]: unknown key 'admin'"),
        ("huge-counter", 422, "ops[0]: malformed HLC"),
        ("max-hlc", 422, "ops[2]: HLC is "),
        ("far-future-third-op", 422, "ops[2]: HLC is "),
    ],
)
def test_bad_push_bodies_are_refused_and_change_nothing(seeded, case, status, needle) -> None:
    server, event_id, token, sid, ops, clock = seeded
    fresh = entry_ops(event_id, sid, clock, "A new need")
    body = push_body(fresh, "lap-a")
    raw = json.dumps(body)
    headers: dict[str, str] = {}
    key = None
    if case == "nan":
        raw = raw.replace('"A new need"', "NaN")
    elif case == "infinity":
        raw = raw.replace('"A new need"', "-Infinity")
    elif case == "huge-number":
        body["ops"][0]["value"] = 10**400
        raw = json.dumps(body)
    elif case == "not-uuid-op-id":
        body["ops"][0]["op_id"] = "../../etc/passwd"
        raw = json.dumps(body)
    elif case == "bool-counter-hlc":
        body["ops"][0]["hlc"] = True
        raw = json.dumps(body)
    elif case == "negative-hlc":
        body["ops"][0]["hlc"] = "-0000000000001:0000:lap-a"
        raw = json.dumps(body)
    elif case == "too-many-ops":
        many = [o for _ in range(MAX_BATCH // len(fresh) + 2) for o in
                entry_ops(event_id, sid, clock, "Many")]  # fmt: skip
        raw = json.dumps(push_body(many, "lap-a"))
    elif case == "huge-field":
        body["ops"][0]["value"] = "x" * 300_000
        raw = json.dumps(body)
    elif case == "wrong-content-type":
        headers["Content-Type"] = "text/plain"
    elif case == "key-too-long":
        key = "k" * 5_000
    elif case == "missing-field":
        del body["ops"][1]["hlc"]
        raw = json.dumps(body)
    elif case == "extra-field":
        body["ops"][1]["admin"] = True
        raw = json.dumps(body)
    elif case == "huge-counter":
        body["ops"][0]["hlc"] = body["ops"][0]["hlc"].replace("-", "-9999999", 1)
        raw = json.dumps(body)
    elif case in ("max-hlc", "far-future-third-op"):
        wall = "999999999999999" if case == "max-hlc" else f"{(int(time.time()) + 120) * 1000:015d}"
        body["ops"][2]["hlc"] = f"{wall}-000000-lap-a"
        raw = json.dumps(body)
    before = snapshot(server)
    r = post_raw(server, event_id, token, raw.encode(), key=key, **headers)
    if case == "huge-field" and r.status_code == 413:
        assert_refused(r, 413, "limit")  # the body limit may come first: also a refusal
    else:
        assert_refused(r, status, needle)
    assert snapshot(server) == before


def test_a_key_reused_with_another_batch_is_refused(seeded) -> None:
    server, event_id, token, sid, ops, clock = seeded
    first = entry_ops(event_id, sid, clock, "First")
    assert push(server.url, event_id, token, first, key="same-key").status_code == 200
    before = snapshot(server)
    second = entry_ops(event_id, sid, clock, "Second")
    r = push(server.url, event_id, token, second, key="same-key")
    assert_refused(r, 422, "Idempotency-Key")
    assert snapshot(server) == before


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"since": "-1"}, "since"),
        ({"since": "abc"}, "since"),
        ({"since": str(10**30)}, "since"),
        ({"since": "0", "limit": "0"}, "limit"),
        ({"since": "0", "limit": "1000000"}, "limit"),
        ({"since": "0", "limit": "ten"}, "limit"),
    ],
)
def test_bad_cursor_and_paging_are_422(seeded, params, needle) -> None:
    server, event_id, token, *_ = seeded
    r = get(server.url, f"/v1/events/{event_id}/ops", token, **params)
    assert_refused(r, 422, needle)


def test_unknown_and_malformed_ids_in_paths_are_4xx(seeded) -> None:
    server, event_id, token, *_ = seeded
    for path, status in [
        (f"/v1/sessions/{uuid.uuid4()}/minutes", 404),
        ("/v1/sessions/" + "x" * 5_000 + "/minutes", 404),
        (f"/v1/events/{uuid.uuid4()}/report", 403),
        (f"/v1/events/{event_id}/records/not-an-id/history", 404),
    ]:
        r = get(server.url, path, token)
        assert r.status_code == status, (path[:60], r.status_code, r.text[:200])
        assert "\n" not in r.json()["detail"]


def test_forged_record_ids_are_refused_and_change_nothing(seeded) -> None:
    """A record stays in its event, session and kind; an HLC names one version."""
    server, event_id, everyone, europe_sid, ops, clock = seeded
    europe_entry = next(o for o in ops if o.kind == "entry").record_id
    africa_sid, africa_ops = session_ops(event_id, "africa", clock)
    africa_ops += entry_ops(event_id, africa_sid, clock, "African need")
    assert push(server.url, event_id, everyone, africa_ops).status_code == 200
    africa_entry = next(o for o in africa_ops if o.kind == "entry").record_id
    europe = server.token(event_id, ["europe"])
    other_event = server.create_event("Elsewhere")
    other_token = server.token(other_event)
    other_sid, other_ops = session_ops(other_event, "europe", HlcClock("lap-z"))

    def op(kind, record_id, session_id, field, value, ev=event_id, hlc=None):
        h = clock.now().encode() if hlc is None else hlc
        return Op(new_id(), ev, session_id, record_id, kind, field, value, h, "lap-a")

    stored_text = next(o for o in ops if o.field == "text")
    cases = [
        # an African entry rewritten through a European session: outside the token's regions
        (europe, event_id, [op("entry", africa_entry, europe_sid, "text", "Hijacked")], 403,
         f"ops[0]: record {africa_entry} belongs to a session outside this token's regions"),
        # a record moved to another session of a region the token may write
        (everyone, event_id, [op("entry", europe_entry, africa_sid, "text", "Moved")], 422,
         f"ops[0]: record {europe_entry} belongs to session {europe_sid}"),
        # a session record written as an entry
        (everyone, event_id, [op("entry", europe_sid, europe_sid, "text", "Shape")], 422,
         f"ops[0]: record {europe_sid} is a session record, not a entry"),
        # a record of this event written through another event
        (other_token, other_event,
         [*other_ops, op("entry", europe_entry, other_sid, "text", "Cross", ev=other_event)],
         403, f"ops[{len(other_ops)}]: record {europe_entry} belongs to another event"),
        # a new op id with a stored version's HLC: would make replicas disagree
        (everyone, event_id,
         [op("entry", europe_entry, europe_sid, "text", "Twin", hlc=stored_text.hlc)], 409,
         f"ops[0]: HLC {stored_text.hlc} of text is already op {stored_text.op_id}'s"),
    ]  # fmt: skip
    for token, ev, batch, status, needle in cases:
        before = snapshot(server)
        r = push(server.url, ev, token, batch)
        assert_refused(r, status, needle)
        assert snapshot(server) == before


def test_two_versions_with_one_hlc_in_one_batch_are_refused(seeded) -> None:
    server, event_id, token, sid, ops, clock = seeded
    entry = next(o for o in ops if o.kind == "entry")
    h = clock.now().encode()
    twins = [
        Op(new_id(), event_id, sid, entry.record_id, "entry", "text", text, h, "lap-a")
        for text in ("One", "Other")
    ]
    before = snapshot(server)
    assert_refused(push(server.url, event_id, token, twins), 409, "ops[1]: HLC ")
    assert snapshot(server) == before
