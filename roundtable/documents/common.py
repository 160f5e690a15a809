"""Pieces shared by the minutes, the briefs and the report: words for record values, sentences
from captured text, entry references, and unresolved conflicts.  Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from roundtable.documents.i18n import N2_, N_, Lang
from roundtable.documents.tree import Inline, Span, nowrap, strong, text, user
from roundtable.model import (
    REGIONS,
    AgendaItem,
    ClockEvent,
    Entry,
    Event,
    Session,
    SessionSnapshot,
)
from roundtable.zones import VenueClock, parse_instant

# record id -> field -> the other versions of that field, [(value, device)], newest first
Conflicts = Mapping[str, Mapping[str, Sequence[tuple[Any, str]]]]

REF_PREFIX = {"issue": "I", "need": "N", "decision": "D", "action": "A"}
# the first word(s) of a note that already says who is speaking for the chair
FACILITATOR_WORDS = (
    "facilitator",
    "the facilitator",
    "chair",
    "the chair",
    "chairperson",
    "rapporteur",
    "the rapporteur",
    "secretariat",
    "the secretariat",
    "facilitateur",
    "facilitatrice",
    "le facilitateur",
    "la facilitatrice",
    "président",
    "présidente",
    "le président",
    "la présidente",
    "facilitador",
    "facilitadora",
    "el facilitador",
    "la facilitadora",
    "moderador",
    "presidente",
    "el presidente",
    "الميسر",
    "الميسرة",
    "الرئيس",
    "رئيس الجلسة",
)


# the regions' names as model.REGIONS spells them, marked here so that `pybabel extract` finds
# them (tests/test_documents.py checks the two lists agree)
REGION_MSGIDS = (
    N_("Africa"),
    N_("Americas"),
    N_("Asia & South Pacific"),
    N_("Europe"),
    N_("Middle East & North Africa"),
)


def conflicts_from_docs(
    docs: Iterable[Mapping[str, Any]], name: Callable[[str], str] | None = None
) -> dict[str, dict[str, list]]:
    """Unresolved conflicts of merged view documents, in the shape the documents take:
    entry id -> field -> ``(other value, who)``.  ``name`` turns a device into people's label
    (``LocalStore.name``); without it the device id is shown.  An entry deleted on one laptop
    while edited on another (``protocol.delete_conflict``) is the field ``deleted``: shown as
    deleted, with "not deleted" by whoever edited it."""
    from roundtable.protocol import conflicts

    name = name or (lambda device: device)
    out: dict[str, dict[str, list]] = {}
    for doc in docs:
        found = conflicts(doc)
        if found:
            out[doc["id"]] = {
                field: [(value, name(hlc.device)) for value, hlc in versions]
                for field, versions in sorted(found.items())
            }
    return out


@lru_cache(maxsize=1)
def _plan_index() -> dict[str, dict[str, str]]:
    """Every title of the built-in plans (a plan's and its items') -> that title in each
    language the plan gives it in (issue 23)."""
    import sessions

    index: dict[str, dict[str, str]] = {}
    for plan in sessions.builtin_plans().values():
        own = plan.language or "en"
        found = [{own: plan.title, **dict(plan.titles)}]
        found += [{own: i.title, **{c: t for c, t, _ in i.translations}} for i in plan.items]
        for forms in found:
            for value in forms.values():
                index.setdefault(value, forms)
    return index


def plan_text(lang: Lang, value: str) -> str:
    """A title that came from a built-in plan (a session's or an agenda item's), in the
    document's language; any other title (one the facilitator typed or edited) as typed."""
    forms = _plan_index().get(" ".join(value.split())) if value else None
    return forms.get(lang.code, value) if forms else value


def crime_area(lang: Lang, tag: str) -> str:
    """A crime-area tag as the vocabulary names it in the document's language; a tag of
    one's own as typed (``sessions.crime_areas``)."""
    from sessions.crime_areas import label

    return label(tag, lang.code)


def crime_areas(lang: Lang, tags: Sequence[str]) -> str:
    return lang.comma.join(crime_area(lang, t) for t in tags)


def _year(snap: SessionSnapshot) -> str:
    """The year of a session: its date's, else its event's start, else its id's (a UUIDv7
    holds the time it was made)."""
    for value in (snap.session.date, snap.event.starts):
        if len(value) >= 4 and value[:4].isdigit():
            return value[:4]
    return _id_year(snap.session.id)


def _id_year(record_id: str) -> str:
    try:
        ms = int(record_id.replace("-", "")[:12], 16)
        return str(dt.datetime.fromtimestamp(ms / 1000, dt.UTC).year)
    except (ValueError, OverflowError, OSError):
        return "0000"


def session_symbol(snap: SessionSnapshot) -> str:
    """The session's document symbol, ``RT/<REGION>/<YEAR>/<n>`` (issue 23): the same on
    every face (app, CLI, server) and in every version, language and audience.  ``n`` is the
    session's number in its event and region, fixed when it was created; a session made
    before numbers (``number`` 0) has the first 8 characters of its id instead."""
    s = snap.session
    n = str(s.number) if s.number > 0 else s.id.replace("-", "")[:8]
    return f"RT/{(s.region or 'none').upper()}/{_year(snap)}/{n}"


def report_symbol(event: Event, as_of: dt.datetime) -> str:
    """The consolidated report's symbol: ``RT/<YEAR>/REPORT``."""
    year = event.starts[:4] if event.starts[:4].isdigit() else str(as_of.year)
    return f"RT/{year}/REPORT"


def brief_symbol(
    code: str, snaps: Sequence[SessionSnapshot], focus: str | None, as_of: dt.datetime
) -> str:
    """A brief's symbol: the session's symbol and the delegation (a brief on one session),
    else ``RT/<YEAR>/BRIEF/<code>``."""
    for snap in snaps:
        if focus is not None and snap.session.id == focus:
            return f"{session_symbol(snap)}/{code}"
    starts = snaps[0].event.starts if snaps else ""
    year = starts[:4] if starts[:4].isdigit() else str(as_of.year)
    return f"RT/{year}/BRIEF/{code}"


def region_name(lang: Lang, key: str) -> str:
    return lang.t(REGIONS[key]) if key in REGIONS else key


def sentence(value: str) -> str:
    """Captured text as typed, on one line, ending as a sentence ends."""
    value = " ".join(str(value).split())
    if value and value[-1] not in ".!?…。؟":
        value += "."
    return value


def said(value: str) -> Span:
    """Captured text as a sentence, marked as captured."""
    return user(sentence(value))


def parse_time(iso: str) -> dt.datetime | None:
    return parse_instant(iso)


def _ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def item_instants(
    item: AgendaItem, events: Sequence[ClockEvent] = ()
) -> tuple[dt.datetime | None, dt.datetime | None, int | None]:
    """Start, end (UTC) and actual seconds of an agenda item: from its clock events (the
    sum of the intervals its clock ran, ``meeting.intervals``) where it has any, else from the
    item's ``started_at``/``ended_at``.  An item whose clock still runs has a start, no end and
    no actual time yet, so the same records always give the same document."""
    from roundtable import meeting

    own = [e for e in events if e.agenda_item == item.id]
    if own:
        spans = meeting.intervals(own, item.id, 0)
        if not spans:
            return None, None, None
        first = _ms(spans[0][0])
        if meeting.clock_state(own, item.id) == "running":
            return first, None, None
        seconds: int | None = sum(end - start for start, end in spans) // 1000
        return first, _ms(spans[-1][1]), seconds
    start, end = parse_time(item.started_at), parse_time(item.ended_at)
    seconds = int((end - start).total_seconds()) if start and end and end >= start else None
    return start, end, seconds


def item_time(
    item: AgendaItem, events: Sequence[ClockEvent] = (), clock: VenueClock | None = None
) -> tuple[str, str, int | None]:
    """Start, end (HH:MM at the venue, ``clock``; UTC without one) and actual seconds of an
    agenda item (``item_instants``)."""
    clock = clock or VenueClock()
    start, end, seconds = item_instants(item, events)
    return (clock.hm(start) if start else "", clock.hm(end) if end else "", seconds)


def snapshot_instants(snap: SessionSnapshot) -> list[dt.datetime | None]:
    """Every time a session's documents print: its items' clocks and its captures."""
    out: list[dt.datetime | None] = []
    for item in snap.agenda:
        start, end, _ = item_instants(item, snap.clock_events)
        out += [start, end]
    out += [parse_time(e.created_at) for e in snap.entries]
    return out


def venue_clock(
    snaps: Sequence[SessionSnapshot],
    event: Event | None = None,
    extra: Iterable[dt.datetime | None] = (),
) -> VenueClock:
    """The venue's clock of a document (issue 24): the event's zone, marking each time with
    its abbreviation when the times printed, or the event's days, span a daylight-saving
    change."""
    event = event if event is not None else (snaps[0].event if snaps else None)
    instants: list[dt.datetime | None] = list(extra)
    days: list[str] = []
    for snap in snaps:
        instants += snapshot_instants(snap)
        if snap.session.date:
            days.append(snap.session.date)
    if event is not None:
        days += [d for d in (event.starts, event.ends) if d]
    return VenueClock(
        event.tz if event else "", instants, days=days, venue=event.venue if event else ""
    )


def zone_words(lang: Lang, clock: VenueClock) -> str:
    """How a document's header names its zone: "Lyon time, Europe/Paris, CET/CEST"."""
    place = clock.place()
    if clock.is_utc or not place:
        return lang.t("UTC (Coordinated Universal Time)")
    return lang.t(
        "{place} time, {zone}, {abbreviations}",
        place=place,
        zone=clock.name,
        abbreviations=clock.abbreviations(),
    )


def zone_row(lang: Lang, clock: VenueClock) -> tuple[str, Inline]:
    """The header row that names the zone every time of the document is in."""
    return (lang.t("Times"), text(zone_words(lang, clock)))


def minutes_word(lang: Lang, seconds: int | None) -> str:
    if seconds is None:
        return "—"
    return lang.tn("{n} min", "{n} min", round(seconds / 60))


def status_word(lang: Lang, status: str) -> str:
    return {
        "open": lang.t("open"),
        "in_progress": lang.t("in progress"),
        "carried": lang.t("carried"),
        "done": lang.t("done"),
        "dropped": lang.t("dropped"),
    }.get(status or "open", status)


def priority_word(lang: Lang, priority: str) -> str:
    return {"high": lang.t("high"), "medium": lang.t("medium"), "low": lang.t("low")}.get(
        priority, priority
    )


def attendance_word(lang: Lang, status: str) -> str:
    return {
        "present": lang.t("Present"),
        "apologies": lang.t("Apologies"),
        "absent": lang.t("Absent"),
    }.get(status, lang.t("not recorded"))


def session_word(lang: Lang, session: Session, reopened: bool) -> str:
    if reopened:
        return lang.t("reopened")
    return {
        "planned": lang.t("planned"),
        "running": lang.t("in session"),
        "closed": lang.t("closed"),
    }.get(session.status, session.status)


def delegation_attendance(lang: Lang, status: str) -> str:
    """One delegation's attendance, as a table cell or a brief says it."""
    return {
        "present": lang.t("present"),
        "apologies": lang.t("sent apologies"),
        "absent": lang.t("absent"),
    }.get(status, lang.t("not recorded"))


def owner_name(lang: Lang, owner: str, names: Mapping[str, str]) -> str:
    if not owner:
        return lang.t("UNASSIGNED")
    if owner == "region":
        return lang.t("The region (all delegations)")
    return lang.country(owner, names)


def owner_span(lang: Lang, owner: str, names: Mapping[str, str]) -> Span:
    """The owner's name as a span: a delegation or the region in the document's words, an
    owner typed as free text (a secretariat unit) marked as captured (isolated in HTML)."""
    shown = owner_name(lang, owner, names)
    if not owner or owner == "region" or owner in names:
        return Span(shown)
    return user(shown)


def names(lang: Lang, codes: Iterable[str], countries: Mapping[str, str]) -> list[str]:
    return [lang.country(c, countries) for c in codes]


def speaks_for_itself(note: str, who: Sequence[str]) -> bool:
    """Whether a note already names one of its delegations (or the chair) as its subject."""
    folded = note.casefold()
    if any(name.casefold() in folded for name in who if name):
        return True
    return any(
        folded == w or folded.startswith(w + " ") or folded.startswith(w + ",")
        for w in FACILITATOR_WORDS
    )


def statement(lang: Lang, note: Entry, countries: Mapping[str, str]) -> Inline:
    """A note as a sentence of the record: as typed when it names its speaker ("Kenya
    described…", "Facilitator welcomed…"); a delegation's words after its name otherwise
    ("The delegation of Jordan: Reports a decline…"); and the facilitator's own notes as such.
    Never a template glued to a fragment."""
    words = sentence(note.text)
    who = names(lang, note.delegations, countries)
    roster_names = [countries.get(c, "") for c in note.delegations]
    if speaks_for_itself(words, who + roster_names + list(note.delegations)):
        return text(user(words))
    if not who:
        return lang.tx("Facilitator's note: {text}", text=user(words))
    if len(who) == 1:
        return lang.tx("The delegation of {name}: {text}", name=who[0], text=user(words))
    return lang.tx("The delegations of {names}: {text}", names=lang.join(who), text=user(words))


def conflict_marks(lang: Lang, entry: Entry, conflicts: Conflicts | None) -> Inline:
    """Both values of every field of the entry that two laptops edited differently."""
    found = (conflicts or {}).get(entry.id)
    if not found:
        return ()
    parts: list[Span | str | Inline] = [" — ", strong(lang.t("Unresolved conflict:")), " "]
    for n, (field_name, versions) in enumerate(sorted(found.items())):
        if n:
            parts.append(lang.semicolon)
        current = _value(getattr(entry, field_name, ""))
        word = lang.t("or")
        others: list[Span] = []
        for k, (v, d) in enumerate(versions):
            if k:
                others.append(Span(f" {word} "))
            others += lang.tx("“{value}” ({device})", value=user(_value(v)), device=user(d))
        for span in lang.tx(
            "{field}: “{value}” or {others}", field=field_name, value=user(current), others="\0"
        ):
            parts.extend(others if span.text == "\0" else (span,))
    return text(*parts)


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def details(
    lang: Lang, e: Entry, countries: Mapping[str, str], *, by: tuple[str, str] | None = None
) -> Inline:
    """What an entry carries besides its text: delegations, owner, due date, status,
    priority, crime areas, in that order."""
    bits: list[Inline] = []
    who = names(lang, e.delegations, countries)
    if who:
        singular, plural = by_phrase(e.entry_kind) if by is None else by
        bits.append(text(lang.tn(singular, plural, len(who), names=lang.join(who))))
    if e.entry_kind == "action":
        bits.append(lang.tx("owner: {owner}", owner=owner_span(lang, e.owner, countries)))
        due = (
            text(lang.t("due:"), " ", nowrap(lang.date(e.due)))
            if e.due
            else text(lang.t("no due date"))
        )
        bits.append(due)
        bits.append(text(lang.t("status: {status}", status=status_word(lang, e.status))))
    if e.priority:
        bits.append(text(lang.t("priority: {priority}", priority=priority_word(lang, e.priority))))
    if e.crime_areas:
        bits.append(text(lang.t("crime areas: {areas}", areas=crime_areas(lang, e.crime_areas))))
    out: list[Span | str | Inline] = []
    for n, bit in enumerate(bits):
        out += [" — " if n == 0 else lang.semicolon, bit]
    return text(*out)


def by_phrase(kind: str) -> tuple[str, str]:
    """Who an entry is from, by the number of delegations: the translations introduce the
    names with a noun ("délégations : Ghana et Nigeria"), so a country never needs an article
    or an agreement (issue 23)."""
    if kind == "decision":
        return N2_("proposed by {names}", "proposed by {names}")
    if kind == "action":
        return N2_("concerns {names}", "concerns {names}")
    return N2_("raised by {names}", "raised by {names}")


def entry_line(
    lang: Lang, e: Entry, ref: str, countries: Mapping[str, str], conflicts: Conflicts | None
) -> Inline:
    return text(
        strong(ref + "."),
        " ",
        said(e.text),
        details(lang, e, countries, by=by_phrase(e.entry_kind)),
        conflict_marks(lang, e, conflicts),
    )


def session_label_inline(lang: Lang, snap: SessionSnapshot) -> Inline:
    """``session_label`` as inline text, its title marked as captured (isolated in HTML)."""
    s = snap.session
    parts: list[Span] = [user(plan_text(lang, s.title)) if s.title else Span(lang.t("Round table"))]
    parts.append(Span(region_name(lang, s.region)))
    if s.date:
        parts.append(Span(lang.date(s.date)))
    out: list[Span] = []
    for n, part in enumerate(parts):
        if n:
            out.append(Span(lang.comma))
        out.append(part)
    return tuple(out)


def session_label(lang: Lang, snap: SessionSnapshot) -> str:
    s = snap.session
    parts = [plan_text(lang, s.title) or lang.t("Round table"), region_name(lang, s.region)]
    if s.date:
        parts.append(lang.date(s.date))
    return lang.comma.join(parts)
