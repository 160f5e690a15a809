"""Who a document is for, and the one place where records above its reader's ceiling are cut.

``cut(snapshot, ceiling)`` is used by every document (minutes, briefs, the report: the app, the
CLI and the server all call ``roundtable.documents``) and gives a snapshot holding only what the
reader may see, with what it withheld kept aside (``SessionSnapshot.withheld``) so that numbers
stay stable across audiences: D3 is D3 in every version, because references are counted over
the whole session before anything is cut.  ``mark`` writes the audience, the highest label the
document contains and the withheld counts into its header, and the label into its footer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from roundtable.documents.i18n import N_, Lang
from roundtable.documents.tree import (
    Document,
    Inline,
    Metadata,
    Node,
    Paragraph,
    nowrap,
    strong,
    text,
)
from roundtable.errors import RoundtableError
from roundtable.model import (
    AUDIENCES,
    TLP_LABELS,
    TLP_RANK,
    ActionReview,
    Entry,
    SessionSnapshot,
    Speech,
    effective_tlp,
    record_tlp,
    tlp_name,
    within,
)

DEFAULT_AUDIENCE = "participants"
"""What a document is for when nobody said: everything but TLP:RED."""

_AUDIENCE_WORDS = {
    "public": N_("public (TLP:CLEAR only)"),
    "community": N_("community: all member countries' bureaux (up to TLP:GREEN)"),
    "participants": N_(
        "participants: the delegations present and the secretariat (up to TLP:AMBER+STRICT)"
    ),
    "room": N_("the room only, on this laptop (every label, TLP:RED included)"),
}

_REVIEWS_WITHHELD = N_("Action reviews withheld ({label}): {count}")


class AudienceError(RoundtableError, ValueError):
    """An audience or ceiling that is not one of ours."""


def check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise AudienceError(
            f"unknown audience {str(audience)[:30]!r}: use one of {', '.join(AUDIENCES)}"
        )
    return audience


def ceiling_of(audience: str) -> str:
    return AUDIENCES[check_audience(audience)]


def audience_of(ceiling: str) -> str | None:
    """The audience whose ceiling this is (None for TLP:AMBER, a token's own ceiling)."""
    for name, label in AUDIENCES.items():
        if label == ceiling:
            return name
    return None


def label_of(record: object, snap: SessionSnapshot) -> str:
    """The label of an entry, speech or action review (``model.LABELLED_KINDS``)."""
    kind = getattr(record, "KIND", "")
    return record_tlp(kind, getattr(record, "tlp", ""), snap.session.default_tlp)


def cut(snap: SessionSnapshot, ceiling: str) -> SessionSnapshot:
    """The snapshot as a reader up to ``ceiling`` may see it: entries, speeches and action
    reviews above it moved to ``withheld`` / ``withheld_speeches`` / ``withheld_reviews``
    (cutting twice keeps the lower ceiling)."""
    if ceiling not in TLP_RANK:
        raise AudienceError(f"unknown label {str(ceiling)[:30]!r}: use one of {TLP_LABELS}")
    if TLP_RANK[ceiling] >= TLP_RANK[snap.ceiling]:
        return snap
    entries: list[Entry] = []
    withheld = list(snap.withheld)
    for e in snap.entries:
        (entries if within(label_of(e, snap), ceiling) else withheld).append(e)
    speeches: list[Speech] = []
    withheld_speeches = list(snap.withheld_speeches)
    for sp in snap.speeches:
        (speeches if within(label_of(sp, snap), ceiling) else withheld_speeches).append(sp)
    reviews: list[ActionReview] = []
    withheld_reviews = list(snap.withheld_reviews)
    for r in snap.action_reviews:
        (reviews if within(label_of(r, snap), ceiling) else withheld_reviews).append(r)
    return dataclasses.replace(
        snap,
        entries=entries,
        speeches=speeches,
        action_reviews=reviews,
        withheld=withheld,
        withheld_speeches=withheld_speeches,
        withheld_reviews=withheld_reviews,
        ceiling=ceiling,
    )


def cut_carried(actions: Iterable, ceiling: str) -> list:
    """Carried actions (``roundtable.actions.CarriedAction``) a reader up to ``ceiling`` may
    see; one without a label (an older secretariat's answer) counts as TLP:AMBER."""
    return [a for a in actions if within(effective_tlp(getattr(a, "tlp", "")), ceiling)]


def cut_all(snaps: Iterable[SessionSnapshot], ceiling: str) -> list[SessionSnapshot]:
    return [cut(s, ceiling) for s in snaps]


def highest(snaps: Sequence[SessionSnapshot]) -> str:
    """The highest label a document made of these (cut) snapshots contains."""
    rank = 0
    for snap in snaps:
        for record in (*snap.entries, *snap.speeches, *snap.action_reviews):
            rank = max(rank, TLP_RANK[label_of(record, snap)])
    return TLP_LABELS[rank]


def withheld_counts(
    snaps: Sequence[SessionSnapshot],
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Entries, speeches and action reviews withheld, per label (rising)."""
    counts: tuple[dict[str, int], dict[str, int], dict[str, int]] = ({}, {}, {})
    for snap in snaps:
        kept: tuple[Sequence[object], ...] = (
            snap.withheld,
            snap.withheld_speeches,
            snap.withheld_reviews,
        )
        for found, records in zip(counts, kept, strict=True):
            for record in records:
                label = label_of(record, snap)
                found[label] = found.get(label, 0) + 1
    order = TLP_RANK.__getitem__
    entries, speeches, reviews = ({k: c[k] for k in sorted(c, key=order)} for c in counts)
    return entries, speeches, reviews


def _reviews_words(lang: Lang, reviews: dict[str, int]) -> list[str]:
    return [
        lang.t(_REVIEWS_WITHHELD, label=tlp_name(k), count=lang.number(n))
        for k, n in reviews.items()
    ]


def reviews_withheld_line(lang: Lang, snaps: Sequence[SessionSnapshot]) -> str:
    """``Action reviews withheld (TLP:AMBER): 2`` for the reviews these (cut) snapshots
    withheld, per label; "" when none (the "Actions from earlier conferences" sections)."""
    return lang.semicolon.join(_reviews_words(lang, withheld_counts(snaps)[2]))


def audience_words(lang: Lang, ceiling: str) -> str:
    name = audience_of(ceiling)
    if name is None:
        return lang.t("readers up to {label}", label=tlp_name(ceiling))
    return lang.t(_AUDIENCE_WORDS[name])


def mark(
    doc: Document,
    lang: Lang,
    snaps: Sequence[SessionSnapshot],
    ceiling: str,
    symbol: str = "",
) -> Document:
    """The document with its audience, its highest label and what was withheld in its header
    (after the identification block), and its label and symbol first and last (the marking);
    the label, the symbol and the page words are also kept for every printed page."""
    label = highest(snaps)
    top = tlp_name(label)
    entries, speeches, reviews = withheld_counts(snaps)
    rows = [
        *([(lang.t("Symbol"), text(nowrap(symbol)))] if symbol else []),
        (lang.t("Audience"), text(audience_words(lang, ceiling))),
        (lang.t("Sensitivity"), text(strong(top), " ", lang.t("(the highest label it contains)"))),
    ]
    if entries or speeches or reviews:
        parts = [
            lang.t("Entries withheld ({label}): {count}", label=tlp_name(k), count=lang.number(n))
            for k, n in entries.items()
        ]
        parts += [
            lang.t("Speeches withheld ({label}): {count}", label=tlp_name(k), count=lang.number(n))
            for k, n in speeches.items()
        ]
        parts += _reviews_words(lang, reviews)
        rows.append((lang.t("Withheld"), text(lang.semicolon.join(parts))))
    else:
        rows.append((lang.t("Withheld"), text(lang.t("nothing"))))
    if hides_people(ceiling):
        rows.append(people_row(lang))
    children: list[Node] = list(doc.children)
    at = next((n for n, node in enumerate(children) if isinstance(node, Metadata)), None)
    if at is None:
        children.insert(0, Metadata(tuple(rows)))
    else:  # the identification block says who the document is for
        first = children[at]
        assert isinstance(first, Metadata)
        children[at] = Metadata((*first.rows, *rows))
    marking = text(strong(top), " — ", audience_words(lang, ceiling))
    if symbol:
        marking = text(strong(top), " — ", nowrap(symbol), " — ", audience_words(lang, ceiling))
    children.append(Paragraph(marking))
    return dataclasses.replace(
        doc,
        children=tuple(children),
        marking=marking,
        tlp=label,
        symbol=symbol,
        page_words=lang.t("Page {page} of {pages}"),
    )


# -- people in public (issue 23) -------------------------------------------------------------

PEOPLE_UP_TO = "green"
"""Documents for readers up to this label (public, community) name delegations, never people."""

NAMED_ELSEWHERE = N_("(named in the participants' version)")
_PEOPLE_ROW = N_(
    "delegations are named, not individuals: the names of delegates, of the facilitator and "
    "rapporteur, and owners given as free text are in the participants' version"
)
_ANOTHER_LAPTOP = N_("another laptop")


def hides_people(ceiling: str) -> bool:
    """Whether a document for readers up to ``ceiling`` leaves people's names out."""
    return TLP_RANK.get(ceiling, TLP_RANK["red"]) <= TLP_RANK[PEOPLE_UP_TO]


def is_delegation(owner: str, known: Iterable[str] = ()) -> bool:
    """An owner that is a delegation (an ISO code of the roster or CLDR) or the region."""
    if owner in ("", "region") or owner in known:
        return True
    return len(owner) == 2 and owner.isascii() and owner.isalpha() and owner.isupper()


def _owner(owner: str, known: Iterable[str], hidden: str) -> str:
    return owner if is_delegation(owner, known) else hidden


def depersonalise(snap: SessionSnapshot, lang: Lang, known: Iterable[str] = ()) -> SessionSnapshot:
    """The snapshot without people's names: facilitator and rapporteur, delegates, owners
    given as free text (a unit, a person) replaced by "(named in the participants' version)";
    delegations and the region stay.  Text typed inside an entry is left as typed."""
    hidden = lang.t(NAMED_ELSEWHERE)
    codes = set(known) | set(snap.countries)
    session = dataclasses.replace(
        snap.session,
        facilitator=hidden if snap.session.facilitator else "",
        rapporteur=hidden if snap.session.rapporteur else "",
    )
    attendance = [dataclasses.replace(a, delegates=[]) for a in snap.attendance]
    entries = [
        dataclasses.replace(e, owner=_owner(e.owner, codes, hidden))
        if e.entry_kind == "action"
        else e
        for e in snap.entries
    ]
    reviews = [
        dataclasses.replace(r, owner=_owner(r.owner, codes, hidden)) for r in snap.action_reviews
    ]
    return dataclasses.replace(
        snap, session=session, attendance=attendance, entries=entries, action_reviews=reviews
    )


def depersonalise_carried(actions: Iterable, lang: Lang, known: Iterable[str] = ()) -> list:
    hidden = lang.t(NAMED_ELSEWHERE)
    codes = set(known)
    return [dataclasses.replace(a, owner=_owner(a.owner, codes, hidden)) for a in actions]


def depersonalise_conflicts(conflicts, lang: Lang, known: Iterable[str] = ()):
    """Conflicts without the laptops' names (a device is named after its user) nor owners
    given as free text."""
    if not conflicts:
        return conflicts
    hidden = lang.t(NAMED_ELSEWHERE)
    laptop = lang.t(_ANOTHER_LAPTOP)
    codes = set(known)
    out: dict = {}
    for record, fields in conflicts.items():
        out[record] = {
            name: [
                (_owner(str(v), codes, hidden) if name == "owner" else v, laptop)
                for v, _device in versions
            ]
            for name, versions in fields.items()
        }
    return out


def people_row(lang: Lang) -> tuple[str, Inline]:
    return (lang.t("People"), text(lang.t(_PEOPLE_ROW)))


# -- withheld shown as withheld (issue 23) ---------------------------------------------------

_WITHHELD_ONLY = N_("withheld ({label}): {count}")
_WITHHELD_MORE = N_("{shown}; withheld ({label}): {count}")
_TIME_WITHHELD_ONLY = N_("withheld ({label})")
_TIME_WITHHELD_MORE = N_("{shown} + withheld ({label})")
_NOT_SHOWN = N_("Not shown in this version; withheld ({label}): {count}.")


def withheld_labels(snap: SessionSnapshot, records: Iterable[object]) -> dict[str, int]:
    """Withheld records (of ``snap``) per label."""
    out: dict[str, int] = {}
    for record in records:
        label = label_of(record, snap)
        out[label] = out.get(label, 0) + 1
    return out


def _top(counts: dict[str, int]) -> tuple[str, int]:
    label = max(counts, key=TLP_RANK.__getitem__)
    return tlp_name(label), sum(counts.values())


def count_cell(lang: Lang, shown: int, counts: dict[str, int]) -> str:
    """A count that never reads as zero when something was withheld: "2; withheld
    (TLP:AMBER): 1", "withheld (TLP:AMBER): 3"."""
    if not counts:
        return lang.number(shown)
    label, n = _top(counts)
    if shown:
        return lang.t(_WITHHELD_MORE, shown=lang.number(shown), label=label, count=lang.number(n))
    return lang.t(_WITHHELD_ONLY, label=label, count=lang.number(n))


def time_cell(lang: Lang, shown: str, seconds: int, counts: dict[str, int]) -> str:
    """A speaking time that never reads as 00:00 when speeches were withheld."""
    if not counts:
        return shown
    label, _ = _top(counts)
    if seconds:
        return lang.t(_TIME_WITHHELD_MORE, shown=shown, label=label)
    return lang.t(_TIME_WITHHELD_ONLY, label=label)


def not_shown(lang: Lang, counts: dict[str, int]) -> str:
    """What a section says when everything in it was withheld ("" when nothing was)."""
    if not counts:
        return ""
    label, n = _top(counts)
    return lang.t(_NOT_SHOWN, label=label, count=lang.number(n))
