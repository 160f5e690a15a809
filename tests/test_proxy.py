"""The secretariat behind a reverse proxy, in process (an ASGI transport with the peer address
it is given): the console's Origin check takes the host and scheme the browser saw from a
trusted proxy's X-Forwarded-Host/-Proto and from nobody else; ``--root-path`` moves every link
and redirect under the prefix; the access log is one line per request, naming the token's label
and never the token or the query.  The same with Debian's nginx and Chromium:
tests/test_deploy_nginx.py (e2e)."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from roundtable import cli
from roundtable.secretariat import create_app, create_event, issue_token
from roundtable.secretariat.deps import SESSION_COOKIE
from roundtable.secretariat.middleware import browser_origin

# what nginx sends with `proxy_set_header Host $host` for https://localhost:18043
BEHIND_NGINX = {
    "host": "localhost",
    "origin": "https://localhost:18043",
    "x-forwarded-host": "localhost:18043",
    "x-forwarded-proto": "https",
    "x-forwarded-for": "192.0.2.7",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("proxy") / "secretariat.db"
    event = create_event(db, "Conference")
    return db, issue_token(db, event, ["*"], label="Room B laptop")


async def aclient(
    db: Path, peer: str = "127.0.0.1", root_path: str = "", **kw
) -> httpx.AsyncClient:
    app = create_app(db, **kw)
    transport = httpx.ASGITransport(app=app, client=(peer, 40000), root_path=root_path)
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765")


async def test_sign_in_through_a_proxy_that_sets_host_without_port(server) -> None:
    db, token = server
    async with await aclient(db) as web:
        answer = await web.post("/sign-in", data={"token": token}, headers=BEHIND_NGINX)
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "Secure" in cookie  # the browser used https: the proxy said so


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(server) -> None:
    db, token = server
    async with await aclient(db, peer="203.0.113.9") as web:
        answer = await web.post("/sign-in", data={"token": token}, headers=BEHIND_NGINX)
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


async def test_forwarded_headers_trusted_only_from_the_listed_networks(server) -> None:
    db, token = server
    async with await aclient(db, peer="10.1.2.3", forwarded_allow_ips="10.0.0.0/8") as web:
        ok = await web.post("/sign-in", data={"token": token}, headers=BEHIND_NGINX)
    async with await aclient(db, peer="127.0.0.1", forwarded_allow_ips="10.0.0.0/8") as web:
        refused = await web.post("/sign-in", data={"token": token}, headers=BEHIND_NGINX)
    assert (ok.status_code, refused.status_code) == (303, 403)


async def test_another_site_is_refused_through_the_proxy(server) -> None:
    db, token = server
    for origin in ("https://evil.example", "http://localhost:18043", "https://localhost"):
        async with await aclient(db) as web:
            answer = await web.post(
                "/sign-in", data={"token": token}, headers={**BEHIND_NGINX, "origin": origin}
            )
        assert answer.status_code == 403, origin


def test_browser_origin_drops_default_ports_and_reads_the_trusted_host() -> None:
    def scope(headers: dict[str, str], scheme: str = "http", **extra) -> dict:
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        return {"type": "http", "scheme": scheme, "headers": raw, **extra}

    assert browser_origin(scope({"host": "rt.example.org:443"}, "https")) == (
        "https://rt.example.org"
    )
    assert browser_origin(scope({"host": "Rt.Example.org:8080"})) == "http://rt.example.org:8080"
    forwarded = scope({"host": "x"}, "https", **{"roundtable.forwarded_host": "a.org:18043"})
    assert browser_origin(forwarded) == "https://a.org:18043"


async def test_root_path_prefixes_links_redirects_and_the_sign_in(server) -> None:
    db, token = server
    async with await aclient(db, root_path="/rt") as web:
        first = await web.get("/rt/regions/africa")
        assert first.status_code == 303
        assert first.headers["location"] == "/rt/sign-in?next=%2Frt%2Fregions%2Fafrica"
        page = await web.get("/rt/sign-in")
        assert 'action="/rt/sign-in"' in page.text
        assert 'href="/rt/static/console.css"' in page.text
        assert (await web.get("/rt/static/console.css")).status_code == 200
        assert (await web.get("/rt/changes")).status_code == 401  # the poll: no redirect
        signed = await web.post(
            "/rt/sign-in",
            data={"token": token, "next": "/elsewhere"},
            headers={"origin": "http://127.0.0.1:8765"},  # a browser sends it (issue 19)
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == "/rt/"  # never outside the prefix
        web.cookies.set(SESSION_COOKIE, signed.cookies[SESSION_COOKIE])
        overview = await web.get("/rt/")
        assert overview.status_code == 200
        assert 'href="/rt/report"' in overview.text and 'data-root="/rt"' in overview.text
        assert (await web.get("/rt/v1/health")).json()["status"] == "ok"


async def test_one_access_log_line_per_request_with_the_token_label(server, caplog) -> None:
    db, token = server
    caplog.set_level(logging.INFO, logger="roundtable.access")
    async with await aclient(db) as web:
        answer = await web.get(
            "/v1/whoami?secret-query=1", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200
        await web.get("/v1/whoami", headers={"Authorization": "Bearer not-a-token"})
    lines = [r.getMessage() for r in caplog.records if r.name == "roundtable.access"]
    assert len(lines) == 2, lines
    first, second = lines
    assert " GET /v1/whoami 200 " in first and 'token="Room B laptop"' in first
    assert first[:4].isdigit() and "Z INFO 127.0.0.1 " in first  # UTC time, the client
    assert first.split()[6].endswith("ms")
    assert " 401 " in second and 'token="-"' in second
    text = "\n".join(lines)
    assert token not in text and "secret-query" not in text and "not-a-token" not in text


async def test_an_error_is_one_line_and_its_traceback_goes_to_the_debug_log(server, caplog) -> None:
    db, _ = server
    app = create_app(db)

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("record text that must not reach the main log")

    caplog.set_level(logging.DEBUG)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as web:
        answer = await web.get("/v1/boom")
    assert answer.status_code == 500
    assert "record text" not in answer.text and "reference" in answer.json()["detail"]
    main = [r.getMessage() for r in caplog.records if r.name == "roundtable.access"]
    assert len(main) == 1 and "error=RuntimeError" in main[0] and "record text" not in main[0]
    debug = [r for r in caplog.records if r.name == "roundtable.debug"]
    assert len(debug) == 1 and debug[0].exc_info is not None
    assert main[0].split("ref=")[1] in debug[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records if r.name != "roundtable.debug")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--forwarded-allow-ips", "10.0.0.0/33"], "forwarded-allow-ips: '10.0.0.0/33'"),
        (["--root-path", "rt"], "--root-path rt: expected a path"),
        (["--pool-size", "0"], "--pool-size 0"),
    ],
)
def test_serve_refuses_bad_proxy_options_in_one_line(tmp_path, capsys, args, needle) -> None:
    code = cli.main(["serve", "--db", str(tmp_path / "s.db"), *args])
    err = capsys.readouterr().err
    assert code != 0 and needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.db").exists()


async def test_a_sign_in_holds_on_every_worker_and_sign_out_ends_it_on_all(server) -> None:
    """Two apps over one database (as serve's workers, or a server before and after a
    restart): a console sign-in made on one is good on the other, with no shared secret (the
    sign-in is in the database), and signing out on one ends it on both."""
    db, token = server
    same_site = {"origin": "http://127.0.0.1:8765"}
    async with await aclient(db) as one, await aclient(db) as two:
        signed = await one.post("/sign-in", data={"token": token}, headers=same_site)
        assert signed.status_code == 303, signed.text
        two.cookies.set(SESSION_COOKIE, signed.cookies[SESSION_COOKIE])
        assert (await two.get("/")).status_code == 200
        out = await two.post("/sign-out", headers=same_site)
        assert out.status_code == 303
    async with await aclient(db) as other:
        other.cookies.set(SESSION_COOKIE, signed.cookies[SESSION_COOKIE])
        assert (await other.get("/")).status_code == 303  # signed out: back to the sign-in
