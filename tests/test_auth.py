"""Bearer tokens: stored as hashes only, scoped to one event and some regions, refused with 401
or 403 on every data endpoint, and never written anywhere in clear."""

from __future__ import annotations

import hashlib
import logging

import httpx
import pytest
from test_secretariat import push, session_ops

from roundtable.model import HlcClock
from roundtable.secretariat import AdminError, create_event, issue_token, list_events


@pytest.fixture
def live_server(engine_server):
    """Every test here runs against SQLite and against PostgreSQL (tests/fixtures_pg.py)."""
    return engine_server


DATA_ENDPOINTS = [
    ("GET", "/v1/whoami"),
    ("GET", "/v1/events"),
    ("GET", "/v1/events/{event}/sessions"),
    ("GET", "/v1/events/{event}/ops"),
    ("POST", "/v1/events/{event}/ops"),
    ("GET", "/v1/events/{event}/records/{event}/history"),
    ("GET", "/v1/sessions/{session}/minutes"),
    ("GET", "/v1/events/{event}/report"),
]


def test_only_the_hash_of_a_token_is_stored(server_db, engine, tmp_path):
    db = server_db
    event_id = create_event(db, "Conference")
    token = issue_token(db, "Conference", ["europe", "africa"], label="Room B")
    assert len(token) >= 40
    if engine == "sqlite":
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert token.encode() not in raw
    rows = read(db, "SELECT hash, event_id, regions, label FROM tokens")
    assert rows == [
        (hashlib.sha256(token.encode()).hexdigest(), event_id, '["europe", "africa"]', "Room B")
    ]
    assert issue_token(db, event_id, ["*", "europe"]) != token  # by id too; each one new
    assert list_events(db) == [(event_id, "Conference")]


def read(db, sql: str) -> list[tuple]:
    """Rows of the server's database (SQLite file or PostgreSQL URL)."""
    from roundtable.secretariat.db import open_ready

    with open_ready(db) as database, database.repository() as repo:
        return repo.rows(sql)


@pytest.mark.parametrize(
    "event, regions, message",
    [
        ("Nope", ["europe"], "no event 'Nope'"),
        ("Conference", ["atlantis"], "unknown region 'atlantis'"),
        ("Conference", [], "at least one region"),
    ],
)
def test_issue_token_refuses_with_a_reason(server_db, event, regions, message):
    db = server_db
    create_event(db, "Conference")
    with pytest.raises(AdminError, match=message):
        issue_token(db, event, regions)
    assert read(db, "SELECT COUNT(*) FROM tokens") == [(0,)]


def test_event_names_are_unique_and_needed(server_db):
    db = server_db
    create_event(db, "Conference")
    with pytest.raises(AdminError, match="already exists"):
        create_event(db, "Conference")
    with pytest.raises(AdminError, match="needs a name"):
        create_event(db, "  ")
    assert read(db, "SELECT name FROM events") == [("Conference",)]


@pytest.fixture
def scoped(live_server):
    event_id = live_server.create_event("Conference")
    everyone = live_server.token(event_id)
    clock = HlcClock("lap-a")
    sid, ops = session_ops(event_id, "europe", clock)
    assert push(live_server.url, event_id, everyone, ops).status_code == 200
    other_event = live_server.create_event("Elsewhere")
    return live_server, event_id, sid, live_server.token(other_event)


def _call(server, method, path, headers):
    kw = {"headers": {"Idempotency-Key": "k", **headers}}
    if method == "POST":
        kw["json"] = {"protocol": 1, "ops": []}
    return httpx.request(method, server.url + path, **kw)


@pytest.mark.parametrize("method, template", DATA_ENDPOINTS)
def test_every_data_endpoint_needs_a_valid_token(scoped, method, template):
    server, event_id, sid, _ = scoped
    path = template.format(event=event_id, session=sid)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer"}):  # fmt: skip
        r = _call(server, method, path, headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        assert "\n" not in r.json()["detail"]


@pytest.mark.parametrize("method, template", [e for e in DATA_ENDPOINTS if "{" in e[1]])
def test_a_token_of_another_event_is_403(scoped, method, template):
    server, event_id, sid, other_token = scoped
    before = server.op_count()
    r = _call(server, method, template.format(event=event_id, session=sid),
              {"Authorization": f"Bearer {other_token}"})  # fmt: skip
    assert r.status_code == 403, r.text
    assert server.op_count() == before


def test_a_token_of_another_region_sees_and_writes_nothing_of_it(scoped):
    server, event_id, sid, _ = scoped
    africa = server.token(event_id, ["africa"])
    r = _call(server, "GET", f"/v1/sessions/{sid}/minutes", {"Authorization": f"Bearer {africa}"})
    assert r.status_code == 403
    page = httpx.get(f"{server.url}/v1/events/{event_id}/ops",
                     headers={"Authorization": f"Bearer {africa}"}).json()  # fmt: skip
    assert {o["session_id"] for o in page["ops"]} == {""}  # the event record only
    report = httpx.get(f"{server.url}/v1/events/{event_id}/report",
                       headers={"Authorization": f"Bearer {africa}"})  # fmt: skip
    assert report.status_code == 200 and "Europe" not in report.text
    h = HlcClock("lap-z").now()
    from roundtable.model import Op, new_id

    sneaky = Op(new_id(), event_id, sid, new_id(), "entry", "text", "x", h.encode(), h.device)
    before = server.op_count()
    assert push(server.url, event_id, africa, [sneaky]).status_code == 403
    assert server.op_count() == before


def test_the_server_never_logs_a_token(scoped, caplog):
    server, event_id, sid, other_token = scoped
    caplog.set_level(logging.DEBUG)
    secret = "Z" * 43
    _call(server, "GET", f"/v1/events/{event_id}/ops", {"Authorization": f"Bearer {secret}"})
    _call(server, "POST", f"/v1/events/{event_id}/ops", {"Authorization": f"Bearer {other_token}"})
    assert secret not in caplog.text and other_token not in caplog.text


def test_only_an_all_regions_token_may_change_the_event_record(scoped):
    server, event_id, _, _ = scoped
    europe = server.token(event_id, ["europe"])
    from roundtable.model import Op, new_id

    h = HlcClock("lap-e").now()
    rename = Op(new_id(), event_id, "", event_id, "event", "name", "Renamed", h.encode(), h.device)
    before = server.op_count()
    r = push(server.url, event_id, europe, [rename])
    assert r.status_code == 403 and "all regions" in r.json()["detail"]
    assert server.op_count() == before
    assert push(server.url, event_id, server.token(event_id), [rename]).status_code == 200
    assert server.op_count() == before + 1


def test_a_token_is_checked_against_every_stored_hash_in_constant_time(server_db, monkeypatch):
    """The lookup compares the presented token's hash with every stored one through
    hmac.compare_digest (never ``==`` or a first-match exit), so the answer time does not depend
    on which token, if any, matched."""
    import hmac

    from roundtable.secretariat import repository
    from roundtable.secretariat.db import open_ready

    event_id = create_event(server_db, "Conference")
    tokens = [issue_token(server_db, event_id, ["*"]) for _ in range(3)]
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def counting(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(repository.hmac, "compare_digest", counting)
    with open_ready(server_db) as database, database.repository() as repo:
        for presented in (tokens[0], tokens[2], "not a token"):
            calls.clear()
            found = repo.lookup_token(presented)
            assert (found is not None) == (presented in tokens)
            assert len(calls) == 3  # every stored hash, whether or not one matched
            assert {b for _, b in calls} == {repository.hash_token(presented)}
