"""The secretariat's consolidated report as a document tree.  Pure.

Needs (and issues) are listed under their crime area, each with its own text; areas are ranked
by how many regions, then how many delegations raised something in them.  The same need
captured on two laptops of one room (same session, same text once normalised, same
delegations) is counted once; a need that differs in any of these stays its own line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from roundtable.documents import common as c
from roundtable.documents.audience import count_cell
from roundtable.documents.i18n import N_, Lang
from roundtable.documents.minutes import Numbering
from roundtable.documents.tree import (
    BulletList,
    Chart,
    Document,
    Heading,
    Inline,
    Metadata,
    Node,
    Paragraph,
    Table,
    nowrap,
    strong,
    text,
    user,
)
from roundtable.model import (
    OPEN_ACTION_STATUSES,
    REGIONS,
    Country,
    Entry,
    Event,
    SessionSnapshot,
)

if TYPE_CHECKING:
    from roundtable.actions import CarriedAction

# A need's category, from its tags and words: first match wins, in this order.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    (N_("training"), ("training", "course", "curriculum", "workshop", "mentoring", "skills")),
    (
        N_("database access"),
        (
            "database",
            "data access",
            "access to",
            "network access",
            "data",
            "notices",
            "information sharing",
        ),
    ),
    (
        N_("equipment & tools"),
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
    ),
    (
        N_("capacity & staffing"),
        ("staff", "capacity", "personnel", "interpret", "point of contact", "24/7", "unit"),
    ),
    (
        N_("legal & cooperation"),
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
    ),
]
OTHER = N_("other")
NO_AREA = N_("no crime area given")


def need_category(entry: Entry) -> str:
    haystack = " ".join([entry.text, *entry.crime_areas]).casefold()
    for name, words in CATEGORIES:
        if any(w in haystack for w in words):
            return name
    return OTHER


def normalised(value: str) -> str:
    return " ".join(value.casefold().split()).rstrip(".!?")


@dataclass
class Item:
    entry: Entry
    region: str
    session_title: str
    category: str


@dataclass
class Area:
    area: str
    items: list[Item] = field(default_factory=list)
    delegations: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    high: int = 0

    def rank_key(self) -> tuple:
        return (-len(self.regions), -len(self.delegations), -self.high, self.area)


@dataclass
class OpenAction:
    entry: Entry
    region: str
    session_title: str
    overdue: bool


@dataclass
class ReportData:
    event: Event
    as_of: dt.datetime
    snapshots: list[SessionSnapshot]
    needs: list[Area]
    issues: list[Area]
    actions: list[OpenAction]
    names: dict[str, str]


def distinct(snap: SessionSnapshot, kind: str) -> list[Entry]:
    """The session's entries of one kind, live and not parked, each need captured twice (two
    laptops, one room) kept once: same normalised text and same delegations."""
    seen: set[tuple] = set()
    out = []
    for e in sorted(snap.entries, key=lambda e: (e.created_at, e.id)):
        if e.entry_kind != kind or e.parked:
            continue
        key = (normalised(e.text), tuple(sorted(e.delegations)))
        if key in seen:
            continue
        seen.add(key)
        out.append(e)
    return out


def crime_term(tag: str) -> str:
    """A tag's term in the vocabulary (aliases merged), or the tag as typed."""
    from sessions.crime_areas import term

    return term(tag) or tag


def _areas(kind: str, snaps: Sequence[SessionSnapshot]) -> list[Area]:
    areas: dict[str, Area] = {}
    for snap in snaps:
        region = snap.session.region
        for e in distinct(snap, kind):
            category = need_category(e) if kind == "need" else ""
            for name in dict.fromkeys(crime_term(t) for t in e.crime_areas) or [""]:
                a = areas.setdefault(name, Area(name))
                a.items.append(Item(e, region, snap.session.title, category))
                a.delegations.update(e.delegations)
                a.regions.add(region)
                a.high += e.priority == "high"
    for a in areas.values():
        a.items.sort(
            key=lambda i: (
                ("high", "medium", "low", "").index(i.entry.priority)
                if i.entry.priority in ("high", "medium", "low")
                else 3,
                -len(i.entry.delegations),
                i.region,
                i.entry.created_at,
                i.entry.id,
            )
        )
    return sorted(areas.values(), key=Area.rank_key)


def build_report_data(
    event: Event,
    snapshots: Sequence[SessionSnapshot],
    countries: Mapping[str, Country],
    as_of: dt.datetime,
) -> ReportData:
    order = list(REGIONS)
    snaps = sorted(
        (s for s in snapshots if s.session.status != "archived"),  # issue 22: never reported
        key=lambda s: (
            order.index(s.session.region) if s.session.region in order else len(order),
            s.session.date,
            s.session.id,
        ),
    )
    from roundtable.zones import VenueClock

    today = VenueClock(event.tz).day(as_of)  # the venue's date: what "overdue" means there
    actions = []
    for snap in snaps:
        for e in distinct(snap, "action"):
            if e.status in ("", *OPEN_ACTION_STATUSES):
                actions.append(
                    OpenAction(
                        e, snap.session.region, snap.session.title, bool(e.due) and e.due < today
                    )
                )
    return ReportData(
        event=event,
        as_of=as_of,
        snapshots=snaps,
        needs=_areas("need", snaps),
        issues=_areas("issue", snaps),
        actions=actions,
        names={code: c.name for code, c in countries.items()},
    )


CSV_KINDS = ("need", "action", "decision")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading '."""
    value = " ".join(str(value).split())
    return "'" + value if value.startswith(_FORMULA) else value


def build_csv(
    snapshots: Sequence[SessionSnapshot],
    countries: Mapping[str, Country],
    L: Lang,
    *,
    regions: Sequence[str] | None = None,
) -> str:
    """One row per need, action and decision (live, not parked; the same need captured on
    two laptops of a room once), regions in the report's order; a UTF-8 byte-order mark
    first so that spreadsheets read the names in every script."""
    import csv
    import io

    from roundtable.documents.audience import label_of
    from roundtable.model import tlp_name

    names = {code: country.name for code, country in countries.items()}
    order = list(REGIONS)
    snaps = sorted(
        (s for s in snapshots if regions is None or s.session.region in regions),
        key=lambda s: (
            order.index(s.session.region) if s.session.region in order else len(order),
            s.session.date,
            s.session.id,
        ),
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([
        "symbol", "reference", "kind", "region", "region_name", "session", "date", "text",
        "delegations", "delegation_names", "crime_areas", "crime_area_names", "priority",
        "owner", "due", "status", "label",
    ])  # fmt: skip
    for snap in snaps:
        refs = Numbering(snap).ref
        symbol = c.session_symbol(snap)
        s = snap.session
        for kind in CSV_KINDS:
            for e in distinct(snap, kind):
                terms = [crime_term(t) for t in e.crime_areas]
                writer.writerow([_cell(v) for v in (
                    symbol, refs.get(e.id, ""), kind, s.region, c.region_name(L, s.region),
                    c.plan_text(L, s.title), s.date, e.text,
                    ";".join(e.delegations),
                    ";".join(L.country(code, names) for code in e.delegations),
                    ";".join(terms), ";".join(c.crime_area(L, t) for t in terms),
                    e.priority, c.owner_name(L, e.owner, names) if kind == "action" else "",
                    e.due if kind == "action" else "", e.status if kind == "action" else "",
                    tlp_name(label_of(e, snap)),
                )])  # fmt: skip
    return "\ufeff" + out.getvalue()


def needs_chart(L: Lang, areas: Sequence[Area], regions: Sequence[str]) -> Chart:
    """Needs by crime area (ranked as in the report) and region: how many distinct needs each
    region raised in each area."""
    rows, values = [], []
    for area in areas:
        counts = dict.fromkeys(regions, 0)
        for item in area.items:
            if item.region in counts:
                counts[item.region] += 1
        rows.append(c.crime_area(L, area.area) if area.area else L.t(NO_AREA))
        values.append(tuple(counts.values()))
    return Chart(
        description=L.t(
            "Needs by crime area and region: how many needs each region raised in each crime "
            "area (a need with two crime areas counts in both)."
        ),
        corner=L.t("Crime area"),
        rows=tuple(rows),
        columns=tuple(c.region_name(L, r) for r in regions),
        values=tuple(values),
        total=L.t("Total"),
        numbers=tuple(tuple(L.number(n) for n in (*row, sum(row))) for row in values),
    )


def _open_action(e: Entry) -> bool:
    return e.entry_kind == "action" and e.status in ("", *OPEN_ACTION_STATUSES)


def _add(into: dict[str, int], snap: SessionSnapshot, keep) -> None:
    """Adds the session's withheld entries that ``keep`` selects (live, not parked), per
    label."""
    from roundtable.documents.audience import withheld_labels

    found = withheld_labels(snap, [e for e in snap.withheld if not e.parked and keep(e)])
    for label, n in found.items():
        into[label] = into.get(label, 0) + n


def _area_table(L: Lang, area: Area, names: Mapping[str, str], *, need: bool) -> Table:
    header = [text("#"), text(L.t("Need") if need else L.t("Issue"))]
    if need:
        header.append(text(L.t("Category")))
    header += [text(L.t("Region")), text(L.t("Delegations")), text(L.t("Priority"))]
    rows = []
    words: dict[tuple[str, str], Inline] = {}  # regions, priorities, categories: few words
    for n, item in enumerate(area.items, start=1):
        e = item.entry
        row = [text(L.number(n)), text(c.said(e.text))]
        if need:
            key = ("c", item.category)
            if key not in words:
                words[key] = text(L.t(item.category))
            row.append(words[key])
        who = sorted(c.names(L, e.delegations, names), key=L.sort_key)
        if ("r", item.region) not in words:
            words["r", item.region] = text(c.region_name(L, item.region))
        if ("p", e.priority) not in words:
            words["p", e.priority] = text(c.priority_word(L, e.priority) if e.priority else "—")
        row += [words["r", item.region], text(L.comma.join(who) or "—"), words["p", e.priority]]
        rows.append(tuple(row))
    numeric = (True, False, *([False] * (len(header) - 2)))
    return Table(tuple(header), tuple(rows), numeric)


def _areas_section(
    L: Lang, title: str, areas: list[Area], names, *, need: bool, snaps: Sequence[SessionSnapshot]
) -> list[Node]:
    out: list[Node] = [Heading(2, text(title))]
    if not areas:
        from roundtable.documents.audience import not_shown

        hidden: dict[str, int] = {}
        for snap in snaps:
            _add(hidden, snap, lambda e: e.entry_kind == ("need" if need else "issue"))
        empty = L.t("No need was recorded.") if need else L.t("No issue was recorded.")
        return out + [Paragraph(text(not_shown(L, hidden) or empty))]
    for n, area in enumerate(areas, start=1):
        name = c.crime_area(L, area.area) if area.area else L.t(NO_AREA)
        summary = L.t(
            "Regions: {regions}; delegations: {delegations}; high priority: {high}",
            regions=L.number(len(area.regions)),
            delegations=L.number(len(area.delegations)),
            high=L.number(area.high),
        )
        out.append(Heading(3, text(f"{L.number(n)}. ", name)))
        out.append(Paragraph(text(summary)))
        out.append(_area_table(L, area, names, need=need))
    return out


def build_report_document(
    event: Event,
    snapshots: Sequence[SessionSnapshot],
    countries: Mapping[str, Country],
    L: Lang,
    *,
    as_of: dt.datetime,
    last_sync: Mapping[str, str],
    conflicts: c.Conflicts | None = None,
    regions: Sequence[str] | None = None,
    carried: Sequence[CarriedAction] | None = None,
) -> Document:
    """``regions``: the regions the reader may see (a region token's); None = all.  A region
    outside them is left out, never shown as "no session yet"."""
    data = build_report_data(event, snapshots, countries, as_of)
    shown = [r for r in REGIONS if regions is None or r in regions]
    names = data.names
    body: list[Node] = []
    by_region: dict[str, list[SessionSnapshot]] = {}
    for snap in data.snapshots:
        by_region.setdefault(snap.session.region, []).append(snap)
    synced_at = {
        s.session.id: c.parse_time(last_sync.get(s.session.id, "")) for s in data.snapshots
    }
    clock = c.venue_clock(data.snapshots, event, extra=[as_of, *synced_at.values()])
    body.append(
        Metadata(
            (
                (L.t("Event"), text(user(event.name) if event.name else "—")),
                (L.t("As of"), text(nowrap(L.datetime(as_of, clock)))),
                c.zone_row(L, clock),
                (L.t("Sessions"), text(L.number(len(data.snapshots)))),
                (
                    L.t("Regions with a session"),
                    text(
                        L.number(sum(r in by_region for r in shown)) + " / " + L.number(len(shown))
                    ),
                ),
            )
        )
    )

    body.append(Heading(2, text(L.t("1. Regions"))))
    rows = []
    no_session = L.t("no session yet")
    for region in shown:
        snaps = by_region.get(region, [])
        if not snaps:
            rows.append(
                (text(c.region_name(L, region)), text(strong(no_session)), *[text("—")] * 6)
            )
            continue
        kinds: dict[str, int] = {}
        hidden: dict[str, dict[str, int]] = {}  # withheld per kind, per label (issue 23)
        for snap in snaps:
            for kind in ("issue", "need", "action", "decision"):
                kinds[kind] = kinds.get(kind, 0) + len(distinct(snap, kind))
                _add(hidden.setdefault(kind, {}), snap, lambda e, k=kind: e.entry_kind == k)
            _add(hidden.setdefault("open", {}), snap, _open_action)
        present = sum(a.status == "present" for s in snaps for a in s.attendance)
        open_ = sum(a.region == region for a in data.actions)
        rows.append(
            (
                text(c.region_name(L, region)),
                text(L.number(len(snaps))),
                text(L.number(present)),
                *[
                    text(count_cell(L, kinds[k], hidden[k]))
                    for k in ("issue", "need", "action", "decision")
                ],
                text(count_cell(L, open_, hidden["open"])),
            )
        )
    body.append(
        Table(
            (
                text(L.t("Region")),
                text(L.t("Sessions")),
                text(L.t("Delegations present")),
                text(L.t("Issues")),
                text(L.t("Needs")),
                text(L.t("Actions")),
                text(L.t("Decisions")),
                text(L.t("Open actions")),
            ),
            tuple(rows),
            (False, True, True, True, True, True, True, True),
        )
    )

    body.append(Heading(2, text(L.t("2. Rooms and last sync"))))
    if data.snapshots:
        never = L.t("not known")
        rooms = []
        for snap in data.snapshots:
            s = snap.session
            synced = synced_at.get(s.id)
            rooms.append(
                (
                    text(c.region_name(L, s.region)),
                    text(user(c.plan_text(L, s.title)) if s.title else "—"),
                    text(user(s.room) if s.room else "—"),
                    text(nowrap(L.date(s.date))) if s.date else text("—"),
                    text(c.session_word(L, s, False)),
                    text(nowrap(L.datetime(synced, clock))) if synced else text(never),
                )
            )
        body.append(
            Table(
                (
                    text(L.t("Region")),
                    text(L.t("Session")),
                    text(L.t("Room")),
                    text(L.t("Date")),
                    text(L.t("Status")),
                    text(L.t("Last sync")),
                ),
                tuple(rooms),
            )
        )
    else:
        body.append(Paragraph(text(L.t("No session has been held yet."))))

    body += _areas_section(
        L, L.t("3. Regional needs, ranked"), data.needs, names, need=True, snaps=data.snapshots
    )
    if data.needs:  # issue 23: needs by crime area × region, drawn, with its table
        at = next(
            n for n, node in enumerate(body)
            if isinstance(node, Heading) and node.content == text(L.t("3. Regional needs, ranked"))
        )  # fmt: skip
        body.insert(at + 1, needs_chart(L, data.needs, shown))
    body += _areas_section(
        L,
        L.t("4. Issues raised, by crime area"),
        data.issues,
        names,
        need=False,
        snaps=data.snapshots,
    )

    body.append(Heading(2, text(L.t("5. Decisions and recommendations, by region"))))
    for region in shown:
        snaps = by_region.get(region, [])
        body.append(Heading(3, text(c.region_name(L, region))))
        if not snaps:
            body.append(Paragraph(text(no_session)))
            continue
        lines = []
        for snap in snaps:
            refs = Numbering(snap).ref
            for e in distinct(snap, "decision"):
                lines.append(
                    text(
                        strong(f"{refs[e.id]}."),
                        " ",
                        c.said(e.text),
                        " (",
                        user(c.plan_text(L, snap.session.title))
                        if snap.session.title
                        else L.t("Round table"),
                        ")",
                        c.conflict_marks(L, e, conflicts),
                    )
                )
        if lines:
            body.append(BulletList(tuple(lines)))
        else:
            from roundtable.documents.audience import not_shown

            hidden_decisions: dict[str, int] = {}
            for snap in snaps:
                _add(hidden_decisions, snap, lambda e: e.entry_kind == "decision")
            empty = L.t("No decisions or recommendations were recorded.")
            body.append(Paragraph(text(not_shown(L, hidden_decisions) or empty)))

    body.append(Heading(2, text(L.t("6. Open actions, by owner"))))
    if data.actions:
        owners: dict[str, list[OpenAction]] = {}
        for a in data.actions:
            owners.setdefault(a.entry.owner, []).append(a)
        order = sorted(
            (o for o in owners if o), key=lambda o: L.sort_key(c.owner_name(L, o, names))
        )
        if "" in owners:
            order.append("")
        overdue = L.t("OVERDUE")
        for owner in order:
            body.append(Heading(3, text(c.owner_span(L, owner, names))))
            items = sorted(owners[owner], key=lambda a: (a.entry.due or "9999", a.entry.text))
            body.append(
                Table(
                    (
                        text(L.t("Action")),
                        text(L.t("Due")),
                        text(L.t("Region")),
                        text(L.t("Session")),
                        text(L.t("Overdue")),
                    ),
                    tuple(
                        (
                            text(c.said(a.entry.text)),
                            text(nowrap(L.date(a.entry.due)))
                            if a.entry.due
                            else text(L.t("no due date")),
                            text(c.region_name(L, a.region)),
                            text(c.plan_text(L, a.session_title) or "—"),
                            text(strong(overdue)) if a.overdue else text("—"),
                        )
                        for a in items
                    ),
                )
            )
    else:
        from roundtable.documents.audience import not_shown

        hidden_open: dict[str, int] = {}
        for snap in data.snapshots:
            _add(hidden_open, snap, _open_action)
        body.append(Paragraph(text(not_shown(L, hidden_open) or L.t("No open actions."))))
    body += _carried_section(L, data.snapshots, carried or (), names)
    title = L.t("Consolidated report — {event}", event=event.name or L.t("Round tables"))
    return Document(title=title, lang=L.code, direction=L.direction, children=tuple(body))


def _carried_section(
    L: Lang,
    snapshots: Sequence[SessionSnapshot],
    carried: Sequence[CarriedAction],
    names: Mapping[str, str],
) -> list[Node]:
    """Issue 12: the earlier conferences' actions — those reviewed at this event, and those
    of ``carried`` (the caller's knowledge) still open — each with its history across
    events.  Absent when there are none, so a first conference's report is unchanged."""
    from roundtable.actions import from_reviews, merge
    from roundtable.documents.audience import reviews_withheld_line

    reviewed = from_reviews(snapshots)
    here = {a.id for a in reviewed}
    actions = [a for a in merge(carried, reviewed) if a.is_open or a.id in here]
    withheld = reviews_withheld_line(L, snapshots)  # above the reader's ceiling (issue 14)
    if not actions and not withheld:
        return []
    order = list(REGIONS)
    actions.sort(
        key=lambda a: (order.index(a.region) if a.region in order else len(order), a.event_id,
                       a.date, a.id)
    )  # fmt: skip
    rows = []
    for a in actions:
        steps = []
        for step in a.history:
            where = step.event_name or "—"
            if step.date:
                where = L.t("{event}, {date}", event=where, date=L.date(step.date))
            status = c.status_word(L, step.status) if step.status else L.t("agreed")
            line = L.t("{where}: {status}", where=where, status=status)
            if step.note:
                line = L.t("{step} (“{note}”)", step=line, note=" ".join(step.note.split()))
            steps.append(line)
        rows.append(
            (
                text(c.said(a.text)),
                text(c.region_name(L, a.region)),
                text(c.owner_span(L, a.owner, names)),
                text(nowrap(L.date(a.due))) if a.due else text(L.t("no due date")),
                text(c.status_word(L, a.status)),
                text(L.semicolon.join(steps)),
            )
        )
    nodes: list[Node] = [
        Heading(2, text(L.t("7. Actions from earlier conferences"))),
        Table(
            (
                text(L.t("Action")),
                text(L.t("Region")),
                text(L.t("Owner")),
                text(L.t("Due")),
                text(L.t("Status")),
                text(L.t("History across events")),
            ),
            tuple(rows),
        ),
    ]
    if not rows:
        nodes.pop()
    if withheld:
        nodes.append(Paragraph(text(withheld)))
    return nodes
