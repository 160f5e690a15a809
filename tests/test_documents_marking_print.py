"""Issue 23, finding 1, printed: Chromium prints each document (minutes, a brief, the report) in
each language, and ``pdftotext`` of every page finds the TLP label, "page x of y" and the
document symbol.  Skipped, with the reason, without Chromium or poppler's ``pdftotext``."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from test_documents_golden import AS_OF, demo_snapshot
from test_documents_print import CHROMIUM, print_pdf

from roundtable.documents import LANGUAGES, Version, brief_text, minutes_text, report_text
from roundtable.documents.common import session_symbol
from roundtable.documents.versions import DRAFT
from roundtable.model import Entry
from sessions import load_roster

PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed to print with"),
    pytest.mark.skipif(PDFTOTEXT is None or PDFINFO is None, reason="no pdftotext (poppler)"),
]


def documents(tmp_path: Path, lang: str) -> dict[str, tuple[str, str]]:
    """name -> (symbol, HTML), long enough to run over several pages."""
    snap, conflicts = demo_snapshot(tmp_path)
    extra = [
        Entry(id=f"x{n:03d}", entry_kind=("action", "need")[n % 2],
              text=f"Follow-up number {n} on the regional port working group " * 2,
              owner="GH", delegations=["GH", "NG"], due="2026-12-13", status="open",
              priority="high", crime_areas=["drugs"], agenda_item=snap.agenda[2].id,
              created_at=f"2026-11-25T11:{n % 60:02d}:00+00:00")
        for n in range(80)
    ]  # fmt: skip
    snap = replace(snap, entries=[*snap.entries, *extra])
    roster = load_roster()
    names = {code: c.name for code, c in roster.items()}
    symbol = session_symbol(snap)
    return {
        "minutes": (symbol, minutes_text(snap, fmt="html", lang=lang, version=Version(DRAFT, 3),
                                         conflicts=conflicts)),
        "brief": (f"{symbol}/GH", brief_text("GH", [snap], focus=snap.session.id, fmt="html",
                                             lang=lang, as_of=AS_OF, countries=names)),
        "report": ("RT/2026/REPORT", report_text(snap.event, [snap], roster, fmt="html",
                                                 lang=lang, as_of=AS_OF)),
    }  # fmt: skip


def pages(pdf: Path) -> list[str]:
    info = subprocess.run([PDFINFO, str(pdf)], capture_output=True, text=True, check=True)
    count = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return [
        subprocess.run([PDFTOTEXT, "-f", str(n), "-l", str(n), str(pdf), "-"],
                       capture_output=True, text=True, check=True).stdout
        for n in range(1, count + 1)
    ]  # fmt: skip


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_printed_page_has_label_page_numbers_and_symbol(tmp_path: Path, lang: str) -> None:
    for name, (symbol, html) in documents(tmp_path, lang).items():
        path = tmp_path / f"{name}-{lang}.html"
        path.write_text(html, encoding="utf-8")
        print_pdf(path)
        texts = pages(path.with_suffix(".pdf"))
        assert len(texts) >= 2, (name, lang)
        total = len(texts)
        for n, page in enumerate(texts, start=1):
            assert "TLP:AMBER" in page, (name, lang, n)
            assert symbol in page, (name, lang, n)
            # "Page 3 of 7", "Página 3 de 7", "الصفحة 3 من 7" (extracted in visual order)
            found = [
                line
                for line in page.splitlines()
                if re.fullmatch(r"\D{0,16}\d+\D{1,8}\d+\D{0,16}", line.strip())
                and {int(x) for x in re.findall(r"\d+", line)} == {n, total}
            ]
            assert found, (name, lang, n, page[-200:])
