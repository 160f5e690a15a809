"""The list of speakers of an agenda item: who has the floor (with a countdown) and who waits.

The list is session records; this widget shows what the screen gives it (``show``) and posts
what the facilitator asks for (move up or down, remove, change the speaking-time limit).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from widgets.tour import FloorView, mmss


@dataclass(frozen=True)
class WaitingSpeaker:
    """A delegation waiting on the list, with what it has said so far in the session."""

    speaker_id: str
    code: str
    point_of_order: bool = False
    limit: int = 0
    interventions: int = 0
    seconds: int = 0
    reply: bool = False  # a right of reply (issue 26)


class SpeakerQueue(Vertical, can_focus=True):
    """up/down select; shift+up/shift+down move the selected speaker; r removes it; l changes
    its speaking-time limit."""

    DEFAULT_CSS = """
    SpeakerQueue { height: 1fr; padding: 0 1; }
    SpeakerQueue:focus { background: $boost; }
    SpeakerQueue > .queue-current { height: 1; text-style: bold; }
    SpeakerQueue > .queue-current.-over { color: $error; }
    SpeakerQueue > .queue-mode { height: 1; color: $text-muted; }
    SpeakerQueue > .queue-waiting { height: 1fr; }
    """

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="queue.up", tooltip="Previous speaker"),
        Binding("down", "cursor(1)", "Down", show=False, id="queue.down", tooltip="Next speaker"),
        Binding(
            "shift+up", "move(-1)", "Move up", id="queue.move_up", tooltip="Move the speaker up"
        ),
        Binding(
            "shift+down",
            "move(1)",
            "Move down",
            id="queue.move_down",
            tooltip="Move the speaker down",
        ),
        Binding("r", "remove", "Remove", id="queue.remove", tooltip="Take it off the list"),
        Binding("l", "limit", "Limit", id="queue.limit", tooltip="Change its speaking time"),
    ]

    class MoveRequested(Message):
        def __init__(self, speaker_id: str, step: int) -> None:
            super().__init__()
            self.speaker_id = speaker_id
            self.step = step

    class RemoveRequested(Message):
        def __init__(self, speaker_id: str) -> None:
            super().__init__()
            self.speaker_id = speaker_id

    class LimitRequested(Message):
        def __init__(self, speaker_id: str) -> None:
            super().__init__()
            self.speaker_id = speaker_id

    def __init__(
        self,
        names: Mapping[str, str] | None = None,
        clock: Callable[[], float] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.names = dict(names or {})
        self.clock = clock or time.time
        self.waiting: list[WaitingSpeaker] = []
        self.floor: FloorView | None = None
        self.balanced = False
        self.cursor = 0
        self._follow: str | None = None  # the speaker just moved: the cursor goes with it

    def compose(self) -> ComposeResult:
        yield Static("", classes="queue-current")
        yield Static("", classes="queue-mode")
        yield Static("", classes="queue-waiting")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_view)
        self.refresh_view()

    def show(
        self, waiting: Sequence[WaitingSpeaker], floor: FloorView | None, balanced: bool = False
    ) -> None:
        """The list as stored, in speaking order, and whoever has the floor."""
        selected = self._follow or self.selected()
        self._follow = None
        self.waiting = list(waiting)
        self.floor = floor
        self.balanced = balanced
        ids = [w.speaker_id for w in self.waiting]
        if selected is not None and selected in ids:
            self.cursor = ids.index(selected)
        self.cursor = max(0, min(self.cursor, len(self.waiting) - 1))
        if self.is_mounted:
            self.refresh_view()

    def selected(self) -> str | None:
        if 0 <= self.cursor < len(self.waiting):
            return self.waiting[self.cursor].speaker_id
        return None

    def action_cursor(self, step: int) -> None:
        self.cursor = max(0, min(self.cursor + step, len(self.waiting) - 1))
        self.refresh_view()

    def action_move(self, step: int) -> None:
        selected = self.selected()
        if selected is not None:
            # the highlight follows the moved speaker, whatever row it lands on (issue 22,
            # finding 7: the next r removed the delegation that took its row)
            self._follow = selected
            self.post_message(self.MoveRequested(selected, step))

    def action_remove(self) -> None:
        selected = self.selected()
        if selected is not None:
            self.post_message(self.RemoveRequested(selected))

    def action_limit(self) -> None:
        selected = self.selected()
        if selected is not None:
            self.post_message(self.LimitRequested(selected))

    def refresh_view(self) -> None:
        """Redraw the floor line (elapsed, countdown) and the waiting list."""
        name = self.names.get
        current = self.query_one(".queue-current", Static)
        over = False
        if self.floor is not None:
            elapsed = int(self.clock() - self.floor.started)  # whole seconds: they add up
            text = f"Floor: {name(self.floor.code, self.floor.code)}  {mmss(elapsed)}"
            if self.floor.limit:
                left = self.floor.limit - elapsed
                over = left < 0
                text += f" / {mmss(self.floor.limit)}" + (
                    "  — time is up" if over else f"  ({mmss(left)} left)"
                )
            if self.floor.mode == "tour":
                text += "  (tour de table)"
        else:
            text = "Floor: nobody (ctrl+e gives it to the next on the list)"
        current.update(text)
        current.set_class(over, "-over")
        self.query_one(".queue-mode", Static).update(
            "Balanced order: delegations not yet heard on this item first (b)"
            if self.balanced
            else "Order of request (b: balanced order)"
        )
        lines = []
        for n, w in enumerate(self.waiting, start=1):
            pointer = "›" if n - 1 == self.cursor and self.has_focus else " "
            mark = " (point of order)" if w.point_of_order else " (reply)" if w.reply else ""
            said = (
                f" · {w.interventions} intervention{'s' if w.interventions > 1 else ''}, "
                f"{mmss(w.seconds)}"
                if w.interventions
                else " · not yet heard"
            )
            limit = f" · {mmss(w.limit)}" if w.limit else ""
            lines.append(f"{pointer}{n}. {name(w.code, w.code)}{mark}{limit}{said}")
        self.query_one(".queue-waiting", Static).update(
            "\n".join(lines) or "The list of speakers is empty (+ adds a delegation)."
        )

    def on_focus(self) -> None:
        self.refresh_view()

    def on_blur(self) -> None:
        self.refresh_view()
