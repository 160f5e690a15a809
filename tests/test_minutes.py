"""Minutes: structure, determinism, and hostile text that never breaks a table or injects HTML."""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

from budget import count
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from roundtable.minutes import escape_inline, render_html, render_markdown
from roundtable.model import (
    AgendaItem,
    Attendance,
    Entry,
    Event,
    Session,
    SessionSnapshot,
    Speech,
)

CORPUS = Path(__file__).with_name("corpus") / "injection.txt"
COUNTRIES = {"GH": "Ghana", "NG": "Nigeria", "ZM": "Zambia", "JO": "Jordan"}


def md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def hostile_lines() -> list[str]:
    return [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def snapshot(action_texts: list[str], *, shuffle: int | None = None) -> SessionSnapshot:
    agenda = [
        AgendaItem(id="a1", position=0, title="Opening", minutes=5),
        AgendaItem(id="a2", position=1, title="Drugs | ports", minutes=20, summary="Summary."),
    ]
    entries = [
        Entry(id=f"x{n:03d}", entry_kind="action", text=text, owner="GH" if n % 2 else "",
              due="2026-12-15" if n % 3 else "", agenda_item="a2", created_at=f"t{n:03d}",
              status="open")
        for n, text in enumerate(action_texts)
    ]  # fmt: skip
    entries += [
        Entry(id="i1", entry_kind="issue", text="Synthetic drug routes", delegations=["GH", "NG"],
              crime_areas=["drugs"], agenda_item="a2", created_at="u1"),
        Entry(id="n1", entry_kind="need", text="Forensics training", delegations=["ZM"],
              priority="high", agenda_item="a2", created_at="u2"),
        Entry(id="d1", entry_kind="decision", text="Recommend a working group",
              agenda_item="a2", created_at="u3"),
        Entry(id="o1", entry_kind="note", text="Reports a decline in thefts", delegations=["JO"],
              agenda_item="a1", created_at="u4"),
        Entry(id="p1", entry_kind="note", text="Sentencing harmonisation", parked=True,
              created_at="u5"),
        Entry(id="q1", entry_kind="issue", text="Stray issue", agenda_item="gone",
              created_at="u6"),
    ]  # fmt: skip
    if shuffle is not None:
        random.Random(shuffle).shuffle(entries)
    return SessionSnapshot(
        event=Event(id="e", name="Conference 2026"),
        session=Session(
            id="s",
            event_id="e",
            region="africa",
            title="Africa RT",
            room="B2",
            date="2026-11-25",
            facilitator="Ms. Diallo",
            rapporteur="Mr. Owusu",
            status="closed",
        ),  # fmt: skip
        agenda=agenda,
        attendance=[
            Attendance(id="1", country="GH", delegates=["ACP Mensah"], status="present"),
            Attendance(id="2", country="NG", status="present"),
            Attendance(id="3", country="ZM", status="apologies"),
        ],
        entries=entries,
        speeches=[
            Speech(id="sp", country="GH", seconds=95),
            Speech(id="sq", country="NG", seconds=3, passed=True),
        ],
        countries=COUNTRIES,
    )


def action_table(tokens) -> list[list[str]]:
    """Rows (cell texts) of the table whose header starts with '#'."""
    rows, row, in_cell, cell, in_table, found = [], None, False, "", False, False
    for t in tokens:
        if t.type == "table_open":
            in_table, found = True, False
        elif t.type == "table_close":
            if found:
                return rows
            rows, in_table = [], False
        elif in_table and t.type == "tr_open":
            row = []
        elif in_table and t.type == "tr_close":
            if row and row[:2] == ["#", "Action"]:
                found = True
            rows.append(row)
        elif in_table and t.type in ("th_open", "td_open"):
            in_cell, cell = True, ""
        elif in_table and t.type in ("th_close", "td_close"):
            in_cell = False
            row.append(cell)
        elif in_cell and t.type == "inline":
            cell += "".join(ch.content for ch in t.children if ch.type in ("text", "code_inline"))
    return []


def test_every_section_is_there() -> None:
    text = render_markdown(snapshot(["Share the watch list"]))
    for heading in ("## 1. Attendance", "## 2. Agenda", "## 3. Proceedings",
                    "## 4. Decisions and recommendations", "## 5. Action items",
                    "## 6. Actions by owner", "## 7. Parking lot", "## Annex A: participants",
                    "## Annex B: capture times", "Other matters", "### UNASSIGNED"):  # fmt: skip
        assert heading in text, heading
    assert "The delegation of Jordan: Reports a decline in thefts." in text
    assert "**Present (2):** Ghana (ACP Mensah); Nigeria." in text
    assert "| Ghana | ACP Mensah | present | 1 | 01:35 |" in text
    assert "| Nigeria | — | present | 0 (passed 1) | 00:00 |" in text
    assert "Sentencing harmonisation" in text.split("## 7. Parking lot")[1]


def test_action_table_keeps_its_shape_with_hostile_text() -> None:
    texts = hostile_lines()
    assert len(texts) >= 20
    markdown = render_markdown(snapshot(texts))
    rows = action_table(md().parse(markdown))
    assert len(rows) == len(texts) + 1
    assert all(len(r) == 7 for r in rows)
    for n, (row, text) in enumerate(zip(rows[1:], texts, strict=True), start=1):
        assert row[0] == f"A{n}"
        expected = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
        assert " ".join(row[1].split()).rstrip(".") == " ".join(expected.split()).rstrip(".")


def test_html_has_no_raw_markup_from_user_text() -> None:
    texts = hostile_lines()
    page = render_html(snapshot(texts))
    lowered = page.lower()
    assert page.startswith("<!doctype html>")
    assert not re.search(r"<\s*(script|img|iframe|a)\b", lowered)
    assert not re.search(r"<[^>]*\bon\w+=", lowered)  # no event handler inside any tag
    assert not re.search(r"<[a-z]+[^>]*\s(href|src)=", lowered)  # no link or embed anywhere


def test_same_snapshot_same_bytes_whatever_the_input_order() -> None:
    a = render_markdown(snapshot(["One", "Two", "Three"], shuffle=1))
    b = render_markdown(snapshot(["One", "Two", "Three"], shuffle=2))
    assert a == b
    assert render_html(snapshot(["One"], shuffle=1)) == render_html(snapshot(["One"], shuffle=2))


def test_unicode_survives() -> None:
    texts = ["تهريب المخدرات عبر الموانئ", "网络犯罪培训", "Réseaux 🚢 maritimes"]
    rows = action_table(md().parse(render_markdown(snapshot(texts))))
    assert [r[1].rstrip(".") for r in rows[1:]] == texts


@settings(max_examples=count(150), deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_any_text_stays_inside_its_cell(text: str) -> None:
    line = f"| a | {escape_inline(text)} | b |"
    tokens = md().parse(f"| x | y | z |\n|---|---|---|\n{line}\n")
    cells = [t for t in tokens if t.type == "td_open"]
    assert len(cells) == 3
    html = md().render(f"para {escape_inline(text)}")
    assert "<a " not in html and "<img" not in html and "<script" not in html.lower()
    assert html.count("<p>") == 1 and "<h" not in html and "<li>" not in html


def test_unattributed_note_reads_as_it_was_noted() -> None:
    snap = snapshot([])
    snap.entries.append(Entry(id="o2", entry_kind="note", text="Ports remain the main route",
                              agenda_item="a2", created_at="u7"))  # fmt: skip
    text = render_markdown(snap)
    proceedings = text.split("## 3. Proceedings")[1].split("## 4. Action items")[0]
    assert "Facilitator's note: Ports remain the main route." in proceedings
    assert "It was noted" not in text
    assert "No action items were recorded." in text
