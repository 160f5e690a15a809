"""The laptop's document use cases (issue 21): what the app and the command line both call.

A face parses its input, calls one of these and presents or saves the text; it never reads a
store's records, gathers conflicts or picks the sessions a document covers itself.  The
secretariat reads the same snapshot and conflicts from merged ops (``roundtable.snapshot``,
``roundtable.conflicts``, through its gate), so the same records give the same document on every
face (``tests/test_one_core.py``'s property test).

Not pure: ``read_session`` and ``read_event`` read the store.  The documents themselves are
built by the pure ``roundtable.documents``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from roundtable import conflicts as conflict_rules
from roundtable.conflicts import Conflicts
from roundtable.model import Country, Event, SessionSnapshot

if TYPE_CHECKING:
    from roundtable.actions import CarriedAction
    from roundtable.store import LocalStore, SessionStore

__all__ = [
    "SessionRead",
    "brief",
    "merged_conflicts",
    "minutes",
    "read_event",
    "read_session",
    "session_conflicts",
    "report",
]


@dataclass(frozen=True)
class SessionRead:
    """One session read at one moment: its snapshot and its entries' unresolved conflicts."""

    snap: SessionSnapshot
    conflicts: Conflicts


def read_session(ss: SessionStore, countries: Mapping[str, str]) -> SessionRead:
    """An open session's snapshot and conflicts, read at one moment."""
    snap = ss.snapshot(countries)
    return SessionRead(snap, session_conflicts(ss, [e.id for e in snap.entries]))


def session_conflicts(ss: SessionStore, entry_ids: Iterable[str] | None = None) -> Conflicts:
    """The unresolved conflicts of a session's entries (of ``entry_ids``, else of every entry
    shown), people named by their laptops' labels."""
    from roundtable.model import Entry

    ids = [e.id for e in ss.records(Entry)] if entry_ids is None else entry_ids
    # a record the view packed has no conflict: its heads need not be read
    docs = (ss.doc("entry", rid) for rid in ids if not ss.conflict_free("entry", rid))
    local = ss.local
    name = conflict_rules.on_laptop(local.device_labels(), local.device)
    return conflict_rules.gather((d for d in docs if d is not None), name)


def read_event(
    local: LocalStore,
    event_id: str,
    countries: Mapping[str, str],
    *,
    focus: SessionRead | None = None,
    open_session: SessionStore | None = None,
) -> list[SessionRead]:
    """The event's sessions a brief or a report covers: every session of the event on this
    laptop but the archived ones (``LocalStore.sessions``), and ``focus`` (already read: the
    one a brief is asked for, archived or not) first.  ``open_session`` is read from memory
    (the app's own); the others are opened read-only, and one that cannot be read here
    (encrypted and locked, damaged) is left out: the secretariat has it."""
    from roundtable.store import StoreError

    reads = [focus] if focus is not None else []
    done = {focus.snap.session.id} if focus is not None else set()
    for summary in local.sessions(event_id):
        if summary.id in done:
            continue
        if open_session is not None and summary.id == open_session.session_id:
            reads.append(read_session(open_session, countries))
            continue
        try:
            with local.open_session(summary.id, read_only=True) as ss:
                reads.append(read_session(ss, countries))
        except StoreError:
            continue
    return reads


def merged_conflicts(reads: Iterable[SessionRead]) -> Conflicts:
    """The conflicts of every read session: a brief's or a report's rows come from several."""
    out: Conflicts = {}
    for read in reads:
        out.update(read.conflicts)
    return out


def minutes(
    read: SessionRead,
    *,
    fmt: str,
    lang: str,
    audience: str,
    export_dir: Path | None = None,
) -> str:
    """A session's minutes.  With ``export_dir``, numbered from the saves there as an
    export would number them now (``roundtable.exports``), else unnumbered."""
    if export_dir is not None:
        from roundtable import exports

        return exports.minutes_export(
            export_dir, read.snap, read.conflicts, fmt=fmt, lang=lang, audience=audience
        ).text
    from roundtable.documents import minutes_text

    return minutes_text(read.snap, fmt=fmt, lang=lang, conflicts=read.conflicts, audience=audience)


def brief(
    delegation: str,
    reads: Sequence[SessionRead],
    *,
    focus: str | None,
    fmt: str,
    lang: str,
    audience: str,
    as_of: dt.datetime,
    countries: Mapping[str, str],
) -> str:
    """A delegation's brief over ``reads`` (``read_event``'s), on ``focus``'s session when
    given, with the conflicts of every session whose rows it lists."""
    from roundtable.documents import brief_text

    return brief_text(
        delegation,
        [r.snap for r in reads],
        focus=focus,
        fmt=fmt,
        lang=lang,
        as_of=as_of,
        countries=countries,
        conflicts=merged_conflicts(reads),
        audience=audience,
    )


def report(
    event: Event,
    reads: Sequence[SessionRead],
    roster: Mapping[str, Country],
    *,
    fmt: str,
    lang: str,
    audience: str,
    as_of: dt.datetime,
    last_sync: Mapping[str, str] | None = None,
    carried: Sequence[CarriedAction] | None = None,
) -> str:
    """The consolidated report of an event's sessions."""
    from roundtable.documents import report_text

    return report_text(
        event,
        [r.snap for r in reads],
        roster,
        fmt=fmt,
        lang=lang,
        as_of=as_of,
        last_sync=last_sync,
        conflicts=merged_conflicts(reads),
        carried=carried,
        audience=audience,
    )
