"""The secretariat's API against a real uvicorn on 127.0.0.1: push, pull, scope, history,
documents, limits.  Assertions read the server's database to check what was (not) written.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from fixtures_server import LiveServer

from roundtable.model import (
    AgendaItem,
    Entry,
    Event,
    HlcClock,
    Op,
    Record,
    Session,
    new_id,
)
from roundtable.protocol import PROTOCOL_VERSION, push_body


@pytest.fixture
def live_server(engine_server):
    """Every test here runs against SQLite and against PostgreSQL (tests/fixtures_pg.py)."""
    return engine_server


def record_ops(rec: Record, event_id: str, session_id: str, clock: HlcClock) -> list[Op]:
    """The ops that create ``rec``, one per field, as a laptop would write them."""
    ops = []
    for field, value in rec.to_fields().items():
        h = clock.now()
        ops.append(
            Op(
                new_id(), event_id, session_id, rec.id, rec.KIND, field, value, h.encode(), h.device
            )  # fmt: skip
        )
    return ops


def session_ops(event_id: str, region: str, clock: HlcClock, *, title: str = "Round table"):
    s = Session(id=new_id(), event_id=event_id, region=region, title=title, room="B")
    return s.id, record_ops(s, event_id, s.id, clock)


def entry_ops(event_id: str, session_id: str, clock: HlcClock, text: str, **kw) -> list[Op]:
    e = Entry(id=new_id(), session_id=session_id, text=text, **kw)
    return record_ops(e, event_id, session_id, clock)


def push(server_url: str, event_id: str, token: str, ops, *, key: str | None = None, **kw):
    return httpx.post(
        f"{server_url}/v1/events/{event_id}/ops",
        json=push_body(ops, "lap-a"),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4())},
        timeout=10,
        **kw,
    )


def get(server_url: str, path: str, token: str | None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{server_url}{path}", headers=headers, params=params, timeout=10)


@pytest.fixture
def setup(live_server: LiveServer):
    event_id = live_server.create_event("Conference 2026", venue="Lyon")
    token = live_server.token(event_id, ["*"])
    return live_server, event_id, token


def test_health_needs_no_token_and_whoami_tells_scope(setup):
    server, event_id, _ = setup
    assert httpx.get(f"{server.url}/v1/health").json()["status"] == "ok"
    europe = server.token("Conference 2026", ["europe", "africa"])
    who = get(server.url, "/v1/whoami", europe).json()
    assert who["event_id"] == event_id
    assert who["event_name"] == "Conference 2026"
    assert who["regions"] == ["europe", "africa"]
    events = get(server.url, "/v1/events", europe).json()["events"]
    assert [(e["event_id"], e["name"], e["venue"]) for e in events] == [
        (event_id, "Conference 2026", "Lyon")
    ]


def test_push_then_pull_in_pages(setup):
    server, event_id, token = setup
    clock = HlcClock("lap-a")
    sid, ops = session_ops(event_id, "europe", clock)
    for n in range(3):
        ops += entry_ops(event_id, sid, clock, f"need number {n}", entry_kind="need")
    r = push(server.url, event_id, token, ops)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "protocol": PROTOCOL_VERSION,  # the body's: an older client reads its own version
        "accepted": [o.op_id for o in ops],
        "duplicates": [],
    }

    seen: list[dict] = []
    since, pages = 0, 0
    while True:
        page = get(server.url, f"/v1/events/{event_id}/ops", token, since=since, limit=7,
                   protocol=PROTOCOL_VERSION).json()  # fmt: skip
        seen += page["ops"]  # in this version: session.number too (issue 23)
        pages += 1
        since = page["next"]
        if not page["more"]:
            break
    event_op_count = 6  # name, venue, starts, ends, deleted and (version 2) tz of the event
    assert len(seen) == len(ops) + event_op_count
    assert pages == -(-len(seen) // 7)
    assert [s["seq"] for s in seen] == sorted(s["seq"] for s in seen)
    assert {s["op_id"] for s in seen} >= {o.op_id for o in ops}
    again = get(server.url, f"/v1/events/{event_id}/ops", token, since=since).json()
    assert again == {"ops": [], "next": since, "more": False}
    sessions = get(server.url, f"/v1/events/{event_id}/sessions", token).json()["sessions"]
    assert [(s["session_id"], s["region"], s["title"]) for s in sessions] == [
        (sid, "europe", "Round table")
    ]


def test_same_key_replays_the_answer_and_new_key_reports_duplicates(setup):
    server, event_id, token = setup
    clock = HlcClock("lap-a")
    sid, ops = session_ops(event_id, "africa", clock)
    first = push(server.url, event_id, token, ops, key="batch-1")
    count = server.op_count()
    replay = push(server.url, event_id, token, ops, key="batch-1")
    assert replay.json() == first.json() | {"replayed": True}  # issue 12: marked as a replay
    assert server.op_count() == count
    fresh = push(server.url, event_id, token, ops + entry_ops(event_id, sid, clock, "x"))
    body = fresh.json()
    assert body["duplicates"] == [o.op_id for o in ops]
    assert len(body["accepted"]) == len(Entry.field_names())
    assert server.op_count() == count + len(Entry.field_names())


def test_auth_refusals_write_nothing(setup):
    server, event_id, token = setup
    other_event = server.create_event("Another conference")
    other_token = server.token(other_event, ["*"])
    americas = server.token(event_id, ["americas"])
    clock = HlcClock("lap-a")
    _, ops = session_ops(event_id, "europe", clock)
    before = server.op_count()

    r = httpx.post(f"{server.url}/v1/events/{event_id}/ops", json=push_body(ops, "lap-a"),
                   headers={"Idempotency-Key": "k"})  # fmt: skip
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert push(server.url, event_id, "not-a-token", ops).status_code == 401
    r = push(server.url, event_id, other_token, ops)
    assert r.status_code == 403 and "event" in r.json()["detail"]
    r = push(server.url, event_id, americas, ops)
    assert r.status_code == 403
    assert "region europe" in r.json()["detail"]
    assert server.op_count() == before
    assert server.query("SELECT COUNT(*) FROM sessions") == [(0,)]
    assert server.query("SELECT COUNT(*) FROM idempotency") == [(0,)]
    # reads are refused the same way
    assert get(server.url, f"/v1/events/{event_id}/ops", None).status_code == 401
    assert get(server.url, f"/v1/events/{event_id}/ops", "wrong").status_code == 401
    assert get(server.url, f"/v1/events/{event_id}/ops", other_token).status_code == 403


def test_region_scoped_token_sees_only_its_sessions(setup):
    server, event_id, token = setup
    clock = HlcClock("lap-a")
    eu, eu_ops = session_ops(event_id, "europe", clock)
    af, af_ops = session_ops(event_id, "africa", clock)
    assert push(server.url, event_id, token, eu_ops + af_ops).status_code == 200
    europe = server.token(event_id, ["europe"])
    ops = get(server.url, f"/v1/events/{event_id}/ops", europe, limit=1000).json()["ops"]
    assert {o["session_id"] for o in ops} == {"", eu}
    sessions = get(server.url, f"/v1/events/{event_id}/sessions", europe).json()["sessions"]
    assert [s["session_id"] for s in sessions] == [eu]
    assert get(server.url, f"/v1/sessions/{af}/minutes", europe).status_code == 403
    hist = get(server.url, f"/v1/events/{event_id}/records/{af}/history", europe)
    assert hist.status_code == 403


@pytest.mark.parametrize(
    "case",
    ["malformed-json", "deep-json", "not-utf8", "not-object", "future-hlc", "forged-event",
     "device-mismatch", "wrong-type", "no-region", "bad-region", "empty-batch", "protocol"],
)  # fmt: skip
def test_invalid_batches_are_422_with_a_reason_and_write_nothing(setup, case):
    server, event_id, token = setup
    clock = HlcClock("lap-a")
    sid, ops = session_ops(event_id, "europe", clock)
    body: object = push_body(ops, "lap-a")
    raw = None
    expect = ""
    if case == "malformed-json":
        raw, expect = b'{"protocol": 1, "ops": [', "invalid JSON at line 1"
    elif case == "deep-json":
        raw, expect = b"[" * 200_000 + b"]" * 200_000, "nested too deeply"
    elif case == "not-utf8":
        raw, expect = b'{"protocol": "\xff"}', "not UTF-8"
    elif case == "not-object":
        body, expect = [1, 2], "expected an object"
    elif case == "future-hlc":
        future = HlcClock("lap-a", wall=lambda: time.time() + 3600)
        _, ops = session_ops(event_id, "europe", future)
        body, expect = push_body(ops, "lap-a"), "in the future"
    elif case == "forged-event":
        body["ops"][3]["event_id"] = str(uuid.uuid4())  # type: ignore[index]
        expect = "ops[3]: event_id"
    elif case == "device-mismatch":
        body["ops"][1]["device"] = "lap-b"  # type: ignore[index]
        expect = "ops[1]: device"
    elif case == "wrong-type":
        body["ops"][2]["value"] = {"nested": True}  # type: ignore[index]
        expect = "ops[2]: session."
    elif case == "no-region":
        body["ops"] = [o for o in body["ops"] if o["field"] != "region"]  # type: ignore[index]
        expect = "does not give its region"
    elif case == "bad-region":
        for o in body["ops"]:  # type: ignore[index]
            if o["field"] == "region":
                o["value"] = "atlantis"
        expect = "region 'atlantis'"
    elif case == "empty-batch":
        body["ops"] = []  # type: ignore[index]
        expect = "ops must be a list"
    elif case == "protocol":
        body["protocol"] = 99  # type: ignore[index]
        expect = "protocol 99"
    before = server.op_count()
    r = httpx.post(
        f"{server.url}/v1/events/{event_id}/ops",
        content=raw if raw is not None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k",
                 "Content-Type": "application/json"},
    )  # fmt: skip
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert expect in detail and "\n" not in detail
    assert server.op_count() == before
    assert server.query("SELECT COUNT(*) FROM idempotency") == [(0,)]


def test_oversized_body_is_413_and_missing_key_is_422(live_server: LiveServer, tmp_path):
    small = LiveServer(tmp_path / "small.db", max_body_bytes=2_000).start()
    try:
        event_id = small.create_event("E")
        token = small.token(event_id)
        clock = HlcClock("lap-a")
        sid, ops = session_ops(event_id, "europe", clock)
        ops += entry_ops(event_id, sid, clock, "x" * 3_000)
        r = push(small.url, event_id, token, ops)
        assert r.status_code == 413 and "limit of 2000 bytes" in r.json()["detail"]
        r = httpx.post(f"{small.url}/v1/events/{event_id}/ops", json=push_body(ops[:2], "lap-a"),
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code == 422 and "Idempotency-Key" in r.json()["detail"]
        assert small.op_count() == len(Event.field_names())  # the event record only
    finally:
        small.stop()


def test_a_session_cannot_change_region_or_event(setup):
    server, event_id, token = setup
    clock = HlcClock("lap-a")
    sid, ops = session_ops(event_id, "europe", clock)
    assert push(server.url, event_id, token, ops).status_code == 200
    base = next(o for o in ops if o.field == "region")
    h = clock.now()
    move = Op(new_id(), event_id, sid, sid, "session", "region", "africa", h.encode(), h.device,
              (base.hlc,))  # fmt: skip
    before = server.op_count()
    r = push(server.url, event_id, token, [move])
    assert r.status_code == 422 and "region cannot change" in r.json()["detail"]
    other = server.create_event("Other")
    before = server.op_count()  # + the other event's record
    h = clock.now()
    stray = Op(new_id(), other, sid, new_id(), "entry", "text", "x", h.encode(), h.device)
    other_token = server.token(other)
    r = push(server.url, other, other_token, [stray])
    assert r.status_code == 422 and "another event" in r.json()["detail"]
    assert server.op_count() == before


def test_history_keeps_both_versions_of_a_conflicting_field(setup):
    server, event_id, token = setup
    a, b = HlcClock("lap-a"), HlcClock("lap-b")
    sid, ops = session_ops(event_id, "mena", a)
    entry = entry_ops(event_id, sid, a, "Border watch list", entry_kind="action")
    assert push(server.url, event_id, token, ops + entry).status_code == 200
    text_op = next(o for o in entry if o.field == "text")
    edits = []
    for clock, value in ((a, "Share the watch list"), (b, "Share the border list by May")):
        h = clock.now()
        edits.append(Op(new_id(), event_id, sid, text_op.record_id, "entry", "text", value,
                        h.encode(), h.device, (text_op.hlc,)))  # fmt: skip
    for e in edits:
        assert push(server.url, event_id, token, [e]).status_code == 200
    hist = get(server.url, f"/v1/events/{event_id}/records/{text_op.record_id}/history", token)
    versions = [(v["value"], v["device"]) for v in hist.json()["versions"] if v["field"] == "text"]
    assert versions == [
        ("Border watch list", "lap-a"),
        ("Share the watch list", "lap-a"),
        ("Share the border list by May", "lap-b"),
    ]
    missing = get(server.url, f"/v1/events/{event_id}/records/{new_id()}/history", token)
    assert missing.status_code == 404


def test_minutes_and_report_contain_the_records(setup):
    server, event_id, token = setup
    clock = HlcClock("lap-a")
    sid, ops = session_ops(event_id, "africa", clock, title="Africa round table")
    item = AgendaItem(id=new_id(), session_id=sid, title="Drug routes", item_kind="discussion")
    ops += record_ops(item, event_id, sid, clock)
    ops += entry_ops(
        event_id,
        sid,
        clock,
        "Synthetic drug routes via ports",
        entry_kind="issue",
        delegations=["GH", "NG"],
        crime_areas=["drugs"],
        agenda_item=item.id,
    )
    ops += entry_ops(
        event_id,
        sid,
        clock,
        "Training on cyber forensics",
        entry_kind="need",
        delegations=["ZM"],
        crime_areas=["cybercrime"],
        priority="high",
    )
    ops += entry_ops(event_id, sid, clock, "Share the watch list", entry_kind="action",
                     owner="GH", due="2026-12-15", status="open")  # fmt: skip
    assert push(server.url, event_id, token, ops).status_code == 200

    md = get(server.url, f"/v1/sessions/{sid}/minutes", token)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    for text in (
        "Africa round table",
        "Synthetic drug routes via ports",
        "Ghana",
        "Training on cyber forensics",
        "Share the watch list",
        "Conference 2026",
    ):
        assert text in md.text, text  # fmt: skip
    html = get(server.url, f"/v1/sessions/{sid}/minutes", token, format="html")
    assert html.headers["content-type"].startswith("text/html")
    assert "<table>" in html.text and "Synthetic drug routes via ports" in html.text
    report = get(server.url, f"/v1/events/{event_id}/report", token)
    assert report.status_code == 200
    for text in (
        "Consolidated report",
        "Training on cyber forensics",
        "Share the watch list",
        "Zambia",
    ):
        assert text in report.text, text  # fmt: skip
    assert "<h1>" in get(server.url, f"/v1/events/{event_id}/report", token, format="html").text
    assert get(server.url, f"/v1/sessions/{new_id()}/minutes", token).status_code == 404
    bad = get(server.url, f"/v1/sessions/{sid}/minutes", token, format="pdf")
    assert bad.status_code == 422 and "format" in bad.json()["detail"]


def test_options_and_405_list_the_allowed_methods(setup):
    server, event_id, token = setup
    path = f"{server.url}/v1/events/{event_id}/ops"
    r = httpx.options(path)
    assert r.status_code == 204
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    r = httpx.delete(path, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 405 and "POST" in r.headers["allow"]
    r = httpx.put(f"{server.url}/v1/health")
    assert r.status_code == 405 and r.headers["allow"] == "GET, OPTIONS"
    r = get(server.url, f"/v1/events/{event_id}/ops", token, limit=5000)
    assert r.status_code == 422 and r.json()["detail"].startswith("query.limit:")


def test_a_batch_resent_after_a_lost_response_is_stored_once(setup, fault_proxy):
    server, event_id, token = setup
    clock = HlcClock("lap-a")
    _, ops = session_ops(event_id, "europe", clock)
    fault_proxy.mode = "cut"
    with pytest.raises(httpx.HTTPError):
        push(fault_proxy.url, event_id, token, ops, key="lost-answer")
    assert server.op_count() == len(Event.field_names()) + len(ops)  # the server did the work
    fault_proxy.mode = "pass"
    r = push(fault_proxy.url, event_id, token, ops, key="lost-answer")
    assert r.status_code == 200
    assert r.json()["accepted"] == [o.op_id for o in ops]  # the stored answer, replayed
    assert server.op_count() == len(Event.field_names()) + len(ops)
    fault_proxy.mode = "503"
    r = push(fault_proxy.url, event_id, token, ops)
    assert r.status_code == 503 and r.headers["retry-after"] == "0"
    assert fault_proxy.counts == {"cut": 1, "pass": 1, "503": 1}


def test_the_event_record_goes_through_the_protocol_version(setup):
    server, event_id, token = setup
    ops = get(server.url, f"/v1/events/{event_id}/ops", token).json()["ops"]
    fields = {o["field"]: o["value"] for o in ops}
    assert fields["name"] == "Conference 2026" and fields["venue"] == "Lyon"
    assert {o["device"] for o in ops} == {"secretariat"}
    assert PROTOCOL_VERSION == get(server.url, "/v1/health", None).json()["protocol"]


def test_concurrent_overlapping_pushes_store_each_op_once(setup):
    """Eight clients push overlapping batches at the same time (uvicorn's thread pool, one
    SQLite connection per request): every op is stored once and reported new exactly once."""
    from concurrent.futures import ThreadPoolExecutor

    server, event_id, token = setup
    clock = HlcClock("lap-a")
    sid, ops = session_ops(event_id, "europe", clock)
    for n in range(30):
        ops += entry_ops(event_id, sid, clock, f"entry {n}")
    assert push(server.url, event_id, token, ops[:20]).status_code == 200  # the session first
    rest = ops[20:]
    batches = [rest[i : i + 120] for i in range(0, len(rest), 40)]  # each op in ~3 batches

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda b: push(server.url, event_id, token, b), batches * 2))
    assert all(a.status_code == 200 for a in answers)
    accepted = [i for a in answers for i in a.json()["accepted"]]
    assert sorted(accepted) == sorted(o.op_id for o in rest)  # each new exactly once
    stored = server.query("SELECT op_id FROM ops WHERE device = 'lap-a'")
    assert len(stored) == len(ops) == len({r[0] for r in stored})


def test_every_answer_tells_the_time_spent_in_the_server(setup):
    """Server-Timing lets a load test split a request's latency between server and client."""
    server, event_id, token = setup
    answers = [
        get(server.url, "/v1/health", None),
        get(server.url, "/v1/whoami", None),  # 401
        get(server.url, f"/v1/events/{event_id}/ops", token),
        httpx.request("DELETE", f"{server.url}/v1/health"),  # 405 from the guard
    ]
    for r in answers:
        name, _, dur = r.headers["server-timing"].partition(";dur=")
        assert name == "app" and float(dur) >= 0, r.headers


def test_the_guard_keeps_each_paths_methods(tmp_path) -> None:
    """``middleware.Guard`` keeps the methods of each path it matched (issue 25: matching every
    route at every request was a few percent of a worker's CPU): the answers are the same the
    second time, for paths with ids too, and the kept paths are bounded."""
    from fastapi.testclient import TestClient

    from roundtable.secretariat import create_app
    from roundtable.secretariat.middleware import Guard

    app = create_app(tmp_path / "s.db")
    with TestClient(app) as client:
        for _ in range(2):
            r = client.options("/v1/events/e1/ops")
            assert r.status_code == 204 and r.headers["allow"] == "GET, OPTIONS, POST"
            r = client.delete("/v1/events/e2/ops")
            assert r.status_code == 405 and r.headers["allow"] == "GET, OPTIONS, POST"
            assert client.options("/v1/nowhere").status_code == 404
        guard = app.middleware_stack
        while not isinstance(guard, Guard):
            guard = guard.app
        for n in range(Guard.CACHED_PATHS + 10):
            client.options(f"/v1/events/e{n}/ops")
        assert len(guard._allowed) <= Guard.CACHED_PATHS
