"""Golden files: the demo session's minutes, a delegation's brief and the event's report, in
each language, in Markdown and HTML (tests/golden/<lang>/).  Read them when they change.

The demo is built through the store as in use; ids and capture times are then made fixed,
three agenda items get their clock times, and one entry a conflicting edit, so that every part
of the documents shows.  Regenerate with
``RT_UPDATE_GOLDENS=1 pytest tests/test_documents_golden.py``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import pytest

from roundtable.documents import LANGUAGES, Version, brief_text, minutes_text, report_text
from roundtable.documents.versions import DRAFT
from roundtable.model import SessionSnapshot
from sessions import load_roster

GOLDEN = Path(__file__).with_name("golden")
AS_OF = dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.UTC)
SESSION_ID = "0193a1b2-0000-7000-8000-00000000d3m0"


def demo_snapshot(tmp_path: Path) -> tuple[SessionSnapshot, dict]:
    from roundtable.demo import create_demo
    from roundtable.store import LocalStore

    roster = load_roster()
    store = LocalStore(tmp_path / "home")
    sid = create_demo(store, roster)
    with store.open_session(sid, read_only=True) as ss:
        snap = ss.snapshot({code: c.name for code, c in roster.items()})
    items = {item.id: f"item-{n}" for n, item in enumerate(snap.agenda, start=1)}
    clock = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)  # 09:00 in Lyon (CET)
    agenda = []
    for n, item in enumerate(snap.agenda):
        times = {}
        if n < 3:  # the first three items were timed by the item clock
            start = clock + dt.timedelta(minutes=(0, 12, 70)[n])
            end = clock + dt.timedelta(minutes=(12, 70, 98)[n])
            times = {"started_at": start.isoformat(), "ended_at": end.isoformat()}
        agenda.append(replace(item, id=items[item.id], session_id=SESSION_ID, **times))
    entries = [
        replace(e, id=f"entry-{n:02d}", session_id=SESSION_ID,
                agenda_item=items.get(e.agenda_item, e.agenda_item),
                created_at=(clock + dt.timedelta(minutes=2 + 3 * n)).isoformat())
        for n, e in enumerate(snap.entries)
    ]  # fmt: skip
    session = replace(snap.session, id=SESSION_ID, event_id="event-demo",
                      current_item=items.get(snap.session.current_item, ""))  # fmt: skip
    fixed = replace(snap, event=replace(snap.event, id="event-demo"), session=session,
                    agenda=agenda, entries=entries,
                    attendance=[replace(a, session_id=SESSION_ID) for a in snap.attendance],
                    speeches=[replace(s, id=f"speech-{n:02d}", session_id=SESSION_ID,
                                      agenda_item=items.get(s.agenda_item, s.agenda_item))
                              for n, s in enumerate(snap.speeches)])  # fmt: skip
    action = next(e for e in entries if e.entry_kind == "action" and e.owner == "KE")
    conflicts = {action.id: {"due": [("2026-12-17", "laptop-rapporteur")]}}
    return fixed, conflicts


def documents(snap: SessionSnapshot, conflicts: dict, lang: str) -> dict[str, str]:
    roster = load_roster()
    names = {code: c.name for code, c in roster.items()}
    out = {}
    for fmt in ("md", "html"):
        out[f"minutes.{fmt}"] = minutes_text(
            snap, fmt=fmt, lang=lang, version=Version(DRAFT, 3), conflicts=conflicts
        )
        out[f"brief-GH.{fmt}"] = brief_text(
            "GH", [snap], fmt=fmt, lang=lang, as_of=AS_OF, countries=names, conflicts=conflicts
        )
        out[f"report.{fmt}"] = report_text(
            snap.event,
            [snap],
            roster,
            fmt=fmt,
            lang=lang,
            as_of=AS_OF,
            last_sync={SESSION_ID: "2026-11-26T17:42:00+00:00"},
            conflicts=conflicts,
        )
    return out  # fmt: skip


@pytest.mark.parametrize("lang", LANGUAGES)
def test_golden_documents(tmp_path: Path, lang: str) -> None:
    snap, conflicts = demo_snapshot(tmp_path)
    update = os.environ.get("RT_UPDATE_GOLDENS") == "1"
    for name, text in documents(snap, conflicts, lang).items():
        path = GOLDEN / lang / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            continue
        assert path.exists(), f"{path}: no golden file (RT_UPDATE_GOLDENS=1 writes it)"
        assert text == path.read_text(encoding="utf-8"), f"{lang}/{name} differs from its golden"
