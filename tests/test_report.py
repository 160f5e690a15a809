"""The consolidated report: needs ranked across regions, open actions by owner, overdue flags."""

from __future__ import annotations

import datetime as dt

from roundtable.model import Attendance, Entry, Event, Session, SessionSnapshot
from roundtable.report import build_report, need_category, report_html, report_markdown
from sessions import load_roster


def snap(region: str, entries: list[Entry], present: list[str]) -> SessionSnapshot:
    return SessionSnapshot(
        event=Event(id="e", name="Conf"),
        session=Session(id=f"s-{region}", event_id="e", region=region, title=f"{region} RT"),
        agenda=[],
        attendance=[Attendance(id=c, country=c, status="present") for c in present],
        entries=entries,
        speeches=[],
        countries={},
    )


def need(n: int, text: str, who: list[str], area: str, priority: str = "") -> Entry:
    return Entry(id=f"n{n}", entry_kind="need", text=text, delegations=who,
                 crime_areas=[area], priority=priority, created_at=f"{n:03d}")  # fmt: skip


def test_needs_ranked_by_regions_then_delegations() -> None:
    snaps = [
        snap("africa", [need(1, "Cyber forensics training", ["GH", "NG"], "cybercrime", "high"),
                        need(2, "Firearms tracing kits", ["KE", "UG", "TZ"], "firearms")],
             ["GH", "NG", "KE"]),
        snap("europe", [need(3, "Training in digital forensics", ["FR"], "cybercrime")], ["FR"]),
        snap("americas", [need(4, "Forensics training for cyber units", ["BR", "MX"],
                               "cybercrime", "high")], ["BR"]),
    ]  # fmt: skip
    report = build_report(Event(id="e", name="Conf"), snaps, load_roster(),
                          as_of=dt.date(2026, 11, 28))  # fmt: skip
    top = report.data.needs[0]
    assert top.area == "cybercrime"
    assert len(top.regions) == 3 and top.delegations == {"GH", "NG", "FR", "BR", "MX"}
    assert top.high == 2
    # each need keeps its own text under its area: three different needs, three lines
    assert [i.entry.text for i in top.items] == [
        "Cyber forensics training", "Forensics training for cyber units",
        "Training in digital forensics",
    ]  # fmt: skip
    assert report.data.needs[1].area == "firearms"
    assert report.data.needs[1].items[0].category == "equipment & tools"
    text = report_markdown(report)
    assert text.index("### 1. cybercrime") < text.index("### 2. firearms")
    assert "| Middle East & North Africa | **no session yet** |" in text


def test_open_actions_by_owner_with_overdue_and_unassigned() -> None:
    actions = [
        Entry(id="a1", entry_kind="action", text="Share list", owner="GH", due="2026-11-01",
              status="open"),
        Entry(id="a2", entry_kind="action", text="Draft terms", owner="", due="2027-01-01",
              status="open"),
        Entry(id="a3", entry_kind="action", text="Done already", owner="GH", status="done"),
        Entry(id="a4", entry_kind="action", text="Nominate focal points", owner="region",
              due="2027-02-01", status="open"),
    ]  # fmt: skip
    report = build_report(Event(id="e", name="Conf"), [snap("africa", actions, [])],
                          load_roster(), as_of=dt.date(2026, 11, 28))  # fmt: skip
    text = report_markdown(report)
    owners = text.split("## 6. Open actions, by owner")[1]
    assert owners.index("### Ghana") < owners.index("### The region (all delegations)")
    assert owners.index("### The region") < owners.index("### UNASSIGNED")
    assert "| Share list. | 1 November 2026 | Africa | africa RT | **OVERDUE** |" in owners
    assert "Done already" not in text
    assert "<table>" in report_html(report)


def test_need_categories() -> None:
    cases = {
        "Training on container profiling": "training",
        "Access to the stolen vehicle database": "database access",
        "Digital forensics laboratories": "equipment & tools",
        "Interpretation for francophone delegations": "capacity & staffing",
        "Mutual legal assistance templates": "legal & cooperation",
        "More of everything": "other",
    }
    for text, category in cases.items():
        assert need_category(Entry(id="x", entry_kind="need", text=text)) == category, text


def test_delegation_missing_from_the_roster_is_shown_by_its_code() -> None:
    snaps = [snap("mena", [need(1, "Data access", ["XX", "JO"], "terrorism")], ["JO"])]
    report = build_report(Event(id="e", name="Conf"), snaps, load_roster(),
                          as_of=dt.date(2026, 11, 28))  # fmt: skip
    text = report_markdown(report)
    assert "| Jordan, XX |" in text
    assert report.data.needs[0].items[0].category == "database access"
