"""A session's minutes, as the app, the CLI and the server produce them: thin calls into
``roundtable.documents`` (one document model, one renderer per format, four languages).

Pure and deterministic: the same snapshot, language, version and conflicts give the same bytes.
"""

from __future__ import annotations

from roundtable.documents.common import conflicts_from_docs
from roundtable.documents.render_md import escape_md as escape_inline
from roundtable.model import SessionSnapshot

__all__ = [
    "conflicts_from_docs",
    "document_title",
    "escape_inline",
    "render",
    "render_html",
    "render_markdown",
]


def render(
    snap: SessionSnapshot,
    fmt: str = "md",
    *,
    lang: str = "en",
    version=None,
    conflicts=None,
    audience: str = "participants",
    ceiling: str | None = None,
) -> str:
    """The minutes as Markdown or HTML: the one function every caller uses."""
    from roundtable.documents import minutes_text

    return minutes_text(
        snap,
        fmt=fmt,
        lang=lang,
        version=version,
        conflicts=conflicts,
        audience=audience,
        ceiling=ceiling,
    )


def render_markdown(snap: SessionSnapshot, **options) -> str:
    options.pop("conference", None)  # the conference is the event's name, the same everywhere
    return render(snap, "md", **options)


def render_html(snap: SessionSnapshot, **options) -> str:
    return render(snap, "html", **options)


def document_title(snap: SessionSnapshot, lang: str = "en") -> str:
    from roundtable.documents.i18n import Lang
    from roundtable.documents.minutes import title

    return title(Lang(lang), snap)
