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


@pytest.fixture(scope="module")
def live_server(shared_engine_server):
    """The tests here run against SQLite and against PostgreSQL (tests/fixtures_pg.py): one
    server per engine for the module, a fresh event per test.  Those that prove the HTTP
    layer's answer alone (a missing or malformed token, a token of another event, the logs) run
    on SQLite only (``SQLITE_ONLY``): the token lookup and the scoped reads and writes they
    rest on are proved on both engines by the others."""
    return shared_engine_server


SQLITE_ONLY = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


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


@SQLITE_ONLY
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


@SQLITE_ONLY
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


@SQLITE_ONLY
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


# -- TLP ceilings (issue 14) ------------------------------------------------------------------

LABELLED = ("clear", "green", "amber", "amber+strict")


@pytest.fixture(scope="module")
def labelled(live_server):
    """Built once per engine for the module (the tests only issue tokens and read).  A Europe
    session with one entry and one speech per label (each text a unique marker),
    an entry pushed GREEN then relabelled AMBER, and an entry without a label in a session
    whose default is GREEN... pushed by an all-seeing token (amber+strict)."""
    from test_secretariat import entry_ops, record_ops

    from roundtable.model import Op, Speech, new_id

    event_id = live_server.create_event("Conference")
    everyone = live_server.token(event_id)
    clock = HlcClock("lap-a")
    sid, ops = session_ops(event_id, "europe", clock, title="Europe round table")
    for label in LABELLED:
        ops += entry_ops(event_id, sid, clock, f"MARK-{label}-entry", entry_kind="need",
                         tlp=label)  # fmt: skip
        sp = Speech(id=new_id(), session_id=sid, country="FR", seconds=30, tlp=label)
        ops += record_ops(sp, event_id, sid, clock)
    moved = entry_ops(event_id, sid, clock, "MARK-moved-entry", entry_kind="issue", tlp="green")
    ops += moved
    assert push(live_server.url, event_id, everyone, ops).status_code == 200
    h = clock.now()
    relabel = Op(new_id(), event_id, sid, moved[0].record_id, "entry", "tlp", "amber",
                 h.encode(), h.device)  # fmt: skip
    assert push(live_server.url, event_id, everyone, [relabel]).status_code == 200
    entries = {label: next(o.record_id for o in ops if o.value == f"MARK-{label}-entry")
               for label in LABELLED}  # fmt: skip
    entries["moved"] = moved[0].record_id
    return live_server, event_id, sid, entries


def _ceiling_token(server, event_id: str, ceiling: str) -> str:
    return issue_token(server.db_path, event_id, ["*"], label="reader", max_tlp=ceiling)


def _visible(ceiling: str) -> tuple[set[str], set[str]]:
    """Markers a reader up to ``ceiling`` must see, and those it must never see."""
    from roundtable.model import within

    shown = {f"MARK-{label}-entry" for label in LABELLED if within(label, ceiling)}
    hidden = {f"MARK-{label}-entry" for label in LABELLED} - shown
    (shown if within("amber", ceiling) else hidden).add("MARK-moved-entry")
    return shown, hidden


CEILING_ROUTES = ["pull", "history", "minutes-md", "minutes-html", "report-md", "report-html"]


@pytest.mark.parametrize("ceiling", ["green", "amber", "amber+strict"])
@pytest.mark.parametrize("route", CEILING_ROUTES)
def test_a_token_never_reads_above_its_ceiling(labelled, ceiling, route):
    server, event_id, sid, entries = labelled
    token = _ceiling_token(server, event_id, ceiling)
    auth = {"Authorization": f"Bearer {token}"}
    shown, hidden = _visible(ceiling)
    if route == "pull":
        page = httpx.get(f"{server.url}/v1/events/{event_id}/ops", headers=auth,
                         params={"limit": 7}).json()  # fmt: skip
        ops, cursor = list(page["ops"]), page["next"]
        while page["more"]:  # small pages: withheld ops never stall the cursor
            page = httpx.get(f"{server.url}/v1/events/{event_id}/ops", headers=auth,
                             params={"since": cursor, "limit": 7}).json()  # fmt: skip
            assert page["next"] > cursor
            ops += page["ops"]
            cursor = page["next"]
        body = str(ops)
        labels = {o["value"] for o in ops if o["field"] == "tlp"}
        from roundtable.model import within

        assert all(within(v, ceiling) for v in labels), labels
        speeches = {o["record_id"] for o in ops if o["kind"] == "speech"}
        assert len(speeches) == sum(within(v, ceiling) for v in LABELLED)
    elif route == "history":
        body = ""
        for key, record_id in entries.items():
            r = httpx.get(f"{server.url}/v1/events/{event_id}/records/{record_id}/history",
                          headers=auth)  # fmt: skip
            label = "amber" if key == "moved" else key
            from roundtable.model import within

            assert r.status_code == (200 if within(label, ceiling) else 404), (key, r.text)
            body += r.text
    else:
        what, fmt = route.split("-")
        path = f"/v1/sessions/{sid}/minutes" if what == "minutes" else (
            f"/v1/events/{event_id}/report")  # fmt: skip
        r = httpx.get(f"{server.url}{path}", headers=auth, params={"format": fmt})
        assert r.status_code == 200, r.text
        body = r.text
        if what == "minutes" or ceiling != "green":
            assert "withheld" in body.lower() or not hidden
    for marker in hidden:
        assert marker not in body, (route, ceiling, marker)
    if route in ("pull", "history", "minutes-md", "minutes-html"):
        for marker in shown:
            assert marker in body, (route, ceiling, marker)


def test_issue_token_stores_the_ceiling_and_refuses_an_unknown_one(server_db):
    from roundtable.secretariat.db import open_ready

    create_event(server_db, "Conference")
    token = issue_token(server_db, "Conference", ["*"], max_tlp="green")
    with pytest.raises(AdminError, match="unknown ceiling 'red'"):
        issue_token(server_db, "Conference", ["*"], max_tlp="red")
    assert read(server_db, "SELECT max_tlp FROM tokens") == [("green",)]
    with open_ready(server_db) as database, database.repository() as repo:
        assert repo.lookup_token(token).max_tlp == "green"
    plain = issue_token(server_db, "Conference", ["*"])
    with open_ready(server_db) as database, database.repository() as repo:
        assert repo.lookup_token(plain).max_tlp == "amber+strict"


def test_whoami_tells_the_token_ceiling(labelled):
    server, event_id, _sid, _entries = labelled
    for ceiling in ("green", "amber", "amber+strict"):
        token = _ceiling_token(server, event_id, ceiling)
        who = httpx.get(f"{server.url}/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        assert who.status_code == 200 and who.json()["max_tlp"] == ceiling


def test_a_token_never_starts_with_a_dash(tmp_path, monkeypatch):
    """A token is typed after `--token`: one starting with "-" (1 in 64 of urlsafe base64)
    was read by argparse as an option, and `roundtable connect URL --token -abc…` failed."""
    import secrets

    db = str(tmp_path / "secretariat.db")
    create_event(db, "Conference")
    drawn = iter(["-" + "a" * 42, "-" + "b" * 42, "c" * 43])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(drawn))
    token = issue_token(db, "Conference", ["europe"])
    assert token == "c" * 43  # the two drawn with a leading dash were drawn again
