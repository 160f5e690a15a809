"""The time box of the current agenda item: remaining, then overtime."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.widgets import Static


def format_box(remaining: float) -> str:
    """ "12:05 left" while inside the box, "+01:30 over" past it."""
    seconds = int(abs(remaining) + (0.999 if remaining > 0 else 0))
    text = f"{seconds // 60:02d}:{seconds % 60:02d}"
    return f"{text} left" if remaining > 0 else f"+{text} over"


class TimeBoxTimer(Static):
    """Counts down the item's time box from when the item started.

    ``-warning`` in the last 2 minutes or last 20 % of the box, whichever is shorter (a 5-minute
    item warns at 1:00, a 30-minute item at 2:00); ``-overtime`` past it; ``-paused`` when paused.
    """

    DEFAULT_CSS = """
    TimeBoxTimer { width: auto; min-width: 14; padding: 0 1; background: $success 30%; }
    TimeBoxTimer.-warning { background: $warning 60%; color: $text; }
    TimeBoxTimer.-overtime { background: $error 70%; color: $text; text-style: bold; }
    TimeBoxTimer.-paused { background: $panel; color: $text-muted; }
    """

    def __init__(self, clock: Callable[[], float] | None = None, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.clock = clock or time.time
        self.box = 0
        self.started_at: float | None = None
        self.key = ""
        self._paused_at: float | None = None
        self._paused_total = 0.0

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_time)
        self.refresh_time()

    def set_box(self, seconds: int, started_at: float | None, key: str) -> None:
        """Show the time box of item ``key``; a new key resets pauses."""
        if seconds < 0:
            raise ValueError(f"time box of item {key!r} is negative: {seconds} s")
        if key != self.key:
            self._paused_at = None
            self._paused_total = 0.0
        self.box = seconds
        self.started_at = started_at
        self.key = key
        self.refresh_time()

    @property
    def paused(self) -> bool:
        """Not started yet, or paused by the facilitator: the display stands still."""
        return self.started_at is None or self._paused_at is not None

    def toggle(self) -> None:
        """Pause or resume; paused time is not counted against the box."""
        if self.started_at is None:
            return
        now = self.clock()
        if self._paused_at is None:
            self._paused_at = now
        else:
            self._paused_total += now - self._paused_at
            self._paused_at = None
        self.refresh_time()

    def remaining(self) -> float:
        """Seconds left in the box (negative in overtime)."""
        if self.started_at is None:
            return float(self.box)
        now = self._paused_at if self._paused_at is not None else self.clock()
        return self.box - (now - self.started_at - self._paused_total)

    def refresh_time(self) -> None:
        """Redraw text and classes from the clock (called every second, and by tests)."""
        remaining = self.remaining()
        warn_at = min(120, self.box * 0.2)
        text = format_box(remaining)
        if self.started_at is None:
            text = f"{text} (s starts)"
        elif self._paused_at is not None:
            text = f"{text} paused"
        self.update(text)
        self.set_class(remaining <= 0, "-overtime")
        self.set_class(0 < remaining <= warn_at and self.started_at is not None, "-warning")
        self.set_class(self.paused, "-paused")
