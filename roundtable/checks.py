"""The completeness check run before a session is closed.  Pure: a snapshot in, findings out.

Each finding has a stable ``code`` so that the facilitator can knowingly accept it: accepted codes
are stored on the session (``accepted_gaps``) and the minutes can be regenerated at any time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from roundtable.model import SessionSnapshot


@dataclass(frozen=True)
class Finding:
    code: str  # stable: "<rule>:<record id>"
    rule: str
    message: str
    record_kind: str  # the record to open to fix it: entry | attendance | agenda_item | session
    record_id: str
    accepted: bool = False


RULES = {
    "action-owner": "action without an owner",
    "action-due": "action without a due date",
    "need-delegation": "need without a delegation",
    "need-priority": "need without a priority",
    "attendance": "attendance not confirmed",
    "attendance-unknown": "delegations with no attendance recorded",
    "agenda-empty": "agenda item with nothing captured",
    "attributed-not-present": "lines attributed to a delegation not marked present",
    "conflict": "entry edited differently on two laptops (cannot be accepted)",
}
BLOCKING = frozenset({"conflict"})  # rules whose findings must be fixed, never accepted

ATTENDANCE_WORDS = {"absent": "marked absent", "apologies": "sent apologies"}


def _short(text: str, width: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def conflict_findings(snap: SessionSnapshot, conflicts: Mapping[str, Mapping]) -> list[Finding]:
    """One finding per entry two laptops edited differently (``conflicts``: entry id -> field
    -> other versions, as ``roundtable.documents.conflicts_from_docs`` gives).  Never accepted:
    the minutes would have to print two values, so the session cannot close until resolved."""
    found = []
    for e in snap.entries:
        fields = conflicts.get(e.id)
        if fields and e.deleted and "deleted" in fields:  # issue 12: a delete met an edit
            line = "Deleted on one laptop while edited on another (restore it or confirm the "
            line += f"delete): {_short(e.text)}"
            found.append(Finding(f"conflict:{e.id}", "conflict", line, "entry", e.id))
        elif fields:
            found.append(Finding(f"conflict:{e.id}", "conflict",
                                 f"Conflicting edits of {', '.join(sorted(fields))}: "
                                 f"{_short(e.text)}", "entry", e.id))  # fmt: skip
    return found


def completeness(
    snap: SessionSnapshot,
    roster_codes: list[str] | None = None,
    conflicts: Mapping[str, Mapping] | None = None,
) -> list[Finding]:
    """Everything a careful rapporteur would chase before closing, in agenda order.

    ``roster_codes``: the region's delegations, to report the ones whose attendance was never
    recorded (None skips that rule).  ``conflicts``: the entries' unresolved conflicts.
    """
    accepted = set(snap.session.accepted_gaps)
    found: list[Finding] = []

    def add(rule: str, kind: str, record_id: str, message: str) -> None:
        code = f"{rule}:{record_id}"
        found.append(Finding(code, rule, message, kind, record_id, code in accepted))

    if not snap.session.attendance_confirmed:
        add("attendance", "session", snap.session.id, "Attendance has not been confirmed")
    if roster_codes is not None:
        recorded = {a.country for a in snap.attendance if a.status != "unknown"}
        missing = [c for c in roster_codes if c not in recorded]
        if missing:
            add(
                "attendance-unknown",
                "session",
                snap.session.id,
                f"{len(missing)} delegations have no attendance recorded",
            )
    order = {item.id: n for n, item in enumerate(snap.agenda)}
    entries = sorted(
        snap.entries, key=lambda e: (order.get(e.agenda_item, len(order)), e.created_at, e.id)
    )
    for e in entries:
        if e.entry_kind == "action" and e.status != "dropped":
            if not e.owner:
                add("action-owner", "entry", e.id, f"Action without an owner: {_short(e.text)}")
            if not e.due:
                add("action-due", "entry", e.id, f"Action without a due date: {_short(e.text)}")
        if e.entry_kind == "need":
            if not e.delegations:
                add(
                    "need-delegation", "entry", e.id, f"Need without a delegation: {_short(e.text)}"
                )
            if not e.priority:
                add("need-priority", "entry", e.id, f"Need without a priority: {_short(e.text)}")
    _attributed_not_present(snap, entries, add)
    used = {e.agenda_item for e in snap.entries}
    for item in snap.agenda:
        if item.id not in used and item.item_kind not in ("opening", "close", "tour"):
            add("agenda-empty", "agenda_item", item.id, f"Nothing captured under: {item.title}")
    return found + conflict_findings(snap, conflicts or {})


def _attributed_not_present(snap: SessionSnapshot, entries, add) -> None:
    """Entries naming a delegation marked absent, apologies or never recorded (confirmed
    observers excepted): one finding per delegation; the fix marks it present."""
    status = {a.country: a.status for a in snap.attendance}
    observers = set(snap.session.observers)
    named: dict[str, int] = {}
    for e in entries:
        for code in e.delegations:
            if code not in observers and status.get(code, "unknown") != "present":
                named[code] = named.get(code, 0) + 1
    for code in sorted(named, key=lambda c: snap.countries.get(c, c)):
        name = snap.countries.get(code, code)
        state = ATTENDANCE_WORDS.get(status.get(code, "unknown"), "has no attendance recorded")
        lines = "1 line names it" if named[code] == 1 else f"{named[code]} lines name it"
        add(
            "attributed-not-present",
            "attendance",
            code,
            f"{name} {state} but {lines}: Enter marks it present, space accepts",
        )


def open_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if not f.accepted]


def may_close(findings: list[Finding]) -> bool:
    """Whether the session may be closed, accepting what is still open: not while a blocking
    finding (an unresolved conflict) remains."""
    return not any(f.rule in BLOCKING for f in findings)
