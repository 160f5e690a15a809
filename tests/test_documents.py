"""The document model: one build per document, one renderer per format, four languages.

Minutes, briefs and the report are checked as a reader would: sentences that read, references
that are numbered, tables that keep their shape (parsed with markdown-it-py), no markup from
captured text in any language, and the same bytes from the app, the CLI and the server.
"""

from __future__ import annotations

import ast
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from roundtable.checks import completeness, may_close
from roundtable.documents import (
    LANGUAGES,
    brief_text,
    conflicts_from_docs,
    exports,
    minutes_text,
    report_text,
)
from roundtable.documents.i18n import Lang, catalog
from roundtable.documents.versions import DRAFT, FINAL, REISSUED, Version
from roundtable.model import (
    REGIONS,
    AgendaItem,
    Attendance,
    Entry,
    Event,
    Session,
    SessionSnapshot,
)
from sessions import load_roster

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).with_name("corpus") / "injection.txt"
AS_OF = dt.datetime(2026, 11, 28, 17, 30, tzinfo=dt.UTC)
NAMES = {"GH": "Ghana", "NG": "Nigeria", "JO": "Jordan", "ZA": "South Africa", "DE": "Germany",
         "EG": "Egypt", "ES": "Spain", "KE": "Kenya"}  # fmt: skip


def md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def hostile() -> list[str]:
    return [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def entry(n: int, kind: str, text: str, **fields) -> Entry:
    fields.setdefault("agenda_item", "a2")
    fields.setdefault("created_at", f"2026-11-25T09:{n:02d}:00+00:00")
    if kind == "action":
        fields.setdefault("status", "open")
    return Entry(id=f"e{n:03d}", entry_kind=kind, text=text, **fields)


def snapshot(entries: list[Entry], *, status: str = "running", closed_at: str = "",
             event: str = "Conference 2026 & partners") -> SessionSnapshot:  # fmt: skip
    return SessionSnapshot(
        event=Event(id="ev", name=event),
        session=Session(id="s0000001", event_id="ev", region="mena", title="MENA round table",
                        room="B2", date="2026-11-25", facilitator="Ms. Haddad",
                        rapporteur="Mr. Salem", status=status, closed_at=closed_at),
        agenda=[
            AgendaItem(id="a1", position=0, title="Opening", minutes=10,
                       started_at="2026-11-25T09:00:00+00:00",
                       ended_at="2026-11-25T09:12:00+00:00"),
            AgendaItem(id="a2", position=1, title="Tour de table", minutes=45,
                       started_at="2026-11-25T09:12:00+00:00",
                       ended_at="2026-11-25T10:07:00+00:00"),
        ],
        attendance=[Attendance(id="t1", country="JO", delegates=["Col. Haddad"],
                               status="present"),
                    Attendance(id="t2", country="EG", status="present"),
                    Attendance(id="t3", country="GH", status="apologies")],
        entries=entries,
        speeches=[],
        countries=NAMES,
    )  # fmt: skip


def issue_cases() -> list[Entry]:
    """The cases the issue quotes, and the kinds that lost their priority."""
    return [
        entry(1, "note", "chair welcomed the heads of bureau", agenda_item="a1"),
        entry(2, "note", "agenda adopted without amendment", agenda_item="a1"),
        entry(3, "note", "reports a decline in thefts since 2012", delegations=["JO"]),
        entry(4, "note", "Kenya described a joint port control unit", delegations=["KE"]),
        entry(5, "issue", "Synthetic drug routes", delegations=["JO", "EG"], priority="high",
              crime_areas=["drugs"]),
        entry(6, "action", "Share the watch list", owner="JO", due="2026-12-13",
              priority="high", crime_areas=["drugs"], delegations=["EG"]),
        entry(7, "decision", "Recommend a working group on migrant smuggling",
              delegations=["EG"], crime_areas=["migrant-smuggling"]),
        entry(8, "need", "Training on cyber forensics", delegations=["JO"], priority="medium",
              crime_areas=["cybercrime"]),
    ]  # fmt: skip


# -- faithful minutes ----------------------------------------------------------------------------


def test_statements_read_as_sentences_never_a_template_glued_to_a_fragment() -> None:
    text = minutes_text(snapshot(issue_cases()))
    for broken in ("It was noted that chair", "It was noted that agenda",
                   "The delegation of Jordan noted that reports", "noted that"):  # fmt: skip
        assert broken not in text, broken
    assert "1\\. chair welcomed the heads of bureau." in text  # the chair speaks for itself
    assert "2\\. Facilitator's note: agenda adopted without amendment." in text
    assert "The delegation of Jordan: reports a decline in thefts since 2012." in text
    assert "Kenya described a joint port control unit." in text  # already names its speaker


def test_every_kind_keeps_priority_tags_delegations_owner_due_and_status() -> None:
    text = minutes_text(snapshot(issue_cases()))
    assert ("**I1.** Synthetic drug routes. — raised by Jordan and Egypt; priority: high; "
            "crime areas: drug trafficking") in text  # fmt: skip
    assert ("**A1.** Share the watch list. — concerns Egypt; owner: Jordan; due: 13 December "
            "2026; status: open; priority: high; crime areas: drug trafficking"
            ) in text  # fmt: skip
    assert "**D1.** Recommend a working group on migrant smuggling. — proposed by Egypt" in text
    assert "raised by Egypt; crime areas: migrant" not in text  # decisions are not "raised"
    assert "| A1 | Share the watch list. | 2 | Jordan | 13 December 2026 | high | open |" in text
    assert "| D1 | Recommend a working group on migrant smuggling. | 2 | Egypt |" in text


def test_planned_and_actual_time_per_item_and_capture_times_in_the_annex() -> None:
    text = minutes_text(snapshot(issue_cases()))
    assert "| 1 | Opening | 10 min | 12 min | 09:00–09:12 |" in text
    assert "| 2 | Tour de table | 45 min | 55 min | 09:12–10:07 |" in text
    annex = text.split("## Annex B: capture times")[1]
    assert "| A1 | 09:06:00 | action | 2 |" in annex
    assert "| para. 3 | 09:03:00 | note | 2 |" in annex


def tables(markdown: str) -> list[tuple[int, list[int]]]:
    """(header cells, [cells per body row]) of every table, as markdown-it parses them."""
    out, header, rows, row, part = [], 0, [], 0, ""
    for t in md().parse(markdown):
        if t.type == "table_open":
            header, rows = 0, []
        elif t.type in ("thead_open", "tbody_open"):
            part = t.type
        elif t.type == "tr_open":
            row = 0
        elif t.type in ("th_open", "td_open"):
            row += 1
        elif t.type == "tr_close":
            if part == "thead_open":
                header = row
            else:
                rows.append(row)
        elif t.type == "table_close":
            out.append((header, rows))
    return out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_clean_commonmark_in_every_language(lang: str) -> None:
    entries = issue_cases() + [entry(20 + n, "action", t, owner="JO") for n, t in
                               enumerate(hostile())]  # fmt: skip
    snap = snapshot(entries)
    for text in (minutes_text(snap, lang=lang),
                 report_text(snap.event, [snap], load_roster(), lang=lang, as_of=AS_OF),
                 brief_text("JO", [snap], lang=lang, as_of=AS_OF, countries=NAMES)):  # fmt: skip
        found = tables(text)
        assert found
        for header, rows in found:
            assert header > 0 and all(r == header for r in rows), (header, rows)
        assert not re.search(r"&(amp|lt|gt|quot|#\d+);", text.replace("\\&", ""))
        assert "| |" not in text and "|---|---|\n| |" not in text  # no empty header row
        page = md().render(text)
        assert not re.search(r"<\s*(script|img|iframe|a)\b", page.lower())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_hostile_text_stays_escaped_in_html_in_every_language(lang: str) -> None:
    texts = hostile()
    entries = [entry(n, ("issue", "need", "action", "decision", "note")[n % 5], t,
                     delegations=["JO"], owner=t[:40]) for n, t in enumerate(texts)]  # fmt: skip
    snap = snapshot(entries, event="Conference <script>alert(1)</script>")
    pages = [minutes_text(snap, fmt="html", lang=lang),
             report_text(snap.event, [snap], load_roster(), fmt="html", lang=lang, as_of=AS_OF),
             brief_text("JO", [snap], fmt="html", lang=lang, as_of=AS_OF)]  # fmt: skip
    for page in pages:
        # the report's own chart (issue 23) is the one SVG, and nothing typed is markup in it
        charts = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="chart".*?</svg>',
                            page, re.DOTALL)  # fmt: skip
        assert len(charts) <= 1
        for chart in charts:
            assert not re.search(r"<\s*(script|img|iframe|object|embed|a|foreignobject)\b",
                                 chart.lower())  # fmt: skip
            assert not re.search(r"\s(on\w+|href|xlink:href|src)\s*=", chart.lower())
            page = page.replace(chart, "")
        lowered = page.lower()
        assert not re.search(r"<\s*(script|img|iframe|svg|object|embed|a)\b", lowered)
        assert not re.search(r"<[^>]*\bon\w+\s*=", lowered)
        assert not re.search(r"<[a-z]+[^>]*\s(href|src)\s*=", lowered)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text


def test_no_html_entities_in_markdown_titles_or_categories() -> None:
    snap = snapshot([entry(1, "need", "New equipment kits", delegations=["JO"],
                           crime_areas=["drugs"])])  # fmt: skip
    text = minutes_text(snap)
    assert text.startswith("# Minutes — MENA round table, Middle East & North Africa, ")
    report = report_text(snap.event, [snap], load_roster(), as_of=AS_OF)
    assert "equipment & tools" in report and "&amp;" not in report + text


def test_actions_by_owner_sorted_by_name_in_the_document_language() -> None:
    owners = ["ZA", "EG", "DE", "ES", ""]
    snap = snapshot([entry(n, "action", f"Act {n}", owner=o) for n, o in enumerate(owners)])

    def headings(lang: str) -> list[str]:
        part = minutes_text(snap, lang=lang).split("\n## 6")[1].split("\n## 7")[0]
        return [line[4:] for line in part.splitlines() if line.startswith("### ")]

    assert headings("en") == ["Egypt", "Germany", "South Africa", "Spain", "UNASSIGNED"]
    # accents ignored at the first level: Égypte among the E, not after Z
    assert headings("fr") == ["Afrique du Sud", "Allemagne", "Égypte", "Espagne",
                              "NON ATTRIBUÉ"]  # fmt: skip
    assert headings("es") == ["Alemania", "Egipto", "España", "Sudáfrica", "SIN ASIGNAR"]
    arabic = snapshot([entry(n, "action", f"Act {n}", owner=o)
                       for n, o in enumerate(["EG", "TN", "IQ", "BH", "JO"])])  # fmt: skip
    part = minutes_text(arabic, lang="ar").split("\n## 6")[1].split("\n## 7")[0]
    found = [line[4:] for line in part.splitlines() if line.startswith("### ")]
    assert found == ["الأردن", "البحرين", "العراق", "تونس", "مصر"]


def test_spanish_collation_puts_enye_after_n() -> None:
    L = Lang("es")
    assert sorted(["Ñandú", "Nube", "Oso"], key=L.sort_key) == ["Nube", "Ñandú", "Oso"]


# -- conflicts ------------------------------------------------------------------------------------


def test_unresolved_conflicts_show_both_values_and_block_closing() -> None:
    snap = snapshot(issue_cases())
    conflicts = {"e006": {"owner": [("EG", "laptop-2")]}}
    text = minutes_text(snap, conflicts=conflicts)
    assert "**Unresolved conflict:** owner: “JO” or “EG” (laptop-2)" in text
    assert "## Unresolved conflicts" in text
    assert "| A1 | owner | JO | “EG” (laptop-2) |" in text
    findings = completeness(snap, None, conflicts)
    assert [f.code for f in findings if f.rule == "conflict"] == ["conflict:e006"]
    assert not may_close(findings)
    assert may_close(completeness(snap, None, {}))


def test_conflicts_from_merged_docs() -> None:
    from roundtable.model import Op
    from roundtable.protocol import merge_ops

    def op(n: int, value: str, device: str) -> Op:
        return Op(op_id=f"op{n}", event_id="ev", session_id="s", record_id="e1", kind="entry",
                  field="text", value=value, hlc=f"{1000 + n:015d}-000000-{device}",
                  device=device)  # fmt: skip

    docs = merge_ops([op(1, "Ports", "a"), op(2, "Airports", "b")])
    assert conflicts_from_docs(docs.values()) == {"e1": {"text": [("Ports", "a")]}}


# -- languages -----------------------------------------------------------------------------------


def boilerplate() -> list[str]:
    """Every msgid the documents use: Lang.t, Lang.tx and N_ calls, and the region names."""
    ids: list[str] = []
    for path in sorted((ROOT / "roundtable" / "documents").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):  # fmt: skip
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if name in ("t", "tx", "N_"):
                    ids.append(node.args[0].value)
    return sorted(set(ids) | set(REGIONS.values()))


def plural_boilerplate() -> list[tuple[str, str]]:
    """Every count-dependent msgid (singular, plural): Lang.tn, Lang.tnx and N2_ calls."""
    ids: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "roundtable" / "documents").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and len(node.args) >= 2
                    and all(isinstance(a, ast.Constant) and isinstance(a.value, str)
                            for a in node.args[:2])):  # fmt: skip
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if name in ("tn", "tnx", "N2_"):
                    ids.add((node.args[0].value, node.args[1].value))
    return sorted(ids)


def test_the_catalog_template_is_what_pybabel_extracts(tmp_path: Path) -> None:
    """`pybabel extract` (the translators' tool) finds every string the documents use."""
    from roundtable.documents.common import REGION_MSGIDS

    assert set(REGION_MSGIDS) == set(REGIONS.values())
    pot = tmp_path / "x.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract",
                    "--no-default-keywords", "-k", "t", "-k", "tx", "-k", "N_",
                    "-k", "tn:1,2", "-k", "tnx:1,2", "-k", "N2_:1,2",
                    "--no-location", "-o", str(pot), "roundtable/documents"],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    from babel.messages.pofile import read_po

    with pot.open("rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    with (ROOT / "roundtable" / "locale" / "roundtable.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    assert extracted == template == set(boilerplate()) | set(plural_boilerplate())


@pytest.mark.parametrize("lang", ["fr", "es", "ar"])
def test_every_boilerplate_string_has_its_translation(lang: str) -> None:
    ids = boilerplate()
    assert len(ids) > 100
    messages = catalog(lang)
    missing = [i for i in ids if not messages.get(i)]
    assert missing == []
    placeholders = re.compile(r"\{(\w+)\}")
    for msgid in ids:
        assert set(placeholders.findall(messages[msgid])) == set(placeholders.findall(msgid)), msgid


@pytest.mark.parametrize("lang", ["fr", "es", "ar"])
def test_no_english_boilerplate_in_a_translated_document(lang: str) -> None:
    # captured text in a neutral form, so that any English phrase found is boilerplate
    entries = [
        entry(1, "note", "Texto 1", agenda_item="a1"),
        entry(2, "note", "Texto 2", delegations=["JO"]),
        entry(3, "issue", "Texto 3", delegations=["JO"], priority="high", crime_areas=["x"]),
        entry(4, "need", "Texto 4", delegations=["EG"], priority="low", crime_areas=["y"]),
        entry(5, "action", "Texto 5", owner="", due="2026-12-01", delegations=["JO"]),
        entry(6, "action", "Texto 6", owner="region"),
        entry(7, "decision", "Texto 7", delegations=["EG"]),
        entry(8, "note", "Texto 8", parked=True),
        entry(9, "issue", "Texto 9", agenda_item="elsewhere"),
    ]
    snap = snapshot(entries)
    snap.session.title = "MENA"
    snap.event.name = "Evento 2026"
    snap.agenda[0].title, snap.agenda[1].title = "Uno", "Dos"
    conflicts = {"e003": {"text": [("Texto 3 bis", "laptop-2")]}}
    texts = [
        minutes_text(snap, lang=lang, conflicts=conflicts, version=Version(DRAFT, 2)),
        minutes_text(snap, fmt="html", lang=lang),
        report_text(
            snap.event,
            [snap],
            load_roster(),
            lang=lang,
            as_of=AS_OF,
            last_sync={"s0000001": "2026-11-28T16:00:00+00:00"},
        ),  # fmt: skip
        brief_text("JO", [snap], lang=lang, as_of=AS_OF, countries=NAMES),
    ]
    english = []
    for msgid in boilerplate():
        for chunk in re.split(r"\{\w+\}", msgid):
            words = re.findall(r"[A-Za-z]+", chunk)
            if len(words) >= 2 or (len(words) == 1 and len(words[0]) > 6):
                english.append(chunk.strip(" :;,.()—“”"))
    english = [e for e in english if e and e not in ("Tour de table",)]
    for text in texts:
        found = [e for e in english if catalog(lang).get(e, "") != e
                 and re.search(rf"(?<!\w){re.escape(e)}(?!\w)", text)]  # fmt: skip
        assert found == [], found[:5]


def test_arabic_html_reads_right_to_left() -> None:
    page = minutes_text(snapshot(issue_cases()), fmt="html", lang="ar")
    assert '<html lang="ar" dir="rtl">' in page
    assert '<html lang="fr" dir="ltr">' in minutes_text(snapshot([]), fmt="html", lang="fr")


def test_dates_and_country_names_from_cldr() -> None:
    text = minutes_text(snapshot(issue_cases()), lang="fr")
    assert "25 novembre 2026" in text and "Jordanie" in text and "Égypte" in text
    assert "13 de diciembre de 2026" in minutes_text(snapshot(issue_cases()), lang="es")


def test_unknown_language_is_refused_in_one_line() -> None:
    from roundtable.documents import LanguageError

    with pytest.raises(LanguageError, match="expected one of en, fr, es, ar"):
        minutes_text(snapshot([]), lang="de")


# -- versions -------------------------------------------------------------------------------------


def test_versions_draft_numbers_final_and_reissue(tmp_path: Path) -> None:
    snap = snapshot(issue_cases())
    v, fp = exports.next_version(tmp_path, snap)
    assert v == Version(DRAFT, 1)
    md_path = exports.save(tmp_path, snap, v, fp, "en", "md", minutes_text(snap, version=v))
    html = minutes_text(snap, fmt="html", version=v)
    html_path = exports.save(tmp_path, snap, v, fp, "en", "html", html)
    assert md_path.name == "2026-11-25-mena-s0000001-minutes-en-draft1.md"
    assert html_path.name == "2026-11-25-mena-s0000001-minutes-en-draft1.html"
    assert "**Draft 1** — Summary record" in md_path.read_text(encoding="utf-8")
    # same records again: same number, same file, nothing rewritten
    assert exports.next_version(tmp_path, snap)[0] == Version(DRAFT, 1)
    snap.entries.append(entry(30, "note", "One more thing"))
    v2, fp2 = exports.next_version(tmp_path, snap)
    assert v2 == Version(DRAFT, 2)
    exports.save(tmp_path, snap, v2, fp2, "en", "md", minutes_text(snap, version=v2))
    snap.session.status, snap.session.closed_at = "closed", "2026-11-25T12:00:00+00:00"
    v3, fp3 = exports.next_version(tmp_path, snap)
    assert v3 == Version(FINAL)
    final = exports.save(tmp_path, snap, v3, fp3, "en", "md", minutes_text(snap, version=v3))
    assert final.name.endswith("-en-final.md")
    assert "- **Document:** Final" in final.read_text(encoding="utf-8")
    # reopened: drafts again, then closed with other records: Final, reissued
    snap.session.status = "running"
    v4, _ = exports.next_version(tmp_path, snap)
    assert v4.kind == DRAFT and "- **Session:** reopened" in minutes_text(snap, version=v4)
    snap.entries.append(entry(31, "decision", "Added after reopening"))
    snap.session.status = "closed"
    v5, fp5 = exports.next_version(tmp_path, snap)
    assert v5 == Version(REISSUED, 1)
    text5 = minutes_text(snap, version=v5)
    assert "**Final, reissued** — Summary record" in text5
    again = exports.save(tmp_path, snap, v5, fp5, "en", "md", text5)
    assert again.name.endswith("-en-final-reissued.md")
    assert len(list(tmp_path.glob("*.md"))) == 4


def test_a_taken_name_is_never_overwritten(tmp_path: Path) -> None:
    snap = snapshot(issue_cases())
    v, fp = exports.next_version(tmp_path, snap)
    taken = tmp_path / exports.file_name(snap, v, "en", "md")
    taken.write_text("someone's own edits\n", encoding="utf-8")
    path = exports.save(tmp_path, snap, v, fp, "en", "md", minutes_text(snap, version=v))
    assert path.name.endswith("-draft1-2.md")
    assert taken.read_text(encoding="utf-8") == "someone's own edits\n"


# -- the same bytes from the app, the CLI and the server ------------------------------------------


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ROUNDTABLE_HOME=str(home), ROUNDTABLE_CONFIG=str(home / "s.toml"))
    return subprocess.run([sys.executable, "-m", "roundtable", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT)  # fmt: skip


def server_side(home: Path, session_id: str):
    """What the secretariat holds after a push of every op: merged docs -> snapshot."""
    from roundtable.protocol import merge_ops
    from roundtable.secretariat.records import snapshots_from_docs
    from roundtable.store import LocalStore

    with LocalStore(home).open_session(session_id, read_only=True) as ss:
        docs = merge_ops(ss.outbox())
    names = {code: c.name for code, c in load_roster().items()}
    _, snaps = snapshots_from_docs(docs.values(), names)
    return snaps[0], conflicts_from_docs(d for d in docs.values() if d["kind"] == "entry")


async def test_app_cli_and_server_give_the_same_bytes(tmp_path: Path) -> None:
    from roundtable import minutes
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.demo import create_demo
    from roundtable.screens.minutes import minutes_document
    from roundtable.store import LocalStore

    home = tmp_path / "home"
    session_id = create_demo(LocalStore(home), load_roster())
    for fmt in ("md", "html"):
        result = cli(home, "export", session_id, "--format", fmt, "--lang", "fr")
        assert result.returncode == 0, result.stderr
        from_cli = result.stdout
        snap, conflicts = server_side(home, session_id)
        snap.event = LocalStore(home).events()[0]  # the event record travels in its own ops
        from_server = minutes.render(snap, fmt, lang="fr", version=Version(DRAFT, 1),
                                     conflicts=conflicts)  # fmt: skip
        app = RoundtableApp(home=home, session_id=session_id, settings=Settings(language="fr"),
                            sync_enabled=False)  # fmt: skip
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            from_app = minutes_document(app, fmt)[0]
        assert from_cli == from_app == from_server
        assert "Projet 1" in from_cli


# -- briefs and the report -----------------------------------------------------------------------


def test_brief_has_what_concerns_one_delegation() -> None:
    snap = snapshot(issue_cases())
    other = snapshot([entry(40, "action", "Draft the terms", owner="EG", due="2026-11-01")])
    other.session.id, other.session.region, other.session.title = "s2", "africa", "Africa RT"
    other.attendance = []
    text = brief_text("JO", [snap, other], lang="en", as_of=AS_OF, countries=NAMES)
    assert text.startswith("# Brief for the delegation of Jordan\n")
    assert "- **Attendance:** present" in text and "- **Delegates:** Col. Haddad" in text
    assert "The delegation of Jordan: reports a decline in thefts since 2012." in text
    said = text.split("### What the delegation said")[1].split("###")[0]
    assert "Kenya described" not in said
    assert "**I1.** Synthetic drug routes." in text and "**N1.** Training on cyber" in text
    assert "**A1.** Share the watch list." in text.split("### Actions it owns")[1]
    assert "**D1.** Recommend a working group" in text
    opened = text.split("## Open actions across the event")[1]
    assert "| A1 | **Share the watch list.** | Jordan |" in opened  # its own, in bold
    assert "| A1 | Draft the terms. | Egypt | 1 November 2026 — **OVERDUE** |" in opened
    assert "Africa RT" not in text.split("## Open actions")[0]  # not a session of Jordan's


def test_report_counts_a_need_captured_on_two_laptops_once_and_keeps_distinct_ones() -> None:
    a = snapshot([
        entry(1, "need", "Training on cyber forensics", delegations=["JO", "EG"],
              crime_areas=["cybercrime"]),
        entry(2, "need", "training on  cyber forensics.", delegations=["EG", "JO"],
              crime_areas=["cybercrime"]),  # the same need from the second laptop
        entry(3, "need", "Training on cyber forensics", delegations=["JO"],
              crime_areas=["cybercrime"]),  # another delegation set: its own need
        entry(4, "issue", "Smuggling by sea", delegations=["EG"],
              crime_areas=["migrant-smuggling"]),
        entry(5, "decision", "Recommend a working group", delegations=["EG"]),
        entry(6, "action", "Share the list", owner="JO", due="2026-11-01"),
    ])  # fmt: skip
    text = report_text(a.event, [a], load_roster(), as_of=AS_OF,
                       last_sync={"s0000001": "2026-11-28T16:05:00+00:00"})  # fmt: skip
    needs = text.split("## 3. Regional needs, ranked")[1].split("## 4.")[0]
    assert needs.count("Training on cyber forensics.") == 2
    assert "| Middle East & North Africa | 1 | 2 | 1 | 2 | 1 | 1 | 1 |" in text
    assert "### 1. migrant smuggling\n" in text and "migrant-smuggling" not in text
    assert "| Africa | **no session yet** |" in text
    assert "- **As of:** 28 November 2026, 17:30 UTC" in text
    assert "| B2 | 25 November 2026 | in session | 28 November 2026, 16:05 UTC |" in text
    decisions = text.split("## 5. Decisions and recommendations, by region")[1]
    assert "**D1.** Recommend a working group. (MENA round table)" in decisions
    assert "| Share the list. | 1 November 2026 | Middle East & North Africa |" in text
    assert "**OVERDUE**" in text


def test_cli_brief_language_and_no_silent_overwrite(tmp_path: Path) -> None:
    from roundtable.demo import create_demo
    from roundtable.store import LocalStore

    home = tmp_path / "home"
    sid = create_demo(LocalStore(home), load_roster())
    brief = cli(home, "export", sid, "--for", "GH", "--lang", "es")
    assert brief.returncode == 0, brief.stderr
    assert brief.stdout.startswith("# Nota informativa para la delegación: Ghana")
    across = cli(home, "report", "--for", "gh", "--format", "html", "--lang", "ar")
    assert across.returncode == 0 and '<html lang="ar" dir="rtl">' in across.stdout
    bad = cli(home, "export", sid, "--for", "XQ")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "XQ" in bad.stderr
    out = tmp_path / "minutes.md"
    out.write_text("kept\n", encoding="utf-8")
    refused = cli(home, "export", sid, "-o", str(out))
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert out.read_text(encoding="utf-8") == "kept\n"
    assert cli(home, "export", sid, "-o", str(out), "--force").returncode == 0
    assert out.read_text(encoding="utf-8").startswith("# Minutes — ")
    saved = cli(home, "export", sid, "--save", "--lang", "fr")
    assert saved.returncode == 0 and saved.stdout.strip().endswith("-fr-draft1.md")
    assert Path(saved.stdout.strip()).read_text(encoding="utf-8").startswith("# Compte rendu")


def test_language_setting_and_plan_default(tmp_path: Path) -> None:
    from roundtable.config import ConfigError, load_settings
    from sessions.plan import PlanError, parse_plan

    settings = tmp_path / "s.toml"
    settings.write_text('language = "es"\n', encoding="utf-8")
    assert load_settings(settings).language == "es"
    settings.write_text('language = "de"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="language: expected en, fr, es or ar"):
        load_settings(settings)
    plan = ('name = "x"\nregion = "africa"\ntitle = "X"\nlanguage = "{}"\n'
            '[[items]]\ntitle = "Opening"\nminutes = 5\nkind = "opening"\n')  # fmt: skip
    assert parse_plan(plan.format("fr"), "x.toml").language == "fr"
    with pytest.raises(PlanError, match="language"):
        parse_plan(plan.format("klingon"), "x.toml")


def conflicted_session(home: Path) -> tuple[str, str]:
    """A demo session where a second laptop changed an action's owner without seeing ours."""
    from roundtable.demo import create_demo
    from roundtable.model import Op, new_id
    from roundtable.store import LocalStore

    sid = create_demo(LocalStore(home), load_roster())
    with LocalStore(home).open_session(sid) as ss:
        action = next(e for e in ss.records("entry") if e.entry_kind == "action" and e.owner)
        mine = ss.doc("entry", action.id)["heads"]["owner"][0][1]
        wall = int(mine.split("-")[0])
        ss.apply_remote(
            [
                Op(
                    op_id=new_id(),
                    event_id=ss.session.event_id,
                    session_id=sid,
                    record_id=action.id,
                    kind="entry",
                    field="owner",
                    value="NG",
                    hlc=f"{wall - 1:015d}-000000-laptop-2",
                    device="laptop-2",
                )
            ]
        )
    return sid, action.id


def test_cli_export_marks_a_conflict_pulled_from_another_laptop(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sid, _ = conflicted_session(home)
    result = cli(home, "export", sid)
    assert result.returncode == 0, result.stderr
    assert "**Unresolved conflict:** owner: “GH” or “NG” (laptop-2)" in result.stdout
    assert "## Unresolved conflicts" in result.stdout


async def test_the_app_refuses_to_close_while_a_conflict_remains(tmp_path: Path) -> None:
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.screens.close import CloseScreen
    from roundtable.store import LocalStore

    home = tmp_path / "home"
    sid, action_id = conflicted_session(home)
    app = RoundtableApp(home=home, session_id=sid, settings=Settings(), sync_enabled=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.push_screen(CloseScreen())
        await pilot.pause()
        screen = app.screen
        assert any(f.code == f"conflict:{action_id}" for f in screen.findings())
        screen.action_close_session()
        await pilot.pause()
        assert app.session_store.session.status != "closed"
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        assert ss.session.status == "running" and not ss.session.closed_at


def test_a_plan_language_is_the_default_of_its_sessions(tmp_path: Path) -> None:
    """A plan in the user's plans directory (beside the settings) or a built-in one."""
    home = tmp_path / "home"
    plan = home / "plans" / "mesa.toml"  # cli() puts the settings at home/s.toml
    plan.parent.mkdir(parents=True)
    plan.write_text('name = "tabla-hispana"\nregion = "americas"\ntitle = "Mesa"\n'
                    'language = "es"\n[[items]]\ntitle = "Apertura"\nminutes = 5\n'
                    'kind = "opening"\n', encoding="utf-8")  # fmt: skip
    sid = cli(home, "new", "--plan", str(plan), "--date", "2026-11-25").stdout.strip()
    assert cli(home, "export", sid).stdout.startswith("# Acta — Mesa, Américas, 25 de noviembre")
    assert cli(home, "export", sid, "--lang", "en").stdout.startswith("# Minutes — Mesa")
    (home / "s.toml").write_text('language = "fr"\n', encoding="utf-8")
    assert cli(home, "export", sid).stdout.startswith("# Compte rendu — Mesa")


async def test_minutes_screen_palette_exports_a_brief_never_overwriting(tmp_path: Path) -> None:
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.demo import create_demo
    from roundtable.screens.minutes import MinutesScreen
    from roundtable.store import LocalStore

    home = tmp_path / "home"
    sid = create_demo(LocalStore(home), load_roster())
    app = RoundtableApp(home=home, session_id=sid, settings=Settings(language="fr"),
                        sync_enabled=False)  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.push_screen(MinutesScreen())
        await pilot.pause()
        commands = {title: callback for title, _, callback in app.screen.palette_commands()}
        assert "export: brief for Ghana" in commands and "export: brief for Eritrea" in commands
        commands["export: brief for Ghana"]()
        await pilot.pause()
        await pilot.press("enter")  # the audience asked: participants (issue 14)
        await pilot.pause()
        first = sorted((home / "exports").glob("*-brief-GH-fr.md"))
        assert len(first) == 1
        assert (
            first[0]
            .read_text(encoding="utf-8")
            .startswith("# Note d'information pour la délégation : Ghana")
        )
        first[0].write_text("annotated by the delegation\n", encoding="utf-8")
        commands["export: brief for Ghana"]()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    files = sorted(p.name for p in (home / "exports").glob("*-brief-GH-fr*.md"))
    assert len(files) == 2 and files[0].endswith("-brief-GH-fr-2.md")
    assert first[0].read_text(encoding="utf-8") == "annotated by the delegation\n"


def test_cli_saves_a_brief_beside_the_minutes(tmp_path: Path) -> None:
    from roundtable.demo import create_demo
    from roundtable.store import LocalStore

    home = tmp_path / "home"
    sid = create_demo(LocalStore(home), load_roster())
    saved = cli(home, "export", sid, "--for", "KE", "--save", "--format", "html")
    assert saved.returncode == 0, saved.stderr
    path = Path(saved.stdout.strip())
    assert path.parent == home / "exports" and path.name.endswith("-brief-KE-en.html")
    page = path.read_text(encoding="utf-8")
    assert "<h1><bdi>Brief for the delegation of Kenya</bdi></h1>" in page


def test_the_server_serves_the_bytes_a_laptop_exports(live_server, tmp_path) -> None:
    """The secretariat's minutes route calls the laptops' own function: the same records give
    byte-identical Markdown and HTML, in every language (the routes used to render by hand)."""
    import asyncio

    import httpx

    from roundtable import minutes
    from roundtable.store import LocalStore
    from roundtable.sync import SyncClient
    from sessions.roster import load_roster

    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    laptop = LocalStore(tmp_path / "laptop")
    assert asyncio.run(SyncClient(laptop, live_server.url, token).sync_once()).ok
    session = laptop.create_session(
        event_id, "mena", "MENA round table", [{"title": "Drug routes", "minutes": 20}]
    )
    with laptop.open_session(session.id) as ss:
        ss.set_attendance("JO", "present")
        ss.add_entry(entry_kind="note", text="Jordan reported a new route", delegations=["JO"])
        ss.add_entry(entry_kind="action", text="Share the list", owner="JO", due="2026-12-15")
    assert asyncio.run(SyncClient(laptop, live_server.url, token).sync_once()).ok
    names = {code: c.name for code, c in load_roster().items()}
    with laptop.open_session(session.id, read_only=True) as ss:
        snap = ss.snapshot(names)
    for fmt in ("md", "html"):
        for lang in ("en", "ar"):
            served = httpx.get(
                f"{live_server.url}/v1/sessions/{session.id}/minutes",
                params={"format": fmt, "lang": lang},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert served.status_code == 200
            assert served.text == minutes.render(snap, fmt, lang=lang), (fmt, lang)
