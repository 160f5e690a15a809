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
from roundtable.documents.tree import Document, Metadata, Node, Paragraph, strong, text
from roundtable.errors import RoundtableError
from roundtable.model import (
    AUDIENCES,
    TLP_LABELS,
    TLP_RANK,
    Entry,
    SessionSnapshot,
    Speech,
    effective_tlp,
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
    return effective_tlp(getattr(record, "tlp", ""), snap.session.default_tlp)


def cut(snap: SessionSnapshot, ceiling: str) -> SessionSnapshot:
    """The snapshot as a reader up to ``ceiling`` may see it: entries and speeches above it
    moved to ``withheld`` / ``withheld_speeches`` (cutting twice keeps the lower ceiling)."""
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
    return dataclasses.replace(
        snap,
        entries=entries,
        speeches=speeches,
        withheld=withheld,
        withheld_speeches=withheld_speeches,
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
        for record in (*snap.entries, *snap.speeches):
            rank = max(rank, TLP_RANK[label_of(record, snap)])
    return TLP_LABELS[rank]


def withheld_counts(snaps: Sequence[SessionSnapshot]) -> tuple[dict[str, int], dict[str, int]]:
    """Entries and speeches withheld, per label (rising)."""
    entries: dict[str, int] = {}
    speeches: dict[str, int] = {}
    for snap in snaps:
        for e in snap.withheld:
            label = label_of(e, snap)
            entries[label] = entries.get(label, 0) + 1
        for sp in snap.withheld_speeches:
            label = label_of(sp, snap)
            speeches[label] = speeches.get(label, 0) + 1
    order = TLP_RANK.__getitem__
    return (
        {k: entries[k] for k in sorted(entries, key=order)},
        {k: speeches[k] for k in sorted(speeches, key=order)},
    )


def audience_words(lang: Lang, ceiling: str) -> str:
    name = audience_of(ceiling)
    if name is None:
        return lang.t("readers up to {label}", label=tlp_name(ceiling))
    return lang.t(_AUDIENCE_WORDS[name])


def mark(doc: Document, lang: Lang, snaps: Sequence[SessionSnapshot], ceiling: str) -> Document:
    """The document with its audience, its highest label and what was withheld in its header
    (after the identification block), and its label first and last (the marking)."""
    top = tlp_name(highest(snaps))
    entries, speeches = withheld_counts(snaps)
    rows = [
        (lang.t("Audience"), text(audience_words(lang, ceiling))),
        (lang.t("Sensitivity"), text(strong(top), " ", lang.t("(the highest label it contains)"))),
    ]
    if entries or speeches:
        parts = [
            lang.t("Entries withheld ({label}): {count}", label=tlp_name(k), count=lang.number(n))
            for k, n in entries.items()
        ] + [
            lang.t("Speeches withheld ({label}): {count}", label=tlp_name(k), count=lang.number(n))
            for k, n in speeches.items()
        ]
        rows.append((lang.t("Withheld"), text(lang.semicolon.join(parts))))
    else:
        rows.append((lang.t("Withheld"), text(lang.t("nothing"))))
    children: list[Node] = list(doc.children)
    at = next((n for n, node in enumerate(children) if isinstance(node, Metadata)), None)
    if at is None:
        children.insert(0, Metadata(tuple(rows)))
    else:  # the identification block says who the document is for
        first = children[at]
        assert isinstance(first, Metadata)
        children[at] = Metadata((*first.rows, *rows))
    marking = text(strong(top), " — ", audience_words(lang, ceiling))
    children.append(Paragraph(marking))
    return dataclasses.replace(doc, children=tuple(children), marking=marking)
