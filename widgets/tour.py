"""Tour de table: every present delegation in turn, with an equal time budget."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from roundtable.text import mmss


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

    class SpeechFinished(Message):
        def __init__(self, code: str, seconds: int, passed: bool) -> None:
            super().__init__()
            self.code = code
            self.seconds = seconds
            self.passed = passed

    def __init__(
        self,
        codes: Iterable[str],
        budget: int = 120,
        names: Mapping[str, str] | None = None,
        heard: Iterable[str] = (),
        clock: Callable[[], float] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if budget <= 0:
            raise ValueError(f"tour de table budget must be positive seconds, got {budget}")
        # a delegation speaks once even if two devices both recorded it present
        self.base_order = list(dict.fromkeys(codes))
        self.order = list(self.base_order)
        self.budget = budget
        self.names = dict(names or {})
        self.clock = clock or time.time
        self.done: dict[str, str] = {code: "heard" for code in heard if code in self.base_order}
        self.skipped: set[str] = set()
        self.current: str | None = None
        self.started = 0.0

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

    # -- state -----------------------------------------------------------------------------

    def not_yet_heard(self) -> list[str]:
        """Delegations still waiting for the floor, in speaking order."""
        return [c for c in self.order if c not in self.done and c != self.current]

    @property
    def finished(self) -> bool:
        """Everyone has spoken, passed or been skipped twice."""
        return self.current is None and not self.not_yet_heard()

    def rotate(self, n: int) -> None:
        """Alphabetical order starting ``n`` delegations later (wraps)."""
        if not self.base_order:
            return
        k = n % len(self.base_order)
        self.order = self.base_order[k:] + self.base_order[:k]
        self.refresh_view()

    def _end_turn(self, passed: bool, post: bool = True) -> tuple[str, int] | None:
        if self.current is None:
            return None
        seconds = int(self.clock() - self.started)
        code = self.current
        self.done[code] = "passed" if passed else "heard"
        self.current = None
        if post:
            self.post_message(self.SpeechFinished(code, seconds, passed))
        return code, seconds

    def _start_next(self) -> None:
        pending = self.not_yet_heard()
        if pending:
            self.current = pending[0]
            self.started = self.clock()

    def finish_current(self, post: bool = True) -> tuple[str, int] | None:
        """End the current turn.  With ``post=False`` no message is sent and the caller records
        the returned ``(code, seconds)`` itself (a screen that is about to close)."""
        ended = self._end_turn(passed=False, post=post)
        self.refresh_view()
        return ended

    def action_next(self) -> None:
        self._end_turn(passed=False)
        self._start_next()
        self.refresh_view()

    def action_pass_turn(self) -> None:
        if self.current is None:
            self._start_next()
        self._end_turn(passed=True)
        self._start_next()
        self.refresh_view()

    def action_skip(self) -> None:
        code = self.current
        if code is None:
            pending = self.not_yet_heard()
            if not pending:
                return
            code = pending[0]
        self.current = None
        if code in self.skipped:
            self.done[code] = "skipped"
        else:
            self.skipped.add(code)
            self.order.remove(code)
            self.order.append(code)
        self._start_next()
        self.refresh_view()

    # -- view ------------------------------------------------------------------------------

    def refresh_view(self) -> None:
        """Redraw the current speaker, the order and the not-yet-heard line."""
        current = self.query_one(".tour-current", Static)
        if self.current is not None:
            elapsed = self.clock() - self.started
            over = elapsed > self.budget
            current.update(
                f"Speaking: {self.label_of(self.current)}  {mmss(elapsed)} / {mmss(self.budget)}"
                + ("  — time is up" if over else "")
            )
            current.set_class(over, "-over")
        elif self.finished:
            current.update("Tour de table complete: every present delegation was given the floor.")
            current.set_class(False, "-over")
        else:
            current.update(
                f"Enter gives the floor to {self.label_of(self.not_yet_heard()[0])} "
                f"({mmss(self.budget)} each)"
            )
            current.set_class(False, "-over")
        lines = []
        for n, code in enumerate(self.order, start=1):
            state = self.done.get(code, "")
            if code == self.current:
                mark = "▶"
            elif state == "heard":
                mark = "✓"
            elif state in ("passed", "skipped"):
                mark = "–"
            else:
                mark = " "
            extra = f" ({state})" if state in ("passed", "skipped") else ""
            extra += " (skipped once)" if code in self.skipped and not state else ""
            lines.append(f"{mark} {n:2d}. {self.label_of(code)}{extra}")
        self.query_one(".tour-order", Static).update("\n".join(lines) or "No delegation present.")
        pending = self.not_yet_heard()
        self.query_one(".tour-pending", Static).update(
            f"Not yet heard ({len(pending)}): " + ", ".join(self.label_of(c) for c in pending)
            if pending
            else "Not yet heard: none"
        )
