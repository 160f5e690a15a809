"""Issue 23, finding 1: documents marked for circulation.

Every printed page carries the TLP label in TLP 2.0's colours, "page x of y" and the document
symbol (CSS paged media, checked here in the HTML; ``test_documents_marking_print`` prints
them with Chromium); Markdown carries the label and symbol at the top and the end.  The symbol
``RT/<REGION>/<YEAR>/<n>`` is the session's, fixed at creation, the same in every version,
language, audience and format.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from test_documents_golden import AS_OF, SESSION_ID, demo_snapshot

from roundtable import protocol
from roundtable.documents import LANGUAGES, Version, brief_text, minutes_text, report_text
from roundtable.documents.common import session_symbol
from roundtable.documents.versions import DRAFT, FINAL
from sessions import load_roster

COLOURS = {"TLP:CLEAR": "#FFFFFF", "TLP:GREEN": "#33FF00", "TLP:AMBER": "#FFC000",
           "TLP:RED": "#FF2B2B"}  # fmt: skip


def test_a_session_gets_its_number_in_its_event_and_region_at_creation(tmp_path: Path) -> None:
    from roundtable.store import LocalStore

    store = LocalStore(tmp_path / "home")
    event = store.create_event("Conference", starts="2026-11-24")
    other = store.create_event("Another")
    a1 = store.create_session(event.id, "africa", "A", [], date="2026-11-25")
    a2 = store.create_session(event.id, "africa", "B", [], date="2026-11-26")
    e1 = store.create_session(event.id, "europe", "C", [])
    o1 = store.create_session(other.id, "africa", "D", [])
    numbers = []
    for s in (a1, a2, e1, o1):
        with store.open_session(s.id, read_only=True) as ss:
            snap = ss.snapshot({})
        numbers.append(snap.session.number)
        if s is a2:
            assert session_symbol(snap) == "RT/AFRICA/2026/2"
        if s is e1:
            assert session_symbol(snap) == "RT/EUROPE/2026/1"  # the event's year
    assert numbers == [1, 2, 1, 1]


def test_the_number_travels_on_the_wire_from_version_4() -> None:
    assert protocol.PROTOCOL_VERSION == 5  # 5: the room's procedure (issue 26)
    assert protocol.field_version("session", "number") == 4
    protocol.check_value("session", "number", 2)
    protocol.check_value("session", "number", 2, version=4)
    for older in (1, 2, 3):  # 3 is the archived status's version (issue 22), not the number's
        with pytest.raises(protocol.ProtocolError):
            protocol.check_value("session", "number", 2, version=older)


def test_an_older_session_gets_a_deterministic_symbol(tmp_path: Path) -> None:
    snap, _ = demo_snapshot(tmp_path)
    old = replace(snap, session=replace(snap.session, number=0))
    assert session_symbol(old) == session_symbol(old) == "RT/AFRICA/2026/0193a1b2"
    assert SESSION_ID.startswith("0193a1b2")


def test_the_symbol_is_the_same_in_every_version_language_audience_and_format(
    tmp_path: Path,
) -> None:
    snap, conflicts = demo_snapshot(tmp_path)
    symbol = session_symbol(snap)
    assert symbol == f"RT/AFRICA/2026/{snap.session.number}" and snap.session.number >= 1
    for lang in LANGUAGES:
        for audience in ("public", "community", "participants", "room"):
            for version in (Version(DRAFT, 3), Version(FINAL, 1)):
                for fmt in ("md", "html"):
                    doc = minutes_text(snap, fmt=fmt, lang=lang, version=version,
                                       audience=audience, conflicts=conflicts)  # fmt: skip
                    assert doc.count(symbol) >= 2, (lang, audience, fmt)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_markdown_carries_label_and_symbol_at_the_top_and_the_end(
    tmp_path: Path, lang: str
) -> None:
    snap, conflicts = demo_snapshot(tmp_path)
    roster = load_roster()
    names = {code: c.name for code, c in roster.items()}
    docs = {
        session_symbol(snap): minutes_text(snap, lang=lang, version=Version(DRAFT, 3)),
        f"{session_symbol(snap)}/GH": brief_text(
            "GH", [snap], focus=snap.session.id, lang=lang, as_of=AS_OF, countries=names
        ),
        "RT/2026/BRIEF/GH": brief_text("GH", [snap], lang=lang, as_of=AS_OF, countries=names),
        "RT/2026/REPORT": report_text(snap.event, [snap], roster, lang=lang, as_of=AS_OF),
    }
    for symbol, doc in docs.items():
        lines = [line for line in doc.splitlines() if line.strip()]
        for line in (lines[1], lines[-1]):
            assert line.startswith("**TLP:AMBER** — ") and symbol in line, (symbol, line)
        assert "Page" not in lines[-1]


@pytest.mark.parametrize("audience", ["public", "community", "participants"])
def test_html_prints_label_symbol_and_page_numbers_on_every_page(
    tmp_path: Path, audience: str
) -> None:
    snap, _ = demo_snapshot(tmp_path)
    if audience != "participants":  # something the audience may see, of its own label
        label = {"public": "clear", "community": "green"}[audience]
        snap = replace(snap, entries=[replace(e, tlp=label) for e in snap.entries])
    for lang in LANGUAGES:
        page = minutes_text(snap, fmt="html", lang=lang, audience=audience)
        css = page[page.index("<style>") : page.index("</style>")]
        at_page = css[css.index("@page {", css.index("@page {") + 1) :]
        label = re.search(r"<span class=\"tlp-label\" style=\"color: (#\w+)\">(TLP:[A-Z+]+)<",
                          page)  # fmt: skip
        assert label is not None
        colour, name = label.groups()
        assert COLOURS[name] == colour
        for box in ("@top-left", "@bottom-left"):
            body = at_page[at_page.index(box) :].split("}")[0]
            assert f'content: "{name}"' in body and f"color: {colour}" in body
            assert "background: #000" in body
        top_right = at_page[at_page.index("@top-right") :].split("}")[0]
        assert f'content: "{session_symbol(snap)}"' in top_right
        bottom = at_page[at_page.index("@bottom-right") :].split("}")[0]
        assert "counter(page)" in bottom and "counter(pages)" in bottom
