"""A delegation's brief: what concerns one delegation, for its head of bureau to take home.
Pure: its attendance and delegates, what it said, the issues and needs it raised or joined, the
actions it owns or is named in, the decisions, and the open actions across the event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from roundtable.documents import common as c
from roundtable.documents.audience import (
    NAMED_ELSEWHERE,
    count_cell,
    hides_people,
    not_shown,
    time_cell,
    withheld_labels,
)
from roundtable.documents.common import statement
from roundtable.documents.i18n import Lang
from roundtable.documents.minutes import Numbering
from roundtable.documents.tree import (
    BulletList,
    Document,
    Heading,
    Metadata,
    Node,
    Paragraph,
    Table,
    nowrap,
    strong,
    text,
)
from roundtable.model import OPEN_ACTION_STATUSES, SessionSnapshot
from roundtable.text import mmss


def _concerns(snap: SessionSnapshot, code: str) -> bool:
    return (
        any(a.country == code for a in snap.attendance)
        or any(code in e.delegations or e.owner == code for e in snap.entries)
        or any(sp.country == code for sp in snap.speeches)
    )


def build_brief(
    code: str,
    snapshots: Sequence[SessionSnapshot],
    L: Lang,
    *,
    focus: str | None,
    as_of: dt.datetime,
    countries: Mapping[str, str],
    conflicts: c.Conflicts | None = None,
) -> Document:
    names = dict(countries)
    for snap in snapshots:
        names.update(snap.countries)
    who = L.country(code, names)
    snaps = sorted(
        # an archived session is in no brief (issue 22), unless it is the one asked for
        (s for s in snapshots if s.session.status != "archived" or s.session.id == focus),
        key=lambda s: (s.session.date, s.session.region, s.session.id),
    )
    if focus is not None:
        covered = [s for s in snaps if s.session.id == focus]
    else:
        covered = [s for s in snaps if _concerns(s, code)]
    event = snaps[0].event.name if snaps else ""
    clock = c.venue_clock(snaps, extra=[as_of])
    body: list[Node] = [
        Metadata(
            (
                (L.t("Delegation"), text(who, " (", nowrap(code), ")")),
                (L.t("Event"), text(event or "—")),
                (L.t("As of"), text(nowrap(L.datetime(as_of, clock)))),
                c.zone_row(L, clock),
                (L.t("Sessions covered"), text(L.number(len(covered)))),
            )
        )
    ]
    if not covered:
        body.append(Paragraph(text(L.t("The delegation took part in no session yet."))))
    for snap in covered:
        body += _session_part(L, snap, code, names, conflicts)

    body.append(Heading(2, text(L.t("Open actions across the event"))))
    rows = []
    today = clock.day(as_of)  # the venue's date: what "overdue" means in the room
    for snap in snaps:
        refs = Numbering(snap).ref
        for e in sorted(snap.entries, key=lambda e: (e.created_at, e.id)):
            if e.entry_kind != "action" or e.status not in ("", *OPEN_ACTION_STATUSES) or e.parked:
                continue
            mine = e.owner == code or code in e.delegations
            due = text(nowrap(L.date(e.due))) if e.due else text(L.t("no due date"))
            overdue = bool(e.due) and e.due < today
            rows.append(
                (
                    text(nowrap(refs.get(e.id, ""))),
                    text(strong(c.sentence(e.text))) if mine else text(c.said(e.text)),
                    text(c.owner_span(L, e.owner, names)),
                    text(due, " — ", strong(L.t("OVERDUE"))) if overdue else due,
                    c.session_label_inline(L, snap),
                )
            )
    if rows:
        body.append(Paragraph(text(L.t("Actions the delegation owns or is named in are in bold."))))
        body.append(
            Table(
                (
                    text("#"),
                    text(L.t("Action")),
                    text(L.t("Owner")),
                    text(L.t("Due")),
                    text(L.t("Session")),
                ),
                tuple(rows),
            )
        )
    else:
        body.append(Paragraph(text(L.t("No open actions."))))
    title = L.t("Brief for the delegation of {name}", name=who)
    return Document(title=title, lang=L.code, direction=L.direction, children=tuple(body))


def _session_part(L: Lang, snap: SessionSnapshot, code: str, names, conflicts) -> list[Node]:
    out: list[Node] = [Heading(2, c.session_label_inline(L, snap))]
    numbering = Numbering(snap)
    ref = numbering.ref
    attendance = next((a for a in snap.attendance if a.country == code), None)
    status = c.delegation_attendance(L, attendance.status if attendance else "")
    delegates = L.comma.join(attendance.delegates) if attendance and attendance.delegates else "—"
    if hides_people(snap.ceiling):  # public and community: delegations, never people
        delegates = L.t(NAMED_ELSEWHERE)
    spoken = [sp for sp in snap.speeches if sp.country == code and not sp.passed]
    seconds = sum(sp.seconds for sp in spoken)
    hidden = withheld_labels(snap, [sp for sp in snap.withheld_speeches if sp.country == code])
    out.append(
        Metadata(
            (
                (L.t("Attendance"), text(status)),
                (L.t("Delegates"), text(delegates)),
                (
                    L.t("Speeches"),
                    text(
                        count_cell(L, len(spoken), hidden),
                        " (",
                        nowrap(time_cell(L, mmss(seconds), seconds, hidden)),
                        ")",
                    ),
                ),
            )
        )
    )

    entries = numbering.ordered + numbering.parked
    said = [e for e in entries if e.entry_kind == "note" and code in e.delegations]
    out.append(Heading(3, text(L.t("What the delegation said"))))
    if said:
        out.append(
            BulletList(
                tuple(text(statement(L, e, names), c.conflict_marks(L, e, conflicts)) for e in said)
            )
        )
    else:
        withheld = [e for e in snap.withheld if e.entry_kind == "note" and code in e.delegations]
        hidden_notes = not_shown(L, withheld_labels(snap, withheld))
        out.append(Paragraph(text(hidden_notes or L.t("No statement was recorded."))))
    for kinds, heading, empty in (
        (
            ("issue", "need"),
            L.t("Issues and needs it raised or joined"),
            L.t("No issue or need was recorded."),
        ),
        (("action",), L.t("Actions it owns or is named in"), L.t("No action was recorded.")),
    ):
        mine = [
            e
            for e in entries
            if e.entry_kind in kinds and (code in e.delegations or e.owner == code)
        ]
        out.append(Heading(3, text(heading)))
        if mine:
            out.append(
                BulletList(tuple(c.entry_line(L, e, ref[e.id], names, conflicts) for e in mine))
            )
        else:
            withheld = [
                e
                for e in snap.withheld
                if e.entry_kind in kinds and (code in e.delegations or e.owner == code)
            ]
            out.append(Paragraph(text(not_shown(L, withheld_labels(snap, withheld)) or empty)))
    decisions = [e for e in entries if e.entry_kind == "decision"]
    out.append(Heading(3, text(L.t("Decisions and recommendations"))))
    if decisions:
        out.append(
            BulletList(tuple(c.entry_line(L, e, ref[e.id], names, conflicts) for e in decisions))
        )
    else:
        withheld = [e for e in snap.withheld if e.entry_kind == "decision"]
        hidden_decisions = not_shown(L, withheld_labels(snap, withheld))
        out.append(
            Paragraph(
                text(hidden_decisions or L.t("No decisions or recommendations were recorded."))
            )
        )
    return out
