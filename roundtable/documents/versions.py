"""Which version a document is: "Draft 3", "Final", "Final, reissued".  Pure.

A draft's number counts the distinct states of the records that were saved as minutes: the same
records exported again (as Markdown or HTML, in any language) keep their number; changed
records take the next one.  The history of those states is kept beside the exported files by
``roundtable.exports``; here it is only an input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from roundtable.model import Session, SessionSnapshot

DRAFT = "draft"
FINAL = "final"
REISSUED = "reissued"


@dataclass(frozen=True)
class Version:
    kind: str  # draft | final | reissued
    number: int = 0  # drafts: 1, 2, ... (0: not numbered); reissues: 1, 2, ...

    def file_suffix(self) -> str:
        if self.kind == DRAFT:
            return f"draft{self.number}" if self.number else "draft"
        if self.kind == FINAL:
            return "final"
        return f"final-reissued{self.number}" if self.number > 1 else "final-reissued"


def was_reopened(snap: SessionSnapshot) -> bool:
    """Whether the session was closed and opened again: the reopening is recorded
    (``Session.reopened_at``, written by ``SessionStore.reopen``); a closing time on a session
    that runs again says it too (records written before reopenings were recorded)."""
    session: Session = snap.session
    return bool(session.reopened_at) or (bool(session.closed_at) and session.status != "closed")


def fingerprint(snap: SessionSnapshot, conflicts: Mapping[str, Any] | None = None) -> str:
    """A digest of everything a session's documents are built from."""
    data = repr(snap) + repr(sorted((conflicts or {}).items(), key=lambda kv: kv[0]))
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def version_for(
    snap: SessionSnapshot,
    history: Mapping[str, Any] | None = None,
    print_: str = "",
) -> Version:
    """The version of a document of these records, given what was saved before.

    ``history``: ``{"drafts": [fingerprints], "finals": [fingerprints]}`` in saving order;
    ``print_``: this document's fingerprint.  Without a history, drafts are not numbered.
    A closed session's minutes are Final; closed again after a reopening, or closed with other
    records than a Final already saved, they are Final, reissued.
    """
    history = history or {}
    drafts = list(history.get("drafts", ()))
    finals = list(history.get("finals", ()))
    if snap.session.status == "closed":
        # one rule for every face (issue 21): the n-th distinct closed state is Final (n = 0)
        # or Final, reissued n; when the first one saved was already a reissue (closed again
        # after a reopening), every state counts one further, the same records never "Final"
        first_reissued = bool(history.get("first_final_reissued")) if finals else None
        if first_reissued is None:
            first_reissued = was_reopened(snap)
        n = finals.index(print_) if print_ in finals else len(finals)
        n += 1 if first_reissued else 0
        return Version(FINAL) if n == 0 else Version(REISSUED, n)
    if not drafts and not print_:
        return Version(DRAFT)
    return Version(DRAFT, drafts.index(print_) + 1 if print_ in drafts else len(drafts) + 1)


# -- names of saved documents (pure: the secretariat's downloads take them too) ----------------


def stem(snap: SessionSnapshot) -> str:
    s = snap.session
    return f"{s.date or 'undated'}-{s.region}-{s.id[:8]}-minutes"


def _for(audience: str) -> str:
    """The audience in a file name; the default audience's files keep their plain names."""
    from roundtable.documents.audience import DEFAULT_AUDIENCE, check_audience

    return "" if check_audience(audience) == DEFAULT_AUDIENCE else f"-{audience}"


def file_name(
    snap: SessionSnapshot, version: Version, lang: str, fmt: str, audience: str = "participants"
) -> str:
    return f"{stem(snap)}-{lang}{_for(audience)}-{version.file_suffix()}.{fmt}"


def brief_name(
    snap: SessionSnapshot, delegation: str, lang: str, fmt: str, audience: str = "participants"
) -> str:
    base = stem(snap).removesuffix("-minutes")
    return f"{base}-brief-{delegation}-{lang}{_for(audience)}.{fmt}"
