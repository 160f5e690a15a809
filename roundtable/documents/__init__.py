"""Minutes, delegation briefs and the consolidated report: one document model, one renderer
per format, four languages.

Each document is built once, by a pure function from records to a tree (``minutes``,
``brief``, ``report``), and rendered by ``render_md`` or ``render_html``.  The app, the CLI and
the server call the functions below, so the same records give the same bytes everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

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
    "FORMATS",
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
    "render",
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


def minutes_text(
    snap: SessionSnapshot,
    *,
    fmt: str = "md",
    lang: str = "en",
    version: Version | None = None,
    conflicts: Conflicts | None = None,
) -> str:
    """A session's minutes as Markdown or HTML.  ``version``: from the export history
    (``exports.next_version``); None gives the unnumbered Draft or the Final of the records."""
    from roundtable.documents.minutes import build_minutes

    version = version or version_for(snap)
    return render(build_minutes(snap, Lang(lang), version, conflicts), fmt)


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
) -> str:
    """What concerns one delegation: in one session (``focus``: its id) or in all of them."""
    from roundtable.documents.brief import build_brief

    doc = build_brief(
        delegation,
        snapshots,
        Lang(lang),
        focus=focus,
        as_of=as_of,
        countries=countries or {},
        conflicts=conflicts,
    )
    return render(doc, fmt)


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
) -> str:
    """The secretariat's consolidated report (of ``regions`` only, when given).
    ``last_sync``: session id -> ISO time of that room's last sync, as the caller knows it.
    ``carried``: earlier conferences' actions with their history (``roundtable.actions``), as
    the caller knows them (issue 12)."""
    from roundtable.documents.report import build_report_document

    doc = build_report_document(
        event,
        snapshots,
        countries,
        Lang(lang),
        as_of=as_of,
        last_sync=last_sync or {},
        conflicts=conflicts,
        regions=regions,
        carried=carried,
    )
    return render(doc, fmt)
