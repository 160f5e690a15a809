"""Many sessions -> the secretariat's consolidated report.  Pure; used by the CLI and the server.

Needs and issues are grouped by (category, crime area) and ranked by how many regions, then how
many delegations raised them; every open action is listed by owner and due date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from roundtable.minutes import escape_inline, owner_label, render_html
from roundtable.model import REGIONS, Country, Entry, Event, SessionSnapshot

# A need's category, from its tags and words: first match wins, in this order.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("training", ("training", "course", "curriculum", "workshop", "mentoring", "skills")),
    (
        "database access",
        (
            "database",
            "data access",
            "access to",
            "network access",
            "data",
            "notices",
            "information sharing",
        ),
    ),  # fmt: skip
    (
        "equipment & tools",
        (
            "equipment",
            "tool",
            "kit",
            "laborator",
            "software",
            "licence",
            "license",
            "bandwidth",
            "hardware",
            "vehicle",
        ),
    ),  # fmt: skip
    (
        "capacity & staffing",
        ("staff", "capacity", "personnel", "interpret", "point of contact", "24/7", "unit"),
    ),  # fmt: skip
    (
        "legal & cooperation",
        (
            "legal",
            "law",
            "treaty",
            "agreement",
            "mutual",
            "extradition",
            "cooperation",
            "working group",
        ),
    ),  # fmt: skip
]


def need_category(entry: Entry) -> str:
    haystack = " ".join([entry.text, *entry.crime_areas]).casefold()
    for name, words in CATEGORIES:
        if any(w in haystack for w in words):
            return name
    return "other"


@dataclass
class Item:
    text: str
    session_title: str
    region: str
    delegations: list[str]
    priority: str


@dataclass
class Group:
    category: str
    area: str
    items: list[Item] = field(default_factory=list)
    delegations: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    high: int = 0

    def rank_key(self):
        return (-len(self.regions), -len(self.delegations), -self.high, self.category, self.area)


@dataclass
class OpenAction:
    owner: str
    owner_label: str
    due: str
    text: str
    region: str
    session_title: str
    overdue: bool


@dataclass
class RegionSummary:
    region: str
    sessions: int = 0
    present: int = 0
    entries: dict[str, int] = field(default_factory=dict)
    open_actions: int = 0


@dataclass
class Report:
    event: Event
    as_of: dt.date
    needs: list[Group]
    issues: list[Group]
    actions: list[OpenAction]
    regions: list[RegionSummary]
    countries: dict[str, str]


def _group(kind: str, snaps, countries: Mapping[str, Country]) -> list[Group]:
    groups: dict[tuple[str, str], Group] = {}
    for snap in snaps:
        region = snap.session.region
        for e in sorted(snap.entries, key=lambda e: (e.created_at, e.id)):
            if e.entry_kind != kind or e.parked:
                continue
            category = need_category(e) if kind == "need" else "issues"
            for area in e.crime_areas or ["unspecified"]:
                g = groups.setdefault((category, area), Group(category, area))
                g.items.append(Item(e.text, snap.session.title, region, list(e.delegations),
                                    e.priority))  # fmt: skip
                g.delegations.update(e.delegations)
                g.regions.add(region)
                g.high += e.priority == "high"
    return sorted(groups.values(), key=Group.rank_key)


def build_report(
    event: Event,
    snapshots: Sequence[SessionSnapshot],
    countries: Mapping[str, Country],
    *,
    as_of: dt.date | None = None,
) -> Report:
    as_of = as_of or dt.date.today()
    snaps = sorted(snapshots, key=lambda s: (s.session.region, s.session.date, s.session.id))
    names = {code: c.name for code, c in countries.items()}
    actions = []
    regions: dict[str, RegionSummary] = {}
    for snap in snaps:
        s = snap.session
        summary = regions.setdefault(s.region, RegionSummary(s.region))
        summary.sessions += 1
        summary.present += sum(a.status == "present" for a in snap.attendance)
        for e in snap.entries:
            summary.entries[e.entry_kind] = summary.entries.get(e.entry_kind, 0) + 1
            if e.entry_kind == "action" and e.status in ("", "open"):
                summary.open_actions += 1
                overdue = bool(e.due) and e.due < as_of.isoformat()
                actions.append(OpenAction(e.owner, owner_label(e.owner, names), e.due, e.text,
                                          s.region, s.title, overdue))  # fmt: skip
    actions.sort(key=lambda a: (a.owner_label == "UNASSIGNED", a.owner_label, a.due or "9999",
                                a.text))  # fmt: skip
    return Report(
        event=event,
        as_of=as_of,
        needs=_group("need", snaps, countries),
        issues=_group("issue", snaps, countries),
        actions=actions,
        regions=[regions[r] for r in REGIONS if r in regions],
        countries=names,
    )


def _names(codes, names: Mapping[str, str]) -> str:
    return ", ".join(
        escape_inline(names.get(c, c)) for c in sorted(codes, key=lambda c: (names.get(c, c), c))
    )


def _groups_md(title: str, groups: list[Group], names, *, category: bool) -> list[str]:
    out = [f"## {title}", ""]
    if not groups:
        return out + ["None were recorded.", ""]
    out += ["| Rank | " + ("Category | " if category else "") + "Crime area | Regions | "
            "Delegations | High priority | Raised as |",
            "|---:|" + ("---|" if category else "") + "---|---:|---:|---:|---|"]  # fmt: skip
    for n, g in enumerate(groups, start=1):
        texts = "; ".join(sorted({escape_inline(i.text) for i in g.items}))
        cells = [str(n)]
        if category:
            cells.append(escape_inline(g.category))
        cells += [escape_inline(g.area), str(len(g.regions)), str(len(g.delegations)),
                  str(g.high), texts]  # fmt: skip
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for n, g in enumerate(groups, start=1):
        regions = ", ".join(REGIONS.get(r, r) for r in sorted(g.regions))
        out.append(f"**{n}. {escape_inline(g.category if category else g.area)} — "
                   f"{escape_inline(g.area)}** ({escape_inline(regions)}): "
                   f"{_names(g.delegations, names) or 'no delegation named'}.")  # fmt: skip
        out.append("")
    return out


def report_markdown(report: Report) -> str:
    names = report.countries
    out = [
        f"# Consolidated report — {escape_inline(report.event.name)}",
        "",
        f"Regional round tables consolidated as of {report.as_of.isoformat()}.",
        "",
        "## Regions",
        "",
        "| Region | Sessions | Delegations present | Issues | Needs | Actions | Decisions | "
        "Open actions |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report.regions:
        e = r.entries
        out.append(
            f"| {escape_inline(REGIONS.get(r.region, r.region))} | {r.sessions} | {r.present} | "
            f"{e.get('issue', 0)} | {e.get('need', 0)} | {e.get('action', 0)} | "
            f"{e.get('decision', 0)} | {r.open_actions} |"
        )
    out.append("")
    out += _groups_md("Regional needs, ranked", report.needs, names, category=True)
    out += _groups_md("Issues raised, by crime area", report.issues, names, category=False)
    out += ["## Open actions", ""]
    if report.actions:
        out += ["| Owner | Due | Action | Region | Overdue |", "|---|---|---|---|---|"]
        for a in report.actions:
            out.append(
                f"| {escape_inline(a.owner_label)} | {escape_inline(a.due or '—')} | "
                f"{escape_inline(a.text)} | {escape_inline(REGIONS.get(a.region, a.region))} | "
                f"{'OVERDUE' if a.overdue else ''} |"
            )
    else:
        out.append("No open actions.")
    out.append("")
    return "\n".join(out)


def report_html(report: Report) -> str:
    return render_html(report_markdown(report), title=f"Consolidated report — {report.event.name}")
