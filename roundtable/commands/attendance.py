"""Attendance commands (issue 21): the roll call's statuses and delegates, "mark the rest
absent", and observers from other regions.  Pure: state in, changes out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from roundtable.commands.core import Change, Changes, CommandError, SessionState, check_open
from roundtable.model import ATTENDANCE_STATUSES, Attendance, stable_id
from roundtable.procedure import rest_absent

__all__ = ["add_observer", "attendance_id", "mark_rest_absent", "set_attendance"]


def attendance_id(state: SessionState, country: str) -> str:
    """A delegation's attendance record: one per session and country, whoever takes the roll."""
    return stable_id(state.session_id, country)


def set_attendance(
    state: SessionState,
    country: str,
    status: str | None = None,
    delegates: Sequence[str] | None = None,
) -> Changes:
    """A delegation's status on the roll call and/or its delegates (None: left as they are);
    only what differs is written, a deleted record comes back."""
    if status is not None and status not in ATTENDANCE_STATUSES:
        raise CommandError(f"unknown attendance status {status!r}")
    record_id = attendance_id(state, country)
    current = state.get(Attendance, record_id)
    fields: dict[str, Any] = {}
    if current is None or current.deleted:
        fields = {"session_id": state.session_id, "country": country, "deleted": False}
        if current is None:
            fields.pop("deleted")
    if status is not None and (current is None or current.status != status):
        fields["status"] = status
    if delegates is not None and (current is None or current.delegates != list(delegates)):
        fields["delegates"] = list(delegates)
    if not fields:
        return Changes(f"attendance {country}", created=record_id)
    return Changes(
        f"attendance {country}", (Change("attendance", record_id, fields),), created=record_id
    )


def mark_rest_absent(state: SessionState, members: Sequence[str]) -> Changes:
    """The roll call's "mark the rest absent" (issue 26): every member delegation not yet
    recorded is marked absent, in one change (one ctrl+z).  ``value``: the codes marked."""
    check_open(state)
    codes = rest_absent(state.records(Attendance), members)
    changes = []
    for code in codes:
        record_id = attendance_id(state, code)
        current = state.get(Attendance, record_id)
        fields: dict[str, Any] = {"status": "absent"}
        if current is None or current.deleted:
            fields |= {"session_id": state.session_id, "country": code}
            if current is not None:
                fields["deleted"] = False
        changes.append(Change("attendance", record_id, fields))
    return Changes(f"mark the rest absent ({len(codes)})", tuple(changes), value=codes)


def add_observer(state: SessionState, country: str) -> Changes:
    """Confirm a delegation from another region as an observer of this session."""
    observers = list(state.record.observers)
    if country in observers:
        return Changes("edit session observers")
    change = Change("session", state.session_id, {"observers": [*observers, country]})
    return Changes("edit session observers", (change,))
