"""The web console in a real browser: Playwright for Python driving Debian's chromium against a
real uvicorn on 127.0.0.1.  Sign in, the overview, a session's minutes, a brief, the language
choice, a page that updates itself when a room syncs, sign out, a wrong token, a region token
refused another region's page.  Skips, with the reason, only where neither playwright nor a
chromium can be had."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures_server import LiveServer
from test_console import Seeded, add_session, seed

from roundtable.secretariat.deps import SESSION_COOKIE

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)


def _chromium() -> str | None:
    """Debian's chromium first (``.ci/run`` installs it), else one on PATH, else None
    (Playwright's own download, if any, is then tried)."""
    for candidate in (
        os.environ.get("ROUNDTABLE_CHROMIUM", ""),
        "/usr/bin/chromium",
        shutil.which("chromium") or "",
        shutil.which("chromium-browser") or "",
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    executable = _chromium()
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        except Exception as exc:  # no browser: say why and skip
            where = executable or "Playwright's own chromium"
            pytest.skip(f"chromium could not be started ({where}): {str(exc).splitlines()[0]}")
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A secretariat whose pages poll every half second (the default is 30 s)."""
    live = LiveServer(tmp_path / "secretariat.db", console_refresh=0.5).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def seeded(server: LiveServer) -> Seeded:
    return seed(server)


@pytest.fixture
def page(chromium, server: LiveServer) -> Iterator[object]:
    """A fresh browser context (no cookies) and page; script errors and CSP refusals fail.
    (It needs ``server`` so that the server stops after the page that polls it.)"""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and "403" not in msg.text and "401" not in msg.text
            else None
        ),
    )
    page.problems = problems
    try:
        yield page
    finally:
        context.close()
    assert not problems, problems


def sign_in(page, server: LiveServer, token: str) -> None:
    page.goto(f"{server.url}/")
    assert page.url == f"{server.url}/sign-in"  # a page asked for unsigned goes to the sign-in
    page.fill("#token", token)
    page.click("form[action='/sign-in'] button[type=submit]")
    page.wait_for_url(f"{server.url}/")


def cookies(page) -> dict[str, dict]:
    return {c["name"]: c for c in page.context.cookies()}


def test_sign_in_overview_minutes_brief_and_sign_out(page, seeded: Seeded) -> None:
    server = seeded.server
    sign_in(page, server, seeded.all_token)
    cookie = cookies(page)[SESSION_COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert seeded.all_token not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # not readable from script

    # the overview: every region, its sessions, and the regions with none
    assert page.locator("h1").inner_text() == "Heads of Bureau Conference 2026"
    regions = page.locator("section.region h2 a").all_inner_texts()
    assert regions == ["Africa", "Americas", "Asia & South Pacific", "Europe",
                       "Middle East & North Africa"]  # fmt: skip
    assert page.locator("section#americas .empty").inner_text() == "No session yet."
    africa_row = page.locator("section#africa tbody tr").first
    assert "Africa round table" in africa_row.inner_text()
    assert "running" in africa_row.inner_text()
    assert "just now" in africa_row.inner_text()

    # a session's minutes, embedded
    page.click("text=Africa round table")
    page.wait_for_url(f"{server.url}/sessions/{seeded.africa}")
    minutes = page.frame_locator("iframe.document")
    assert "Minutes" in minutes.locator("h1").inner_text()
    assert "Synthetic drug routes" in minutes.locator("body").inner_text()
    assert "<script>x</script>" in minutes.locator("body").inner_text()  # shown, not run
    height = page.locator("iframe.document").evaluate("f => f.getBoundingClientRect().height")
    assert height > 600  # fitted to the document by the console's script

    # the language choice: the page comes back with the minutes in French
    page.select_option("#lang", "fr")
    page.wait_for_url(f"{server.url}/sessions/{seeded.africa}?lang=fr")
    assert "Compte rendu" in page.frame_locator("iframe.document").locator("h1").inner_text()

    # downloads carry the language
    with page.expect_download() as info:
        page.click("a.button:text('Markdown')")
    download = info.value
    assert download.suggested_filename.endswith("-fr-draft.md")
    assert "Compte rendu" in Path(download.path()).read_text(encoding="utf-8")

    # a delegation's brief, from the session page
    page.click("details.present summary")
    page.click("ul.chips a:text('Ghana')")
    page.wait_for_url(f"{server.url}/delegations/GH?session={seeded.africa}&lang=fr")
    brief = page.frame_locator("iframe.document").locator("body").inner_text()
    assert "Ghana" in brief

    # the report
    page.click("nav >> text=Consolidated report")
    page.wait_for_url(f"{server.url}/report")
    report = page.frame_locator("iframe.document").locator("body").inner_text()
    assert "Training on container profiling" in report

    # sign out: the cookie is gone and pages go back to the sign-in
    page.click("text=Sign out")
    page.wait_for_url(f"{server.url}/sign-in")
    assert SESSION_COOKIE not in cookies(page)
    page.goto(f"{server.url}/sessions/{seeded.africa}")
    assert page.url.startswith(f"{server.url}/sign-in?next=")


def test_a_wrong_token_shows_an_error_and_no_cookie(page, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/sign-in")
    page.fill("#token", "not-the-token")
    page.click("form[action='/sign-in'] button[type=submit]")
    alert = page.locator("p.error[role=alert]")
    alert.wait_for()
    assert alert.inner_text() == "This token is not valid on this server."
    assert page.context.cookies() == []
    page.goto(f"{seeded.server.url}/")
    assert page.url == f"{seeded.server.url}/sign-in"


def test_a_region_token_is_refused_another_regions_page(page, seeded: Seeded) -> None:
    server = seeded.server
    sign_in(page, server, seeded.africa_token)
    assert page.locator("section.region h2 a").all_inner_texts() == ["Africa"]
    assert "Europe round table" not in page.locator("main").inner_text()
    answer = page.goto(f"{server.url}/sessions/{seeded.europe}")
    assert answer.status == 403
    assert page.locator("h1").inner_text() == "Outside your regions"
    assert "another region" in page.locator("p.error").inner_text()
    answer = page.goto(f"{server.url}/regions/europe")
    assert answer.status == 403
    assert page.locator("h1").inner_text() == "Outside your regions"
    # its own region still opens
    assert page.goto(f"{server.url}/regions/africa").status == 200


def test_the_overview_updates_itself_when_a_room_syncs(page, seeded: Seeded) -> None:
    server = seeded.server
    sign_in(page, server, seeded.all_token)
    assert page.locator("section#mena .empty").inner_text() == "No session yet."
    add_session(
        server,
        seeded.event_id,
        seeded.all_token,
        "mena",
        "MENA round table",
        [("need", "Access to the travel documents database", ["JO"])],
        ["JO", "EG"],
    )
    # no reload from the test: the page's own polling brings the new session in
    page.locator("section#mena tbody tr", has_text="MENA round table").wait_for(timeout=20_000)
    assert page.locator("section#mena .empty").count() == 0
