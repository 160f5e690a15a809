"""The web console over a real uvicorn on 127.0.0.1, with plain httpx: sign-in and its cookie,
redirects of unauthenticated pages, 403 pages outside a token's regions, downloads, tokens in
addresses refused and never logged.  Seed data is pushed through the API as laptops push it.
The same pages in a real browser: tests/test_console_browser.py."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from fixtures_server import LiveServer

from roundtable.model import (
    AgendaItem,
    Attendance,
    Entry,
    HlcClock,
    Op,
    Record,
    Session,
    new_id,
)
from roundtable.protocol import push_body
from roundtable.secretariat.deps import SESSION_COOKIE


def _ops(rec: Record, event_id: str, session_id: str, clock: HlcClock) -> list[Op]:
    out = []
    for name, value in rec.to_fields().items():
        h = clock.now()
        out.append(
            Op(new_id(), event_id, session_id, rec.id, rec.KIND, name, value, h.encode(), h.device)
        )
    return out


def console_session(
    event_id: str, region: str, title: str, clock: HlcClock
) -> tuple[Session, AgendaItem, list[Op]]:
    """A running session with one agenda item, and the ops a laptop would push for them."""
    s = Session(
        id=new_id(),
        event_id=event_id,
        region=region,
        title=title,
        room="B2",
        date="2026-11-29",
        facilitator="A. Facilitator",
        status="running",
    )
    item = AgendaItem(id=new_id(), session_id=s.id, position=0, title="Regional challenges")
    return s, item, _ops(s, event_id, s.id, clock) + _ops(item, event_id, s.id, clock)


def push(server: LiveServer, event_id: str, token: str, ops: list[Op]) -> None:
    answer = httpx.post(
        f"{server.url}/v1/events/{event_id}/ops",
        json=push_body(ops, "lap-test"),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


@dataclass
class Seeded:
    server: LiveServer
    event_id: str
    all_token: str
    africa_token: str
    africa: str  # session ids
    europe: str


def add_session(
    server: LiveServer,
    event_id: str,
    token: str,
    region: str,
    title: str,
    entries: list[tuple[str, str, list[str]]],
    present: list[str],
) -> str:
    clock = HlcClock("lap-test")
    s, item, ops = console_session(event_id, region, title, clock)
    for code in present:
        a = Attendance(id=new_id(), session_id=s.id, country=code, status="present")
        ops += _ops(a, event_id, s.id, clock)
    for n, (kind, text, who) in enumerate(entries):
        e = Entry(
            id=new_id(),
            session_id=s.id,
            entry_kind=kind,
            text=text,
            delegations=who,
            owner=who[0] if kind == "action" else "",
            due="2026-12-15" if kind == "action" else "",
            status="open" if kind == "action" else "",
            agenda_item=item.id,
            created_at=f"2026-11-29T09:{10 + n:02d}:00+00:00",
        )
        ops += _ops(e, event_id, s.id, clock)
    push(server, event_id, token, ops)
    return s.id


def seed(server: LiveServer) -> Seeded:
    event_id = server.create_event(
        "Heads of Bureau Conference 2026", venue="Lyon", starts="2026-11-29", ends="2999-12-31"
    )
    all_token = server.token(event_id, ["*"])
    africa = add_session(
        server,
        event_id,
        all_token,
        "africa",
        "Africa round table",
        [
            ("issue", "Synthetic drug routes via West African ports <script>x</script>", ["GH"]),
            ("need", "Training on container profiling", ["GH", "NG"]),
            ("action", "Circulate the list of port focal points", ["GH"]),
        ],
        ["GH", "NG", "KE"],
    )
    europe = add_session(
        server,
        event_id,
        all_token,
        "europe",
        "Europe round table",
        [("issue", "Firearms trafficking on the Balkan route", ["RS"])],
        ["RS", "FR"],
    )
    return Seeded(server, event_id, all_token, server.token(event_id, ["africa"]), africa, europe)


@pytest.fixture
def seeded(live_server: LiveServer) -> Seeded:
    return seed(live_server)


def browser(server: LiveServer) -> httpx.Client:
    """A client that sends what a browser sends with a form: its page's Origin."""
    return httpx.Client(
        base_url=server.url, timeout=10, follow_redirects=False, headers={"Origin": server.url}
    )


@contextmanager
def signed_in(server: LiveServer, token: str) -> Iterator[httpx.Client]:
    with browser(server) as client:
        answer = client.post("/sign-in", data={"token": token, "next": "/"})
        assert answer.status_code == 303, answer.text
        yield client


def test_a_plain_get_of_the_report_sends_the_browser_to_sign_in_not_401_json(seeded) -> None:
    """The defect: a browser could not open the HTML pages (a plain GET answered 401 JSON)."""
    with browser(seeded.server) as client:
        answer = client.get("/report", params={"lang": "fr"})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/sign-in?next=%2Freport%3Flang%3Dfr"
        assert client.get("/").headers["location"] == "/sign-in"
        page = client.get("/sign-in?next=/report")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert 'name="token"' in page.text and 'type="password"' in page.text
    with signed_in(seeded.server, seeded.all_token) as client:
        report = client.get("/report", params={"lang": "fr"})
        assert report.status_code == 200
        assert "text/html" in report.headers["content-type"]
        assert "Training on container profiling" in report.text
    # the bearer API is as it was: 401 JSON without a token
    api = httpx.get(f"{seeded.server.url}/v1/events/{seeded.event_id}/report", timeout=10)
    assert api.status_code == 401
    assert api.headers["content-type"] == "application/json"
    assert api.headers["www-authenticate"] == "Bearer"


def test_signing_in_sets_an_httponly_strict_cookie_that_holds_no_token(seeded) -> None:
    with browser(seeded.server) as client:
        answer = client.post(
            "/sign-in", data={"token": seeded.all_token, "next": "/regions/africa"}
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/regions/africa"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert "Path=/" in cookie
        assert "Secure" not in cookie  # plain http on loopback; https sets it
        assert seeded.all_token not in cookie
        assert seeded.all_token not in answer.headers["location"]
        page = client.get("/regions/africa")
        assert page.status_code == 200
        assert "Africa round table" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        # signing out clears the cookie; the next page goes back to the sign-in
        out = client.post("/sign-out")
        assert out.status_code == 303 and out.headers["location"] == "/sign-in"
        assert re.search(rf"{SESSION_COOKIE}=(\"\"|);", out.headers["set-cookie"])
        assert "Max-Age=0" in out.headers["set-cookie"]
        assert client.get("/").status_code == 303


def test_a_wrong_token_shows_an_error_and_sets_no_cookie(seeded) -> None:
    with browser(seeded.server) as client:
        answer = client.post("/sign-in", data={"token": "not-a-token", "next": "/"})
        assert answer.status_code == 401
        assert "set-cookie" not in answer.headers
        assert "This token is not valid on this server." in answer.text
        empty = client.post("/sign-in", data={"token": "  ", "next": "/"})
        assert empty.status_code == 401 and "Enter a token." in empty.text
        assert not client.cookies


def test_a_forged_or_expired_cookie_is_not_a_session(seeded) -> None:
    from roundtable.secretariat.deps import new_sign_in

    forged, _stored = new_sign_in()  # well formed, but no sign-in of this server
    with browser(seeded.server) as client:
        client.cookies.set(SESSION_COOKIE, forged)
        assert client.get("/").status_code == 303
    with signed_in(seeded.server, seeded.all_token) as client:
        assert client.get("/").status_code == 200
        seeded.server.query("SELECT 1")  # the sign-in is a row: its expiry passed, it is over
        conn = __import__("sqlite3").connect(seeded.server.db_path)
        with conn:
            conn.execute("UPDATE sign_ins SET expires = 1")
        conn.close()
        assert client.get("/").status_code == 303


def test_a_removed_token_signs_its_browsers_out(seeded) -> None:
    with signed_in(seeded.server, seeded.africa_token) as client:
        assert client.get("/").status_code == 200
        conn = __import__("sqlite3").connect(seeded.server.db_path)
        with conn:
            conn.execute("DELETE FROM tokens WHERE regions = ?", ('["africa"]',))
        conn.close()
        assert client.get("/").status_code == 303


def test_the_overview_shows_each_region_its_sessions_and_regions_without_one(seeded) -> None:
    with signed_in(seeded.server, seeded.all_token) as client:
        page = client.get("/")
    assert page.status_code == 200
    text = page.text
    for region in ("Africa", "Americas", "Asia &amp; South Pacific", "Europe", "Middle East"):
        assert region in text
    assert text.count("No session yet.") == 3  # Americas, Asia & South Pacific, MENA
    assert (
        f'href="/sessions/{seeded.africa}"' in text and f'href="/sessions/{seeded.europe}"' in text
    )
    assert "just now" in text  # each room's last sync
    # the Africa row: 3 present, 1 issue, 1 need, 1 open action of 1
    row = re.search(rf'/sessions/{seeded.africa}".*?</tr>', text, re.S).group(0)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells == ["3", "1", "1", "1 / 1", "0", "0"]
    # user text is escaped by the templates
    assert "<script>x</script>" not in text
    assert 'data-refresh="30"' in text  # the conference runs: the page polls


def test_a_region_token_sees_its_region_and_gets_403_pages_for_others(seeded) -> None:
    with signed_in(seeded.server, seeded.africa_token) as client:
        overview = client.get("/")
        assert "Africa round table" in overview.text
        assert "Europe round table" not in overview.text
        assert "Americas" not in overview.text
        for path in (f"/sessions/{seeded.europe}", "/regions/europe", "/delegations/FR"):
            page = client.get(path)
            assert page.status_code == 403, path
            assert "text/html" in page.headers["content-type"]
            assert "Outside your regions" in page.text
        download = client.get(f"/sessions/{seeded.europe}/minutes.md")
        assert download.status_code == 403
        report = client.get("/report.md")
        assert "Balkan" not in report.text and "container profiling" in report.text
        assert client.get(f"/sessions/{seeded.africa}").status_code == 200
        assert client.get("/regions/nowhere").status_code == 404
        assert client.get("/sessions/nope").status_code == 404


def test_minutes_briefs_and_report_come_from_the_documents_functions(seeded) -> None:
    """Downloads are the very bytes of the API's documents (one function everywhere)."""
    headers = {"Authorization": f"Bearer {seeded.all_token}"}
    url = seeded.server.url
    with signed_in(seeded.server, seeded.all_token) as client:
        for lang in ("en", "ar"):
            api = httpx.get(
                f"{url}/v1/sessions/{seeded.africa}/minutes",
                params={"format": "md", "lang": lang},
                headers=headers,
            )
            got = client.get(f"/sessions/{seeded.africa}/minutes.md", params={"lang": lang})
            assert got.status_code == 200
            assert got.text == api.text
            assert got.headers["content-disposition"].startswith("attachment; filename=")
            assert f"-{lang}-" in got.headers["content-disposition"]
        html = client.get(f"/sessions/{seeded.africa}/minutes.html", params={"inline": "1"})
        assert html.headers["content-disposition"].startswith("inline")
        assert html.headers["content-security-policy"].startswith("default-src 'none'")
        page = client.get(f"/sessions/{seeded.africa}", params={"lang": "fr"})
        assert page.status_code == 200
        assert 'srcdoc="&lt;!doctype html&gt;' in page.text  # the document, escaped once more
        assert "lang=&#34;fr&#34;" in page.text
        brief = client.get("/delegations/GH", params={"session": seeded.africa})
        assert brief.status_code == 200 and "Ghana" in brief.text
        brief_md = client.get("/delegations/gh/brief.md", params={"lang": "es"})
        assert brief_md.status_code == 200 and "Ghana" in brief_md.text
        assert client.get("/delegations/ZZ").status_code == 404
        assert client.get("/report.pdf").status_code == 404
        bad = client.get("/report", params={"lang": "de"})
        assert bad.status_code == 400 and "Unknown language" in bad.text


def test_a_token_in_the_address_is_refused_and_never_logged(tmp_path) -> None:
    """A token in ``?token=`` is refused (400 page), and uvicorn's access log shows paths
    without their query strings (it used to write the token whole)."""
    import threading
    import time

    import uvicorn

    from roundtable.secretariat import create_app, create_event, issue_token

    db = tmp_path / "server.db"
    event_id = create_event(db, "Conference")
    token = issue_token(db, event_id, ["*"])
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep()
    app = create_app(db)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", access_log=True)
    server = uvicorn.Server(config)
    logging.getLogger("uvicorn.access").addHandler(handler)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        for path in ("/", "/report", "/sign-in"):
            answer = httpx.get(f"{base}{path}", params={"token": token}, timeout=10)
            assert answer.status_code == 400, path
            assert "set-cookie" not in answer.headers
            assert "Token in the address" in answer.text
        httpx.get(f"{base}/v1/events", params={"token": token}, timeout=10)
    finally:
        server.should_exit = True
        thread.join(20)
        logging.getLogger("uvicorn.access").removeHandler(handler)
    assert len(records) >= 4
    assert any('"GET /report HTTP/1.1" 400' in r for r in records), records
    assert all(token not in r and "token=" not in r for r in records), records


def test_sign_in_goes_back_only_to_a_page_of_this_site(seeded) -> None:
    with browser(seeded.server) as client:
        for next_, expected in (
            ("https://evil.example/", "/"),
            ("//evil.example/x", "/"),
            ("/\\evil.example", "/"),
            (f"/sessions/{seeded.africa}?lang=fr", f"/sessions/{seeded.africa}?lang=fr"),
        ):
            answer = client.post("/sign-in", data={"token": seeded.all_token, "next": next_})
            assert answer.headers["location"] == expected


def test_a_form_posted_from_another_site_is_refused(seeded) -> None:
    with browser(seeded.server) as client:
        answer = client.post(
            "/sign-in",
            data={"token": seeded.all_token},
            headers={"Origin": "https://evil.example"},
        )
        assert answer.status_code == 403
        assert "set-cookie" not in answer.headers


def test_a_sign_in_without_an_origin_or_from_a_null_origin_is_refused(seeded) -> None:
    """Issue 19, finding 8: a POST with no Origin, or ``Origin: null`` (a sandboxed frame, a
    file:// page), signs nobody in."""
    for origin in (None, "null"):
        headers = {} if origin is None else {"Origin": origin}
        with httpx.Client(base_url=seeded.server.url, timeout=10) as client:
            answer = client.post("/sign-in", data={"token": seeded.all_token}, headers=headers)
            assert answer.status_code == 403, origin
            assert "set-cookie" not in answer.headers
            assert "not sent from this site" in answer.text


def test_console_paths_keep_the_guard_answers_and_stay_out_of_the_schema(seeded) -> None:
    url = seeded.server.url
    options = httpx.options(f"{url}/sign-in")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, OPTIONS, POST"
    wrong = httpx.delete(f"{url}/")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, OPTIONS"
    paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    assert all(p.startswith("/v1/") for p in paths)
    css = httpx.get(f"{url}/static/console.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_the_pages_poll_a_stamp_that_moves_when_a_room_syncs(seeded) -> None:
    with signed_in(seeded.server, seeded.all_token) as client:
        before = client.get("/changes").json()["stamp"]
        assert f'data-stamp="{before}"' in client.get("/").text
        assert client.get("/changes").json()["stamp"] == before
        add_session(
            seeded.server,
            seeded.event_id,
            seeded.all_token,
            "mena",
            "MENA round table",
            [("note", "Jordan reported a new route", ["JO"])],
            ["JO"],
        )
        assert client.get("/changes").json()["stamp"] != before
        assert "MENA round table" in client.get("/").text
    with browser(seeded.server) as client:
        assert client.get("/changes").status_code == 401  # the script reloads into the sign-in


@pytest.mark.parametrize("engine", ["sqlite", "postgresql", "postgresql-2-workers"], indirect=True)
def test_sign_in_and_pages_on_every_engine(engine_server) -> None:
    """The session is looked up by its token's hash on both engines; with several workers
    (``roundtable serve --workers 2``) a session signed by one worker is good on the others."""
    seeded = seed(engine_server)
    with signed_in(engine_server, seeded.africa_token) as client:
        for _ in range(6):  # new connections: the answers come from either worker
            page = client.get("/", headers={"Connection": "close"})
            assert page.status_code == 200
            assert "Africa round table" in page.text and "Europe round table" not in page.text
        assert client.get(f"/sessions/{seeded.europe}").status_code == 403
        assert client.get(f"/sessions/{seeded.africa}/minutes.md").status_code == 200


def test_the_server_with_its_console_imports_nothing_of_the_client() -> None:
    import subprocess
    import sys

    code = (
        "import sys, roundtable.secretariat.app; "
        "print(','.join(m for m in ('roundtable.store', 'roundtable.sync', 'roundtable.app', "
        "'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_pages_stop_updating_once_the_conference_is_over(live_server: LiveServer) -> None:
    event_id = live_server.create_event("Conference 2020", starts="2020-03-01", ends="2020-03-03")
    token = live_server.token(event_id, ["*"])
    sid = add_session(live_server, event_id, token, "europe", "Europe round table", [], ["FR"])
    with signed_in(live_server, token) as client:
        assert 'data-refresh="30"' in client.get("/").text  # a session is still running
        clock = HlcClock("lap-test")
        h = clock.now()
        close = Op(
            new_id(), event_id, sid, sid, "session", "status", "closed", h.encode(), h.device
        )
        push(live_server, event_id, token, [close])
        page = client.get("/").text
        assert 'data-refresh="0"' in page
        assert "http-equiv" not in page
        assert "no longer updates itself" in page


def test_the_api_docs_serve_no_third_party_script_unless_asked_for(seeded, tmp_path) -> None:
    """Issue 19, finding 8: /docs and /redoc load Swagger's and ReDoc's scripts from a CDN;
    they are off unless ``serve --docs``; /openapi.json stays."""
    from fastapi.testclient import TestClient

    from roundtable.secretariat import create_app

    url = seeded.server.url
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        answer = httpx.get(f"{url}{path}")
        assert answer.status_code in (303, 404), path  # not a page of scripts from elsewhere
        assert "cdn" not in answer.text.lower()
    assert httpx.get(f"{url}/openapi.json").status_code == 200
    app = create_app(tmp_path / "docs.db", docs=True)
    try:
        assert TestClient(app).get("/docs").status_code == 200
    finally:
        app.state.database.close()
