"""What the room's projector shows, computed from a session's records.  Pure: no Textual, no I/O.

The projector (``roundtable projector``, ``roundtable.screens.projector``) is a second, read-only
window following the session the facilitator runs in the app.  It shows procedural facts only:
the agenda, the item's time box, who has the floor and for how long, who is listed, the tour's
progress, and a message the facilitator put up (``Session.projected``, labelled TLP:CLEAR by
construction).  It never shows a captured entry or the content of a speech, whatever the
session's label: this module never reads an entry, so nothing it returns can hold one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from roundtable import meeting
from roundtable.model import AgendaItem, ClockEvent, Event, Session, Speaker, Speech

NEXT_SHOWN = 8
"""How many of the list of speakers the projector shows after the one with the floor."""
WARNING_SHARE = 0.2
WARNING_CAP_SECONDS = 30
PROJECT_MAX = 200
"""The longest message the facilitator may put up (characters): a decision or a short notice."""


def warning_seconds(total: float, percent: int = 0, cap: int = 0) -> float:
    """The warning threshold of a countdown of ``total`` seconds, the same for every countdown
    (item time boxes, speaking times): the last ``percent`` % (default 20) or ``cap`` seconds
    (default 30), whichever is shorter; the plan may set both (``warning_percent``,
    ``warning_seconds``, copied to the session)."""
    share = (percent or WARNING_SHARE * 100) / 100
    return min(total * share, cap or WARNING_CAP_SECONDS) if total > 0 else 0


def time_state(left: int | None, total: int, percent: int = 0, cap: int = 0) -> str:
    """``ok``, ``warning`` (within the threshold) or ``over`` (past zero); ``ok`` without a
    limit."""
    if left is None or total <= 0:
        return "ok"
    if left < 0:
        return "over"
    if left <= warning_seconds(total, percent, cap):
        return "warning"
    return "ok"


def countdown_text(left: int) -> str:
    """``m:ss`` left, ``-m:ss`` past it (the digits a Digits widget can draw)."""
    sign = "-" if left < 0 else ""
    left = abs(left)
    return f"{sign}{left // 60}:{left % 60:02d}"


def check_projectable(text: str, tlp: str = "clear") -> str:
    """The message to put up, cleaned; ValueError (one line) when it may not be projected:
    a character the capture grammar refuses (control characters, bidirectional controls:
    issue 19), empty, too long, or labelled above TLP:CLEAR."""
    from roundtable.capture import bad_character
    from roundtable.text import bidi_control

    bad = bad_character(text.replace("\t", " ")) or bidi_control(text)
    if bad:
        raise ValueError(f"character {bad[0] + 1}: {bad[1]}")
    label = (tlp or "").strip().lower()
    if label != "clear":
        raise ValueError(f"only TLP:CLEAR may be projected; this is TLP:{label.upper() or 'AMBER'}")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ValueError(
            "nothing to project: give the text, e.g. /project Coffee break until 11:00"
        )
    if len(cleaned) > PROJECT_MAX:
        raise ValueError(f"a projected message is at most {PROJECT_MAX} characters")
    return cleaned


@dataclass(frozen=True)
class ListedSpeaker:
    """One delegation waiting on the list of speakers, as projected."""

    name: str
    mark: str = ""  # "point of order", "reply" or ""


@dataclass(frozen=True)
class AgendaLine:
    number: int
    title: str
    minutes: int
    current: bool
    done: bool


@dataclass(frozen=True)
class ProjectorView:
    """Everything the projector screen draws; built by ``build_view``."""

    event: str
    region: str
    title: str
    status: str  # the session's status: "planned", "open", "closed", ...
    item_number: int = 0  # 0 = no item
    item_title: str = ""
    item_total: int = 0  # the time box, seconds
    item_left: int = 0
    item_state: str = "ok"  # time_state
    item_clock: str = "idle"  # meeting.clock_state
    between_items: bool = True
    floor_name: str = ""
    floor_mode: str = ""  # "queue" or "tour"
    floor_total: int = 0  # its limit, 0 = none
    floor_left: int | None = None
    floor_elapsed: int = 0
    floor_state: str = "ok"
    floor_mark: str = ""
    next_speakers: tuple[ListedSpeaker, ...] = ()
    more_listed: int = 0
    tour: tuple[tuple[str, str], ...] = ()  # (name, mark: speaking|heard|passed|skipped|"")
    tour_done: int = 0
    agenda: tuple[AgendaLine, ...] = ()
    projected: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    @property
    def item_countdown(self) -> str:
        return countdown_text(self.item_left)

    @property
    def floor_countdown(self) -> str:
        if self.floor_left is None:
            return countdown_text(self.floor_elapsed).lstrip("-")
        return countdown_text(self.floor_left)


def _mark(speaker: Speaker | None) -> str:
    if speaker is None:
        return ""
    if speaker.point_of_order:
        return "point of order"
    if speaker.reply:
        return "reply"
    return ""


def build_view(
    *,
    event: Event,
    session: Session,
    agenda: Sequence[AgendaItem],
    clock_events: Sequence[ClockEvent],
    speeches: Iterable[Speech],
    speakers: Sequence[Speaker],
    names: Mapping[str, str],
    now_ms: int,
    region_name: str = "",
) -> ProjectorView:
    """The projector's view of a session at ``now_ms``."""
    speeches = list(speeches)
    items = sorted((a for a in agenda if not a.deleted), key=lambda a: (a.position, a.id))

    def name(code: str) -> str:
        return names.get(code, code)

    current_id = session.current_item or (items[0].id if items else "")
    current = next((a for a in items if a.id == current_id), None)
    base: dict[str, Any] = {
        "event": event.name,
        "region": region_name or session.region,
        "title": session.title,
        "status": session.status,
    }
    lines = tuple(
        AgendaLine(
            n,
            a.title,
            a.minutes,
            a.id == current_id,
            meeting.clock_state(clock_events, a.id) == "stopped",
        )
        for n, a in enumerate(items, 1)
    )
    if current is None:
        return ProjectorView(**base, agenda=lines, projected=session.projected)
    state = meeting.clock_state(clock_events, current.id)
    total = current.minutes * 60
    left = total - int(meeting.elapsed(clock_events, current.id, now_ms))
    view: dict[str, Any] = dict(
        base,
        item_number=items.index(current) + 1,
        item_title=current.title,
        item_total=total,
        item_left=left,
        item_state=time_state(left, total, session.warning_percent, session.warning_seconds),
        item_clock=state,
        between_items=state in ("idle", "stopped") or not session.current_item,
        agenda=lines,
        projected=session.projected,
    )
    by_id = {s.id: s for s in speakers}
    speech = meeting.floor_speech(session.floor, speeches)
    if speech is not None:
        speaker = by_id.get(speech.speaker)
        limit = speaker.limit_seconds if speaker is not None else 0
        left_floor = meeting.remaining_seconds(speech, limit, now_ms)
        view.update(
            floor_name=name(speech.country),
            floor_mode=speech.mode,
            floor_total=limit,
            floor_left=left_floor,
            floor_elapsed=meeting.speech_seconds(speech, now_ms),
            floor_state=time_state(
                left_floor, limit, session.warning_percent, session.warning_seconds
            ),
            floor_mark=_mark(speaker),
        )
    heard = meeting.heard_on(speeches, current.id)
    queue = meeting.waiting(speakers, current.id, balanced=session.balanced_order, heard=heard)
    view["next_speakers"] = tuple(
        ListedSpeaker(name(s.country), _mark(s)) for s in queue[:NEXT_SHOWN]
    )
    view["more_listed"] = max(0, len(queue) - NEXT_SHOWN)
    tour = meeting.tour_lines(speakers, current.id)
    view["tour"] = tuple((name(t.speaker.country), t.mark) for t in tour)
    view["tour_done"] = sum(1 for t in tour if t.mark in ("heard", "passed", "skipped"))
    return ProjectorView(**view)
