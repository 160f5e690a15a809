"""Reviews of an earlier conference's actions (issue 21, issue 12): pure, state in, changes
out.  The action stays in its own event's session; this session records a review naming it,
one per action and session (a second review changes the same record)."""

from __future__ import annotations

from roundtable.actions import CarriedAction
from roundtable.commands.core import (
    Change,
    Changes,
    CommandError,
    SessionState,
    check_open,
    creation,
    current_item_id,
)
from roundtable.model import REVIEW_STATUSES, ActionReview, effective_tlp, stable_id

__all__ = ["review_action", "review_id"]


def review_id(state: SessionState, action_id: str) -> str:
    """This session's review of an action: one record, whoever marks it."""
    return stable_id(state.session_id, "action_review", action_id)


def review_action(
    state: SessionState,
    action: CarriedAction,
    status: str,
    note: str = "",
    agenda_item: str | None = None,
) -> Changes:
    """Mark an earlier conference's action done, in progress, dropped or carried, with a
    note; marking it again in this session writes what differs on the same review.
    ``created``: the review's id."""
    label = effective_tlp(action.tlp)
    if label == "red":  # never carried (``actions.carried_actions``): never reviewed either
        raise CommandError(f"action {action.id[:8]} is TLP:RED: it stays in its own room")
    if status not in REVIEW_STATUSES:
        raise CommandError(
            f"unknown review status {status!r} (one of {', '.join(REVIEW_STATUSES)})"
        )
    if action.session_id == state.session_id or action.event_id == state.event_id:
        raise CommandError(
            f"action {action.id[:8]} belongs to this event: edit it in the entry list"
        )
    check_open(state)
    rid = review_id(state, action.id)
    current = state.get(ActionReview, rid)
    review = ActionReview(
        id=rid,
        session_id=state.session_id,
        action=action.id,
        action_event=action.event_id,
        action_session=action.session_id,
        status=status,
        note=" ".join(note.split()),
        agenda_item=current_item_id(state) if agenda_item is None else agenda_item,
        reviewed_at=state.now,
        text=action.text,
        owner=action.owner,
        due=action.due,
        origin=action.event_name,
        origin_date=action.date,
        tlp=label,  # its copy of the action's text is as sensitive as the action (issue 14)
    )
    change = creation(review)
    if current is not None:
        old = current.to_fields()
        fields = {k: v for k, v in review.to_fields().items() if old.get(k) != v}
        change = Change(change.kind, rid, fields)
    label_ = f"review action {action.id[:8]} {status}"
    return Changes(label_, (change,) if change.fields else (), created=rid)
