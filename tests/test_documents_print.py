"""The HTML minutes print well on A4: checked by printing them with headless Chromium.

Skipped, with the reason, where no Chromium is installed (``.ci/run`` installs Debian's
``chromium``).  The PDF is checked for its page size and count; the page's layout at A4 print
width is checked through Chromium's own DevTools protocol when Playwright is installed: table
headers repeat (``thead`` as a header group), and no date or reference is broken over lines.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from roundtable.documents import minutes_text
from roundtable.model import Entry
from sessions import load_roster

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"),
                             shutil.which("chromium-browser"), shutil.which("google-chrome"))
                 if p and Path(p).exists()), None)  # fmt: skip
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed to print with"),
]


def long_minutes(tmp_path: Path, lang: str) -> Path:
    from roundtable.demo import create_demo
    from roundtable.store import LocalStore

    store = LocalStore(tmp_path / "home")
    sid = create_demo(store, load_roster())
    with store.open_session(sid, read_only=True) as ss:
        snap = ss.snapshot({code: c.name for code, c in load_roster().items()})
    for n in range(120):  # long enough for tables that run over several pages
        snap.entries.append(Entry(
            id=f"x{n:03d}", entry_kind="action", text=f"Follow-up action number {n} " * 3,
            owner="GH", due="2026-12-13", status="open", agenda_item=snap.agenda[2].id,
            created_at=f"2026-11-25T11:{n % 60:02d}:00+00:00"))  # fmt: skip
    path = tmp_path / f"minutes-{lang}.html"
    path.write_text(minutes_text(snap, fmt="html", lang=lang), encoding="utf-8")
    return path


def print_pdf(html: Path) -> bytes:
    pdf = html.with_suffix(".pdf")
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", html.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert pdf.exists(), result.stderr[-500:]
    return pdf.read_bytes()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_minutes_print_on_a4_over_several_pages(tmp_path: Path, lang: str) -> None:
    data = print_pdf(long_minutes(tmp_path, lang))
    assert data.startswith(b"%PDF")
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data))
    assert boxes and all(round(float(w)) == 595 and round(float(h)) == 842 for w, h in boxes)
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 3


def test_headers_repeat_and_dates_never_break_when_printed(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    html = long_minutes(tmp_path, "en")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 680, "height": 1000})  # A4 less margins
            page.emulate_media(media="print")
            page.goto(html.as_uri())
            found = page.evaluate(
                """() => {
                    const spans = [...document.querySelectorAll('.nw')];
                    const broken = spans.filter(s => s.getClientRects().length > 1)
                                        .map(s => s.textContent);
                    const heads = [...document.querySelectorAll('thead')]
                        .map(t => getComputedStyle(t).display);
                    const dates = spans.filter(s => /2026/.test(s.textContent)).length;
                    return {broken, heads, dates, spans: spans.length};
                }"""
            )
        finally:
            browser.close()
    assert found["dates"] > 100 and found["broken"] == []
    assert found["heads"] and set(found["heads"]) == {"table-header-group"}
