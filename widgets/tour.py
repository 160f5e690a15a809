"""Tour de table: every present delegation in turn, with an equal time budget.

The tour's order, marks and the floor are session records; this widget shows what the screen
gives it (``show``) and posts what the facilitator asks for (``Next``, ``Pass``, ``Skip``).
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

from roundtable.text import mmss


@dataclass(frozen=True)
class FloorView:
    """Who has the floor: since when (epoch seconds), with what limit (0 = none), and from
    which list ("tour" or "queue")."""

    code: str
    started: float
    limit: int = 0
    mode: str = "tour"


class TourDeTable(Vertical, can_focus=True):
    """Enter or space: give the floor to the next delegation (ending the current turn);
    p: the current (or next) delegation passes; k: skip it for now (it goes to the end, once)."""

    DEFAULT_CSS = """
    TourDeTable { height: 1fr; padding: 0 1; }
    TourDeTable:focus { background: $boost; }
    TourDeTable > .tour-current { height: 2; text-style: bold; }
    TourDeTable > .tour-current.-over { color: $error; }
    TourDeTable > .tour-order { height: 1fr; }
    TourDeTable > .tour-pending { height: auto; color: $text-muted; }
    """

    BINDINGS = [
        Binding(
            "enter,space",
            "next",
            "Next delegation",
            id="tour.next",
            tooltip="End this turn and give the floor to the next delegation",
        ),
        Binding("p", "pass_turn", "Pass", id="tour.pass", tooltip="The delegation passes"),
        Binding(
            "k",
            "skip",
            "Skip",
            id="tour.skip",
            tooltip="Not in the room now: move it to the end, once",
        ),
    ]

    class Next(Message):
        """Give the floor to the next delegation of the tour."""

    class Pass(Message):
        """The speaking (or next) delegation passes."""

    class Skip(Message):
        """The speaking (or next) delegation is skipped for now."""

    def __init__(
        self,
        names: Mapping[str, str] | None = None,
        budget: int = 120,
        clock: Callable[[], float] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if budget <= 0:
            raise ValueError(f"tour de table budget must be positive seconds, got {budget}")
        self.names = dict(names or {})
        self.budget = budget
        self.clock = clock or time.time
        self.lines: list[tuple[str, str]] = []  # (code, mark) in speaking order
        self.floor: FloorView | None = None
        self.present: list[str] = []  # who would be on the tour if it started now

    def compose(self) -> ComposeResult:
        yield Static("", classes="tour-current")
        yield Static("", classes="tour-order")
        yield Static("", classes="tour-pending")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_view)
        self.refresh_view()

    def label_of(self, code: str) -> str:
        """The delegation's name when known, else its code."""
        return self.names.get(code, code)

    def show(
        self,
        lines: Sequence[tuple[str, str]],
        floor: FloorView | None,
        present: Sequence[str] = (),
    ) -> None:
        """The tour as stored: ``lines`` (code, mark: "" waiting, "speaking", "heard",
        "passed", "skipped", "skipped once"); ``floor`` when a tour delegation speaks;
        ``present``: the order a tour not yet started would take."""
        self.lines = list(lines)
        self.floor = floor
        self.present = list(present)
        if self.is_mounted:
            self.refresh_view()

    def not_yet_heard(self) -> list[str]:
        """Delegations still waiting for the floor, in speaking order."""
        if not self.lines:
            return list(self.present)
        return [code for code, mark in self.lines if mark in ("", "skipped once")]

    @property
    def finished(self) -> bool:
        return bool(self.lines) and self.floor is None and not self.not_yet_heard()

    def action_next(self) -> None:
        self.post_message(self.Next())

    def action_pass_turn(self) -> None:
        self.post_message(self.Pass())

    def action_skip(self) -> None:
        self.post_message(self.Skip())

    def refresh_view(self) -> None:
        """Redraw the current speaker (with the countdown), the order and the not-yet-heard."""
        current = self.query_one(".tour-current", Static)
        pending = self.not_yet_heard()
        over = False
        if self.floor is not None:
            elapsed = int(self.clock() - self.floor.started)  # whole seconds: they add up
            limit = self.floor.limit or self.budget
            over = elapsed > limit
            current.update(
                f"Speaking: {self.label_of(self.floor.code)}  {mmss(elapsed)} / {mmss(limit)}"
                f"  ({mmss(limit - elapsed)} left)" + ("  — time is up" if over else "")
            )
        elif self.finished:
            current.update("Tour de table complete: every present delegation was given the floor.")
        elif pending:
            current.update(
                f"Enter gives the floor to {self.label_of(pending[0])} ({mmss(self.budget)} each)"
            )
        else:
            current.update("No delegation is marked present.")
        current.set_class(over, "-over")
        marks = {"speaking": "▶", "heard": "✓", "passed": "–", "skipped": "–"}
        rows = self.lines or [(code, "") for code in self.present]
        lines = []
        for n, (code, mark) in enumerate(rows, start=1):
            extra = f" ({mark})" if mark in ("passed", "skipped", "skipped once") else ""
            lines.append(f"{marks.get(mark, ' ')} {n:2d}. {self.label_of(code)}{extra}")
        self.query_one(".tour-order", Static).update("\n".join(lines) or "No delegation present.")
        self.query_one(".tour-pending", Static).update(
            f"Not yet heard ({len(pending)}): " + ", ".join(self.label_of(c) for c in pending)
            if pending
            else "Not yet heard: none"
        )
