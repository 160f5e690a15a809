"""The meeting's running state, computed from records.  Pure: no Textual, no I/O.

Item clocks, the list of speakers, the tour de table and the floor are records in the session's
journal (``model.ClockEvent``, ``model.Speaker``, ``model.Speech``, ``Session.floor`` and
``Session.current_item``), so they survive a restart and travel with sync.  This module turns
those records into what a facilitator reads: how long an item has run, who speaks next, who
has not been heard.  The store writes the records (``SessionStore``'s block "the meeting's
running state"); screens only show the results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from roundtable.model import AgendaItem, ClockEvent, Speaker, Speech

RUNNING_ACTIONS = frozenset({"start", "resume"})
"""Actions after which an item's clock counts; ``pause`` and ``stop`` end a running interval."""


def iso_ms(text: str) -> int | None:
    """Milliseconds since the epoch of an ISO datetime (naive = UTC); None when unreadable."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def ms_iso(ms: int) -> str:
    """The ISO datetime (UTC) of a wall time in milliseconds."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()


# ---------------------------------------------------------------------------------------------
# Item clocks
# ---------------------------------------------------------------------------------------------


def _events_of(events: Iterable[ClockEvent], item: str | None = None) -> list[ClockEvent]:
    chosen = [e for e in events if not e.deleted and (item is None or e.agenda_item == item)]
    chosen.sort(key=lambda e: (e.at, e.id))
    return chosen


def clock_state(events: Iterable[ClockEvent], item: str) -> str:
    """``idle`` (never started), ``running``, ``paused`` or ``stopped``."""
    state = "idle"
    for e in _events_of(events, item):
        if e.action in RUNNING_ACTIONS:
            state = "running"
        elif e.action == "pause":
            state = "paused" if state == "running" else state
        elif e.action == "stop":
            state = "stopped"
    return state


def intervals(events: Iterable[ClockEvent], item: str, now_ms: int) -> list[tuple[int, int]]:
    """The ``(start, end)`` intervals, in ms, during which the item's clock ran; a running
    clock's last interval ends at ``now_ms``.  A start while running is no new interval; a
    pause or stop while not running changes nothing."""
    spans: list[tuple[int, int]] = []
    since: int | None = None
    for e in _events_of(events, item):
        if e.action in RUNNING_ACTIONS:
            if since is None:
                since = e.at
        elif since is not None:  # pause or stop
            spans.append((since, max(e.at, since)))
            since = None
    if since is not None:
        spans.append((since, max(now_ms, since)))
    return spans


def elapsed(events: Iterable[ClockEvent], item: str, now_ms: int) -> float:
    """Seconds the item's clock has run: the sum of its running intervals up to ``now_ms``."""
    return sum(end - start for start, end in intervals(events, item, now_ms)) / 1000


def actual_seconds(events: Iterable[ClockEvent], item: str, now_ms: int) -> int:
    """Whole seconds an item took (for the minutes: planned vs actual)."""
    return int(elapsed(events, item, now_ms))


def running_items(events: Iterable[ClockEvent]) -> list[str]:
    """Items whose clock is running (one at most when written through ``clock_changes``; two
    laptops may each start one before they sync, so this can list more)."""
    items = dict.fromkeys(e.agenda_item for e in _events_of(events))
    return [i for i in items if clock_state(events, i) == "running"]


def clock_changes(events: Sequence[ClockEvent], item: str, action: str) -> list[tuple[str, str]]:
    """The ``(item, action)`` events to write so that ``action`` happens on ``item`` and exactly
    one item clock runs at a time: starting or resuming an item stops every other running
    clock.  ``stop`` with an empty ``item`` stops every running clock (closing the session).
    An action that would change nothing (pausing a paused clock) writes nothing."""
    running = running_items(events)
    if action == "stop" and not item:
        return [(i, "stop") for i in running]
    state = clock_state(events, item)
    changes: list[tuple[str, str]] = []
    if action in RUNNING_ACTIONS:
        changes += [(i, "stop") for i in running if i != item]
        if state != "running":
            changes.append((item, "start" if state in ("idle", "stopped") else "resume"))
    elif action == "pause":
        if state == "running":
            changes.append((item, "pause"))
    elif action == "stop":
        if state in ("running", "paused"):
            changes.append((item, "stop"))
    else:
        raise ValueError(f"unknown clock action {action!r}")
    return changes


@dataclass(frozen=True)
class ItemTime:
    """Planned and actual time of one agenda item."""

    item_id: str
    title: str
    planned_seconds: int
    actual_seconds: int
    state: str  # clock_state

    @property
    def over_seconds(self) -> int:
        return self.actual_seconds - self.planned_seconds


def planned_vs_actual(
    agenda: Iterable[AgendaItem], events: Sequence[ClockEvent], now_ms: int
) -> list[ItemTime]:
    """Each item's time box beside the time its clock actually ran, in agenda order."""
    return [
        ItemTime(
            item.id,
            item.title,
            item.minutes * 60,
            actual_seconds(events, item.id, now_ms),
            clock_state(events, item.id),
        )
        for item in agenda
    ]


# ---------------------------------------------------------------------------------------------
# The list of speakers, the tour de table and the floor
# ---------------------------------------------------------------------------------------------

ORDER_STEP = 1024
"""Gap between order keys, so a move or a point of order rarely renumbers the list."""


def speakers_of(speakers: Iterable[Speaker], item: str, mode: str) -> list[Speaker]:
    """An item's speakers of one list (``queue`` or ``tour``), removed ones left out, in their
    stored order."""
    chosen = [
        s
        for s in speakers
        if not s.deleted and s.agenda_item == item and s.mode == mode and s.status != "removed"
    ]
    chosen.sort(key=lambda s: (s.order, s.id))
    return chosen


def heard_on(speeches: Iterable[Speech], item: str) -> set[str]:
    """Delegations that took the floor on ``item`` (passing is not being heard)."""
    return {s.country for s in speeches if not s.deleted and s.agenda_item == item and not s.passed}


def waiting(
    speakers: Iterable[Speaker],
    item: str,
    *,
    mode: str = "queue",
    balanced: bool = False,
    heard: Iterable[str] = (),
) -> list[Speaker]:
    """Who waits for the floor on ``item``, in speaking order: points of order first, then
    rights of reply (right after the current speaker, issue 26); with ``balanced``, then
    delegations not yet ``heard`` on this item; then the stored order."""
    heard_set = set(heard)
    rows = [s for s in speakers_of(speakers, item, mode) if s.status == "waiting"]

    def key(s: Speaker) -> tuple[int, int, int, str]:
        return (
            0 if s.point_of_order else 1 if getattr(s, "reply", False) else 2,
            1 if balanced and s.country in heard_set else 0,
            s.order,
            s.id,
        )

    return sorted(rows, key=key)


def order_after(speakers: Iterable[Speaker]) -> int:
    """An order key after every given speaker's."""
    return max((s.order for s in speakers), default=0) + ORDER_STEP


def order_before(speakers: Iterable[Speaker]) -> int:
    """An order key before every given speaker's."""
    return min((s.order for s in speakers), default=0) - ORDER_STEP


def swap_orders(rows: Sequence[Speaker], speaker_id: str, step: int) -> list[tuple[str, int]]:
    """The ``(speaker id, order)`` writes that move one waiting speaker ``step`` (-1 up, +1
    down) in ``rows`` (the list as shown); nothing when it is already at that end."""
    index = next((n for n, s in enumerate(rows) if s.id == speaker_id), None)
    if index is None:
        return []
    target = index + step
    if not 0 <= target < len(rows):
        return []
    a, b = rows[index], rows[target]
    if a.order == b.order:  # equal keys (two laptops): make them differ
        return [(a.id, b.order + step), (b.id, a.order)]
    return [(a.id, b.order), (b.id, a.order)]


@dataclass(frozen=True)
class DelegationTime:
    """How often and how long a delegation spoke in the session so far."""

    interventions: int = 0
    seconds: int = 0


def speech_seconds(speech: Speech, now_ms: int) -> int:
    """Length of a speech: its recorded seconds once ended, else the time since it started."""
    if speech.ended_at or speech.passed:
        return speech.seconds
    started = iso_ms(speech.started_at)
    return max(0, (now_ms - started) // 1000) if started is not None else speech.seconds


def delegation_times(
    speeches: Iterable[Speech], now_ms: int, floor: str = ""
) -> dict[str, DelegationTime]:
    """Interventions (passes not counted) and total speaking time per delegation; the speech
    named by ``floor`` (in progress) counts up to ``now_ms``, the others their seconds."""
    totals: dict[str, DelegationTime] = {}
    for s in speeches:
        if s.deleted or s.passed:
            continue
        seconds = speech_seconds(s, now_ms) if s.id == floor else s.seconds
        t = totals.get(s.country, DelegationTime())
        totals[s.country] = DelegationTime(t.interventions + 1, t.seconds + seconds)
    return totals


def floor_speech(floor: str, speeches: Iterable[Speech]) -> Speech | None:
    """The speech in progress named by ``Session.floor`` (None once it ended or was undone)."""
    if not floor:
        return None
    for s in speeches:
        if s.id == floor and not s.deleted and not s.ended_at:
            return s
    return None


def remaining_seconds(speech: Speech, limit_seconds: int, now_ms: int) -> int | None:
    """Seconds left of a speaking-time limit (negative past it); None without a limit."""
    if limit_seconds <= 0:
        return None
    return limit_seconds - speech_seconds(speech, now_ms)


@dataclass(frozen=True)
class TourLine:
    """One delegation of a tour de table as the tour screen lists it."""

    speaker: Speaker
    mark: str  # "speaking", "heard", "passed", "skipped", "skipped once" or "" (waiting)


def tour_lines(speakers: Iterable[Speaker], item: str) -> list[TourLine]:
    """The tour de table of ``item`` in its order (a skipped delegation has moved to the end)."""
    lines = []
    for s in speakers_of(speakers, item, "tour"):
        if s.status == "speaking":
            mark = "speaking"
        elif s.status == "done":
            mark = "heard"
        elif s.status in ("passed", "skipped"):
            mark = s.status
        else:
            mark = "skipped once" if s.skips else ""
        lines.append(TourLine(s, mark))
    return lines


def not_yet_heard(speakers: Iterable[Speaker], item: str) -> list[Speaker]:
    """Tour delegations still waiting for the floor, in speaking order."""
    return [s for s in speakers_of(speakers, item, "tour") if s.status == "waiting"]
