"""Tour de table (every present delegation in turn, equal budget) and the speaker queue."""

from __future__ import annotations

import datetime as dt

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from roundtable.screens.common import StatusLine
from widgets import KeyBar, SpeakerQueue, TourDeTable

DEFAULT_BUDGET = 120


class TourScreen(Screen):
    """Speeches are recorded as they end: who, when, how long, passed or not."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="tour.back", tooltip="Back to the agenda"),
        Binding(
            "ctrl+r",
            "rotate",
            "Rotate start",
            id="tour.rotate",
            priority=True,
            tooltip="Start the alphabetical order one delegation later",
        ),
        Binding(
            "plus",
            "queue_focus",
            "Add to queue",
            id="tour.queue",
            tooltip="Add a delegation to the speaker queue",
        ),
        Binding(
            "ctrl+e",
            "queue_next",
            "Next speaker",
            id="tour.queue_next",
            priority=True,
            tooltip="Give the floor to the next delegation in the queue",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rotation = 0

    @property
    def store(self):
        return self.app.session_store

    def _present(self) -> list[str]:
        roster = self.app.roster
        codes = [a.country for a in self.store.records("attendance") if a.status == "present"]
        return sorted(codes, key=lambda c: roster[c].name if c in roster else c)

    def _budget(self) -> int:
        import sessions as plans

        try:
            return plans.plan_for_region(self.store.session.region).tour_seconds
        except plans.PlanError:  # a region without a built-in plan
            return DEFAULT_BUDGET

    def compose(self) -> ComposeResult:
        names = self.app.country_names()
        heard = {s.country for s in self.store.records("speech") if s.mode == "tour"}
        yield StatusLine()
        with Horizontal(id="tour-body"):
            with Vertical(id="tour-left"):
                yield Static("Tour de table", classes="screen-title")
                yield TourDeTable(
                    self._present(),
                    budget=self._budget(),
                    names=names,
                    heard=heard,
                    clock=self.app.clock,
                    id="tour",
                )
            with Vertical(id="tour-right"):
                yield Static("Speaker queue", classes="screen-title")
                yield Input(placeholder="Add to queue: ISO code or name, Enter", id="queue-add")
                yield SpeakerQueue(names=names, clock=self.app.clock, id="queue")
        yield KeyBar()

    def on_mount(self) -> None:
        if not self._present():
            self.notify(
                "No delegation is marked present: take the roll call first (a on the agenda).",
                severity="warning",
            )
        self.query_one(TourDeTable).focus()

    def _now_iso(self) -> str:
        return dt.datetime.fromtimestamp(self.app.clock(), dt.UTC).isoformat()

    def _record(self, code: str, seconds: int, mode: str, passed: bool = False) -> None:
        started = dt.datetime.fromtimestamp(self.app.clock() - seconds, dt.UTC).isoformat()
        self.store.add_speech(
            code,
            mode,
            int(seconds),
            started,
            agenda_item=self.store.session.current_item,
            passed=passed,
        )

    @on(TourDeTable.SpeechFinished)
    def _tour_speech(self, event: TourDeTable.SpeechFinished) -> None:
        self._record(event.code, event.seconds, "tour", event.passed)
        self.app.session_changed()

    @on(SpeakerQueue.SpeechFinished)
    def _queue_speech(self, event: SpeakerQueue.SpeechFinished) -> None:
        self._record(event.code, event.seconds, "queue")
        self.app.session_changed()

    @on(Input.Submitted, "#queue-add")
    def _queue_add(self, event: Input.Submitted) -> None:
        from sessions import find_country

        text = event.value.strip().lstrip("@")
        if not text:
            return
        country = find_country(text)
        if country is None:
            self.notify(
                f"Unknown delegation {text!r}: use an ISO code or a name.", severity="error"
            )
            return
        queue = self.query_one(SpeakerQueue)
        if not queue.add(country.code):
            self.notify(f"{country.name} is already in the queue.", severity="warning")
        event.input.value = ""

    def action_queue_focus(self) -> None:
        self.query_one("#queue-add", Input).focus()

    def action_queue_next(self) -> None:
        self.query_one(SpeakerQueue).next()

    def action_rotate(self) -> None:
        self.rotation += 1
        self.query_one(TourDeTable).rotate(self.rotation)

    def action_back(self) -> None:
        tour = self.query_one(TourDeTable)
        queue = self.query_one(SpeakerQueue)
        ended = tour.finish_current(post=False)
        if ended:
            self._record(*ended, "tour")
        ended = queue.finish_current(post=False)
        if ended:
            self._record(*ended, "queue")
        self.app.pop_screen()
        self.app.session_changed()

    def palette_commands(self):
        yield (
            "tour: rotate start",
            "Alphabetical order from the next delegation",
            self.action_rotate,
        )
        yield (
            "queue: add delegation",
            "Add a delegation to the speaker queue",
            self.action_queue_focus,
        )
        yield (
            "queue: next speaker",
            "Give the floor to the next in the queue",
            self.action_queue_next,
        )
