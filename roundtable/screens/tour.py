"""Tour de table (every present delegation in turn, equal budget) and the item's list of
speakers.  Both are session records and share one floor: leaving this screen ends no turn and
empties no list; everything survives a restart and travels with sync."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from roundtable import commands
from roundtable.model import AgendaItem, Speaker
from roundtable.screens.common import (
    UNDO,
    PromptModal,
    SessionScreen,
    StatusLine,
    follow_session,
)
from widgets import CaptureBar, KeyBar, SpeakerQueue, TourDeTable
from widgets.speaker_queue import WaitingSpeaker
from widgets.tour import FloorView

DEFAULT_BUDGET = 120


class TourScreen(SessionScreen):
    """Speeches are records with a start and an end; the floor is the session's."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="tour.back", tooltip="Back to the agenda"),
        Binding(
            "ctrl+r",
            "rotate",
            "Rotate start",
            id="tour.rotate",
            priority=True,
            tooltip="Start the tour one delegation later (before anyone spoke)",
        ),
        Binding(
            "plus",
            "queue_focus",
            "Add speaker",
            id="tour.queue",
            tooltip="Add a delegation to the list of speakers",
        ),
        Binding(
            "o",
            "point_of_order",
            "Point of order",
            id="tour.point_of_order",
            tooltip="Add a delegation at the top of the list, marked",
        ),
        Binding(
            "ctrl+e",
            "queue_next",
            "Next speaker",
            id="tour.queue_next",
            priority=True,
            tooltip="Give the floor to the next on the list (ends the current turn)",
        ),
        Binding(
            "ctrl+x",
            "end_turn",
            "End turn",
            id="tour.end_turn",
            priority=True,
            tooltip="End the current turn; nobody has the floor",
        ),
        Binding(
            "b",
            "balanced",
            "Balanced",
            id="tour.balanced",
            tooltip="Delegations not yet heard on this item first",
        ),
        Binding("c", "focus_capture", "Capture", id="tour.capture", tooltip="Type a note"),
        Binding(
            "ctrl+z",
            "undo_last",
            "Undo",
            id="tour.undo",
            priority=True,
            tooltip="Undo the last change (a speaker removed or moved, a pass, a skip)",
        ),
        Binding(
            "ctrl+o",
            "confirm_observer",
            "Observer",
            show=False,
            priority=True,
            id="tour.observer",
            tooltip="Confirm the other region's delegation in the capture line as an observer",
        ),
    ]

    def _present(self) -> list[str]:
        roster = self.app.roster
        codes = [a.country for a in self.store.records("attendance") if a.status == "present"]
        return sorted(codes, key=lambda c: roster[c].name if c in roster else c)

    def _list_time(self) -> int:
        """The list of speakers' time limit: the session's (issue 26), else the tour's."""
        return self.store.session.speaking_seconds or self._budget()

    def action_speaking_time(self) -> None:
        """Change the list-wide speaking time: new speakers and everyone waiting."""
        from roundtable.screens.common import PromptModal
        from roundtable.store import StoreError

        def done(value: str | None) -> None:
            if value is None:
                return
            text = value.strip().lower().removesuffix("s").strip()
            try:
                minutes, _, seconds = text.rpartition(":")
                total = int(minutes or 0) * 60 + int(seconds)
                changed = self.store.perform(commands.set_speaking_time, total).value
            except ValueError:
                self.notify(f"Speaking time: give seconds or m:ss, not {value[:20]!r}",
                            severity="error")  # fmt: skip
                return
            except StoreError as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify(f"Speaking time {total} s for the list ({changed} waiting changed)")
            self.app.session_changed()

        self.app.push_screen(
            PromptModal("Speaking time for the list (seconds or m:ss)", str(self._list_time())),
            done,
        )

    def _budget(self) -> int:
        import sessions as plans

        try:
            return plans.plan_for_region(self.store.session.region).tour_seconds
        except (plans.PlanError, ValueError):  # a region without a built-in plan
            return DEFAULT_BUDGET

    def compose(self) -> ComposeResult:
        names = self.app.country_names()
        yield StatusLine()
        with Horizontal(id="tour-body"):
            with Vertical(id="tour-left"):
                yield Static("Tour de table", classes="screen-title", id="tour-title")
                yield TourDeTable(
                    names=names, budget=self._budget(), clock=self.app.clock, id="tour"
                )
            with Vertical(id="tour-right"):
                yield Static("List of speakers", classes="screen-title", id="queue-title")
                yield Input(
                    placeholder="Add: ISO code or name (!XX = point of order), Enter",
                    id="queue-add",
                )
                yield SpeakerQueue(names=names, clock=self.app.clock, id="queue")
        yield CaptureBar(
            parse=self.parse_capture,
            context=self.capture_context,
            placeholder="A note on what the delegation with the floor says · Enter saves",
            id="capture",
        )
        yield KeyBar()

    def on_mount(self) -> None:
        if not self._present():
            self.notify(
                "No delegation is marked present: take the roll call first (a on the agenda).",
                severity="warning",
            )
        self.refresh_view()
        follow_session(self, self._session_changed)
        self.query_one(TourDeTable).focus()

    def _session_changed(self, _keys: object) -> None:
        self.refresh_view()

    # -- state, from the records ---------------------------------------------------------------

    def refresh_view(self) -> None:
        from roundtable import meeting

        store = self.store
        item_id = store.current_item_id()
        item = store.get("agenda_item", item_id) if item_id else None
        where = f" — item {item.position + 1}. {item.title}" if isinstance(item, AgendaItem) else ""
        self.query_one("#tour-title", Static).update(f"Tour de table{where}")
        self.query_one("#queue-title", Static).update(f"List of speakers{where}")
        speakers = store.records("speaker")
        speech = store.floor()
        speaker = store.floor_speaker()
        floor = None
        if speech is not None:
            started = (meeting.iso_ms(speech.started_at) or 0) / 1000
            limit = speaker.limit_seconds if speaker is not None else 0
            floor = FloorView(speech.country, started, limit, speech.mode)
        lines = [
            (line.speaker.country, line.mark) for line in meeting.tour_lines(speakers, item_id)
        ]
        tour_floor = floor if floor is not None and floor.mode == "tour" else None
        self.query_one(TourDeTable).show(lines, tour_floor, self._present())
        now_ms = int(self.app.clock() * 1000)
        said = meeting.delegation_times(store.speeches(), now_ms, store.session.floor)
        waiting = [
            WaitingSpeaker(
                s.id,
                s.country,
                s.point_of_order,
                s.limit_seconds,
                said.get(s.country, meeting.DelegationTime()).interventions,
                said.get(s.country, meeting.DelegationTime()).seconds,
                s.reply,
            )
            for s in store.waiting_speakers(item_id)
        ]
        self.query_one(SpeakerQueue).show(waiting, floor, store.session.balanced_order)

    def _act(self, what, *args) -> None:
        """Run a store action; its one-line error is a notification, never a traceback."""
        from roundtable.store import StoreError

        try:
            what(*args)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=8)

    def _do(self, command, *args, **kwargs) -> None:
        """Perform a command (``roundtable.commands``) on the session; its one-line refusal
        is a notification."""
        self._act(lambda: self.store.perform(command, *args, **kwargs))

    # -- the tour ----------------------------------------------------------------------------

    def _ensure_tour(self) -> None:
        """The tour of this item starts with the delegations present; one marked present later
        joins at the end."""
        if not self.store.session_closed:
            self.store.perform(commands.tour_start, self._present(), self._budget())

    def _tour(self, step: str) -> None:
        """A tour key: next, or a pass or a skip and then the next delegation (two changes,
        as ``commands.tour_pass`` says)."""
        command = {"next": commands.tour_next, "pass": commands.tour_pass,
                   "skip": commands.tour_skip}[step]  # fmt: skip

        def act() -> None:
            self._ensure_tour()
            item = self.store.current_item_id()
            changes = self.store.perform(command, item)
            if step != "next" and changes:
                self.store.perform(commands.tour_next, item)

        self._act(act)

    @on(TourDeTable.Next)
    def _tour_next(self) -> None:
        self._tour("next")

    @on(TourDeTable.Pass)
    def _tour_pass(self) -> None:
        self._tour("pass")

    @on(TourDeTable.Skip)
    def _tour_skip(self) -> None:
        self._tour("skip")

    def action_rotate(self) -> None:
        def rotate() -> None:
            self._ensure_tour()
            if not self.store.perform(commands.tour_rotate):
                self.notify("The tour has started: its order only changes by skipping.")

        self._act(rotate)

    # -- the list of speakers ----------------------------------------------------------------

    @on(Input.Submitted, "#queue-add")
    def _queue_add(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        point_of_order = text.startswith("!")
        reply = text.startswith("^")  # right of reply (issue 26)
        text = text.lstrip("!^@ ").strip()
        if not text:
            return
        roster = self.capture_roster()
        country = roster.find(text) if hasattr(roster, "find") else None
        if country is None:
            outsider = roster.outsider(text) if hasattr(roster, "outsider") else None
            if outsider is not None:
                self.notify(
                    f"{outsider.name} is not a delegation of this round table: confirm it as "
                    "an observer first (ctrl+o in a capture line naming it).",
                    severity="error",
                )
            else:
                self.notify(
                    f"Unknown delegation {text[:40]!r}: use an ISO code or a name.",
                    severity="error",
                )
            return

        def add() -> None:
            self.store.perform(
                commands.add_speaker,
                country.code,
                point_of_order=point_of_order,
                reply=reply,
                limit_seconds=self._list_time(),
            )
            event.input.value = ""

        self._act(add)

    def action_queue_focus(self, prefix: str = "") -> None:
        field = self.query_one("#queue-add", Input)
        if prefix and not field.value:
            field.value = prefix
            field.cursor_position = len(prefix)
        field.focus()

    def action_point_of_order(self) -> None:
        self.action_queue_focus("!")

    def action_reply(self) -> None:
        self.action_queue_focus("^")

    def action_queue_next(self) -> None:
        self.after_typed_keys(lambda: self._do(commands.next_speaker))

    def action_end_turn(self) -> None:
        self.after_typed_keys(lambda: self._do(commands.end_floor))

    def action_balanced(self) -> None:
        on = not self.store.session.balanced_order
        self._act(self.store.set_balanced_order, on)
        self.notify("Balanced order: not yet heard first." if on else "Order of request.")

    @on(SpeakerQueue.MoveRequested)
    def _move(self, event: SpeakerQueue.MoveRequested) -> None:
        self._do(commands.move_speaker, event.speaker_id, event.step)

    @on(SpeakerQueue.RemoveRequested)
    def _remove(self, event: SpeakerQueue.RemoveRequested) -> None:
        self._do(commands.remove_speaker, event.speaker_id)

    @on(SpeakerQueue.LimitRequested)
    def _limit(self, event: SpeakerQueue.LimitRequested) -> None:
        speaker = self.store.get("speaker", event.speaker_id)
        if not isinstance(speaker, Speaker):
            return

        def check(text: str) -> str | None:
            value = text.strip()
            if not value.isdigit() or not 0 <= int(value) <= 3600:
                return "Seconds from 0 (no limit) to 3600"
            return None

        def done(value: str | None) -> None:
            if value is not None:
                self._act(self.store.set_speaker_limit, event.speaker_id, int(value.strip()))

        self.app.push_screen(
            PromptModal(
                f"Speaking time of {self.country_name(speaker.country)}, in seconds",
                str(speaker.limit_seconds),
                validate=check,
            ),
            done,
        )

    # -- capture: a line by the delegation with the floor --------------------------------------

    def action_focus_capture(self) -> None:
        self.query_one(CaptureBar).focus_input()

    @on(CaptureBar.Submitted)
    def _captured(self, event: CaptureBar.Submitted) -> None:
        from roundtable.store import StoreError

        bar = self.query_one(CaptureBar)
        if event.captured == UNDO:
            try:
                label = self.store.undo()
            except StoreError as exc:
                bar.show_error(f"Not undone: {exc}")
                return
            bar.show_saved(f"Undone: {label}" if label else "Nothing to undo")
            return
        try:
            entry = self.store_capture(event.captured, event.context)
        except StoreError as exc:
            bar.show_error(f"Not saved: {exc}")
            return
        who = ", ".join(self.country_name(c) for c in entry.delegations) or "the room"
        bar.show_saved(f"Saved {entry.entry_kind} ({who}): {entry.text[:50]}")

    @on(CaptureBar.Cancelled)
    def _leave_capture(self) -> None:
        self.query_one(TourDeTable).focus()

    # -- leaving -----------------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to the agenda: the turn in progress goes on, the list stays."""
        self.app.pop_screen()
        self.app.session_changed()

    def palette_commands(self):
        yield ("tour: next delegation", "End this turn, next of the tour", self._tour_next)
        yield ("tour: pass", "The delegation passes", self._tour_pass)
        yield ("tour: skip", "Not in the room: to the end, once", self._tour_skip)
        yield ("tour: rotate start", "Start one delegation later", self.action_rotate)
        yield ("speakers: add delegation", "Add to the list of speakers", self.action_queue_focus)
        yield ("speakers: point of order", "At the top of the list", self.action_point_of_order)
        yield (
            "speakers: speaking time",
            "For the whole list: new speakers and everyone waiting",
            self.action_speaking_time,
        )
        yield ("speakers: right of reply", "Right after the current speaker", self.action_reply)
        yield ("speakers: next speaker", "Give the floor to the next", self.action_queue_next)
        yield ("speakers: end turn", "Nobody has the floor", self.action_end_turn)
        yield ("speakers: balanced order", "Not yet heard first", self.action_balanced)
