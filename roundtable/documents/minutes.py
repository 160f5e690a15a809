"""A session's minutes as a document tree, in the style of an intergovernmental summary
record.  Pure: the same snapshot, language, version and conflicts give the same tree."""

from __future__ import annotations

from collections.abc import Mapping

from roundtable.documents import common as c
from roundtable.documents.audience import (
    count_cell,
    hides_people,
    not_shown,
    reviews_withheld_line,
    time_cell,
    withheld_labels,
)
from roundtable.documents.i18n import Lang
from roundtable.documents.tree import (
    Annex,
    BulletList,
    Document,
    Heading,
    Inline,
    Metadata,
    Node,
    NumberedParagraph,
    Paragraph,
    Table,
    nowrap,
    strong,
    text,
    user,
)
from roundtable.documents.versions import DRAFT, FINAL, Version, was_reopened
from roundtable.model import Entry, SessionSnapshot
from roundtable.text import mmss
from roundtable.zones import VenueClock


def version_label(lang: Lang, version: Version) -> str:
    if version.kind == DRAFT:
        if version.number:
            return lang.t("Draft {number}", number=lang.number(version.number))
        return lang.t("Draft")
    if version.kind == FINAL:
        return lang.t("Final")
    if version.number > 1:
        return lang.t("Final, reissued ({number})", number=lang.number(version.number))
    return lang.t("Final, reissued")


def title(lang: Lang, snap: SessionSnapshot) -> str:
    return lang.t("Minutes — {session}", session=c.session_label(lang, snap))


class Numbering:
    """References of a session's entries: I1…, N1…, D1…, A1… in the order of the proceedings
    (agenda order, then capture time), P1… for the parking lot; notes by paragraph."""

    def __init__(self, snap: SessionSnapshot) -> None:
        position = {item.id: n for n, item in enumerate(snap.agenda)}
        self.item_number = {item.id: n + 1 for n, item in enumerate(snap.agenda)}
        self.other = len(snap.agenda) + 1
        # references are counted over every entry, those an audience's cut withheld included
        # (issue 14), so that D3 is D3 in every version; only the kept ones are listed
        everything = [*snap.entries, *snap.withheld]
        self.ordered_all = sorted(
            (e for e in everything if not e.parked),
            key=lambda e: (position.get(e.agenda_item, len(position)), e.created_at, e.id),
        )
        parked_all = sorted((e for e in everything if e.parked), key=lambda e: (e.created_at, e.id))
        self.ref: dict[str, str] = {}
        counts: dict[str, int] = {}
        for e in self.ordered_all:
            prefix = c.REF_PREFIX.get(e.entry_kind)
            if prefix:
                counts[prefix] = counts.get(prefix, 0) + 1
                self.ref[e.id] = f"{prefix}{counts[prefix]}"
        for n, e in enumerate(parked_all, start=1):
            self.ref[e.id] = f"P{n}"
        kept = {e.id for e in snap.entries}
        self.kept = kept
        self.ordered = [e for e in self.ordered_all if e.id in kept]
        self.parked = [e for e in parked_all if e.id in kept]

    def item_of(self, e: Entry) -> str:
        return str(self.item_number.get(e.agenda_item, self.other))


def build_minutes(
    snap: SessionSnapshot,
    lang: Lang,
    version: Version,
    conflicts: c.Conflicts | None = None,
) -> Document:
    s = snap.session
    L = lang
    countries = snap.countries
    numbering = Numbering(snap)
    ref = numbering.ref
    body: list[Node] = []
    label = version_label(L, version)
    clock = c.venue_clock([snap])

    body.append(
        Paragraph(text(strong(label), " — ", L.t("Summary record of the regional round table.")))
    )
    not_recorded = L.t("not recorded")
    body.append(
        Metadata(
            (
                (
                    L.t("Conference"),
                    text(user(snap.event.name) if snap.event.name else not_recorded),
                ),
                (L.t("Region"), text(c.region_name(L, s.region))),
                (L.t("Date"), text(nowrap(L.date(s.date))) if s.date else text(not_recorded)),
                (L.t("Room"), text(user(s.room) if s.room else not_recorded)),
                (L.t("Facilitator"), text(user(s.facilitator) if s.facilitator else not_recorded)),
                (L.t("Rapporteur"), text(user(s.rapporteur) if s.rapporteur else not_recorded)),
                (L.t("Session"), text(c.session_word(L, s, was_reopened(snap)))),
                c.zone_row(L, clock),
                (L.t("Document"), text(label)),
            )
        )
    )

    # 1. attendance
    body.append(Heading(2, text(L.t("1. Attendance"))))
    groups: dict[str, list] = {"present": [], "apologies": [], "absent": []}
    for a in sorted(snap.attendance, key=lambda a: L.sort_key(L.country(a.country, countries))):
        if a.status in groups:
            groups[a.status].append(a)
    if not any(groups.values()):
        body.append(Paragraph(text(L.t("No attendance was recorded."))))
    for status, items in groups.items():
        if not items:
            continue
        listed = []
        for a in items:
            name = L.country(a.country, countries)
            listed.append(
                L.t("{name} ({delegates})", name=name, delegates=L.comma.join(a.delegates))
                if a.delegates
                else name
            )
        head = L.t(
            "{status} ({count}):", status=c.attendance_word(L, status), count=L.number(len(items))
        )
        body.append(Paragraph(text(strong(head), " ", L.semicolon.join(listed) + ".")))
    if any(groups.values()):  # issue 26: the quorum of the region's members
        from roundtable.procedure import quorum

        members = _roster_codes(s.region)
        if members:
            q = quorum(snap.attendance, members, s.quorum)
            said = (
                L.t(
                    "Present {present} of {members}: the quorum of {needed} was reached.",
                    present=L.number(q.present),
                    members=L.number(q.members),
                    needed=L.number(q.needed),
                )
                if q.reached
                else L.t(
                    "Present {present} of {members}: the quorum of {needed} was not reached.",
                    present=L.number(q.present),
                    members=L.number(q.members),
                    needed=L.number(q.needed),
                )
            )
            body.append(Paragraph(text(strong(L.t("Quorum:")), " ", said)))
    observers = sorted(
        (L.country(code, countries) for code in attended_observers(snap)), key=L.sort_key
    )
    if observers:
        head = L.t("Observers from other regions ({count}):", count=L.number(len(observers)))
        body.append(Paragraph(text(strong(head), " ", L.semicolon.join(observers) + ".")))

    # 2. agenda, planned and actual time
    body.append(Heading(2, text(L.t("2. Agenda"))))
    if snap.agenda:
        rows = []
        for n, item in enumerate(snap.agenda, start=1):
            start, end, seconds = c.item_time(item, snap.clock_events, clock)
            span = f"{start}–{end}" if start and end else (start or "—")
            rows.append(
                (
                    text(L.number(n)),
                    text(user(c.plan_text(L, item.title))),
                    text(nowrap(c.minutes_word(L, item.minutes * 60))),
                    text(nowrap(c.minutes_word(L, seconds))),
                    text(nowrap(span)),
                )
            )
        body.append(
            Table(
                (
                    text("#"),
                    text(L.t("Item")),
                    text(L.t("Planned")),
                    text(L.t("Actual")),
                    text(L.t("Time")),
                ),
                tuple(rows),
                (True, False, True, True, False),
            )
        )
    else:
        body.append(Paragraph(text(L.t("No agenda was recorded."))))

    # 3. proceedings
    body.append(Heading(2, text(L.t("3. Proceedings"))))
    paragraph = 0
    sections = [(item.id, item.title, item.summary) for item in snap.agenda]
    known = {item.id for item in snap.agenda}
    if any(e.agenda_item not in known for e in numbering.ordered):
        sections.append(("", L.t("Other matters"), ""))
    by_item: dict[str, list[Entry]] = {}
    for e in numbering.ordered:
        by_item.setdefault(e.agenda_item if e.agenda_item in known else "", []).append(e)
    for n, (item_id, item_title, summary) in enumerate(sections, start=1):
        mine = by_item.get(item_id, [])
        body.append(Heading(3, text(f"3.{n}. ", user(c.plan_text(L, item_title)))))
        if summary:
            paragraph += 1
            body.append(NumberedParagraph(paragraph, text(c.said(summary))))
        for e in numbering.ordered_all:  # withheld notes keep their paragraph numbers
            if e.entry_kind != "note" or (e.agenda_item if e.agenda_item in known else "") != (
                item_id
            ):
                continue
            paragraph += 1
            if e.id in numbering.kept:
                line = text(c.statement(L, e, countries), c.conflict_marks(L, e, conflicts))
                body.append(NumberedParagraph(paragraph, line))
        for kind, heading in (
            ("issue", L.t("Issues raised")),
            ("need", L.t("Regional needs")),
            ("decision", L.t("Decisions and recommendations")),
            ("action", L.t("Action items")),
        ):
            items = [e for e in mine if e.entry_kind == kind]
            if items:
                body.append(Paragraph(text(strong(heading))))
                body.append(
                    BulletList(
                        tuple(c.entry_line(L, e, ref[e.id], countries, conflicts) for e in items)
                    )
                )
        if not summary and not mine:
            hidden = not_shown(
                L, _withheld(snap, lambda e, at=item_id: not e.parked and _here(e, known) == at)
            )
            body.append(Paragraph(text(hidden or L.t("Nothing was recorded under this item."))))

    # 4. decisions
    decisions = [e for e in numbering.ordered if e.entry_kind == "decision"]
    body.append(Heading(2, text(L.t("4. Decisions and recommendations"))))
    if decisions:
        body.append(
            Table(
                (
                    text("#"),
                    text(L.t("Decision or recommendation")),
                    text(L.t("Agenda item")),
                    text(L.t("Proposed by")),
                ),
                tuple(
                    (
                        text(nowrap(ref[e.id])),
                        text(c.said(e.text), c.conflict_marks(L, e, conflicts)),
                        text(L.number(int(numbering.item_of(e)))),
                        text(L.join(c.names(L, e.delegations, countries)) or "—"),
                    )
                    for e in decisions
                ),
                (False, False, True, False),
            )
        )
    else:
        hidden = not_shown(L, _withheld(snap, lambda e: e.entry_kind == "decision"))
        empty = L.t("No decisions or recommendations were recorded.")
        body.append(Paragraph(text(hidden or empty)))

    # 5. actions
    actions = [e for e in numbering.ordered if e.entry_kind == "action"]
    no_actions = not_shown(L, _withheld(snap, lambda e: e.entry_kind == "action")) or L.t(
        "No action items were recorded."
    )
    body.append(Heading(2, text(L.t("5. Action items"))))
    if actions:
        body.append(
            Table(
                (
                    text("#"),
                    text(L.t("Action")),
                    text(L.t("Agenda item")),
                    text(L.t("Owner")),
                    text(L.t("Due")),
                    text(L.t("Priority")),
                    text(L.t("Status")),
                ),
                tuple(
                    _action_row(L, e, ref[e.id], numbering, countries, conflicts) for e in actions
                ),
                (False, False, True, False, False, False, False),
            )
        )
    else:
        body.append(Paragraph(text(no_actions)))
    body += _earlier_actions(L, snap, countries)

    # 6. by owner
    body.append(Heading(2, text(L.t("6. Actions by owner"))))
    if actions:
        owners: dict[str, list[Entry]] = {}
        for e in actions:
            owners.setdefault(e.owner, []).append(e)
        order = sorted(
            (o for o in owners if o), key=lambda o: L.sort_key(c.owner_name(L, o, countries))
        )
        if "" in owners:
            order.append("")
        for owner in order:
            body.append(Heading(3, text(c.owner_span(L, owner, countries))))
            body.append(BulletList(tuple(_by_owner_line(L, e, ref[e.id]) for e in owners[owner])))
    else:
        body.append(Paragraph(text(no_actions)))

    # 7. parking lot
    body.append(Heading(2, text(L.t("7. Parking lot"))))
    if numbering.parked:
        body.append(
            BulletList(
                tuple(c.entry_line(L, e, ref[e.id], countries, conflicts) for e in numbering.parked)
            )
        )
    else:
        hidden = not_shown(L, _withheld(snap, lambda e: e.parked))
        body.append(Paragraph(text(hidden or L.t("Nothing was deferred."))))

    # unresolved conflicts, when there are any
    marked = [e for e in [*numbering.ordered, *numbering.parked] if (conflicts or {}).get(e.id)]
    if marked:
        body.append(Heading(2, text(L.t("Unresolved conflicts"))))
        body.append(
            Paragraph(
                text(
                    L.t(
                        "Two laptops edited these entries differently; both values are shown "
                        "until the rapporteur resolves them. The session cannot be closed before."
                    )
                )
            )
        )
        conflict_rows: list[tuple[Inline, ...]] = []
        for e in marked:
            label_ = ref.get(e.id) or L.t("note")
            for field_name, versions in sorted((conflicts or {})[e.id].items()):
                conflict_rows.append(
                    (
                        text(nowrap(label_)),
                        text(field_name),
                        text(c._value(getattr(e, field_name, ""), L)),
                        text(
                            L.semicolon.join(
                                L.t("“{value}” ({device})", value=c._value(v, L), device=d)
                                for v, d in versions
                            )
                        ),
                    )
                )
        body.append(
            Table(
                (
                    text(L.t("Entry")),
                    text(L.t("Field")),
                    text(L.t("Value shown")),
                    text(L.t("Other values")),
                ),
                tuple(conflict_rows),
            )
        )

    body.append(_participants(L, snap))
    body.append(_capture_times(L, snap, numbering, _note_paragraphs(snap, numbering), clock))
    procedure = _procedure(L, snap)
    if procedure is not None:
        body.append(procedure)
    return Document(title=title(L, snap), lang=L.code, direction=L.direction, children=tuple(body))


def _here(e: Entry, known: set[str]) -> str:
    return e.agenda_item if e.agenda_item in known else ""


def _withheld(snap: SessionSnapshot, keep) -> dict[str, int]:
    """The entries an audience's cut withheld that ``keep`` selects, per label (issue 23:
    a section they would fill says so rather than "nothing")."""
    return withheld_labels(snap, [e for e in snap.withheld if keep(e)])


def _action_row(L: Lang, e: Entry, ref: str, numbering: Numbering, countries, conflicts):
    return (
        text(nowrap(ref)),
        text(c.said(e.text), c.conflict_marks(L, e, conflicts)),
        text(L.number(int(numbering.item_of(e)))),
        text(c.owner_span(L, e.owner, countries)),
        text(nowrap(L.date(e.due))) if e.due else text("—"),
        text(c.priority_word(L, e.priority)) if e.priority else text("—"),
        text(c.status_word(L, e.status)),
    )


def _by_owner_line(L: Lang, e: Entry, ref: str) -> Inline:
    due = text(L.t("due"), " ", nowrap(L.date(e.due))) if e.due else text(L.t("no due date"))
    return text(
        strong(ref + "."), " ", c.said(e.text), " (", due, ") — ", c.status_word(L, e.status)
    )


def _note_paragraphs(snap: SessionSnapshot, numbering: Numbering) -> dict[str, int]:
    """The paragraph number each note got in the proceedings (summaries come first per item)."""
    out: dict[str, int] = {}
    n = 0
    known = {item.id for item in snap.agenda}
    items = [(item.id, item.summary) for item in snap.agenda]
    if any(e.agenda_item not in known for e in numbering.ordered_all):
        items.append(("", ""))
    for item_id, summary in items:
        n += bool(summary)
        for e in numbering.ordered_all:
            here = e.agenda_item if e.agenda_item in known else ""
            if here == item_id and e.entry_kind == "note":
                n += 1
                out[e.id] = n
    return out


def attended_observers(snap: SessionSnapshot) -> list[str]:
    """Observers from other regions who attended: recorded present, or heard.  A delegation
    confirmed as an observer only so that a capture could name it is not one (issue 22,
    finding 10)."""
    present = {a.country for a in snap.attendance if a.status == "present"}
    # a speech withheld above the audience's ceiling was still heard (shown as withheld)
    heard = {sp.country for sp in (*snap.speeches, *snap.withheld_speeches)}
    return [code for code in snap.session.observers if code in present or code in heard]


def _roster_codes(region: str) -> set[str]:
    """Every member delegation of the region (empty for a region the roster does not know)."""
    try:
        from sessions import countries_in

        return {country.code for country in countries_in(region)}
    except (ImportError, ValueError):
        return set()


def _participants(L: Lang, snap: SessionSnapshot) -> Annex:
    countries = snap.countries
    people_hidden = hides_people(snap.ceiling)  # public and community: no delegates' names
    speeches: dict[str, list] = {}
    for sp in snap.speeches:
        speeches.setdefault(sp.country, []).append(sp)
    withheld: dict[str, list] = {}  # speeches above the audience's ceiling (issue 23)
    for sp in snap.withheld_speeches:
        withheld.setdefault(sp.country, []).append(sp)
    attendance = {a.country: a for a in snap.attendance}
    # every member of the region, recorded or not (issue 22, finding 11: a delegation toggled
    # back to "not recorded" was listed, the never-touched were not), and whoever else took part
    recorded = {code for code, a in attendance.items() if a.status != "unknown"}
    members = _roster_codes(snap.session.region) if recorded or speeches or withheld else set()
    codes = sorted(
        members | recorded | set(speeches) | set(withheld) | set(attended_observers(snap)),
        key=lambda code: L.sort_key(L.country(code, countries)),
    )
    if not codes:
        children: tuple[Node, ...] = (Paragraph(text(L.t("No participants were recorded."))),)
    else:
        rows = []
        for code in codes:
            a = attendance.get(code)
            spoken = [sp for sp in speeches.get(code, []) if not sp.passed]
            passed = len(speeches.get(code, [])) - len(spoken)
            hidden = withheld_labels(snap, withheld.get(code, []))
            count = count_cell(L, len(spoken), hidden)
            if passed:
                count = L.tn("{count} (passed {n})", "{count} (passed {n})", passed, count=count)
            seconds = sum(sp.seconds for sp in spoken)
            row = [text(L.country(code, countries))]
            if not people_hidden:
                row.append(text(user(L.comma.join(a.delegates)) if a and a.delegates else "—"))
            row += [
                text(c.delegation_attendance(L, a.status if a else "")),
                text(count),
                text(nowrap(time_cell(L, mmss(seconds), seconds, hidden))),
            ]
            rows.append(tuple(row))
        header = [text(L.t("Delegation"))]
        if not people_hidden:
            header.append(text(L.t("Delegates")))
        header += [text(L.t("Attendance")), text(L.t("Speeches")), text(L.t("Speaking time"))]
        children = (
            Table(
                tuple(header),
                tuple(rows),
                (False, *([False] * (not people_hidden)), False, True, True),
            ),
        )
    return Annex(text(L.t("Annex A: participants")), children)


def _procedure(L: Lang, snap: SessionSnapshot) -> Annex | None:
    """Annex C (issue 26): points of order, rights of reply and the tour's record (spoke,
    passed, out), by agenda item; none when the session kept no list."""
    from roundtable.procedure import procedure_record

    # a withheld speech still tells that its delegation spoke (what it said stays withheld)
    lines = procedure_record(snap.speakers, [*snap.speeches, *snap.withheld_speeches])
    if not lines:
        return None
    position = {a.id: n for n, a in enumerate(snap.agenda, start=1)}
    titles = {a.id: a.title for a in snap.agenda}
    words = {
        "point of order": L.t("point of order"),
        "right of reply": L.t("right of reply"),
        "spoke": L.t("spoke (tour)"),
        "passed": L.t("passed (tour)"),
        "out": L.t("out of the room (tour)"),
    }
    ordered = sorted(lines, key=lambda p: position.get(p.agenda_item, 0))
    rows = tuple(
        (
            text(
                f"{L.number(position.get(p.agenda_item, 0))}. ",
                user(c.plan_text(L, titles.get(p.agenda_item, ""))),
            ),
            text(L.country(p.country, snap.countries)),
            text(words[p.what]),
        )
        for p in ordered
    )
    return Annex(
        text(L.t("Annex C: procedure")),
        (
            Table(
                (text(L.t("Agenda item")), text(L.t("Delegation")), text(L.t("Procedure"))),
                rows,
                (False, False, False),
            ),
        ),
    )


def _capture_times(
    L: Lang,
    snap: SessionSnapshot,
    numbering: Numbering,
    paragraphs: Mapping[str, int],
    clock: VenueClock,
) -> Annex:
    entries = sorted(snap.entries, key=lambda e: (e.created_at, e.id))
    if not entries:
        hidden = not_shown(L, withheld_labels(snap, snap.withheld))
        return Annex(
            text(L.t("Annex B: capture times")),
            (Paragraph(text(hidden or L.t("Nothing was captured."))),),
        )
    kinds = {
        "issue": L.t("issue"),
        "need": L.t("need"),
        "action": L.t("action"),
        "decision": L.t("decision"),
        "note": L.t("note"),
    }
    rows = []
    for e in entries:
        if e.id in numbering.ref:
            where = numbering.ref[e.id]
        elif e.id in paragraphs:
            where = L.t("para. {n}", n=L.number(paragraphs[e.id]))
        else:
            where = "—"
        when = c.parse_time(e.created_at)
        captured = "—"
        if when is not None:
            day = clock.day(when)
            captured = clock.hms(when)
            if day != snap.session.date:
                captured = f"{L.date(day)} {captured}"
        rows.append(
            (
                text(nowrap(where)),
                text(nowrap(captured)),
                text(kinds.get(e.entry_kind, e.entry_kind)),
                text(L.number(int(numbering.item_of(e))) if not e.parked else L.t("parking lot")),
            )
        )
    return Annex(
        text(L.t("Annex B: capture times")),
        (
            Paragraph(text(L.t("Each entry as captured, in order, with its time."))),
            Table(
                (
                    text(L.t("Reference")),
                    text(L.t("Captured")),
                    text(L.t("Kind")),
                    text(L.t("Agenda item")),
                ),
                tuple(rows),
                (False, False, False, True),
            ),
        ),
    )


def _earlier_actions(L: Lang, snap: SessionSnapshot, countries) -> list[Node]:
    """Issue 12: the earlier conferences' actions reviewed in this session, with the status and
    note given here.  Nothing when none was reviewed (the minutes of a first conference are
    unchanged).  Reviews above the audience's ceiling (issue 14) are counted, not shown, and
    keep their numbers: a review is numbered among all of the session's."""
    reviews = [r for r in snap.action_reviews if not r.deleted]
    withheld = [r for r in snap.withheld_reviews if not r.deleted]
    if not reviews and not withheld:
        return []
    everything = sorted((*reviews, *withheld), key=lambda r: (r.reviewed_at, r.id))
    number = {r.id: n for n, r in enumerate(everything, start=1)}
    rows = []
    for r in reviews:
        n = number[r.id]
        origin = r.origin or "—"
        if r.origin_date:
            origin = L.t("{event}, {date}", event=origin, date=L.date(r.origin_date))
        rows.append(
            (
                text(L.number(n)),
                text(c.said(r.text)),
                text(origin),
                text(c.owner_span(L, r.owner, countries)),
                text(nowrap(L.date(r.due))) if r.due else text("—"),
                text(c.status_word(L, r.status)),
                text(c.said(r.note)) if r.note else text("—"),
            )
        )
    nodes: list[Node] = [
        Heading(3, text(L.t("Actions from earlier conferences"))),
        Table(
            (
                text("#"),
                text(L.t("Action")),
                text(L.t("Agreed at")),
                text(L.t("Owner")),
                text(L.t("Due")),
                text(L.t("Status")),
                text(L.t("Note")),
            ),
            tuple(rows),
        ),
    ]
    if not rows:
        nodes.pop()
    if withheld:
        nodes.append(Paragraph(text(reviews_withheld_line(L, [snap]))))
    return nodes
