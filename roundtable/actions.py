"""Actions carried forward (issue 12): the open actions of a region's earlier events, with the
history of their status across events.  Pure: records in, ``CarriedAction`` out.  The server's
``GET /v1/regions/{region}/actions``, the laptop's store and cache (``roundtable.carry``), the
run screen, the report and ``roundtable actions`` all read actions through here.

An action stays a record of the session where it was agreed.  A later session's review of it is
an ``ActionReview`` record of that later session (see ``model.ActionReview`` for why), so the
action's status *now* is the last review's, else its own.

"Earlier" is the order of event ids: they are UUIDv7, created in time order by the secretariat
(``roundtable events create``) or the laptop, so the server and a laptop offline apply the same
rule without any extra data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from roundtable.model import (
    OPEN_ACTION_STATUSES,
    REVIEW_STATUSES,
    ActionReview,
    AgendaItem,
    Entry,
    Event,
    Record,
    Session,
    record_tlp,
)

__all__ = [
    "CarriedAction",
    "SourceSession",
    "Step",
    "carried_actions",
    "is_earlier",
    "merge",
    "sources_from_records",
]


def is_earlier(event_id: str, before: str) -> bool:
    """Whether ``event_id`` was created before ``before`` (UUIDv7 ids sort by creation)."""
    return event_id < before


@dataclass(frozen=True)
class Step:
    """The action's status at one session: as agreed (``review_id`` empty), or as reviewed."""

    event_id: str
    event_name: str
    session_id: str
    date: str  # the session's date (ISO)
    status: str
    note: str = ""
    at: str = ""  # when it was recorded (ISO datetime)
    review_id: str = ""


@dataclass(frozen=True)
class CarriedAction:
    """An action of an earlier event, where it was agreed, and its status at each later review."""

    id: str  # the action's entry id
    region: str
    event_id: str
    event_name: str
    session_id: str
    session_title: str
    date: str
    agenda_item: str  # the title of the item it was agreed under
    text: str
    owner: str = ""
    due: str = ""
    delegations: tuple[str, ...] = ()
    history: tuple[Step, ...] = field(default_factory=tuple)
    tlp: str = ""  # the action's TLP label (issue 14; "" = TLP:AMBER); RED is never carried

    @property
    def status(self) -> str:
        return self.history[-1].status if self.history else "open"

    @property
    def note(self) -> str:
        return self.history[-1].note if self.history else ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATUSES

    def review_in(self, session_id: str) -> Step | None:
        """This session's review of the action, if any."""
        return next((s for s in self.history if s.review_id and s.session_id == session_id), None)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["delegations"] = list(self.delegations)
        data["history"] = [asdict(s) for s in self.history]
        data["status"] = self.status
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CarriedAction:
        """From the secretariat's answer or the cache (trusted shape, checked by the caller)."""
        names = {f for f in cls.__dataclass_fields__ if f not in ("history", "delegations")}
        return cls(
            **{k: str(data.get(k, "")) for k in names},
            delegations=tuple(str(d) for d in data.get("delegations", ())),
            history=tuple(
                Step(**{k: str(s.get(k, "")) for k in Step.__dataclass_fields__})
                for s in data.get("history", ())
            ),
        )


@dataclass
class SourceSession:
    """One session's records as far as carried actions need them."""

    event: Event
    session: Session
    agenda: Sequence[AgendaItem] = ()
    entries: Sequence[Entry] = ()
    reviews: Sequence[ActionReview] = ()


def sources_from_records(records: Iterable[Record]) -> list[SourceSession]:
    """Group records of several events (merged, from the server's ops) by session.  Deleted
    records are left out; a session whose session record is missing is skipped."""
    events: dict[str, Event] = {}
    sessions: dict[str, Session] = {}
    agenda: dict[str, list[AgendaItem]] = {}
    entries: dict[str, list[Entry]] = {}
    reviews: dict[str, list[ActionReview]] = {}
    for rec in records:
        if rec.deleted:
            continue
        if isinstance(rec, Event):
            events[rec.id] = rec
        elif isinstance(rec, Session):
            sessions[rec.id] = rec
        elif isinstance(rec, AgendaItem):
            agenda.setdefault(rec.session_id, []).append(rec)
        elif isinstance(rec, Entry):
            entries.setdefault(rec.session_id, []).append(rec)
        elif isinstance(rec, ActionReview):
            reviews.setdefault(rec.session_id, []).append(rec)
    return [
        SourceSession(
            event=events.get(s.event_id) or Event(id=s.event_id),
            session=s,
            agenda=agenda.get(sid, []),
            entries=entries.get(sid, []),
            reviews=reviews.get(sid, []),
        )
        for sid, s in sorted(sessions.items())
    ]


def _review_step(event: Event, session: Session, review: ActionReview) -> Step:
    """``review``, made in ``session`` of ``event``, as a step of its action's history."""
    return Step(
        event_id=event.id,
        event_name=event.name,
        session_id=session.id,
        date=session.date,
        status=review.status,
        note=review.note,
        at=review.reviewed_at,
        review_id=review.id,
    )


def carried_actions(
    sources: Iterable[SourceSession],
    region: str,
    before: str,
    *,
    known: Sequence[CarriedAction] = (),
    only_open: bool = False,
) -> list[CarriedAction]:
    """The actions agreed in ``region``'s sessions of events earlier than ``before``, each with
    its history: its own status, then every review made in the region's sessions up to and
    including event ``before``, in the order they were made.  Sorted by event, date, session,
    then capture time.  ``known``: actions learnt elsewhere (the secretariat, the cache) whose
    sessions may not be in ``sources``; the reviews in ``sources`` apply to them too.
    ``only_open``: those whose status now is open, in progress or carried."""
    sources = [s for s in sources if s.session.region == region and s.event.id <= before]
    reviews: dict[str, list[tuple[tuple[str, str, str], Step]]] = {}
    for src in sources:
        for r in src.reviews:
            if r.status not in REVIEW_STATUSES or not r.action:
                continue
            step = _review_step(src.event, src.session, r)
            key = (src.event.id, r.reviewed_at, r.id)
            reviews.setdefault(r.action, []).append((key, step))
    out: list[tuple[tuple, CarriedAction]] = []
    for src in sources:
        if not is_earlier(src.event.id, before):
            continue
        titles = {i.id: i.title for i in src.agenda if not i.deleted}
        for e in src.entries:
            if e.deleted or e.entry_kind != "action":
                continue
            label = record_tlp(e.KIND, e.tlp, src.session.default_tlp)
            if label == "red":  # never leaves its room: not carried, not reviewed (issue 14)
                continue
            own = Step(
                event_id=src.event.id,
                event_name=src.event.name,
                session_id=src.session.id,
                date=src.session.date,
                status=e.status or "open",
                at=e.created_at,
            )
            later = [s for _k, s in sorted(reviews.get(e.id, []), key=lambda ks: ks[0])]
            action = CarriedAction(
                id=e.id,
                region=region,
                event_id=src.event.id,
                event_name=src.event.name,
                session_id=src.session.id,
                session_title=src.session.title,
                date=src.session.date,
                agenda_item=titles.get(e.agenda_item, ""),
                text=e.text,
                owner=e.owner,
                due=e.due,
                delegations=tuple(e.delegations),
                history=(own, *later),
                tlp=label,
            )
            order = (src.event.id, src.session.date, src.session.id, e.created_at, e.id)
            out.append((order, action))
    out.sort(key=lambda oa: oa[0])
    found = [a for _o, a in out]
    if known:
        built = {a.id for a in found}
        reviewed = [
            replace(k, history=(*k.history[:1], *(s for _k, s in sorted(reviews[k.id]))))
            for k in known
            if k.id not in built and k.id in reviews
        ]
        found = merge(known, found, reviewed)
    return [a for a in found if a.is_open] if only_open else found


def from_reviews(snapshots: Iterable[Any]) -> list[CarriedAction]:
    """The actions reviewed in these sessions (``SessionSnapshot``s), as far as the review
    records tell: what they copied of the action, then each review.  The origin's status is
    not copied, so the first step's status is empty ("agreed")."""
    found: dict[str, CarriedAction] = {}
    for snap in snapshots:
        for r in getattr(snap, "action_reviews", ()):
            if r.deleted or r.status not in REVIEW_STATUSES or not r.action:
                continue
            step = _review_step(snap.event, snap.session, r)
            origin = Step(r.action_event, r.origin, r.action_session, r.origin_date, "")
            action = CarriedAction(
                id=r.action,
                region=snap.session.region,
                event_id=r.action_event,
                event_name=r.origin,
                session_id=r.action_session,
                session_title="",
                date=r.origin_date,
                agenda_item="",
                text=r.text,
                owner=r.owner,
                due=r.due,
                history=(origin, step),
                tlp=record_tlp(r.KIND, r.tlp),
            )
            found[r.action] = merge([found[r.action]], [action])[0] if r.action in found else action
    return merge(found.values())


def merge(*lists: Iterable[CarriedAction]) -> list[CarriedAction]:
    """One list from several (the secretariat's answer, the cache, the local store): an action
    known to several keeps the union of its reviews; for a review known twice, the version
    recorded later wins (a laptop's own unsynced change is newer than the server's copy)."""
    found: dict[str, CarriedAction] = {}
    order: list[str] = []
    for actions in lists:
        for a in actions:
            old = found.get(a.id)
            if old is None:
                found[a.id] = a
                order.append(a.id)
                continue
            steps: dict[str, Step] = {}
            for s in (*old.history[1:], *a.history[1:]):
                if s.review_id not in steps or s.at >= steps[s.review_id].at:
                    steps[s.review_id] = s
            later = sorted(steps.values(), key=lambda s: (s.event_id, s.at, s.review_id))
            base = old.history[:1] or a.history[:1]
            found[a.id] = CarriedAction(
                **{
                    k: getattr(old, k) for k in CarriedAction.__dataclass_fields__ if k != "history"
                },
                history=(*base, *later),
            )
    return sorted((found[i] for i in order), key=lambda a: (a.event_id, a.date, a.session_id, a.id))


def line(a: CarriedAction) -> str:
    """One line of ``roundtable actions``: id8, region, event, owner, due, status, text."""
    return "\t".join(
        (a.id[:8], a.region, a.event_name or a.event_id[:8], a.owner or "-", a.due or "-",
         a.status, " ".join(a.text.split()))
    )  # fmt: skip
