"""Issue 23, finding 5: what an audience's cut withheld is shown as withheld, never as a zero.

The demo's speeches and entries are TLP:AMBER; in the public minutes, Annex A showed "0 /
00:00" for every delegation that spoke, and the sections read "nothing was recorded".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_documents_golden import AS_OF, demo_snapshot

from roundtable.documents import LANGUAGES, brief_text, minutes_text, report_text
from roundtable.documents.i18n import Lang
from sessions import load_roster


@pytest.mark.parametrize("lang", LANGUAGES)
def test_public_minutes_show_withheld_speeches_and_sections(tmp_path: Path, lang: str) -> None:
    snap, conflicts = demo_snapshot(tmp_path)
    L = Lang(lang)
    doc = minutes_text(snap, lang=lang, audience="public", conflicts=conflicts)
    withheld = L.t("withheld ({label})", label="TLP:AMBER")
    spoke = {sp.country for sp in snap.speeches}
    for code in spoke:
        name = L.country(code, snap.countries)
        rows = [r for r in doc.splitlines() if r.startswith(f"| {name} |")]
        assert rows, name
        row = rows[-1]  # Annex A is the last table naming the delegation first
        assert "00:00" not in row and withheld in row, row
        assert not re.search(r"\|\s*0\s*\|", row), row
    # the sections the withheld entries would fill say so
    assert L.t("No decisions or recommendations were recorded.") not in doc
    assert L.t("No action items were recorded.") not in doc
    assert L.t("Nothing was captured.") not in doc
    # the participants' version shows the figures themselves
    full = minutes_text(snap, lang=lang, conflicts=conflicts)
    assert withheld not in full


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_public_report_and_brief_counts_never_read_as_zero(tmp_path: Path, lang: str) -> None:
    snap, _ = demo_snapshot(tmp_path)
    L = Lang(lang)
    roster = load_roster()
    report = report_text(snap.event, [snap], roster, lang=lang, as_of=AS_OF, audience="public")
    region = L.t("Africa")
    row = next(r for r in report.splitlines() if r.startswith(f"| {region} |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert all(L.t("withheld ({label}): {count}", label="TLP:AMBER", count="")[:8] in c
               for c in cells[3:]), cells  # fmt: skip
    brief = brief_text("GH", [snap], lang=lang, as_of=AS_OF, audience="community",
                       countries={c: v.name for c, v in roster.items()})  # fmt: skip
    assert "(00:00)" not in brief
    assert L.t("withheld ({label})", label="TLP:AMBER") in brief
