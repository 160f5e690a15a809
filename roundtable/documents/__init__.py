"""Minutes, delegation briefs and the consolidated report: one document model, one renderer
per format, four languages.

Each document is built once, by a pure function from records to a tree (``minutes``,
``brief``, ``report``), and rendered by ``render_md`` or ``render_html``.  The app, the CLI and
the server call the functions below, so the same records give the same bytes everywhere.

Every document is for an audience (issue 14): ``audience`` (public, community, participants,
room) or a reader's ``ceiling`` (a secretariat token's); ``audience.cut`` is the one place where
what is above it is withheld, and ``audience.mark`` states it in the document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from roundtable.documents.audience import (
    DEFAULT_AUDIENCE,
    AudienceError,
    ceiling_of,
    check_audience,
    cut,
    hides_people,
)
from roundtable.documents.common import Conflicts, conflicts_from_docs
from roundtable.documents.i18n import LANGUAGES, Lang, LanguageError, check_language
from roundtable.documents.tree import Document
from roundtable.documents.versions import Version, fingerprint, version_for, was_reopened

if TYPE_CHECKING:
    import datetime as dt

    from roundtable.actions import CarriedAction
    from roundtable.model import Country, Event, SessionSnapshot

FORMATS = ("md", "html")

__all__ = [
    "DEFAULT_AUDIENCE",
    "FORMATS",
    "AudienceError",
    "check_audience",
    "cut",
    "LANGUAGES",
    "Conflicts",
    "Document",
    "LanguageError",
    "Version",
    "brief_text",
    "check_language",
    "conflicts_from_docs",
    "fingerprint",
    "minutes_text",
    "reader_ceiling",
    "render",
    "report_csv",
    "report_text",
    "version_for",
    "was_reopened",
]


def render(doc: Document, fmt: str) -> str:
    if fmt == "md":
        from roundtable.documents.render_md import render_markdown

        return render_markdown(doc)
    if fmt == "html":
        from roundtable.documents.render_html import render_html

        return render_html(doc)
    raise ValueError(f"format {fmt!r}: expected md or html")


def reader_ceiling(audience: str = DEFAULT_AUDIENCE, ceiling: str | None = None) -> str:
    """The highest label a document may hold: a reader's own ``ceiling`` (a secretariat
    token's), else its audience's."""
    if ceiling is not None:
        from roundtable.model import TLP_LABELS

        if ceiling not in TLP_LABELS:
            raise AudienceError(f"unknown label {ceiling!r}: use one of {', '.join(TLP_LABELS)}")
        return ceiling
    return ceiling_of(audience)


def _people(
    snaps: Sequence[SessionSnapshot],
    conflicts: Conflicts | None,
    lang: Lang,
    top: str,
    known: Mapping[str, object] | None = None,
) -> tuple[list[SessionSnapshot], Conflicts | None]:
    """Public and community documents name delegations, never people (issue 23)."""
    if not hides_people(top):
        return list(snaps), conflicts
    from roundtable.documents.audience import depersonalise, depersonalise_conflicts

    codes = set(known or ())
    for snap in snaps:
        codes |= set(snap.countries)
    return (
        [depersonalise(s, lang, codes) for s in snaps],
        depersonalise_conflicts(conflicts, lang, codes),
    )


def minutes_text(
    snap: SessionSnapshot,
    *,
    fmt: str = "md",
    lang: str = "en",
    version: Version | None = None,
    conflicts: Conflicts | None = None,
    audience: str = DEFAULT_AUDIENCE,
    ceiling: str | None = None,
) -> str:
    """A session's minutes as Markdown or HTML.  ``version``: from the export history
    (``exports.next_version``); None gives the unnumbered Draft or the Final of the records."""
    from roundtable.documents.audience import mark
    from roundtable.documents.minutes import build_minutes

    version = version or version_for(snap)
    top = reader_ceiling(audience, ceiling)
    snap = cut(snap, top)
    L = Lang(lang)
    people, conflicts = _people([snap], conflicts, L, top)
    snap = people[0]
    from roundtable.documents.common import session_symbol

    doc = build_minutes(snap, L, version, conflicts)
    return render(mark(doc, L, [snap], top, session_symbol(snap)), fmt)


def brief_text(
    delegation: str,
    snapshots: Sequence[SessionSnapshot],
    *,
    focus: str | None = None,
    fmt: str = "md",
    lang: str = "en",
    as_of: dt.datetime,
    countries: Mapping[str, str] | None = None,
    conflicts: Conflicts | None = None,
    audience: str = DEFAULT_AUDIENCE,
    ceiling: str | None = None,
) -> str:
    """What concerns one delegation: in one session (``focus``: its id) or in all of them."""
    from roundtable.documents.audience import cut_all, mark
    from roundtable.documents.brief import build_brief

    top = reader_ceiling(audience, ceiling)
    snapshots = cut_all(snapshots, top)
    L = Lang(lang)
    snapshots, conflicts = _people(snapshots, conflicts, L, top, countries or {})
    doc = build_brief(
        delegation,
        snapshots,
        L,
        focus=focus,
        as_of=as_of,
        countries=countries or {},
        conflicts=conflicts,
    )
    from roundtable.documents.common import brief_symbol

    return render(
        mark(doc, L, snapshots, top, brief_symbol(delegation, snapshots, focus, as_of)), fmt
    )


def report_csv(
    snapshots: Sequence[SessionSnapshot],
    countries: Mapping[str, Country],
    *,
    lang: str = "en",
    regions: Sequence[str] | None = None,
    audience: str = DEFAULT_AUDIENCE,
    ceiling: str | None = None,
) -> str:
    """The consolidated report's needs, actions and decisions as CSV, one row each (issue 23),
    for the analysts' spreadsheets: cut to the audience like every document (what is above
    it is left out; public and community rows name no person)."""
    from roundtable.documents.audience import cut_all
    from roundtable.documents.report import build_csv

    top = reader_ceiling(audience, ceiling)
    if top == "red":
        raise AudienceError(
            "the consolidated report is never for the room: TLP:RED stays out of it "
            "(use --audience participants, community or public)"
        )
    L = Lang(lang)
    snapshots, _ = _people(cut_all(snapshots, top), None, L, top, countries)
    return build_csv(snapshots, countries, L, regions=regions)


def report_text(
    event: Event,
    snapshots: Sequence[SessionSnapshot],
    countries: Mapping[str, Country],
    *,
    fmt: str = "md",
    lang: str = "en",
    as_of: dt.datetime,
    last_sync: Mapping[str, str] | None = None,
    conflicts: Conflicts | None = None,
    regions: Sequence[str] | None = None,
    carried: Sequence[CarriedAction] | None = None,
    audience: str = DEFAULT_AUDIENCE,
    ceiling: str | None = None,
) -> str:
    """The secretariat's consolidated report (of ``regions`` only, when given).
    ``last_sync``: session id -> ISO time of that room's last sync, as the caller knows it.
    ``carried``: earlier conferences' actions with their history (``roundtable.actions``), as
    the caller knows them (issue 12).  TLP:RED is never in it: the room's audience is
    refused."""
    from roundtable.documents.audience import cut_all, mark
    from roundtable.documents.report import build_report_document

    top = reader_ceiling(audience, ceiling)
    if top == "red":
        raise AudienceError(
            "the consolidated report is never for the room: TLP:RED stays out of it "
            "(use --audience participants, community or public)"
        )
    snapshots = cut_all(snapshots, top)
    if carried is not None:
        from roundtable.documents.audience import cut_carried

        carried = cut_carried(carried, top)
    L = Lang(lang)
    snapshots, conflicts = _people(snapshots, conflicts, L, top, countries)
    if carried is not None and hides_people(top):
        from roundtable.documents.audience import depersonalise_carried

        carried = depersonalise_carried(carried, L, countries)
    doc = build_report_document(
        event,
        snapshots,
        countries,
        L,
        as_of=as_of,
        last_sync=last_sync or {},
        conflicts=conflicts,
        regions=regions,
        carried=carried,
    )
    from roundtable.documents.common import report_symbol

    return render(mark(doc, L, snapshots, top, report_symbol(event, as_of)), fmt)
